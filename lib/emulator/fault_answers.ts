/**
 * What an injected fault looks like on the wire.
 *
 * A dropped connection is made by answering with a body stream that fails:
 * over HTTP/2 (what fetch negotiates) the stream is reset before the headers
 * and `fetch()` itself rejects; over HTTP/1.1 the headers go out and the
 * connection is cut inside the body, so reading the body fails. Deno.serve
 * has no way to close a connection before any byte is sent.
 *
 * @example An HTML error page instead of JSON
 * ```ts
 * import { faultResponse } from "./fault_answers.ts";
 * import assert from "node:assert/strict";
 * const res = faultResponse({ kind: "html", path: "any", times: 1 });
 * assert.equal(res?.status, 503);
 * await res?.body?.cancel();
 * ```
 * @module
 */

import { Code } from "./wire.ts";
import type { Fault } from "./faults.ts";
import { apiError } from "./http.ts";

/**
 * The error a `reset` fault's body fails with; recognised so the server
 * does not log its own deliberate failures.
 *
 * @example What the client sees
 * ```ts
 * import { DeliberateReset } from "./fault_answers.ts";
 * import assert from "node:assert/strict";
 *
 * const message = "connection reset by the te-scan emulator (injected fault)";
 * assert.equal(new DeliberateReset().message, message);
 * ```
 */
export class DeliberateReset extends Error {
  /**
   * @example Thrown to drop the connection
   * ```ts
   * import { DeliberateReset } from "./fault_answers.ts";
   * import assert from "node:assert/strict";
   *
   * assert.throws(() => {
   *   throw new DeliberateReset();
   * }, DeliberateReset);
   * ```
   */
  constructor() {
    super("connection reset by the te-scan emulator (injected fault)");
    this.name = "DeliberateReset";
  }
}

const HTML_PAGE = `<!DOCTYPE html>
<html><head><title>503 Service Temporarily Unavailable</title></head>
<body><h1>Service Temporarily Unavailable</h1>
<p>The server is temporarily unable to service your request. Please try again later.</p>
<hr><address>te-scan emulator (injected fault)</address></body></html>
`;

/**
 * The answer of a fault that replaces the real one, or `undefined` for the
 * kinds that change the real answer instead (`delay`, `truncate`, `code`, `scrub`).
 *
 * @example A delay has no answer of its own
 * ```ts
 * import { faultResponse } from "./fault_answers.ts";
 * import assert from "node:assert/strict";
 * assert.equal(faultResponse({ kind: "delay", path: "any", times: 1, delayMs: 5 }), undefined);
 * ```
 */
export function faultResponse(fault: Fault): Response | undefined {
  switch (fault.kind) {
    case "http500":
      return apiError(500, Code.INTERNAL_ERROR, "Internal error (injected fault).");
    case "http503":
      return apiError(503, Code.NOT_ENOUGH_RESOURCES, "Service unavailable (injected fault).");
    case "html":
      return new Response(HTML_PAGE, {
        status: 503,
        headers: { "content-type": "text/html; charset=utf-8" },
      });
    case "garbage":
      return new Response('\u0000\u00ffNOT-JSON <<garbage>> {"response": [\n', {
        headers: { "content-type": "application/json" },
      });
    case "reset":
      return new Response(
        new ReadableStream({
          start(controller) {
            controller.error(new DeliberateReset());
          },
        }),
        { headers: { "content-type": "application/json" } },
      );
    default:
      return undefined;
  }
}

/**
 * The real answer cut in half: a JSON body that ends mid-value.
 *
 * @example A body cut short
 * ```ts
 * import { truncate } from "./fault_answers.ts";
 * import assert from "node:assert/strict";
 * const cut = await truncate(new Response('{"response":{"a":1}}'));
 * const text = await cut.text();
 * assert.equal(text, '{"response');
 * assert.throws(() => JSON.parse(text), SyntaxError);
 * ```
 */
export async function truncate(res: Response): Promise<Response> {
  const bytes = await res.bytes();
  const headers = new Headers(res.headers);
  headers.delete("content-length");
  return new Response(bytes.slice(0, Math.floor(bytes.length / 2)), {
    status: res.status,
    headers,
  });
}
