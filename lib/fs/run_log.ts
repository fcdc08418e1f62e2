/**
 * The run's JSON-lines log (`REP/te-scan.log.jsonl`): one object per event,
 * appended and flushed as it happens, so a killed run still leaves a
 * complete record of every file it settled.
 *
 * @example Log the start of a run
 * ```ts
 * import { RunLog } from "./run_log.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const log = await RunLog.open(`${dir}/te-scan.log.jsonl`);
 * log.write({ event: "start", input: "/drop" });
 * log.close();
 * const [line] = (await Deno.readTextFile(`${dir}/te-scan.log.jsonl`)).trimEnd().split("\n");
 * assert.equal(JSON.parse(line).input, "/drop");
 * await Deno.remove(dir, { recursive: true });
 * ```
 * @module
 */

import { dirname } from "node:path";
import { ReportsFolderError } from "./errors.ts";

/**
 * Whether a character is a control that could act on whatever displays it:
 * C0 and C1 controls, DEL, the line and paragraph separators, and the
 * bidirectional controls (which reorder what a reader sees).
 *
 * @example An ESC, a CSI and a right-to-left override, but not a letter
 * ```ts
 * import { isControlOrBidi } from "./run_log.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok([0x1b, 0x9b, 0x202e, 0x061c].every(isControlOrBidi));
 * assert.equal(isControlOrBidi("é".charCodeAt(0)), false);
 * ```
 */
export function isControlOrBidi(code: number): boolean {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f) || // C0, DEL, C1
    code === 0x061c || code === 0x200e || code === 0x200f || code === 0x2028 ||
    code === 0x2029 || (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
}

/**
 * One value as a JSON line (without its newline) in which no control or
 * bidirectional character is left raw: `JSON.stringify` escapes C0 only,
 * so the others (U+009B, U+202E, ...) are written as `\uXXXX`. They can
 * only occur inside strings, where the escape means the same character.
 *
 * @example A C1 control and a right-to-left override are escaped
 * ```ts
 * import { jsonLine } from "./run_log.ts";
 * import assert from "node:assert/strict";
 *
 * const line = jsonLine({ file: "a\u009b2J\u202etxt.exe" });
 * assert.equal(line, String.raw`{"file":"a\u009b2J\u202etxt.exe"}`);
 * assert.equal(JSON.parse(line).file, "a\u009b2J\u202etxt.exe");
 * ```
 */
export function jsonLine(value: unknown): string {
  const text = JSON.stringify(value);
  let out = "";
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x7f || !isControlOrBidi(code)) continue;
    out += text.slice(from, i) + `\\u${code.toString(16).padStart(4, "0")}`;
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

/** One log event; `time` is added on write. */
export type LogEvent = { event: string } & Record<string, unknown>;

/**
 * An append-only JSONL file.
 *
 * @example Each event is one line, with its time added
 * ```ts
 * import { RunLog } from "./run_log.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const log = await RunLog.open(`${dir}/x.jsonl`);
 * log.write({ event: "file", file: "a.pdf", state: "benign" });
 * log.close();
 * const event = JSON.parse(await Deno.readTextFile(`${dir}/x.jsonl`));
 * assert.equal(event.state, "benign");
 * assert.equal(typeof event.time, "string");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class RunLog {
  readonly #file: Deno.FsFile;
  readonly #encoder = new TextEncoder();

  private constructor(
    file: Deno.FsFile,
    readonly path: string,
    /** The log's length when it was opened: this run's events start at this byte. */
    readonly start: number,
  ) {
    this.#file = file;
  }

  /** Opens (creating if needed) the log for appending. */
  static async open(path: string): Promise<RunLog> {
    const file = await Deno.open(path, { append: true, create: true });
    try {
      return new RunLog(file, path, (await file.stat()).size);
    } catch (error) {
      file.close();
      throw error;
    }
  }

  /**
   * Appends one event. The write is blocking: a line is a few hundred bytes,
   * lines can never interleave, and an async write per event would be a
   * thread-pool hand-off per file.
   */
  write(event: LogEvent): void {
    const line = this.#encoder.encode(
      jsonLine({ time: new Date().toISOString(), ...event }) + "\n",
    );
    try {
      let offset = 0;
      while (offset < line.length) offset += this.#file.writeSync(line.subarray(offset));
    } catch (error) {
      throw new ReportsFolderError(dirname(this.path), error);
    }
  }

  /** Closes the file. */
  close(): void {
    this.#file.close();
  }
}
