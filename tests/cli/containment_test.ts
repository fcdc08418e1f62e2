// Containment: a malicious file that cannot be put in the quarantine is named as such, with where
// it is, first in the closing table, in summary.json and index.html, and the run exits 4.
// Error verdicts are asked for: te-scan sends te.return_errors and te.version_info, so a failed
// emulation (the emulator's TE-EMULATOR-EMULATION-ERROR marker) ends in --error, never benign.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  captureScan,
  fastFlags,
  gatewayFastFlags,
  listFiles,
  readLog,
  scanFolders,
  sortFlags,
  withEmulator,
  withTempDir,
  writeTree,
} from "../helpers.ts";

async function summaryOf(
  rep: string,
): Promise<{ counts: Record<string, number>; exit_code: number }> {
  return JSON.parse(await Deno.readTextFile(join(rep, "summary.json")));
}

Deno.test("a malicious file that cannot be moved into the quarantine: exit 4, named with where it is", async () => {
  await withEmulator({}, async (emulator) => {
    await withTempDir(async (root) => {
      const f = scanFolders(root);
      await writeTree(f.input, {
        "mail/bad.docm": "macro TE-EMULATOR-MALICIOUS",
        "ok.txt": "fine",
        "odd.bin": "TE-EMULATOR-UNSUPPORTED",
      });
      // A file where the quarantine's subfolder should be: found only when the file is moved.
      await writeTree(f.jail, { mail: "in the way" });
      const run = await captureScan([...sortFlags(f), ...fastFlags(emulator.port)]);
      const all = [...run.out, ...run.err].join("\n");
      assert.equal(run.code, 4, all); // 4 wins over 2 (odd.bin is unresolved)
      const badPath = join(f.input, "mail", "bad.docm");
      const line = run.out.find((l) => l.startsWith("MALICIOUS ") && l.includes("bad.docm"));
      assert.ok(line?.startsWith("MALICIOUS  mail/bad.docm  "), all);
      assert.ok(
        line!.includes(`(NOT quarantined: the file is still at ${badPath}; cannot move`),
        all,
      );
      assert.deepEqual(await listFiles(f.input), ["mail/bad.docm"], "the file is where it was");
      // The closing table: the count, then these files before any other list.
      assert.ok(run.out.includes("  NOT QUARANTINED  1"), all);
      const title = run.out.indexOf("  malicious files NOT quarantined (still where they were):");
      assert.ok(
        title > 0 && run.out[title + 1].startsWith("    mail/bad.docm  report: "),
        all,
      );
      assert.ok(title < run.out.indexOf("  unresolved files:"), all);
      const summary = await summaryOf(f.rep);
      assert.equal(summary.counts.uncontained, 1);
      assert.equal(summary.counts.malicious, 1);
      assert.equal(summary.exit_code, 4);
      const page = await Deno.readTextFile(join(f.rep, "index.html"));
      assert.match(
        page,
        /<p class="headline uncontained" data-exit-code="4">1 malicious file NOT quarantined<\/p>/,
      );
      assert.match(page, /<dd data-count="uncontained">1<\/dd>/);
      assert.match(
        page,
        /<section id="uncontained">[^]*<tr data-state="malicious" class="uncontained" data-uncontained><td class="path">mail\/bad\.docm</,
      );
    });
  });
});

Deno.test("report-only mode: a malicious file is reported, not uncontained (exit 1)", async () => {
  await withEmulator({}, async (emulator) => {
    await withTempDir(async (root) => {
      const f = scanFolders(root);
      await writeTree(f.input, { "bad.docm": "macro TE-EMULATOR-MALICIOUS" });
      const run = await captureScan(["--in", f.input, "--rep", f.rep, ...fastFlags(emulator.port)]);
      assert.equal(run.code, 1, [...run.out, ...run.err].join("\n"));
      assert.equal((await summaryOf(f.rep)).counts.uncontained, 0);
      assert.ok(!run.out.some((l) => l.includes("NOT quarantined")), run.out.join("\n"));
    });
  });
});

async function keyFileIn(root: string): Promise<string> {
  const keyFile = join(root, "gateway.key");
  await Deno.writeTextFile(keyFile, "key\n");
  return keyFile;
}

for (const target of ["appliance", "gateway"] as const) {
  Deno.test(`${target}: a failed emulation ends in --error with the reason and the engine version, exit 2`, async () => {
    await withEmulator({}, async (emulator) => {
      await withTempDir(async (root) => {
        const f = scanFolders(root);
        await writeTree(f.input, { "doc.docx": "TE-EMULATOR-EMULATION-ERROR", "ok.txt": "fine" });
        const connect = target === "gateway"
          ? gatewayFastFlags(emulator.port, await keyFileIn(root))
          : fastFlags(emulator.port);
        const run = await captureScan([...sortFlags(f), ...connect]);
        const all = [...run.out, ...run.err].join("\n");
        assert.equal(run.code, 2, all);
        // The emulator answers Error only to a request that carried te.return_errors.
        assert.deepEqual(await listFiles(f.error), ["doc.docx"], all);
        assert.deepEqual(await listFiles(f.out), ["ok.txt"], all);
        const line = run.out.find((l) => l.includes("doc.docx")) ?? "";
        assert.match(
          line,
          /^ERROR +doc\.docx -> .*\(emulation error: te verdict "Error" \(The emulation failed/,
        );
        const event = (await readLog(f.rep)).find((e) =>
          e.event === "file" && e.file === "doc.docx"
        );
        assert.equal(typeof event?.teEngineVersion, "string", JSON.stringify(event));
        const response = JSON.parse(await Deno.readTextFile(join(f.rep, "doc.docx.response.json")));
        assert.equal(response.te.te_engine_version, event?.teEngineVersion);
      });
    });
  });
}
