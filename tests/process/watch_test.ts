// The watch-folder service as an operator runs it: a subprocess with the three permissions, the
// emulator stopped and started again under it, SIGTERM at the end.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startEmulator } from "../../lib/emulator/mod.ts";
import { CA_FILE, fastFlags, listFiles, tempDir, within } from "../helpers.ts";
import { teScan } from "./cli.ts";
import { sleep } from "../../lib/util/sleep.ts";

/** Waits (polling the file system, bounded) until `folder` holds `names`. */
async function untilHolds(folder: string, names: string[], what: string): Promise<void> {
  for (let waited = 0; waited < 60_000; waited += 50) {
    const held = await listFiles(folder);
    if (names.every((n) => held.includes(n))) return;
    await sleep(50);
  }
  throw new Error(`${what}: ${folder} never held ${names.join(", ")}`);
}

/** Stops the service with SIGTERM (exit 130 expected), then the emulator; returns its stdout. */
async function stopService(
  child: Deno.ChildProcess,
  emulator: { close(): Promise<void> },
  stdout: Promise<string>,
  stderr: Promise<string>,
): Promise<string> {
  child.kill("SIGTERM");
  const status = await within(60, child.status);
  await emulator.close();
  const [printed, warned] = await within(60, Promise.all([stdout, stderr]));
  assert.equal(status.code, 130, warned);
  return printed;
}

Deno.test("--watch takes a file written in two parts once, whole; an outage pauses it; SIGTERM ends it", async () => {
  await using dir = await tempDir();
  const [input, out, jail, rep] = ["in", "out", "jail", "rep"].map((n) => join(dir.path, n));
  await Deno.mkdir(input);
  let emulator = await startEmulator({ port: 0, emulationMs: 50, earlyMs: 10 });
  const port = emulator.port;
  const child = teScan([
    "--watch",
    "--settle",
    "1",
    "--in",
    input,
    "--out",
    out,
    "--jail",
    jail,
    "--rep",
    rep,
    "--ip",
    `127.0.0.1:${port}`,
    "--ca-cert",
    CA_FILE,
    "--poll-interval",
    "0.1",
    "--retries",
    "1",
    "--grace",
    "0",
  ]).spawn();
  const stdout = new Response(child.stdout).text();
  const stderr = new Response(child.stderr).text();
  try {
    // Half a document, then (well inside --settle) the rest, with the malicious part.
    const path = join(input, "report.docm");
    await Deno.writeTextFile(path, "Quarterly report, first half.\n");
    await sleep(300);
    await Deno.writeTextFile(path, "Second half: TE-EMULATOR-MALICIOUS macro.\n", { append: true });
    await untilHolds(jail, ["report.docm"], "the whole file is quarantined");
    assert.match(await Deno.readTextFile(join(jail, "report.docm")), /first half[^]*MALICIOUS/);
    assert.equal(emulator.stats().uploads, 1, "scanned once, complete");

    // The appliance goes away; a new file waits, and the service keeps running.
    await emulator.close();
    await Deno.writeTextFile(join(input, "notes.txt"), "plain notes\n");
    await sleep(2_500);
    assert.deepEqual(await listFiles(out), [], "nothing can be scanned while it is away");
    emulator = await startEmulator({ port, emulationMs: 50, earlyMs: 10 });
    await untilHolds(out, ["notes.txt"], "the service resumes when the appliance returns");
  } finally {
    const printed = await stopService(child, emulator, stdout, stderr);
    assert.match(printed, /^\s+summary\s+\S+summary\.json$/m, "a closing table on SIGTERM");
  }
});

Deno.test("--watch: a quarantine subfolder removed mid-watch is made again for the next file", async () => {
  await using dir = await tempDir();
  const [input, jail, rep] = ["in", "jail", "rep"].map((n) => join(dir.path, n));
  await Deno.mkdir(join(input, "mail"), { recursive: true });
  const emulator = await startEmulator({ port: 0, emulationMs: 50, earlyMs: 10 });
  const child = teScan([
    "--watch",
    "--settle",
    "0.2",
    "--in",
    input,
    "--jail",
    jail,
    "--rep",
    rep,
    ...fastFlags(emulator.port),
  ]).spawn();
  const stdout = new Response(child.stdout).text();
  const stderr = new Response(child.stderr).text();
  try {
    await Deno.writeTextFile(join(input, "mail", "first.eml"), "TE-EMULATOR-MALICIOUS one\n");
    await untilHolds(jail, ["mail/first.eml"], "the first file is quarantined");
    // The operator clears the quarantine subfolder while the service runs.
    await Deno.remove(join(jail, "mail"), { recursive: true });
    await Deno.writeTextFile(join(input, "mail", "second.eml"), "TE-EMULATOR-MALICIOUS two\n");
    await untilHolds(jail, ["mail/second.eml"], "the next file is quarantined all the same");
    assert.deepEqual(await listFiles(input), [], "nothing left in the drop folder");
  } finally {
    const printed = await stopService(child, emulator, stdout, stderr);
    assert.doesNotMatch(printed, /cannot move/, printed);
  }
});
