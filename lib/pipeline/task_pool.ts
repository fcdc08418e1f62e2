/**
 * The pipeline's one bounded-concurrency primitive. Hashing, cache queries,
 * emulation slots and the dispose sink all run "at most N at once, the
 * first failure stops the lot"; this is the only place that says how.
 *
 * @module
 */

/** Options of a {@linkcode TaskPool}. */
export interface TaskPoolOptions {
  /** Aborting makes callers waiting for a slot reject with the signal's reason. */
  signal?: AbortSignal;
  /** Told once, about the first task that fails (to error a stream at once). */
  onFailure?: (error: unknown) => void;
}

/**
 * Runs tasks at most `limit` at a time. `run` waits for a free slot, starts
 * the task and returns without waiting for it; the first task to fail makes
 * every later `run` and `drain` throw its error. Tasks already started are
 * never cut short: `drain` waits for all of them, even after an abort, so a
 * file being moved is never left half-placed.
 *
 * @example Three tasks, two at a time
 * ```ts
 * import { TaskPool } from "./task_pool.ts";
 * import assert from "node:assert/strict";
 *
 * const pool = new TaskPool(2);
 * const done: number[] = [];
 * for (const n of [1, 2, 3]) {
 *   await pool.run(async () => {
 *     done.push(n);
 *   });
 *   assert.ok(pool.active <= 2);
 * }
 * await pool.drain();
 * assert.deepEqual(done.sort(), [1, 2, 3]);
 * ```
 *
 * @example The first failure wins
 * ```ts
 * import { TaskPool } from "./task_pool.ts";
 * import assert from "node:assert/strict";
 *
 * const pool = new TaskPool(4);
 * await pool.run(() => Promise.reject(new Error("disk full")));
 * await assert.rejects(pool.drain(), /disk full/);
 * await assert.rejects(pool.run(async () => {}), /disk full/);
 * ```
 */
export class TaskPool {
  readonly #running = new Set<Promise<void>>();
  readonly #options: TaskPoolOptions;
  #failure?: { error: unknown };
  #slotFreed?: () => void;

  constructor(readonly limit: number, options: TaskPoolOptions = {}) {
    if (!(limit >= 1)) throw new RangeError(`Cannot make a task pool of ${limit} slots`);
    this.#options = options;
  }

  /** Tasks started and not ended yet. */
  get active(): number {
    return this.#running.size;
  }

  /** The first failure, if a task has failed. */
  get failure(): { error: unknown } | undefined {
    return this.#failure;
  }

  /** Waits for a slot, starts `task`, and returns once it has started. */
  async run(task: () => Promise<unknown>): Promise<void> {
    this.#throwIfFailed();
    while (this.#running.size >= this.limit) {
      await this.#nextFreeSlot();
      this.#throwIfFailed();
    }
    const running: Promise<void> = task().then(
      () => {},
      (error) => this.#fail(error),
    ).finally(() => {
      this.#running.delete(running);
      this.#wake();
    });
    this.#running.add(running);
  }

  /** Waits for every started task; throws the first failure. */
  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running);
    this.#throwIfFailed();
  }

  #nextFreeSlot(): Promise<void> {
    const signal = this.#options.signal;
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => reject(signal?.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      const previous = this.#slotFreed;
      this.#slotFreed = () => {
        signal?.removeEventListener("abort", onAbort);
        previous?.();
        resolve();
      };
    });
  }

  #wake(): void {
    const wake = this.#slotFreed;
    this.#slotFreed = undefined;
    wake?.();
  }

  #fail(error: unknown): void {
    if (this.#failure) return;
    this.#failure = { error };
    this.#options.onFailure?.(error);
  }

  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure.error;
  }
}
