/**
 * Reading a gateway TPAPI body, `{"request": {…}}` or `{"request": [{…}, …]}`,
 * as a stream. An UploadFile object carries its whole file as base64 in
 * `file_enc_data`: clients send hundreds of MB of JSON that no JavaScript
 * string could hold. So the JSON is parsed incrementally, and the text of
 * each request object's `file_enc_data` is base64-decoded as it arrives
 * straight into the digests and the marker search; only the first
 * `keepBytes` of the file are kept, for Threat Extraction to clean. Memory
 * does not grow with the file.
 *
 * @example Read a body with one upload
 * ```ts
 * import { readTpapiBody, type TpapiObject } from "./tpapi_body.ts";
 * import assert from "node:assert/strict";
 *
 * const objects: TpapiObject[] = [];
 * const body = JSON.stringify({
 *   request: [{ request_name: "UploadFile", file_enc_data: btoa("hello") }],
 * });
 * const { wasArray } = await readTpapiBody(
 *   new Blob([body]).stream(),
 *   { keepBytes: 1024 },
 *   (object) => objects.push(object),
 * );
 * assert.equal(wasArray, true);
 * assert.equal(objects[0].path, "request[0]");
 * assert.deepEqual(objects[0].value, { request_name: "UploadFile", file_enc_data: "" });
 * assert.equal(objects[0].file?.facts.md5, "5d41402abc4b2a76b9719d911017c592");
 * assert.equal(new TextDecoder().decode(objects[0].file?.bytes ?? undefined), "hello");
 * ```
 * @module
 */

import { BadRequest } from "./wire.ts";
import { drain } from "./http.ts";
import { Base64Decoder, Base64Error } from "../util/base64_stream.ts";
import { type ContentFacts, ContentScanner } from "./content_scan.ts";
import { envelopeEntry, type JsonPath, JsonStreamParser } from "../util/json_stream.ts";
import { concatBytes } from "../util/bytes.ts";

/**
 * What the emulator learned from one `file_enc_data`.
 */
export interface FileInput {
  /** Digests, size and markers of the decoded file (of the part before an error). */
  facts: ContentFacts;
  /** The whole file when it is at most `keepBytes` long, else null. */
  bytes: Uint8Array | null;
  /** Why `file_enc_data` could not be decoded, when it could not. */
  error?: string;
}

/**
 * One request object as it was read.
 */
export interface TpapiObject {
  /** `request` or `request[i]`, for messages. */
  path: string;
  /** The object as sent, `file_enc_data` replaced by `""` (its content is in `file`). */
  value: unknown;
  /** Present when the object had a `file_enc_data` string. */
  file?: FileInput;
}

/**
 * Bounds of {@link readTpapiBody}.
 */
export interface TpapiBodyLimits {
  /** Largest file kept whole (for Threat Extraction); larger ones are only scanned. */
  keepBytes: number;
  /** JSON held outside `file_enc_data` strings; default 16 MiB. */
  maxJsonBytes?: number;
}

/** Decodes one file_enc_data into a scanner and a bounded copy. */
class FileIntake {
  #scanner = new ContentScanner();
  #kept: Uint8Array[] | null = [];
  #keptBytes = 0;
  #keep: number;
  #decoder = new Base64Decoder((bytes) => this.#take(bytes));
  #error: string | undefined;

  constructor(keep: number) {
    this.#keep = keep;
  }

  #take(bytes: Uint8Array): void {
    this.#scanner.update(bytes);
    if (this.#kept === null) return;
    this.#keptBytes += bytes.length;
    // Past the limit nothing is kept: the file is only scanned.
    if (this.#keptBytes > this.#keep) this.#kept = null;
    else this.#kept.push(bytes);
  }

  write(text: string): void {
    if (this.#error !== undefined) return;
    try {
      this.#decoder.write(text);
    } catch (error) {
      if (!(error instanceof Base64Error)) throw error;
      this.#error = error.message;
      this.#kept = null;
    }
  }

  fail(message: string): void {
    this.#error ??= message;
  }

  end(): FileInput {
    if (this.#error === undefined) {
      try {
        this.#decoder.end();
      } catch (error) {
        if (!(error instanceof Base64Error)) throw error;
        this.#error = error.message;
      }
    }
    const input: FileInput = {
      facts: this.#scanner.finish(),
      bytes: this.#kept && this.#error === undefined ? concatBytes(this.#kept) : null,
    };
    if (this.#error !== undefined) input.error = this.#error;
    return input;
  }
}

function isFileData(path: JsonPath): boolean {
  return path.at(-1) === "file_enc_data" && envelopeEntry(path, "request", 1) !== undefined;
}

/** Feeds the whole of `body` to `parser`; its root value. */
async function parseStream(
  body: ReadableStream<Uint8Array>,
  parser: JsonStreamParser,
): Promise<unknown> {
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.write(value);
    }
    return parser.end();
  } finally {
    // A body given up on is read before the answer, up to a cap past which
    // the sender is stopped (HTTP/2 safety).
    await drain(reader);
  }
}

/**
 * Reads a whole TPAPI body, calling `onObject` for each request object as
 * soon as it is closed, in order. Throws a `BadRequest` for a body that is
 * not such a JSON document (a `TooLarge` when its JSON outside the file
 * data passes the cap); errors of the stream itself propagate. A
 * `file_enc_data` that is not base64 is not an error here: the object's
 * `file.error` says why, so the other objects are still served.
 *
 * @example An envelope that is not one
 * ```ts
 * import { readTpapiBody } from "./tpapi_body.ts";
 * import assert from "node:assert/strict";
 *
 * const body = new Blob(['{"request": 42}']).stream();
 * await assert.rejects(readTpapiBody(body, { keepBytes: 0 }, () => {}), /object or an array/);
 * ```
 */
export async function readTpapiBody(
  body: ReadableStream<Uint8Array>,
  limits: TpapiBodyLimits,
  onObject: (object: TpapiObject) => void,
): Promise<{ wasArray: boolean }> {
  const files = new Map<number, FileIntake>();
  let wasArray = false;
  let seen = false;
  const parser = new JsonStreamParser("TPAPI request", {
    streamString(path) {
      if (!isFileData(path)) return undefined;
      const index = envelopeEntry(path, "request", 1)!;
      const existing = files.get(index);
      if (existing) {
        existing.fail("file_enc_data is given twice");
        return () => {};
      }
      const file = new FileIntake(limits.keepBytes);
      files.set(index, file);
      return (text) => file.write(text);
    },
    valueDone(path, value) {
      const index = envelopeEntry(path, "request", 0);
      if (index === undefined) return;
      if (index === -1) {
        if (seen) throw new BadRequest(`TPAPI request: "request" is given twice`);
        seen = true;
        wasArray = Array.isArray(value);
        if (wasArray) return;
        if (typeof value !== "object" || value === null) {
          throw new BadRequest(`TPAPI request: "request" must be an object or an array`);
        }
      }
      const file = files.get(index)?.end();
      files.delete(index);
      const object: TpapiObject = { path: index < 0 ? "request" : `request[${index}]`, value };
      if (file) object.file = file;
      onObject(object);
    },
  }, {
    maxHeldBytes: limits.maxJsonBytes,
    malformed: (message) => new BadRequest(message),
  });
  const root = await parseStream(body, parser);
  if (typeof root !== "object" || root === null || Array.isArray(root)) {
    throw new BadRequest(`TPAPI request: expected a JSON object`);
  }
  if (!seen) throw new BadRequest(`TPAPI request: no "request" field`);
  return { wasArray };
}
