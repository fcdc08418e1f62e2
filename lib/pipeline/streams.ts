/**
 * Stream helpers the pipeline stages share.
 *
 * @module
 */

import { TaskPool } from "./task_pool.ts";

/**
 * Runs a stream-controller call that throws once the pipeline was stopped
 * (an interrupted run cancels the readable side while work is in flight);
 * the result of that work is no longer wanted then.
 *
 * @example Enqueue into a stream that was already cancelled
 * ```ts
 * import { safely } from "./streams.ts";
 * import assert from "node:assert/strict";
 *
 * let controller!: ReadableStreamDefaultController<number>;
 * const stream = new ReadableStream<number>({ start: (c) => void (controller = c) });
 * await stream.cancel();
 * assert.throws(() => controller.enqueue(1), TypeError);
 * assert.doesNotThrow(() => safely(() => controller.enqueue(1)));
 * ```
 */
export function safely(call: () => void): void {
  try {
    call();
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
  }
}

/**
 * A transform that runs `fn` on up to `concurrency` chunks at once and
 * passes results on as they finish (order not kept). Backpressure holds:
 * no more than `concurrency` chunks are taken from upstream at a time.
 *
 * @example Double numbers two at a time
 * ```ts
 * import { mapConcurrent } from "./streams.ts";
 * import assert from "node:assert/strict";
 *
 * const doubled = ReadableStream.from([1, 2, 3])
 *   .pipeThrough(mapConcurrent(async (n: number) => n * 2, 2));
 * assert.deepEqual((await Array.fromAsync(doubled)).sort(), [2, 4, 6]);
 * ```
 */
export function mapConcurrent<I, O>(
  fn: (chunk: I) => Promise<O>,
  concurrency: number,
  signal?: AbortSignal,
): TransformStream<I, O> {
  let pool: TaskPool;
  return new TransformStream<I, O>({
    start(controller) {
      pool = new TaskPool(concurrency, { signal, onFailure: (error) => controller.error(error) });
    },
    async transform(chunk, controller) {
      await pool.run(async () => {
        const value = await fn(chunk);
        safely(() => controller.enqueue(value));
      });
    },
    flush: () => pool.drain(),
  });
}
