// A watch service's outputs while it runs: summary.json, index.html and the --metrics file appear
// within seconds of the first settled file; --prune-empty removes the folders moves leave empty.
import assert from "node:assert/strict";
import { join } from "node:path";
import { sleep } from "../../lib/util/sleep.ts";
import {
  captureScan,
  fastFlags,
  listFiles,
  scanFolders,
  sortFlags,
  tempDir,
  withEmulator,
  within,
  writeTree,
} from "../helpers.ts";

/** Reads `path` once it exists and `ready` says it is what the test waits for. */
async function untilWritten(path: string, ready: (text: string) => boolean): Promise<string> {
  for (;;) {
    const text = await Deno.readTextFile(path).catch(() => "");
    if (text && ready(text)) return text;
    await sleep(50);
  }
}

/** Resolves once `folder` holds nothing. */
async function untilEmpty(folder: string): Promise<void> {
  while ((await Array.fromAsync(Deno.readDir(folder))).length) await sleep(50);
}

Deno.test("--watch keeps summary.json, index.html and --metrics current while it runs; --prune-empty", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await Deno.mkdir(f.input, { recursive: true });
  const metrics = join(dir.path, "te-scan.prom");
  const controller = new AbortController();
  await withEmulator({}, async (emulator) => {
    const run = captureScan([
      ...sortFlags(f),
      ...fastFlags(emulator.port),
      ...["--watch", "--settle", "0.2", "--metrics", metrics, "--prune-empty"],
    ], controller.signal);
    try {
      await writeTree(f.input, { "a/b/one.txt": "one\n", "two.txt": "two\n" });
      const summary = await within(
        30,
        untilWritten(join(f.rep, "summary.json"), (t) => JSON.parse(t).counts.benign === 2),
      );
      assert.equal(JSON.parse(summary).running, true, "a snapshot of a run still going");
      const page = await within(
        30,
        untilWritten(join(f.rep, "index.html"), (t) => /two\.txt/.test(t)),
      );
      assert.match(page, /Updated \(still running\)/);
      const text = await within(30, untilWritten(metrics, (t) => /state="benign"\} 2$/m.test(t)));
      assert.match(text, /^# TYPE te_scan_files_total counter$/m);
      assert.match(
        text,
        new RegExp(`^te_scan_target_up\\{target="127.0.0.1:${emulator.port}"\\} 1$`, "m"),
      );
      assert.match(text, /^te_scan_queue_files\{stage="emulating"\} \d+$/m);
      assert.deepEqual(await listFiles(f.out), ["a/b/one.txt", "two.txt"]);
      // Pruning follows each move in the background: wait (bounded) for a/b and a to go.
      await within(30, untilEmpty(f.input));
      assert.ok((await Deno.stat(f.input)).isDirectory, "never --in itself");
    } finally {
      controller.abort();
      const end = await within(30, run);
      assert.equal(end.code, 130, end.err.join("\n"));
    }
    const final = JSON.parse(await Deno.readTextFile(join(f.rep, "summary.json")));
    assert.equal(final.running, undefined, "the last summary is the run's end");
    assert.equal(final.counts.left_in_place, 0);
  });
});

Deno.test("--metrics in a folder that does not exist: exit 3 with one line, nothing scanned", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "a.txt": "one\n" });
  await withEmulator({}, async (emulator) => {
    const metrics = join(dir.path, "missing", "te-scan.prom");
    const run = await captureScan([
      ...sortFlags(f),
      ...fastFlags(emulator.port),
      "--metrics",
      metrics,
    ]);
    assert.equal(run.code, 3);
    assert.match(
      run.err.join("\n"),
      /Cannot write the metrics file .*te-scan\.prom: no folder .*missing/,
    );
    assert.deepEqual(await listFiles(f.input), ["a.txt"]);
    assert.equal(emulator.stats().queries, 0);
  });
});
