/**
 * Splitting a byte stream into lines (or other records) as it arrives, so a
 * list or log of any size costs no more memory than its longest line.
 *
 * @module
 */

/**
 * The records of a byte stream, each ending with `separator` (the last one
 * may not), decoded as UTF-8 across chunk boundaries; the separator is dropped.
 *
 * @example Lines split across chunks, the last one without its newline
 * ```ts
 * import { records } from "./lines.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("one\ntw\u00f6\nthree");
 * const chunks = [bytes.subarray(0, 7), bytes.subarray(7)]; // cuts "ö" in two
 * assert.deepEqual(await Array.fromAsync(records(chunks, "\n")), ["one", "twö", "three"]);
 * ```
 */
export async function* records(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  separator: "\n" | "\0",
): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of source) {
    pending += decoder.decode(chunk, { stream: true });
    const parts = pending.split(separator);
    pending = parts.pop()!;
    yield* parts;
  }
  pending += decoder.decode();
  if (pending) yield pending;
}
