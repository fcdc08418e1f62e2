/**
 * A streamed `multipart/form-data` upload body of known length: the
 * `request` JSON part, then the file read from disk 256 KiB at a time.
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

import { fileChunks, type SizedBody, type UploadSource } from "./upload_body.ts";

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
