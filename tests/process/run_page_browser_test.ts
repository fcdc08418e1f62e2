// REP/index.html in a real browser: a real run's page is loaded in Debian's headless Chromium
// (`--dump-dom`, file://) and the rendered DOM is checked: the counts equal summary.json's, and
// each malicious file has one link that resolves to its extracted report, which opens too.
// Chromium runs as a subprocess (--allow-run); without it the test fails and says why (.ci/run
// installs Debian's chromium).
import assert from "node:assert/strict";
import { join, relative } from "node:path";
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

const CHROMIUM_PATHS = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

/** The flags that keep headless Chromium quiet on a machine with no network beyond loopback. */
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

async function findChromium(): Promise<string | undefined> {
  for (const path of CHROMIUM_PATHS) {
    if (await Deno.stat(path).then((info) => info.isFile, () => false)) return path;
  }
  return undefined;
}

const CHROMIUM = await findChromium();

/** The DOM Chromium builds from `url`, serialized (`--dump-dom`), with a fresh profile. */
async function dumpDom(url: URL): Promise<string> {
  await using profile = await tempDir("te-scan-chromium-");
  const result = await new Deno.Command(CHROMIUM!, {
    args: [...CHROMIUM_FLAGS, `--user-data-dir=${profile.path}`, "--dump-dom", url.href],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const dom = new TextDecoder().decode(result.stdout);
  assert.ok(
    result.success && dom.includes("<body"),
    `chromium --dump-dom ${url.href} failed (${result.code}):\n` +
      new TextDecoder().decode(result.stderr).slice(-2000),
  );
  return dom;
}

/** An attribute value as serialized by the DOM, unescaped. */
function unescapeAttribute(value: string): string {
  return value.replaceAll("&quot;", '"').replaceAll("&lt;", "<").replaceAll("&gt;", ">")
    .replaceAll("&nbsp;", "\u00a0").replaceAll("&amp;", "&");
}

function countsInDom(dom: string): Record<string, number> {
  const found = [...dom.matchAll(/<dd data-count="(\w+)">([^<]*)<\/dd>/g)];
  return Object.fromEntries(found.map((m) => [m[1], Number(m[2].replaceAll(",", ""))]));
}

function barsInDom(dom: string): Record<string, number> {
  const bars = [...dom.matchAll(/<g data-bar="(\w+)">.*?<text class="n"[^>]*>([^<]*)<\/text>/gs)];
  return Object.fromEntries(bars.map((m) => [m[1], Number(m[2].replaceAll(",", ""))]));
}

const HOSTILE = `<script>alert('x')</script> "#1?%.docm`.replace("/", "\\");

const TREE: Record<string, string> = {
  "docs/report.docx": "Quarterly report\n".repeat(30),
  "docs/notes.txt": "plain notes\n",
  "mail/invoice.docm": "Invoice TE-EMULATOR-MALICIOUS macro\n",
  [`mail/${HOSTILE}`]: "TE-EMULATOR-MALICIOUS and a hostile name\n",
  "firmware/image.bin": "TE-EMULATOR-UNSUPPORTED\n",
};

/** What the test reads of summary.json. */
interface Summary {
  counts: Record<string, number>;
}

async function scanIntoPage(root: string): Promise<{ rep: string; summary: Summary }> {
  const f = scanFolders(root);
  await writeTree(f.input, TREE);
  await withEmulator({}, async (emulator) => {
    const run = await captureScan([...sortFlags(f), ...fastFlags(emulator.port)]);
    assert.equal(run.code, 1, run.err.join("\n"));
  });
  const summary = JSON.parse(await Deno.readTextFile(join(f.rep, "summary.json")));
  return { rep: f.rep, summary };
}

Deno.test({
  name:
    "index.html in headless Chromium: counts equal summary.json's, one working report link per malicious file",
  async fn() {
    assert.ok(
      CHROMIUM,
      `no Chromium at ${CHROMIUM_PATHS.join(" or ")}: install Debian's chromium (.ci/run does)`,
    );
    await using dir = await tempDir();
    const { rep, summary } = await scanIntoPage(dir.path);
    const page = pathToFileURL(join(rep, "index.html"));
    const dom = await dumpDom(page);

    const { counts } = summary;
    const shown = countsInDom(dom);
    const bars = barsInDom(dom);
    for (const key of ["benign", "malicious", "error", "skipped", "uploaded", "duplicates"]) {
      assert.equal(shown[key], counts[key], `${key} shown`);
      assert.equal(bars[key], counts[key], `${key} in the chart`);
    }
    assert.equal(shown.files, counts.benign + counts.malicious + counts.error + counts.skipped);
    assert.deepEqual([counts.malicious, counts.error], [2, 1]);

    // The hostile name is text, not markup: the page has no script element at all.
    assert.ok(!/<script/i.test(dom.replaceAll("&lt;script", "")), "no script element");
    assert.ok(dom.includes("mail/&lt;script&gt;alert('x')&lt;\\script&gt; \"#1?%.docm"));

    const rows = [...dom.matchAll(/<tr data-state="malicious">(.*?)<\/tr>/gs)].map((m) => m[1]);
    assert.equal(rows.length, counts.malicious, "one row per malicious file");
    const reports = new Set<string>();
    for (const row of rows) {
      const links = [...row.matchAll(/<a data-report="" href="([^"]*)">/g)];
      assert.equal(links.length, 1, `one report link in ${row}`);
      const target = fileURLToPath(new URL(unescapeAttribute(links[0][1]), page));
      assert.ok(!relative(rep, target).startsWith(".."), `${target} is inside the reports folder`);
      assert.ok(target.endsWith("_report/report.html"), target);
      assert.ok((await Deno.stat(target)).isFile, `${target} exists`);
      reports.add(target);
      // The link works in the browser too: the report opens and has content.
      const report = await dumpDom(pathToFileURL(target));
      assert.ok(report.length > 1000, `${target} renders`);
    }
    assert.equal(reports.size, counts.malicious, "a distinct report per malicious file");
    assert.ok(reports.has(join(rep, "mail", `${HOSTILE}_report`, "report.html")));
  },
});
