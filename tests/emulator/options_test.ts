import assert from "node:assert/strict";
import { DEFAULT_CERT_PEM } from "../../lib/emulator/default_tls.ts";
import { type EmulatorOptions, resolveOptions } from "../../lib/emulator/options.ts";

Deno.test("resolveOptions fills the documented defaults", () => {
  const o = resolveOptions({});
  assert.equal(o.host, "127.0.0.1");
  assert.equal(o.port, 18194);
  assert.equal(o.mode, "appliance");
  assert.equal(o.emulationMs, 2000);
  assert.equal(o.earlyMs, 500);
  assert.equal(o.failRate, 0);
  assert.equal(o.verdictCase, "upper");
  assert.equal(o.reportStyle, "normal");
  assert.equal(o.benignEarly, "found");
  assert.equal(o.knownUploadAnswersFound, true);
  assert.equal(o.quota, undefined);
  assert.equal(o.cert, DEFAULT_CERT_PEM);
  assert.equal(resolveOptions({ mode: "cloud" }).verdictCase, "lower");
  assert.equal(resolveOptions({ mode: "cloud", verdictCase: "upper" }).verdictCase, "upper");
});

Deno.test("resolveOptions rejects bad values with a message naming the option", () => {
  assert.throws(() => resolveOptions({ port: 65536 }), /port must be 0\.\.65535/);
  assert.throws(() => resolveOptions({ emulationMs: -1 }), /emulationMs must be a number >= 0/);
  assert.throws(() => resolveOptions({ failRate: Number.NaN }), /failRate/);
  assert.throws(() => resolveOptions({ cert: "x" }), /give both cert and key/);
  assert.throws(() => resolveOptions({ mode: "cloud", quota: 1.5 }), /quota must be an integer/);
  assert.throws(() => resolveOptions({ seed: 0.5 }), /seed must be an integer/);
  assert.throws(() => resolveOptions({ apiKey: "" }), /apiKey must not be empty/);
  const fancy = { reportStyle: "fancy" } as unknown as Partial<EmulatorOptions>;
  assert.throws(
    () => resolveOptions(fancy),
    /reportStyle must be one of/,
  );
});
