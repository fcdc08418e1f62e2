/**
 * Command-line mistakes said plainly: `node:util`'s parser reports an
 * unknown option with advice about `--` that helps nobody; an operator who
 * typed `--jial` wants to hear "did you mean --jail?".
 *
 * @module
 */

import { UsageError } from "./exit.ts";

/** Edit distance with adjacent transpositions (`jial` → `jail` is one edit). */
function distance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1);
      }
    }
  }
  return rows[a.length][b.length];
}

/**
 * The known option nearest to `typed`, if one is near enough to be meant.
 *
 * @example A typo and a stranger
 * ```ts
 * import { closestOption } from "./suggest.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(closestOption("jial", ["jail", "in", "out"]), "jail");
 * assert.equal(closestOption("zzz", ["jail", "in", "out"]), undefined);
 * ```
 */
export function closestOption(typed: string, names: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of names) {
    const d = distance(typed, name);
    if (!best || d < best.d) best = { name, d };
  }
  const allowed = Math.max(1, Math.floor(typed.length / 3));
  return best && best.d <= allowed ? best.name : undefined;
}

/**
 * A `node:util` `parseArgs` error as a one-line {@linkcode UsageError}.
 *
 * @example An unknown option, with a suggestion
 * ```ts
 * import { usageErrorOf } from "./suggest.ts";
 * import { parseArgs } from "node:util";
 * import assert from "node:assert/strict";
 *
 * const options = { jail: { type: "string" } } as const;
 * const error = (() => {
 *   try {
 *     parseArgs({ args: ["--jial", "/q"], options, strict: true });
 *   } catch (error) {
 *     return error;
 *   }
 * })();
 * assert.equal(
 *   usageErrorOf(error, Object.keys(options)).message,
 *   "unknown option --jial (did you mean --jail?)",
 * );
 * ```
 */
export function usageErrorOf(error: unknown, names: readonly string[]): UsageError {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /Unknown option '(-{1,2})([^']+)'/.exec(message);
  if (unknown) {
    const [, dashes, typed] = unknown;
    const near = dashes === "--" ? closestOption(typed, names) : undefined;
    const hint = near ? ` (did you mean --${near}?)` : "";
    return new UsageError(`unknown option ${dashes}${typed}${hint}`);
  }
  const missing = /Option '(?:-\w, )?(--[\w-]+) <value>' argument missing/.exec(message);
  if (missing) return new UsageError(`${missing[1]} needs a value`);
  const extra = /Option '(?:-\w, )?(--[\w-]+)' does not take an argument/.exec(message);
  if (extra) return new UsageError(`${extra[1]} takes no value`);
  return new UsageError(message.split("\n")[0].replace(/^TypeError: /, ""));
}
