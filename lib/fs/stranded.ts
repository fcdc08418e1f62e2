/**
 * Files a lost journal left behind. A file quarantined by an early verdict
 * waits in the jail for its final verdict, and only its open journal
 * record says so. When the journal is gone (deleted, or lines refused as
 * torn or edited), the run log still tells: an `early` event names where
 * the file went, and a later `file` event about the same content settles
 * it. An early file with no such later event, still in the jail and with
 * no open record, is stranded: the run says so and names it, and a rescan
 * of it finishes it.
 *
 * @module
 */

import { readLogEvents } from "./run_log_events.ts";
import { exists } from "./move.ts";

/** A file quarantined early whose final verdict was never applied. */
export interface StrandedFile {
  /** Its relative path when it was scanned. */
  file: string;
  /** Where it is (in the jail). */
  path: string;
  sha1: string;
}

/** An `early` event of the log that moved a file, in log order. */
interface EarlyMove extends StrandedFile {
  order: number;
}

/**
 * The files of the log at `logPath` quarantined early and never settled,
 * still on disk and not among `open` (the destinations of the journal's
 * open records). The whole log is read, so the caller asks only when the
 * journal was lost or refused lines.
 *
 * @example An early quarantine the log never settled
 * ```ts
 * import { strandedEarly } from "./stranded.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/m.doc`, "quarantined");
 * const early = { event: "early", file: "m.doc", sha1: "ab", destination: `${dir}/m.doc` };
 * await Deno.writeTextFile(`${dir}/log.jsonl`, JSON.stringify(early) + "\n");
 * const stranded = await strandedEarly(`${dir}/log.jsonl`, new Set());
 * assert.deepEqual(stranded, [{ file: "m.doc", path: `${dir}/m.doc`, sha1: "ab" }]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function strandedEarly(
  logPath: string,
  open: ReadonlySet<string>,
): Promise<StrandedFile[]> {
  const early = new Map<string, EarlyMove>();
  const settled = new Map<string, number>();
  let order = 0;
  try {
    for await (const event of readLogEvents(logPath, 0, { containing: '"sha1":"' })) {
      order++;
      const { file, sha1, destination } = event;
      if (typeof sha1 !== "string") continue;
      if (event.event === "file") settled.set(sha1, order);
      if (event.event !== "early" || typeof destination !== "string") continue;
      if (typeof file === "string") {
        early.set(destination, { file, path: destination, sha1, order });
      }
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  const stranded: StrandedFile[] = [];
  for (const { file, path, sha1, order } of early.values()) {
    if ((settled.get(sha1) ?? 0) > order || open.has(path) || !(await exists(path))) continue;
    stranded.push({ file, path, sha1 });
  }
  return stranded;
}
