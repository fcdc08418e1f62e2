/**
 * The errors of the file-system layer that the run reacts to as a whole.
 *
 * @module
 */

import { reasonOf } from "../util/reason.ts";

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
