/**
 * The emulator's own routes under `/__emulator/`, for tests and benchmarks
 * to look inside and steer it deterministically (never part of the API):
 * - `GET /__emulator/stats`: the counters (this request is not counted);
 * - `POST /__emulator/faults` `{"faults":[…]}`: queues injected failures;
 * - `POST /__emulator/clock` `{"advance_ms":N}`: moves the emulator's clock
 *   forward, so every sample reaches its next stage (early verdict, final
 *   verdict) without the test waiting for it.
 *
 * @example Move the emulator's clock forward
 * ```ts
 * import { handleControl } from "./control.ts";
 * import { newContext } from "./context.ts";
 * import { resolveOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = newContext(resolveOptions({}));
 * const res = await handleControl(
 *   ctx,
 *   new Request("https://x/__emulator/clock", {
 *     method: "POST",
 *     body: JSON.stringify({ advance_ms: 5000 }),
 *   }),
 *   "clock",
 * );
 * assert.equal((await res.json()).advanced_ms, 5000);
 * ```
 * @module
 */

import { Code } from "./wire.ts";
import { checkObject } from "./requests.ts";
import { BadRequest, TooLarge } from "./wire.ts";
import { badRequest } from "./cloud.ts";
import type { EmulatorContext } from "./context.ts";
import { parseFaults } from "./faults.ts";
import { apiError, discardBody, jsonResponse, parseJsonBody, readCapped } from "./http.ts";

/**
 * The path every control route starts with.
 *
 * @example Control routes share one prefix
 * ```ts
 * import { CONTROL_PREFIX } from "./control.ts";
 * import assert from "node:assert/strict";
 * assert.equal("/__emulator/stats".startsWith(CONTROL_PREFIX), true);
 * ```
 */
export const CONTROL_PREFIX = "/__emulator/";

/** The clock moves at most a year per request: more is a mistake. */
const MAX_ADVANCE_MS = 365 * 24 * 3600 * 1000;

async function readControlBody(req: Request, what: string): Promise<Record<string, unknown>> {
  return checkObject(parseJsonBody(await readCapped(req, 1 << 20), what), what, {});
}

async function queueFaults(ctx: EmulatorContext, req: Request): Promise<Response> {
  const faults = parseFaults(await readControlBody(req, "faults request"));
  ctx.faults.add(faults);
  return jsonResponse({ queued: faults.length, pending: ctx.faults.pending() });
}

async function advanceClock(ctx: EmulatorContext, req: Request): Promise<Response> {
  const body = await readControlBody(req, "clock request");
  const ms = checkObject(body, "clock request", { advance_ms: "number" }, ["advance_ms"])
    .advance_ms as number;
  if (!(ms >= 0 && ms <= MAX_ADVANCE_MS)) {
    throw new BadRequest(`clock request.advance_ms: expected 0..${MAX_ADVANCE_MS}, got ${ms}`);
  }
  ctx.advance(ms);
  return jsonResponse({ advanced_ms: ms });
}

/**
 * Answers `/__emulator/NAME`; `name` is what follows the prefix.
 *
 * @example An unknown control route
 * ```ts
 * import { handleControl } from "./control.ts";
 * import { newContext } from "./context.ts";
 * import { resolveOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = newContext(resolveOptions({}));
 * const res = await handleControl(ctx, new Request("https://x/__emulator/nope"), "nope");
 * assert.equal(res.status, 404);
 * await res.body?.cancel();
 * ```
 */
export async function handleControl(
  ctx: EmulatorContext,
  req: Request,
  name: string,
): Promise<Response> {
  const routes: Record<string, [string, () => Promise<Response>]> = {
    stats: ["GET", () => Promise.resolve(jsonResponse({ ...ctx.stats }))],
    faults: ["POST", () => queueFaults(ctx, req)],
    clock: ["POST", () => advanceClock(ctx, req)],
  };
  const route = routes[name];
  if (!route) {
    await discardBody(req);
    return apiError(404, Code.NOT_FOUND, `no such route: ${req.method} ${CONTROL_PREFIX}${name}`);
  }
  const [method, answer] = route;
  if (req.method !== method) {
    await discardBody(req);
    return apiError(405, Code.BAD_REQUEST, `use ${method} ${CONTROL_PREFIX}${name}`);
  }
  try {
    return await answer();
  } catch (error) {
    if (error instanceof BadRequest || error instanceof TooLarge) {
      return badRequest(ctx, error);
    }
    throw error;
  }
}
