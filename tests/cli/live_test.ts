import assert from "node:assert/strict";
import { LiveOutputs } from "../../lib/cli/live.ts";

Deno.test("live outputs: gauges are written every time, the page only after files settled", async () => {
  const writes: boolean[] = [];
  let settled = 0;
  const live = new LiveOutputs({
    write: (changed) => Promise.resolve(void writes.push(changed)),
    version: () => settled,
    always: true,
    intervalMs: 60_000,
  });
  await live.flush();
  await live.flush();
  settled++;
  await live.flush();
  await live.stop();
  assert.deepEqual(writes, [true, false, true]);
});

Deno.test("live outputs: a failing write is reported once until one succeeds", async () => {
  const errors: unknown[] = [];
  let fail = true;
  let settled = 0;
  const live = new LiveOutputs({
    write: () => fail ? Promise.reject(new Error("disk full")) : Promise.resolve(),
    version: () => settled,
    onError: (error) => errors.push(error),
    intervalMs: 60_000,
  });
  for (let i = 0; i < 3; i++) {
    settled++;
    await live.flush();
  }
  assert.equal(errors.length, 1, "one warning, not one per interval");
  fail = false;
  settled++;
  await live.flush();
  fail = true;
  settled++;
  await live.flush();
  await live.stop();
  assert.equal(errors.length, 2, "a new run of failures is reported again");
});
