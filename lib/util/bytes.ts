/**
 * Byte-array helpers shared by the transports, the tar code and the emulator.
 *
 * @example Join chunks into one array
 * ```ts
 * import { concatBytes } from "./bytes.ts";
 * import assert from "node:assert/strict";
 *
 * const joined = concatBytes([new Uint8Array([1]), new Uint8Array([2, 3])]);
 * assert.deepEqual(joined, new Uint8Array([1, 2, 3]));
 * ```
 * @module
 */

/**
 * Joins byte arrays into one new array.
 *
 * @example No chunks make an empty array
 * ```ts
 * import { concatBytes } from "./bytes.ts";
 * import assert from "node:assert/strict";
 * assert.equal(concatBytes([]).length, 0);
 * ```
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const total = parts.reduce((sum, part) => sum + part.byteLength, 0);
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.byteLength;
  }
  return joined;
}
