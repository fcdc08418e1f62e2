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

Deno.test("a target failing past the grace period leaves the rotation; the other goes on", async () => {
  const a = new FakeTransport();
  const b = new FakeTransport();
  const warnings: string[] = [];
  let clock = 0;
  const rotation = new Rotation([a, b], {
    graceMs: 1000,
    now: () => clock,
    onWarning: (w) => warnings.push(w),
  });
  await assert.rejects(rotation.call(a, refused), NetworkError, "within the grace period");
  clock = 500;
  assert.equal(await rotation.call(a, () => Promise.resolve("ok")), "ok", "a success resets it");
  clock = 600;
  await assert.rejects(rotation.call(a, refused), NetworkError);
  clock = 1700;
  await assert.rejects(rotation.call(a, refused), NetworkError, "b is still in rotation");
  assert.match(warnings[0], /has failed for 1 s .*leaves the rotation/);
  assert.deepEqual(rotation.active, [b]);
  assert.equal(await rotation.pick(), b);
  await assert.rejects(rotation.call(a, () => Promise.resolve(1)), OutOfRotationError);
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
