/**
 * Byte sizes as people write and read them, in one place: `--max-size 10M`
 * is parsed here, and the console's tables and the walk's skip reasons print
 * sizes here, so what the tool prints reads back as what it accepts. It
 * lives under lib/fs so the pipeline and the command line can both import it
 * without the pipeline depending on the command line.
 *
 * Units are powers of 1024 throughout (`KB`, `KiB` and `k` all mean 1024).
 *
 * @example Parse what a user typed, print what the tool counted
 * ```ts
 * import { formatSize, parseSize } from "./size.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseSize("10M"), 10 * 1024 * 1024);
 * assert.equal(formatSize(parseSize("1.5G")), "1.5 GiB");
 * ```
 * @module
 */

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/**
 * Formats a byte count for people: whole bytes below 1 KiB, otherwise one
 * decimal in the largest unit that keeps the number at or above 1.
 *
 * @example Bytes, KiB and GiB
 * ```ts
 * import { formatSize } from "./size.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatSize(512), "512 B");
 * assert.equal(formatSize(1536), "1.5 KiB");
 * assert.equal(formatSize(3 * 1024 ** 3), "3.0 GiB");
 * ```
 */
export function formatSize(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/**
 * Parses a size: bytes, or a number with a unit K/M/G/T (`10M`, `1.5GiB`,
 * `2 GB`). Throws a `RangeError` naming the text when it is not a size; the
 * command line turns that into a usage error naming the option.
 *
 * @example Units and a refusal
 * ```ts
 * import { parseSize } from "./size.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseSize("512"), 512);
 * assert.equal(parseSize("10k"), 10240);
 * assert.equal(parseSize("1.5GiB"), 1610612736);
 * assert.throws(() => parseSize("lots"), /not a size: "lots" \(try 10M, 2G\)/);
 * ```
 */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!match) throw new RangeError(`not a size: ${JSON.stringify(text)} (try 10M, 2G)`);
  const power = " kmgt".indexOf(match[2].toLowerCase() || " ");
  return Math.floor(Number(match[1]) * 1024 ** power);
}
