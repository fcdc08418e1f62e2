// A full disk needs a small filesystem: a 128 KiB tmpfs mounted with `mount`
// (as root, which CI is), hence --allow-run here.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startEmulator } from "../../lib/emulator/mod.ts";
import { CA_FILE, captureScan, tempDir } from "../helpers.ts";

async function sh(command: string, args: string[]): Promise<boolean> {
  const result = await new Deno.Command(command, { args, stdout: "null", stderr: "null" }).output();
  return result.success;
}

Deno.test("a full destination disk: the file stays in the input, the reason says why", async () => {
  await using dir = await tempDir();
  const input = join(dir.path, "in");
  const out = join(dir.path, "out");
  await Deno.mkdir(input);
  await Deno.mkdir(out);
  assert.ok(
    await sh("mount", ["-t", "tmpfs", "-o", "size=128k", "tmpfs", out]),
    "mount a 128 KiB tmpfs (the test runs as root in CI)",
  );
  const emulator = await startEmulator({ port: 0, emulationMs: 20 });
  try {
    const big = new Uint8Array(300 * 1024).fill(65);
    await Deno.writeFile(join(input, "big.bin"), big);
    await Deno.writeTextFile(join(input, "small.txt"), "fits");
    const { code, out: lines, err } = await captureScan([
      "--in",
      input,
      "--out",
      out,
      "--rep",
      join(dir.path, "rep"),
      "--ip",
      `127.0.0.1:${emulator.port}`,
      "--ca-cert",
      CA_FILE,
      "--poll-interval",
      "0.03",
    ]);
    assert.equal(code, 2, [...lines, ...err].join("\n"));
    assert.deepEqual(await Deno.readFile(join(input, "big.bin")), big, "nothing lost");
    assert.equal(await Deno.readTextFile(join(out, "small.txt")), "fits");
    const left = await Array.fromAsync(Deno.readDir(out));
    assert.deepEqual(left.map((e) => e.name), ["small.txt"], "no partial copy left behind");
    const line = lines.find((l) => l.includes("big.bin"));
    assert.match(line ?? "", /ERROR\s+big\.bin .*No space left on device/);
  } finally {
    await emulator.close();
    await sh("umount", [out]);
  }
});
