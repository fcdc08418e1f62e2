/**
 * The `te_cookie` the cloud uses for server affinity: set on query answers
 * (TEAPI Java crashes without it) and accepted back either as a cookie
 * (TEAPI python/Java) or as a raw `te_cookie` header (Siemplify).
 *
 * @example From a cookie header, or the header of its own name
 * ```ts
 * import { teCookieOf } from "./cookie.ts";
 * import assert from "node:assert/strict";
 * assert.equal(teCookieOf(new Headers({ cookie: "a=1; te_cookie=xyz" })), "xyz");
 * assert.equal(teCookieOf(new Headers({ te_cookie: "remember" })), "remember");
 * ```
 * @module
 */

/**
 * The te_cookie a request carries, if any.
 *
 * @example No cookie
 * ```ts
 * import { teCookieOf } from "./cookie.ts";
 * import assert from "node:assert/strict";
 * assert.equal(teCookieOf(new Headers()), undefined);
 * ```
 */
export function teCookieOf(headers: Headers): string | undefined {
  for (const part of (headers.get("cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === "te_cookie") return part.slice(eq + 1).trim();
  }
  return headers.get("te_cookie")?.trim() || undefined;
}

/**
 * The `Set-Cookie` value for an answer: the client's cookie back if it is a
 * plain token, else a fresh one. A `;` always follows the value (TEAPI Java
 * cuts the value at it).
 *
 * @example The Set-Cookie value
 * ```ts
 * import { setCookieValue } from "./cookie.ts";
 * import assert from "node:assert/strict";
 * assert.equal(setCookieValue("abc"), "te_cookie=abc; Path=/");
 * ```
 */
export function setCookieValue(current: string | undefined): string {
  const value = current && /^[A-Za-z0-9._-]{1,128}$/.test(current)
    ? current
    : crypto.randomUUID().replaceAll("-", "");
  return `te_cookie=${value}; Path=/`;
}
