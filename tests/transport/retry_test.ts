import assert from "node:assert/strict";
import { backoffMs, withRetry } from "../../lib/transport/retry.ts";
import { sleep } from "../../lib/util/sleep.ts";

const POLICY = { attempts: 4, baseMs: 100, maxMs: 1_000 };

Deno.test("back-off grows exponentially, capped, with jitter between half the base and the ceiling", () => {
  assert.equal(backoffMs(0, POLICY, () => 1), 100);
  assert.equal(backoffMs(3, POLICY, () => 1), 800);
  assert.equal(backoffMs(10, POLICY, () => 1), 1_000, "capped at maxMs");
  assert.equal(backoffMs(3, POLICY, () => 0), 50, "never below half the base");
});

Deno.test("withRetry: passing failures are retried, permanent ones thrown at once", async () => {
  let calls = 0;
  const value = await withRetry(
    () => {
      if (++calls < 3) return Promise.reject(new Error("flaky"));
      return Promise.resolve("ok");
    },
    { ...POLICY, baseMs: 1, maxMs: 2 },
    () => true,
  );
  assert.deepEqual([value, calls], ["ok", 3]);

  calls = 0;
  await assert.rejects(
    withRetry(
      () => {
        calls++;
        return Promise.reject(new Error("permanent"));
      },
      POLICY,
      () => false,
    ),
    /permanent/,
  );
  assert.equal(calls, 1);

  calls = 0;
  const retries: number[] = [];
  await assert.rejects(
    withRetry(
      () => {
        calls++;
        return Promise.reject(new Error("down"));
      },
      { attempts: 3, baseMs: 1, maxMs: 1 },
      () => true,
      (_e, attempt) => retries.push(attempt),
    ),
    /down/,
  );
  assert.equal(calls, 3, "the number of tries includes the first");
  assert.deepEqual(retries, [1, 2]);
});

Deno.test("sleep rejects at once when its signal aborts", async () => {
  const controller = new AbortController();
  const waiting = sleep(60_000, controller.signal);
  controller.abort(new Error("stop"));
  await assert.rejects(waiting, /stop/);
});

Deno.test("withRetry: no retry starts past the time budget (--grace), whatever tries are left", async () => {
  let calls = 0;
  const failing = () => {
    calls++;
    return Promise.reject(new Error("busy"));
  };
  // Each retry waits at least half the base (50 ms): the second would start past a 1 ms budget.
  await assert.rejects(withRetry(failing, { ...POLICY, budgetMs: 1 }, () => true), /busy/);
  assert.equal(calls, 1);
  calls = 0;
  await assert.rejects(withRetry(failing, { ...POLICY, baseMs: 1, maxMs: 1 }, () => true), /busy/);
  assert.equal(calls, POLICY.attempts, "without a budget every try is made");
});
