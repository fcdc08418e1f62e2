import assert from "node:assert/strict";
import { join } from "node:path";
import { parseResponseBody, type ResponseItem } from "../../lib/transport/protocol.ts";
import { decide } from "../../lib/pipeline/decide.ts";
import { Dedupe } from "../../lib/pipeline/dedupe.ts";
import { disposeSink, type FileRecord, Settler } from "../../lib/pipeline/dispose.ts";
import { RunLog } from "../../lib/fs/run_log.ts";
import type { HashedFile, Outcome, PipelineItem } from "../../lib/pipeline/types.ts";
import { tarGz } from "../../lib/emulator/mod.ts";
import { readFixture, tempDir } from "../helpers.ts";

async function setUp(root: string) {
  const folders = {
    benign: join(root, "out"),
    malicious: join(root, "jail"),
    error: join(root, "err"),
  };
  const reportsDir = join(root, "rep");
  await Deno.mkdir(reportsDir, { recursive: true });
  const records: FileRecord[] = [];
  const log = await RunLog.open(join(reportsDir, "te-scan.log.jsonl"));
  const disposer = new Settler({
    reportsDir,
    folders,
    copy: false,
    log,
    onFile: (r) => records.push(r),
  });
  return { folders, reportsDir, records, log, disposer };
}

async function inputFile(root: string, rel: string, content = "x"): Promise<HashedFile> {
  const path = join(root, "in", rel);
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await Deno.writeTextFile(path, content);
  return { path, relPath: rel, size: content.length, mtimeMs: 0, md5: "m" + rel, sha1: "s" + rel };
}

/** What the pipeline makes of an answer seen by a poll: the outcome it settles with. */
function outcomeOf(item: ResponseItem): Outcome | undefined {
  const decision = decide(item, "poll");
  if (decision.kind === "final") {
    return { state: decision.state, verdict: decision.verdict, response: item };
  }
  if (decision.kind === "error") return { state: "error", reason: decision.reason, response: item };
  return undefined;
}

function variant(item: ResponseItem, verdict: string | null): ResponseItem {
  return { ...item, te: { ...item.te!, combined_verdict: verdict } };
}

Deno.test("contract: sample answers and their variants send files to the right folder", async () => {
  await using dir = await tempDir();
  const { folders, reportsDir, records, log, disposer } = await setUp(dir.path);
  const benign = parseResponseBody(await readFixture("benignResponseFound.json"), "q").items[0];
  // The same answer as an object (cloud shape), lower- and capitalised verdicts, null ids.
  const objectShaped = parseResponseBody(
    {
      response:
        (await readFixture("benignResponseFound.json") as { response: unknown[] }).response[0],
    },
    "q",
  ).items[0];
  const cases: [string, ResponseItem, string][] = [
    ["benign.doc", benign, "out"],
    ["object.doc", objectShaped, "out"],
    ["upper.doc", variant(benign, "Benign"), "out"],
    ["lower-mal.exe", variant(benign, "malicious"), "jail"],
    ["upper-mal.exe", variant(benign, "Malicious"), "jail"],
    ["no-verdict.doc", variant(benign, null), "err"],
    ["error-verdict.doc", variant(benign, "Error"), "err"],
    ["unsupported.bin", {
      status: { code: 1007, label: "FILE_TYPE_NOT_SUPPORTED", message: "" },
      te: { status: { code: 1007 } },
    }, "err"],
  ];
  for (const [rel, item, folder] of cases) {
    const file = await inputFile(dir.path, `sub/${rel}`);
    const outcome = outcomeOf(item);
    assert.ok(outcome, rel);
    await disposer.handle({ kind: "settled", file, outcome });
    const target = join(dir.path, folder, "sub", rel);
    assert.ok((await Deno.stat(target)).isFile, `${rel} in ${folder}`);
    const response = JSON.parse(
      await Deno.readTextFile(join(reportsDir, "sub", `${rel}.response.json`)),
    );
    assert.deepEqual(response.status, item.status, `${rel} response written as received`);
  }
  for (const name of ["responsePending.json", "uploadResponse.json", "TEXResponsePending.json"]) {
    const item = parseResponseBody(await readFixture(name), name).items[0];
    assert.equal(outcomeOf(item), undefined, `${name} is not final: the file stays in flight`);
  }
  assert.equal(disposer.counts.benign, 3);
  assert.equal(disposer.counts.malicious, 2);
  assert.equal(disposer.counts.error, 3);
  assert.equal(records.length, 8);
  log.close();
  assert.ok(folders.benign);
});

Deno.test("reports: decoded archive written and extracted beside the response", async () => {
  await using dir = await tempDir();
  const { reportsDir, log, disposer } = await setUp(dir.path);
  const file = await inputFile(dir.path, "a/evil.exe");
  const archive = await tarGz([{ name: "report.html", data: "<html>report</html>" }]);
  await disposer.handle({
    kind: "settled",
    file,
    outcome: {
      state: "malicious",
      verdict: "malicious",
      reports: [{ format: "summary", id: "r1", bytes: archive }],
    },
  });
  log.close();
  assert.deepEqual(await Deno.readFile(join(reportsDir, "a", "evil.exe.report.tar.gz")), archive);
  assert.equal(
    await Deno.readTextFile(join(reportsDir, "a", "evil.exe_report", "report.html")),
    "<html>report</html>",
  );
});

Deno.test("copies share the outcome; an early verdict later overruled moves the file again", async () => {
  await using dir = await tempDir();
  const { records, log, disposer } = await setUp(dir.path);
  const first = await inputFile(dir.path, "a.doc", "same");
  const copy = {
    ...(await inputFile(dir.path, "b/a.doc", "same")),
    sha1: first.sha1,
    md5: first.md5,
  };
  const dedupe = new Dedupe();
  const jobs = [first, copy].map((file) => ({
    kind: "job" as const,
    file,
    startedAt: 0,
    needsUpload: false,
  }));
  await ReadableStream.from(jobs).pipeThrough(dedupe.hold()).pipeTo(new WritableStream());
  const answers = ReadableStream.from<PipelineItem>([
    { kind: "early", file: first, response: { status: { code: 1006 } } },
    { kind: "settled", file: first, outcome: { state: "benign", verdict: "benign", early: true } },
  ]);
  await answers.pipeThrough(dedupe.release()).pipeTo(disposeSink(disposer, 4));
  log.close();
  for (const rel of ["a.doc", "b/a.doc"]) {
    const mine = records.filter((r) => r.relPath === rel).map((r) => r.disposition);
    assert.deepEqual(mine, ["early", "moved"], `${rel}: quarantined first, then moved on`);
  }
  assert.ok((await Deno.stat(join(dir.path, "out", "a.doc"))).isFile);
  assert.ok((await Deno.stat(join(dir.path, "out", "b", "a.doc"))).isFile);
  await assert.rejects(Deno.stat(join(dir.path, "jail", "a.doc")), Deno.errors.NotFound);
  const final = (rel: string) =>
    records.find((r) => r.relPath === rel && r.disposition !== "early")!;
  assert.deepEqual([final("a.doc").state, final("b/a.doc").state], ["benign", "benign"]);
  assert.match(
    final("a.doc").reason ?? "",
    /final verdict benign overrides the early malicious verdict/,
  );
  assert.equal(final("b/a.doc").duplicateOf, "a.doc");
});

Deno.test("a failed move leaves the file in place and reports why", async () => {
  await using dir = await tempDir();
  const { records, log, disposer } = await setUp(dir.path);
  const file = await inputFile(dir.path, "x/ok.txt");
  // A file where the destination folder should be: the move cannot happen.
  await Deno.writeTextFile(join(dir.path, "out"), "in the way");
  await disposer.handle({ kind: "settled", file, outcome: { state: "benign", verdict: "benign" } });
  log.close();
  assert.ok((await Deno.stat(file.path)).isFile, "still in the input");
  assert.equal(records[0].state, "error");
  assert.equal(records[0].disposition, "left");
  assert.match(records[0].reason ?? "", /cannot move/);
});

Deno.test("the concurrent sink keeps an early quarantine before its final verdict", async () => {
  await using dir = await tempDir();
  const { records, log, disposer } = await setUp(dir.path);
  const items = [];
  for (let i = 0; i < 30; i++) {
    const file = await inputFile(dir.path, `f${i}.exe`, `content ${i}`);
    items.push({ kind: "early" as const, file, response: { status: { code: 1006 } } });
    items.push({
      kind: "settled" as const,
      file,
      outcome: { state: "malicious" as const, verdict: "malicious" as const },
    });
  }
  await ReadableStream.from(items).pipeTo(disposeSink(disposer, 8));
  log.close();
  for (let i = 0; i < 30; i++) {
    const mine = records.filter((r) => r.relPath === `f${i}.exe`);
    assert.deepEqual(mine.map((r) => r.disposition), ["early", "moved"], `f${i}.exe`);
    assert.equal(mine[1].destination, join(dir.path, "jail", `f${i}.exe`));
  }
  assert.equal(disposer.counts.malicious, 30);
});

Deno.test("early quarantine, then no final verdict: the file stays quarantined as malicious", async () => {
  await using dir = await tempDir();
  const { folders, records, log, disposer } = await setUp(dir.path);
  const file = await inputFile(dir.path, "m/late.exe", "early malicious");
  await disposer.handle({ kind: "early", file, response: { status: { code: 1006 } } });
  await disposer.handle({
    kind: "settled",
    file,
    outcome: { state: "error", reason: "no answer within --timeout", early: true },
  });
  log.close();
  const jailed = join(folders.malicious, "m", "late.exe");
  assert.equal(await Deno.readTextFile(jailed), "early malicious");
  const final = records.find((r) => r.disposition !== "early")!;
  assert.deepEqual([final.state, final.disposition, final.destination], [
    "malicious",
    "moved",
    jailed,
  ]);
  assert.equal(final.uncontained, undefined);
  assert.match(final.reason ?? "", /final verdict not received \(no answer within --timeout\)/);
  assert.deepEqual([disposer.counts.malicious, disposer.counts.error], [1, 0]);
});
