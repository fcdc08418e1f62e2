/**
 * Escaping for HTML and XML.
 *
 * @module
 */

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Text safe as HTML or XML content and as a quoted attribute value (either quote).
 *
 * @example A hostile name
 * ```ts
 * import { escapeHtml } from "./html.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(escapeHtml(`<a href="x">'&'`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;");
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}
