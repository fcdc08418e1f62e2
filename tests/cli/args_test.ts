import assert from "node:assert/strict";
import {
  parseScanArgs,
  rewriteAliases,
  SCAN_HELP,
  SCAN_OPTION_NAMES,
  UsageError,
} from "../../lib/cli/args.ts";
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
    [["--files-from", "l", "--ip", "h"], /--files-from needs --in DIR/],
    [["--in", "d", "--files-from", "l", "--ip", "h", "--watch"], /--watch and --files-from/],
    [["--in", "d", "--ip", "h", "--settle", "soon"], /--settle: expected a number/],
    [["--in", "d", "--ip", "h", "--jial", "q"], /unknown option --jial \(did you mean --jail\?\)/],
    [["--in", "d", "--ip", "h", "--gateway", "g"], /one kind of target/],
    [["--in", "d", "--url", "https://x/", "--gateway", "g"], /one kind of target/],
    [["--in", "d", "--ip", "h", "--extract", "clean", "--clean", "c"], /--extract needs --gateway/],
    [["--in", "d", "--gateway", "g", "--extract", "clean"], /--extract needs --clean DIR/],
    [["--in", "d", "--gateway", "g", "--clean", "c"], /--clean needs --extract/],
    [["--in", "d", "--gateway", "g", "--parts", "1026"], /--parts needs --extract/],
    [["--in", "d", "--gateway", "g", "--extract", "scrub"], /expected clean, pdf or profile:NAME/],
    [["--in", "d", "--gateway", "g", "--extract", "profile:"], /profile:NAME/],
    [
      ["--in", "d", "--gateway", "g", "--extract", "clean", "--clean", "c", "--parts", "1026,77"],
      /unknown part code "77"/,
    ],
    [["--in", "d", "--ip", "h", "--report-port", "18195"], /--report-port applies to --gateway/],
    [["--in", "d", "--gateway", "g", "--report-port", "70000"], /at most 65535/],
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

Deno.test("--gateway, repeatable, with Threat Extraction and its parts", () => {
  const args = parseScanArgs([
    "--in",
    "d",
    "--gateway",
    "gw1.example",
    "--gateway",
    "gw2.example:4434",
    "--extract",
    "clean",
    "--parts",
    "1026, 1019,1026",
    "--clean",
    "/srv/clean",
    "--report-port",
    "18195",
    "--features",
    "te,te_eb,av",
  ]);
  assert.deepEqual(args.gateways, ["gw1.example", "gw2.example:4434"]);
  assert.deepEqual(args.extract, { method: 1, parts: [1026, 1019] });
  assert.equal(args.clean, "/srv/clean");
  assert.equal(args.reportPort, 18195);
  assert.deepEqual(args.features, ["te", "te_eb", "av"]);
  const pdf = parseScanArgs(["--in", "d", "--gateway", "g", "--extract", "pdf", "--clean", "c"]);
  assert.deepEqual(pdf.extract, { method: 2 });
  assert.equal(pdf.reportPort, 18194);
  assert.equal(parseScanArgs(["--in", "d", "--gateway", "g"]).extract, undefined);
});

Deno.test("an API key from --config is not warned about as a command-line one", async () => {
  await using dir = await tempDir();
  const config = `${dir.path}/te-scan.json`;
  await Deno.writeTextFile(config, JSON.stringify({ gateway: ["gw"], "api-key": "from-file" }));
  const fromConfig = parseScanArgs(["--config", config, "--in", "d"]);
  assert.equal(fromConfig.apiKey, "from-file");
  assert.equal(fromConfig.apiKeyFrom, "config");
  const typed = parseScanArgs(["--config", config, "--in", "d", "--api-key", "typed"]);
  assert.equal(typed.apiKeyFrom, "command line");
});

Deno.test("--help names every option, with three examples", () => {
  // A negatable flag is documented by the form users type to change its default.
  const negated = ["recursive", "emulation"];
  const options = SCAN_OPTION_NAMES.map((name) => negated.includes(name) ? `no-${name}` : name);
  for (const name of options) assert.match(SCAN_HELP, new RegExp(`--${name}\\b`), `--${name}`);
  const examples = SCAN_HELP.slice(SCAN_HELP.indexOf("Examples:"), SCAN_HELP.indexOf("Exit codes"));
  assert.equal(examples.match(/^ {2}te-scan /gm)?.length, 3);
  for (const name of ["watch", "gateway", "extract"]) {
    assert.match(examples, new RegExp(`--${name}\\b`), `an example uses --${name}`);
  }
});
