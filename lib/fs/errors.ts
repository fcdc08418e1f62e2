/**
 * One-line error text for messages to the user.
 *
 * @example
 * ```ts
 * import { reasonOf } from "./errors.ts";
 * reasonOf(new Error("No such file or directory (os error 2): stat '/x'")); // "No such file or directory"
 * ```
 * @module
 */

/**
 * The first line of an error's message without Deno's `(os error N): op 'path'`
 * tail, which repeats the path the caller already names.
 *
 * @example
 * ```ts
 * import { reasonOf } from "./errors.ts";
 * reasonOf("plain text"); // "plain text"
 * ```
 */
export function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/ \(os error \d+\).*$/s, "").split("\n")[0];
}
