/**
 * Streaming `multipart/form-data` parsing for `…/file/upload` requests.
 *
 * `Request.formData()` would hold the whole upload in memory (several times
 * over), and appliances get multi-GiB files, so the parts are read straight
 * off the body stream: the `file` part goes through a {@link ContentScanner}
 * chunk by chunk, the JSON part is collected under a size cap and every other
 * part is skipped.
 *
 * Both shapes real clients send for the JSON part are accepted: a plain field
 * (`name="request"`, maybe `Content-Type: application/json`, as Java, browsers
 * and `requests_toolbelt` send it) and a file-style part (`name="request";
 * filename="request"` with no Content-Type, which is what Python `requests`
 * makes of a string under `files=`). Some scripts name the part `json`.
 *
 * @example Parse a form as fetch sends it
 * ```ts
 * import { parseUpload } from "./multipart.ts";
 * import assert from "node:assert/strict";
 * const form = new FormData();
 * form.append("request", JSON.stringify({ request: { features: ["te"] } }));
 * form.append("file", new File(["hello"], "hello.txt"));
 * const req = new Request("https://emulator.test/upload", { method: "POST", body: form });
 * const upload = await parseUpload(req.body!, req.headers.get("content-type") ?? "");
 * assert.equal(upload.fileName, "hello.txt");
 * assert.equal(upload.file?.md5, "5d41402abc4b2a76b9719d911017c592");
 * ```
 * @module
 */

import { BytePattern, type ContentFacts, ContentScanner } from "./content_scan.ts";
import { drain } from "./http.ts";

/**
 * A malformed or unacceptable upload body; the message is one line, fit for a
 * 400 response.
 *
 * @example A content type without a boundary
 * ```ts
 * import { MultipartError, parseUpload } from "./multipart.ts";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(
 *   parseUpload(new Blob(["x"]).stream(), "multipart/form-data"),
 *   MultipartError,
 * );
 * ```
 */
export class MultipartError extends Error {
  /**
   * @example The error's name
   * ```ts
   * import { MultipartError } from "./multipart.ts";
   * import assert from "node:assert/strict";
   * assert.equal(new MultipartError("multipart body truncated").name, "MultipartError");
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "MultipartError";
  }
}

/**
 * What an upload body held.
 */
export interface ParsedUpload {
  /** Text of the first `request` (or `json`) part; not parsed, the caller owns JSON errors. */
  requestJson: string | null;
  /** Which name the JSON part used. */
  requestPartName: "request" | "json" | null;
  /** The `file` part's filename (`filename*` wins over `filename`), or null when it had none. */
  fileName: string | null;
  /** Digests, size and markers of the first `file` part. */
  file: ContentFacts | null;
  /** Names of the parts that were skipped, in body order (`""` for a nameless part). */
  otherParts: string[];
}

/**
 * Caps on what an upload may hold in memory.
 */
export interface UploadLimits {
  /** Largest JSON part accepted, in bytes; default {@link DEFAULT_MAX_JSON_BYTES}. */
  maxJsonBytes?: number;
}

/**
 * Default cap on the JSON part: 1 MiB, far above any real request object.
 *
 * @example The default cap of the request part
 * ```ts
 * import { DEFAULT_MAX_JSON_BYTES } from "./multipart.ts";
 * import assert from "node:assert/strict";
 * assert.equal(DEFAULT_MAX_JSON_BYTES, 1048576);
 * ```
 */
export const DEFAULT_MAX_JSON_BYTES = 1024 * 1024;

const MAX_HEADER_BYTES = 16 * 1024;
// Each skipped part costs a list entry, so a body of millions of tiny parts
// would grow memory with its size; no client sends more than a handful.
const MAX_PARTS = 1000;
// RFC 2046 section 5.1.1.
const MAX_BOUNDARY_CHARS = 70;

const CR = 0x0d;
const LF = 0x0a;
const DASH = 0x2d;
const SPACE = 0x20;
const TAB = 0x09;
const HEADER_END = new BytePattern(new Uint8Array([CR, LF, CR, LF]));

/**
 * The boundary of a `multipart/*` Content-Type, quoted or not.
 *
 * @example A quoted boundary
 * ```ts
 * import { boundaryFromContentType } from "./multipart.ts";
 * import assert from "node:assert/strict";
 * assert.equal(boundaryFromContentType('multipart/form-data; boundary="a b"'), "a b");
 * ```
 */
export function boundaryFromContentType(contentType: string): string {
  const { value, params } = parseHeaderValue(contentType);
  if (!value.startsWith("multipart/")) {
    throw new MultipartError(`upload is not multipart: Content-Type ${quote(contentType)}`);
  }
  const boundary = params.get("boundary");
  if (!boundary) throw new MultipartError("multipart Content-Type has no boundary parameter");
  if (boundary.length > MAX_BOUNDARY_CHARS) {
    throw new MultipartError(`multipart boundary longer than ${MAX_BOUNDARY_CHARS} characters`);
  }
  return boundary;
}

/**
 * Reads a whole upload body, streaming the `file` part through a
 * {@link ContentScanner}, and cancels the stream once the closing boundary (or
 * an error) is reached, so an epilogue is never read. Errors of the stream
 * itself (a client that went away) propagate unchanged; everything wrong with
 * the body is a {@link MultipartError}. A bad Content-Type is reported before
 * the body is touched.
 *
 * When a body repeats the JSON or the `file` part, the first one counts and
 * the others are listed in `otherParts`.
 *
 * @example Parse a body written by hand
 * ```ts
 * import { parseUpload } from "./multipart.ts";
 * import assert from "node:assert/strict";
 * const body = "--XyZ\r\n" +
 *   'Content-Disposition: form-data; name="request"; filename="request"\r\n\r\n' +
 *   '{"request":{"features":["te"]}}\r\n' +
 *   "--XyZ\r\n" +
 *   'Content-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n' +
 *   "abc\r\n--XyZ--\r\n";
 * const upload = await parseUpload(new Blob([body]).stream(), "multipart/form-data; boundary=XyZ");
 * assert.equal(upload.requestJson, '{"request":{"features":["te"]}}');
 * assert.equal(upload.file?.size, 3);
 * ```
 */
export async function parseUpload(
  body: ReadableStream<Uint8Array>,
  contentType: string,
  limits: UploadLimits = {},
): Promise<ParsedUpload> {
  const boundary = boundaryFromContentType(contentType);
  const maxJsonBytes = limits.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES;
  if (!(maxJsonBytes >= 0)) throw new RangeError(`maxJsonBytes must be >= 0, got ${maxJsonBytes}`);
  const reader = body.getReader();
  let parsed;
  try {
    parsed = await readParts(new ByteInput(reader), boundary, maxJsonBytes);
  } catch (error) {
    // A body given up on is read before the error answer, up to a cap past
    // which the sender is stopped (HTTP/2 safety).
    await drain(reader);
    throw error;
  }
  // An epilogue after the closing boundary may be endless: stop the sender.
  await reader.cancel().catch(() => {});
  reader.releaseLock();
  return parsed;
}

async function readParts(
  input: ByteInput,
  boundary: string,
  maxJsonBytes: number,
): Promise<ParsedUpload> {
  const delimiter = new BytePattern(new TextEncoder().encode(`\r\n--${boundary}`));
  const result: ParsedUpload = {
    requestJson: null,
    requestPartName: null,
    fileName: null,
    file: null,
    otherParts: [],
  };
  // A delimiter is a line break plus `--boundary`, but the first one may open
  // the body with no line break before it; a virtual one lets one pattern
  // find it either way.
  input.push(new Uint8Array([CR, LF]));
  await streamUntil(input, delimiter, ignore, "multipart body has no opening boundary");
  for (let parts = 1; await startPart(input); parts++) {
    if (parts > MAX_PARTS) throw new MultipartError(`multipart body has over ${MAX_PARTS} parts`);
    const { name, fileName } = disposition(await readHeaders(input));
    const truncated = `multipart body truncated inside part ${quote(name ?? "")}`;
    if ((name === "request" || name === "json") && result.requestJson === null) {
      const json = new JsonCollector(name, maxJsonBytes);
      await streamUntil(input, delimiter, (b) => json.write(b), truncated);
      result.requestJson = json.end();
      result.requestPartName = name;
    } else if (name === "file" && result.file === null) {
      const scanner = new ContentScanner();
      await streamUntil(input, delimiter, (b) => scanner.update(b), truncated);
      result.file = scanner.finish();
      result.fileName = fileName;
    } else {
      await streamUntil(input, delimiter, ignore, truncated);
      result.otherParts.push(name ?? "");
    }
  }
  return result;
}

/**
 * The unread bytes of a body stream. Chunks are adopted without copying when
 * nothing is pending; otherwise they join the few pending bytes in a reused
 * buffer. Views handed out are only valid until the next `fill()`.
 */
class ByteInput {
  view: Uint8Array = new Uint8Array(0);
  #store = new Uint8Array(0);
  #ended = false;
  #reader: ReadableStreamDefaultReader<Uint8Array>;

  constructor(reader: ReadableStreamDefaultReader<Uint8Array>) {
    this.#reader = reader;
  }

  consume(n: number): void {
    this.view = this.view.subarray(n);
  }

  /** Appends the next non-empty chunk; false at the end of the stream. */
  async fill(): Promise<boolean> {
    while (!this.#ended) {
      const { done, value } = await this.#reader.read();
      if (done) this.#ended = true;
      else if (value.length > 0) {
        this.push(value);
        return true;
      }
    }
    return false;
  }

  push(chunk: Uint8Array): void {
    const held = this.view.length;
    if (held === 0) {
      this.view = chunk;
      return;
    }
    const need = held + chunk.length;
    const owned = this.view.buffer === this.#store.buffer;
    let offset = owned ? this.view.byteOffset - this.#store.byteOffset : 0;
    if (!owned || offset + need > this.#store.length) {
      if (need > this.#store.length) {
        const grown = new Uint8Array(Math.max(need, 2 * this.#store.length, 4096));
        grown.set(this.view);
        this.#store = grown;
      } else if (owned) this.#store.copyWithin(0, offset, offset + held);
      else this.#store.set(this.view);
      offset = 0;
    }
    this.#store.set(chunk, offset + held);
    this.view = this.#store.subarray(offset, offset + need);
  }
}

function ignore(_bytes: Uint8Array): void {}

/**
 * Passes bytes to `sink` up to the next delimiter and consumes the delimiter.
 * All but the last delimiter-length-minus-one bytes are passed on before
 * reading more, so a delimiter split across chunks is still found while the
 * pending bytes stay small.
 */
async function streamUntil(
  input: ByteInput,
  delimiter: BytePattern,
  sink: (bytes: Uint8Array) => void,
  eofMessage: string,
): Promise<void> {
  for (;;) {
    const at = delimiter.indexIn(input.view);
    if (at >= 0) {
      if (at > 0) sink(input.view.subarray(0, at));
      input.consume(at + delimiter.length);
      return;
    }
    const safe = input.view.length - (delimiter.length - 1);
    if (safe > 0) {
      sink(input.view.subarray(0, safe));
      input.consume(safe);
    }
    if (!await input.fill()) throw new MultipartError(eofMessage);
  }
}

/**
 * Reads what follows a delimiter: `--` closes the body (false); otherwise
 * optional padding and the line break that starts the part's header block,
 * which is left unread for {@link readHeaders} (true).
 */
async function startPart(input: ByteInput): Promise<boolean> {
  const truncated = "multipart body truncated after a boundary";
  while (input.view.length < 2) {
    if (!await input.fill()) throw new MultipartError(truncated);
  }
  if (input.view[0] === DASH && input.view[1] === DASH) return false;
  let i = 0;
  for (;;) {
    const v = input.view;
    while (i < v.length && (v[i] === SPACE || v[i] === TAB)) i++;
    if (i + 2 <= v.length) break;
    if (i > MAX_HEADER_BYTES) throw new MultipartError("multipart boundary line too long");
    if (!await input.fill()) throw new MultipartError(truncated);
  }
  if (input.view[i] !== CR || input.view[i + 1] !== LF) {
    throw new MultipartError("malformed multipart boundary line");
  }
  input.consume(i);
  return true;
}

/** Reads a part's header block, which starts at the boundary line's CRLF. */
async function readHeaders(input: ByteInput): Promise<Map<string, string>> {
  let from = 0;
  for (;;) {
    const end = HEADER_END.indexIn(input.view, from);
    if (end > MAX_HEADER_BYTES || (end < 0 && input.view.length > MAX_HEADER_BYTES + 4)) {
      throw new MultipartError(`multipart part headers exceed ${MAX_HEADER_BYTES} bytes`);
    }
    if (end >= 0) {
      const headers = parseHeaderBlock(input.view.subarray(2, end + 2));
      input.consume(end + 4);
      return headers;
    }
    from = Math.max(0, input.view.length - 3);
    if (!await input.fill()) {
      throw new MultipartError("multipart body truncated inside part headers");
    }
  }
}

const ENCODER = new TextEncoder();
const UTF8_STRICT = new TextDecoder("utf-8", { fatal: true });
const LATIN1 = new TextDecoder("latin1");

function parseHeaderBlock(block: Uint8Array): Map<string, string> {
  let text: string;
  try {
    // Browsers, Deno and `requests` put raw UTF-8 file names in headers.
    text = UTF8_STRICT.decode(block);
  } catch {
    text = LATIN1.decode(block);
  }
  const headers = new Map<string, string>();
  let last: string | null = null;
  for (const line of text.split("\r\n")) {
    if (line === "") continue;
    if ((line[0] === " " || line[0] === "\t") && last !== null) {
      // Obsolete line folding: a continuation of the previous header.
      headers.set(last, `${headers.get(last)} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) throw new MultipartError(`malformed part header line ${quote(line)}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    last = headers.has(name) ? null : name;
    if (last !== null) headers.set(name, line.slice(colon + 1).trim());
  }
  return headers;
}

function disposition(headers: Map<string, string>): {
  name: string | null;
  fileName: string | null;
} {
  const header = headers.get("content-disposition");
  if (header === undefined) return { name: null, fileName: null };
  const { params } = parseHeaderValue(header);
  const name = params.get("name");
  const extended = params.get("filename*");
  const plain = params.get("filename");
  // RFC 6266 section 4.3: the extended form wins when both are understood.
  const fileName = (extended === undefined ? null : decodeExtValue(extended)) ??
    (plain === undefined ? null : decodeFormQuoting(plain));
  return { name: name === undefined ? null : decodeFormQuoting(name), fileName };
}

/**
 * `value; key=token; key="quoted"` with lower-cased keys; the first of a
 * repeated key wins. Inside quotes a backslash only escapes `"` and `\`, so
 * Windows paths sent unescaped by browsers survive.
 */
function parseHeaderValue(text: string): { value: string; params: Map<string, string> } {
  const n = text.length;
  const semi = text.indexOf(";");
  const value = (semi < 0 ? text : text.slice(0, semi)).trim().toLowerCase();
  const params = new Map<string, string>();
  let i = semi < 0 ? n : semi + 1;
  while (i < n) {
    let j = i;
    while (j < n && text[j] !== "=" && text[j] !== ";") j++;
    const key = text.slice(i, j).trim().toLowerCase();
    if (j >= n || text[j] === ";") {
      i = j + 1;
      continue;
    }
    i = j + 1;
    while (i < n && (text[i] === " " || text[i] === "\t")) i++;
    let val = "";
    if (text[i] === '"') {
      for (i++; i < n && text[i] !== '"'; i++) {
        if (text[i] === "\\" && (text[i + 1] === '"' || text[i + 1] === "\\")) i++;
        val += text[i];
      }
      while (i < n && text[i] !== ";") i++;
    } else {
      j = i;
      while (j < n && text[j] !== ";") j++;
      val = text.slice(i, j).trim();
      i = j;
    }
    i++;
    if (key !== "" && !params.has(key)) params.set(key, val);
  }
  return { value, params };
}

// The HTML form encoding (browsers, Deno, urllib3 2) writes `"`, CR and LF in
// names as %22, %0D and %0A instead of backslash escapes.
function decodeFormQuoting(s: string): string {
  return s.replace(/%(22|0d|0a)/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** RFC 8187 `charset'language'percent-encoded`; null when not decodable. */
function decodeExtValue(s: string): string | null {
  const match = /^([^']*)'[^']*'(.*)$/s.exec(s);
  if (!match) return null;
  const bytes: number[] = [];
  const raw = match[2];
  for (let i = 0; i < raw.length; i++) {
    const hex = raw.slice(i + 1, i + 3);
    if (raw[i] === "%" && /^[0-9a-f]{2}$/i.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(...ENCODER.encode(raw[i]));
  }
  try {
    return new TextDecoder(match[1].trim() || "utf-8", { fatal: true }).decode(
      new Uint8Array(bytes),
    );
  } catch {
    return null;
  }
}

/** Collects the JSON part as text, failing as soon as it passes the cap. */
class JsonCollector {
  #decoder = new TextDecoder();
  #text = "";
  #size = 0;
  #name: string;
  #limit: number;

  constructor(name: string, limit: number) {
    this.#name = name;
    this.#limit = limit;
  }

  write(bytes: Uint8Array): void {
    this.#size += bytes.length;
    if (this.#size > this.#limit) {
      throw new MultipartError(`multipart part ${quote(this.#name)} exceeds ${this.#limit} bytes`);
    }
    this.#text += this.#decoder.decode(bytes, { stream: true });
  }

  end(): string {
    return this.#text + this.#decoder.decode();
  }
}

// Quotes text from the request for an error message: one line, bounded.
function quote(s: string): string {
  const clipped = s.length > 80 ? `${s.slice(0, 80)}…` : s;
  return JSON.stringify(clipped);
}
