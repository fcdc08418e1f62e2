/**
 * The system error code (`ENOENT`, `EXDEV`, `ELOOP`, …) of a thrown error.
 *
 * @module
 */

/**
 * The error's `code` when it is a string (Deno's and Node's system errors
 * carry one), otherwise `undefined`: the cause a caller branches on.
 *
 * @example A cross-device rename, told apart from other failures
 * ```ts
 * import { errorCode } from "./error_code.ts";
 * import assert from "node:assert/strict";
 *
 * const exdev = Object.assign(new Error("Cross-device link"), { code: "EXDEV" });
 * assert.equal(errorCode(exdev), "EXDEV");
 * assert.equal(errorCode(new Error("plain")), undefined);
 * assert.equal(errorCode("not an error"), undefined);
 * ```
 */
export function errorCode(error: unknown): string | undefined {
  if (error instanceof Error && "code" in error && typeof error.code === "string") {
    return error.code;
  }
  return undefined;
}
