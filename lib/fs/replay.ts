/**
 * Replaying the journal a killed run left open, before anything is
 * scanned. Each open record is a move that may have stopped between two
 * steps; what is on disk says which step it reached:
 *
 * - the destination holds the file and the source still exists (killed
 *   between link and unlink): the move is finished, the source name goes;
 * - only the source exists: the move never happened; the file is scanned
 *   again where it is;
 * - a partial copy exists: it is removed (the copy is redone if needed).
 *
 * A file that was quarantined by an early verdict and was still awaiting
 * its final verdict keeps its record open and is handed back to the run,
 * which asks for its final verdict by hash (no new upload unless the
 * appliance lost it) and leaves it in quarantine or releases it.
 *
 * @module
 */

import { identityOf } from "./identity.ts";
import type { AwaitingVerdict, Journal, MoveRecord } from "./journal.ts";
import { removeQuietly } from "./move.ts";
import { lstatOrUndefined } from "../util/stat.ts";
import { NotRegularFileError, openRegularFile } from "./regular_file.ts";

/** A quarantined file whose final verdict is still to come. */
export interface AwaitingFile {
  /** Where it is (in the quarantine folder). */
  path: string;
  /** Its open journal record, closed once the final verdict is applied. */
  record: number;
  awaiting: AwaitingVerdict;
}

/** What the replay did. */
export interface ReplayResult {
  /** Moves that were finished (the source name removed). */
  finished: number;
  /** Moves that had not happened: the file is still at its source. */
  notStarted: number;
  /** Partial copies removed. */
  partialsRemoved: number;
  awaiting: AwaitingFile[];
}

/** Whether two files hold the same bytes (a copy to another filesystem and its source). */
async function sameBytes(a: string, b: string): Promise<boolean> {
  // Opened without waiting: a FIFO in either place is not a copy, and would block for ever.
  const open = (path: string) => {
    try {
      return openRegularFile(path);
    } catch (error) {
      if (error instanceof NotRegularFileError) return undefined;
      throw error;
    }
  };
  using fa = open(a);
  using fb = open(b);
  if (!fa || !fb) return false;
  if ((await fa.stat()).size !== (await fb.stat()).size) return false;
  const bufA = new Uint8Array(1 << 20);
  const bufB = new Uint8Array(1 << 20);
  for (;;) {
    const n = await fa.read(bufA);
    if (n === null) return (await fb.read(bufB)) === null;
    let filled = 0;
    while (filled < n) {
      const m = await fb.read(bufB.subarray(filled, n));
      if (m === null) return false;
      filled += m;
    }
    if (!bufA.subarray(0, n).every((byte, i) => byte === bufB[i])) return false;
  }
}

/** Whether the destination holds the file the record moved (the source's inode, or its copy). */
async function destinationIsOurs(
  record: MoveRecord,
  dest: Deno.FileInfo,
  src: Deno.FileInfo | undefined,
): Promise<boolean> {
  const id = identityOf(dest);
  if (!record.partial) return id.dev === record.dev && id.ino === record.ino;
  // A cross-filesystem copy is linked into place only once whole: with the
  // source gone it is the file; with the source there, it must match it.
  return src === undefined || await sameBytes(record.src, record.dest);
}

/** Settles one open record; returns where the file is now (or undefined when gone). */
async function settle(
  record: MoveRecord,
  result: ReplayResult,
): Promise<"dest" | "src" | undefined> {
  if (record.partial && await lstatOrUndefined(record.partial)) {
    removeQuietly(record.partial);
    result.partialsRemoved++;
  }
  const src = await lstatOrUndefined(record.src);
  const dest = await lstatOrUndefined(record.dest);
  if (dest && await destinationIsOurs(record, dest, src)) {
    if (src) {
      await Deno.remove(record.src);
      result.finished++;
    }
    return "dest";
  }
  if (src) {
    result.notStarted++;
    return "src";
  }
  return undefined;
}

/**
 * Replays every record `journal` holds open.
 *
 * @example A move killed between its link and its unlink is finished
 * ```ts
 * import { Journal } from "./journal.ts";
 * import { replayJournal } from "./replay.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a`, "x");
 * const { dev, ino } = await Deno.lstat(`${dir}/a`);
 * const journal = await Journal.open(`${dir}/journal.jsonl`);
 * await journal.begin({ src: `${dir}/a`, dest: `${dir}/b`, dev, ino: ino! });
 * await Deno.link(`${dir}/a`, `${dir}/b`); // ...and the run was killed here
 * const result = await replayJournal(journal);
 * assert.equal(result.finished, 1);
 * await assert.rejects(Deno.lstat(`${dir}/a`), Deno.errors.NotFound);
 * assert.equal(await Deno.readTextFile(`${dir}/b`), "x");
 * await journal.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function replayJournal(journal: Journal): Promise<ReplayResult> {
  const result: ReplayResult = { finished: 0, notStarted: 0, partialsRemoved: 0, awaiting: [] };
  for (const record of journal.open) {
    const at = await settle(record, result);
    if (at === "dest" && record.awaiting) {
      result.awaiting.push({ path: record.dest, record: record.id, awaiting: record.awaiting });
    } else {
      journal.done(record.id);
    }
  }
  return result;
}
