/**
 * The EICAR anti-virus test string, built at run time.
 *
 * No file of this project contains the string itself (scanners on developer
 * machines and mail gateways would flag the repository), so it is assembled
 * from two halves here.
 *
 * @example
 * ```ts
 * import { eicarBytes } from "./eicar.ts";
 * await Deno.writeFile("/tmp/eicar.com", eicarBytes());
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
