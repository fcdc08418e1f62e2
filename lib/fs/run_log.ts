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
      JSON.stringify({ time: new Date().toISOString(), ...event }) + "\n",
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
