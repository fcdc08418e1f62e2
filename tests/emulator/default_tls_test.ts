import assert from "node:assert/strict";
import {
  DEFAULT_CA_PEM,
  DEFAULT_CERT_PEM,
  DEFAULT_KEY_PEM,
} from "../../lib/emulator/default_tls.ts";

Deno.test("the built-in TLS texts equal the fixture files byte for byte", async () => {
  const fixture = (name: string) =>
    Deno.readTextFile(new URL(`../fixtures/tls/${name}`, import.meta.url));
  assert.equal(DEFAULT_CA_PEM, await fixture("ca.pem"));
  assert.equal(DEFAULT_CERT_PEM, await fixture("emulator.pem"));
  assert.equal(DEFAULT_KEY_PEM, await fixture("emulator.key"));
});
