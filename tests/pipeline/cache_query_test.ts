import assert from "node:assert/strict";
import { cacheQueryStage } from "../../lib/pipeline/cache_query.ts";
import type { Job, PipelineItem } from "../../lib/pipeline/types.ts";
import { Rotation } from "../../lib/transport/rotation.ts";
import { benign, FakeTransport } from "./fake_transport.ts";

function job(sha1: string): Job {
  return {
    kind: "job",
    file: { path: `/in/${sha1}`, relPath: sha1, size: 1, mtimeMs: 0, sha1 },
    startedAt: 0,
    needsUpload: false,
  };
}

async function ask(target: FakeTransport, uploadKnown: boolean): Promise<PipelineItem[]> {
  const stage = cacheQueryStage({
    rotation: new Rotation([target], { graceMs: 60_000 }),
    reports: [],
    flushMs: 1,
    dryRun: false,
    decide: { uploadKnown },
  });
  return await Array.fromAsync(
    ReadableStream.from<PipelineItem>([job("known"), job("eicar")]).pipeThrough(stage),
  );
}

const NOT_FOUND = { code: 1004, label: "NOT_FOUND" };
const AV_EICAR = {
  status: { code: 1001, label: "FOUND" },
  malware_info: { signature_name: "EICAR-Test-File" },
};

Deno.test("cache: a known benign file settles, or with --extract goes on to be uploaded", async () => {
  for (const uploadKnown of [false, true]) {
    const target = new FakeTransport();
    target.queryScript.set("known", [benign("known")]);
    target.queryScript.set("eicar", [
      { status: NOT_FOUND, sha1: "eicar", te: { status: NOT_FOUND }, av: AV_EICAR },
    ]);
    const out = await ask(target, uploadKnown);
    const known = out.find((item) => item.file.relPath === "known")!;
    if (uploadKnown) assert.equal(known.kind === "job" && known.needsUpload, true);
    else assert.equal(known.kind === "settled" && known.outcome.state, "benign");
    // AV knows it though te does not: quarantined at once, and uploaded for te's verdict.
    const eicar = out.filter((item) => item.file.relPath === "eicar");
    assert.deepEqual(eicar.map((item) => item.kind), ["early", "job"]);
    const [early, upload] = eicar;
    assert.match(early.kind === "early" ? early.reason ?? "" : "", /^anti-virus: EICAR-Test-File/);
    assert.equal(upload.kind === "job" && upload.needsUpload && upload.earlySent, true);
  }
});
