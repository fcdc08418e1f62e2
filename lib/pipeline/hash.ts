/**
 * SHA-1 and MD5 of a file in one read pass of 1 MiB reads.
 *
 * Appliances key Threat Emulation on SHA-1, and echo MD5 and SHA-256 in every
 * answer. MD5 is computed for every file, not only for Anti-Virus lookups:
 * an answer is applied only when every digest it names matches the file's
 * (see `lib/transport/match.ts`), and an unchecked md5 would let an answer
 * about other content through. Both digests share the one read pass.
 *
 * @example The digests of a small file
 * ```ts
 * import { hashFile } from "./hash.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "abc");
 * const { md5, sha1, size } = await hashFile(path);
 * assert.equal(sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
 * assert.equal(md5, "900150983cd24fb0d6963f7d28e17f72");
 * assert.equal(size, 3);
 * await Deno.remove(path);
 * ```
 * @module
 */

import { createHash } from "node:crypto";
import { reasonOf } from "../util/reason.ts";
import { errorCode } from "../util/error_code.ts";
import {
  FileChangedError,
  type FileIdentity,
  type FileStat,
  identityOf,
  sameVersion,
} from "../fs/identity.ts";
import { openRegularFile, type RegularFile } from "../fs/regular_file.ts";
import {
  type CheckedFolder,
  type Confinement,
  LEFT_INPUT,
  openConfinedSync,
  OutsideInputError,
} from "../fs/confine.ts";
import { isInside } from "../util/paths.ts";
import type { RunProgress } from "./progress.ts";
import type { PipelineItem, ScanFile } from "./types.ts";
import { mapConcurrent } from "./streams.ts";
import type { WalkItem } from "./walk.ts";

/** A file's digests, in lowercase hex, the number of bytes hashed, and the version hashed. */
export interface FileDigests {
  /** MD5, 32 hex digits. */
  md5: string;
  /** SHA-1, 40 hex digits. */
  sha1: string;
  /** Bytes hashed, which is also the file's size while it was read. */
  size: number;
  /** The file and version the digests belong to, checked again before it is published. */
  identity: FileIdentity;
}

/**
 * What the caller saw of the file before (usually the walk's `lstat`), so that
 * a change between the walk and the hashing is caught too.
 */
export interface HashExpectations {
  /** Size in bytes the file must still have. */
  expectedSize?: number;
  /** Modification time (ms since the epoch) the file must still have. */
  expectedMtimeMs?: number;
  /** The input folder the file must be read inside of (see `openConfinedSync`); none for a followed link. */
  confine?: Confinement;
  /** The folder the hash stage last checked (see `CheckedFolder`). */
  checked?: CheckedFolder;
}

/**
 * The file was gone when hashing started (deleted or moved after the walk saw it).
 *
 * @example A file deleted before it was hashed
 * ```ts
 * import { FileVanishedError, hashFile } from "./hash.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await assert.rejects(hashFile(`${dir}/deleted-meanwhile.docx`), FileVanishedError);
 * await Deno.remove(dir);
 * ```
 */
export class FileVanishedError extends Error {
  override name = "FileVanishedError";
}

// 1 MiB reads run at ~1.1 GiB/s; FsFile.readable's 64 KiB chunks at less than half that.
const READ_SIZE = 1 << 20;

function openError(path: string, error: unknown): Error {
  // A path that leads out of the input folder is not read: the caller says so.
  if (error instanceof OutsideInputError) return error;
  return errorCode(error) === "ENOENT" || error instanceof Deno.errors.NotFound
    ? new FileVanishedError(`vanished before hashing: ${path}`)
    : new Error(`cannot read: ${path}: ${reasonOf(error)}`);
}

/** A file opened for hashing, with its `fstat` when the confined open took one. */
interface Opened {
  file: RegularFile;
  info?: FileStat;
}

/**
 * Opens without ever waiting (a FIFO put in the file's place is refused, not
 * waited on) and, with `confine`, only through real folders inside the input.
 */
function openForHashing(path: string, options: HashExpectations): Opened {
  const { confine, checked } = options;
  try {
    return confine ? openConfinedSync(path, confine, checked) : { file: openRegularFile(path) };
  } catch (error) {
    throw openError(path, error);
  }
}

/** Files up to this size are read with blocking calls (see hashFile). */
const SYNC_READ_LIMIT = 256 * 1024;

function mtimeMsOf(info: FileStat): number | undefined {
  return info.mtime?.getTime();
}

/** Reads a small file to its end with blocking calls; returns the bytes read. */
function readAllSync(file: RegularFile, size: number, take: (chunk: Uint8Array) => void): number {
  // Small files get a small buffer: zeroing 1 MiB per file would dominate a tree of small files.
  const buffer = new Uint8Array(Math.min(READ_SIZE, Math.max(4096, size + 1)));
  let bytesRead = 0;
  for (let count; (count = file.readSync(buffer)) !== null;) {
    take(buffer.subarray(0, count));
    bytesRead += count;
  }
  return bytesRead;
}

/**
 * Reads a file to its end with two buffers, so the next read runs in Deno's
 * thread pool while this one is hashed (about an eighth faster on a 1 GiB
 * file, with one more buffer). Returns the bytes read.
 */
async function readAllOverlapped(
  file: RegularFile,
  take: (chunk: Uint8Array) => void,
): Promise<number> {
  const buffers = [new Uint8Array(READ_SIZE), new Uint8Array(READ_SIZE)];
  let current = 0;
  let next = file.read(buffers[current]);
  let bytesRead = 0;
  try {
    for (let count; (count = await next) !== null;) {
      const chunk = buffers[current].subarray(0, count);
      current ^= 1;
      next = file.read(buffers[current]);
      take(chunk);
      bytesRead += count;
    }
  } catch (error) {
    // The read under way ends with the file's closing; its failure is not news.
    next.catch(() => {});
    throw error;
  }
  return bytesRead;
}

/**
 * Hashes a file with MD5 and SHA-1 in a single pass of 1 MiB reads.
 *
 * Throws `FileChangedError` when the file's size or modification time moved
 * during the read, when the bytes read differ from its size, or when it no
 * longer matches `expectedSize`/`expectedMtimeMs`; `OutsideInputError` when,
 * with `confine`, the path no longer leads inside the input folder;
 * `FileVanishedError` when it does not exist; and an `Error` reading `cannot read: <path>: <reason>` for
 * anything else. Every message is one line naming the file.
 *
 * @example A file that grew since the walk saw it
 * ```ts
 * import { hashFile } from "./hash.ts";
 * import { FileChangedError } from "../fs/identity.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "abcd");
 * assert.equal((await hashFile(path, { expectedSize: 4 })).size, 4);
 * await assert.rejects(hashFile(path, { expectedSize: 3 }), FileChangedError);
 * await Deno.remove(path);
 * ```
 */
export async function hashFile(
  path: string,
  options: HashExpectations = {},
): Promise<FileDigests> {
  // Small files are read with blocking calls: each is microseconds, while every async
  // file operation is a hand-off to Deno's thread pool, which dominates a tree of small files.
  const small = options.expectedSize !== undefined && options.expectedSize <= SYNC_READ_LIMIT;
  const opened = openForHashing(path, options);
  using file = opened.file;
  try {
    // The fstat taken as it was opened: the file's state before the read.
    const before = opened.info ?? file.opened;
    const md5 = createHash("md5");
    const sha1 = createHash("sha1");
    const update = (chunk: Uint8Array) => {
      md5.update(chunk);
      sha1.update(chunk);
    };
    const bytesRead = small
      ? readAllSync(file, before.size, update)
      : await readAllOverlapped(file, update);
    const after = small ? file.statSync() : await file.stat();
    const identity = identityOf(after);
    const unchanged = sameVersion(identityOf(before), identity) &&
      bytesRead === after.size &&
      (options.expectedSize === undefined || options.expectedSize === after.size) &&
      (options.expectedMtimeMs === undefined || options.expectedMtimeMs === mtimeMsOf(after));
    if (!unchanged) throw new FileChangedError(`changed while being hashed: ${path}`);
    return { sha1: sha1.digest("hex"), md5: md5.digest("hex"), size: bytesRead, identity };
  } catch (error) {
    if (error instanceof FileChangedError) throw error;
    throw new Error(`cannot read: ${path}: ${reasonOf(error)}`);
  }
}

/**
 * The hash stage: walk items in, pipeline items out. Files are hashed
 * `concurrency` at a time (a pool of readers beats serial reads on a cold
 * disk, deno-notes §2). Skipped walk items and files that vanish or change
 * while being hashed are settled here and passed on to the sink; a file
 * still being written is left where it is.
 *
 * @example Hash what a walk finds
 * ```ts
 * import { hashStage } from "./hash.ts";
 * import { walk } from "./walk.ts";
 * import assert from "node:assert/strict";
 *
 * const root = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${root}/a.txt`, "abc");
 * const items = await Array.fromAsync(walk({ root }).pipeThrough(hashStage(4)));
 * const [item] = items;
 * assert.equal(item.kind === "job" && item.file.sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export function hashStage(
  concurrency: number,
  options: { progress?: RunProgress; signal?: AbortSignal; confine?: Confinement } = {},
): TransformStream<WalkItem, PipelineItem> {
  const { progress, confine } = options;
  // One realpath per folder's files (see CheckedFolder): the stage sees them in walk order.
  const checked: CheckedFolder = {};
  return mapConcurrent(
    async (item: WalkItem): Promise<PipelineItem> => {
      if (progress) progress.hashing++;
      try {
        return await hashItem(item, confine, checked);
      } finally {
        if (progress) progress.hashing--;
      }
    },
    concurrency,
    options.signal,
  );
}

/**
 * The confinement a file is read under: none for a file reached through a
 * followed link (read there on purpose, never moved) or one not found under
 * the input folder (a file a killed run left in the jail, taken again).
 */
function confinementFor(item: ScanFile, confine?: Confinement): Confinement | undefined {
  if (!confine || item.target) return undefined;
  const inside = isInside(item.path, confine.root) || isInside(item.path, confine.realRoot);
  return inside ? confine : undefined;
}

async function hashItem(
  item: WalkItem,
  confine?: Confinement,
  checked?: CheckedFolder,
): Promise<PipelineItem> {
  if (item.kind !== "file") {
    // A policy skip stays a skip; an entry that cannot be read by its real name is unresolved.
    const state = item.kind === "skipped" ? "skipped" : "error";
    return {
      kind: "settled",
      file: { path: item.path, relPath: item.relPath, size: 0, mtimeMs: 0 },
      outcome: { state, reason: item.reason, keepInPlace: true },
    };
  }
  const file: ScanFile = {
    path: item.path,
    relPath: item.relPath,
    size: item.size,
    mtimeMs: item.mtimeMs,
  };
  if (item.target) file.target = item.target;
  const confinedTo = confinementFor(file, confine);
  // The upload opens the file again, under the same check.
  if (confinedTo) file.confinedTo = confinedTo;
  const startedAt = performance.now();
  try {
    const digests = await hashFile(item.path, {
      expectedSize: item.size,
      expectedMtimeMs: item.mtimeMs,
      confine: confinedTo,
      checked,
    });
    return { kind: "job", file: { ...file, ...digests }, startedAt, needsUpload: false };
  } catch (error) {
    const changed = error instanceof FileChangedError;
    const reason = error instanceof OutsideInputError
      ? LEFT_INPUT
      : changed
      ? "changed while being hashed (still being written?); left in place for the next run"
      : reasonOf(error);
    return {
      kind: "settled",
      file,
      outcome: { state: "error", reason, keepInPlace: true },
    };
  }
}
