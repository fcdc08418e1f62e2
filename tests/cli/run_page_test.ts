import assert from "node:assert/strict";
import { join } from "node:path";
import {
  htmlText,
  linkFromPage,
  outcomeChart,
  renderRunPage,
  type RunSummary,
} from "../../lib/cli/run_page.ts";
import type { LogEvent } from "../../lib/fs/run_log.ts";
import { type DisposeCounts, zeroCounts } from "../../lib/pipeline/dispose.ts";
import { tempDir } from "../helpers.ts";

const COUNTS = zeroCounts();

function summaryOf(counts: Partial<DisposeCounts>, more: Partial<RunSummary> = {}): RunSummary {
  return {
    version: "0.1.0",
    started: "2026-11-27T10:00:00.000Z",
    finished: "2026-11-27T10:00:04.000Z",
    seconds: 4,
    input: "/drop",
    appliance: "https://10.1.1.5",
    folders: { benign: "/out", malicious: "/jail", error: "/err" },
    reports_dir: "/rep",
    counts: { ...COUNTS, ...counts },
    interrupted: false,
    exit_code: 0,
    ...more,
  };
}

function fileEvent(relPath: string, state: string, more: Record<string, unknown> = {}): LogEvent {
  return { event: "file", file: relPath, relPath, state, size: 1, disposition: "moved", ...more };
}

/** The page for these events (as the log holds them: a start event first). */
async function pageOf(
  summary: RunSummary,
  files: LogEvent[],
  listed?: number,
): Promise<string> {
  const all: LogEvent[] = [{ event: "start", dry_run: false, copy: false }, ...files];
  // Each section reads the events again, with the log reader's sieve.
  const events = async function* (containing?: string) {
    for (const event of all) {
      if (!containing || JSON.stringify(event).includes(containing)) yield event;
    }
  };
  return (await Array.fromAsync(renderRunPage({ summary, events, listed }))).join("");
}

/** The rows of one section of the page. */
function rowsOf(html: string, section: string): string[] {
  const start = html.indexOf(`<section id="${section}">`);
  const body = html.slice(start, html.indexOf("</section>", start));
  return body.match(/<tr data-state=[^]*?<\/tr>/g) ?? [];
}

Deno.test("hostile names, reasons and folders are escaped: no markup, no scripts, no new lines", async () => {
  await using dir = await tempDir();
  const name = `mail/<script>alert(1)<\\script>"q"&'a'\x1b[2J\n#1?%.docm`;
  const reportDir = join(dir.path, `${name}_report`);
  await Deno.mkdir(reportDir, { recursive: true });
  await Deno.writeTextFile(join(reportDir, "report.html"), "<h1>report</h1>");
  const summary = summaryOf({ malicious: 1 }, {
    reports_dir: dir.path,
    input: `/drop/<b>"x"`,
    error: `appliance said <img src=x onerror=alert(1)>`,
  });
  const html = await pageOf(summary, [
    fileEvent(name, "malicious", {
      destination: `/jail/${name}`,
      reason: `<img src=x onerror=alert(1)>`,
      reportDir,
      responseFile: join(dir.path, `${name}.response.json`),
    }),
  ]);
  assert.ok(!/<script|<img|<b>/i.test(html), "no markup from names or reasons");
  assert.ok(!html.includes("\x1b"), "no control characters");
  const [row] = rowsOf(html, "malicious");
  assert.ok(
    row.includes(
      "mail/&lt;script&gt;alert(1)&lt;\\script&gt;&quot;q&quot;&amp;&#39;a&#39;\\x1b[2J\\n#1?%.docm",
    ),
    row,
  );
  assert.ok(!row.includes("\n<"), "the row is one line");
  const encoded =
    "mail/%3Cscript%3Ealert(1)%3C%5Cscript%3E%22q%22%26&#39;a&#39;%1B%5B2J%0A%231%3F%25.docm";
  assert.ok(row.includes(`<a data-report href="${encoded}_report/report.html">`), row);
  assert.ok(row.includes(`<a data-response href="${encoded}.response.json">`), row);
  assert.match(html, /<td data-setting="input">\/drop\/&lt;b&gt;&quot;x&quot;<\/td>/);
  assert.match(html, /Stopped: appliance said &lt;img src=x onerror=alert\(1\)&gt;/);
});

Deno.test("a link leaves the reports folder only as a file:// URL; a segment never becomes a scheme", () => {
  assert.equal(linkFromPage("/rep", "/rep/javascript:alert(1)/x"), "javascript%3Aalert(1)/x");
  assert.equal(linkFromPage("/rep", "/rep/..x/y"), "..x/y");
  assert.equal(linkFromPage("/rep", "/jail/a b#c"), "file:///jail/a%20b%23c");
  assert.equal(htmlText("a\u202eb"), "a\\u{202e}b");
});

Deno.test("every malicious and unresolved file is listed; benign and skipped up to the cap, then 'and N more'", async () => {
  const files = [
    ...["m1", "m2", "m3"].map((n) => fileEvent(`${n}.docm`, "malicious")),
    ...["e1", "e2", "e3"].map((n) => fileEvent(`${n}.bin`, "error", { reason: "1007" })),
    ...["b1", "b2", "b3", "b4"].map((n) => fileEvent(`${n}.txt`, "benign")),
    fileEvent("fifo", "skipped", { reason: "FIFO" }),
  ];
  const summary = summaryOf({ malicious: 3, error: 3, benign: 4, skipped: 1 });
  const html = await pageOf(summary, files, 2);
  assert.equal(rowsOf(html, "malicious").length, 3);
  assert.equal(rowsOf(html, "unresolved").length, 3);
  const other = rowsOf(html, "other");
  assert.equal(other.length, 2);
  assert.ok(other[0].includes("b1.txt") && other[1].includes("b2.txt"), "the first ones, in order");
  assert.match(
    html,
    /<p class="more" data-more="3">and 3 more — see <a href="te-scan.log.jsonl">te-scan.log.jsonl<\/a><\/p>/,
  );
  assert.ok(!/data-more/.test(html.slice(0, html.indexOf('<section id="other">'))));

  const all = await pageOf(summary, files);
  assert.equal(rowsOf(all, "other").length, 5, "under the cap: every file, no 'more' line");
  assert.ok(!all.includes("data-more"));
});

Deno.test("a malicious file links to report.html, else its first HTML file, else its folder, else the archive", async () => {
  await using dir = await tempDir();
  const rep = dir.path;
  await Deno.mkdir(join(rep, "a_report"));
  await Deno.writeTextFile(join(rep, "a_report", "report.html"), "r");
  await Deno.mkdir(join(rep, "b_report"));
  await Deno.writeTextFile(join(rep, "b_report", "z.html"), "z");
  await Deno.writeTextFile(join(rep, "b_report", "summary.HTML"), "s");
  await Deno.mkdir(join(rep, "c_report"));
  const html = await pageOf(summaryOf({ malicious: 5 }, { reports_dir: rep }), [
    fileEvent("a", "malicious", { reportDir: join(rep, "a_report") }),
    fileEvent("b", "malicious", { reportDir: join(rep, "b_report") }),
    fileEvent("c", "malicious", { reportDir: join(rep, "c_report") }),
    fileEvent("d", "malicious", { reportFiles: [join(rep, "d.report.tar.gz")] }),
    fileEvent("e", "malicious"),
  ]);
  const hrefs = [...html.matchAll(/data-report href="([^"]*)"/g)].map((m) => m[1]);
  assert.deepEqual(hrefs, [
    "a_report/report.html",
    "b_report/summary.HTML",
    "c_report/",
    "d.report.tar.gz",
  ]);
  assert.match(rowsOf(html, "malicious")[4], /no report/);
});

Deno.test("the counts are shown as numbers and as labelled bars scaled to the files", async () => {
  const counts = { benign: 6, malicious: 2, error: 1, skipped: 1, uploaded: 7, duplicates: 3 };
  const html = await pageOf(summaryOf(counts), []);
  for (const [key, n] of Object.entries({ files: 10, ...counts })) {
    assert.match(html, new RegExp(`<dd data-count="${key}">${n}</dd>`), key);
  }
  const svg = outcomeChart({ ...COUNTS, ...counts });
  assert.match(svg, /^<svg class="chart" role="img" aria-labelledby="chart-title chart-desc"/);
  assert.match(svg, /<title id="chart-title">Files by outcome<\/title>/);
  assert.match(
    svg,
    /<desc id="chart-desc">Of 10 files: benign 6, malicious 2, unresolved 1, skipped 1, uploaded 7, same content 3\.<\/desc>/,
  );
  const bars = [
    ...svg.matchAll(
      /<g data-bar="(\w+)"><title>([^<]*)<\/title>.*?width="(\d+)".*?<text class="n"[^>]*>([^<]*)<\/text><\/g>/g,
    ),
  ];
  assert.deepEqual(
    bars.map((b) => [b[1], b[2], Number(b[3]), b[4]]),
    [
      ["benign", "Benign: 6 of 10 files", 216, "6"],
      ["malicious", "Malicious: 2 of 10 files", 72, "2"],
      ["error", "Unresolved: 1 of 10 files", 36, "1"],
      ["skipped", "Skipped: 1 of 10 files", 36, "1"],
      ["uploaded", "Uploaded: 7 of 10 files", 252, "7"],
      ["duplicates", "Same content: 3 of 10 files", 108, "3"],
    ],
  );
  const empty = outcomeChart(COUNTS);
  assert.match(empty, /<g data-bar="benign"><title>Benign: 0 of 0 files<\/title>.*width="0"/);
});

Deno.test("the headline and settings say how the run went and how it was set up", async () => {
  const clean = await pageOf(summaryOf({ benign: 3, bytes: 3 * 1024 }), []);
  assert.match(
    clean,
    /<p class="headline benign" data-exit-code="0">Every scanned file is benign<\/p>/,
  );
  assert.match(clean, /<td data-setting="target">https:\/\/10\.1\.1\.5<\/td>/);
  assert.match(clean, /<td data-setting="quarantine">\/jail<\/td>/);
  assert.match(clean, /<td data-setting="rate">0\.8 files\/s<\/td>/);
  assert.match(clean, /<td data-setting="bytes">3\.0 KiB<\/td>/);
  assert.match(clean, /<td data-setting="interrupted">no<\/td>/);
  assert.match(clean, /<td data-setting="mode">move<\/td>/);
  assert.ok(!clean.includes('data-setting="stopped"'));

  const stopped = await pageOf(
    summaryOf({ malicious: 1 }, { interrupted: true, exit_code: 130, folders: {} }),
    [],
  );
  assert.match(stopped, /class="headline stopped" data-exit-code="130">Interrupted/);
  assert.match(stopped, /<td data-setting="interrupted">yes<\/td>/);
  assert.match(stopped, /<td data-setting="benign">— \(left in place\)<\/td>/);
  assert.match(stopped, /<td data-setting="mode">report only: every file left in place<\/td>/);
});

Deno.test("a malicious row's Reason shows the threat's severity, confidence and name; a forged one is escaped", async () => {
  const threat = {
    source: "te",
    severity: 4,
    severityName: "critical",
    confidence: 3,
    confidenceName: "high",
    decidedBy: "<b>x</b>",
  };
  const html = await pageOf(summaryOf({ malicious: 2 }), [
    fileEvent("a.docm", "malicious", { threat }),
    // A log line edited by hand: a threat of the wrong shape shows nothing, never breaks the page.
    fileEvent("b.docm", "malicious", { threat: { source: "other", severity: "9" } }),
  ]);
  const rows = html.match(/<tr data-state="malicious">[^]*?<\/tr>/g) ?? [];
  assert.equal(rows.length, 2);
  const reason = (row: string) => [...row.matchAll(/<td>([^<]*)<\/td>/g)].map((m) => m[1]);
  assert.deepEqual(reason(rows.find((r) => r.includes("a.docm"))!), [
    "severity critical, confidence high, decided by &lt;b&gt;x&lt;/b&gt;",
  ]);
  assert.deepEqual(reason(rows.find((r) => r.includes("b.docm"))!), [""]);
});
