/**
 * Never-overwrite, never-lose placement of files: a name clash picks the
 * next numbered name (`b.docx`, `b.1.docx`, `b.2.docx`, ...), a file is never
 * left in two places or in none, and a file appears under its final name
 * only whole.
 *
 * `Deno.rename` would silently replace an existing destination, so a move is
 * a hard link to a free name, then the removal of the source. Where a hard
 * link is impossible (another filesystem) the file is copied to a hidden
 * partial name beside the destination, synced, checked against the digest
 * it was scanned with, linked to its final name, and only then is the
 * source removed. With a {@linkcode Journal}, every move is recorded before
 * its first irreversible step, so a run killed between two steps is
 * finished by the next one (see `replay.ts`).
 *
 * A move can be told the version of the file that was scanned: the source
 * is checked against it just before the move and the placed file just
 * after, and a file that changed in between is left where it was
 * ({@linkcode FileChangedError}).
 *
 * @module
 */

import { createHash } from "node:crypto";
import { basename, dirname, extname, join } from "node:path";
import {
  checkConfined,
  checkFolders,
  checkRegularFile,
  type Confinement,
  PATH_MOVED,
} from "./confine.ts";
import { ReportsFolderError } from "./errors.ts";
import { reasonOf } from "../util/reason.ts";
import { errorCode } from "../util/error_code.ts";
import { FileChangedError, type FileIdentity, identityOf, sameVersion } from "./identity.ts";
import type { AwaitingVerdict, Journal } from "./journal.ts";
import { fitName } from "./names.ts";
import { openRegularFile } from "./regular_file.ts";

/** Prefix of the temporary names that cross-filesystem copies are written under. */
export const PARTIAL_PREFIX = ".te-scan-partial-";

// Enough for any real clash; a filesystem that answers "exists" forever must not hang a run.
const MAX_NUMBERED_NAMES = 100_000;

const COPY_CHUNK = 1 << 20;

/** Writes up to this size are blocking (see writeFileNoClobber). */
const SMALL_WRITE = 1 << 20;

/**
 * `link(2)` errors meaning "no hard link possible here", not "something is wrong":
 * another filesystem, a filesystem without links, a link count at its limit, or
 * `fs.protected_hardlinks` refusing to link a file the user may read but not write.
 */
const LINK_IMPOSSIBLE = new Set(["EXDEV", "EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EMLINK"]);

/** How a move or copy is made. */
export interface PlaceOptions {
  /** Records the step before it happens, so a kill in between is finished next run. */
  journal?: Journal;
  /** The version that was scanned; a source that is not it is left where it is. */
  expect?: FileIdentity;
  /** Compare change times too (false once the run has moved the file already). */
  strict?: boolean;
  /** The SHA-1 the scanned bytes had; a copy whose bytes differ is discarded. */
  sha1?: string;
  /** The moved file awaits its final verdict: its journal record stays open. */
  awaiting?: AwaitingVerdict;
  /** The folder the source must lie inside, through real folders only (see `confine.ts`). */
  confine?: Confinement;
}

/** Where a file went, and the journal record left open for it (early quarantine). */
export interface Placement {
  path: string;
  openRecord?: number;
  /** The placed file's identity: the scanned version's when the move was told it. */
  identity?: FileIdentity;
}

/**
 * The `n`-th alternative name for a path: the number goes before the last
 * extension, or at the end when there is none; `n = 0` is the path itself.
 *
 * @example A number before the last extension
 * ```ts
 * import { numberedName } from "./move.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(numberedName("a/b.docx", 1), "a/b.1.docx");
 * assert.equal(numberedName("a/README", 2), "a/README.2");
 * assert.equal(numberedName(".bashrc", 1), ".bashrc.1");
 * assert.equal(numberedName("x.tar.gz", 1), "x.tar.1.gz");
 * ```
 */
export function numberedName(path: string, n: number): string {
  if (n === 0) return path;
  const name = basename(path);
  const extension = extname(name);
  const stem = name.slice(0, name.length - extension.length);
  const numbered = `${stem}.${n}${extension}`;
  const folder = dirname(path);
  // A name already at the length limit has no room for a number: it is shortened.
  return fitName(folder === "." ? numbered : join(folder, numbered));
}

/**
 * Whether anything (a file, folder or dangling link) has this name.
 *
 * The metadata calls of this module are blocking on purpose: each takes
 * microseconds, while an async one is a hand-off to Deno's blocking thread
 * pool, which on a tree of many small files costs more time than the call,
 * and grows the pool (and the process's memory) with the concurrency.
 */
export function exists(path: string): Promise<boolean> {
  return Promise.resolve(existsSync(path));
}

function existsSync(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Creates the folder `path` goes into (and its parents). */
function makeParentFolder(path: string): void {
  const folder = dirname(path);
  try {
    Deno.mkdirSync(folder, { recursive: true });
  } catch (error) {
    const reason = error instanceof Deno.errors.AlreadyExists
      ? "a file is in the way"
      : reasonOf(error);
    throw new Error(`cannot create folder ${folder}: ${reason}`);
  }
}

/**
 * Runs `act`, which puts a file into `path`'s folder. The folder is made only
 * when `act` finds it missing, then `act` runs once more: no mkdir per file
 * on the fast path, and no cache of made folders that an operator removing
 * one mid-run (or mid-watch) would make lie.
 */
async function inParentFolder<T>(path: string, act: () => Promise<T>): Promise<T> {
  try {
    return await act();
  } catch (error) {
    // The folder may have been made meanwhile by a move racing this one: try again all the same.
    const missing = error instanceof Deno.errors.NotFound ||
      error instanceof Deno.errors.NotADirectory;
    if (!missing) throw error;
  }
  makeParentFolder(path);
  return await act();
}

/**
 * Offers `dest`, then its numbered names, to `place` until it takes one.
 * `place` answers false when the name is taken (a link's EEXIST says so:
 * no look before, which would cost a failed lookup per file) and throws on
 * real failures.
 */
async function placeAtFreeName(
  dest: string,
  place: (candidate: string) => Promise<boolean>,
  nameAt: (n: number) => string = (n) => numberedName(dest, n),
): Promise<string> {
  for (let n = 0; n < MAX_NUMBERED_NAMES; n++) {
    const candidate = nameAt(n);
    if (await place(candidate)) return candidate;
  }
  throw new Error(`no free name after ${MAX_NUMBERED_NAMES} numbered names`);
}

function linkIfFree(existing: string, candidate: string): boolean {
  try {
    Deno.linkSync(existing, candidate);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return false;
    throw error;
  }
}

/**
 * Gives a finished temporary file its final name. Where hard links are
 * impossible, falls back to check-then-rename: only another process racing
 * for the same name could be clobbered, and te-scan owns its output folders.
 */
async function linkOrRenameIfFree(temp: string, candidate: string): Promise<boolean> {
  try {
    return linkIfFree(temp, candidate);
  } catch (error) {
    if (!LINK_IMPOSSIBLE.has(errorCode(error) ?? "")) throw error;
  }
  if (await exists(candidate)) return false;
  await Deno.rename(temp, candidate);
  return true;
}

/** Removes a file that may already be gone. */
export function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // Already gone (renamed into place) or unremovable: nothing more can be done here.
  }
}

/** Makes a new name durable; best effort, as some filesystems refuse to sync a folder. */
async function syncFolder(folder: string): Promise<void> {
  try {
    using handle = await Deno.open(folder, { read: true });
    await handle.sync();
  } catch {
    // The data itself is already synced; only the name's durability is at stake.
  }
}

/**
 * Removes the source once the file is in place. If that fails, the placed
 * copy is removed again, so the file is never in two places.
 */
function removeSourceOrUndo(src: string, placed: string): void {
  try {
    Deno.removeSync(src);
  } catch (error) {
    // Someone else removed it meanwhile: the placed file is now the only one, as intended.
    if (error instanceof Deno.errors.NotFound) return;
    removeQuietly(placed);
    throw new Error(`cannot remove the original: ${reasonOf(error)}`);
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    written += await file.write(bytes.subarray(written));
  }
}

/**
 * The source's identity now, checked against the scanned version: the name
 * must lie inside the confinement and be a regular file (never a link).
 */
function checkSource(src: string, options: PlaceOptions): FileIdentity {
  if (options.confine) checkConfined(src, options.confine);
  const now = identityOf(checkRegularFile(src));
  if (options.expect && !sameVersion(options.expect, now, options.strict ?? true)) {
    throw new FileChangedError("changed while being scanned");
  }
  return now;
}

/**
 * Checks, just before the source's name is removed, that it still names the
 * file `source` through a confined chain: a folder swapped for a link since
 * the move would otherwise make the removal hit a file elsewhere. The
 * window left is the one between this check and the `unlink` (microseconds):
 * Deno has no `unlinkat` to remove by folder descriptor.
 */
function checkSourceStill(src: string, source: FileIdentity, options: PlaceOptions): void {
  if (options.confine) checkConfined(src, options.confine);
  const now = identityOf(checkRegularFile(src));
  if (now.dev !== source.dev || now.ino !== source.ino) throw new FileChangedError(PATH_MOVED);
}

/** {@linkcode checkSourceStill}, removing the placed file again when it fails. */
function undoUnlessSourceStill(
  src: string,
  placed: string,
  source: FileIdentity,
  options: PlaceOptions,
): void {
  try {
    checkSourceStill(src, source, options);
  } catch (error) {
    // Removed by someone else from a folder still in place: the placed file is the only one left.
    if (!existsSync(src) && foldersConfined(src, options)) return;
    removeQuietly(placed);
    throw error;
  }
}

function foldersConfined(src: string, options: PlaceOptions): boolean {
  try {
    if (options.confine) checkFolders(src, options.confine);
    return true;
  } catch {
    return false;
  }
}

/**
 * The placed file, checked to be the source (a link swapped in meanwhile is
 * not) and the scanned version; a placed file that is neither is removed.
 */
function checkPlaced(placed: string, source: FileIdentity, options: PlaceOptions): FileIdentity {
  const info = Deno.lstatSync(placed);
  const now = identityOf(info);
  if (!info.isFile || now.dev !== source.dev || now.ino !== source.ino) {
    removeQuietly(placed);
    throw new FileChangedError(PATH_MOVED);
  }
  if (options.expect && !sameVersion(options.expect, now, false)) {
    removeQuietly(placed);
    throw new FileChangedError("changed while being scanned");
  }
  return options.expect ?? now;
}

/**
 * Copies `src` into the new file `temp` with the source's mode and times,
 * synced to disk; the bytes copied must be the scanned version (`sha1`).
 */
async function copyToNewFile(src: string, temp: string, options: PlaceOptions): Promise<void> {
  // Opening follows a link, so the file opened must be the regular file looked at; and it
  // is opened without waiting, as a FIFO swapped in after the look would block for ever.
  const seen = identityOf(checkRegularFile(src));
  using input = openRegularFile(src, () => new FileChangedError(PATH_MOVED));
  const before = await input.stat();
  const opened = options.expect ?? seen;
  if (before.dev !== opened.dev || before.ino !== opened.ino) {
    throw new FileChangedError(PATH_MOVED);
  }
  using output = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
  const buffer = new Uint8Array(Math.min(COPY_CHUNK, Math.max(4096, before.size + 1)));
  const hash = options.sha1 ? createHash("sha1") : undefined;
  let copied = 0;
  for (;;) {
    const count = await input.read(buffer);
    if (count === null) break;
    hash?.update(buffer.subarray(0, count));
    await writeAll(output, buffer.subarray(0, count));
    copied += count;
  }
  const after = await input.stat();
  const changed = !sameVersion(identityOf(before), identityOf(after)) || copied !== after.size ||
    (options.expect !== undefined && !sameVersion(options.expect, identityOf(after), false)) ||
    (hash !== undefined && hash.digest("hex") !== options.sha1);
  if (changed) throw new FileChangedError("changed while being scanned");
  if (after.mode !== null) await Deno.chmod(temp, after.mode & 0o7777);
  if (after.mtime !== null) await output.utime(after.atime ?? after.mtime, after.mtime);
  await output.sync();
}

/** One line for a failed move, keeping the one-line reason of the cause. */
function moveError(verb: string, src: string, dest: string, error: unknown): Error {
  if (error instanceof FileChangedError || error instanceof ReportsFolderError) return error;
  return new Error(`cannot ${verb} ${src} to ${dest}: ${reasonOf(error)}`);
}

/**
 * Checks the source against the scanned version, then offers `dest` and its
 * numbered names to `place`, journaling each name before it is tried (a
 * name taken meanwhile closes its record and the next is journaled).
 */
async function placeRecorded(
  src: string,
  dest: string,
  options: PlaceOptions,
  place: (candidate: string) => Promise<boolean>,
  partial?: string,
): Promise<{ placed: string; record?: number; source: FileIdentity }> {
  const { journal, awaiting } = options;
  const source = checkSource(src, options);
  const { dev, ino } = source;
  let record: number | undefined;
  try {
    const placed = await placeAtFreeName(dest, async (candidate) => {
      if (record !== undefined) journal?.done(record);
      record = await journal?.begin({ src, dest: candidate, dev, ino, partial, awaiting });
      return await place(candidate);
    });
    return { placed, record, source };
  } catch (error) {
    if (record !== undefined) journal?.done(record);
    throw error;
  }
}

/**
 * Moves a file by copying it: the path taken when a hard link is impossible
 * (another filesystem). Copy to a partial name, check and sync it, link it
 * to a free name, then remove the source. Exported for tests, which have no
 * second filesystem to force this path through {@linkcode moveFile}.
 *
 * @example A move by copy leaves no source and no partial file
 * ```ts
 * import { moveByCopy } from "./move.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.pdf`, "%PDF-");
 * const { path } = await moveByCopy(`${dir}/a.pdf`, `${dir}/benign/a.pdf`);
 * assert.equal(path, `${dir}/benign/a.pdf`);
 * assert.equal(await Deno.readTextFile(path), "%PDF-");
 * assert.deepEqual(await Array.fromAsync(Deno.readDir(`${dir}/benign`), (e) => e.name), ["a.pdf"]);
 * await assert.rejects(Deno.stat(`${dir}/a.pdf`), Deno.errors.NotFound);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function moveByCopy(
  src: string,
  dest: string,
  options: PlaceOptions = {},
): Promise<Placement> {
  const { journal } = options;
  const partial = join(dirname(dest), `${PARTIAL_PREFIX}${crypto.randomUUID()}`);
  let record: number | undefined;
  try {
    let placed: string;
    let source: FileIdentity;
    ({ placed, record, source } = await inParentFolder(
      dest,
      () =>
        placeRecorded(src, dest, options, async (candidate) => {
          if (!(await exists(partial))) await copyToNewFile(src, partial, options);
          return await linkOrRenameIfFree(partial, candidate);
        }, partial),
    ));
    removeQuietly(partial);
    await syncFolder(dirname(placed));
    // A new file, written by this move from the checked bytes: its own identity from now on.
    const identity = identityOf(Deno.lstatSync(placed));
    undoUnlessSourceStill(src, placed, source, options);
    removeSourceOrUndo(src, placed);
    if (record !== undefined && !options.awaiting) journal?.done(record);
    return { path: placed, openRecord: options.awaiting ? record : undefined, identity };
  } catch (error) {
    removeQuietly(partial);
    if (record !== undefined) journal?.done(record);
    throw moveError("move", src, dest, error);
  }
}

/**
 * Moves a file to `dest` or, if that name is taken, to the first free
 * numbered name; creates missing parent folders; keeps mode and times. On
 * failure the source is untouched and the error is one line:
 * `cannot move <src> to <dest>: <reason>`, or a {@linkcode FileChangedError}.
 *
 * @example Two files for one name
 * ```ts
 * import { moveFile } from "./move.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a`, "first");
 * await Deno.writeTextFile(`${dir}/b`, "second");
 * assert.equal((await moveFile(`${dir}/a`, `${dir}/out/x.txt`)).path, `${dir}/out/x.txt`);
 * assert.equal((await moveFile(`${dir}/b`, `${dir}/out/x.txt`)).path, `${dir}/out/x.1.txt`);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function moveFile(
  src: string,
  dest: string,
  options: PlaceOptions = {},
): Promise<Placement> {
  const { journal } = options;
  let record: number | undefined;
  let placed: string;
  let source: FileIdentity;
  try {
    ({ placed, record, source } = await inParentFolder(
      dest,
      () => placeRecorded(src, dest, options, (c) => Promise.resolve(linkIfFree(src, c))),
    ));
  } catch (error) {
    if (LINK_IMPOSSIBLE.has(errorCode(error) ?? "")) return await moveByCopy(src, dest, options);
    throw moveError("move", src, dest, error);
  }
  let identity: FileIdentity;
  try {
    // link(2) resolves the folders on the way again: the file linked must be the one checked.
    identity = checkPlaced(placed, source, options);
    undoUnlessSourceStill(src, placed, source, options);
    removeSourceOrUndo(src, placed);
  } catch (error) {
    if (record !== undefined) journal?.done(record);
    throw moveError("move", src, dest, error);
  }
  if (record !== undefined && !options.awaiting) journal?.done(record);
  return { path: placed, openRecord: options.awaiting ? record : undefined, identity };
}

/**
 * Moves a file (see {@linkcode moveFile}) and returns only where it went.
 *
 * @example Only the path where the file went
 * ```ts
 * import { moveNoClobber } from "./move.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/b.docx`, "x");
 * const placedAt = await moveNoClobber(`${dir}/b.docx`, `${dir}/jail/a/b.docx`);
 * assert.equal(placedAt, `${dir}/jail/a/b.docx`);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function moveNoClobber(
  src: string,
  dest: string,
  options: PlaceOptions = {},
): Promise<string> {
  return (await moveFile(src, dest, options)).path;
}

/**
 * Fills a temporary file with `fill`, then links it at the first free
 * numbered name of `dest`. The temporary file lives in `tempDir` (a folder
 * the run empties when it starts) or beside `dest`; a failure at any step
 * removes it.
 */
async function publishNewFile(
  dest: string,
  fill: (temp: string) => Promise<void>,
  tempDir?: string,
  nameAt?: (n: number) => string,
): Promise<string> {
  const temp = join(tempDir ?? dirname(dest), `${PARTIAL_PREFIX}${crypto.randomUUID()}`);
  try {
    await inParentFolder(temp, () => fill(temp));
    return await inParentFolder(
      dest,
      () => placeAtFreeName(dest, (candidate) => linkOrRenameIfFree(temp, candidate), nameAt),
    );
  } catch (error) {
    // The temporary folder is on another filesystem than `dest`: write beside it instead.
    if (tempDir === undefined || errorCode(error) !== "EXDEV") throw error;
    return await publishNewFile(dest, fill, undefined, nameAt);
  } finally {
    removeQuietly(temp);
  }
}

/**
 * Copies a file to `dest` or the first free numbered name, leaving the source
 * in place (`--copy`); keeps mode and times. Returns the final path. The copy
 * appears complete or not at all, and only as the scanned version.
 *
 * @example A copy beside the original, which stays
 * ```ts
 * import { copyNoClobber } from "./move.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "kept");
 * const copy = await copyNoClobber(`${dir}/a.txt`, `${dir}/out/a.txt`);
 * assert.equal(await Deno.readTextFile(copy), "kept");
 * assert.equal(await Deno.readTextFile(`${dir}/a.txt`), "kept");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function copyNoClobber(
  src: string,
  dest: string,
  options: PlaceOptions = {},
): Promise<string> {
  try {
    checkSource(src, options);
    const placed = await publishNewFile(dest, (temp) => copyToNewFile(src, temp, options));
    await syncFolder(dirname(placed));
    return placed;
  } catch (error) {
    throw moveError("copy", src, dest, error);
  }
}

/**
 * Writes a new file at `dest` or the first free numbered name, never
 * replacing an existing one; creates missing parent folders. The file
 * appears complete or not at all (a temporary file, then a link), so a run
 * killed mid-write leaves nothing under a real name. Returns the final path.
 * `nameAt(n)` gives the n-th name to try when `numberedName(dest, n)` is not
 * the scheme (`nameAt(0)` must be `dest`).
 *
 * @example A taken name gets the next number
 * ```ts
 * import { writeFileNoClobber } from "./move.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * assert.equal(await writeFileNoClobber(`${dir}/r.json`, "{}"), `${dir}/r.json`);
 * assert.equal(await writeFileNoClobber(`${dir}/r.json`, "{}"), `${dir}/r.1.json`);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileNoClobber(
  dest: string,
  data: Uint8Array | string,
  options: { tempDir?: string; nameAt?: (n: number) => string } = {},
): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  try {
    const fill = async (temp: string) => {
      // Blocking for small files: an async write is a thread-pool hand-off per file.
      if (bytes.length <= SMALL_WRITE) Deno.writeFileSync(temp, bytes, { createNew: true });
      else await Deno.writeFile(temp, bytes, { createNew: true });
    };
    return await publishNewFile(dest, fill, options.tempDir, options.nameAt);
  } catch (error) {
    throw new Error(`cannot write ${dest}: ${reasonOf(error)}`);
  }
}

/**
 * Replaces the file at `dest` (or creates it) with `data`, atomically: a
 * temporary file renamed over it. For the files a run owns and rewrites,
 * such as `summary.json`; a reader sees the old file or the new, never half.
 *
 * @example The second write replaces the first whole
 * ```ts
 * import { replaceFile } from "./move.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await replaceFile(`${dir}/summary.json`, '{"run":1}\n');
 * await replaceFile(`${dir}/summary.json`, '{"run":2}\n');
 * assert.equal(await Deno.readTextFile(`${dir}/summary.json`), '{"run":2}\n');
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function replaceFile(
  dest: string,
  data: Uint8Array | string,
  options: { tempDir?: string } = {},
): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const temp = join(options.tempDir ?? dirname(dest), `${PARTIAL_PREFIX}${crypto.randomUUID()}`);
  try {
    await Deno.writeFile(temp, bytes, { createNew: true });
    await Deno.rename(temp, dest);
  } catch (error) {
    removeQuietly(temp);
    if (options.tempDir !== undefined && errorCode(error) === "EXDEV") {
      return await replaceFile(dest, bytes);
    }
    throw new Error(`cannot write ${dest}: ${reasonOf(error)}`);
  }
}
