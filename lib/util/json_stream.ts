/**
 * An incremental JSON parser for bodies too large to hold: a gateway
 * UploadFile carries the whole file as base64 inside the JSON (the emulator
 * reads such requests), and its answer carries the cleaned copy the same way
 * (the gateway client reads those); V8 cannot even make a string of a 2 GiB
 * file's base64. Both sides use this one parser. The document is fed
 * in chunks as they arrive; strings the caller picks (by their path) are
 * handed over piece by piece instead of being built, and everything else is
 * built into ordinary values under a size cap, so memory stays bounded
 * whatever the size of the streamed strings.
 *
 * @example Stream one string, build the rest
 * ```ts
 * import { JsonStreamParser } from "./json_stream.ts";
 * import assert from "node:assert/strict";
 *
 * let streamed = "";
 * const parser = new JsonStreamParser("body", {
 *   streamString: (path) => path.join(".") === "big" ? (text) => streamed += text : undefined,
 * });
 * const bytes = new TextEncoder().encode('{"big":"a\\u0062c","small":[1,true]}');
 * for (const byte of bytes) parser.write(new Uint8Array([byte]));
 * assert.deepEqual(parser.end(), { big: "", small: [1, true] });
 * assert.equal(streamed, "abc");
 * ```
 * @module
 */

import { concatBytes } from "./bytes.ts";

/**
 * Malformed JSON, naming the byte. Readers that have their own error types
 * make theirs with {@link JsonStreamLimits.malformed}.
 *
 * @example A syntax error
 * ```ts
 * import { JsonSyntaxError } from "./json_stream.ts";
 * import assert from "node:assert/strict";
 * assert.equal(new JsonSyntaxError("bad").name, "JsonSyntaxError");
 * ```
 */
export class JsonSyntaxError extends Error {
  override name = "JsonSyntaxError";
}

/**
 * Where a value sits: object keys and array indexes from the root down
 * (`[]` is the root).
 */
export type JsonPath = readonly (string | number)[];

/**
 * Which entry of an envelope field (`{"request": …}`, `{"response": …}`: one
 * object or an array of them) a path lies in, `depth` levels below the
 * entry: -1 when the field holds one object, `i` for its `i`th element,
 * `undefined` when the path is elsewhere or at another depth.
 *
 * @example Where a gateway's file data sits
 * ```ts
 * import { envelopeEntry } from "./json_stream.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(envelopeEntry(["request", 2, "file_enc_data"], "request", 1), 2);
 * assert.equal(envelopeEntry(["response", "scrub", "file_enc_data"], "response", 2), -1);
 * assert.equal(envelopeEntry(["request", 0, "te", "file_enc_data"], "request", 1), undefined);
 * ```
 */
export function envelopeEntry(path: JsonPath, field: string, depth: number): number | undefined {
  if (path[0] !== field) return undefined;
  if (path.length === depth + 1) return -1;
  if (path.length === depth + 2 && typeof path[1] === "number") return path[1];
  return undefined;
}

/**
 * What the caller wants to hear about while the document streams by.
 *
 * @example Hear about each value as it completes
 * ```ts
 * import { type JsonStreamHooks, JsonStreamParser } from "./json_stream.ts";
 * import assert from "node:assert/strict";
 *
 * const done: string[] = [];
 * const hooks: JsonStreamHooks = { valueDone: (path) => done.push(path.join(".")) };
 * const parser = new JsonStreamParser("body", hooks);
 * parser.write(new TextEncoder().encode('{"a":[1]}'));
 * parser.end();
 * assert.deepEqual(done, ["a.0", "a", ""]);
 * ```
 */
export interface JsonStreamHooks {
  /**
   * For a string value about to start at `path`: a function that receives
   * its text in pieces (escapes decoded) instead of the string being built.
   * The value then stands in the document as `""`.
   */
  streamString?(path: JsonPath): ((text: string) => void) | undefined;
  /** A value (of any kind, containers once closed) is complete. */
  valueDone?(path: JsonPath, value: unknown): void;
}

/**
 * Input over the bytes a reader takes: here, more JSON outside streamed
 * strings than the parser may hold.
 *
 * @example What was too large
 * ```ts
 * import { TooLarge } from "./json_stream.ts";
 * import assert from "node:assert/strict";
 * assert.equal(new TooLarge(8, "body").message, "body over 8 bytes");
 * assert.equal(new TooLarge(8).message, "request body over 8 bytes");
 * ```
 */
export class TooLarge extends Error {
  override name = "TooLarge";
  constructor(cap: number, what = "request body") {
    super(`${what} over ${cap} bytes`);
  }
}

/**
 * Bounds on what the parser holds.
 *
 * @example Nesting deeper than allowed is refused
 * ```ts
 * import { type JsonStreamLimits, JsonStreamParser } from "./json_stream.ts";
 * import assert from "node:assert/strict";
 *
 * const limits: JsonStreamLimits = { maxHeldBytes: 1 << 20, maxDepth: 2 };
 * const parser = new JsonStreamParser("body", {}, limits);
 * assert.throws(() => parser.write(new TextEncoder().encode("[[[1]]]")));
 * ```
 */
export interface JsonStreamLimits {
  /** Bytes of the document outside streamed strings; default 16 MiB. */
  maxHeldBytes?: number;
  /** Deepest nesting of objects and arrays; default 64. */
  maxDepth?: number;
  /** The error for malformed JSON; default a {@link JsonSyntaxError}. */
  malformed?: (message: string) => Error;
  /** The error past `maxHeldBytes`; default a {@link TooLarge}. */
  tooLarge?: (cap: number, what: string) => Error;
}

/** What the parser expects next. */
type State = "value" | "key" | "colon" | "after" | "string" | "token" | "done";

interface Frame {
  object: Record<string, unknown> | null;
  array: unknown[] | null;
  key: string;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MAX_TOKEN_CHARS = 64;
const FLUSH_CHARS = 1 << 16;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/**
 * The parser: `write()` each chunk in order, then `end()` for the root value.
 * Malformed JSON is a {@link JsonSyntaxError} naming the byte offset; going
 * over `maxHeldBytes` is a {@link TooLarge} (unless `limits` say otherwise).
 *
 * @example Malformed input names the byte
 * ```ts
 * import { JsonStreamParser } from "./json_stream.ts";
 * import assert from "node:assert/strict";
 *
 * const parser = new JsonStreamParser("body");
 * assert.throws(() => parser.write(new TextEncoder().encode('{"a" 1}')), /byte 5/);
 * ```
 */
export class JsonStreamParser {
  #hooks: JsonStreamHooks;
  #maxDepth: number;
  #state: State = "value";
  #first = false;
  #frames: Frame[] = [];
  #root: unknown = undefined;
  #isKey = false;
  #bounds: DocumentBounds;
  #text: StringReader;
  #literal: LiteralReader;

  /**
   * @example A document larger than the limit is refused
   * ```ts
   * import { JsonStreamParser, TooLarge } from "./json_stream.ts";
   * import assert from "node:assert/strict";
   *
   * const parser = new JsonStreamParser("TPAPI request", {}, { maxHeldBytes: 8 });
   * assert.throws(() => parser.write(new TextEncoder().encode('"a long string"')), TooLarge);
   * ```
   */
  constructor(what: string, hooks: JsonStreamHooks = {}, limits: JsonStreamLimits = {}) {
    this.#bounds = new DocumentBounds(what, limits);
    this.#text = new StringReader(this.#bounds);
    this.#literal = new LiteralReader(this.#bounds);
    this.#hooks = hooks;
    this.#maxDepth = limits.maxDepth ?? 64;
  }

  /**
   * Parses the next chunk. The chunk is not kept, so its buffer may be reused.
   *
   * @example A document may arrive in any pieces
   * ```ts
   * import { JsonStreamParser } from "./json_stream.ts";
   * import assert from "node:assert/strict";
   *
   * const parser = new JsonStreamParser("body");
   * parser.write(new TextEncoder().encode("[1, 2"));
   * parser.write(new TextEncoder().encode(", 3]"));
   * assert.deepEqual(parser.end(), [1, 2, 3]);
   * ```
   */
  write(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.#state === "string") i = this.#string(chunk, i);
      else if (this.#state === "token") i = this.#tokenChars(chunk, i);
      else i = this.#structure(chunk, i);
    }
    if (this.#state === "string") this.#text.flush();
    this.#bounds.offset += chunk.length;
  }

  /**
   * Ends the document and returns the root value.
   *
   * @example The root value, once the input is complete
   * ```ts
   * import { JsonStreamParser } from "./json_stream.ts";
   * import assert from "node:assert/strict";
   * const parser = new JsonStreamParser("body");
   * parser.write(new TextEncoder().encode(" 42 "));
   * assert.equal(parser.end(), 42);
   * ```
   */
  end(): unknown {
    if (this.#state === "token" && this.#frames.length === 0) {
      this.#complete(this.#literal.value(0));
    }
    if (this.#state !== "done") {
      const empty = this.#bounds.offset === 0 && this.#state === "value";
      throw this.#bounds.malformed(`the JSON text ${empty ? "is empty" : "ends early"}`);
    }
    return this.#root;
  }

  #path(): (string | number)[] {
    return this.#frames.map((f) => f.object ? f.key : f.array!.length);
  }

  /** Whitespace and structural characters; returns the next index. */
  #structure(chunk: Uint8Array, start: number): number {
    let i = start;
    while (i < chunk.length && isSpace(chunk[i])) i++;
    if (i === chunk.length) return i;
    const b = chunk[i];
    this.#bounds.hold(1);
    switch (this.#state) {
      case "value":
        return this.#valueStart(chunk, i);
      case "key":
        if (b === 0x7d && this.#first) return this.#close(i, "object");
        if (b !== QUOTE) this.#bounds.fail(`expected a key, got ${shown(b)}`, i);
        this.#startString(true);
        return i + 1;
      case "colon":
        if (b !== 0x3a) this.#bounds.fail(`expected ":", got ${shown(b)}`, i);
        this.#state = "value";
        this.#first = false;
        return i + 1;
      case "after":
        return this.#after(b, i);
      default:
        return this.#bounds.fail(`unexpected ${shown(b)} after the end of the document`, i);
    }
  }

  #valueStart(chunk: Uint8Array, i: number): number {
    const b = chunk[i];
    if (b === 0x5d && this.#first) return this.#close(i, "array");
    if (b === QUOTE) {
      this.#startString(false);
      return i + 1;
    }
    if (b === 0x7b || b === 0x5b) {
      if (this.#frames.length >= this.#maxDepth) this.#bounds.fail("nesting too deep", i);
      const object = b === 0x7b;
      this.#frames.push({ object: object ? {} : null, array: object ? null : [], key: "" });
      this.#state = object ? "key" : "value";
      this.#first = true;
      return i + 1;
    }
    if (b === 0x2d || (b >= 0x30 && b <= 0x39) || b === 0x74 || b === 0x66 || b === 0x6e) {
      this.#state = "token";
      this.#literal.start();
      return i;
    }
    return this.#bounds.fail(`unexpected ${shown(b)}`, i);
  }

  #after(b: number, i: number): number {
    const top = this.#frames.at(-1);
    if (b === 0x2c && top) {
      this.#state = top.object ? "key" : "value";
      this.#first = false;
      return i + 1;
    }
    if (b === 0x7d && top?.object) return this.#close(i, "object");
    if (b === 0x5d && top?.array) return this.#close(i, "array");
    return this.#bounds.fail(`unexpected ${shown(b)}`, i);
  }

  #close(i: number, kind: "object" | "array"): number {
    const frame = this.#frames.pop()!;
    this.#complete(kind === "object" ? frame.object : frame.array);
    return i + 1;
  }

  #complete(value: unknown): void {
    const top = this.#frames.at(-1);
    if (!top) {
      this.#root = value;
      this.#state = "done";
      this.#hooks.valueDone?.([], value);
      return;
    }
    const path = this.#hooks.valueDone ? this.#path() : [];
    if (top.object) top.object[top.key] = value;
    else top.array!.push(value);
    this.#state = "after";
    this.#hooks.valueDone?.(path, value);
  }

  #startString(isKey: boolean): void {
    this.#state = "string";
    this.#isKey = isKey;
    this.#text.start(isKey ? undefined : this.#hooks.streamString?.(this.#path()));
  }

  /** Inside a string; returns the index after what it consumed. */
  #string(chunk: Uint8Array, start: number): number {
    const { next, text } = this.#text.read(chunk, start);
    if (text === undefined) return next;
    if (this.#isKey) {
      this.#frames.at(-1)!.key = text;
      this.#state = "colon";
    } else this.#complete(text);
    return next;
  }

  /** Inside a number or literal; returns the index after what it consumed. */
  #tokenChars(chunk: Uint8Array, start: number): number {
    const next = this.#literal.read(chunk, start);
    if (next < chunk.length) this.#complete(this.#literal.value(next));
    return next;
  }
}

/**
 * Where the parser is in the document and how much of it is held: its
 * errors name the byte, and holding more than the limit is refused.
 */
class DocumentBounds {
  /** Bytes of the document before the current chunk. */
  offset = 0;
  #held = 0;
  #what: string;
  #maxHeld: number;
  #malformed: (message: string) => Error;
  #tooLarge: (cap: number, what: string) => Error;

  constructor(what: string, limits: JsonStreamLimits) {
    this.#what = what;
    this.#maxHeld = limits.maxHeldBytes ?? 16 * 1024 * 1024;
    this.#malformed = limits.malformed ?? ((message) => new JsonSyntaxError(message));
    this.#tooLarge = limits.tooLarge ?? ((cap, what) => new TooLarge(cap, what));
  }

  /** The error for malformed JSON, naming the document. */
  malformed(detail: string): Error {
    return this.#malformed(`Cannot parse ${this.#what}: ${detail}`);
  }

  /** Throws the malformed-JSON error for byte `at` of the current chunk. */
  fail(detail: string, at: number): never {
    throw this.malformed(`${detail} at byte ${this.offset + at}`);
  }

  /** Counts `bytes` more held outside streamed strings; throws past the limit. */
  hold(bytes: number): void {
    this.#held += bytes;
    if (this.#held > this.#maxHeld) {
      throw this.#tooLarge(this.#maxHeld, `${this.#what} outside streamed strings`);
    }
  }
}

/**
 * The bytes of one JSON string being read: held and decoded at its closing
 * quote, or decoded as they come and passed to a sink, so a string larger
 * than the parser may hold (a base64 file) streams through in bounded memory.
 */
class StringReader {
  #bounds: DocumentBounds;
  #raw: Uint8Array[] = [];
  #escaped = false;
  #sink: ((text: string) => void) | undefined;
  #pending = "";
  #escape = "";
  #utf8 = new TextDecoder("utf-8", { fatal: true });

  constructor(bounds: DocumentBounds) {
    this.#bounds = bounds;
  }

  /** Starts a string after its opening quote: streamed to `sink` when one is given. */
  start(sink: ((text: string) => void) | undefined): void {
    this.#raw = [];
    this.#escaped = false;
    this.#sink = sink;
  }

  /**
   * Reads string bytes from `start`: the index after what it consumed and,
   * once the closing quote is read, the string's text (`""` when streamed).
   */
  read(chunk: Uint8Array, start: number): { next: number; text?: string } {
    if (this.#sink) return this.#streamed(chunk, start);
    let i = start;
    for (; i < chunk.length; i++) {
      const b = chunk[i];
      if (this.#escaped) this.#escaped = false;
      else if (b === BACKSLASH) this.#escaped = true;
      else if (b === QUOTE) break;
    }
    this.#bounds.hold(i - start);
    if (i > start) this.#raw.push(chunk.slice(start, i));
    if (i === chunk.length) return { next: i };
    let text: string;
    try {
      const raw = new TextDecoder("utf-8", { fatal: true }).decode(concatBytes(this.#raw));
      text = JSON.parse(`"${raw}"`);
    } catch {
      return this.#bounds.fail("invalid string", i);
    }
    this.#raw = [];
    return { next: i + 1, text };
  }

  #streamed(chunk: Uint8Array, start: number): { next: number; text?: string } {
    let i = start;
    let backslash = -2;
    while (i < chunk.length) {
      if (this.#escape !== "") {
        i = this.#escapeChars(chunk, i);
        continue;
      }
      const quote = chunk.indexOf(QUOTE, i);
      if (backslash !== -1 && backslash < i) backslash = chunk.indexOf(BACKSLASH, i);
      const end = quote < 0 ? chunk.length : quote;
      const stop = backslash >= 0 && backslash < end ? backslash : end;
      if (stop > i) this.#decode(chunk.subarray(i, stop), true, i);
      if (stop === chunk.length) return { next: stop };
      if (stop === backslash) {
        this.#escape = "\\";
        i = stop + 1;
        continue;
      }
      this.#decode(new Uint8Array(0), false, stop);
      this.flush();
      this.#sink = undefined;
      return { next: stop + 1, text: "" };
    }
    return { next: i };
  }

  #decode(bytes: Uint8Array, more: boolean, at: number): void {
    let text: string;
    try {
      text = this.#utf8.decode(bytes, { stream: more });
    } catch {
      return this.#bounds.fail("invalid UTF-8 in a string", at);
    }
    // deno-lint-ignore no-control-regex
    if (/[\x00-\x1f]/.test(text)) this.#bounds.fail("control character in a string", at);
    this.#pending += text;
    if (this.#pending.length >= FLUSH_CHARS) this.flush();
  }

  #escapeChars(chunk: Uint8Array, start: number): number {
    let i = start;
    while (i < chunk.length) {
      this.#escape += String.fromCharCode(chunk[i++]);
      const e = this.#escape;
      if (e.length === 2 && e[1] !== "u") break;
      if (e.length === 6) break;
    }
    const e = this.#escape;
    if (e.length === 6 || (e.length === 2 && e[1] !== "u")) {
      try {
        this.#pending += JSON.parse(`"${e}"`);
      } catch {
        this.#bounds.fail(`invalid escape ${JSON.stringify(e)}`, i - 1);
      }
      this.#escape = "";
    }
    return i;
  }

  /** Passes the text decoded so far to the sink (a no-op for a held string). */
  flush(): void {
    if (this.#pending === "" || !this.#sink) return;
    const text = this.#pending;
    this.#pending = "";
    this.#sink(text);
  }
}

/** A number, `true`, `false` or `null`, read byte by byte until a delimiter. */
class LiteralReader {
  #bounds: DocumentBounds;
  #text = "";

  constructor(bounds: DocumentBounds) {
    this.#bounds = bounds;
  }

  start(): void {
    this.#text = "";
  }

  /** Reads the literal's bytes from `start`; returns the index of the delimiter or the chunk's end. */
  read(chunk: Uint8Array, start: number): number {
    let i = start;
    while (i < chunk.length) {
      const b = chunk[i];
      if (isSpace(b) || b === 0x2c || b === 0x5d || b === 0x7d) break;
      this.#text += String.fromCharCode(b);
      i++;
    }
    this.#bounds.hold(i - start);
    if (this.#text.length > MAX_TOKEN_CHARS) this.#bounds.fail("number or literal too long", i);
    return i;
  }

  /** The literal's value, once its delimiter (at byte `at`) or the document's end is reached. */
  value(at: number): unknown {
    try {
      return JSON.parse(this.#text);
    } catch {
      return this.#bounds.fail(`invalid value ${JSON.stringify(this.#text.slice(0, 20))}`, at);
    }
  }
}

function shown(b: number): string {
  return b >= 0x20 && b < 0x7f
    ? JSON.stringify(String.fromCharCode(b))
    : `byte 0x${b.toString(16)}`;
}
