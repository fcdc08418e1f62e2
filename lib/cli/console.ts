/**
 * What the user sees: one line per file on stdout (or one JSON object per
 * event with `--json`), warnings on stderr, a live progress line on a
 * terminal that degrades to a plain line every 10 s when stderr is a file
 * or a pipe, and the closing table.
 *
 * @example
 * ```ts
 * import { Reporter } from "./console.ts";
 * const reporter = new Reporter({ json: false, quiet: false });
 * reporter.warn("appliance slow to answer");
 * ```
 * @module
 */

import type { DisposeCounts, FileRecord } from "../pipeline/dispose.ts";
import { formatSize } from "../fs/size.ts";

/** How to talk. */
export interface ReporterOptions {
  json: boolean;
  quiet: boolean;
  /** Where lines go; default stdout/stderr. For tests and the demo. */
  out?: (line: string) => void;
  err?: (line: string) => void;
  /** Whether stderr is a terminal (live progress); default: asks Deno. */
  interactive?: boolean;
}

const encoder = new TextEncoder();

function writeLine(stream: typeof Deno.stdout | typeof Deno.stderr, line: string): void {
  try {
    const bytes = encoder.encode(line + "\n");
    let offset = 0;
    while (offset < bytes.length) offset += stream.writeSync(bytes.subarray(offset));
  } catch (error) {
    // A closed pipe (`te-scan … | head`) must not fail the scan.
    if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
  }
}

function useColor(): boolean {
  try {
    return !Deno.noColor && Deno.stdout.isTerminal();
  } catch {
    return false;
  }
}

const COLOR: Record<string, string> = {
  benign: "\x1b[32m",
  malicious: "\x1b[1;31m",
  error: "\x1b[33m",
  skipped: "\x1b[2m",
};

/**
 * The console side of a run.
 *
 * @example
 * ```ts
 * import { Reporter } from "./console.ts";
 * const lines: string[] = [];
 * const reporter = new Reporter({ json: true, quiet: false, out: (l) => lines.push(l) });
 * reporter.event({ event: "start" });
 * ```
 */
export class Reporter {
  readonly #options: ReporterOptions;
  readonly #out: (line: string) => void;
  readonly #err: (line: string) => void;
  readonly #interactive: boolean;
  readonly #color: boolean;
  readonly #started = performance.now();
  #counts?: DisposeCounts;
  #lastProgress = performance.now();
  #progressShown = false;
  #timer?: ReturnType<typeof setInterval>;

  constructor(options: ReporterOptions) {
    this.#options = options;
    this.#out = options.out ?? ((line) => writeLine(Deno.stdout, line));
    this.#err = options.err ?? ((line) => writeLine(Deno.stderr, line));
    let interactive = options.interactive;
    if (interactive === undefined) {
      try {
        interactive = Deno.stderr.isTerminal();
      } catch {
        interactive = false;
      }
    }
    this.#interactive = interactive && !options.json;
    this.#color = !options.out && useColor() && !options.json;
  }

  #clearProgress(): void {
    if (this.#progressShown && this.#interactive) {
      try {
        Deno.stderr.writeSync(encoder.encode("\r\x1b[2K"));
      } catch { /* the terminal went away */ }
      this.#progressShown = false;
    }
  }

  /** Starts showing progress from these live counts. */
  track(counts: DisposeCounts): void {
    this.#counts = counts;
    if (this.#options.json || this.#options.quiet) return;
    this.#timer = setInterval(() => this.#progress(), this.#interactive ? 250 : 10_000);
  }

  #progress(): void {
    const c = this.#counts;
    if (!c) return;
    const done = c.benign + c.malicious + c.error + c.skipped;
    const seconds = (performance.now() - this.#started) / 1000;
    const rate = seconds > 0 ? Math.round(done / seconds) : 0;
    const text = `${done} files · ${c.benign} benign · ${c.malicious} malicious · ` +
      `${c.error} errors · ${c.skipped} skipped · ${rate} files/s`;
    if (this.#interactive) {
      try {
        Deno.stderr.writeSync(encoder.encode(`\r\x1b[2K${text}`));
        this.#progressShown = true;
      } catch { /* the terminal went away */ }
    } else if (performance.now() - this.#lastProgress >= 9_000) {
      this.#err(`progress: ${text}`);
    }
    this.#lastProgress = performance.now();
  }

  /** A settled file. */
  file(record: FileRecord): void {
    if (this.#options.json) {
      // An early quarantine is not the file's last word: a "file" event follows.
      const event = record.disposition === "early" ? "early" : "file";
      this.#out(JSON.stringify({ event, ...record }));
      return;
    }
    if (this.#options.quiet && record.state !== "malicious" && record.state !== "error") return;
    this.#clearProgress();
    const label = record.disposition === "early" ? "MALICIOUS*" : record.state.toUpperCase();
    const padded = label.padEnd(10);
    const shown = this.#color ? `${COLOR[record.state] ?? ""}${padded}\x1b[0m` : padded;
    const where = record.destination ? ` -> ${record.destination}` : "";
    const why = record.reason ? `  (${record.reason})` : "";
    const report = record.reportDir ? `  report: ${record.reportDir}` : "";
    const dup = record.duplicateOf ? `  same content as ${record.duplicateOf}` : "";
    this.#out(`${shown} ${record.relPath}${where}${report}${dup}${why}`);
  }

  /** A JSON event (only in --json mode). */
  event(event: Record<string, unknown>): void {
    if (this.#options.json) this.#out(JSON.stringify(event));
  }

  /** A passing problem: the run goes on. */
  warn(message: string): void {
    this.#clearProgress();
    if (this.#options.json) this.#out(JSON.stringify({ event: "warning", message }));
    else this.#err(`te-scan: warning: ${message}`);
  }

  /** A one-line error. */
  error(message: string): void {
    this.#clearProgress();
    if (this.#options.json) this.#out(JSON.stringify({ event: "error", message }));
    this.#err(`te-scan: ${message}`);
  }

  /** Stops progress and prints the closing table. */
  finish(summary: { counts: DisposeCounts; seconds: number; lines: [string, string][] }): void {
    clearInterval(this.#timer);
    this.#clearProgress();
    if (this.#options.json) return;
    const c = summary.counts;
    const total = c.benign + c.malicious + c.error + c.skipped;
    const rows: [string, string][] = [
      ["files", String(total)],
      ["benign", String(c.benign)],
      ["malicious", String(c.malicious)],
      ["errors", String(c.error)],
      ["skipped", String(c.skipped)],
      ["uploaded", String(c.uploaded)],
      ["same content", String(c.duplicates)],
      ["scanned", formatSize(c.bytes)],
      ["time", `${summary.seconds.toFixed(1)} s`],
      ...summary.lines,
    ];
    const width = Math.max(...rows.map(([key]) => key.length));
    this.#out("");
    for (const [key, value] of rows) this.#out(`  ${key.padEnd(width)}  ${value}`);
  }
}
