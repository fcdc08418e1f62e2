import assert from "node:assert/strict";
import { captureScan, fastFlags, listFiles, tempDir, withEmulator, writeTree } from "../helpers.ts";

Deno.test("three report-only runs leave one response file per file (SPEC §5: no piling)", async () => {
  await using dir = await tempDir();
  const [input, rep] = [`${dir.path}/in`, `${dir.path}/rep`];
  await writeTree(input, {
    "docs/a.txt": "plain\n",
    "b.txt": "notes\n",
    "mail/c.docm": "TE-EMULATOR-MALICIOUS macro\n",
  });
  await withEmulator({}, async (emulator) => {
    for (let run = 0; run < 3; run++) {
      const { code, err } = await captureScan([
        "--in",
        input,
        "--rep",
        rep,
        ...fastFlags(emulator.port),
      ]);
      assert.equal(code, 1, err.join("\n"));
    }
  });
  const responses = (await listFiles(rep)).filter((name) => name.endsWith(".response.json"));
  assert.deepEqual(responses, [
    "b.txt.response.json",
    "docs/a.txt.response.json",
    "mail/c.docm.response.json",
  ]);
  const reports = (await listFiles(rep)).filter((name) => name.includes(".report."));
  assert.deepEqual(reports, ["mail/c.docm.report.tar.gz"], "nor do the reports");
});
