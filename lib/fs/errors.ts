/**
 * One-line error text for messages to the user.
 *
 * @example The OS error's reason, without its code and path
 * ```ts
 * import { reasonOf } from "./errors.ts";
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
 * import { reasonOf } from "./errors.ts";
 * import assert from "node:assert/strict";
 * assert.equal(reasonOf("plain text"), "plain text");
 * ```
 */
export function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/ \(os error \d+\).*$/s, "").split("\n")[0];
}

/**
 * The reports folder (its log, journal, response files or reports) cannot
 * be written: the run stops at once, settled files stay settled and the
 * rest stay where they are (exit 2), rather than go on without a record.
 *
 * @example The reports folder named, the reason kept short
 * ```ts
 * import { ReportsFolderError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new ReportsFolderError("/rep", new Error("No space left on device (os error 28)"));
 * assert.equal(error.message, "Cannot write to the reports folder /rep: No space left on device");
 * ```
 */
export class ReportsFolderError extends Error {
  override name = "ReportsFolderError";
  constructor(folder: string, cause: unknown) {
    super(`Cannot write to the reports folder ${folder}: ${reasonOf(cause)}`, { cause });
  }
}
