/**
 * A sleep that an abort signal cuts short: the one wait every folder uses
 * (back-off, group commits, polling), so a stop request never waits it out.
 *
 * @module
 */

/**
 * Resolves after `ms`, or rejects at once with the signal's reason when it aborts.
 *
 * @example A sleep cut short
 * ```ts
 * import { sleep } from "./sleep.ts";
 * import assert from "node:assert/strict";
 *
 * await sleep(1);
 * const controller = new AbortController();
 * const slept = sleep(60_000, controller.signal);
 * controller.abort(new Error("stopped"));
 * await assert.rejects(slept, /stopped/);
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
