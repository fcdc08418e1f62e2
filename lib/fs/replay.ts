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
 * Nothing in the journal is trusted (the reports folder may be writable by
 * others): a record is acted on only when every path it names lies inside
 * the run's own folders (see {@linkcode confinementProblem}); one that does
 * not is reported, closed and never acted on.
 *
 * @module
 */

import { basename, dirname, isAbsolute, normalize, relative, resolve } from "node:path";
import { identityOf } from "./identity.ts";
import type { AwaitingVerdict, Journal, JournalProblem, MoveRecord } from "./journal.ts";
import { PARTIAL_PREFIX, removeQuietly } from "./move.ts";
import { lstatOrUndefined } from "../util/stat.ts";
import { NotRegularFileError, openRegularFile } from "./regular_file.ts";

/** The folders of the run, which the journal's records must stay inside. */
export interface RunFolders {
  /** The input folder; none with `--files-from`. */
  input?: string;
  /** The folders files are moved to (`--out`, `--jail`, `--error`). */
  destinations: readonly string[];
}

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
  /** Journal lines refused and never acted on: torn, edited, junk, or pointing outside the run. */
  rejected: JournalProblem[];
}

/** Whether `path` is absolute, normal (no `.`, `..` or doubled slash) and strictly below `folder`. */
function isBelow(path: string, folder: string): boolean {
  if (!isAbsolute(path) || normalize(path) !== path) return false;
  const rel = relative(resolve(folder), path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
}

/** Whether `relPath` is a relative path that cannot climb out of the folder it is joined to. */
function isPlainRelPath(relPath: string): boolean {
  return !isAbsolute(relPath) && !relPath.split("/").some((part) => ["", ".", ".."].includes(part));
}

/**
 * Why a journal record must not be acted on, or `undefined` when every path
 * it names lies inside the run's folders: its destination (and a partial
 * copy, which lies beside it under the writer's prefix) in a destination
 * folder, its source in the input or a destination folder, and the relative
 * path of a file awaiting its verdict plain (no `..`, not absolute).
 *
 * A run without an input folder (`--files-from`) lists files from
 * anywhere: a source outside its folders is then accepted only for a
 * same-filesystem move, whose replay removes the source name only when the
 * destination is the very same inode (nothing is lost).
 *
 * @example A record naming a file outside the run is refused
 * ```ts
 * import { confinementProblem } from "./replay.ts";
 * import assert from "node:assert/strict";
 *
 * const folders = { input: "/drop", destinations: ["/out"] };
 * const move = { t: "move" as const, id: 1, dev: 1, ino: 2 };
 * assert.equal(confinementProblem({ ...move, src: "/drop/a", dest: "/out/a" }, folders), undefined);
 * assert.match(
 *   confinementProblem({ ...move, src: "/etc/passwd", dest: "/out/a" }, folders) ?? "",
 *   /outside the run's folders/,
 * );
 * assert.match(
 *   confinementProblem({ ...move, src: "/drop/a", dest: "/out/../escaped" }, folders) ?? "",
 *   /outside the run's folders/,
 * );
 * ```
 */
export function confinementProblem(record: MoveRecord, folders: RunFolders): string | undefined {
  const { destinations, input } = folders;
  const inDestination = (path: string) => destinations.some((folder) => isBelow(path, folder));
  const outside = (what: string, path: string) =>
    `its ${what} ${JSON.stringify(path)} is outside the run's folders`;
  if (!inDestination(record.dest)) return outside("destination", record.dest);
  if (
    record.partial !== undefined &&
    (dirname(record.partial) !== dirname(record.dest) ||
      !basename(record.partial).startsWith(PARTIAL_PREFIX))
  ) return outside("partial copy", record.partial);
  const sourceInside = inDestination(record.src) ||
    (input !== undefined && isBelow(record.src, input));
  const anywhere = input === undefined && record.partial === undefined && isAbsolute(record.src);
  if (!sourceInside && !anywhere) return outside("source", record.src);
  const relPath = record.awaiting?.relPath;
  if (relPath !== undefined && !isPlainRelPath(relPath)) {
    return `its relative path ${JSON.stringify(relPath)} climbs out of its folder`;
  }
  return undefined;
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

async function realPathOf(path: string): Promise<string | undefined> {
  try {
    return await Deno.realPath(path);
  } catch {
    return undefined;
  }
}

/**
 * Why a record must not be acted on although its paths read as inside the
 * run's folders: a folder on the way is a symbolic link that leads outside
 * them. (A source anywhere, with `--files-from`, is the exception above.)
 */
async function linkedOutProblem(
  record: MoveRecord,
  folders: RunFolders,
): Promise<string | undefined> {
  const roots = [...folders.destinations, ...(folders.input === undefined ? [] : [folders.input])];
  const realRoots = (await Promise.all(roots.map(realPathOf))).filter((r) => r !== undefined);
  for (const path of [record.src, record.dest, record.partial]) {
    if (path === undefined || (path === record.src && folders.input === undefined)) continue;
    const real = await realPathOf(dirname(path));
    if (real === undefined) continue;
    if (!realRoots.some((root) => real === root || isBelow(real, root))) {
      return `the folder of ${JSON.stringify(path)} leads outside the run's folders`;
    }
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
 * const result = await replayJournal(journal, { input: dir, destinations: [dir] });
 * assert.equal(result.finished, 1);
 * await assert.rejects(Deno.lstat(`${dir}/a`), Deno.errors.NotFound);
 * assert.equal(await Deno.readTextFile(`${dir}/b`), "x");
 * await journal.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function replayJournal(
  journal: Journal,
  folders: RunFolders,
): Promise<ReplayResult> {
  const result: ReplayResult = {
    finished: 0,
    notStarted: 0,
    partialsRemoved: 0,
    awaiting: [],
    rejected: [...journal.rejected],
  };
  for (const record of journal.open) {
    const problem = confinementProblem(record, folders) ??
      await linkedOutProblem(record, folders);
    if (problem !== undefined) {
      result.rejected.push({ line: journal.lineOf(record.id) ?? 0, reason: problem });
      journal.done(record.id);
      continue;
    }
    const at = await settle(record, result);
    if (at === "dest" && record.awaiting) {
      result.awaiting.push({ path: record.dest, record: record.id, awaiting: record.awaiting });
    } else {
      journal.done(record.id);
    }
  }
  return result;
}
