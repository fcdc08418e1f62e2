// Drives the CLI as a user does: a subprocess with exactly the three permissions.
import assert from "node:assert/strict";
import { join } from "node:path";
import { CA_FILE, tempDir, within } from "../helpers.ts";
import { readAll, run, startEmulatorProcess, teScan, waitForLine } from "./cli.ts";

Deno.test("te-scan emulator prints its listening line and stops cleanly on SIGTERM", async () => {
  const { child, line, rest } = await startEmulatorProcess();
  assert.match(line, /^te-scan emulator listening on https:\/\/127\.0\.0\.1:\d+$/);
  child.kill("SIGTERM");
  const status = await within(30, child.status);
  await rest.cancel();
  await child.stderr.cancel();
  assert.equal(status.code, 0);
});

Deno.test("--version, --help and a usage error", async () => {
  const version = await run(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.out, /^te-scan \d+\.\d+\.\d+/);
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.out, /-in, --input_directory|te_api: -in/);
  const usage = await run(["--in", "/nonexistent-te-scan", "--ip", "127.0.0.1"]);
  assert.equal(usage.code, 3);
  assert.match(usage.err, /Cannot scan \/nonexistent-te-scan: no such file or folder/);
});

Deno.test("a scan through the CLI against the emulator process exits 1 on malware", async () => {
  await using dir = await tempDir();
  const input = join(dir.path, "in");
  await Deno.mkdir(join(input, "a"), { recursive: true });
  await Deno.writeTextFile(join(input, "a", "ok.txt"), "fine");
  await Deno.writeTextFile(join(input, "a", "bad.docm"), "TE-EMULATOR-MALICIOUS");
  await using emulator = await startEmulatorProcess(["--emulation-ms", "50", "--early-ms", "10"]);
  const scan = await run([
    "-in",
    input,
    "-ip",
    `127.0.0.1:${emulator.port}`,
    "-out",
    join(dir.path, "ok"),
    "-jail",
    join(dir.path, "q"),
    "-rep",
    join(dir.path, "rep"),
    "--ca-cert",
    CA_FILE,
    "--poll-interval",
    "0.05",
  ]);
  assert.equal(scan.code, 1, scan.err);
  assert.match(scan.out, /MALICIOUS\s+a\/bad\.docm -> .*\/q\/a\/bad\.docm/);
  assert.match(scan.out, /BENIGN\s+a\/ok\.txt -> .*\/ok\/a\/ok\.txt/);
  assert.ok((await Deno.stat(join(dir.path, "q", "a", "bad.docm"))).isFile);
});

Deno.test("SIGINT during a scan exits 130 and leaves unsettled files in place", async () => {
  await using dir = await tempDir();
  const input = join(dir.path, "in");
  await Deno.mkdir(input);
  await Deno.writeTextFile(join(input, "slow.pdf"), "takes a minute to emulate");
  await using emulator = await startEmulatorProcess(["--emulation-ms", "60000"]);
  const child = teScan([
    "--in",
    input,
    "--ip",
    `127.0.0.1:${emulator.port}`,
    "--out",
    join(dir.path, "ok"),
    "--rep",
    join(dir.path, "rep"),
    "--ca-cert",
    CA_FILE,
    "--poll-interval",
    "0.05",
    "--json",
  ]).spawn();
  // Wait until the scan has started (its first JSON event), then interrupt it.
  const { rest } = await waitForLine(child.stdout, /"event":"start"/);
  child.kill("SIGINT");
  const [status, stdout, stderr] = await within(
    60,
    Promise.all([
      child.status,
      Array.fromAsync({ [Symbol.asyncIterator]: () => readAll(rest) }),
      new Response(child.stderr).text(),
    ]),
  );
  assert.equal(status.code, 130, `stdout: ${stdout.join("")}\nstderr: ${stderr}`);
  assert.ok((await Deno.stat(join(input, "slow.pdf"))).isFile, "file left in place");
  const summary = JSON.parse(await Deno.readTextFile(join(dir.path, "rep", "summary.json")));
  assert.equal(summary.interrupted, true);
});

Deno.test("te-scan demo sorts its sample tree with no network beyond loopback", async () => {
  await using dir = await tempDir();
  const demo = await run(["demo", "--dir", dir.path]);
  assert.equal(demo.code, 0, demo.err);
  assert.match(demo.out, /Where everything went/);
  // Each extracted report is named once, with the page to open, and the report is there.
  assert.match(
    demo.out,
    /^ {4}downloads\/eicar\.com_report\/ \(the report, extracted: open report\.html\)$/m,
  );
  assert.doesNotMatch(demo.out, /_report\/images/);
  const report = join(dir.path, "reports", "downloads", "eicar.com_report", "report.html");
  assert.ok((await Deno.stat(report)).isFile);
  const quarantine = await Array.fromAsync(Deno.readDir(join(dir.path, "quarantine", "downloads")));
  assert.deepEqual(quarantine.map((e) => e.name), ["eicar.com"]);
  assert.ok((await Deno.stat(join(dir.path, "error", "downloads", "firmware.bin"))).isFile);
  assert.ok((await Deno.stat(join(dir.path, "benign", "finance", "q3-report.docx"))).isFile);
});

Deno.test("te-scan trust and te-scan query through the CLI", async () => {
  await using dir = await tempDir();
  await using emulator = await startEmulatorProcess();
  const saved = join(dir.path, "appliance.pem");
  const trust = await run(["trust", `127.0.0.1:${emulator.port}`, "--save", saved]);
  assert.equal(trust.code, 0, trust.err);
  const fingerprint = /SHA-256\s+([0-9A-F:]{95})/.exec(trust.out)?.[1];
  assert.ok(fingerprint, trust.out);
  assert.match(await Deno.readTextFile(saved), /^-----BEGIN CERTIFICATE-----/);
  const again = await run(["trust", `127.0.0.1:${emulator.port}`, "--save", saved]);
  assert.equal(again.code, 3, "an existing file is never overwritten");

  const unknown = "0".repeat(40);
  const query = await run([
    "query",
    unknown,
    "--ip",
    `127.0.0.1:${emulator.port}`,
    "--pin",
    fingerprint,
  ]);
  assert.equal(query.code, 2, query.err);
  assert.match(query.out, new RegExp(`${unknown}\\s+no verdict\\s+\\(1004 NOT_FOUND`));
});

Deno.test("te-scan quota against a cloud-mode emulator, with the API key from a file", async () => {
  await using dir = await tempDir();
  await using emulator = await startEmulatorProcess([
    "--mode",
    "cloud",
    "--quota",
    "25",
    "--api-key",
    "k-123",
  ]);
  const keyFile = join(dir.path, "key.txt");
  await Deno.writeTextFile(keyFile, "k-123\n");
  const url = `https://127.0.0.1:${emulator.port}/tecloud/api/v1/file/`;
  const quota = await run([
    "quota",
    "--url",
    url,
    "--ca-cert",
    CA_FILE,
    "--api-key-file",
    keyFile,
  ]);
  assert.equal(quota.code, 0, quota.err);
  assert.match(quota.out, /hour:\s+25 of 25 left, resets \d{4}-\d\d-\d\d \d\d:00 UTC/);
  assert.match(quota.out, /month:\s+25 of 25 left, resets /);
  assert.ok(!quota.out.includes("k-123") && !quota.err.includes("k-123"), "key never echoed");
  await Deno.writeTextFile(keyFile, "wrong\n");
  const refused = await run([
    "quota",
    "--url",
    url,
    "--ca-cert",
    CA_FILE,
    "--api-key-file",
    keyFile,
  ]);
  assert.equal(refused.code, 3);
  assert.match(refused.err, /refused the API key \(HTTP 403\)/);
});
