// A gateway's report port is checked by the preflight, before anything is walked or moved.
import assert from "node:assert/strict";
import net from "node:net";
import { join } from "node:path";
import { eicarText } from "../../lib/emulator/mod.ts";
import {
  captureScan,
  gatewayFastFlags,
  listFiles,
  scanFolders,
  sortFlags,
  tempDir,
  withEmulator,
  within,
  writeTree,
} from "../helpers.ts";

/** A port nothing listens on: one the system just gave out and took back. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

Deno.test("an unreachable --report-port: exit 3 naming --report-port, before anything is moved", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "a/doc.txt": "a document", "b/eicar.com": eicarText() });
  await withEmulator({ apiKey: "k-rp" }, async (emulator) => {
    const keyFile = join(dir.path, "key");
    await Deno.writeTextFile(keyFile, "k-rp");
    const flags = gatewayFastFlags(emulator.port, keyFile);
    flags[flags.indexOf("--report-port") + 1] = String(await closedPort());
    const { code, out, err } = await within(30, captureScan([...sortFlags(f), ...flags]));
    assert.equal(code, 3, [...out, ...err].join("\n"));
    assert.equal(err.length, 1, err.join("\n"));
    assert.match(
      err[0],
      /Cannot reach the report port of gateway 127\.0\.0\.1:\d+ .*--report-port/,
    );
    assert.deepEqual(await listFiles(f.input), ["a/doc.txt", "b/eicar.com"], "nothing moved");
    assert.deepEqual(await listFiles(f.jail), []);
    assert.equal(emulator.stats().tpapi_uploads, 0, "nothing uploaded");
  });
});
