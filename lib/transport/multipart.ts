/**
 * A streamed `multipart/form-data` upload body of known length: the
 * `request` JSON part, then the file read from disk 256 KiB at a time.
 *
 * `FormData` would load the whole file (three times its size, deno-notes §4);
 * this keeps memory constant and lets the transport send `Content-Length`.
 *
 * @example The content type names the boundary
 * ```ts
 * import { multipartUpload } from "./multipart.ts";
 * import assert from "node:assert/strict";
 *
 * const file = { path: "/tmp/a.pdf", size: 1234, name: "a.pdf" };
 * const { contentType } = multipartUpload('{"request":{}}', file);
 * assert.match(contentType, /^multipart\/form-data; boundary=/);
 * ```
 * @module
 */

import { fileChunks, type SizedBody, type UploadSource } from "./upload_body.ts";

function quoteFileName(name: string): string {
  return name.replace(/[\r\n"\\]/g, "_");
}

/**
 * Builds the body. Its `chunks()` may be called again for a retry; it
 * throws if the file's size differs from `size` (the file changed after it
 * was hashed).
 *
 * @example The body is the request part, the file, and a tail
 * ```ts
 * import { multipartUpload } from "./multipart.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "hello");
 * const upload = multipartUpload("{}", { path, size: 5, name: "h" });
 * const text = new TextDecoder().decode(
 *   new Uint8Array((await Array.fromAsync(upload.body.chunks())).flatMap((c) => [...c])),
 * );
 * assert.equal(text.length, upload.body.length);
 * assert.match(text, /filename="h"\r\n[^]*\r\n\r\nhello\r\n/);
 * await Deno.remove(path);
 * ```
 */
export function multipartUpload(
  requestJson: string,
  file: UploadSource,
): { contentType: string; body: SizedBody } {
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
    yield* fileChunks(file);
    yield tail;
  }
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    body: { length: head.byteLength + file.size + tail.byteLength, chunks },
  };
}
