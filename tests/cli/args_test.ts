import assert from "node:assert/strict";
import { parseScanArgs, rewriteAliases, UsageError } from "../../lib/cli/args.ts";
import { parseSize } from "../../lib/fs/size.ts";
import { tempDir } from "../helpers.ts";

Deno.test("te_api's own command line parses unchanged", () => {
  const args = parseScanArgs([
    "-in",
    "/drop",
    "-rep",
    "/rep",
    "-ip",
    "10.1.1.5",
    "-n",
    "8",
    "-out",
    "/ok",
    "-jail",
    "/q",
    "-error",
    "/err",
  ]);
  assert.equal(args.input, "/drop");
  assert.equal(args.reportsDir, "/rep");
  assert.deepEqual(args.appliances, ["10.1.1.5"]);
  assert.equal(args.concurrency, 8);
  assert.equal(args.benign, "/ok");
  assert.equal(args.quarantine, "/q");
  assert.equal(args.error, "/err");
});

Deno.test("te_api's long forms, with = and without", () => {
  const args = parseScanArgs([
    "--input_directory=/drop",
    "--appliance_ip",
    "10.1.1.5",
    "--concurrency",
    "2",
    "--quarantine_directory",
    "/q",
    "--benign_directory=/ok",
    "--reports_directory",
    "/rep",
  ]);
  assert.equal(args.input, "/drop");
  assert.equal(args.benign, "/ok");
  assert.equal(args.reportsDir, "/rep");
  assert.deepEqual(rewriteAliases(["--", "-in"]), ["--", "-in"]);
});

Deno.test("defaults match the spec", () => {
  const args = parseScanArgs(["--in", "d", "--ip", "h"]);
  assert.equal(args.reportsDir, "te-reports");
  assert.equal(args.concurrency, 4);
  assert.deepEqual(args.features, ["te", "te_eb"]);
  assert.deepEqual(args.reports, ["summary"]);
  assert.equal(args.recursive, true);
  assert.equal(args.followSymlinks, false);
  assert.equal(parseScanArgs(["--in", "d", "--ip", "h", "--no-recursive"]).recursive, false);
});

Deno.test("bad command lines are one-line usage errors", () => {
  const bad: [string[], RegExp][] = [
    [["--ip", "h"], /missing --in/],
    [["--in", "d"], /missing --ip/],
    [["--in", "d", "--ip", "h", "-n", "0"], /--concurrency: expected a whole number >= 1/],
    [["--in", "d", "--ip", "h", "-n", "x"], /--concurrency/],
    [["--in", "d", "--ip", "h", "--reports", "pdf,summary"], /cannot be asked together/],
    [["--in", "d", "--ip", "h", "--features", "te,zip"], /unknown value "zip"/],
    [["--in", "d", "--ip", "h", "--bogus"], /bogus/],
    [["--in", "d", "--ip", "h", "--max-size", "lots"], /not a size/],
    [["--in", "d", "--ip", "h", "--insecure", "--pin", "ab"], /at most one of/],
    [["--in", "d", "--ip", "h", "extra"], /unexpected argument "extra"/],
    [["--files-from", "l", "--ip", "h", "--watch"], /--watch needs --in DIR/],
    [["--in", "d", "--files-from", "l", "--ip", "h"], /--in DIR or --files-from FILE, not both/],
    [["--in", "d", "--ip", "h", "--settle", "soon"], /--settle: expected a number/],
    [["--in", "d", "--ip", "h", "--jial", "q"], /unknown option --jial \(did you mean --jail\?\)/],
  ];
  for (const [argv, pattern] of bad) {
    assert.throws(() => parseScanArgs(argv), (error: unknown) => {
      assert.ok(error instanceof UsageError, `${argv.join(" ")}: ${error}`);
      assert.match(error.message, pattern);
      assert.ok(!error.message.includes("\n"));
      return true;
    });
  }
});

Deno.test("sizes accept the usual units", () => {
  assert.equal(parseSize("512"), 512);
  assert.equal(parseSize("10k"), 10240);
  assert.equal(parseSize("10M"), 10 * 1024 * 1024);
  assert.equal(parseSize("1.5GiB"), 1.5 * 1024 ** 3);
  assert.equal(parseSize("2 GB"), 2 * 1024 ** 3);
});

Deno.test("--config supplies options; the command line wins", async () => {
  await using dir = await tempDir();
  const config = `${dir.path}/te-scan.json`;
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      in: "/from-config",
      ip: "10.0.0.9",
      concurrency: 6,
      quarantine_directory: "/q",
      exclude: ["*.tmp", "cache/"],
      "follow-symlinks": true,
    }),
  );
  const args = parseScanArgs(["--config", config, "--in", "/from-cli"]);
  assert.equal(args.input, "/from-cli");
  assert.deepEqual(args.appliances, ["10.0.0.9"]);
  assert.equal(args.concurrency, 6);
  assert.equal(args.quarantine, "/q");
  assert.deepEqual(args.exclude, ["*.tmp", "cache/"]);
  assert.equal(args.followSymlinks, true);
  await Deno.writeTextFile(config, JSON.stringify({ colour: "red" }));
  assert.throws(() => parseScanArgs(["--config", config]), /unknown option "colour"/);
  await Deno.writeTextFile(config, "{not json");
  assert.throws(() => parseScanArgs(["--config", config]), /not valid JSON/);
  assert.throws(() => parseScanArgs(["--config", `${dir.path}/missing.json`]), /cannot read/);
});
