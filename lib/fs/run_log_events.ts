/**
 * Reads one run's events back from the run log. The log is append-only
 * across runs and grows by a line per file, so a run over millions of files
 * leaves hundreds of megabytes: reading starts at the byte where the run
 * began (`RunLog.start`) and goes one line at a time through a
 * fixed buffer, so neither earlier runs nor the whole log are ever held.
 *
 * @example Read back only this run's events
 * ```ts
 * import { RunLog } from "./run_log.ts";
 * import { readLogEvents } from "./run_log_events.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/te-scan.log.jsonl`;
 * const first = await RunLog.open(path);
 * first.write({ event: "start", run: 1 });
 * first.close();
 * const second = await RunLog.open(path);
 * second.write({ event: "start", run: 2 });
 * second.close();
 * const events = await Array.fromAsync(readLogEvents(path, second.start));
 * assert.deepEqual(events.map((e) => e.run), [2]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 * @module
 */

import type { LogEvent } from "./run_log.ts";
import { records } from "../util/lines.ts";

const CHUNK_BYTES = 1 << 20;

/** What to read. */
export interface LogEventFilter {
  /**
   * Only lines holding this text are parsed (a fast first sieve: for
   * `"state":"malicious"` every malicious file's line holds it, and the
   * caller checks the parsed event for the rare line that only mentions it).
   */
  containing?: string;
}

/** The line's event, or undefined for a line that is filtered out or not JSON (a cut last line). */
function parseLine(line: string, filter: LogEventFilter): LogEvent | undefined {
  if (line === "" || (filter.containing && !line.includes(filter.containing))) return undefined;
  try {
    const event = JSON.parse(line);
    return typeof event?.event === "string" ? event : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The events of the log at `path` from byte `start` on, in order.
 *
 * @example Only the lines that name a state
 * ```ts
 * import { readLogEvents } from "./run_log_events.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/log.jsonl`;
 * await Deno.writeTextFile(path, '{"event":"file","state":"benign"}\n{"event":"end"}\n');
 * const files = await Array.fromAsync(readLogEvents(path, 0, { containing: '"state":' }));
 * assert.deepEqual(files, [{ event: "file", state: "benign" }]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function* readLogEvents(
  path: string,
  start: number,
  filter: LogEventFilter = {},
): AsyncGenerator<LogEvent> {
  using file = await Deno.open(path);
  await file.seek(start, Deno.SeekMode.Start);
  for await (const line of records(chunksOf(file), "\n")) {
    const event = parseLine(line, filter);
    if (event) yield event;
  }
}

/** The file's bytes from where it stands, through one fixed buffer (each chunk used at once). */
async function* chunksOf(file: Deno.FsFile): AsyncGenerator<Uint8Array> {
  const buffer = new Uint8Array(CHUNK_BYTES);
  for (let n = await file.read(buffer); n !== null; n = await file.read(buffer)) {
    yield buffer.subarray(0, n);
  }
}
