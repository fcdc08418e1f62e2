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
        (value) => controller.enqueue(value),
        (error) => {
          failure ??= { error };
          controller.error(error);
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
