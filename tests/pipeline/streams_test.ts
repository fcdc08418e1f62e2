import assert from "node:assert/strict";
import { mapConcurrent } from "../../lib/pipeline/streams.ts";

Deno.test("mapConcurrent runs at most N at once and passes every result on", async () => {
  let running = 0;
  let peak = 0;
  const gates: (() => void)[] = [];
  const stage = mapConcurrent(async (n: number) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise<void>((resolve) => gates.push(resolve));
    running--;
    return n * 10;
  }, 3);
  // Release tasks as they queue up, in reverse order, so results come out of order.
  const releaser = setInterval(() => gates.pop()?.(), 1);
  try {
    const out = await Array.fromAsync(
      ReadableStream.from([1, 2, 3, 4, 5, 6, 7]).pipeThrough(stage),
    );
    assert.deepEqual([...out].sort((a, b) => a - b), [10, 20, 30, 40, 50, 60, 70]);
    assert.ok(peak <= 3, `peak concurrency ${peak}`);
    assert.ok(peak >= 2, "work did overlap");
  } finally {
    clearInterval(releaser);
  }
});

Deno.test("mapConcurrent: a failing task errors the stream", async () => {
  const stage = mapConcurrent(
    (n: number) => n === 2 ? Promise.reject(new Error("bad 2")) : Promise.resolve(n),
    2,
  );
  await assert.rejects(Array.fromAsync(ReadableStream.from([1, 2, 3]).pipeThrough(stage)), /bad 2/);
});
