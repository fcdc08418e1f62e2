/**
 * The te-scan version, shown by `--version` and written to every log.
 *
 * @example A semantic version
 * ```ts
 * import { VERSION } from "./version.ts";
 * import assert from "node:assert/strict";
 *
 * assert.match(VERSION, /^\d+\.\d+\.\d+$/);
 * ```
 * @module
 */

/** Semantic version of this build. */
export const VERSION = "0.1.0";
