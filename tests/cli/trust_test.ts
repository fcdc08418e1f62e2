import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { join } from "node:path";
import { DEFAULT_CERT_PEM, startEmulator } from "../../lib/emulator/mod.ts";
import { splitHostPort } from "../../lib/cli/connect.ts";
import { fetchCertificate } from "../../lib/transport/certificate.ts";
import { captureScan, tempDir } from "../helpers.ts";

Deno.test("trust: the fetched fingerprint is the emulator's, and --pin with it scans", async () => {
  const emulator = await startEmulator({ port: 0, emulationMs: 20 });
  await using dir = await tempDir();
  try {
    const cert = await fetchCertificate("127.0.0.1", emulator.port);
    const expected = new X509Certificate(DEFAULT_CERT_PEM);
    assert.equal(cert.sha256, expected.fingerprint256);
    assert.equal(cert.namesHost, true);
    assert.equal(cert.selfSigned, false);
    assert.equal(new X509Certificate(cert.pem).fingerprint256, expected.fingerprint256);

    await Deno.mkdir(join(dir.path, "in"));
    await Deno.writeTextFile(join(dir.path, "in", "a.txt"), "hello");
    const { code, out, err } = await captureScan([
      "--in",
      join(dir.path, "in"),
      "--out",
      join(dir.path, "out"),
      "--rep",
      join(dir.path, "rep"),
      "--ip",
      `127.0.0.1:${emulator.port}`,
      "--pin",
      cert.sha256,
      "--poll-interval",
      "0.03",
    ]);
    assert.equal(code, 0, [...out, ...err].join("\n"));
    assert.equal(await Deno.readTextFile(join(dir.path, "out", "a.txt")), "hello");
  } finally {
    await emulator.close();
  }
});

Deno.test("trust: an unreachable host is one clear line", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  await assert.rejects(fetchCertificate("127.0.0.1", port), /cannot reach 127\.0\.0\.1:\d+/);
});

Deno.test("trust: HOST[:PORT] with the appliance default port", () => {
  assert.deepEqual(splitHostPort("10.1.1.5"), { host: "10.1.1.5", port: 18194 });
  assert.deepEqual(splitHostPort("gw.example:4434"), { host: "gw.example", port: 4434 });
  assert.deepEqual(splitHostPort("[fe80::1]:443"), { host: "fe80::1", port: 443 });
  assert.deepEqual(splitHostPort("[fe80::1]"), { host: "fe80::1", port: 18194 });
});
