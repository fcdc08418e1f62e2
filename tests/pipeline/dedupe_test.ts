import assert from "node:assert/strict";
import { DedupeIndex, dedupeStage } from "../../lib/pipeline/dedupe.ts";
import type { HashedFile, PipelineItem } from "../../lib/pipeline/types.ts";

function job(relPath: string, sha1: string): PipelineItem {
  const file: HashedFile = { path: `/in/${relPath}`, relPath, size: 1, mtimeMs: 0, sha1 };
  return { kind: "job", file, startedAt: 0, needsUpload: false };
}

Deno.test("the first file of each content goes on; copies wait and are released together", async () => {
  const index = new DedupeIndex();
  const items: PipelineItem[] = [
    job("a", "s1"),
    job("b", "s2"),
    job("copy-of-a", "s1"),
    {
      kind: "settled",
      file: { path: "/in/x", relPath: "x", size: 0, mtimeMs: 0 },
      outcome: { state: "skipped" },
    },
    job("another-copy-of-a", "s1"),
  ];
  const passed = await Array.fromAsync(ReadableStream.from(items).pipeThrough(dedupeStage(index)));
  assert.deepEqual(passed.map((i) => i.file.relPath), ["a", "b", "x"]);
  assert.equal(index.size, 2);
  assert.deepEqual(index.copies("s1").map((f) => f.relPath), ["copy-of-a", "another-copy-of-a"]);
  assert.deepEqual(index.release("s1").map((f) => f.relPath), ["copy-of-a", "another-copy-of-a"]);
  assert.equal(index.size, 1, "released groups are forgotten: memory follows files in flight");
  assert.equal(
    index.claim({ path: "/in/late", relPath: "late", size: 1, mtimeMs: 0, sha1: "s1" }),
    true,
  );
});
