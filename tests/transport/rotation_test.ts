import assert from "node:assert/strict";
import { ApplianceDownError } from "../../lib/transport/fatal.ts";
import { NetworkError } from "../../lib/transport/http.ts";
import { OutOfRotationError, Rotation } from "../../lib/transport/rotation.ts";
import { FakeTransport } from "../pipeline/fake_transport.ts";

const refused = () => Promise.reject(new NetworkError("connect ECONNREFUSED"));

Deno.test("files go to the least-loaded target in rotation", async () => {
  const a = new FakeTransport();
  const b = new FakeTransport();
  const rotation = new Rotation([a, b], { graceMs: 1000 });
  assert.equal(await rotation.pick(), a);
  rotation.load(a, 1);
  assert.equal(await rotation.pick(), b);
  rotation.load(b, 1);
  rotation.load(b, 1);
  assert.equal(await rotation.pick(), a);
});

/** Lets a fake target's probe (already settled) run its continuations. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Two fake targets, `a` failing its probes; the clock and the probe count are the test's. */
function pairWithFailingA(graceMs: number) {
  const a = new FakeTransport();
  const b = new FakeTransport();
  const state = { clock: 0, probes: 0, warnings: [] as string[] };
  a.preflight = () => (state.probes++, refused());
  const rotation = new Rotation([a, b], {
    graceMs,
    probeMs: 100,
    now: () => state.clock,
    onWarning: (w) => state.warnings.push(w),
  });
  return { a, b, rotation, state };
}

Deno.test("a target failing while another is up leaves the rotation at once, warned once; a probe brings it back", async () => {
  const { a, b, rotation, state } = pairWithFailingA(60_000);
  const { warnings } = state;
  await assert.rejects(rotation.call(a, refused), OutOfRotationError, "its file goes elsewhere");
  assert.deepEqual(rotation.active, [b], "no new files or queries for it");
  assert.equal(rotation.mayRetry(a, new NetworkError("reset")), false, "no retries on it");
  await assert.rejects(rotation.call(a, () => Promise.resolve(1)), OutOfRotationError);
  assert.equal(await rotation.pick(), b);
  assert.equal(warnings.length, 1, "one warning per state change, not per request");
  assert.match(
    warnings[0],
    /fake:18194 failed \(.*ECONNREFUSED.*\); it leaves the rotation and its files go to the other/,
  );
  state.clock = 200;
  assert.deepEqual(rotation.active, [b]);
  await settle();
  assert.equal(state.probes, 1, "probed");
  assert.deepEqual(rotation.active, [b], "a failed probe keeps it out");
  a.preflight = () => Promise.resolve();
  state.clock = 400;
  assert.deepEqual(rotation.active, [b]);
  await settle();
  assert.deepEqual(rotation.active, [a, b], "a probe that succeeds brings it back");
  assert.equal(warnings.length, 2);
  assert.match(warnings[1], /answers again; back in rotation/);
});

Deno.test("--grace decides only when a failing target leaves the run for good", async () => {
  const { a, b, rotation, state } = pairWithFailingA(1000);
  const { warnings } = state;
  assert.equal(rotation.mayRetry(a, new NetworkError("connect ECONNREFUSED")), false);
  state.clock = 500;
  void rotation.active;
  await settle();
  assert.equal(warnings.length, 1, "within the grace period it is only out of rotation");
  state.clock = 1600;
  void rotation.active;
  await settle();
  assert.equal(state.probes, 2);
  assert.match(warnings[1], /has failed for 2 s .*leaves the run/);
  state.clock = 5000;
  assert.deepEqual(rotation.active, [b]);
  await settle();
  assert.equal(state.probes, 2, "a target that left the run is no longer probed");
  assert.equal(warnings.length, 2);
});

Deno.test("the last target up keeps retrying and leaves after the grace period", async () => {
  const a = new FakeTransport();
  let clock = 0;
  const rotation = new Rotation([a], { graceMs: 1000, now: () => clock });
  assert.equal(rotation.mayRetry(a, new NetworkError("reset")), true);
  await assert.rejects(rotation.call(a, refused), NetworkError, "within the grace period");
  clock = 500;
  assert.equal(await rotation.call(a, () => Promise.resolve("ok")), "ok", "a success resets it");
  clock = 600;
  await assert.rejects(rotation.call(a, refused), NetworkError);
  clock = 1700;
  await assert.rejects(rotation.call(a, refused), ApplianceDownError);
});

Deno.test("with no target left the run stops: ApplianceDownError says files stay in place", async () => {
  const a = new FakeTransport();
  let clock = 0;
  const rotation = new Rotation([a], { graceMs: 0, now: () => clock });
  clock = 2000;
  await assert.rejects(rotation.call(a, refused), (error: Error) => {
    assert.ok(error instanceof ApplianceDownError);
    assert.match(error.message, /ECONNREFUSED.*left in place/);
    return true;
  });
  await assert.rejects(rotation.pick(), /no appliance left in rotation/);
});

Deno.test("errors retrying cannot fix pass through at once", async () => {
  const a = new FakeTransport();
  const rotation = new Rotation([a], { graceMs: 0 });
  await assert.rejects(rotation.call(a, () => Promise.reject(new TypeError("bug"))), TypeError);
  assert.equal(
    await rotation.pick(),
    a,
    "a non-transient error says nothing about the target's health",
  );
});
