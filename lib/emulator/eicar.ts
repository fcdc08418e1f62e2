/**
 * The EICAR anti-virus test string, built at run time.
 *
 * No file of this project contains the string itself (scanners on developer
 * machines and mail gateways would flag the repository), so it is assembled
 * from two halves here.
 *
 * @example The test string, assembled at run time
 * ```ts
 * import { eicarBytes, eicarText } from "./eicar.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(eicarText().length, 68);
 * assert.ok(eicarText().startsWith("X5O!P%@AP"));
 * assert.deepEqual(eicarBytes(), new TextEncoder().encode(eicarText()));
 * ```
 * @module
 */

const HEAD = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$";
const TAIL = "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/** The EICAR test string as text. */
export function eicarText(): string {
  return HEAD + TAIL;
}

/** The EICAR test string as ASCII bytes, ready to write to a file. */
export function eicarBytes(): Uint8Array {
  return new TextEncoder().encode(eicarText());
}
