/**
 * The streaming base64 decoder, kept in `lib/util/` (it encodes no protocol
 * rule, and the emulator reads gateway uploads with it too).
 *
 * @example Decode base64 in pieces
 * ```ts
 * import { Base64Decoder } from "./base64_stream.ts";
 * import assert from "node:assert/strict";
 * const out: number[] = [];
 * const decoder = new Base64Decoder((bytes) => out.push(...bytes));
 * decoder.write("aGV");
 * decoder.write("sbG8=");
 * decoder.end();
 * assert.equal(new TextDecoder().decode(new Uint8Array(out)), "hello");
 * ```
 * @module
 */

export { Base64Decoder, Base64Error } from "../util/base64_stream.ts";
