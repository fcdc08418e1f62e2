/**
 * Errors that stop a whole run. A refused API key or an untrusted
 * certificate is a configuration error (exit 3): nothing can be scanned
 * until it changes. An appliance that keeps failing is taken out of
 * rotation; with no appliance left the run stops (exit 2) and the files
 * not yet settled stay where they are, for the next run.
 *
 * @example
 * ```ts
 * import { isFatal } from "./fatal.ts";
 * isFatal(new Error("one file failed")); // false
 * ```
 * @module
 */

import { AuthError } from "./cloud_client.ts";
import { TlsError } from "./http.ts";

/** The appliance failed too many requests in a row (after each one's retries). */
export class ApplianceDownError extends Error {
  override name = "ApplianceDownError";
}

/**
 * Whether an error must stop the run rather than fail one file.
 *
 * @example
 * ```ts
 * import { isFatal } from "./fatal.ts";
 * import { AuthError } from "./cloud_client.ts";
 * isFatal(new AuthError("refused")); // true
 * ```
 */
export function isFatal(error: unknown): boolean {
  return isConfigurationError(error) || error instanceof ApplianceDownError;
}

/**
 * Whether a run-stopping error is the user's configuration (exit 3) rather
 * than the appliance's state (exit 2).
 *
 * @example
 * ```ts
 * import { ApplianceDownError, isConfigurationError } from "./fatal.ts";
 * isConfigurationError(new ApplianceDownError("down")); // false
 * ```
 */
export function isConfigurationError(error: unknown): boolean {
  return error instanceof AuthError || error instanceof TlsError;
}
