// Runs that lose a target or stop early: the fleet routes around a dead appliance; an interrupted
// run says so before its summary.
import assert from "node:assert/strict";
import { startEmulator } from "../../lib/emulator/mod.ts";
import {
  captureScan,
  fastFlags,
  listFiles,
  numberedTree,
  scanFolders,
  sortFlags,
  tempDir,
  within,
  writeTree,
} from "../helpers.ts";

const FILES = 40;

/** Scans a fresh tree with `targetFlags`; returns how long it took and what it printed. */
async function timedScan(root: string, tag: string, targetFlags: string[]) {
  const f = scanFolders(`${root}/${tag}`);
  // Content no emulator has seen: `tag` keeps the runs apart.
  await writeTree(f.input, numberedTree(FILES, tag, 4));
  const started = performance.now();
  const run = await within(120, captureScan([...sortFlags(f), "-n", "4", ...targetFlags]));
  const ms = performance.now() - started;
  assert.equal(run.code, 0, run.err.join("\n"));
  assert.equal((await listFiles(f.out)).length, FILES, "every file settled benign");
  assert.deepEqual(await listFiles(f.input), [], "none left behind");
  return { ms, run };
}

Deno.test("two targets, one stopped mid-run: the fleet routes around it (at most 1.5x one target)", async () => {
  await using dir = await tempDir();
  const a = await startEmulator({ port: 0, emulationMs: 150, earlyMs: 10 });
  let stopped: Promise<void> | undefined;
  // B stops right after answering its first upload: its files are in flight there.
  const b = await startEmulator({
    port: 0,
    emulationMs: 150,
    earlyMs: 10,
    verbose: true,
    log: (line) => {
      if (/^POST \S*upload 200/.test(line)) stopped ??= b.close();
    },
  });
  try {
    const one = await timedScan(dir.path, "one", fastFlags(a.port));
    const two = await timedScan(dir.path, "two", [
      ...fastFlags(a.port),
      "--ip",
      `127.0.0.1:${b.port}`,
    ]);
    assert.ok(stopped, "B was stopped mid-run");
    await stopped;
    assert.ok(b.stats().uploads >= 1, "B had files in flight");
    const ratio = two.ms / one.ms;
    assert.ok(ratio <= 1.5, `two targets, one stopped: ${ratio.toFixed(2)}x one target`);
    const down = two.run.err.filter((line) => line.includes(`127.0.0.1:${b.port} failed`));
    assert.equal(down.length, 1, `one warning for the state change:\n${two.run.err.join("\n")}`);
    assert.ok(!two.run.err.some((line) => /try \d+ in/.test(line)), "no per-request retries");
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("--json: the start event has a time; an interruption's warning comes before the summary", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, numberedTree(12));
  const controller = new AbortController();
  // Ctrl-C as soon as the first file is uploaded.
  const emulator = await startEmulator({
    port: 0,
    emulationMs: 100,
    earlyMs: 10,
    verbose: true,
    log: (line) => /upload 200/.test(line) && controller.abort(),
  });
  try {
    const run = await within(
      60,
      captureScan(
        [...sortFlags(f), ...fastFlags(emulator.port), "-n", "1", "--json"],
        controller.signal,
      ),
    );
    assert.equal(run.code, 130, run.err.join("\n"));
    const events = run.out.map((line) => JSON.parse(line));
    assert.equal(events[0].event, "start");
    assert.ok(!Number.isNaN(Date.parse(events[0].time)), "the start event has a time");
    const warning = events.findIndex((e) => e.event === "warning" && /interrupted/.test(e.message));
    const summary = events.findIndex((e) => e.event === "summary");
    assert.ok(warning >= 0 && summary >= 0, run.out.join("\n"));
    assert.ok(warning < summary, "the warning comes before the summary event");
    assert.equal(summary, events.length - 1, "the summary is the last event");
    assert.ok(events[summary].counts.left_in_place > 0);
  } finally {
    await emulator.close();
  }
});
