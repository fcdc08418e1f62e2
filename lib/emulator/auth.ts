/**
 * API key checks. Keys are compared in constant time (over their SHA-256,
 * so not even the length leaks) because the emulator doubles as a rehearsal
 * target and should not teach timing-leaky habits.
 *
 * @example Keys compared in constant time
 * ```ts
 * import { keysEqual } from "./auth.ts";
 * import assert from "node:assert/strict";
 * assert.equal(keysEqual("secret", "secret"), true);
 * assert.equal(keysEqual("secret", "Secret"), false);
 * ```
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Whether two keys are equal, in time independent of where they differ.
 *
 * @example An empty key never matches
 * ```ts
 * import { keysEqual } from "./auth.ts";
 * import assert from "node:assert/strict";
 * assert.equal(keysEqual("", "x"), false);
 * ```
 */
export function keysEqual(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * Whether a cloud-format request carries the key: `Authorization: <key>`
 * (bare, no scheme, as every cloud client sends it) or `x-access-token: <key>`.
 * Without a configured key everything is allowed, as on an appliance.
 *
 * @example The bare key, a Bearer prefix, and no key set at all
 * ```ts
 * import { cloudAuthorized } from "./auth.ts";
 * import assert from "node:assert/strict";
 * assert.equal(cloudAuthorized(new Headers({ authorization: "k1" }), "k1"), true);
 * assert.equal(cloudAuthorized(new Headers({ authorization: "Bearer k1" }), "k1"), false);
 * assert.equal(cloudAuthorized(new Headers(), undefined), true);
 * ```
 */
export function cloudAuthorized(headers: Headers, apiKey: string | undefined): boolean {
  if (apiKey === undefined) return true;
  const byHeader = headers.get("authorization");
  const byToken = headers.get("x-access-token");
  // Both checks always run, so which header was used does not show in timing.
  const header = byHeader !== null && keysEqual(byHeader, apiKey);
  const token = byToken !== null && keysEqual(byToken, apiKey);
  return header || token;
}
