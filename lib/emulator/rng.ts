/**
 * A small seeded random number generator, so a `--seed` run injects the same
 * faults in the same order every time.
 *
 * @example
 * ```ts
 * import { seededRandom } from "./rng.ts";
 * const next = seededRandom(42);
 * next() === seededRandom(42)(); // true
 * ```
 * @module
 */

/**
 * Mulberry32: 32 bits of state, a full period of 2^32 and good enough
 * spread for picking faults; not for anything secret.
 *
 * @example
 * ```ts
 * import { seededRandom } from "./rng.ts";
 * const next = seededRandom(1);
 * const x = next(); // 0 <= x < 1
 * ```
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
