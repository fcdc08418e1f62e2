/**
 * Jittered exponential back-off for passing failures (network errors,
 * HTTP 5xx, in-body 1009/1011), bounded in attempts and delay.
 *
 * @example A task retried until it succeeds
 * ```ts
 * import { withRetry } from "./retry.ts";
 * import assert from "node:assert/strict";
 *
 * const tries: number[] = [];
 * const answer = await withRetry(
 *   () => tries.push(tries.length) < 3 ? Promise.reject(new Error("busy")) : Promise.resolve("ok"),
 *   { attempts: 3, baseMs: 1, maxMs: 2 },
 *   () => true,
 * );
 * assert.equal(answer, "ok");
 * assert.equal(tries.length, 3);
 * ```
 * @module
 */

import { sleep } from "../util/sleep.ts";

/** How often and how long to retry. */
export interface RetryPolicy {
  /** Total tries, the first included. */
  attempts: number;
  /** Delay scale of the first retry. */
  baseMs: number;
  /** Largest delay between tries. */
  maxMs: number;
  /**
   * No retry starts later than this after the first try began (the run's
   * `--grace`): a target whose every try is slow must not hold a request
   * for six of them.
   */
  budgetMs?: number;
}

/** The default: 6 tries over roughly a minute at most. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseMs: 500, maxMs: 30_000 };

/**
 * The delay before retry number `attempt` (0 = first retry): "full jitter",
 * a random point in [base/2, min(max, base·2^attempt)], so that many clients
 * failing together do not come back together.
 *
 * @example The third retry, with the random point at the top
 * ```ts
 * import { backoffMs } from "./retry.ts";
 * import assert from "node:assert/strict";
 * assert.equal(backoffMs(3, { attempts: 5, baseMs: 100, maxMs: 10_000 }, () => 1), 800);
 * ```
 */
export function backoffMs(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** attempt);
  const floor = Math.min(ceiling, policy.baseMs / 2);
  return Math.round(floor + (ceiling - floor) * random());
}

/**
 * Runs `task` until it succeeds, the error is not transient, or the tries
 * run out; the last error is thrown as it was.
 *
 * @example An error that is not transient is thrown at once
 * ```ts
 * import { withRetry } from "./retry.ts";
 * import assert from "node:assert/strict";
 *
 * let calls = 0;
 * const task = () => {
 *   calls++;
 *   return Promise.reject(new Error("401 unauthorized"));
 * };
 * await assert.rejects(withRetry(task, { attempts: 3, baseMs: 1, maxMs: 1 }, () => false), /401/);
 * assert.equal(calls, 1);
 * ```
 */
export async function withRetry<T>(
  task: () => Promise<T>,
  policy: RetryPolicy,
  isTransient: (error: unknown) => boolean,
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void,
  signal?: AbortSignal,
): Promise<T> {
  const startedAt = performance.now();
  for (let attempt = 0;; attempt++) {
    try {
      return await task();
    } catch (error) {
      if (attempt + 1 >= policy.attempts || !isTransient(error) || signal?.aborted) throw error;
      const delay = backoffMs(attempt, policy);
      const spent = performance.now() - startedAt;
      if (policy.budgetMs !== undefined && spent + delay > policy.budgetMs) throw error;
      onRetry?.(error, attempt + 1, delay);
      await sleep(delay, signal);
    }
  }
}
