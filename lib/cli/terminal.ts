/**
 * The one owner of stdout and stderr. Everything the tool prints goes
 * through a {@linkcode Terminal}, so a single place knows whether a live
 * line is on the screen and can clear it before any other line and redraw
 * it after, the way David Sherret's dax keeps its progress bars below the
 * log. What is printed is rendered elsewhere (lib/cli/render.ts); this
 * module only decides where and how it is written:
 *
 * - on a terminal, one live line on stderr, redrawn in place (`\r`, clear
 *   line) and cut to the terminal's width;
 * - when stderr is a file or a pipe, the same text as a plain line every
 *   10 s instead, never a `\r`;
 * - colour only on a terminal and when `NO_COLOR` is not set;
 * - a closed pipe (`te-scan … | head`) ends that stream's output quietly
 *   instead of failing the scan.
 *
 * It is the only module in lib/ that writes to stdout or stderr: deno
 * lint's no-console rule keeps `console` out of lib/ (this module needs no
 * exception: it writes with `writeSync`), and a test keeps `Deno.stdout`
 * and `Deno.stderr` in here. Sinks, terminal detection and width are
 * injectable, for tests.
 *
 * @example A terminal that collects what it prints
 * ```ts
 * import { Terminal } from "./terminal.ts";
 * import assert from "node:assert/strict";
 *
 * const err: string[] = [];
 * const terminal = new Terminal({
 *   out: () => {},
 *   err: (text) => err.push(text),
 *   isTerminal: { out: false, err: true },
 *   columns: () => 80,
 * });
 * using _live = terminal.live(() => "3 files done");
 * terminal.err("te-scan: warning: slow");
 * assert.equal(err.join(""), "\r\x1b[2K3 files done\r\x1b[2Kte-scan: warning: slow\n3 files done");
 * ```
 * @module
 */

import { fitWidth } from "./render.ts";

/** Receives text exactly as it is to be written (newlines included). */
export type Sink = (text: string) => void;

/** Where a terminal writes, and what it is writing to; every field defaults to the process's own. */
export interface TerminalOptions {
  out?: Sink;
  err?: Sink;
  /** Whether stdout and stderr are terminals; default: asks Deno. */
  isTerminal?: { out: boolean; err: boolean };
  /** The terminal's width in columns, or undefined when unknown; default: `Deno.consoleSize()`. */
  columns?: () => number | undefined;
  /** Colour wanted where the stream is a terminal; default: unless `NO_COLOR` is set. */
  color?: boolean;
}

/**
 * The text of the live line, asked for at each redraw: `width` is the
 * number of columns it may take on a terminal, or `undefined` for a plain
 * line in a file or pipe.
 */
export type LiveText = (width: number | undefined) => string;

/** How often the live line is redrawn or, off a terminal, printed. */
export interface LiveOptions {
  /** On a terminal; default 250 ms. */
  redrawMs?: number;
  /** Off a terminal; default 10 s. */
  plainEveryMs?: number;
}

const CLEAR_LINE = "\r\x1b[2K";
const FALLBACK_COLUMNS = 80;

/**
 * A sink writing synchronously to a Deno stream. Writes after the reader
 * has gone (a `BrokenPipe`) are dropped: a closed pipe must not fail a scan.
 *
 * @example What `te-scan … | head` does to a sink
 * ```ts
 * import { streamSink } from "./terminal.ts";
 * import assert from "node:assert/strict";
 *
 * let calls = 0;
 * const sink = streamSink({
 *   writeSync: () => {
 *     calls++;
 *     throw new Deno.errors.BrokenPipe("closed");
 *   },
 * });
 * sink("one\n");
 * sink("two\n"); // dropped without trying
 * assert.equal(calls, 1);
 * ```
 */
export function streamSink(stream: { writeSync(bytes: Uint8Array): number }): Sink {
  const encoder = new TextEncoder();
  let closed = false;
  return (text) => {
    if (closed) return;
    const bytes = encoder.encode(text);
    try {
      let offset = 0;
      while (offset < bytes.length) offset += stream.writeSync(bytes.subarray(offset));
    } catch (error) {
      if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
      closed = true;
    }
  };
}

function askIsTerminal(stream: { isTerminal(): boolean }): boolean {
  try {
    return stream.isTerminal();
  } catch {
    return false;
  }
}

function askColumns(): number | undefined {
  try {
    return Deno.consoleSize().columns;
  } catch {
    // No terminal on stdin, stdout or stderr.
    return undefined;
  }
}

/**
 * Prints lines on stdout and stderr and keeps at most one live line.
 *
 * @example A live line off a terminal: plain lines, no `\r`
 * ```ts
 * import { Terminal } from "./terminal.ts";
 * import assert from "node:assert/strict";
 *
 * const err: string[] = [];
 * const terminal = new Terminal({
 *   err: (text) => err.push(text),
 *   isTerminal: { out: false, err: false },
 * });
 * const live = terminal.live((width) => `progress: 3 files done (width ${width})`);
 * terminal.refresh(); // what the 10 s timer does
 * live[Symbol.dispose]();
 * assert.deepEqual(err, ["progress: 3 files done (width undefined)\n"]);
 * ```
 */
export class Terminal {
  /** Whether stdout and stderr are terminals. */
  readonly isTerminal: { readonly out: boolean; readonly err: boolean };
  /** Whether lines for stdout and stderr may carry colour. */
  readonly color: { readonly out: boolean; readonly err: boolean };
  readonly #out: Sink;
  readonly #err: Sink;
  readonly #columns: () => number | undefined;
  #liveText?: LiveText;
  #timer?: ReturnType<typeof setInterval>;
  /** The live line as it is on the screen now ("" when none is). */
  #shown = "";

  constructor(options: TerminalOptions = {}) {
    this.#out = options.out ?? streamSink(Deno.stdout);
    this.#err = options.err ?? streamSink(Deno.stderr);
    this.isTerminal = options.isTerminal ??
      { out: askIsTerminal(Deno.stdout), err: askIsTerminal(Deno.stderr) };
    const color = options.color ?? !Deno.noColor;
    this.color = { out: color && this.isTerminal.out, err: color && this.isTerminal.err };
    this.#columns = options.columns ?? askColumns;
  }

  /** Prints text (one line or several) and a newline on stdout. */
  out(text: string): void {
    if (!this.#shown || !this.isTerminal.out) {
      this.#out(text + "\n");
      return;
    }
    // stdout shares the screen: the live line steps aside and comes back below.
    this.#err(CLEAR_LINE);
    this.#out(text + "\n");
    this.#err(this.#shown);
  }

  /** Prints text (one line or several) and a newline on stderr. */
  err(text: string): void {
    this.#err(this.#shown ? `${CLEAR_LINE}${text}\n${this.#shown}` : text + "\n");
  }

  /**
   * Shows a live line until the returned handle is disposed: on a terminal
   * it is drawn at once and redrawn every `redrawMs`; otherwise it is
   * printed as a plain line every `plainEveryMs`. A new live line replaces
   * the one before. The timer does not keep the process alive.
   */
  live(text: LiveText, options: LiveOptions = {}): Disposable {
    this.stop();
    this.#liveText = text;
    const every = this.isTerminal.err ? options.redrawMs ?? 250 : options.plainEveryMs ?? 10_000;
    const timer = setInterval(() => this.refresh(), every);
    Deno.unrefTimer(timer);
    this.#timer = timer;
    if (this.isTerminal.err) this.refresh();
    return { [Symbol.dispose]: () => this.stop() };
  }

  /** Redraws the live line now (on a terminal) or prints it as a plain line (off one). */
  refresh(): void {
    if (!this.#liveText) return;
    if (!this.isTerminal.err) {
      this.#err(this.#liveText(undefined) + "\n");
      return;
    }
    // The last column is left free: writing into it makes some terminals wrap.
    const width = Math.max(1, (this.#columns() || FALLBACK_COLUMNS) - 1);
    const text = fitWidth(this.#liveText(width), width);
    if (text === this.#shown) return;
    this.#err(CLEAR_LINE + text);
    this.#shown = text;
  }

  /** Stops the live line and takes it off the screen. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#liveText = undefined;
    if (this.#shown) this.#err(CLEAR_LINE);
    this.#shown = "";
  }
}

let processTerminalInstance: Terminal | undefined;

/**
 * The terminal of this process (stdout and stderr), made on first use and
 * shared by every command, so there is one owner of the screen.
 *
 * @example One terminal per process
 * ```ts
 * import { processTerminal } from "./terminal.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(processTerminal(), processTerminal());
 * ```
 */
export function processTerminal(): Terminal {
  processTerminalInstance ??= new Terminal();
  return processTerminalInstance;
}
