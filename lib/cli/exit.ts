/**
 * How a command ends: the exit codes every command shares (the scan's are
 * the contract: scripts and cron jobs branch on them), and the one error a
 * command line that cannot be run raises.
 *
 * @module
 */

/**
 * Exit codes: 0 every file benign (or nothing to do), 1 malicious found
 * (every one quarantined, or reported in report-only mode), 2 some file
 * unresolved (or the run stopped with files left in place) and none
 * malicious, 3 usage or configuration error (nothing scanned), 4 a
 * malicious file could not be quarantined (wins over 1, 2 and 130), 70 an
 * internal error (a bug: please report it), 130 interrupted.
 *
 * @example Malicious files found
 * ```ts
 * import { Exit } from "./exit.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(Exit.MALICIOUS, 1);
 * ```
 */
export const Exit = {
  CLEAN: 0,
  MALICIOUS: 1,
  UNRESOLVED: 2,
  USAGE: 3,
  UNCONTAINED: 4,
  INTERNAL: 70,
  INTERRUPTED: 130,
} as const;

/**
 * A command line that cannot be run: exit 3, nothing scanned.
 *
 * @example A usage error by name
 * ```ts
 * import { UsageError } from "./exit.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new UsageError("missing --in DIR").name, "UsageError");
 * ```
 */
export class UsageError extends Error {
  override name = "UsageError";
}
