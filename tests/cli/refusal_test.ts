// An answer that refuses the request itself, not a file (1005 NO_QUOTA mid-run), stops the run:
// every file not yet settled stays where it is for the next run, and one line says why. The codes
// are read in one place (lib/transport/fatal.ts `refusedStatus`), for the preflight and the scan.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  captureScan,
  fastFlags,
  listFiles,
  scanFolders,
  sortFlags,
  withEmulator,
  withTempDir,
  writeTree,
} from "../helpers.ts";

Deno.test("a quota spent mid-run stops the scan with exit 2; unsettled files stay in place", async () => {
  await withEmulator({ mode: "cloud", quota: 1, apiKey: "k-1" }, async (emulator) => {
    await withTempDir(async (root) => {
      const f = scanFolders(root);
      const names = ["a.doc", "b.doc", "c.doc", "d.doc"];
      await writeTree(f.input, Object.fromEntries(names.map((n) => [n, `content of ${n}`])));
      const keyFile = join(root, "key.txt");
      await Deno.writeTextFile(keyFile, "k-1\n");
      const url = `https://127.0.0.1:${emulator.port}/tecloud/api/v1/file/`;
      const target = [...fastFlags(emulator.port).slice(0, -2), "--url", url];
      const run = await captureScan([
        ...sortFlags(f),
        ...target,
        "--api-key-file",
        keyFile,
        "--concurrency",
        "1",
      ]);
      const all = [...run.out, ...run.err].join("\n");
      assert.equal(run.code, 2, all);
      assert.match(all, /no quota left \(1005 NO_QUOTA/);
      const left = await listFiles(f.input);
      assert.ok(left.length >= names.length - 1, `at most the one uploaded file settled: ${all}`);
      assert.deepEqual(await listFiles(f.error), [], "no file is sent to --error for the quota");
    });
  });
});
