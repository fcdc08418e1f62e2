/**
 * Injected failures: a queue of deterministic faults that tests post to
 * `/__emulator/faults`, and the random ones of `--fail-rate`.
 *
 * Each API request takes at most one fault: the first queued one whose path
 * matches, else (with probability failRate) a random 500, 503 or dropped
 * connection.
 *
 * @example A fault is taken once, on its route
 * ```ts
 * import { FaultQueue, parseFaults } from "./faults.ts";
 * import assert from "node:assert/strict";
 * const queue = new FaultQueue();
 * queue.add(parseFaults({ faults: [{ kind: "http500", path: "query" }] }));
 * assert.equal(queue.take("upload"), undefined);
 * assert.equal(queue.take("query")?.kind, "http500");
 * assert.equal(queue.take("query"), undefined); // used up
 * ```
 * @module
 */

import { checkObject } from "./requests.ts";
import { BadRequest } from "./wire.ts";

/**
 * What a fault does:
 * - `http500` / `http503`: that HTTP status with a JSON status body;
 * - `html`: 503 with an HTML page (a proxy's error page);
 * - `reset`: the connection drops without a complete answer;
 * - `truncate`: the real answer, cut in half;
 * - `delay`: the real answer after `delayMs`;
 * - `code`: a well-formed answer whose statuses are all `code`;
 * - `garbage`: 200 with a body that is not JSON;
 * - `scrub` (TPAPI only): the scrub result is `code`.
 */
export type FaultKind =
  | "http500"
  | "http503"
  | "html"
  | "reset"
  | "truncate"
  | "delay"
  | "code"
  | "garbage"
  | "scrub";

/**
 * Which requests a fault applies to.
 */
export type FaultPath = "query" | "upload" | "download" | "tpapi" | "any";

/**
 * The API operations faults can hit (`quota` only through path `any`).
 */
export type ApiRoute = "query" | "upload" | "download" | "quota" | "tpapi";

/**
 * One queued fault.
 */
export interface Fault {
  kind: FaultKind;
  path: FaultPath;
  /** Requests it still applies to. */
  times: number;
  code?: number;
  delayMs?: number;
}

const KINDS: readonly FaultKind[] = [
  "http500",
  "http503",
  "html",
  "reset",
  "truncate",
  "delay",
  "code",
  "garbage",
  "scrub",
];
const PATHS: readonly FaultPath[] = ["query", "upload", "download", "tpapi", "any"];

/** A delay longer than this is a mistake (and would hold the server's shutdown). */
const MAX_DELAY_MS = 10 * 60 * 1000;

const FAULT_FIELDS = {
  kind: "string",
  path: "string",
  times: "number",
  code: "number",
  delayMs: "number",
} as const;

/**
 * Validates a `POST /__emulator/faults` body:
 * `{"faults":[{kind, path?, times?, code?, delayMs?}]}`.
 *
 * @example A fault without a path applies to any
 * ```ts
 * import { parseFaults } from "./faults.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseFaults({ faults: [{ kind: "delay", delayMs: 50 }] })[0].path, "any");
 * ```
 */
export function parseFaults(body: unknown): Fault[] {
  const obj = checkObject(body, "faults request", { faults: "array" }, ["faults"]);
  return (obj.faults as unknown[]).map((raw, i) => {
    const path = `faults[${i}]`;
    const item = checkObject(raw, path, FAULT_FIELDS, ["kind"]);
    const kind = item.kind as FaultKind;
    if (!KINDS.includes(kind)) {
      throw new BadRequest(`${path}.kind: expected one of ${KINDS.join(", ")}, got ${kind}`);
    }
    const where = (item.path ?? (kind === "scrub" ? "tpapi" : "any")) as FaultPath;
    if (!PATHS.includes(where)) {
      throw new BadRequest(`${path}.path: expected one of ${PATHS.join(", ")}, got ${where}`);
    }
    const times = (item.times ?? 1) as number;
    if (!Number.isInteger(times) || times < 1) {
      throw new BadRequest(`${path}.times: expected an integer >= 1, got ${times}`);
    }
    const fault: Fault = { kind, path: where, times };
    const code = item.code as number | undefined;
    if ((kind === "code" || kind === "scrub") && (code === undefined || !Number.isInteger(code))) {
      throw new BadRequest(`${path}.code: an integer is required for kind ${kind}`);
    }
    if (code !== undefined) fault.code = code;
    const delayMs = item.delayMs as number | undefined;
    if (kind === "delay" && (delayMs === undefined || delayMs < 0 || delayMs > MAX_DELAY_MS)) {
      throw new BadRequest(`${path}.delayMs: 0..${MAX_DELAY_MS} is required for kind delay`);
    }
    if (delayMs !== undefined) fault.delayMs = delayMs;
    return fault;
  });
}

/**
 * Faults waiting for requests, first in first out.
 *
 * @example A fault for two requests
 * ```ts
 * import { FaultQueue } from "./faults.ts";
 * import assert from "node:assert/strict";
 * const queue = new FaultQueue();
 * queue.add([{ kind: "garbage", path: "any", times: 2 }]);
 * assert.equal(queue.pending(), 2);
 * ```
 */
export class FaultQueue {
  #faults: Fault[] = [];

  /**
   * Appends faults (copied: the caller's objects are not consumed).
   *
   * @example Queue a reset of the next upload
   * ```ts
   * import { FaultQueue } from "./faults.ts";
   * import assert from "node:assert/strict";
   *
   * const queue = new FaultQueue();
   * queue.add([{ kind: "reset", path: "upload", times: 1 }]);
   * assert.equal(queue.take("upload")?.kind, "reset");
   * ```
   */
  add(faults: Fault[]): void {
    this.#faults.push(...faults.map((f) => ({ ...f })));
  }

  /**
   * Uses up one application of the first fault that matches a request to
   * `route` (scrub faults are only for {@link takeScrub}).
   *
   * @example An empty queue
   * ```ts
   * import { FaultQueue } from "./faults.ts";
   * import assert from "node:assert/strict";
   * assert.equal(new FaultQueue().take("query"), undefined);
   * ```
   */
  take(route: ApiRoute): Fault | undefined {
    return this.#take((f) => f.kind !== "scrub" && (f.path === "any" || f.path === route));
  }

  /**
   * Uses up one application of the first scrub fault.
   *
   * @example A forced scrub result
   * ```ts
   * import { FaultQueue } from "./faults.ts";
   * import assert from "node:assert/strict";
   * const queue = new FaultQueue();
   * queue.add([{ kind: "scrub", path: "tpapi", times: 1, code: 99 }]);
   * assert.equal(queue.takeScrub()?.code, 99);
   * ```
   */
  takeScrub(): Fault | undefined {
    return this.#take((f) => f.kind === "scrub" && (f.path === "any" || f.path === "tpapi"));
  }

  /**
   * Applications left over all queued faults.
   *
   * @example Nothing pending
   * ```ts
   * import { FaultQueue } from "./faults.ts";
   * import assert from "node:assert/strict";
   * assert.equal(new FaultQueue().pending(), 0);
   * ```
   */
  pending(): number {
    return this.#faults.reduce((sum, f) => sum + f.times, 0);
  }

  #take(match: (fault: Fault) => boolean): Fault | undefined {
    const index = this.#faults.findIndex(match);
    if (index < 0) return undefined;
    const fault = this.#faults[index];
    if (--fault.times === 0) this.#faults.splice(index, 1);
    return { ...fault, times: 1 };
  }
}

/**
 * The random fault of a `--fail-rate` run for one request, or none.
 *
 * @example Never at rate 0, always at rate 1
 * ```ts
 * import { randomFault } from "./faults.ts";
 * import { seededRandom } from "./rng.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(randomFault(0, seededRandom(1)), undefined);
 * assert.ok(["http500", "http503", "reset"].includes(randomFault(1, seededRandom(1))!.kind));
 * ```
 */
export function randomFault(failRate: number, random: () => number): Fault | undefined {
  if (failRate <= 0 || random() >= failRate) return undefined;
  const kinds = ["http500", "http503", "reset"] as const;
  return { kind: kinds[Math.floor(random() * kinds.length)], path: "any", times: 1 };
}
