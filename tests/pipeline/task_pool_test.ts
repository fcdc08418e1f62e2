import assert from "node:assert/strict";
import { TaskPool } from "../../lib/pipeline/task_pool.ts";

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

Deno.test("run waits for a free slot: never more than the limit at once", async () => {
  const pool = new TaskPool(2);
  const gates = [gate(), gate(), gate()];
  let running = 0;
  let peak = 0;
  const task = (g: ReturnType<typeof gate>) => async () => {
    running++;
    peak = Math.max(peak, running);
    await g.opened;
    running--;
  };
  await pool.run(task(gates[0]));
  await pool.run(task(gates[1]));
  let thirdStarted = false;
  const third = pool.run(task(gates[2])).then(() => (thirdStarted = true));
  await Promise.resolve();
  assert.equal(thirdStarted, false, "the third waits while two run");
  gates[0].open();
  await third;
  assert.equal(thirdStarted, true, "a freed slot takes the next task at once");
  gates[1].open();
  gates[2].open();
  await pool.drain();
  assert.equal(peak, 2);
  assert.equal(pool.active, 0);
});

Deno.test("the first failure wins: later runs and drain throw it, once reported", async () => {
  const reported: unknown[] = [];
  const pool = new TaskPool(3, { onFailure: (error) => reported.push(error) });
  await pool.run(() => Promise.reject(new Error("first")));
  await pool.run(() => Promise.reject(new Error("second"))).catch(() => {});
  await assert.rejects(pool.drain(), /first/);
  await assert.rejects(pool.run(async () => {}), /first/);
  assert.equal(reported.length, 1);
  assert.match(String(reported[0]), /first/);
});

Deno.test("an abort releases callers waiting for a slot; running tasks still finish", async () => {
  const controller = new AbortController();
  const pool = new TaskPool(1, { signal: controller.signal });
  const g = gate();
  let finished = false;
  await pool.run(async () => {
    await g.opened;
    finished = true;
  });
  const waiting = pool.run(async () => {});
  controller.abort(new Error("interrupted"));
  await assert.rejects(waiting, /interrupted/);
  g.open();
  await pool.drain();
  assert.equal(finished, true, "a started task is never cut short");
});

Deno.test("a pool of no slots is refused", () => {
  assert.throws(() => new TaskPool(0), /Cannot make a task pool of 0 slots/);
});
