import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { join } from "node:path";
import { DEFAULT_CERT_PEM, startEmulator } from "../../lib/emulator/mod.ts";
import { splitHostPort } from "../../lib/cli/connect.ts";
import { fetchCertificate } from "../../lib/transport/certificate.ts";
import { runEmulatorCli } from "../../lib/cli/emulator.ts";
import { trustCommand } from "../../lib/cli/trust.ts";
import { captureScan, captureTerminal, tempDir } from "../helpers.ts";

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

Deno.test("emulator --print-ca: the PEM it prints verifies the emulator as --ca-cert", async () => {
  const printed: string[] = [];
  const io = { out: (l: string) => printed.push(l), err: () => {}, stopped: Promise.resolve() };
  assert.equal(await runEmulatorCli(["--print-ca"], io), 0);
  assert.equal(printed.length, 1, "the PEM, nothing else");
  assert.match(printed[0], /^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----$/);
  const emulator = await startEmulator({ port: 0, emulationMs: 20 });
  await using dir = await tempDir();
  try {
    const caFile = join(dir.path, "te-emulator-ca.pem");
    await Deno.writeTextFile(caFile, `${printed[0]}\n`);
    await Deno.mkdir(join(dir.path, "in"));
    await Deno.writeTextFile(join(dir.path, "in", "a.txt"), "hello");
    const scan = (caCert: string) =>
      captureScan([
        ...["--in", join(dir.path, "in"), "--out", join(dir.path, "out")],
        ...["--rep", join(dir.path, "rep"), "--ip", `127.0.0.1:${emulator.port}`],
        ...["--ca-cert", caCert, "--poll-interval", "0.03"],
      ]);
    // A CA that did not sign the emulator's leaf is refused: the check is real.
    const other = join(dir.path, "other.pem");
    await Deno.writeTextFile(other, DEFAULT_CERT_PEM);
    assert.equal((await scan(other)).code, 3);
    const { code, out, err } = await scan(caFile);
    assert.equal(code, 0, [...out, ...err].join("\n"));
    assert.equal(await Deno.readTextFile(join(dir.path, "out", "a.txt")), "hello");
  } finally {
    await emulator.close();
  }
});

Deno.test("trust --save of a CA-signed leaf says it is no --ca-cert, names the issuer and --pin", async () => {
  const emulator = await startEmulator({ port: 0 });
  await using dir = await tempDir();
  try {
    const saved = join(dir.path, "leaf.pem");
    const { terminal, lines } = await captureTerminal();
    const code = await trustCommand([`127.0.0.1:${emulator.port}`, "--save", saved], terminal);
    assert.equal(code, 0);
    const text = lines("out").join("\n");
    assert.doesNotMatch(text, /or --ca-cert/);
    assert.match(
      text,
      /not --ca-cert .*leaf\.pem: this certificate is signed by "CN=te-scan test CA[^"]*", not\n\s+self-signed, so --ca-cert needs that issuing CA's certificate;[\s\S]*or use --pin\)/,
    );
  } finally {
    await emulator.close();
  }
});
