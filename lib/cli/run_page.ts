/**
 * `REP/index.html`: one page per run, for the people who act on it. It
 * shows the outcome counts (as numbers and as an inline SVG chart), the
 * run's settings, and a table of files in which every malicious file links
 * to its extracted report and response file. It is one self-contained file
 * (inline CSS and SVG, no scripts, nothing fetched), its links are relative
 * to itself, so the reports folder can be copied or moved as a whole and
 * opened offline from `file://`.
 *
 * Memory does not grow with the tree: the page is built at the end of the
 * run by reading this run's events back from the log (one section at a
 * time: every malicious file, every unresolved file, then the first
 * {@linkcode LISTED_OTHER_FILES} benign and skipped files and how many more
 * there are) and written to its temporary file as it is made.
 *
 * File names, reasons and folders come from the scanned tree and the
 * appliance: every one is shown with control characters as visible escapes
 * (as on the console) and HTML-escaped, and links are built from
 * percent-encoded path segments, so a name can neither add markup nor turn
 * a link into another scheme.
 *
 * The elements a test (or a script) reads carry data attributes:
 * `data-count="benign|malicious|error|skipped|uploaded|duplicates|files"` on
 * the numbers (and `uncontained`, when a malicious file could not be
 * quarantined), `data-bar` on the chart's bars, `data-state` on each file's
 * row (`data-uncontained` on a malicious file that is not in the quarantine), `data-report` and `data-response` on its links, `data-more` on the
 * "and N more" line, `data-setting` on the settings.
 *
 * @example The page of a run, from its events
 * ```ts
 * import { renderRunPage } from "./run_page.ts";
 * import assert from "node:assert/strict";
 *
 * const counts = {
 *   benign: 1,
 *   malicious: 0,
 *   error: 0,
 *   skipped: 0,
 *   uploaded: 1,
 *   duplicates: 0,
 *   bytes: 5,
 *   uncontained: 0,
 * };
 * const summary = {
 *   version: "0.1.0",
 *   started: "2026-01-01T00:00:00.000Z",
 *   finished: "2026-01-01T00:00:02.000Z",
 *   seconds: 2,
 *   input: "/in",
 *   appliance: "https://10.0.0.5",
 *   folders: {},
 *   reports_dir: "/rep",
 *   counts,
 *   interrupted: false,
 *   exit_code: 0,
 * };
 * const events = async function* () {
 *   yield { event: "file", relPath: "a.txt", state: "benign", size: 5, disposition: "left" };
 * };
 * const html = (await Array.fromAsync(renderRunPage({ summary, events }))).join("");
 * assert.match(html, /<dd data-count="benign">1<\/dd>/);
 * assert.match(html, /<tr data-state="benign"><td class="path">a\.txt<\/td>/);
 * ```
 * @module
 */

import { isAbsolute, join, relative, sep } from "node:path";
import { pathToFileURL } from "node:url";
import type { DisposeCounts, FileRecord, Folders } from "../pipeline/dispose.ts";
import type { ExtractionCounts } from "../pipeline/clean.ts";
import type { LogEvent } from "../fs/run_log.ts";
import { readLogEvents } from "../fs/run_log_events.ts";
import { replaceFileStreamed } from "../fs/replace_streamed.ts";
import { formatSize } from "../fs/size.ts";
import { describeThreat, type ThreatFinding } from "../pipeline/threat.ts";
import { escapeControl, formatDuration } from "./render.ts";
import { escapeHtml } from "../util/html.ts";
import { RUN_PAGE_CSS } from "./run_page_style.ts";

/** The page's name in the reports folder. */
export const RUN_PAGE = "index.html";

/** How many benign and skipped files the page lists; the log has the rest. */
export const LISTED_OTHER_FILES = 1000;

/** What `summary.json` holds: the run's end. */
export interface RunSummary {
  version: string;
  started: string;
  finished: string;
  seconds: number;
  /** The input folder or file; none when the files came from --files-from. */
  input?: string;
  /** The target: an appliance, gateway or cloud URL. */
  appliance: string;
  folders: Folders;
  reports_dir: string;
  counts: DisposeCounts & { extraction?: ExtractionCounts };
  /** Where cleaned copies went (`--clean`, with `--extract`). */
  clean_dir?: string;
  interrupted: boolean;
  /** Why the run stopped, when it stopped early. */
  error?: string;
  exit_code: number;
  /** A snapshot of a run still going (a watch service). */
  running?: boolean;
}

/** One pass over this run's events, in order; `containing` as in `readLogEvents`. */
export type RunEvents = (containing?: string) => AsyncIterable<LogEvent>;

/** What the page is made of. */
export interface RunPageSource {
  summary: RunSummary;
  /** Read once per section of the table, so each call starts again. */
  events: RunEvents;
  /** How many benign and skipped files to list (default {@linkcode LISTED_OTHER_FILES}). */
  listed?: number;
}

/**
 * Text from the tree, the appliance or the user, safe as HTML text and as a
 * quoted attribute value; control characters are shown as escapes.
 *
 * @example A hostile name
 * ```ts
 * import { htmlText } from "./run_page.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   htmlText(`<script>"x"&'y'\n.pdf`),
 *   "&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;\\n.pdf",
 * );
 * ```
 */
export function htmlText(text: string): string {
  return escapeHtml(escapeControl(text));
}

/**
 * A link from the page (in `reportsDir`) to `target`: relative, with each
 * path segment percent-encoded, when the target is inside the reports
 * folder; otherwise a `file://` URL.
 *
 * @example Links relative to the page, and outside the reports folder
 * ```ts
 * import { linkFromPage } from "./run_page.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   linkFromPage("/rep", "/rep/a b/#1?.docm_report/report.html"),
 *   "a%20b/%231%3F.docm_report/report.html",
 * );
 * assert.equal(linkFromPage("/rep", "/elsewhere/x"), "file:///elsewhere/x");
 * ```
 */
export function linkFromPage(reportsDir: string, target: string): string {
  const rel = relative(reportsDir, target);
  if (rel === "" || rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    return pathToFileURL(target).href;
  }
  return rel.split(sep).map((segment) => encodeURIComponent(segment.toWellFormed())).join("/");
}

const COUNT = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

function count(n: number): string {
  return COUNT.format(n);
}

function settledFiles(counts: DisposeCounts): number {
  return counts.benign + counts.malicious + counts.error + counts.skipped;
}

/** The counts the page shows, in order; the first four are the outcomes, which add up. */
const COUNTED: readonly {
  key: Exclude<keyof DisposeCounts, "left_in_place" | "excluded">;
  label: string;
}[] = [
  { key: "benign", label: "Benign" },
  { key: "malicious", label: "Malicious" },
  { key: "error", label: "Unresolved" },
  { key: "skipped", label: "Skipped" },
  { key: "uploaded", label: "Uploaded" },
  { key: "duplicates", label: "Same content" },
];
const OUTCOMES = 4;
/** Shown first, and only when there are any: malicious files that are not in the quarantine. */
const UNCONTAINED: readonly {
  key: (typeof COUNTED)[number]["key"] | "uncontained";
  label: string;
}[] = [
  { key: "uncontained", label: "Not quarantined" },
];

function countList(counts: DisposeCounts): string {
  const items = [
    `<div class="count files"><dt>Files</dt><dd data-count="files">${
      count(settledFiles(counts))
    }</dd></div>`,
    ...[...(counts.uncontained ? UNCONTAINED : []), ...COUNTED].map(({ key, label }) =>
      `<div class="count ${key}"><dt>${label}</dt><dd data-count="${key}">${
        count(counts[key])
      }</dd></div>`
    ),
  ];
  return `<dl class="counts">\n${items.join("\n")}\n</dl>\n`;
}

const CHART = { label: 110, bar: 360, row: 30, gap: 16, top: 8, width: 560 };

/**
 * The counts as an SVG bar chart: one labelled bar per count, scaled to the
 * number of files, with a title for screen readers and a tooltip per bar.
 *
 * @example One malicious file of four
 * ```ts
 * import { outcomeChart } from "./run_page.ts";
 * import assert from "node:assert/strict";
 *
 * const svg = outcomeChart({
 *   benign: 3,
 *   malicious: 1,
 *   error: 0,
 *   skipped: 0,
 *   uploaded: 4,
 *   duplicates: 0,
 *   bytes: 0,
 *   uncontained: 0,
 * });
 * assert.match(svg, /<g data-bar="malicious"><title>Malicious: 1 of 4 files<\/title>/);
 * ```
 */
export function outcomeChart(counts: DisposeCounts): string {
  const files = settledFiles(counts);
  const height = CHART.top * 2 + COUNTED.length * CHART.row + CHART.gap;
  const bars = COUNTED.map(({ key, label }, i) => {
    const y = CHART.top + i * CHART.row + (i >= OUTCOMES ? CHART.gap : 0);
    const n = counts[key];
    const width = n === 0 ? 0 : Math.max(2, Math.round((n / Math.max(files, n)) * CHART.bar));
    return `<g data-bar="${key}"><title>${label}: ${count(n)} of ${count(files)} files</title>` +
      `<text x="${CHART.label - 8}" y="${y + 15}" text-anchor="end">${label}</text>` +
      `<rect class="${key}" x="${CHART.label}" y="${y}" width="${width}" height="20" rx="2"/>` +
      `<text class="n" x="${CHART.label + width + 6}" y="${y + 15}">${count(n)}</text></g>`;
  });
  const split = CHART.top + OUTCOMES * CHART.row + CHART.gap / 2 - 5;
  const description = COUNTED.map(({ key, label }) =>
    `${label.toLowerCase()} ${count(counts[key])}`
  )
    .join(", ");
  return `<svg class="chart" role="img" aria-labelledby="chart-title chart-desc" ` +
    `viewBox="0 0 ${CHART.width} ${height}" width="${CHART.width}" height="${height}">\n` +
    `<title id="chart-title">Files by outcome</title>\n` +
    `<desc id="chart-desc">Of ${count(files)} files: ${description}.</desc>\n` +
    `<line x1="${CHART.label}" x2="${CHART.label + CHART.bar}" y1="${split}" y2="${split}"/>\n` +
    bars.join("\n") + "\n</svg>\n";
}

/** One sentence for the top of the page: what needs doing. */
function headline(summary: RunSummary): { tone: string; text: string } {
  const c = summary.counts;
  if (summary.error && !c.uncontained) {
    return { tone: "stopped", text: `Stopped: ${summary.error}` };
  }
  if (summary.interrupted && !c.uncontained) {
    return { tone: "stopped", text: "Interrupted: files not yet settled were left in place" };
  }
  if (c.uncontained > 0) {
    const text = `${count(c.uncontained)} malicious ${plural(c.uncontained)} NOT quarantined`;
    return { tone: "uncontained", text };
  }
  if (c.malicious > 0) {
    return { tone: "malicious", text: `${count(c.malicious)} malicious ${plural(c.malicious)}` };
  }
  if (c.error > 0) {
    return { tone: "error", text: `${count(c.error)} unresolved ${plural(c.error)}` };
  }
  return settledFiles(c) === 0
    ? { tone: "benign", text: "Nothing to scan" }
    : { tone: "benign", text: "Every scanned file is benign" };
}

function plural(n: number): string {
  return n === 1 ? "file" : "files";
}

function pageHead(summary: RunSummary): string {
  const { tone, text } = headline(summary);
  return `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">\n` +
    `<title>te-scan run ${htmlText(summary.finished)}: ${htmlText(text)}</title>\n` +
    `<style>${RUN_PAGE_CSS}</style>\n</head>\n<body>\n<header>\n<h1>te-scan run</h1>\n` +
    `<p class="headline ${tone}" data-exit-code="${summary.exit_code}">${htmlText(text)}</p>\n` +
    `</header>\n<main>\n`;
}

function countsSection(counts: DisposeCounts): string {
  return `<section id="counts">\n<h2>Outcome</h2>\n${countList(counts)}${outcomeChart(counts)}` +
    `</section>\n`;
}

function folderOrNone(folder: string | undefined, dryRun: boolean): string {
  if (dryRun) return "— (dry run: nothing moved)";
  return folder ?? "— (left in place)";
}

function modeOf(summary: RunSummary, start: LogEvent | undefined): string {
  if (start?.dry_run === true) return "dry run: hashes looked up, nothing uploaded or moved";
  const { benign, malicious, error } = summary.folders;
  if (!benign && !malicious && !error) return "report only: every file left in place";
  return start?.copy === true ? "copy (the input is left untouched)" : "move";
}

/** The settings table's rows: label, data-setting name, text. */
function settingRows(summary: RunSummary, start: LogEvent | undefined): [string, string, string][] {
  const dryRun = start?.dry_run === true;
  const files = settledFiles(summary.counts);
  const rate = summary.seconds > 0 ? files / summary.seconds : 0;
  const rows: [string, string, string][] = [
    ["Target", "target", summary.appliance],
    ["Input", "input", summary.input ?? "the files --files-from listed"],
    ["Benign folder", "benign", folderOrNone(summary.folders.benign, dryRun)],
    ["Quarantine", "quarantine", folderOrNone(summary.folders.malicious, dryRun)],
    ["Error folder", "error", folderOrNone(summary.folders.error, dryRun)],
    ["Reports folder", "reports", summary.reports_dir],
    ...extractionRows(summary),
    ["Mode", "mode", modeOf(summary, start)],
    ["Started", "started", summary.started],
    [summary.running ? "Updated (still running)" : "Finished", "finished", summary.finished],
    ["Duration", "duration", formatDuration(summary.seconds)],
    ["Rate", "rate", `${rate < 10 ? rate.toFixed(1) : count(rate)} files/s`],
    ["Data scanned", "bytes", formatSize(summary.counts.bytes)],
    ["Interrupted", "interrupted", summary.interrupted ? "yes" : "no"],
  ];
  const left = summary.counts.left_in_place;
  if (left) rows.push(["Left in place", "left-in-place", `${count(left)} (the run stopped)`]);
  if (summary.error) rows.push(["Stopped because", "stopped", summary.error]);
  rows.push(["Exit code", "exit-code", String(summary.exit_code)]);
  rows.push(["te-scan", "version", summary.version]);
  return rows;
}

/** The settings rows of Threat Extraction: where cleaned copies went and how many were made. */
function extractionRows(summary: RunSummary): [string, string, string][] {
  const made = summary.counts.extraction;
  if (!summary.clean_dir || !made) return [];
  return [
    ["Cleaned copies", "clean", summary.clean_dir],
    [
      "Extraction",
      "extraction",
      `${count(made.cleaned)} cleaned, ${count(made.failed)} failed, ${count(made.skipped)} ` +
      `nothing to clean`,
    ],
  ];
}

function settingsSection(summary: RunSummary, start: LogEvent | undefined): string {
  const rows = settingRows(summary, start).map(([label, key, value]) =>
    `<tr><th scope="row">${label}</th><td data-setting="${key}">${htmlText(value)}</td></tr>`
  );
  return `<section id="run">\n<h2>Run</h2>\n<table class="settings">\n${rows.join("\n")}\n` +
    `</table>\n</section>\n`;
}

/** The run's start event (dry run, copy), the first of its events. */
async function startOf(events: RunEvents): Promise<LogEvent | undefined> {
  for await (const event of events('"event":"start"')) return event;
  return undefined;
}

/**
 * Renders the page, piece by piece. Reads `events` four times: the start
 * event, then the malicious, the unresolved, and the other files.
 */
export async function* renderRunPage(source: RunPageSource): AsyncGenerator<string> {
  const { summary } = source;
  const start = await startOf(source.events);
  yield pageHead(summary);
  yield countsSection(summary.counts);
  yield settingsSection(summary, start);
  const listed = source.listed ?? LISTED_OTHER_FILES;
  for (const section of fileSections(summary.counts, listed)) {
    yield* fileSection(section, source);
  }
  yield pageFoot(summary);
}

function pageFoot(summary: RunSummary): string {
  return `</main>\n<footer>\n<p>Every event of this run is in <a href="te-scan.log.jsonl">` +
    `te-scan.log.jsonl</a> (appended to by every run); its counts are in ` +
    `<a href="summary.json">summary.json</a>. Written by te-scan ${htmlText(summary.version)} ` +
    `at ${htmlText(summary.finished)}.</p>\n</footer>\n</body>\n</html>\n`;
}

/** One table of files: which states, how many the summary counted, how many to list. */
interface FileSection {
  id: string;
  title: string;
  states: readonly string[];
  /** Only the uncontained files (true), or none of them (false). */
  uncontained?: boolean;
  /** A text every line of these files holds (a sieve before parsing). */
  containing: string;
  total: number;
  listed: number;
}

function fileSections(counts: DisposeCounts, listed: number): FileSection[] {
  return [
    {
      id: "uncontained",
      title: "Malicious files NOT quarantined (still where they were)",
      states: ["malicious"],
      uncontained: true,
      containing: '"uncontained":true',
      total: counts.uncontained,
      listed: Infinity,
    },
    {
      id: "malicious",
      title: "Malicious files",
      states: ["malicious"],
      uncontained: false,
      containing: '"state":"malicious"',
      total: counts.malicious - counts.uncontained,
      listed: Infinity,
    },
    {
      id: "unresolved",
      title: "Unresolved files",
      states: ["error"],
      containing: '"state":"error"',
      total: counts.error,
      listed: Infinity,
    },
    {
      id: "other",
      title: "Benign and skipped files",
      states: ["benign", "skipped"],
      containing: '"event":"file"',
      total: counts.benign + counts.skipped,
      listed,
    },
  ];
}

const TABLE_HEAD = `<table class="files">\n<thead><tr><th scope="col">File</th>` +
  `<th scope="col">Outcome</th><th scope="col">Destination</th><th scope="col">Reason</th>` +
  `<th scope="col">Links</th></tr></thead>\n<tbody>\n`;

async function* fileSection(section: FileSection, source: RunPageSource): AsyncGenerator<string> {
  yield `<section id="${section.id}">\n<h2>${section.title} ` +
    `<span class="n">(${count(section.total)})</span></h2>\n`;
  let shown = 0;
  for await (const event of source.events(section.containing)) {
    if (shown >= section.listed) break;
    const record = listedFileOf(event);
    if (!record || !section.states.includes(record.state)) continue;
    const uncontained = record.uncontained === true;
    if (section.uncontained !== undefined && section.uncontained !== uncontained) continue;
    if (shown === 0) yield TABLE_HEAD;
    yield await fileRow(record, source.summary.reports_dir);
    shown++;
  }
  yield shown === 0 ? `<p class="none">None.</p>\n` : `</tbody>\n</table>\n`;
  const more = section.total - shown;
  if (shown >= section.listed && more > 0) {
    yield `<p class="more" data-more="${more}">and ${count(more)} more — see ` +
      `<a href="te-scan.log.jsonl">te-scan.log.jsonl</a></p>\n`;
  }
  yield `</section>\n`;
}

/** What a row shows of a settled file's record. */
type ListedFile =
  & Pick<
    FileRecord,
    | "relPath"
    | "verdict"
    | "destination"
    | "reason"
    | "duplicateOf"
    | "responseFile"
    | "reportDir"
    | "reportFiles"
    | "early"
    | "uncontained"
    | "threat"
    | "cleanedFile"
  >
  & { state: string; extractionText?: string };

/** A log event's `threat`, its fields checked (the log is read back, not trusted). */
function threatOf(value: unknown): ThreatFinding | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const fields = value as Record<string, unknown>;
  const source = fields.source;
  if (source !== "te" && source !== "te_eb" && source !== "av") return undefined;
  const threat: ThreatFinding = { source };
  for (const key of ["severity", "confidence"] as const) {
    if (typeof fields[key] === "number") threat[key] = fields[key];
  }
  for (const key of ["severityName", "confidenceName", "name", "decidedBy"] as const) {
    if (typeof fields[key] === "string") threat[key] = fields[key];
  }
  return threat;
}

/** The record a log event carries, if it is a settled file's event (its text fields only). */
function listedFileOf(event: LogEvent): ListedFile | undefined {
  const text = (key: string) => typeof event[key] === "string" ? event[key] as string : undefined;
  const state = text("state");
  const relPath = text("relPath") ?? text("file");
  // A `stranded` event is a file a lost journal left in quarantine (see `lib/fs/stranded.ts`).
  const listed = event.event === "file" || event.event === "stranded";
  if (!listed || state === undefined || relPath === undefined) return undefined;
  const reportFiles = Array.isArray(event.reportFiles)
    ? event.reportFiles.filter((f): f is string => typeof f === "string")
    : undefined;
  return {
    relPath,
    state,
    verdict: text("verdict"),
    destination: text("destination"),
    reason: text("reason"),
    duplicateOf: text("duplicateOf"),
    responseFile: text("responseFile"),
    reportDir: text("reportDir"),
    reportFiles,
    early: event.early === true,
    uncontained: event.uncontained === true ? true : undefined,
    threat: threatOf(event.threat),
    cleanedFile: text("cleanedFile"),
    extractionText: extractionTextOf(event.extraction),
  };
}

/** A file's extraction result as its row says it, e.g. "extraction failed: Password protected". */
function extractionTextOf(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { status, result } = value as Record<string, unknown>;
  if (typeof status !== "string" || typeof result !== "string") return undefined;
  if (status === "cleaned") return "cleaned copy made";
  return status === "failed" ? `extraction failed: ${result}` : `extraction: ${result}`;
}

const OUTCOME_LABEL: Record<string, string> = {
  benign: "benign",
  malicious: "malicious",
  error: "unresolved",
  skipped: "skipped",
};

function outcomeText(record: ListedFile): string {
  const label = OUTCOME_LABEL[record.state] ?? record.state;
  const verdict = record.verdict && record.verdict.toLowerCase() !== record.state
    ? ` (verdict ${record.verdict})`
    : "";
  return label + verdict + (record.early ? ", early verdict" : "");
}

function reasonText(record: ListedFile): string {
  const same = record.duplicateOf ? `same content as ${record.duplicateOf}` : "";
  const { reason } = record;
  // An AV detection's reason names the signature already.
  const threat = record.threat ? describeThreat(record.threat, reason) : "";
  return [record.extractionText ?? "", threat, reason ?? "", same].filter(Boolean).join("; ");
}

async function fileRow(record: ListedFile, reportsDir: string): Promise<string> {
  const links: string[] = [];
  if (record.state === "malicious") {
    const report = await reportOf(record);
    if (report) {
      const href = htmlText(linkFromPage(reportsDir, report.path) + (report.folder ? "/" : ""));
      links.push(`<a data-report href="${href}">report</a>`);
    } else links.push(`<span class="none">no report</span>`);
  }
  if (record.responseFile) {
    const href = htmlText(linkFromPage(reportsDir, record.responseFile));
    links.push(`<a data-response href="${href}">response</a>`);
  }
  if (record.cleanedFile) {
    const href = htmlText(linkFromPage(reportsDir, record.cleanedFile));
    links.push(`<a data-cleaned href="${href}">cleaned copy</a>`);
  }
  const destination = record.destination ?? "— (left in place)";
  const flag = record.uncontained ? ` class="uncontained" data-uncontained` : "";
  return `<tr data-state="${htmlText(record.state)}"${flag}>` +
    `<td class="path">${htmlText(record.relPath)}</td>` +
    `<td class="outcome">${htmlText(outcomeText(record))}</td>` +
    `<td class="path">${htmlText(destination)}</td>` +
    `<td>${htmlText(reasonText(record))}</td>` +
    `<td class="links">${links.join(" ")}</td></tr>\n`;
}

/**
 * Where a malicious file's report opens: `report.html` in its extracted
 * folder, else the folder's first HTML file, else the folder itself, else
 * the report archive.
 */
async function reportOf(
  record: ListedFile,
): Promise<{ path: string; folder: boolean } | undefined> {
  if (record.reportDir) {
    const html = await firstHtmlFile(record.reportDir);
    if (html) return { path: html, folder: false };
    if (await isFolder(record.reportDir)) return { path: record.reportDir, folder: true };
  }
  const archive = record.reportFiles?.[0];
  return archive ? { path: archive, folder: false } : undefined;
}

async function firstHtmlFile(folder: string): Promise<string | undefined> {
  const preferred = join(folder, "report.html");
  if (await isFile(preferred)) return preferred;
  try {
    const names: string[] = [];
    for await (const entry of Deno.readDir(folder)) {
      if (entry.isFile && /\.html?$/i.test(entry.name)) names.push(entry.name);
    }
    return names.length ? join(folder, names.sort()[0]) : undefined;
  } catch {
    return undefined;
  }
}

async function isFile(path: string): Promise<boolean> {
  return (await Deno.lstat(path).catch(() => undefined))?.isFile ?? false;
}

async function isFolder(path: string): Promise<boolean> {
  return (await Deno.lstat(path).catch(() => undefined))?.isDirectory ?? false;
}

/** Where to write the page and what it is made of. */
export interface RunPageFile {
  summary: RunSummary;
  /** The run log, and the byte this run's events start at (`RunLog.start`). */
  logPath: string;
  logStart: number;
  /** The run's temporary folder (`REP/.te-scan/tmp`). */
  tempDir?: string;
}

/**
 * Writes `REP/index.html` for a finished run (replacing the last run's,
 * whole), reading this run's events from the log; returns its path.
 */
export async function writeRunPage(page: RunPageFile): Promise<string> {
  const events: RunEvents = (containing) =>
    readLogEvents(page.logPath, page.logStart, { containing });
  const path = join(page.summary.reports_dir, RUN_PAGE);
  await replaceFileStreamed(path, () => renderRunPage({ summary: page.summary, events }), {
    tempDir: page.tempDir,
  });
  return path;
}
