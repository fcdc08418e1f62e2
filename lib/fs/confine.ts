/**
 * Confinement: te-scan acts only on a file inside the folder it was given.
 * A path is a chain of names, and anyone who can write to the input folder
 * can swap a folder on that chain for a symbolic link between the moment a
 * file is hashed and the moment it is moved. So, at the moment of acting,
 * every folder between the input folder and the file is checked to be a
 * real folder (no link on the chain), the real path of the file's folder is
 * checked to be where it should be, and the name itself must be a regular
 * file. Quarantined files are made inert: no exec, setuid or setgid bits.
 *
 * @module
 */

import { closeSync, constants, fchmodSync, fstatSync, openSync } from "node:fs";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { FileChangedError, type FileStat } from "./identity.ts";
import { type NotRegularFileError, openRegularFile, type RegularFile } from "./regular_file.ts";
import { isInside } from "../util/paths.ts";
import { lstatSyncIfAny } from "../util/stat.ts";

/** Why te-scan refuses to act on a path whose chain of folders changed. */
export const PATH_MOVED = "path no longer leads to the scanned file";

/** The folder a file must lie inside: as given, and its real path when the run started. */
export interface Confinement {
  root: string;
  realRoot: string;
}

/**
 * The confinement of a folder, its real path taken now (at the start of a run).
 *
 * @example A folder's confinement
 * ```ts
 * import { confinementOf } from "./confine.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * assert.equal(confinementOf(dir).realRoot, Deno.realPathSync(dir));
 * await Deno.remove(dir);
 * ```
 */
export function confinementOf(folder: string): Confinement {
  const root = resolve(folder);
  let realRoot = root;
  try {
    realRoot = Deno.realPathSync(root);
  } catch {
    // A root that is gone: every later check fails on the chain instead.
  }
  return { root, realRoot };
}

/**
 * Throws a {@linkcode FileChangedError} unless `path` lies inside the
 * confinement through real folders only and names a regular file. The
 * check is a snapshot: callers re-check the file they acted on afterwards.
 *
 * @example A folder swapped for a link to elsewhere
 * ```ts
 * import { checkConfined, confinementOf } from "./confine.ts";
 * import { FileChangedError } from "./identity.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/in/sub`, { recursive: true });
 * await Deno.mkdir(`${dir}/elsewhere`);
 * await Deno.writeTextFile(`${dir}/in/sub/a.txt`, "a");
 * await Deno.writeTextFile(`${dir}/elsewhere/a.txt`, "b");
 * const inside = confinementOf(`${dir}/in`);
 * checkConfined(`${dir}/in/sub/a.txt`, inside);
 * await Deno.rename(`${dir}/in/sub`, `${dir}/in/sub.orig`);
 * await Deno.symlink(`${dir}/elsewhere`, `${dir}/in/sub`);
 * assert.throws(() => checkConfined(`${dir}/in/sub/a.txt`, inside), FileChangedError);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function checkConfined(path: string, confinement: Confinement): void {
  checkFolders(path, confinement);
  checkRegularFile(path);
}

/**
 * The folder whose real path was last found where it should be. The files of
 * one folder share that one `realpath`; each still `lstat`s every folder on
 * its way, which is where a swap inside the input shows. The next folder's
 * files replace it, so it never outlives the files of one folder.
 */
export interface CheckedFolder {
  folder?: string;
}

/**
 * The folder half of {@linkcode checkConfined}: the chain up to the file's
 * name is confined. With `checked`, the real path of a folder just checked
 * is not asked for again.
 */
export function checkFolders(
  path: string,
  confinement: Confinement,
  checked?: CheckedFolder,
): void {
  // A path found under the input's real path (as `--files-from` gives them) is checked from there.
  if (!isInside(resolve(path), confinement.root)) {
    confinement = { root: confinement.realRoot, realRoot: confinement.realRoot };
  }
  const rel = relative(confinement.root, resolve(path));
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) throw new FileChangedError(PATH_MOVED);
  const names = rel.split(sep);
  let folder = confinement.root;
  for (const name of names.slice(0, -1)) {
    folder = join(folder, name);
    const info = lstatSyncIfAny(folder);
    if (!info?.isDirectory || info.isSymlink) throw new FileChangedError(PATH_MOVED);
  }
  if (checked?.folder === folder) return;
  const expected = join(confinement.realRoot, ...names.slice(0, -1));
  let real: string | undefined;
  try {
    real = Deno.realPathSync(folder);
  } catch {
    real = undefined;
  }
  if (real !== expected) throw new FileChangedError(PATH_MOVED);
  if (checked) checked.folder = folder;
}

/**
 * The `lstat` of `path`, which must be a regular file itself: a link in its
 * place is a {@linkcode FileChangedError}, a folder or special file an error,
 * a missing name `Deno.errors.NotFound`.
 */
export function checkRegularFile(path: string): Deno.FileInfo {
  const info = Deno.lstatSync(path);
  if (info.isSymlink) throw new FileChangedError(PATH_MOVED);
  // The file was hashed as a regular file: anything else in its place is a change.
  if (!info.isFile) throw new FileChangedError("changed while being scanned: not a regular file");
  return info;
}

/**
 * Takes the exec, setuid and setgid bits off a quarantined file (see
 * {@linkcode changeModeOpened}). Returns the mode it had, or undefined when
 * the name no longer leads to the file `ino` (nothing was changed).
 *
 * @example A setuid program made inert
 * ```ts
 * import { makeInert } from "./confine.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.chmod(path, 0o4755);
 * assert.equal(makeInert(path, Deno.lstatSync(path).ino!), 0o4755);
 * assert.equal(Deno.statSync(path).mode! & 0o7777, 0o644);
 * await Deno.remove(path);
 * ```
 */
export function makeInert(path: string, ino: number): number | undefined {
  return changeModeOpened(path, ino, (mode) => mode & ~0o6111);
}

/**
 * Changes the mode of the file `ino` at `path` to `change(its mode)`,
 * through an open descriptor (so the bits change on the file that was
 * opened, not on whatever the name leads to by then; a link is refused).
 * Returns the mode it had, or undefined when `path` is not that file.
 *
 * @example A quarantined file given its mode back
 * ```ts
 * import { changeModeOpened } from "./confine.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.chmod(path, 0o644);
 * assert.equal(changeModeOpened(path, Deno.lstatSync(path).ino!, () => 0o755), 0o644);
 * assert.equal(Deno.statSync(path).mode! & 0o7777, 0o755);
 * await Deno.remove(path);
 * ```
 */
export function changeModeOpened(
  path: string,
  ino: number,
  change: (mode: number) => number,
): number | undefined {
  // O_NOFOLLOW: a link put in the file's place is refused, never followed.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const info = fstatSync(fd);
    if (info.ino !== ino || !info.isFile()) return undefined;
    const mode = info.mode & 0o7777;
    const wanted = change(mode) & 0o7777;
    if (wanted !== mode) fchmodSync(fd, wanted);
    return mode;
  } finally {
    closeSync(fd);
  }
}

/** Why a file under the input folder is not read: a folder on its way was swapped for a link. */
export const LEFT_INPUT = "path no longer leads inside --in";

/**
 * A path to be read no longer leads inside the input folder: reading it
 * could send bytes from elsewhere (`/etc/shadow` for a root-run scan) to the
 * appliance. A {@linkcode FileChangedError}, so the file is never acted on.
 */
export class OutsideInputError extends FileChangedError {
  override name = "OutsideInputError";
  constructor() {
    super(LEFT_INPUT);
  }
}

/** A file opened by {@linkcode openConfinedSync}, with its `fstat` (taken anyway, so callers reuse it). */
export interface ConfinedFile {
  file: RegularFile;
  info: FileStat;
}

/**
 * The chain check of a file about to be read, then its own `lstat`, taken
 * after the chain check, to compare the opened file with.
 */
function confinedLstat(
  path: string,
  confinement: Confinement,
  checked?: CheckedFolder,
): Deno.FileInfo {
  try {
    checkFolders(path, confinement, checked);
  } catch (error) {
    if (!(error instanceof FileChangedError)) throw error;
    // A folder deleted or renamed away (no link in its place) took the file with it: it vanished.
    if (lstatSyncIfAny(path) === undefined) throw new Deno.errors.NotFound(path);
    throw new OutsideInputError();
  }
  const info = Deno.lstatSync(path);
  if (info.isSymlink) throw new OutsideInputError();
  // Hashed as a regular file: a FIFO or folder in its place now is another thing.
  if (!info.isFile) throw new FileChangedError("changed while being scanned");
  return info;
}

/** The opened file, once it proves to be the file the checked path named; else closed, and thrown. */
function sameAsChecked(file: RegularFile, checked: Deno.FileInfo): ConfinedFile {
  const info = file.opened;
  // A folder swapped for a link between the check and the open leads to another file.
  if (info.dev !== checked.dev || info.ino !== checked.ino) {
    file.close();
    throw new OutsideInputError();
  }
  return { file, info };
}

/**
 * Opens `path` for reading only when every folder between the input folder
 * and the file is a real folder inside it, the name is a regular file, and
 * the file opened is the one the name led to after that check (device and
 * inode of the open file against an `lstat` of the path). Throws an
 * {@linkcode OutsideInputError} otherwise; `Deno.errors.NotFound` for a
 * missing name. The hash and the upload open files through this, so bytes
 * from outside the input folder are never read for either. (Deno has no
 * `openat`: a folder swapped in and back between the chain check and the
 * `lstat` is the window left.)
 *
 * @example A folder swapped for a link to elsewhere is not read
 * ```ts
 * import { confinementOf, openConfinedSync, OutsideInputError } from "./confine.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/in/sub`, { recursive: true });
 * await Deno.mkdir(`${dir}/elsewhere`);
 * await Deno.writeTextFile(`${dir}/in/sub/a.txt`, "a");
 * await Deno.writeTextFile(`${dir}/elsewhere/a.txt`, "secret");
 * const inside = confinementOf(`${dir}/in`);
 * openConfinedSync(`${dir}/in/sub/a.txt`, inside).file.close();
 * await Deno.rename(`${dir}/in/sub`, `${dir}/in/sub.orig`);
 * await Deno.symlink(`${dir}/elsewhere`, `${dir}/in/sub`);
 * assert.throws(() => openConfinedSync(`${dir}/in/sub/a.txt`, inside), OutsideInputError);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function openConfinedSync(
  path: string,
  confinement: Confinement,
  checked?: CheckedFolder,
  refuse?: (error: NotRegularFileError) => Error,
): ConfinedFile {
  const seen = confinedLstat(path, confinement, checked);
  // Never waits: a FIFO swapped in after the check is refused (see regular_file.ts).
  return sameAsChecked(openRegularFile(path, refuse), seen);
}
