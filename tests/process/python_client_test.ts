import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startEmulator } from "../../lib/emulator/mod.ts";
import { CA_FILE, within } from "../helpers.ts";

const CLIENT = fileURLToPath(new URL("./te_client.py", import.meta.url));

Deno.test("an independent Python requests client drives the whole protocol", async () => {
  const emulator = await startEmulator({ port: 0, emulationMs: 300, earlyMs: 60 });
  try {
    const result = await within(
      120,
      new Deno.Command("python3", {
        args: [CLIENT, emulator.url, CA_FILE],
        stdout: "piped",
        stderr: "piped",
      }).output(),
    );
    const out = new TextDecoder().decode(result.stdout);
    const err = new TextDecoder().decode(result.stderr);
    assert.equal(result.code, 0, `python client failed:\n${out}\n${err}`);
    assert.match(out, /all checks passed/);
  } finally {
    await emulator.close();
  }
});
