/**
 * Incremental base64 decoding of text that arrives in pieces of any length
 * (a gateway's `file_enc_data`, as the JSON parser hands it over: the upload
 * the emulator reads, the cleaned copy the client reads), so a file of any
 * size is decoded in constant memory. Each piece is
 * decoded at once by the built-in `Uint8Array.fromBase64`; only the one to
 * three characters of an unfinished group wait for the next piece.
 *
 * Strict where it matters and forgiving where clients differ: the standard
 * alphabet only, padding only at the very end, but ASCII whitespace (MIME
 * line breaks, as Python's `base64.encodebytes` writes them) is skipped and
 * missing padding is accepted.
 *
 * @example Decode pieces cut anywhere
 * ```ts
 * import { Base64Decoder } from "./base64_stream.ts";
 * import assert from "node:assert/strict";
 *
 * const out: number[] = [];
 * const decoder = new Base64Decoder((bytes) => out.push(...bytes));
 * for (const piece of ["aGVs", "bG8g", "d29y", "bGQ", "="]) decoder.write(piece);
 * decoder.end();
 * assert.equal(new TextDecoder().decode(new Uint8Array(out)), "hello world");
 * ```
 * @module
 */

/**
 * Text that is not base64; the message says what is wrong and where.
 *
 * @example The error's name
 * ```ts
 * import { Base64Error } from "./base64_stream.ts";
 * import assert from "node:assert/strict";
 * assert.equal(new Base64Error("x").name, "Base64Error");
 * ```
 */
export class Base64Error extends Error {
  /**
   * @example The message is kept as given
   * ```ts
   * import { Base64Error } from "./base64_stream.ts";
   * import assert from "node:assert/strict";
   *
   * const error = new Base64Error('character "*" at offset 3');
   * assert.equal(error.message, 'character "*" at offset 3');
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "Base64Error";
  }
}

const WHITESPACE = /[\t\n\f\r ]/;
const ALL_WHITESPACE = /[\t\n\f\r ]+/g;
const NOT_BASE64 = /[^A-Za-z0-9+/=]/;

/**
 * The decoder: `write()` the text in order, then `end()`. Decoded bytes go
 * to `onBytes` as soon as whole groups are in; a `Base64Error` is thrown at
 * the first piece that cannot be base64.
 *
 * @example Invalid text names the offending character
 * ```ts
 * import { Base64Decoder } from "./base64_stream.ts";
 * import assert from "node:assert/strict";
 *
 * const decoder = new Base64Decoder(() => {});
 * decoder.write("QUJD");
 * assert.throws(() => decoder.write("QU*D"), /character "\*" at offset 6/);
 * ```
 */
export class Base64Decoder {
  #onBytes: (bytes: Uint8Array) => void;
  #carry = "";
  #padded = false;
  /** Base64 characters (whitespace aside) before the current piece. */
  #consumed = 0;

  /**
   * @example Count the bytes as they are decoded
   * ```ts
   * import { Base64Decoder } from "./base64_stream.ts";
   * import assert from "node:assert/strict";
   *
   * let total = 0;
   * const decoder = new Base64Decoder((bytes) => total += bytes.length);
   * decoder.write("QUJDREVG");
   * decoder.end();
   * assert.equal(total, 6);
   * ```
   */
  constructor(onBytes: (bytes: Uint8Array) => void) {
    this.#onBytes = onBytes;
  }

  /**
   * Decodes the next piece of text.
   *
   * @example Line breaks in the text are skipped
   * ```ts
   * import { Base64Decoder } from "./base64_stream.ts";
   * import assert from "node:assert/strict";
   *
   * const out: number[] = [];
   * const decoder = new Base64Decoder((bytes) => out.push(...bytes));
   * decoder.write("QUJD\nREVG");
   * decoder.end();
   * assert.equal(String.fromCharCode(...out), "ABCDEF");
   * ```
   */
  write(text: string): void {
    const clean = WHITESPACE.test(text) ? text.replace(ALL_WHITESPACE, "") : text;
    if (clean === "") return;
    if (this.#padded) {
      throw new Base64Error(`data after the padding at offset ${this.#consumed}`);
    }
    const bad = NOT_BASE64.exec(clean);
    if (bad) {
      const at = this.#consumed + this.#carry.length + bad.index;
      throw new Base64Error(`character ${JSON.stringify(bad[0])} at offset ${at}`);
    }
    const all = this.#carry + clean;
    const whole = all.length - (all.length % 4);
    this.#carry = all.slice(whole);
    if (whole > 0) this.#decode(all.slice(0, whole));
  }

  /**
   * Ends the text: decodes a last group without padding, refuses a lone
   * trailing character.
   *
   * @example Text that stops mid-quantum is truncated
   * ```ts
   * import { Base64Decoder } from "./base64_stream.ts";
   * import assert from "node:assert/strict";
   * const decoder = new Base64Decoder(() => {});
   * decoder.write("QUJDR");
   * assert.throws(() => decoder.end(), /truncated/);
   * ```
   */
  end(): void {
    const rest = this.#carry;
    this.#carry = "";
    if (rest.length === 1) {
      throw new Base64Error(`truncated: one character left over at offset ${this.#consumed}`);
    }
    if (rest.length > 0) this.#decode(rest);
  }

  #decode(groups: string): void {
    const pad = groups.indexOf("=");
    if (pad >= 0) {
      if (pad < groups.length - 2 || !/^=+$/.test(groups.slice(pad))) {
        throw new Base64Error(`padding "=" before the end at offset ${this.#consumed + pad}`);
      }
      this.#padded = true;
    }
    let bytes: Uint8Array;
    try {
      bytes = Uint8Array.fromBase64(groups);
    } catch {
      throw new Base64Error(`malformed group near offset ${this.#consumed}`);
    }
    this.#consumed += groups.length;
    this.#onBytes(bytes);
  }
}
