/**
 * The state one running emulator shares between its routes.
 *
 * @example A context with a quota
 * ```ts
 * import { newContext } from "./context.ts";
 * import { resolveOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 * const ctx = newContext(resolveOptions({ mode: "cloud", quota: 3 }));
 * assert.equal(ctx.quota.exhausted, false);
 * ```
 * @module
 */

import { FaultQueue } from "./faults.ts";
import type { ResolvedOptions } from "./options.ts";
import { Quota } from "./quota.ts";
import { seededRandom } from "./rng.ts";
import { SampleStore } from "./samples.ts";
import { type EmulatorStats, newStats } from "./stats.ts";

/**
 * Options, counters, samples, faults, quota and the clock of one emulator.
 */
export interface EmulatorContext {
  options: ResolvedOptions;
  stats: EmulatorStats;
  samples: SampleStore;
  faults: FaultQueue;
  quota: Quota;
  /** Seeded: fault injection repeats run to run. */
  random: () => number;
  /** Aborted when the server closes, so pending delays end. */
  closing: AbortSignal;
  /** Monotonic milliseconds; emulation progress is measured on it. */
  now(): number;
  /**
   * Moves `now()` forward by `ms`, so a test reaches a later stage of every
   * sample (early verdict, final verdict) at once instead of waiting.
   */
  advance(ms: number): void;
}

/**
 * A fresh context; `closing` defaults to a signal that never aborts.
 *
 * @example A fresh context has counted nothing
 * ```ts
 * import { newContext } from "./context.ts";
 * import { resolveOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 * assert.equal(newContext(resolveOptions({})).stats.http_requests, 0);
 * ```
 */
export function newContext(
  options: ResolvedOptions,
  closing: AbortSignal = new AbortController().signal,
): EmulatorContext {
  let skipped = 0;
  return {
    options,
    stats: newStats(),
    samples: new SampleStore(),
    faults: new FaultQueue(),
    quota: new Quota(options.quota),
    random: seededRandom(options.seed),
    closing,
    now: () => performance.now() + skipped,
    advance(ms: number) {
      skipped += ms;
    },
  };
}
