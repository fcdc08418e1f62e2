/**
 * Errors that stop a whole run rather than fail one file. A refused API
 * key, an untrusted certificate or a URL that does not serve the API is a
 * configuration error (exit 3): nothing can be scanned until it changes.
 * A target that keeps failing is taken out of rotation; with none left the
 * run stops (exit 2) and the files not yet settled stay where they are,
 * for the next run. So does an API key whose quota is spent.
 *
 * @module
 */

import { AuthError, HttpStatusError } from "./cloud_client.ts";
import { TlsError } from "./http.ts";
import { ProxyError } from "./proxy.ts";

/** No target is left in rotation (each failed for longer than the grace period). */
export class ApplianceDownError extends Error {
  override name = "ApplianceDownError";
}

/** The API key has no quota left (1005 NO_QUOTA): every further upload would fail alike. */
export class QuotaError extends Error {
  override name = "QuotaError";
}

/**
 * Whether an error must stop the run rather than fail one file.
 *
 * @example A refused key stops the run, a failed file does not
 * ```ts
 * import { isFatal } from "./fatal.ts";
 * import { AuthError } from "./cloud_client.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isFatal(new AuthError("refused")), true);
 * assert.equal(isFatal(new Error("one file failed")), false);
 * ```
 */
export function isFatal(error: unknown): boolean {
  return isConfigurationError(error) || error instanceof ApplianceDownError ||
    error instanceof QuotaError;
}

/**
 * Whether a run-stopping error is the user's configuration (exit 3) rather
 * than the target's state (exit 2): the key, the certificate, or an address
 * that answers but not as the API (HTTP 4xx other than 408 and 429).
 *
 * @example A wrong path is a configuration error, a down appliance is not
 * ```ts
 * import { ApplianceDownError, isConfigurationError } from "./fatal.ts";
 * import { HttpStatusError } from "./cloud_client.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isConfigurationError(new HttpStatusError(404, "no such route")), true);
 * assert.equal(isConfigurationError(new ApplianceDownError("down")), false);
 * ```
 */
export function isConfigurationError(error: unknown): boolean {
  if (error instanceof HttpStatusError) return !error.transient;
  return error instanceof AuthError || error instanceof TlsError || error instanceof ProxyError;
}
