/**
 * The run's JSON-lines log (`REP/te-scan.log.jsonl`): one object per event,
 * appended and flushed as it happens, so a killed run still leaves a
 * complete record of every file it settled.
 *
 * @example
 * ```ts
 * import { RunLog } from "./run_log.ts";
 * const log = await RunLog.open("/tmp/te-reports/te-scan.log.jsonl");
 * await log.write({ event: "start", input: "/drop" });
 * log.close();
 * ```
 * @module
 */

/** One log event; `time` is added on write. */
export type LogEvent = { event: string } & Record<string, unknown>;

/**
 * An append-only JSONL file.
 *
 * @example
 * ```ts
 * import { RunLog } from "./run_log.ts";
 * const log = await RunLog.open("/tmp/x.jsonl");
 * await log.write({ event: "file", file: "a.pdf", state: "benign" });
 * log.close();
 * ```
 */
export class RunLog {
  readonly #file: Deno.FsFile;
  readonly #encoder = new TextEncoder();
  #chain: Promise<void> = Promise.resolve();

  private constructor(file: Deno.FsFile, readonly path: string) {
    this.#file = file;
  }

  /** Opens (creating if needed) the log for appending. */
  static async open(path: string): Promise<RunLog> {
    const file = await Deno.open(path, { append: true, create: true });
    return new RunLog(file, path);
  }

  /** Appends one event; writes are serialised so lines never interleave. */
  write(event: LogEvent): Promise<void> {
    const line = this.#encoder.encode(
      JSON.stringify({ time: new Date().toISOString(), ...event }) + "\n",
    );
    this.#chain = this.#chain.then(async () => {
      let offset = 0;
      while (offset < line.length) offset += await this.#file.write(line.subarray(offset));
    });
    return this.#chain;
  }

  /** Waits for pending writes and closes the file. */
  async close(): Promise<void> {
    await this.#chain.catch(() => {});
    this.#file.close();
  }
}
