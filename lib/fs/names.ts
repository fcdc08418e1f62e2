/**
 * Names that fit the file system. A file may well have a name of the full
 * 255 bytes Linux file systems allow; the names te-scan makes from it (a
 * numbered name, `.response.json`, `.report.tar.gz`) are longer, and one
 * such name must not stop the run. A name over the limit is shortened
 * deterministically: the start of the name, `~` and a short hash of the
 * full name, then its extension, so the same long name always gets the
 * same short one and two long names sharing a start stay apart.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { basename, dirname, extname, join } from "node:path";

/** The longest file name, in bytes, of the file systems te-scan writes to (ext4, xfs, btrfs, tmpfs). */
export const NAME_MAX = 255;

const encoder = new TextEncoder();

/** `text` cut to at most `bytes` UTF-8 bytes, never inside a character. */
function cutToBytes(text: string, bytes: number): string {
  let used = 0;
  let end = 0;
  for (const char of text) {
    const size = encoder.encode(char).length;
    if (used + size > bytes) break;
    used += size;
    end += char.length;
  }
  return text.slice(0, end);
}

/**
 * `path` with its last component shortened to at most `limit` bytes
 * (default {@linkcode NAME_MAX}) when it is longer; the folders are kept.
 * A caller that appends a suffix to the name passes a limit that leaves
 * room for it.
 *
 * @example A 300-byte name keeps its start and extension, and gains a hash
 * ```ts
 * import { fitName } from "./names.ts";
 * import assert from "node:assert/strict";
 *
 * const long = `/rep/${"a".repeat(296)}.doc`;
 * const short = fitName(long);
 * assert.match(short, /^\/rep\/a+~[0-9a-f]{12}\.doc$/);
 * assert.equal(new TextEncoder().encode(short.slice(5)).length, 255);
 * assert.equal(fitName(long), short); // always the same
 * assert.equal(fitName("/rep/b.doc"), "/rep/b.doc");
 * ```
 */
export function fitName(path: string, limit = NAME_MAX): string {
  const name = basename(path);
  if (encoder.encode(name).length <= limit) return path;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 12);
  let extension = extname(name);
  // An "extension" too long to be one is part of the name.
  if (encoder.encode(extension).length > 32) extension = "";
  const stem = name.slice(0, name.length - extension.length);
  const room = limit - encoder.encode(`~${hash}${extension}`).length;
  const short = `${cutToBytes(stem, room)}~${hash}${extension}`;
  const folder = dirname(path);
  return folder === "." ? short : join(folder, short);
}
