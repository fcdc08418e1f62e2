/**
 * One-line error text for messages to the user.
 *
 * @example The OS error's reason, without its code and path
 * ```ts
 * import { reasonOf } from "./reason.ts";
 * import assert from "node:assert/strict";
 * const error = new Error("No such file or directory (os error 2): stat '/x'");
 * assert.equal(reasonOf(error), "No such file or directory");
 * ```
 * @module
 */

/**
 * The first line of an error's message without Deno's `(os error N): op 'path'`
 * tail, which repeats the path the caller already names.
 *
 * @example A thrown string is its own reason
 * ```ts
 * import { reasonOf } from "./reason.ts";
 * import assert from "node:assert/strict";
 * assert.equal(reasonOf("plain text"), "plain text");
 * ```
 */
export function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/ \(os error \d+\).*$/s, "").split("\n")[0];
}
