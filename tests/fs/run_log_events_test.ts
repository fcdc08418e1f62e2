import assert from "node:assert/strict";
import { join } from "node:path";
import { RunLog } from "../../lib/fs/run_log.ts";
import { readLogEvents } from "../../lib/fs/run_log_events.ts";
import { tempDir } from "../helpers.ts";

Deno.test("a run's events are read from where it began: earlier runs are never read", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "te-scan.log.jsonl");
  const first = await RunLog.open(path);
  assert.equal(first.start, 0);
  first.write({ event: "start", run: 1 });
  first.write({ event: "file", file: "a", state: "benign" });
  first.close();
  const second = await RunLog.open(path);
  assert.equal(second.start, (await Deno.stat(path)).size);
  second.write({ event: "start", run: 2 });
  second.write({ event: "file", file: "b", state: "malicious" });
  second.close();
  const events = await Array.fromAsync(readLogEvents(path, second.start));
  assert.deepEqual(events.map((e) => [e.event, e.run ?? e.file]), [["start", 2], ["file", "b"]]);
  const malicious = await Array.fromAsync(
    readLogEvents(path, 0, { containing: '"state":"malicious"' }),
  );
  assert.deepEqual(malicious.map((e) => e.file), ["b"]);
});

Deno.test("lines cut across reads (multi-byte names too) come back whole; a cut last line is dropped", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "log.jsonl");
  // About 3 MiB of lines, so lines and UTF-8 sequences straddle the 1 MiB reads.
  const names = Array.from(
    { length: 20_000 },
    (_, i) => `dossier-é€😀-${i}-${"x".repeat(i % 200)}`,
  );
  const lines = names.map((file) => JSON.stringify({ event: "file", file }) + "\n");
  await Deno.writeTextFile(path, lines.join("") + '{"event":"file","file":"cut');
  const events = await Array.fromAsync(readLogEvents(path, 0));
  assert.equal(events.length, names.length);
  assert.deepEqual(events.map((e) => e.file), names);
});

Deno.test("stopping early closes the log", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "log.jsonl");
  await Deno.writeTextFile(path, '{"event":"a"}\n{"event":"b"}\n');
  for await (const event of readLogEvents(path, 0)) {
    assert.equal(event.event, "a");
    break;
  }
  // A leaked file would fail the test's resource sanitizer.
});
