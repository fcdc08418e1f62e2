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

Deno.test({
  name: "a quarantine on a full disk: exit 4, the file named as NOT quarantined, nothing lost",
  async fn() {
    await using dir = await tempDir();
    const [input, jail, rep] = ["in", "jail", "rep"].map((n) => join(dir.path, n));
    await Deno.mkdir(input);
    await Deno.mkdir(jail);
    await mountTmpfs(jail, "128k");
    const emulator = await startEmulator({ port: 0, emulationMs: 20 });
    try {
      const big = new TextEncoder().encode("TE-EMULATOR-MALICIOUS " + "A".repeat(300 * 1024));
      const path = join(input, "big.docm");
      await Deno.writeFile(path, big);
      const flags = ["--in", input, "--jail", jail, "--rep", rep, ...fastFlags(emulator.port)];
      const run = await within(120, captureScan(flags));
      const all = [...run.out, ...run.err].join("\n");
      assert.equal(run.code, 4, all);
      assert.deepEqual(await Deno.readFile(path), big, "the file is whole where it was");
      const line = run.out.find((l) => l.startsWith("MALICIOUS ") && l.includes("big.docm"));
      assert.match(
        line ?? "",
        /NOT quarantined: the file is still at \S+big\.docm; .*No space left/,
      );
      const listed = run.out.indexOf("  malicious files NOT quarantined (still where they were):");
      assert.match(run.out[listed + 1] ?? "", /^ {4}big\.docm /, all);
      const summary = JSON.parse(await Deno.readTextFile(join(rep, "summary.json")));
      assert.equal(summary.counts.uncontained, 1);
    } finally {
      await emulator.close();
      await unmount(jail);
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
