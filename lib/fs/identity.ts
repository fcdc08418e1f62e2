/**
 * A file's identity: which file it is (device and inode) and which version
 * of it (size, modification and change times). A verdict belongs to the
 * bytes that were scanned, so the identity recorded when a file is hashed
 * is checked again just before it is published and once it is in its new
 * place; a file whose identity moved in between is never published as
 * benign.
 *
 * @module
 */

/** The file is not the version that was scanned: it was written to meanwhile. */
export class FileChangedError extends Error {
  override name = "FileChangedError";
}

/** Device, inode, size and times of a file, as `stat` gives them. */
export interface FileIdentity {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  /** The change time moves on any write, chmod or rename, even one that resets mtime. */
  ctimeMs: number;
  /** Permission bits when hashed: the mode a quarantined file had before it was made inert. */
  mode?: number;
}

/** What a file's `stat` tells that an identity is made of (a `Deno.FileInfo` or node's `Stats`). */
export type FileStat = Pick<
  Deno.FileInfo,
  "dev" | "ino" | "size" | "mtime" | "ctime" | "atime" | "mode"
>;

/**
 * The identity in a `Deno.FileInfo` (or any {@linkcode FileStat}).
 *
 * @example The identity of a file on disk
 * ```ts
 * import { identityOf } from "./identity.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "abc");
 * const id = identityOf(await Deno.stat(path));
 * assert.equal(id.size, 3);
 * assert.ok(id.ino > 0);
 * await Deno.remove(path);
 * ```
 */
export function identityOf(info: FileStat): FileIdentity {
  const identity: FileIdentity = {
    dev: info.dev,
    ino: info.ino ?? 0,
    size: info.size,
    mtimeMs: info.mtime?.getTime() ?? 0,
    ctimeMs: info.ctime?.getTime() ?? 0,
  };
  if (info.mode !== null) identity.mode = info.mode & 0o7777;
  return identity;
}

/**
 * Whether `now` is the same file with the same content as `then`. The change
 * time is compared only when `strict`: linking a file to a new name (as a
 * move does) moves it, so after the file's first move of the run only the
 * other fields can be compared.
 *
 * @example A file appended to after it was hashed
 * ```ts
 * import { identityOf, sameVersion } from "./identity.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * const then = identityOf(await Deno.stat(path));
 * await Deno.writeTextFile(path, "more", { append: true });
 * assert.equal(sameVersion(then, identityOf(await Deno.stat(path))), false);
 * await Deno.remove(path);
 * ```
 */
export function sameVersion(then: FileIdentity, now: FileIdentity, strict = true): boolean {
  return then.dev === now.dev && then.ino === now.ino && then.size === now.size &&
    then.mtimeMs === now.mtimeMs && (!strict || then.ctimeMs === now.ctimeMs);
}
