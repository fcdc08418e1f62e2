/**
 * HTTP plumbing shared by the emulator's routes: JSON answers, protocol
 * error bodies, and request bodies read under a size cap.
 *
 * @example An API error
 * ```ts
 * import { apiError } from "./http.ts";
 * import assert from "node:assert/strict";
 * const res = apiError(404, 1004, "no such route");
 * assert.equal(res.status, 404);
 * ```
 * @module
 */

import { BadRequest, TooLarge } from "./wire.ts";
import { statusFor } from "./answer.ts";
import { concatBytes } from "../util/bytes.ts";

/**
 * A JSON response.
 *
 * @example A JSON answer
 * ```ts
 * import { jsonResponse } from "./http.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(await jsonResponse({ ok: true }).json(), { ok: true });
 * ```
 */
export function jsonResponse(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  const out = new Headers(headers);
  out.set("content-type", "application/json");
  return new Response(JSON.stringify(body), { status, headers: out });
}

/**
 * An error in the protocol's own shape, `{"response":{"status":{…}}}`, so a
 * client that reads the body of a failed request finds a status object.
 *
 * @example The error in the answer's body
 * ```ts
 * import { apiError } from "./http.ts";
 * import assert from "node:assert/strict";
 * const body = await apiError(400, 1008, "request: expected an object").json();
 * assert.equal(body.response.status.label, "BAD_REQUEST");
 * ```
 */
export function apiError(httpStatus: number, code: number, message: string): Response {
  return jsonResponse({ response: { status: statusFor(code, message) } }, httpStatus);
}

/**
 * Most of a refused body read (and dropped) before answering: past it the
 * stream is cancelled instead, so a huge refused upload costs no more.
 *
 * @example The most drained
 * ```ts
 * import { DRAIN_CAP } from "./http.ts";
 * import assert from "node:assert/strict";
 * assert.equal(DRAIN_CAP, 33554432);
 * ```
 */
export const DRAIN_CAP = 32 * 1024 * 1024;

/**
 * Reads and drops what is left of a body, up to {@link DRAIN_CAP} bytes,
 * then lets go of the reader. Answering while the client is still sending
 * and cancelling the rest resets the HTTP/2 stream: clients then see a
 * framing error instead of the answer (curl), or wait for ever (Node).
 *
 * @example A body read to its end
 * ```ts
 * import { drain } from "./http.ts";
 * import assert from "node:assert/strict";
 * const reader = new Blob(["abc"]).stream().getReader();
 * assert.equal(await drain(reader), 3);
 * ```
 */
export async function drain(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<number> {
  let dropped = 0;
  try {
    while (dropped <= DRAIN_CAP) {
      const { done, value } = await reader.read();
      if (done) break;
      dropped += value.length;
    }
  } catch {
    // A body that breaks off is gone either way.
  } finally {
    await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
  return dropped;
}

/**
 * Drops a request body the route does not read: read to its end (up to
 * {@link DRAIN_CAP}), so the answer reaches an HTTP/2 client whole.
 *
 * @example A body read and dropped
 * ```ts
 * import { discardBody } from "./http.ts";
 * import assert from "node:assert/strict";
 *
 * const req = new Request("https://x/", { method: "POST", body: "unused" });
 * await discardBody(req);
 * assert.equal(req.bodyUsed, true);
 * ```
 */
export async function discardBody(req: Request): Promise<void> {
  if (req.body && !req.bodyUsed && !req.body.locked) await drain(req.body.getReader());
}

/**
 * Reads a whole body, refusing (and cancelling the upload) as soon as it
 * passes `cap` bytes: a declared Content-Length is checked before reading.
 *
 * @example A body under the cap
 * ```ts
 * import { readCapped } from "./http.ts";
 * import assert from "node:assert/strict";
 * const req = new Request("https://x/", { method: "POST", body: "abc" });
 * assert.equal((await readCapped(req, 10)).length, 3);
 * ```
 */
export async function readCapped(req: Request, cap: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > cap) {
    await discardBody(req);
    throw new TooLarge(cap);
  }
  if (!req.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read().catch(async (error) => {
      await drain(reader);
      throw error;
    });
    if (done) break;
    size += value.length;
    if (size > cap) {
      await drain(reader);
      throw new TooLarge(cap);
    }
    chunks.push(value);
  }
  reader.releaseLock();
  return concatBytes(chunks);
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses a JSON body whatever its Content-Type (clients send none,
 * `text/plain`, `application/octet-stream` or `application/json`).
 * Throws a `BadRequest` naming what is wrong; text too long for a
 * JavaScript string is a `TooLarge`.
 *
 * @example Parse a JSON body
 * ```ts
 * import { parseJsonBody } from "./http.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode('{"request":{}}');
 * assert.deepEqual(parseJsonBody(bytes, "query request"), { request: {} });
 * ```
 */
export function parseJsonBody(bytes: Uint8Array, what: string): unknown {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch (error) {
    if (error instanceof RangeError) throw new TooLarge(bytes.length - 1);
    throw new BadRequest(`${what} is not UTF-8 text`);
  }
  if (text.trim() === "") throw new BadRequest(`${what} is empty`);
  return parseJsonText(text, what);
}

/**
 * Parses JSON text, or throws a `BadRequest` quoting how the text starts.
 *
 * @example JSON, and text that is not
 * ```ts
 * import { parseJsonText } from "./http.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseJsonText('{"a":1}', "upload request part"), { a: 1 });
 * assert.throws(() => parseJsonText("<html>", "upload request part"), /is not JSON/);
 * ```
 */
export function parseJsonText(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const start = JSON.stringify(text.slice(0, 60).replace(/\s+/g, " "));
    throw new BadRequest(`${what} is not JSON (starts with ${start})`);
  }
}

/**
 * A `Content-Disposition` for a download, in the exact form clients parse
 * (`attachment; filename="…"`); characters that would break the quoting or
 * the header are replaced.
 *
 * @example A quote in a name cannot break the header
 * ```ts
 * import { attachment } from "./http.ts";
 * import assert from "node:assert/strict";
 * assert.equal(attachment('a"b.pdf'), 'attachment; filename="a_b.pdf"');
 * ```
 */
export function attachment(fileName: string): string {
  // deno-lint-ignore no-control-regex
  const safe = fileName.replace(/["\\\x00-\x1f\x7f]|[^\x20-\x7e]/g, "_") || "download";
  return `attachment; filename="${safe}"`;
}
