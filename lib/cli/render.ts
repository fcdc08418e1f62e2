/**
 * What the console shows, as pure functions of what happened: the line of a
 * settled file, the progress line, the closing table, warnings. They hold no
 * state and write nothing (the Reporter keeps the state, the Terminal owns
 * the writing), so every string the user sees is tested here exactly.
 *
 * Names and reasons come from the scanned tree and from the appliance, so
 * anything that could act on a terminal (a newline that fakes an output
 * line, an escape that moves the cursor, a bidirectional override that
 * reorders what is shown) is printed as a visible escape instead.
 *
 * @example A file line and a warning
 * ```ts
 * import { renderFileLine, renderWarning } from "./render.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   renderFileLine({
 *     relPath: "a/ok.txt",
 *     state: "benign",
 *     size: 3,
 *     disposition: "moved",
 *     destination: "/out/a/ok.txt",
 *   }),
 *   "BENIGN     a/ok.txt -> /out/a/ok.txt",
 * );
 * assert.equal(renderWarning("slow\nappliance"), "te-scan: warning: slow\\nappliance");
 * ```
 * @module
 */

import type { DisposeCounts, FileRecord } from "../pipeline/dispose.ts";
import type { RunProgress } from "../pipeline/progress.ts";
import { formatSize } from "../fs/size.ts";
import { isControlOrBidi } from "../fs/run_log.ts";
import { describeThreat } from "../pipeline/threat.ts";

/** The gauges the progress line reads (a `RunProgress` or a plain object). */
export type ProgressGauges = Pick<
  RunProgress,
  "found" | "walkDone" | "hashing" | "querying" | "uploading" | "emulating"
>;

/** Files of one kind for the closing table: the first few, and how many in all. */
export interface ListedFiles {
  shown: readonly FileRecord[];
  total: number;
}

/** What the closing table is made of. */
export interface ClosingTable {
  counts: DisposeCounts;
  seconds: number;
  logPath: string;
  summaryPath: string;
  /** Files whose final state is malicious (the uncontained ones aside, when listed). */
  malicious: ListedFiles;
  /** Malicious files that could not be quarantined: listed first. */
  uncontained?: ListedFiles;
  /** Files that ended unresolved (state `error`), with their reasons. */
  unresolved: ListedFiles;
  /** Files whose requested cleaned copy could not be made (`--extract`). */
  failedCleanings?: ListedFiles;
  /** Why the run stopped early, when it did. */
  stopped?: string;
}

/** How many files of each kind the closing table names; the log has the rest. */
export const LISTED_FILES = 20;

const ESC = 0x1b;
const RESET = "\x1b[0m";
const SEPARATOR = " · ";
const NAMED_ESCAPES: Record<number, string> = { 0x09: "\\t", 0x0a: "\\n", 0x0d: "\\r" };
const STATE_COLOR: Record<FileRecord["state"], string> = {
  benign: "\x1b[32m",
  malicious: "\x1b[1;31m",
  error: "\x1b[33m",
  skipped: "\x1b[2m",
};

function actsOnTerminal(code: number): boolean {
  return code === 0xfffd || isControlOrBidi(code); // U+FFFD: a name that was not valid UTF-8
}

function escapeOf(code: number): string {
  if (NAMED_ESCAPES[code]) return NAMED_ESCAPES[code];
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`;
}

/**
 * Replaces every character that could act on a terminal (C0 and C1
 * controls, DEL, U+FFFD, line and paragraph separators, bidirectional
 * controls) with a visible escape: `\n`, `\r`, `\t`, `\x1b`, `\u{202e}`.
 * Everything else, backslashes included, is left as it is.
 *
 * @example A name that tries to fake a line and to clear the screen
 * ```ts
 * import { escapeControl } from "./render.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(escapeControl("a\nBENIGN x\x1b[2J"), "a\\nBENIGN x\\x1b[2J");
 * assert.equal(escapeControl("caf\u00e9 r\u00e9sum\u00e9.pdf"), "caf\u00e9 r\u00e9sum\u00e9.pdf");
 * assert.equal(escapeControl("bad\ufffd\u202e"), "bad\\u{fffd}\\u{202e}");
 * ```
 */
export function escapeControl(text: string): string {
  let out = "";
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!actsOnTerminal(code)) continue;
    out += text.slice(from, i) + escapeOf(code);
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

/**
 * Cuts text to `width` columns, counting one column per code point and none
 * for ANSI escape sequences, which are never cut in half. A cut text ends
 * with `…` (and a colour reset when it holds escape sequences).
 *
 * @example Plain and coloured text cut to 10 columns
 * ```ts
 * import { fitWidth } from "./render.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(fitWidth("short", 10), "short");
 * assert.equal(fitWidth("0123456789abc", 10), "012345678…");
 * assert.equal(fitWidth("\x1b[31m0123456789abc\x1b[0m", 10), "\x1b[31m012345678…\x1b[0m");
 * ```
 */
export function fitWidth(text: string, width: number): string {
  if (visibleWidth(text) <= width) return text;
  if (width < 1) return "";
  let out = "";
  let columns = 0;
  let styled = false;
  for (let i = 0; i < text.length;) {
    const escape = escapeLength(text, i);
    if (escape > 0) {
      out += text.slice(i, i + escape);
      styled = true;
      i += escape;
      continue;
    }
    if (columns === width - 1) break;
    const char = String.fromCodePoint(text.codePointAt(i)!);
    out += char;
    columns++;
    i += char.length;
  }
  return out + "…" + (styled ? RESET : "");
}

/** Length of the ANSI escape sequence at `i` (CSI `ESC [ … final` or `ESC x`), or 0. */
function escapeLength(text: string, i: number): number {
  if (text.charCodeAt(i) !== ESC) return 0;
  if (text[i + 1] !== "[") return Math.min(2, text.length - i);
  let end = i + 2;
  // Parameter and intermediate bytes run up to a final byte in @..~.
  while (end < text.length && !isFinalByte(text.charCodeAt(end))) end++;
  return Math.min(end + 1, text.length) - i;
}

function isFinalByte(code: number): boolean {
  return code >= 0x40 && code <= 0x7e;
}

function visibleWidth(text: string): number {
  let columns = 0;
  for (let i = 0; i < text.length;) {
    const escape = escapeLength(text, i);
    if (escape > 0) {
      i += escape;
      continue;
    }
    i += text.codePointAt(i)! > 0xffff ? 2 : 1;
    columns++;
  }
  return columns;
}

function describeFindings(record: FileRecord): string {
  const signature = record.av?.signature ? `  AV: ${record.av.signature}` : "";
  // A name the line shows already (AV's signature, an AV early verdict's reason) is not repeated.
  const about = record.threat
    ? describeThreat(record.threat, signature + (record.reason ?? ""))
    : "";
  // The reason of an AV detection already names the signature: said once, not twice.
  const named = record.av?.signature &&
    record.reason?.includes(`anti-virus: ${record.av.signature}`);
  const av = (about ? `  ${about}` : "") + (named ? "" : signature);
  const extraction = record.extraction;
  // Nothing to remove is the common case: only a cleaning made or failed is worth a word.
  if (!extraction || extraction.status === "skipped") return av;
  const cleaned = record.cleanedFile ? ` -> ${record.cleanedFile}` : "";
  const failed = extraction.status === "failed" ? " failed" : "";
  return `${av}  extraction${failed}: ${extraction.result}${cleaned}`;
}

function describeFile(record: FileRecord): string {
  // An uncontained file's reason starts with where it is: NOT quarantined, in plain words.
  const where = record.destination && !record.uncontained ? ` -> ${record.destination}` : "";
  const report = record.reportDir ? `  report: ${record.reportDir}` : "";
  const dup = record.duplicateOf ? `  same content as ${record.duplicateOf}` : "";
  const why = record.reason ? `  (${record.reason})` : "";
  return escapeControl(
    `${record.relPath}${where}${report}${describeFindings(record)}${dup}${why}`,
  );
}

/**
 * The line of a settled file: its state (`MALICIOUS*` for an early
 * quarantine, whose final verdict follows), path, where it went, its report
 * folder, a malicious file's severity and confidence (and its threat's
 * name), its AV signature and Threat Extraction result (with where the
 * cleaned copy went), the file it shares content with, and the reason in
 * parentheses. With `color`, the state is coloured.
 *
 * @example An unresolved file whose name holds a newline
 * ```ts
 * import { renderFileLine } from "./render.ts";
 * import assert from "node:assert/strict";
 *
 * const line = renderFileLine({
 *   relPath: "c\nBENIGN fake.bin",
 *   state: "error",
 *   size: 1,
 *   disposition: "moved",
 *   destination: "/err/c\nBENIGN fake.bin",
 *   reason: "1007 FILE_TYPE_NOT_SUPPORTED",
 * });
 * assert.equal(
 *   line,
 *   "ERROR      c\\nBENIGN fake.bin -> /err/c\\nBENIGN fake.bin  (1007 FILE_TYPE_NOT_SUPPORTED)",
 * );
 * ```
 */
export function renderFileLine(record: FileRecord, color = false): string {
  const label = record.disposition === "early" ? "MALICIOUS*" : record.state.toUpperCase();
  const padded = label.padEnd(10);
  const shown = color ? `${STATE_COLOR[record.state]}${padded}${RESET}` : padded;
  return `${shown} ${describeFile(record)}`;
}

/**
 * A warning: the run goes on.
 *
 * @example The line of a warning
 * ```ts
 * import { renderWarning } from "./render.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(renderWarning("appliance slow"), "te-scan: warning: appliance slow");
 * ```
 */
export function renderWarning(message: string): string {
  return `te-scan: warning: ${escapeControl(message)}`;
}

/**
 * An error: one line with the cause.
 *
 * @example The line of an error
 * ```ts
 * import { renderError } from "./render.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(renderError("input folder not found: /x"), "te-scan: input folder not found: /x");
 * ```
 */
export function renderError(message: string): string {
  return `te-scan: ${escapeControl(message)}`;
}

const COUNT = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

function formatCount(n: number): string {
  return COUNT.format(n);
}

/** "1 file", "2 files": a count and its noun. */
function counted(n: number, singular: string, plural = `${singular}s`): string {
  return `${formatCount(n)} ${n === 1 ? singular : plural}`;
}

function formatRate(perSecond: number): string {
  return perSecond < 10 ? perSecond.toFixed(1) : formatCount(Math.round(perSecond));
}

/**
 * A duration for people: tenths of a second below 10 s, then seconds,
 * minutes and seconds, hours and minutes.
 *
 * @example Short, medium and long durations
 * ```ts
 * import { formatDuration } from "./render.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatDuration(2.25), "2.3 s");
 * assert.equal(formatDuration(42), "42 s");
 * assert.equal(formatDuration(65), "1 min 05 s");
 * assert.equal(formatDuration(3725), "1 h 02 min");
 * ```
 */
export function formatDuration(seconds: number): string {
  if (seconds < 9.95) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  if (whole < 3600) {
    return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, "0")} s`;
  }
  const minutes = Math.floor(whole / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

function settled(counts: DisposeCounts): number {
  return counts.benign + counts.malicious + counts.error + counts.skipped;
}

function perSecond(files: number, seconds: number): number {
  return seconds > 0 ? files / seconds : 0;
}

/**
 * The progress line: files settled out of the total with percent, rate and
 * ETA once the walk has finished (before that, how many it has found so
 * far), malicious files and errors when there are any, and how many files
 * are hashing, being asked about, uploading and in emulation. Cut to
 * `width` columns (`Infinity` for no cut); with `color`, malicious files
 * and errors are coloured.
 *
 * @example Before and after the walk has finished
 * ```ts
 * import { renderProgress } from "./render.ts";
 * import assert from "node:assert/strict";
 *
 * const counts = {
 *   benign: 90,
 *   malicious: 0,
 *   error: 0,
 *   skipped: 10,
 *   uploaded: 5,
 *   duplicates: 0,
 *   bytes: 0,
 *   uncontained: 0,
 * };
 * const gauges = {
 *   found: 400,
 *   walkDone: false,
 *   hashing: 2,
 *   querying: 100,
 *   uploading: 1,
 *   emulating: 4,
 * };
 * assert.equal(
 *   renderProgress(counts, gauges, 10, Infinity),
 *   "100 files done · 400 found so far · 10 files/s · hashing 2 · querying 100 · uploading 1 · emulating 4",
 * );
 * assert.equal(
 *   renderProgress(counts, { ...gauges, walkDone: true }, 10, 50),
 *   "100/400 files (25%) · 10 files/s · ETA 30 s · …",
 * );
 * ```
 */
export function renderProgress(
  counts: DisposeCounts,
  gauges: ProgressGauges,
  seconds: number,
  width: number,
  color = false,
): string {
  const done = settled(counts);
  const rate = perSecond(done, seconds);
  const parts: string[] = [];
  if (gauges.walkDone) {
    const total = gauges.found;
    const percent = total > 0 ? Math.min(100, Math.floor((done * 100) / total)) : 100;
    parts.push(`${formatCount(done)}/${formatCount(total)} files (${percent}%)`);
    parts.push(`${formatRate(rate)} files/s`);
    if (rate > 0 && total > done) parts.push(`ETA ${formatDuration((total - done) / rate)}`);
  } else {
    parts.push(`${counted(done, "file")} done`, `${formatCount(gauges.found)} found so far`);
    parts.push(`${formatRate(rate)} files/s`);
  }
  const paint = (code: string, text: string) => color ? `${code}${text}${RESET}` : text;
  if (counts.malicious) {
    parts.push(paint(STATE_COLOR.malicious, `${formatCount(counts.malicious)} malicious`));
  }
  if (counts.error) parts.push(paint(STATE_COLOR.error, counted(counts.error, "error")));
  const stages = [gauges.hashing, gauges.querying, gauges.uploading, gauges.emulating];
  const full = parts.concat(STAGES.map((name, i) => `${name} ${formatCount(stages[i])}`));
  if (visibleWidth(full.join(SEPARATOR)) <= width) return full.join(SEPARATOR);
  // Too wide: the stages in short, then whole parts from the end left out; none is cut.
  const short = parts.concat(SHORT_STAGES.map((name, i) => `${name} ${formatCount(stages[i])}`));
  return wholeParts(short, width);
}

const STAGES = ["hashing", "querying", "uploading", "emulating"];
const SHORT_STAGES = ["hash", "query", "up", "emul"];

/** The first parts that fit in `width` whole, then "…" when some were left out. */
function wholeParts(parts: string[], width: number): string {
  let line = parts[0];
  for (let i = 1; i < parts.length; i++) {
    const longer = line + SEPARATOR + parts[i];
    const room = i === parts.length - 1 ? width : width - SEPARATOR.length - 1;
    if (visibleWidth(longer) > room) return fitWidth(line + SEPARATOR + "…", width);
    line = longer;
  }
  return fitWidth(line, width);
}

function renderListed(title: string, files: ListedFiles, logPath: string): string[] {
  if (files.total === 0) return [];
  const lines = ["", `  ${title}:`, ...files.shown.map((record) => `    ${describeFile(record)}`)];
  const more = files.total - files.shown.length;
  if (more > 0) lines.push(`    and ${formatCount(more)} more (see ${escapeControl(logPath)})`);
  return lines;
}

/**
 * The closing table: the counts, the time and rate, where the log and the
 * summary are; then the malicious files that could not be quarantined, the
 * malicious and the unresolved files (with their
 * reasons), the first {@linkcode LISTED_FILES} of each, so they are not lost
 * in the scroll-back. Starts with a blank line.
 *
 * @example A run with one malicious file
 * ```ts
 * import { renderClosingTable } from "./render.ts";
 * import assert from "node:assert/strict";
 *
 * const bad = {
 *   relPath: "b.exe",
 *   state: "malicious" as const,
 *   size: 9,
 *   disposition: "moved" as const,
 *   destination: "/q/b.exe",
 * };
 * const lines = renderClosingTable({
 *   counts: {
 *     benign: 1,
 *     malicious: 1,
 *     error: 0,
 *     skipped: 0,
 *     uploaded: 2,
 *     duplicates: 0,
 *     bytes: 1536,
 *     uncontained: 0,
 *   },
 *   seconds: 4,
 *   logPath: "/rep/te-scan.log.jsonl",
 *   summaryPath: "/rep/summary.json",
 *   malicious: { shown: [bad], total: 1 },
 *   unresolved: { shown: [], total: 0 },
 * });
 * assert.deepEqual(lines.slice(-3), ["", "  malicious files:", "    b.exe -> /q/b.exe"]);
 * assert.ok(lines.includes("  rate          0.5 files/s"));
 * ```
 */
export function renderClosingTable(table: ClosingTable): string[] {
  const c = table.counts;
  const files = settled(c);
  const rows: [string, string][] = [
    ["files", formatCount(files)],
    ["benign", formatCount(c.benign)],
    ["malicious", formatCount(c.malicious)],
    ...(c.uncontained ? [["NOT QUARANTINED", formatCount(c.uncontained)] as [string, string]] : []),
    ["errors", formatCount(c.error)],
    ["skipped", formatCount(c.skipped)],
    ["uploaded", formatCount(c.uploaded)],
    ["same content", formatCount(c.duplicates)],
    ...(c.excluded ? [["excluded", formatCount(c.excluded)] as [string, string]] : []),
    ...(table.stopped === undefined ? [] : [[
      "left in place",
      `${formatCount(c.left_in_place ?? 0)} (the run stopped: ${escapeControl(table.stopped)})`,
    ] as [string, string]]),
    ["scanned", formatSize(c.bytes)],
    ["time", formatDuration(table.seconds)],
    ["rate", `${formatRate(perSecond(files, table.seconds))} files/s`],
    ["log", escapeControl(table.logPath)],
    ["summary", escapeControl(table.summaryPath)],
  ];
  const width = Math.max(...rows.map(([key]) => key.length));
  return [
    "",
    ...rows.map(([key, value]) => `  ${key.padEnd(width)}  ${value}`),
    ...renderListed(
      "malicious files NOT quarantined (still where they were)",
      table.uncontained ?? { shown: [], total: 0 },
      table.logPath,
    ),
    ...renderListed("malicious files", table.malicious, table.logPath),
    ...renderListed("unresolved files", table.unresolved, table.logPath),
    ...(table.failedCleanings
      ? renderListed("cleaned copies not made", table.failedCleanings, table.logPath)
      : []),
  ];
}
