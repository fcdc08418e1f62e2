/**
 * A small seeded random number generator, so a `--seed` run injects the same
 * faults in the same order every time.
 *
 * @example The same seed, the same sequence
 * ```ts
 * import { seededRandom } from "./rng.ts";
 * import assert from "node:assert/strict";
 * const next = seededRandom(42);
 * assert.equal(next() === seededRandom(42)(), true);
 * ```
 * @module
 */

/**
 * Mulberry32: 32 bits of state, a full period of 2^32 and good enough
 * spread for picking faults; not for anything secret.
 *
 * @example Numbers in [0, 1)
 * ```ts
 * import { seededRandom } from "./rng.ts";
 * import assert from "node:assert/strict";
 *
 * const next = seededRandom(1);
 * for (let i = 0; i < 100; i++) {
 *   const x = next();
 *   assert.ok(x >= 0 && x < 1);
 * }
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
