// `te-scan doctor` against the built-in emulator over real HTTPS: one line per check, exit 0 or 3.
import assert from "node:assert/strict";
import { join } from "node:path";
import { doctorCommand } from "../../lib/cli/doctor.ts";
import { startEmulator } from "../../lib/emulator/mod.ts";
import { CA_FILE, captureTerminal, tempDir, within } from "../helpers.ts";

async function doctor(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const { terminal, lines } = await captureTerminal();
  const code = await within(30, doctorCommand(argv, terminal));
  return { code, out: lines("out"), err: lines("err") };
}

/** The status of the check named `name` (ok, warn, fail), or undefined when it was not run. */
function statusOf(out: string[], name: string): string | undefined {
  return out.map((l) => /^ {2}(\S+) +(\S+(?: port)?) /.exec(l)).find((m) => m?.[2] === name)?.[1];
}

Deno.test("doctor: every check passes against the emulator, the EICAR round trip included", async () => {
  const emulator = await startEmulator({ port: 0, emulationMs: 60, earlyMs: 10 });
  try {
    const run = await doctor([
      ...["--ip", `127.0.0.1:${emulator.port}`, "--ca-cert", CA_FILE, "--poll-interval", "0.03"],
    ]);
    assert.equal(run.code, 0, run.out.join("\n"));
    assert.equal(run.out[0], `127.0.0.1:${emulator.port} (appliance):`);
    for (const name of ["name", "port", "tls", "api", "key", "eicar"]) {
      assert.equal(statusOf(run.out, name), "ok", `${name}: ${run.out.join("\n")}`);
    }
    assert.match(
      run.out.join("\n"),
      /tls +"CN=te-scan emulator", trusted by --ca-cert .*expires in \d+ days/,
    );
    assert.match(
      run.out.join("\n"),
      /eicar +the EICAR test file was uploaded and judged malicious/,
    );
    assert.equal(emulator.stats().uploads, 1, "the round trip uploaded the test file");
  } finally {
    await emulator.close();
  }
});

Deno.test("doctor: a closed port fails the port check with what to do, exit 3", async () => {
  const emulator = await startEmulator({ port: 0 });
  const port = emulator.port;
  await emulator.close();
  const run = await doctor(["--ip", `127.0.0.1:${port}`, "--ca-cert", CA_FILE]);
  assert.equal(run.code, 3, run.out.join("\n"));
  assert.equal(statusOf(run.out, "name"), "ok");
  assert.match(
    run.out.join("\n"),
    /fail +port +127\.0\.0\.1:\d+: connection refused: nothing listens there/,
  );
  assert.equal(statusOf(run.out, "tls"), undefined, "no check after the failed one");
});

Deno.test("doctor: a wrong key fails the key check (never shown), exit 3; --no-eicar uploads nothing", async () => {
  const emulator = await startEmulator({ port: 0, mode: "cloud", apiKey: "right-key" });
  await using dir = await tempDir();
  const keyFile = join(dir.path, "key");
  try {
    const url = `${emulator.url}/tecloud/api/v1/file/`;
    const flags = ["--url", url, "--ca-cert", CA_FILE, "--api-key-file", keyFile, "--no-eicar"];
    await Deno.writeTextFile(keyFile, "wrong-key-s3cret\n");
    const wrong = await doctor(flags);
    assert.equal(wrong.code, 3, wrong.out.join("\n"));
    assert.equal(statusOf(wrong.out, "tls"), "ok");
    assert.match(wrong.out.join("\n"), /fail +key +.*refused the API key .*--api-key-file/);
    assert.ok(!wrong.out.join("\n").includes("wrong-key-s3cret"));
    await Deno.writeTextFile(keyFile, "right-key\n");
    const right = await doctor(flags);
    assert.equal(right.code, 0, right.out.join("\n"));
    assert.equal(statusOf(right.out, "quota"), "ok");
    assert.equal(statusOf(right.out, "eicar"), undefined);
    assert.equal(emulator.stats().uploads, 0);
  } finally {
    await emulator.close();
  }
});

Deno.test("doctor: a gateway whose report port is closed fails that check, exit 3", async () => {
  const emulator = await startEmulator({ port: 0, apiKey: "gw-key" });
  const closed = await startEmulator({ port: 0 });
  const closedPort = closed.port;
  await closed.close();
  await using dir = await tempDir();
  const keyFile = join(dir.path, "key");
  await Deno.writeTextFile(keyFile, "gw-key\n");
  try {
    const flags = ["--gateway", `127.0.0.1:${emulator.port}`, "--ca-cert", CA_FILE];
    const run = await doctor([
      ...flags,
      ...["--api-key-file", keyFile, "--report-port", String(closedPort), "--no-eicar"],
    ]);
    assert.equal(run.code, 3, run.out.join("\n"));
    assert.equal(statusOf(run.out, "key"), "ok");
    assert.match(
      run.out.join("\n"),
      new RegExp(`fail +report port 127\\.0\\.0\\.1:${closedPort}: connection refused`),
    );
    const open = await doctor([
      ...flags,
      ...["--api-key-file", keyFile, "--report-port", String(emulator.port), "--no-eicar"],
    ]);
    assert.equal(open.code, 0, open.out.join("\n"));
  } finally {
    await emulator.close();
  }
});
