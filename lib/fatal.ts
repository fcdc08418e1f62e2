/**
 * Errors that stop a whole run: nothing more can be scanned until the
 * configuration changes (a refused API key, an untrusted certificate).
 *
 * @example
 * ```ts
 * import { isFatal } from "./fatal.ts";
 * isFatal(new Error("one file failed")); // false
 * ```
 * @module
 */

import { AuthError } from "./api/cloud_client.ts";
import { TlsError } from "./api/http.ts";

/**
 * Whether an error must stop the run (exit 3) rather than fail one file.
 *
 * @example
 * ```ts
 * import { isFatal } from "./fatal.ts";
 * import { AuthError } from "./api/cloud_client.ts";
 * isFatal(new AuthError("refused")); // true
 * ```
 */
export function isFatal(error: unknown): boolean {
  return error instanceof AuthError || error instanceof TlsError;
}
