/**
 * Never-overwrite placement of files for the dispose stage: a name clash picks
 * the next numbered name (`b.docx`, `b.1.docx`, `b.2.docx`, ...), and a file is
 * never left in two places or in none.
 *
 * `Deno.rename` would silently replace an existing destination, so placement
 * goes through `Deno.link`, which fails with `AlreadyExists` instead. Where a
 * hard link is impossible (another filesystem, or one without hard links) the
 * file is copied to a hidden partial name beside the destination, synced to
 * disk, and only then given its final name; the source goes last.
 *
 * @example
 * ```ts
 * import { moveNoClobber } from "./move.ts";
 * const placedAt = await moveNoClobber("/drop/a/b.docx", "/benign/a/b.docx");
 * // "/benign/a/b.docx", or "/benign/a/b.1.docx" if that name was taken
 * ```
 * @module
 */

import { basename, dirname, extname, join } from "node:path";
import { reasonOf } from "./errors.ts";

/** Prefix of the temporary names that cross-filesystem copies are written under. */
export const PARTIAL_PREFIX = ".te-scan-partial-";

// Enough for any real clash; a filesystem that answers "exists" forever must not hang a run.
const MAX_NUMBERED_NAMES = 100_000;

const COPY_CHUNK = 1 << 20;

/**
 * `link(2)` errors meaning "no hard link possible here", not "something is wrong":
 * another filesystem, a filesystem without links, a link count at its limit, or
 * `fs.protected_hardlinks` refusing to link a file the user may read but not write.
 */
const LINK_IMPOSSIBLE = new Set(["EXDEV", "EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EMLINK"]);

function errorCode(error: unknown): string | undefined {
  if (error instanceof Error && "code" in error && typeof error.code === "string") {
    return error.code;
  }
  return undefined;
}

/**
 * The `n`-th alternative name for a path: the number goes before the last
 * extension, or at the end when there is none; `n = 0` is the path itself.
 *
 * @example
 * ```ts
 * import { numberedName } from "./move.ts";
 * numberedName("a/b.docx", 1); // "a/b.1.docx"
 * numberedName("a/README", 2); // "a/README.2"
 * numberedName(".bashrc", 1); // ".bashrc.1"
 * numberedName("x.tar.gz", 1); // "x.tar.1.gz"
 * ```
 */
export function numberedName(path: string, n: number): string {
  if (n === 0) return path;
  const name = basename(path);
  const extension = extname(name);
  const stem = name.slice(0, name.length - extension.length);
  const numbered = `${stem}.${n}${extension}`;
  const folder = dirname(path);
  return folder === "." ? numbered : join(folder, numbered);
}

async function ensureParentFolder(path: string): Promise<void> {
  const folder = dirname(path);
  try {
    await Deno.mkdir(folder, { recursive: true });
  } catch (error) {
    const reason = error instanceof Deno.errors.AlreadyExists
      ? "a file is in the way"
      : reasonOf(error);
    throw new Error(`cannot create folder ${folder}: ${reason}`);
  }
}

/**
 * Offers `dest`, then its numbered names, to `place` until it takes one.
 * `place` answers false when the name is taken and throws on real failures.
 */
async function placeAtFreeName(
  dest: string,
  place: (candidate: string) => Promise<boolean>,
): Promise<string> {
  for (let n = 0; n < MAX_NUMBERED_NAMES; n++) {
    const candidate = numberedName(dest, n);
    if (await place(candidate)) return candidate;
  }
  throw new Error(`no free name after ${MAX_NUMBERED_NAMES} numbered names`);
}

async function linkIfFree(existing: string, candidate: string): Promise<boolean> {
  try {
    await Deno.link(existing, candidate);
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
    return await linkIfFree(temp, candidate);
  } catch (error) {
    if (!LINK_IMPOSSIBLE.has(errorCode(error) ?? "")) throw error;
  }
  try {
    await Deno.lstat(candidate);
    return false;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  await Deno.rename(temp, candidate);
  return true;
}

async function removeQuietly(path: string): Promise<void> {
  try {
    await Deno.remove(path);
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
async function removeSourceOrUndo(src: string, placed: string): Promise<void> {
  try {
    await Deno.remove(src);
  } catch (error) {
    // Someone else removed it meanwhile: the placed file is now the only one, as intended.
    if (error instanceof Deno.errors.NotFound) return;
    await removeQuietly(placed);
    throw new Error(`cannot remove the original: ${reasonOf(error)}`);
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    written += await file.write(bytes.subarray(written));
  }
}

/** Copies `src` into the new file `temp` with the source's mode and times, synced to disk. */
async function copyToNewFile(src: string, temp: string): Promise<void> {
  // Checked before opening: opening a FIFO for reading would block until a writer came.
  const seen = await Deno.stat(src);
  if (!seen.isFile) throw new Error("not a regular file");
  using input = await Deno.open(src, { read: true });
  const before = await input.stat();
  using output = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
  const buffer = new Uint8Array(COPY_CHUNK);
  let copied = 0;
  for (;;) {
    const count = await input.read(buffer);
    if (count === null) break;
    await writeAll(output, buffer.subarray(0, count));
    copied += count;
  }
  const after = await input.stat();
  if (
    before.size !== after.size || copied !== after.size ||
    before.mtime?.getTime() !== after.mtime?.getTime()
  ) {
    throw new Error("it changed while being copied");
  }
  if (after.mode !== null) await Deno.chmod(temp, after.mode & 0o7777);
  if (after.mtime !== null) await output.utime(after.atime ?? after.mtime, after.mtime);
  await output.sync();
}

async function writeNewFile(temp: string, data: Uint8Array): Promise<void> {
  using output = await Deno.open(temp, { write: true, createNew: true });
  await writeAll(output, data);
  await output.sync();
}

/** Writes `data` at `candidate` if that name is free (exclusive create). */
async function writeIfFree(candidate: string, data: Uint8Array): Promise<boolean> {
  try {
    // Blocking for small files: an async write is a thread-pool hand-off per file.
    if (data.byteLength <= SMALL_WRITE) Deno.writeFileSync(candidate, data, { createNew: true });
    else await Deno.writeFile(candidate, data, { createNew: true });
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return false;
    throw error;
  }
}

/** Writes up to this size are blocking (see writeIfFree). */
const SMALL_WRITE = 1 << 20;

/**
 * Fills a hidden partial file beside `dest` with `fill`, then links it at the
 * first free numbered name. A failure at any step removes the partial file.
 */
async function publishNewFile(
  dest: string,
  fill: (temp: string) => Promise<void>,
): Promise<string> {
  await ensureParentFolder(dest);
  const folder = dirname(dest);
  const temp = join(folder, `${PARTIAL_PREFIX}${crypto.randomUUID()}`);
  try {
    await fill(temp);
    const placed = await placeAtFreeName(dest, (candidate) => linkOrRenameIfFree(temp, candidate));
    await removeQuietly(temp);
    await syncFolder(folder);
    return placed;
  } catch (error) {
    await removeQuietly(temp);
    throw error;
  }
}

/**
 * Moves a file by copying it: the path taken when a hard link is impossible
 * (another filesystem). Copy to a partial name, fsync, keep mode and times,
 * link into a free name, then remove the source. Exported for tests, which
 * have no second filesystem to force this path through `moveNoClobber`.
 *
 * @example
 * ```ts
 * import { moveByCopy } from "./move.ts";
 * const placedAt = await moveByCopy("/drop/a.pdf", "/mnt/usb/benign/a.pdf");
 * ```
 */
export async function moveByCopy(src: string, dest: string): Promise<string> {
  try {
    const placed = await publishNewFile(dest, (temp) => copyToNewFile(src, temp));
    await removeSourceOrUndo(src, placed);
    return placed;
  } catch (error) {
    throw new Error(`cannot move ${src} to ${dest}: ${reasonOf(error)}`);
  }
}

/**
 * Moves a file to `dest` or, if that name is taken, to the first free numbered
 * name; creates missing parent folders; keeps mode and times. Returns the
 * final path. On failure the source is untouched and the error is one line:
 * `cannot move <src> to <dest>: <reason>`.
 *
 * @example
 * ```ts
 * import { moveNoClobber } from "./move.ts";
 * const placedAt = await moveNoClobber("/drop/a/b.docx", "/jail/a/b.docx");
 * console.log(`quarantined as ${placedAt}`);
 * ```
 */
export async function moveNoClobber(src: string, dest: string): Promise<string> {
  let placed: string;
  try {
    await ensureParentFolder(dest);
    placed = await placeAtFreeName(dest, (candidate) => linkIfFree(src, candidate));
  } catch (error) {
    if (LINK_IMPOSSIBLE.has(errorCode(error) ?? "")) return await moveByCopy(src, dest);
    throw new Error(`cannot move ${src} to ${dest}: ${reasonOf(error)}`);
  }
  try {
    await removeSourceOrUndo(src, placed);
    return placed;
  } catch (error) {
    throw new Error(`cannot move ${src} to ${dest}: ${reasonOf(error)}`);
  }
}

/**
 * Copies a file to `dest` or the first free numbered name, leaving the source
 * in place (`--copy`); keeps mode and times. Returns the final path. The copy
 * appears complete or not at all.
 *
 * @example
 * ```ts
 * import { copyNoClobber } from "./move.ts";
 * const copiedTo = await copyNoClobber("/drop/a/b.docx", "/benign/a/b.docx");
 * ```
 */
export async function copyNoClobber(src: string, dest: string): Promise<string> {
  try {
    return await publishNewFile(dest, (temp) => copyToNewFile(src, temp));
  } catch (error) {
    throw new Error(`cannot copy ${src} to ${dest}: ${reasonOf(error)}`);
  }
}

/**
 * Writes a new file at `dest` or the first free numbered name, never
 * replacing an existing one; creates missing parent folders. The file appears
 * complete or not at all. Returns the final path.
 *
 * `durable: false` writes in place with an exclusive create and no fsync:
 * for files that can be made again (an appliance's answer, a report it still
 * holds), where a crash may leave one truncated but a temporary file, a link
 * and two fsyncs per file would cap a cache-hit tree at a few hundred files
 * a second.
 *
 * @example
 * ```ts
 * import { writeFileNoClobber } from "./move.ts";
 * const savedAt = await writeFileNoClobber("/rep/a/b.docx.response.json", "{}\n");
 * ```
 */
export async function writeFileNoClobber(
  dest: string,
  data: Uint8Array | string,
  options: { durable?: boolean } = {},
): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  try {
    if (options.durable === false) {
      const place = (candidate: string) => writeIfFree(candidate, bytes);
      try {
        // Optimistic: the folder usually exists already, and a mkdir per file is not free.
        return await placeAtFreeName(dest, place);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
        await ensureParentFolder(dest);
        return await placeAtFreeName(dest, place);
      }
    }
    return await publishNewFile(dest, (temp) => writeNewFile(temp, bytes));
  } catch (error) {
    throw new Error(`cannot write ${dest}: ${reasonOf(error)}`);
  }
}
