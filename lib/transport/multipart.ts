/**
 * A streamed `multipart/form-data` upload body of known length: the
 * `request` JSON part, then the file read from disk 1 MiB at a time.
 *
 * `FormData` would load the whole file (three times its size, deno-notes §4);
 * this keeps memory constant and lets the transport send `Content-Length`.
 *
 * @example
 * ```ts
 * import { multipartUpload } from "./multipart.ts";
 * const { contentType, body } = multipartUpload('{"request":{}}', {
 *   path: "/tmp/a.pdf",
 *   size: 1234,
 *   name: "a.pdf",
 * });
 * ```
 * @module
 */

import { FileChangedError } from "../fs/identity.ts";
import type { RequestBody } from "./http.ts";

/** A file on disk to upload. */
export interface UploadSource {
  path: string;
  size: number;
  /** Its modification time when it was hashed; a file touched since is not sent. */
  mtimeMs?: number;
  /** The name sent in the part's `filename`. */
  name: string;
}

const CHUNK = 1 << 20;

function sameMtime(info: Deno.FileInfo, mtimeMs: number | undefined): boolean {
  return mtimeMs === undefined || info.mtime?.getTime() === mtimeMs;
}

function quoteFileName(name: string): string {
  return name.replace(/[\r\n"\\]/g, "_");
}

/**
 * Builds the body. Its `chunks()` may be called again for a retry; it
 * throws if the file's size differs from `size` (the file changed after it
 * was hashed).
 *
 * @example
 * ```ts
 * import { multipartUpload } from "./multipart.ts";
 * const upload = multipartUpload("{}", { path: "/etc/hostname", size: 5, name: "h" });
 * upload.body.length; // head + 5 + tail
 * ```
 */
export function multipartUpload(
  requestJson: string,
  file: UploadSource,
): { contentType: string; body: RequestBody & { length: number } } {
  const encoder = new TextEncoder();
  const boundary = `----te-scan-${crypto.randomUUID().replaceAll("-", "")}`;
  const head = encoder.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="request"\r\n` +
      `Content-Type: application/json\r\n\r\n${requestJson}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; ` +
      `filename="${quoteFileName(file.name)}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = encoder.encode(`\r\n--${boundary}--\r\n`);
  async function* chunks(): AsyncGenerator<Uint8Array> {
    yield head;
    using handle = await Deno.open(file.path, { read: true });
    // Small files get a small buffer: with -n 64 uploads, 1 MiB each adds up.
    const buffer = new Uint8Array(Math.min(CHUNK, Math.max(4096, file.size + 1)));
    let sent = 0;
    for (;;) {
      const n = await handle.read(buffer);
      if (n === null) break;
      sent += n;
      if (sent > file.size) break;
      // A copy: the transport may still hold the chunk when the buffer is refilled.
      yield buffer.slice(0, n);
    }
    const now = await handle.stat();
    if (sent !== file.size || now.size !== file.size || !sameMtime(now, file.mtimeMs)) {
      throw new FileChangedError("changed while being scanned");
    }
    yield tail;
  }
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    body: { length: head.byteLength + file.size + tail.byteLength, chunks },
  };
}
