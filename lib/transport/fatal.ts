/**
 * The seam's errors: what a `Transport` may throw and what each
 * means to the pipeline. A transient failure is worth another try; an
 * answer about other content is not this file's; an answer that refuses the
 * request itself (the key, the quota, the format) stops the run.
 *
 * Errors that stop a whole run rather than fail one file. A refused API
 * key, an untrusted certificate or a URL that does not serve the API is a
 * configuration error (exit 3): nothing can be scanned until it changes.
 * A target that keeps failing is taken out of rotation; with none left the
 * run stops (exit 2) and the files not yet settled stay where they are,
 * for the next run. So does an API key whose quota is spent.
 *
 * @module
 */

import type { ResponseItem, Status } from "./protocol.ts";
import { NetworkError, TlsError } from "./http.ts";
import { Code, describeStatus } from "./status.ts";
import { ProtocolError } from "./validate.ts";
import { ProxyError } from "./proxy.ts";

/** An HTTP status the client did not expect. */
export class HttpStatusError extends Error {
  override name = "HttpStatusError";
  constructor(readonly status: number, message: string) {
    super(message);
  }
  /** 5xx, 408 and 429 pass; other 4xx are permanent. */
  get transient(): boolean {
    return this.status >= 500 || this.status === 429 || this.status === 408;
  }
}

/** The service refused the API key (HTTP 401/403, or 1010 FORBIDDEN in an answer). Stops the run. */
export class AuthError extends Error {
  override name = "AuthError";
}

/** An upload answered with an item about other content: it is not this file's answer. */
export class ForeignAnswerError extends Error {
  override name = "ForeignAnswerError";
}

/**
 * Whether an error from a target is worth retrying.
 *
 * @example A busy server is worth retrying, a wrong path is not
 * ```ts
 * import { HttpStatusError, isTransient } from "./fatal.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isTransient(new HttpStatusError(503, "busy")), true);
 * assert.equal(isTransient(new HttpStatusError(404, "no such path")), false);
 * ```
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof NetworkError) return true;
  if (error instanceof HttpStatusError) return error.transient;
  // A garbled answer is usually a proxy or a restarting service; a few tries cost little.
  return error instanceof ProtocolError;
}

/**
 * The codes by which an answer refuses the request itself rather than
 * answering about a file, in the order they are looked for: the key (1010),
 * the quota (1005), the request's format (1008).
 */
export const REFUSALS: readonly number[] = [Code.FORBIDDEN, Code.NO_QUOTA, Code.BAD_REQUEST];

/**
 * The refusals that stop a scan when a file's answer carries them: the key
 * and the quota would fail every file alike (a 1008 about one file's request
 * is that file's error, see `decide.ts`).
 */
export const RUN_REFUSALS: readonly number[] = [Code.FORBIDDEN, Code.NO_QUOTA];

/**
 * The status (the answer's own or its te section's) by which `item` refuses
 * the request, looking only for `codes`; the one place refusal codes are
 * read.
 *
 * @example A te section that refuses the key
 * ```ts
 * import { refusedStatus } from "./fatal.ts";
 * import assert from "node:assert/strict";
 *
 * const item = { status: { code: 1001 }, te: { status: { code: 1010, label: "FORBIDDEN" } } };
 * assert.equal(refusedStatus(item)?.code, 1010);
 * assert.equal(refusedStatus(item, [1005]), undefined);
 * ```
 */
export function refusedStatus(
  item: Pick<ResponseItem, "status" | "te">,
  codes: readonly number[] = REFUSALS,
): Status | undefined {
  const statuses = [item.status, item.te?.status];
  for (const code of codes) {
    const refused = statuses.find((status) => status?.code === code);
    if (refused) return refused;
  }
  return undefined;
}

/**
 * Throws when an answer refuses the request itself (one of `codes`, see
 * {@linkcode REFUSALS}): an {@linkcode AuthError} for the key, a
 * {@linkcode QuotaError} for the quota, a `ProtocolError` for the format.
 *
 * @example A spent quota stops the run; a file's own answer does not
 * ```ts
 * import { QuotaError, refusal } from "./fatal.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => refusal({ status: { code: 1005, label: "NO_QUOTA" } }), QuotaError);
 * refusal({ status: { code: 1001, label: "FOUND" } });
 * ```
 */
export function refusal(item: ResponseItem, codes: readonly number[] = REFUSALS): void {
  const refused = refusedStatus(item, codes);
  const how = describeStatus(item.status);
  if (refused?.code === Code.FORBIDDEN) {
    throw new AuthError(`the API refused the request (${how})`);
  }
  if (refused?.code === Code.NO_QUOTA) {
    throw new QuotaError(`the API key has no quota left (${how})`);
  }
  if (refused?.code === Code.BAD_REQUEST) {
    throw new ProtocolError(`it refused a well-formed query (${how})`);
  }
}

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
 * import { AuthError, isFatal } from "./fatal.ts";
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
 * import { ApplianceDownError, HttpStatusError, isConfigurationError } from "./fatal.ts";
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
