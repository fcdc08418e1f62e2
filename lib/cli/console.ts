/**
 * The console side of a run: turns run events into what the user sees.
 * Each settled file gets a line on stdout (or, with `--json`, one JSON
 * object per event, warnings included), warnings and errors go to stderr,
 * a live progress line shows while the run goes on, and a closing table
 * ends it, naming the malicious and unresolved files so they are not lost
 * in the scroll-back.
 *
 * The Reporter holds the run's console state (the progress sources, the
 * first files of each kind for the closing table); the strings come from
 * the pure functions in render.ts and are written by the one Terminal.
 *
 * @example A run's lines, captured
 * ```ts
 * import { Reporter } from "./console.ts";
 * import { Terminal } from "./terminal.ts";
 * import assert from "node:assert/strict";
 *
 * const out: string[] = [];
 * const terminal = new Terminal({
 *   out: (t) => out.push(t),
 *   err: () => {},
 *   isTerminal: { out: false, err: false },
 * });
 * const reporter = new Reporter({ json: false, quiet: false, terminal });
 * reporter.file({
 *   relPath: "a/ok.txt",
 *   state: "benign",
 *   size: 3,
 *   disposition: "moved",
 *   destination: "/out/a/ok.txt",
 * });
 * assert.deepEqual(out, ["BENIGN     a/ok.txt -> /out/a/ok.txt\n"]);
 * ```
 * @module
 */

import type { DisposeCounts, FileRecord } from "../pipeline/dispose.ts";
import type { RunProgress } from "../pipeline/progress.ts";
import {
  escapeControl,
  LISTED_FILES,
  type ListedFiles,
  renderClosingTable,
  renderError,
  renderFileLine,
  renderProgress,
  renderWarning,
} from "./render.ts";
import { processTerminal, type Terminal } from "./terminal.ts";
import { jsonLine } from "../fs/run_log.ts";

/** How to talk, and to which terminal. */
export interface ReporterOptions {
  /** One JSON object per event on stdout; no progress, no table. */
  json: boolean;
  /** Only malicious and unresolved files get a line; no progress. */
  quiet: boolean;
  /** Where to write; default the process's terminal. Tests pass their own. */
  terminal?: Terminal;
}

/** What the caller knows at the end of a run, for the closing table. */
export interface RunTotals {
  counts: DisposeCounts;
  seconds: number;
  logPath: string;
  summaryPath: string;
  /** Why the run stopped early, when it did. */
  stopped?: string;
}

/** The first files of one kind and how many there were: memory stays bounded. */
class FirstFiles implements ListedFiles {
  readonly shown: FileRecord[] = [];
  total = 0;

  add(record: FileRecord): void {
    this.total++;
    if (this.shown.length < LISTED_FILES) this.shown.push(record);
  }
}

/**
 * Run events in, console out.
 *
 * @example --json: one object per event, warnings too
 * ```ts
 * import { Reporter } from "./console.ts";
 * import { Terminal } from "./terminal.ts";
 * import assert from "node:assert/strict";
 *
 * const out: string[] = [];
 * const terminal = new Terminal({
 *   out: (t) => out.push(t),
 *   err: () => {},
 *   isTerminal: { out: false, err: false },
 * });
 * const reporter = new Reporter({ json: true, quiet: false, terminal });
 * reporter.event({ event: "start" });
 * reporter.warn("slow appliance");
 * assert.deepEqual(out, [
 *   '{"event":"start"}\n',
 *   '{"event":"warning","message":"slow appliance"}\n',
 * ]);
 * ```
 */
export class Reporter {
  /** Where everything is written. */
  readonly terminal: Terminal;
  readonly #json: boolean;
  readonly #quiet: boolean;
  readonly #malicious = new FirstFiles();
  readonly #uncontained = new FirstFiles();
  readonly #unresolved = new FirstFiles();
  readonly #failedCleanings = new FirstFiles();
  #live?: Disposable;

  constructor(options: ReporterOptions) {
    this.#json = options.json;
    this.#quiet = options.quiet;
    this.terminal = options.terminal ?? processTerminal();
  }

  /** A settled file (or an early quarantine, whose final record follows). */
  file(record: FileRecord): void {
    if (record.disposition !== "early") {
      if (record.uncontained) this.#uncontained.add(record);
      else if (record.state === "malicious") this.#malicious.add(record);
      if (record.state === "error") this.#unresolved.add(record);
      if (record.extraction?.status === "failed") this.#failedCleanings.add(record);
    }
    if (this.#json) {
      // An early quarantine is not the file's last word: a "file" event follows.
      // The same fields as the log's line for this file.
      const event = record.disposition === "early" ? "early" : "file";
      const time = new Date().toISOString();
      this.terminal.out(jsonLine({ time, event, file: record.relPath, ...record }));
      return;
    }
    if (this.#quiet && record.state !== "malicious" && record.state !== "error") return;
    this.terminal.out(renderFileLine(record, this.terminal.color.out));
  }

  /** A JSON event (only in --json mode). */
  event(event: Record<string, unknown>): void {
    if (this.#json) this.terminal.out(jsonLine(event));
  }

  /**
   * A result of a command: with --json its event, otherwise its lines
   * (control characters escaped: they may carry text from the appliance).
   */
  result(event: Record<string, unknown>, ...lines: string[]): void {
    if (this.#json) this.terminal.out(jsonLine(event));
    else this.terminal.out(lines.map(escapeControl).join("\n"));
  }

  /** A passing problem: the run goes on. */
  warn(message: string): void {
    if (this.#json) this.terminal.out(jsonLine({ event: "warning", message }));
    else this.terminal.err(renderWarning(message));
  }

  /** A one-line error (with --json, also as an event on stdout). */
  error(message: string): void {
    if (this.#json) this.terminal.out(jsonLine({ event: "error", message }));
    this.terminal.err(renderError(message));
  }

  /**
   * Shows progress from these live sources until {@linkcode finish}: a live
   * line on a terminal, a plain line every 10 s otherwise, nothing with
   * --json or --quiet.
   */
  track(counts: DisposeCounts, progress: RunProgress): void {
    if (this.#json || this.#quiet) return;
    const started = performance.now();
    const color = this.terminal.color.err;
    this.#live = this.terminal.live((width) => {
      const seconds = (performance.now() - started) / 1000;
      return width === undefined
        ? `progress: ${renderProgress(counts, progress, seconds, Infinity)}`
        : renderProgress(counts, progress, seconds, width, color);
    });
  }

  /** Stops the progress display (safe to call more than once). */
  stopProgress(): void {
    this.#live?.[Symbol.dispose]();
    this.#live = undefined;
  }

  /** Stops progress and prints the closing table. */
  finish(totals: RunTotals): void {
    this.stopProgress();
    if (this.#json) return;
    const table = renderClosingTable({
      ...totals,
      malicious: this.#malicious,
      uncontained: this.#uncontained,
      unresolved: this.#unresolved,
      failedCleanings: this.#failedCleanings,
    });
    this.terminal.out(table.join("\n"));
  }
}
