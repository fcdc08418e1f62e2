// The whole pipeline against the emulator over HTTPS, with real files: what it keeps about a
// file is released once the file settles, so a run's memory does not grow with the tree.
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseScanArgs } from "../../lib/cli/args.ts";
import { connectRotation } from "../../lib/cli/connect.ts";
import { Reporter } from "../../lib/cli/console.ts";
import { Terminal } from "../../lib/cli/terminal.ts";
import { Journal } from "../../lib/fs/journal.ts";
import { RunLog } from "../../lib/fs/run_log.ts";
import { Settler } from "../../lib/pipeline/dispose.ts";
import { runPipeline } from "../../lib/pipeline/mod.ts";
import { fastFlags, tempDir, withEmulator, writeTree } from "../helpers.ts";

const quiet = new Terminal({
  out: () => {},
  err: () => {},
  isTerminal: { out: false, err: false },
  columns: () => 80,
});

/** 30 distinct benign files, 6 copies of one content, and some of every other kind. */
function mixedTree(): Record<string, string> {
  const tree: Record<string, string> = {};
  for (let n = 0; n < 30; n++) tree[`benign/b${n}.txt`] = `benign file ${n}`;
  for (let n = 0; n < 6; n++) tree[`copies/c${n}.txt`] = "one content, six names";
  for (let n = 0; n < 3; n++) tree[`bad/m${n}.doc`] = `TE-EMULATOR-MALICIOUS ${n}`;
  for (let n = 0; n < 2; n++) tree[`early/e${n}.doc`] = `TE-EMULATOR-EARLY-MALICIOUS ${n}`;
  for (let n = 0; n < 2; n++) tree[`odd/u${n}.bin`] = `TE-EMULATOR-UNSUPPORTED ${n}`;
  return tree;
}

Deno.test("a finished run holds nothing about any file: poller, dedupe groups, target load, early quarantines, journal", async () => {
  await withEmulator({}, async (emulator) => {
    await using dir = await tempDir();
    const input = join(dir.path, "in");
    const rep = join(dir.path, "rep");
    await writeTree(input, mixedTree());
    const args = parseScanArgs(["--in", input, "-n", "4", ...fastFlags(emulator.port)]);
    const { rotation } = await connectRotation(
      args,
      new Reporter({ json: false, quiet: true, terminal: quiet }),
    );
    await Deno.mkdir(rep);
    const log = await RunLog.open(join(rep, "te-scan.log.jsonl"));
    const journal = await Journal.open(join(rep, ".te-scan", "journal.jsonl"), { durable: false });
    const folders = {
      benign: join(dir.path, "out"),
      malicious: join(dir.path, "jail"),
      error: join(dir.path, "error"),
    };
    const disposer = new Settler({ reportsDir: rep, folders, copy: false, log, journal });
    try {
      const end = await runPipeline({
        walk: { root: input, recursive: true },
        rotation,
        disposer,
        reports: args.reports,
        concurrency: args.concurrency,
        pollIntervalMs: args.pollIntervalMs,
        timeoutMs: args.timeoutMs,
        dryRun: false,
        flushMs: 1,
      });
      assert.equal(end.interrupted, false);
      assert.deepEqual(end.held, { tracked: 0, contents: 0, load: 0, awaitingFinal: 0 });
      assert.deepEqual(journal.open, []);
      const { benign, malicious, error, duplicates } = disposer.counts;
      // The early-malicious content turns benign on its final verdict (the final verdict wins).
      assert.deepEqual({ benign, malicious, error, duplicates }, {
        benign: 38,
        malicious: 3,
        error: 2,
        duplicates: 5,
      });
    } finally {
      rotation.close();
      log.close();
      await journal.close();
    }
  });
});
