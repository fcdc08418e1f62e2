// Full disks need small filesystems: tmpfs mounts (root only; CI runs as root), hence --allow-run.
// A full destination fails one file; a full reports folder stops the run cleanly with exit 2.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startEmulator } from "../../lib/emulator/mod.ts";
import { captureScan, fastFlags, listFiles, tempDir, within } from "../helpers.ts";
import { mountTmpfs, unmount } from "./cli.ts";

function scanFlags(input: string, out: string, rep: string, port: number): string[] {
  return ["--in", input, "--out", out, "--rep", rep, ...fastFlags(port)];
}

Deno.test({
  name: "a full destination disk: the file stays in the input, the reason says why",
  async fn() {
    await using dir = await tempDir();
    const input = join(dir.path, "in");
    const out = join(dir.path, "out");
    await Deno.mkdir(input);
    await Deno.mkdir(out);
    await mountTmpfs(out, "128k");
    const emulator = await startEmulator({ port: 0, emulationMs: 20 });
    try {
      const big = new Uint8Array(300 * 1024).fill(65);
      await Deno.writeFile(join(input, "big.bin"), big);
      await Deno.writeTextFile(join(input, "small.txt"), "fits");
      const flags = scanFlags(input, out, join(dir.path, "rep"), emulator.port);
      const run = await within(120, captureScan(flags));
      assert.equal(run.code, 2, [...run.out, ...run.err].join("\n"));
      assert.deepEqual(await Deno.readFile(join(input, "big.bin")), big, "nothing lost");
      // small.txt fits, unless big.bin's partial copy filled the disk at that very moment:
      // either way it is whole, in exactly one place.
      const placed = [...await listFiles(out), ...await listFiles(input)].sort();
      assert.deepEqual(placed, ["big.bin", "small.txt"], "every file in one place, no partial");
      const line = run.out.find((l) => l.includes("big.bin"));
      assert.match(line ?? "", /ERROR\s+big\.bin .*No space left on device/);
    } finally {
      await emulator.close();
      await unmount(out);
    }
  },
});

/** Runs a scan of `count` files into a reports folder on a tmpfs of `size`, filled with `filler`. */
async function scanIntoFullReports(count: number, size: string, filler: number) {
  await using dir = await tempDir();
  const input = join(dir.path, "in");
  const out = join(dir.path, "out");
  const rep = join(dir.path, "rep");
  await Deno.mkdir(input);
  await Deno.mkdir(rep);
  for (let i = 0; i < count; i++) await Deno.writeTextFile(join(input, `f${i}.txt`), `file ${i}`);
  await mountTmpfs(rep, size);
  const emulator = await startEmulator({ port: 0, emulationMs: 5 });
  try {
    if (filler) await Deno.writeFile(join(rep, "filler"), new Uint8Array(filler)).catch(() => {});
    // A full reports folder must end the run, not stall it: a hang fails here.
    const run = await within(120, captureScan(scanFlags(input, out, rep, emulator.port)));
    const inInput = await listFiles(input);
    const inOut = await listFiles(out);
    return { run, inInput, inOut };
  } finally {
    await emulator.close();
    await unmount(rep);
  }
}

Deno.test({
  name: "a reports folder that is full from the start: exit 2, one line, nothing moved",
  async fn() {
    const { run, inInput, inOut } = await scanIntoFullReports(3, "64k", 64 * 1024);
    assert.equal(run.code, 2, [...run.out, ...run.err].join("\n"));
    assert.match(
      run.err.join("\n"),
      /Cannot write to the reports folder .*No space left on device/,
    );
    assert.equal(inInput.length, 3, "every file still in the input");
    assert.deepEqual(inOut, []);
  },
});

Deno.test({
  name: "a reports folder that fills up mid-run: exit 2, no hang, no file lost",
  async fn() {
    const { run, inInput, inOut } = await scanIntoFullReports(400, "200k", 0);
    assert.equal(run.code, 2, [...run.out.slice(-5), ...run.err].join("\n"));
    assert.match(
      run.err.join("\n"),
      /Cannot write to the reports folder .*No space left on device/,
    );
    assert.equal(inInput.length + inOut.length, 400, "every file in exactly one place");
    assert.ok(inInput.length > 0, "the run stopped before the end");
  },
});
