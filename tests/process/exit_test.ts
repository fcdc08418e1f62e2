// A run must end when its work ends: no timer, socket or listener may keep the process alive.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startEmulator } from "../../lib/emulator/mod.ts";
import { CA_FILE, tempDir, within } from "../helpers.ts";
import { readAll, teScan, waitForLine } from "./cli.ts";

Deno.test("an all-benign scan with the default --poll-interval exits within 1 s of its summary", async () => {
  await using dir = await tempDir();
  const input = join(dir.path, "in");
  await Deno.mkdir(input);
  for (const name of ["a.txt", "b.txt", "c.txt"]) {
    await Deno.writeTextFile(join(input, name), `benign ${name}`);
  }
  const emulator = await startEmulator({ port: 0, emulationMs: 50 });
  try {
    const child = teScan([
      "--in",
      input,
      "--ip",
      `127.0.0.1:${emulator.port}`,
      "--ca-cert",
      CA_FILE,
      "--out",
      join(dir.path, "out"),
      "--rep",
      join(dir.path, "rep"),
    ]).spawn();
    // The closing table's last line names summary.json: the run's work is done then.
    const { rest } = await waitForLine(child.stdout, /^\s+summary\s+\S+summary\.json$/m);
    const summarised = performance.now();
    const status = await within(60, child.status);
    const lingered = performance.now() - summarised;
    await within(60, Array.fromAsync(readAll(rest)));
    await child.stderr.cancel();
    assert.equal(status.code, 0);
    assert.ok(lingered < 1000, `the process lived ${Math.round(lingered)} ms after its summary`);
  } finally {
    await emulator.close();
  }
});
