/**
 * The te-scan version, shown by `--version` and written to every log.
 *
 * @example
 * ```ts
 * import { VERSION } from "./version.ts";
 * console.log(`te-scan ${VERSION}`);
 * ```
 * @module
 */

/** Semantic version of this build. */
export const VERSION = "0.1.0";
