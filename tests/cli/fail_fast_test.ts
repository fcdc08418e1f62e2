// A wrong first run is answered in seconds with one line and exit 3, before any file is touched.
// Each test bounds its run with a generous deadline instead of timing it.
import assert from "node:assert/strict";
import { join } from "node:path";
import net from "node:net";
import { DEFAULT_CERT_PEM, DEFAULT_KEY_PEM, startEmulator } from "../../lib/emulator/mod.ts";
import {
  CA_FILE,
  type CapturedRun,
  captureScan,
  listFiles,
  tempDir,
  within,
  writeTree,
} from "../helpers.ts";

/** A scan of a one-file tree with `flags`; checks that nothing was touched. */
async function wrongRun(flags: string[]): Promise<CapturedRun & { rep: string }> {
  await using dir = await tempDir();
  const input = join(dir.path, "in");
  const rep = join(dir.path, "rep");
  await writeTree(input, { "a.docx": "a document" });
  const run = await within(
    20,
    captureScan(["--in", input, "--out", join(dir.path, "out"), "--rep", rep, ...flags]),
  );
  assert.equal(run.code, 3, [...run.out, ...run.err].join("\n"));
  assert.equal(run.err.length, 1, `one line: ${run.err.join(" | ")}`);
  assert.deepEqual(await listFiles(input), ["a.docx"], "nothing moved");
  assert.deepEqual(await listFiles(join(dir.path, "out")), [], "nothing created");
  await assert.rejects(Deno.stat(rep), Deno.errors.NotFound, "nothing written");
  return { ...run, rep };
}

Deno.test("a wrong --url path: this URL does not serve the API, and how to name a target", async () => {
  const emulator = await startEmulator({ port: 0 });
  try {
    const run = await wrongRun(["--url", `${emulator.url}/`, "--ca-cert", CA_FILE]);
    assert.match(
      run.err[0],
      /^te-scan: https:\/\/127\.0\.0\.1:\d+\/ does not serve the Threat Emulation API \(HTTP 404\): for the Check Point cloud use --url https:\/\/te-api\.checkpoint\.com\/tecloud\/api\/v1\/file\/; for an appliance use --ip HOST/,
    );
  } finally {
    await emulator.close();
  }
});

Deno.test("no trust settings against a private CA: the certificate, its fingerprint, what to do", async () => {
  const emulator = await startEmulator({ port: 0 });
  try {
    const run = await wrongRun(["--ip", `127.0.0.1:${emulator.port}`]);
    assert.match(
      run.err[0],
      /Cannot trust 127\.0\.0\.1:\d+: no --ca-cert or --pin was given, so only public certificate authorities are trusted \(.*UnknownIssuer.*\)\. It presents "CN=te-scan emulator" \(SHA-256 F1:3D:[0-9A-F:]+\); check that fingerprint on the appliance's console, then scan with --pin F1:3D/,
    );
    assert.equal(emulator.stats().uploads, 0);
  } finally {
    await emulator.close();
  }
});

Deno.test("a closed port: connection refused, is the appliance up and is HOST:PORT right", async () => {
  const emulator = await startEmulator({ port: 0 });
  const port = emulator.port;
  await emulator.close();
  const run = await wrongRun(["--ip", `127.0.0.1:${port}`, "--ca-cert", CA_FILE]);
  assert.match(
    run.err[0],
    new RegExp(
      `Cannot reach 127\\.0\\.0\\.1:${port}: connection refused\\. .*is 127\\.0\\.0\\.1:${port} right\\?`,
    ),
  );
});

Deno.test("an HTTPS server that is not the API: it does not answer like the API", async () => {
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", cert: DEFAULT_CERT_PEM, key: DEFAULT_KEY_PEM, onListen() {} },
    () =>
      new Response("<html><body>Welcome to nginx</body></html>", {
        headers: { "content-type": "text/html" },
      }),
  );
  try {
    const run = await wrongRun(["--ip", `127.0.0.1:${server.addr.port}`, "--ca-cert", CA_FILE]);
    assert.match(run.err[0], /does not answer like the Threat Emulation API \(.*not JSON.*\)/);
  } finally {
    await server.shutdown();
  }
});

Deno.test("a wrong API key: refused, check --api-key-file; the key is never shown", async () => {
  const emulator = await startEmulator({ port: 0, mode: "cloud", apiKey: "right-key" });
  await using dir = await tempDir();
  const keyFile = join(dir.path, "key");
  await Deno.writeTextFile(keyFile, "wrong-key-s3cret\n");
  try {
    const run = await wrongRun([
      "--url",
      `${emulator.url}/tecloud/api/v1/file/`,
      "--ca-cert",
      CA_FILE,
      "--api-key-file",
      keyFile,
    ]);
    assert.match(run.err[0], /refused the API key .*--api-key-file/);
    assert.ok(!run.err[0].includes("wrong-key-s3cret"));
  } finally {
    await emulator.close();
  }
});

Deno.test("parsing helps: a typo gets a suggestion; a URL in --ip, --ip with --url", async () => {
  // An input and a reports folder of its own: the checkout's place (./te-reports) must not matter.
  await using dir = await tempDir();
  const input = join(dir.path, "in");
  await writeTree(input, { "a.txt": "fine" });
  const folders = ["--in", input, "--rep", join(dir.path, "rep")];
  const typo = await captureScan(["--in", "/drop", "--jial", "/q"]);
  assert.equal(typo.code, 3);
  assert.match(typo.err[0], /unknown option --jial \(did you mean --jail\?\)/);
  const url = await captureScan([...folders, "--ip", "https://10.1.1.5/tecloud/api/v1/file/"]);
  assert.equal(url.code, 3);
  assert.match(url.err.join("\n"), /--ip takes HOST\[:PORT\]: drop the scheme, or use --url/);
  const both = await captureScan([...folders, "--ip", "10.1.1.5", "--url", "https://x/"]);
  assert.equal(both.code, 3);
  assert.match(both.err.join("\n"), /give one kind of target: --ip, --gateway or --url/);
});

Deno.test("--ip accepts https://HOST:PORT/ as HOST:PORT", async () => {
  await using dir = await tempDir();
  const input = join(dir.path, "in");
  await writeTree(input, { "a.txt": "fine" });
  const emulator = await startEmulator({ port: 0, emulationMs: 10 });
  try {
    const run = await within(
      20,
      captureScan([
        "--in",
        input,
        "--rep",
        join(dir.path, "rep"),
        "--ip",
        `https://127.0.0.1:${emulator.port}/`,
        "--ca-cert",
        CA_FILE,
        "--poll-interval",
        "0.03",
      ]),
    );
    assert.equal(run.code, 0, run.err.join("\n"));
  } finally {
    await emulator.close();
  }
});

Deno.test("a silent endpoint (accepts, never answers): exit 3 with its own message, within 15 s", async () => {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => void sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  try {
    const run = await within(15, wrongRun(["--ip", `127.0.0.1:${port}`, "--ca-cert", CA_FILE]));
    assert.match(
      run.err[0],
      new RegExp(
        `Cannot reach 127\\.0\\.0\\.1:${port}: it accepted the connection but sent no answer in 10 s\\.`,
      ),
    );
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});

Deno.test("a port that speaks plain HTTP: this port speaks HTTP, not HTTPS", async () => {
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    () => new Response("plain"),
  );
  try {
    for (const trust of [["--ca-cert", CA_FILE], []]) {
      const run = await wrongRun(["--ip", `127.0.0.1:${server.addr.port}`, ...trust]);
      assert.match(run.err[0], /: this port speaks HTTP, not HTTPS; te-scan only talks HTTPS/);
    }
  } finally {
    await server.shutdown();
  }
});
