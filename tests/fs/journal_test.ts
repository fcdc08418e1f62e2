import assert from "node:assert/strict";
import { join } from "node:path";
import { Journal } from "../../lib/fs/journal.ts";
import { tempDir } from "../helpers.ts";

function step(n: number) {
  return { src: `/in/f${n}`, dest: `/out/f${n}`, dev: 1, ino: n };
}

Deno.test("moves begun together share one flush to disk, and every record is on disk when begin resolves", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "journal.jsonl");
  const journal = await Journal.open(path);
  const ids = await Promise.all(Array.from({ length: 50 }, (_, n) => journal.begin(step(n))));
  assert.equal(journal.syncs, 1);
  // What a kill at this instant would leave: all 50 records, readable by the next run.
  const reopened = await Journal.open(path, { durable: false });
  assert.deepEqual(reopened.open.map((r) => r.src), ids.map((_, n) => `/in/f${n}`));
  await reopened.close();
  await journal.close();
});

Deno.test("a move begun while a flush is under way rides on the next one, not one of its own", async () => {
  await using dir = await tempDir();
  const journal = await Journal.open(join(dir.path, "journal.jsonl"));
  const first = journal.begin(step(1));
  await first;
  const later = [2, 3, 4].map((n) => journal.begin(step(n)));
  await Promise.all(later);
  assert.equal(journal.syncs, 2);
  await journal.close();
});

Deno.test("done records are not flushed on their own, yet close writes them: nothing is left open", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "journal.jsonl");
  const journal = await Journal.open(path);
  const id = await journal.begin(step(1));
  journal.done(id);
  assert.equal(journal.syncs, 1);
  assert.equal(journal.open.length, 0);
  await journal.close();
  const again = await Journal.open(path);
  assert.deepEqual(again.open, []);
  await again.close();
});

Deno.test("a done line lost to a kill leaves its move open for the replay; a torn last line is ignored", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "journal.jsonl");
  const journal = await Journal.open(path);
  const id = await journal.begin(step(1));
  journal.done(id); // buffered only: the "kill" below comes before any other write
  await Deno.writeTextFile(path, '{"t":"move","id":9', { append: true });
  const afterKill = await Journal.open(path, { durable: false });
  assert.deepEqual(afterKill.open.map((r) => r.id), [id]);
  await afterKill.close();
  await journal.close();
});

Deno.test("the journal is compacted to its open records once it has grown past the threshold", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "journal.jsonl");
  const journal = await Journal.open(path, { compactBytes: 2048 });
  let kept = -1;
  for (let n = 0; n < 100; n++) {
    const id = await journal.begin(step(n));
    if (n === 42) kept = id;
    else journal.done(id);
  }
  assert.ok((await Deno.stat(path)).size < 4096, "the file stays near the threshold");
  await journal.close();
  const reopened = await Journal.open(path, { durable: false });
  assert.deepEqual(reopened.open.map((r) => r.id), [kept]);
  await reopened.close();
});

Deno.test("after a torn last line, the next run's records start on a line of their own and are read back", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "journal.jsonl");
  await Deno.writeTextFile(path, '{"t":"move","id":9'); // a kill mid-write, no newline
  const rerun = await Journal.open(path);
  assert.deepEqual(rerun.rejected.map((p) => p.line), [1]);
  const id = await rerun.begin(step(1));
  await rerun.close();
  const next = await Journal.open(path, { durable: false });
  assert.deepEqual(next.open.map((r) => r.id), [id]);
  await next.close();
});

Deno.test("an edited line (a number turned into a string) fails its checksum and is refused by line", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "journal.jsonl");
  const journal = await Journal.open(path);
  await journal.begin(step(1));
  await journal.close();
  const [line] = (await Deno.readTextFile(path)).split("\n");
  assert.match(line, /,"c":"[0-9a-f]{16}"}$/);
  await Deno.writeTextFile(path, [line, line.replace('"ino":1', '"ino":"1"')].join("\n") + "\n");
  const again = await Journal.open(path, { durable: false });
  assert.deepEqual(again.open.map((r) => r.ino), [1]);
  assert.deepEqual(again.rejected, [{ line: 2, reason: "checksum mismatch (torn or edited)" }]);
  await again.close();
});
