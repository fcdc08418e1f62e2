import assert from "node:assert/strict";
import { Dedupe } from "../../lib/pipeline/dedupe.ts";
import type { HashedFile, PipelineItem } from "../../lib/pipeline/types.ts";

function file(relPath: string, sha1: string): HashedFile {
  return { path: `/in/${relPath}`, relPath, size: 1, mtimeMs: 0, sha1 };
}

function job(relPath: string, sha1: string): PipelineItem {
  return { kind: "job", file: file(relPath, sha1), startedAt: 0, needsUpload: false };
}

function through(items: PipelineItem[], stage: TransformStream<PipelineItem, PipelineItem>) {
  return Array.fromAsync(ReadableStream.from(items).pipeThrough(stage));
}

Deno.test("the first file of each content goes on; copies wait and get its answer", async () => {
  const dedupe = new Dedupe();
  const skipped: PipelineItem = {
    kind: "settled",
    file: { path: "/in/x", relPath: "x", size: 0, mtimeMs: 0 },
    outcome: { state: "skipped" },
  };
  const passed = await through(
    [job("a", "s1"), job("b", "s2"), job("copy-of-a", "s1"), skipped, job("again-a", "s1")],
    dedupe.hold(),
  );
  assert.deepEqual(passed.map((i) => i.file.relPath), ["a", "b", "x"]);
  assert.equal(dedupe.size, 2);

  const released = await through([
    { kind: "early", file: file("a", "s1"), response: { status: { code: 1006 } } },
    { kind: "settled", file: file("a", "s1"), outcome: { state: "malicious", uploaded: true } },
  ], dedupe.release());
  assert.deepEqual(
    released.map((i) => `${i.kind} ${i.file.relPath}`),
    [
      "early a",
      "early copy-of-a",
      "early again-a",
      "settled a",
      "settled copy-of-a",
      "settled again-a",
    ],
  );
  const copy = released[4];
  assert.ok(copy.kind === "settled");
  assert.equal(copy.duplicateOf, "a");
  assert.equal(copy.outcome.state, "malicious");
  assert.equal(copy.outcome.uploaded, false, "a copy was never uploaded itself");
  assert.equal(dedupe.size, 1, "released groups are forgotten: memory follows files in flight");
  assert.equal(dedupe.claim(file("late", "s1")), true, "a later copy is asked about again");
});

Deno.test("a settled item about a file that is not the first of its content releases nothing", async () => {
  const dedupe = new Dedupe();
  await through([job("a", "s1"), job("copy", "s1")], dedupe.hold());
  const released = await through([
    { kind: "settled", file: file("copy", "s1"), outcome: { state: "error" } },
  ], dedupe.release());
  assert.deepEqual(released.map((i) => i.file.relPath), ["copy"]);
  assert.equal(dedupe.size, 1);
});
