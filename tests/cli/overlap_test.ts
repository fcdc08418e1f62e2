// A run refuses an input folder that another te-scan on the host is scanning, contains or is
// inside of, whatever their reports folders.
import assert from "node:assert/strict";
import { join } from "node:path";
import { scanCommand } from "../../lib/cli/scan.ts";
import { sleep } from "../../lib/util/sleep.ts";
import {
  type CapturedRun,
  captureTerminal,
  fastFlags,
  listFiles,
  tempDir,
  withEmulator,
  within,
  writeTree,
} from "../helpers.ts";

/** A scan of `input` into reports of its own, registered in `runsDir`. */
async function scan(
  input: string,
  rep: string,
  port: number,
  runsDir: string,
  signal?: AbortSignal,
): Promise<CapturedRun> {
  const { terminal, lines } = await captureTerminal();
  const argv = ["--in", input, "--rep", rep, ...fastFlags(port), "--timeout", "600"];
  const code = await scanCommand(argv, { terminal, signal, runsDir });
  return { code, out: lines("out"), err: lines("err") };
}

const CASES: [string, (drop: string) => { first: string; second: string }, string][] = [
  [
    "a subfolder of a folder being scanned",
    (d) => ({ first: d, second: `${d}/finance` }),
    "which contains it",
  ],
  [
    "a folder holding one being scanned",
    (d) => ({ first: `${d}/finance`, second: d }),
    "which is inside it",
  ],
  [
    "the folder being scanned, into other reports",
    (d) => ({ first: d, second: d }),
    "the same folder",
  ],
];

for (const [name, inputs, how] of CASES) {
  Deno.test(`overlapping runs: ${name} is refused with exit 3, naming the other run's input`, async () => {
    await using dir = await tempDir();
    const root = await Deno.realPath(dir.path);
    const drop = join(root, "drop");
    await writeTree(drop, { "finance/q1.xlsx": "numbers", "hr/list.txt": "names" });
    const { first, second } = inputs(drop);
    const runsDir = join(root, "runs");
    // The first run waits on a slow emulation until it is stopped.
    await withEmulator({ emulationMs: 600_000 }, async (emulator) => {
      const stop = new AbortController();
      const firstRun = scan(first, join(root, "rep1"), emulator.port, runsDir, stop.signal);
      try {
        await within(
          30,
          (async () => {
            while (emulator.stats().uploads < 1) await sleep(5);
          })(),
        );
        const run = await within(30, scan(second, join(root, "rep2"), emulator.port, runsDir));
        assert.equal(run.code, 3, [...run.out, ...run.err].join("\n"));
        assert.equal(run.err.length, 1, run.err.join("\n"));
        assert.match(
          run.err[0],
          new RegExp(
            `Cannot scan ${second}: another te-scan \\(pid ${Deno.pid}, started \\S+\\) ` +
              `is scanning ${first}, ${how}`,
          ),
        );
        // Refused before it connected or created anything: not even its reports folder exists.
        await assert.rejects(Deno.stat(join(root, "rep2")), Deno.errors.NotFound);
      } finally {
        stop.abort();
        assert.equal((await within(30, firstRun)).code, 130);
      }
      assert.deepEqual(await listFiles(drop), ["finance/q1.xlsx", "hr/list.txt"]);
    });
  });
}

Deno.test("overlapping runs: once the first run ends, the other folder can be scanned", async () => {
  await using dir = await tempDir();
  const root = await Deno.realPath(dir.path);
  const drop = join(root, "drop");
  await writeTree(drop, { "finance/q1.xlsx": "numbers" });
  const runsDir = join(root, "runs");
  await withEmulator({}, async (emulator) => {
    assert.equal((await scan(drop, join(root, "rep1"), emulator.port, runsDir)).code, 0);
    const run = await scan(`${drop}/finance`, join(root, "rep2"), emulator.port, runsDir);
    assert.equal(run.code, 0, run.err.join("\n"));
    assert.deepEqual(await listFiles(runsDir), [], "each run removed its entry");
  });
});
