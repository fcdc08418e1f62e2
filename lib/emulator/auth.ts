/**
 * API key checks. Keys are compared in constant time (over their SHA-256,
 * so not even the length leaks) because the emulator doubles as a rehearsal
 * target and should not teach timing-leaky habits.
 *
 * @example
 * ```ts
 * import { keysEqual } from "./auth.ts";
 * keysEqual("secret", "secret"); // true
 * keysEqual("secret", "Secret"); // false
 * ```
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Whether two keys are equal, in time independent of where they differ.
 *
 * @example
 * ```ts
 * import { keysEqual } from "./auth.ts";
 * keysEqual("", "x"); // false
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
 * @example
 * ```ts
 * import { cloudAuthorized } from "./auth.ts";
 * cloudAuthorized(new Headers({ authorization: "k1" }), "k1"); // true
 * cloudAuthorized(new Headers({ authorization: "Bearer k1" }), "k1"); // false
 * cloudAuthorized(new Headers(), undefined); // true
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
