// REP/index.html as a scan writes it: this run's files only, the counts of summary.json,
// links that resolve inside the reports folder. The browser test (tests/process/) loads it.
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  captureScan,
  fastFlags,
  scanFolders,
  sortFlags,
  tempDir,
  withEmulator,
  writeTree,
} from "../helpers.ts";

async function pageOf(rep: string): Promise<string> {
  return await Deno.readTextFile(join(rep, "index.html"));
}

function countsShown(html: string): Record<string, number> {
  const shown = [...html.matchAll(/<dd data-count="(\w+)">([\d,]+)<\/dd>/g)];
  return Object.fromEntries(shown.map((m) => [m[1], Number(m[2].replaceAll(",", ""))]));
}

function hrefs(html: string, kind: "report" | "response"): string[] {
  return [...html.matchAll(new RegExp(`<a data-${kind} href="([^"]*)"`, "g"))].map((m) => m[1]);
}

Deno.test("index.html shows this run's files and counts; a second run replaces it", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, {
    "first/ok.txt": "fine",
    "first/bad.docm": "TE-EMULATOR-MALICIOUS one",
  });
  await withEmulator({}, async (emulator) => {
    const first = await captureScan([...sortFlags(f), ...fastFlags(emulator.port)]);
    assert.equal(first.code, 1, first.err.join("\n"));
    assert.match(await pageOf(f.rep), /first\/bad\.docm/);

    await writeTree(f.input, {
      "second/ok.txt": "also fine",
      "second/evil #1.docm": "TE-EMULATOR-MALICIOUS two",
      "second/firmware.bin": "TE-EMULATOR-UNSUPPORTED",
    });
    const second = await captureScan([...sortFlags(f), ...fastFlags(emulator.port)]);
    assert.equal(second.code, 1, second.err.join("\n"));
    const html = await pageOf(f.rep);
    assert.ok(!html.includes("first/"), "the first run's files are not on the second run's page");
    const summary = JSON.parse(await Deno.readTextFile(join(f.rep, "summary.json")));
    const shown = countsShown(html);
    for (const key of ["benign", "malicious", "error", "skipped", "uploaded", "duplicates"]) {
      assert.equal(shown[key], summary.counts[key], key);
    }
    assert.deepEqual([shown.benign, shown.malicious, shown.error, shown.files], [1, 1, 1, 3]);

    const page = pathToFileURL(join(f.rep, "index.html"));
    assert.deepEqual(hrefs(html, "report"), ["second/evil%20%231.docm_report/report.html"]);
    const report = fileURLToPath(new URL(hrefs(html, "report")[0], page));
    assert.equal(report, join(f.rep, "second", "evil #1.docm_report", "report.html"));
    assert.ok((await Deno.stat(report)).isFile);
    assert.equal(hrefs(html, "response").length, 3);
    for (const href of hrefs(html, "response")) {
      assert.ok((await Deno.stat(fileURLToPath(new URL(href, page)))).isFile, href);
    }
  });
});

Deno.test("a dry run writes its page too, and says nothing was moved", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "a.txt": "fine", "b.docm": "TE-EMULATOR-MALICIOUS" });
  await withEmulator({}, async (emulator) => {
    const run = await captureScan([...sortFlags(f), "--dry-run", ...fastFlags(emulator.port)]);
    const html = await pageOf(f.rep);
    const summary = JSON.parse(await Deno.readTextFile(join(f.rep, "summary.json")));
    assert.equal(countsShown(html).skipped, summary.counts.skipped, run.err.join("\n"));
    assert.equal(countsShown(html).files, 2);
    assert.match(
      html,
      /<td data-setting="mode">dry run: hashes looked up, nothing uploaded or moved<\/td>/,
    );
    assert.match(html, /<td data-setting="quarantine">— \(dry run: nothing moved\)<\/td>/);
  });
});
