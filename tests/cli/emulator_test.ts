import assert from "node:assert/strict";
import { runEmulatorCli } from "../../lib/cli/emulator.ts";
import { CONTENT_MARKERS, eicarText, startEmulator } from "../../lib/emulator/mod.ts";
import { CA_PEM } from "../emulator/helpers.ts";
import { sleep } from "../../lib/util/sleep.ts";

function io() {
  const out: string[] = [];
  const err: string[] = [];
  let stop = () => {};
  const stopped = new Promise<void>((resolve) => stop = resolve);
  return {
    out,
    err,
    stop,
    io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), stopped },
  };
}

Deno.test("the CLI prints one listening line, serves, and exits 0 when stopped", async () => {
  const t = io();
  const run = runEmulatorCli(
    ["--port", "0", "--mode", "cloud", "--emulation-ms", "0", "--api-key", "k", "--quota", "5"],
    t.io,
  );
  const deadline = performance.now() + 5000;
  while (t.out.length === 0 && performance.now() < deadline) {
    await sleep(5);
  }
  assert.equal(t.out.length, 1);
  const match = /^te-scan emulator listening on (https:\/\/127\.0\.0\.1:(\d+))$/.exec(t.out[0]);
  assert.ok(match, t.out[0]);
  assert.notEqual(match[2], "0", "the real port is printed");
  const client = Deno.createHttpClient({ caCerts: [CA_PEM] });
  try {
    const quota = await fetch(`${match[1]}/tecloud/api/v1/file/quota`, {
      headers: { authorization: "k" },
      client,
    });
    assert.equal(quota.status, 200, "cloud mode, key and quota flags took effect");
    assert.equal((await quota.json()).response[0].remain_quota_hour, 5);
  } finally {
    client.close();
  }
  t.stop();
  assert.equal(await run, 0);
  assert.deepEqual(t.err, []);
  assert.equal(t.out.length, 1, "nothing else on stdout");
});

Deno.test("the CLI rejects bad flags and values with one line and exit 3", async () => {
  const cases: [string[], RegExp][] = [
    [["--bogus"], /unknown option --bogus/],
    [["--verdict-cse", "upper"], /unknown option --verdict-cse \(did you mean --verdict-case\?\)/],
    [["--port", "70000"], /--port must be an integer from 0 to 65535, got "70000"/],
    [["--emulation-ms", "fast"], /--emulation-ms must be an integer/],
    [["--fail-rate", "1.5"], /--fail-rate must be a number from 0 to 1/],
    [["--fail-rate", "-0.1"], /--fail-rate/],
    [["--mode", "sandbox"], /--mode must be appliance or cloud/],
    [["--verdict-case", "title"], /--verdict-case must be upper or lower/],
    [["--report-style", "fancy"], /--report-style must be/],
    [["--cert", "/nonexistent.pem"], /--cert and --key go together/],
    [["--cert", "/nonexistent.pem", "--key", "/nonexistent.key"], /cannot read --cert/],
    [["--quota", "3"], /quota applies to cloud mode only/],
    [["--api-key", ""], /--api-key must not be empty/],
    [["extra"], /Unexpected argument 'extra'/],
    [["--port"], /--port needs a value/],
  ];
  for (const [args, expected] of cases) {
    const t = io();
    assert.equal(await runEmulatorCli(args, t.io), 3, args.join(" "));
    assert.equal(t.err.length, 1, args.join(" "));
    assert.match(t.err[0], expected);
    assert.ok(!t.err[0].includes("\n"), "one line");
    assert.deepEqual(t.out, []);
  }
});

Deno.test("the CLI exits 3 when it cannot listen", async () => {
  const blocker = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const t = io();
    const code = await runEmulatorCli(["--port", String(blocker.addr.port)], t.io);
    assert.equal(code, 3);
    assert.match(t.err[0], /^te-scan emulator: cannot start: /);
  } finally {
    blocker.close();
  }
});

Deno.test("--help prints the usage and exits 0", async () => {
  const t = io();
  assert.equal(await runEmulatorCli(["--help"], t.io), 0);
  assert.match(t.out.join("\n"), /--emulation-ms N/);
});

/** The help's paragraph about a marker: its line and the indented lines after it. */
function markerParagraph(help: string, name: string): string | undefined {
  const lines = help.split("\n");
  const start = lines.findIndex((l) => l.startsWith(`  ${name}`) && !l.startsWith("   "));
  if (start < 0) return undefined;
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => !l.startsWith("      "));
  return [lines[start], ...rest.slice(0, end < 0 ? rest.length : end)].join("\n");
}

Deno.test("--help explains every content marker the scanner knows, per transport", async () => {
  const t = io();
  assert.equal(await runEmulatorCli(["--help"], t.io), 0);
  const help = t.out.join("\n");
  assert.ok(CONTENT_MARKERS.length >= 6);
  for (const { name } of CONTENT_MARKERS) {
    const paragraph = markerParagraph(help, name);
    assert.ok(paragraph, `--help does not explain the marker ${name}`);
    for (const feature of [/\bte\b/, /\bte_eb\b/, /\bav\b/, /\bscrub\b/]) {
      assert.match(paragraph, feature, `${name}: ${paragraph}`);
    }
  }
  assert.ok(!help.includes(eicarText()), "the EICAR string itself is never printed");
});

Deno.test("--help names every counter and documents the TPAPI wrong-key answer", async () => {
  const t = io();
  assert.equal(await runEmulatorCli(["--help"], t.io), 0);
  const help = t.out.join("\n");
  const emulator = await startEmulator({ port: 0 });
  const counters = Object.keys(emulator.stats());
  await emulator.close();
  for (const counter of counters) assert.match(help, new RegExp(`\\b${counter}\\b`), counter);
  assert.match(help, /api_key is answered[^]*1010 FORBIDDEN/);
  for (const route of ["/__emulator/stats", "/__emulator/faults", "/__emulator/clock"]) {
    assert.ok(help.includes(route), route);
  }
  assert.ok(help.split("\n").every((l) => l.length <= 90), "lines fit a terminal");
});

Deno.test("--scrub-max-bytes and --known-upload take effect", async () => {
  const t = io();
  const flags = ["--scrub-max-bytes", "4", "--known-upload", "uploaded", "--emulation-ms", "0"];
  const run = runEmulatorCli(["--port", "0", ...flags], t.io);
  const deadline = performance.now() + 5000;
  while (t.out.length === 0 && performance.now() < deadline) {
    await sleep(5);
  }
  const url = t.out[0].replace("te-scan emulator listening on ", "");
  const client = Deno.createHttpClient({ caCerts: [CA_PEM] });
  try {
    const upload = async () => {
      const res = await fetch(`${url}/UserCheck/TPAPI`, {
        method: "POST",
        body: JSON.stringify({
          request: {
            protocol_version: "1.1",
            api_key: "k",
            request_name: "UploadFile",
            file_enc_data: btoa("12345"),
            te_options: {},
            scrub_options: { scrub_method: 2 },
          },
        }),
        client,
      });
      return (await res.json()).response;
    };
    const first = await upload();
    assert.equal(first.scrub.scrub_result, 17);
    const again = await upload();
    assert.equal(again.te.status.code, 1002, "emulated, but answered UPLOAD_SUCCESS");
  } finally {
    client.close();
  }
  t.stop();
  assert.equal(await run, 0);
  const bad = io();
  assert.equal(await runEmulatorCli(["--scrub-max-bytes", "16M"], bad.io), 3);
  assert.match(bad.err[0], /--scrub-max-bytes must be an integer/);
  const badKnown = io();
  assert.equal(await runEmulatorCli(["--known-upload", "maybe"], badKnown.io), 3);
  assert.match(badKnown.err[0], /--known-upload must be found or uploaded/);
});
