/**
 * Upload bodies streamed from disk with an exact length known up front, so
 * the transport can send `Content-Length` and memory stays constant
 * whatever the file's size (deno-notes §4):
 * - {@linkcode fileChunks}: the file itself, read 256 KiB at a time, refusing a
 *   file that is no longer the size it was hashed at (the multipart body of
 *   the cloud format is built on it);
 * - {@linkcode base64JsonBody}: a JSON document whose one string holds the
 *   file's base64, as a gateway UploadFile wants (`file_enc_data`). A 2 GiB
 *   file's base64 is a 2.7 GB string that V8 cannot even make, so the JSON
 *   text around it is sent as it is, and the file's base64 is produced chunk
 *   by chunk in between, three-byte groups carried from one read to the next.
 *
 * @module
 */

import { concatBytes } from "../util/bytes.ts";
import { FileChangedError } from "../fs/identity.ts";
import { type Confinement, openConfinedSync } from "../fs/confine.ts";
import { openRegularFile } from "../fs/regular_file.ts";
import type { RequestBody } from "./http.ts";

/** A file on disk to upload. */
export interface UploadSource {
  path: string;
  /** Its size when it was hashed: the body is exactly this file. */
  size: number;
  /** Its modification time when it was hashed; a file touched since is not sent. */
  mtimeMs?: number;
  /** The name the target is told. */
  name: string;
  /** The input folder it must be read inside of (see `openConfinedSync`); none for a followed link. */
  confinedTo?: Confinement;
}

/** A streamed body whose length is known before the first byte is sent. */
export type SizedBody = Exclude<RequestBody, Uint8Array>;

/** Bytes per read of the file. */
const CHUNK = 1 << 18;

/** Bytes per read for base64: a multiple of 3, so whole reads need no carry. */
const BASE64_CHUNK = 3 * 349_525;

/**
 * The file's bytes as views of one reused buffer, each valid only until the
 * next is asked for. Throws once the file proves longer or shorter than
 * `file.size`: it changed after it was hashed, and an upload of other bytes
 * would give a verdict to the wrong content.
 */
async function* fileViews(file: UploadSource, chunkBytes: number): AsyncGenerator<Uint8Array> {
  // Checked again as the hash was: a folder swapped for a link since must not send its bytes.
  // Never waits: a FIFO swapped in since hashing would block the upload and the exit.
  const refuse = (error: Error) =>
    new FileChangedError("changed while being scanned", { cause: error });
  using handle = file.confinedTo
    ? openConfinedSync(file.path, file.confinedTo, undefined, refuse).file
    : openRegularFile(file.path, refuse);
  // Small files get a small buffer: with -n 64 uploads, 1 MiB each adds up.
  const buffer = new Uint8Array(Math.min(chunkBytes, Math.max(4096, file.size + 1)));
  let sent = 0;
  for (;;) {
    const n = await handle.read(buffer);
    if (n === null) break;
    sent += n;
    if (sent > file.size) break;
    yield buffer.subarray(0, n);
  }
  const now = await handle.stat();
  const touched = file.mtimeMs !== undefined && now.mtime?.getTime() !== file.mtimeMs;
  if (sent !== file.size || now.size !== file.size || touched) {
    // Not the bytes that were hashed: no verdict may be given to them.
    throw new FileChangedError("changed while being scanned");
  }
}

/**
 * The file's bytes, `chunkBytes` at a time, each chunk a copy the caller may
 * keep (the transport may still hold one when the next is read). Throws if
 * the file is no longer the size it was hashed at.
 *
 * @example A file read back in small chunks
 * ```ts
 * import { fileChunks } from "./upload_body.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "hello world");
 * const chunks = await Array.fromAsync(fileChunks({ path, size: 11, name: "h" }, 4));
 * assert.deepEqual(chunks.map((c) => c.length), [4, 4, 3]);
 * await assert.rejects(
 *   Array.fromAsync(fileChunks({ path, size: 10, name: "h" })),
 *   /changed while being scanned/,
 * );
 * await Deno.remove(path);
 * ```
 */
export async function* fileChunks(
  file: UploadSource,
  chunkBytes = CHUNK,
): AsyncGenerator<Uint8Array> {
  for await (const view of fileViews(file, chunkBytes)) yield view.slice();
}

/**
 * Length of the base64 text of `size` bytes (padded).
 *
 * @example Four characters for every three bytes, rounded up
 * ```ts
 * import { base64Length } from "./upload_body.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual([0, 1, 2, 3, 4].map(base64Length), [0, 4, 4, 4, 8]);
 * ```
 */
export function base64Length(size: number): number {
  return 4 * Math.ceil(size / 3);
}

/**
 * The body `head` + base64 of the file + `tail`, where `head` ends inside a
 * JSON string (its opening quote) and `tail` closes it. Its `chunks()` may
 * be called again for a retry, and throws if the file's size has changed.
 *
 * @example The body is exactly the JSON it stands for
 * ```ts
 * import { base64JsonBody } from "./upload_body.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "hello");
 * const body = base64JsonBody('{"file_enc_data":"', '"}', { path, size: 5, name: "h" });
 * const text = new TextDecoder().decode(
 *   new Uint8Array((await Array.fromAsync(body.chunks())).flatMap((c) => [...c])),
 * );
 * assert.equal(text, '{"file_enc_data":"aGVsbG8="}');
 * assert.equal(body.length, text.length);
 * await Deno.remove(path);
 * ```
 */
export function base64JsonBody(
  head: string,
  tail: string,
  file: UploadSource,
  chunkBytes = BASE64_CHUNK,
): SizedBody {
  const encoder = new TextEncoder();
  const headBytes = encoder.encode(head);
  const tailBytes = encoder.encode(tail);
  async function* chunks(): AsyncGenerator<Uint8Array> {
    yield headBytes;
    let carry = new Uint8Array(0);
    // Views, not copies: each is encoded (or its last bytes copied) before the next read.
    for await (const chunk of fileViews(file, chunkBytes)) {
      // A short read leaves one or two bytes of a group for the next one.
      const bytes = carry.length ? concatBytes([carry, chunk]) : chunk;
      const whole = bytes.length - (bytes.length % 3);
      // Base64 is ASCII: the text's length is its byte length.
      if (whole) yield encoder.encode(bytes.subarray(0, whole).toBase64());
      carry = bytes.slice(whole);
    }
    if (carry.length) yield encoder.encode(carry.toBase64());
    yield tailBytes;
  }
  return { length: headBytes.length + base64Length(file.size) + tailBytes.length, chunks };
}
