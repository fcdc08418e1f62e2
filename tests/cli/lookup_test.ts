import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { queryCommand, requestForHash } from "../../lib/cli/lookup.ts";
import { eicarText } from "../../lib/emulator/mod.ts";
import { CA_FILE, captureTerminal, fastFlags, withEmulator, withTempDir } from "../helpers.ts";

Deno.test("query: a hash is sent under the digest its length names", () => {
  assert.deepEqual(requestForHash("D41D8CD98F00B204E9800998ECF8427E", ["te"]), {
    md5: "d41d8cd98f00b204e9800998ecf8427e",
    features: ["te"],
    te: { reports: [], return_errors: true, version_info: true },
  });
  assert.ok("sha1" in requestForHash("a".repeat(40), ["te"]));
  assert.ok("sha256" in requestForHash("b".repeat(64), ["te"]));
  assert.throws(() => requestForHash("xyz", ["te"]), /not an md5, sha1 or sha256 hash: "xyz"/);
  assert.throws(() => requestForHash("g".repeat(40), ["te"]), /not an md5/);
});

/** Runs `te-scan query` in-process; its exit code and output lines. */
async function query(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const { terminal, lines } = await captureTerminal();
  const code = await queryCommand(argv, terminal);
  return { code, out: lines("out"), err: lines("err") };
}

/** A key file holding `key`, removed with the folder. */
async function keyFile(dir: string, key: string): Promise<string> {
  const path = join(dir, "tpapi.key");
  await Deno.writeTextFile(path, `${key}\n`);
  return path;
}

Deno.test("query --gateway: a malicious hash exits 1 with severity, confidence and AV signature", async () => {
  await withTempDir(async (dir) => {
    await withEmulator({ apiKey: "s3cret" }, async (emulator) => {
      const eicar = new TextEncoder().encode(eicarText());
      const benign = new TextEncoder().encode("nothing to see\n");
      emulator.learn(eicar, "eicar.com");
      emulator.learn(benign, "ok.txt");
      emulator.advanceClock(60_000);
      const md5 = createHash("md5").update(eicar).digest("hex");
      const sha1 = createHash("sha1").update(benign).digest("hex");
      const gateway = ["--gateway", `127.0.0.1:${emulator.port}`, "--ca-cert", CA_FILE];
      const key = ["--api-key-file", await keyFile(dir, "s3cret")];

      const bad = await query([...gateway, ...key, "--features", "te,av", md5]);
      assert.equal(bad.code, 1, bad.err.join("\n"));
      assert.equal(bad.out.length, 1);
      assert.match(bad.out[0], new RegExp(`^${md5} {2}malicious {2}\\(1001 FOUND`));
      assert.match(bad.out[0], / {2}severity critical, confidence high {2}AV: EICAR-Test-File$/);

      const ok = await query([...gateway, ...key, "--features", "te,av", sha1]);
      assert.equal(ok.code, 0, ok.err.join("\n"));
      assert.match(ok.out[0], new RegExp(`^${sha1} {2}benign `));
      assert.doesNotMatch(ok.out[0], /severity/);

      // Without av, no AV result is claimed.
      const teOnly = await query([...gateway, ...key, "--features", "te", md5]);
      assert.equal(teOnly.code, 1, teOnly.err.join("\n"));
      assert.doesNotMatch(teOnly.out[0], /AV:/);
    });
  });
});

Deno.test("query --gateway with a wrong key is refused with exit 3 and never shows the key", async () => {
  await withTempDir(async (dir) => {
    await withEmulator({ apiKey: "s3cret" }, async (emulator) => {
      const run = await query([
        "--gateway",
        `127.0.0.1:${emulator.port}`,
        "--ca-cert",
        CA_FILE,
        "--api-key-file",
        await keyFile(dir, "wrong-key"),
        "a".repeat(40),
      ]);
      assert.equal(run.code, 3);
      assert.equal(run.err.length, 1);
      assert.match(run.err[0], /refused the request \(1010 FORBIDDEN/);
      assert.ok(!run.err[0].includes("wrong-key"));
    });
  });
});

Deno.test("query on an appliance prints the AV signature when av is asked", async () => {
  await withEmulator({}, async (emulator) => {
    const eicar = new TextEncoder().encode(eicarText());
    emulator.learn(eicar, "eicar.com");
    emulator.advanceClock(60_000);
    const md5 = createHash("md5").update(eicar).digest("hex");
    const run = await query([...fastFlags(emulator.port), "--features", "te,av", md5]);
    assert.equal(run.code, 1, run.err.join("\n"));
    assert.match(run.out[0], / {2}AV: EICAR-Test-File$/);
  });
});
