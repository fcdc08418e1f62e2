/**
 * Stream helpers the pipeline stages share.
 *
 * @example
 * ```ts
 * import { mapConcurrent } from "./streams.ts";
 * const doubled = ReadableStream.from([1, 2, 3]).pipeThrough(mapConcurrent(async (n) => n * 2, 2));
 * console.log(await Array.fromAsync(doubled)); // [2, 4, 6] in some order
 * ```
 * @module
 */

/**
 * Runs a stream-controller call that throws once the pipeline was stopped
 * (an interrupted run cancels the readable side while work is in flight);
 * the result of that work is no longer wanted then.
 *
 * @example
 * ```ts
 * import { safely } from "./streams.ts";
 * declare const controller: TransformStreamDefaultController<number>;
 * safely(() => controller.enqueue(1));
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
 * @example
 * ```ts
 * import { mapConcurrent } from "./streams.ts";
 * const sizes = ReadableStream.from(["/etc/hostname"])
 *   .pipeThrough(mapConcurrent(async (p) => (await Deno.stat(p)).size, 4));
 * ```
 */
export function mapConcurrent<I, O>(
  fn: (chunk: I) => Promise<O>,
  concurrency: number,
): TransformStream<I, O> {
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  return new TransformStream<I, O>({
    async transform(chunk, controller) {
      if (failure) throw failure.error;
      const task: Promise<void> = fn(chunk).then(
        (value) => safely(() => controller.enqueue(value)),
        (error) => {
          failure ??= { error };
          safely(() => controller.error(error));
        },
      ).finally(() => running.delete(task));
      running.add(task);
      if (running.size >= concurrency) await Promise.race(running);
    },
    async flush() {
      await Promise.all(running);
      if (failure) throw failure.error;
    },
  });
}
