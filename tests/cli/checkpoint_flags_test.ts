// The flags of Check Point's own scripts (te_api, av_api, tex_api, tp_api) run a scan unchanged.
import assert from "node:assert/strict";
import { join } from "node:path";
import { CA_FILE, captureScan, listFiles, tempDir, withEmulator, writeTree } from "../helpers.ts";

Deno.test("-id, -od and -ct run a scan: input, results folder and certificate", async () => {
  await using dir = await tempDir();
  const input = join(dir.path, "in");
  const results = join(dir.path, "results");
  await writeTree(input, { "a/doc.txt": "a document" });
  await withEmulator({}, async (emulator) => {
    const { code, out, err } = await captureScan([
      "-id",
      input,
      "-od",
      results,
      "-ct",
      CA_FILE,
      "-ip",
      `127.0.0.1:${emulator.port}`,
      "--poll-interval",
      "0.03",
    ]);
    assert.equal(code, 0, [...out, ...err].join("\n"));
    assert.ok((await listFiles(results)).includes("summary.json"), "results in the -od folder");
    assert.ok(out.some((l) => /^BENIGN\s+a\/doc\.txt/.test(l)), out.join("\n"));
  });
});

Deno.test("-ak/--api_key gives the key, with a warning that it shows in the process list", async () => {
  await using dir = await tempDir();
  const input = join(dir.path, "in");
  await writeTree(input, { "doc.txt": "a document" });
  await withEmulator({ mode: "cloud", apiKey: "k-cloud" }, async (emulator) => {
    for (const flag of ["-ak", "--api_key"]) {
      const { code, out, err } = await captureScan([
        "--input_directory",
        input,
        "--output_directory",
        join(dir.path, `rep${flag}`),
        "--cert_file",
        CA_FILE,
        "--url",
        `https://127.0.0.1:${emulator.port}/tecloud/api/v1/file/`,
        flag,
        "k-cloud",
        "--poll-interval",
        "0.03",
      ]);
      assert.equal(code, 0, [...out, ...err].join("\n"));
      assert.deepEqual(
        err.filter((l) => l.includes("process list")).length,
        1,
        "one warning line",
      );
      assert.match(err.join("\n"), /prefer --api-key-file/);
    }
  });
});
