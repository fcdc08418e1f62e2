// Ctrl-C and SIGTERM always work: during a storm of retries the first signal ends the run within
// seconds, with the closing table and summary.json; the CLI runs as a subprocess (--allow-run).
import assert from "node:assert/strict";
import { join } from "node:path";
import { startEmulator } from "../../lib/emulator/mod.ts";
import { CA_FILE, injectFaults, tempDir, within, writeTree } from "../helpers.ts";
import { teScan } from "./cli.ts";

async function interruptDuringRetries(signal: Deno.Signal): Promise<void> {
  await using dir = await tempDir();
  const input = join(dir.path, "in");
  const rep = join(dir.path, "rep");
  await writeTree(input, { "a.txt": "one", "b.txt": "two" });
  const emulator = await startEmulator({ port: 0 });
  try {
    // The preflight passes; every request after it fails and is retried.
    const storm = Array.from({ length: 500 }, () => ({ kind: "http503" }));
    await injectFaults(emulator.url, [{ kind: "delay", path: "query", delayMs: 0 }, ...storm]);
    const child = teScan([
      "--in",
      input,
      "--rep",
      rep,
      "--ip",
      `127.0.0.1:${emulator.port}`,
      "--ca-cert",
      CA_FILE,
    ]).spawn();
    const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    await within(
      120,
      (async () => {
        while (!/failed .*try 2/.test(seen)) {
          const { value, done } = await stderr.read();
          if (done) throw new Error(`the scan ended before retrying: ${seen}`);
          seen += value;
        }
      })(),
    );
    child.kill(signal);
    // The first signal must end the run: a hang fails here instead of hanging the suite.
    const [status, stdout] = await within(
      30,
      Promise.all([
        child.status,
        new Response(child.stdout).text(),
        (async () => {
          while (!(await stderr.read()).done) { /* drain */ }
        })(),
      ]),
    ).catch((error) => {
      child.kill("SIGKILL");
      throw error;
    });
    assert.equal(status.code, 130, `exit ${status.code} after ${signal}`);
    assert.match(stdout, /^\s+summary\s+\S+summary\.json$/m, "the closing table was printed");
    const summary = JSON.parse(await Deno.readTextFile(join(rep, "summary.json")));
    assert.equal(summary.interrupted, true);
    assert.equal(summary.exit_code, 130);
  } finally {
    await emulator.close();
  }
}

Deno.test("SIGINT during a retry storm: exit 130 with the closing table and summary.json", () =>
  interruptDuringRetries("SIGINT"));

Deno.test("SIGTERM during a retry storm: exit 130 with the closing table and summary.json", () =>
  interruptDuringRetries("SIGTERM"));
