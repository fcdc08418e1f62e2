import assert from "node:assert/strict";
import { join } from "node:path";
import { parseScanArgs, SCAN_HELP, SCAN_OPTIONS, UsageError } from "../../lib/cli/args.ts";
import { configKeys, helpDefault, helpName, type Option } from "../../lib/cli/options.ts";
import { tempDir } from "../helpers.ts";

/**
 * A value for every option that takes one, other than its default, and the options it needs
 * beside it. An option added to the table without a sample fails these tests.
 */
const SAMPLES: Record<string, { value: string; with?: string[] }> = {
  in: { value: "/elsewhere" },
  out: { value: "/ok" },
  jail: { value: "/q" },
  error: { value: "/err" },
  rep: { value: "/rep" },
  ip: { value: "10.1.1.5" },
  gateway: { value: "gw2.example:4434" },
  url: { value: "https://te.example/tecloud/api/v1/file/" },
  "report-port": { value: "18195" },
  "ca-cert": { value: "/etc/te-scan/ca.pem" },
  pin: { value: "ab:cd" },
  "api-key-file": { value: "/etc/te-scan/key" },
  "api-key": { value: "k3y" },
  proxy: { value: "http://proxy.example:3128" },
  extract: { value: "pdf", with: ["--clean", "/cleaned"] },
  parts: { value: "1026", with: ["--extract", "clean", "--clean", "/cleaned"] },
  clean: { value: "/cleaned", with: ["--extract", "pdf"] },
  // A flag: no value; --no-emulation only goes with --extract.
  emulation: { value: "", with: ["--extract", "clean", "--clean", "/cleaned"] },
  concurrency: { value: "7" },
  features: { value: "te,av" },
  reports: { value: "xml" },
  images: { value: "win7-office" },
  "poll-interval": { value: "2" },
  timeout: { value: "60" },
  "batch-size": { value: "50" },
  retries: { value: "3" },
  grace: { value: "30" },
  "request-timeout": { value: "10" },
  "files-from": { value: "/list.txt" },
  include: { value: "*.docx" },
  exclude: { value: "*.tmp" },
  "max-size": { value: "1M" },
  settle: { value: "1" },
  metrics: { value: "/var/lib/node_exporter/te-scan.prom" },
};

/** The target options: each is the run's target itself, so the base names none. */
const TARGETS = ["ip", "gateway", "url"];

/** A valid command line around one option. */
function base(option: Option<unknown>): string[] {
  // The option itself must be the only one of its kind: the last value typed wins.
  const input = option.name === "in" ? [] : ["--in", "/drop"];
  const target = TARGETS.includes(option.name) ? [] : ["--gateway", "gw.example"];
  return [...input, ...target, ...(SAMPLES[option.name]?.with ?? [])];
}

/** How the option is typed on a command line, under `spelling`, with its sample value. */
function typed(option: Option<unknown>, spelling = `--${option.name}`): string[] {
  if (option.type === "boolean") {
    return [option.default === true ? spelling.replace(/^--/, "--no-") : spelling];
  }
  const sample = SAMPLES[option.name];
  assert.ok(sample, `tests/cli/options_test.ts: give --${option.name} a sample value`);
  return [spelling, sample.value];
}

/** The field of ScanArgs an option fills. */
function fieldOf(option: Option<unknown>): keyof typeof SCAN_OPTIONS {
  const entry = Object.entries(SCAN_OPTIONS).find(([, o]) => o === option);
  return entry![0] as keyof typeof SCAN_OPTIONS;
}

/** An option's paragraph in --help: its line and the indented lines after it, joined. */
function paragraphOf(help: string, option: Option<unknown>): string | undefined {
  const lines = help.split("\n");
  const start = lines.findIndex((l) => l.startsWith(`  ${helpName(option)} `));
  if (start < 0) return undefined;
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => !l.startsWith(" ".repeat(24)));
  return [lines[start], ...rest.slice(0, end < 0 ? undefined : end)]
    .map((l) => l.trim()).join(" ");
}

/** An option's setting when it is not given: its default, or none. */
function defaultOf(option: Option<unknown>): unknown {
  return option.read(undefined, { option: `--${option.name}`, values: {} });
}

/** Parses as `doctor` does, the mode that needs no --in, so --in can be left out too. */
function parse(argv: string[]) {
  return parseScanArgs(argv, "doctor");
}

const options = Object.values(SCAN_OPTIONS) as Option<unknown>[];

Deno.test("every option of the table is in --help, with its default", () => {
  for (const option of options) {
    const paragraph = paragraphOf(SCAN_HELP, option);
    assert.ok(paragraph, `--help has no line for ${helpName(option)}`);
    const shown = helpDefault(option);
    if (shown) assert.ok(paragraph.includes(shown), `--${option.name}: "${shown}" in ${paragraph}`);
    for (const spellings of Object.values(option.aliases ?? {})) {
      for (const spelling of spellings) assert.ok(paragraph.includes(spelling), spelling);
    }
  }
  // The defaults --help names are the ones a run gets.
  const args = parseScanArgs(["--in", "/drop", "--ip", "h"]);
  assert.match(paragraphOf(SCAN_HELP, SCAN_OPTIONS.concurrency)!, /\(default 4\b/);
  assert.equal(args.concurrency, 4);
  assert.match(paragraphOf(SCAN_HELP, SCAN_OPTIONS.timeoutMs)!, /\(default 900\)/);
  assert.equal(args.timeoutMs, 900_000);
  assert.equal(args.reportsDir, "te-reports");
  assert.ok(SCAN_HELP.split("\n").every((l) => l.length <= 98), "lines fit a terminal");
});

Deno.test("every config key of the table is accepted, as the flag would be", async () => {
  await using dir = await tempDir();
  const keys = configKeys(SCAN_OPTIONS);
  assert.ok(keys.has("quarantine_directory") && keys.has("in") && !keys.has("config"));
  for (const [key, option] of keys) {
    const path = join(dir.path, "te-scan.json");
    const value = option.type === "boolean" ? option.default !== true : SAMPLES[option.name]?.value;
    assert.ok(value !== undefined, `tests/cli/options_test.ts: give --${option.name} a sample`);
    await Deno.writeTextFile(path, JSON.stringify({ [key]: value }));
    const field = fieldOf(option);
    const fromConfig = parse(["--config", path, ...base(option)]);
    const fromFlag = parse([...typed(option), ...base(option)]);
    assert.deepEqual(fromConfig[field], fromFlag[field], `config key ${key}`);
    assert.notDeepEqual(fromConfig[field], defaultOf(option), `config key ${key} took effect`);
  }
});

Deno.test("an unknown config key is refused, with a did-you-mean when one is near", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "te-scan.json");
  const cases: [object, RegExp][] = [
    [{ jial: "/q" }, /^--config: unknown option "jial" in .* \(did you mean "jail"\?\)$/],
    [{ "follow-symlink": true }, /unknown option "follow-symlink" .*"follow-symlinks"\?\)$/],
    [{ benign_directry: "/ok" }, /unknown option "benign_directry" .*"benign_directory"\?\)$/],
    [{ colour: "red" }, /^--config: unknown option "colour" in [^(]*$/],
    [{ config: "/other.json" }, /unknown option "config"/],
  ];
  for (const [data, pattern] of cases) {
    await Deno.writeTextFile(path, JSON.stringify(data));
    assert.throws(() => parseScanArgs(["--config", path, "--in", "d", "--ip", "h"]), (e) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, pattern);
      return true;
    });
  }
});

Deno.test("each alias and short name parses as the option's main name", () => {
  let checked = 0;
  for (const option of options) {
    const spellings = Object.values(option.aliases ?? {}).flat();
    if (option.short) spellings.push(`-${option.short}`);
    if (!spellings.length) continue;
    const field = fieldOf(option);
    const main = parse([...typed(option), ...base(option)]);
    for (const spelling of spellings) {
      const alias = parse([...typed(option, spelling), ...base(option)]);
      assert.deepEqual(alias, main, `${spelling} as --${option.name}`);
      assert.notDeepEqual(alias[field], defaultOf(option), spelling);
      if (spelling.startsWith("--") && option.type === "string") {
        const [name, value] = typed(option, spelling);
        assert.deepEqual(parse([`${name}=${value}`, ...base(option)]), main, spelling);
      }
      checked++;
    }
  }
  assert.ok(checked >= 14, `only ${checked} aliases checked`);
});
