/**
 * The `scan` command line: the table of te-scan's options
 * ({@linkcode SCAN_OPTIONS}: names, te_api's flags as aliases so existing
 * cron lines run unchanged, defaults, help, config keys), the checks across
 * options, and `--help` made from the table, into a typed
 * {@linkcode ScanArgs}.
 *
 * @example te_api's spellings are understood
 * ```ts
 * import { parseScanArgs } from "./args.ts";
 * import assert from "node:assert/strict";
 * const args = parseScanArgs(["-in", "/drop", "-ip", "10.1.1.5", "-n", "8"]);
 * assert.equal(args.input, "/drop");
 * assert.equal(args.concurrency, 8);
 * ```
 * @module
 */

import { FEATURES, REPORT_FORMATS } from "../transport/protocol.ts";
import { DEFAULT_REPORT_PORT, type ExtractOptions } from "../transport/gateway.ts";
import { SCRUBBED_PARTS } from "../transport/tpapi_types.ts";
import { parseProxy, type ProxyAddress } from "../transport/proxy.ts";

import { UsageError } from "./exit.ts";
import {
  choices,
  flag,
  helpOf,
  number,
  type OptionTable,
  type OptionValues,
  type PartOf,
  type RawValues,
  readCommandLine,
  readConfigFile,
  readValues,
  rewriteWith,
  size,
  text,
  texts,
  valued,
} from "./options.ts";
export { UsageError };

/** The `--help` sections, in order, with the prose around their option lines. */
const SECTIONS: { id: string; title: string; outro?: string }[] = [
  {
    id: "files",
    title: "Where files go:",
    outro: "  Without --out/--jail/--error files stay where they are (report-only mode).",
  },
  {
    id: "target",
    title: "Target (one kind per run): --ip for a TE appliance, --gateway for a Security Gateway " +
      "(the\nonly target with Threat Extraction), --url for the Check Point cloud.",
  },
  { id: "extraction", title: "Threat Extraction (--gateway, or clean and pdf with --url):" },
  { id: "emulation", title: "Emulation:" },
  { id: "selection", title: "Selection:" },
  { id: "watch", title: "Watching a folder:" },
  { id: "output", title: "Output:" },
];

/**
 * Every option of the scan command, keyed by the setting it fills: the
 * parser, `--help`'s option lines, the `--config` check and the types of
 * {@linkcode ScanArgs} and `ConnectionArgs` are all made from it. Adding
 * an option is adding one entry.
 */
export const SCAN_OPTIONS = {
  input: text({
    name: "in",
    meta: "DIR|FILE",
    aliases: { te_api: ["-in", "--input_directory"], "Check Point scripts": ["-id"] },
    help: "folder to scan (walked recursively), or a single file",
    section: "files",
  }),
  benign: text({
    name: "out",
    meta: "DIR",
    aliases: { te_api: ["-out", "--benign_directory"] },
    help: "benign files",
    section: "files",
  }),
  quarantine: text({
    name: "jail",
    meta: "DIR",
    aliases: { te_api: ["-jail", "--quarantine_directory"] },
    help: "malicious files, quarantined",
    section: "files",
  }),
  error: text({
    name: "error",
    meta: "DIR",
    aliases: { te_api: ["-error", "--error_directory"] },
    help: "files without a verdict, with the reason",
    section: "files",
  }),
  reportsDir: text({
    name: "rep",
    meta: "DIR",
    aliases: {
      te_api: ["-rep", "--reports_directory"],
      "Check Point scripts": ["-od", "--output_directory"],
    },
    default: "te-reports",
    shownDefault: "./te-reports",
    help: "responses, reports, te-scan.log.jsonl, summary.json",
    section: "files",
  }),
  copy: flag({
    name: "copy",
    help: "copy instead of move: the input stays untouched",
    section: "files",
  }),
  dryRun: flag({
    name: "dry-run",
    help: "hash and ask the cache only: no upload, no move",
    section: "files",
  }),
  appliances: texts({
    name: "ip",
    meta: "HOST[:PORT]",
    aliases: { te_api: ["-ip", "--appliance_ip"] },
    help: "a TE appliance (SandBlast): its cloud-format API, default port 18194 (repeatable: " +
      "files go to the least loaded). Threat Emulation, te_eb early verdicts, AV.",
    section: "target",
    part: "connection",
  }),
  gateways: texts({
    name: "gateway",
    meta: "HOST[:PORT]",
    help: "a Security Gateway's Threat Prevention API (POST /UserCheck/TPAPI, default port 443; " +
      "repeatable, files go to the least loaded). The same, plus Threat Extraction (--extract). " +
      "Needs the gateway's API key.",
    section: "target",
    part: "connection",
  }),
  url: text({
    name: "url",
    meta: "BASE",
    help: "any cloud-format base URL, e.g. the Check Point cloud " +
      "https://te-api.checkpoint.com/tecloud/api/v1/file/ (with an API key)",
    section: "target",
    part: "connection",
  }),
  reportPort: number({
    name: "report-port",
    meta: "N",
    default: String(DEFAULT_REPORT_PORT),
    help: "a gateway's cloud-format port, where TE reports are downloaded without a key",
    section: "target",
    part: "connection",
  }, { min: 1, max: 65_535, integer: true }),
  caCert: text({
    name: "ca-cert",
    meta: "FILE",
    aliases: { "Check Point scripts": ["-ct", "--cert_file"] },
    help: "trust the target's certificate(s) in this PEM file",
    section: "target",
    part: "connection",
  }),
  pin: text({
    name: "pin",
    meta: "SHA256",
    help: "trust exactly the certificate with this SHA-256 fingerprint",
    section: "target",
    part: "connection",
  }),
  insecure: flag({
    name: "insecure",
    help: "do not verify the certificate (not recommended)",
    section: "target",
    part: "connection",
  }),
  apiKeyFile: text({
    name: "api-key-file",
    meta: "FILE",
    help: "API key (the gateway's, from its TPAPI.ini; or the cloud's); never echoed or logged. " +
      'A --config file may hold "api-key" instead.',
    section: "target",
    part: "connection",
  }),
  apiKey: text({
    name: "api-key",
    meta: "KEY",
    aliases: { "Check Point scripts": ["-ak", "--api_key"] },
    help: "API key on the command line (visible in the process list)",
    section: "target",
    part: "connection",
  }),
  proxy: valued({
    name: "proxy",
    meta: "URL",
    help: "http://HOST:PORT: every connection (target, report port, trust, query, quota) " +
      "through this HTTP CONNECT proxy; one without authentication",
    section: "target",
    part: "connection",
  }, (value) => parseProxyOption(value)),
  extract: valued({
    name: "extract",
    meta: "METHOD",
    help: "clean (remove active content), pdf (convert to PDF) or profile:NAME (as the " +
      "gateway's Threat Prevention profile NAME says). Extraction happens on upload, so files " +
      "the gateway already knows are uploaded again for their cleaned copy (not known " +
      "malicious ones).",
    section: "extraction",
    part: "ask",
  }, (value, { values }) => parseExtract(value, values.parts as string | undefined)),
  parts: text({
    name: "parts",
    meta: "CODES",
    shownDefault: "the gateway guide's list of 13",
    help: "parts to remove with clean or profile:NAME, e.g. 1026,1019",
    section: "extraction",
  }),
  clean: text({
    name: "clean",
    meta: "DIR",
    help: "where cleaned copies go, at each file's relative folder, under the gateway's name " +
      "for them (or NAME.cleaned.EXT); required with --extract. A malicious file's cleaned " +
      "copy is not kept.",
    section: "extraction",
    part: "ask",
  }),
  emulation: flag({
    name: "emulation",
    default: true,
    shownDefault: "emulation on",
    help: "with --extract: Threat Extraction only (as tex_api); originals are " +
      "left untouched, cleaned copies go to --clean; --out/--jail/--error refused",
    section: "extraction",
  }),
  concurrency: number({
    name: "concurrency",
    short: "n",
    meta: "N",
    aliases: { te_api: ["-n"] },
    default: "4",
    help: "files in emulation at once",
    section: "emulation",
    part: "connection",
  }, { min: 1, integer: true }),
  features: choices({
    name: "features",
    meta: "LIST",
    default: "te,te_eb",
    help: "te,te_eb,av; an AV detection quarantines at once",
    section: "emulation",
    part: "ask",
  }, FEATURES),
  reports: choices({
    name: "reports",
    meta: "LIST",
    default: "summary",
    help: "summary,pdf,xml,tar",
    section: "emulation",
    part: "ask",
  }, REPORT_FORMATS),
  images: choices({
    name: "images",
    meta: "ID,...",
    default: "",
    shownDefault: "the appliance's",
    help: "emulation images",
    section: "emulation",
    part: "ask",
  }),
  benignReports: flag({
    name: "benign-reports",
    help: "reports for benign files too (te.benign_reports; the cloud and appliances: gateways " +
      "do not make them)",
    section: "emulation",
    part: "ask",
  }),
  pollIntervalMs: number({
    name: "poll-interval",
    meta: "SEC",
    default: "5",
    help: "longest wait between two polls of a pending file; below it, a file is first asked " +
      "about when the files before it took their verdict, and poll rounds (one request for " +
      "all) come at most once a second",
    section: "emulation",
  }, { min: 0.01, scale: 1000 }),
  timeoutMs: number({
    name: "timeout",
    meta: "SEC",
    default: "900",
    help: "per-file deadline for a final verdict",
    section: "emulation",
  }, { min: 0.1, scale: 1000 }),
  batchSize: number({
    name: "batch-size",
    meta: "N",
    default: "100",
    help: "hashes per query request, at most 500",
    section: "emulation",
    part: "ask",
  }, { min: 1, max: 500, maxNote: "items per query", integer: true }),
  retries: number({
    name: "retries",
    meta: "N",
    default: "6",
    help: "tries per request on network errors, HTTP 5xx, 1009/1011, with jittered back-off",
    section: "emulation",
    part: "connection",
  }, { min: 1, max: 20, integer: true }),
  graceMs: number({
    name: "grace",
    meta: "SEC",
    default: "120",
    help: "with several --ip, a failing appliance gets no files (they go to the others) until " +
      "a probe succeeds; failing this long, it leaves the run. The last one up leaves after " +
      "this long; with none left the run stops and files not yet settled stay in place",
    section: "emulation",
    part: "ask",
  }, { min: 0, scale: 1000 }),
  requestTimeoutMs: number({
    name: "request-timeout",
    meta: "SEC",
    default: "60",
    help: "a request with no progress for this long fails and is retried",
    section: "emulation",
    part: "connection",
  }, { min: 0.1, scale: 1000 }),
  filesFrom: text({
    name: "files-from",
    meta: "FILE",
    help: "only the paths listed, one per line (- reads standard input), each inside --in " +
      "(others are reported, never touched)",
    section: "selection",
  }),
  nulSeparated: flag({
    name: "null",
    short: "0",
    help: "the --files-from list is separated by NUL bytes",
    section: "selection",
  }),
  recursive: flag({
    name: "recursive",
    default: true,
    shownDefault: "recursive",
    help: "top folder only",
    section: "selection",
  }),
  followSymlinks: flag({
    name: "follow-symlinks",
    help: "follow symbolic links (loops are detected)",
    section: "selection",
  }),
  include: texts({
    name: "include",
    meta: "GLOB",
    help: "only files matching (repeatable; *.docx, a/**/x)",
    section: "selection",
  }),
  exclude: texts({
    name: "exclude",
    meta: "GLOB",
    help: "skip files and folders matching (repeatable)",
    section: "selection",
  }),
  maxSize: size({
    name: "max-size",
    meta: "SIZE",
    help: "skip larger files, e.g. 100M (reported, never called clean)",
    section: "selection",
  }),
  watch: flag({
    name: "watch",
    help: "keep scanning --in as files arrive; SIGINT or SIGTERM stops it (exit 130). An " +
      "appliance outage pauses it until an appliance answers again.",
    section: "watch",
    part: "ask",
  }),
  settleMs: number({
    name: "settle",
    meta: "SEC",
    default: "5",
    help: "take a file once its size and times have not changed for SEC seconds, so a file " +
      "still being copied in is scanned once, whole. REP/index.html and summary.json are " +
      "rewritten (whole) every few seconds while files settle",
    section: "watch",
  }, { min: 0, scale: 1000 }),
  metrics: text({
    name: "metrics",
    meta: "FILE",
    help: "Prometheus text-format counters (files by state, bytes, uploads, queue depth, target " +
      "health), rewritten every few seconds, for node_exporter's textfile collector (name it " +
      "*.prom)",
    section: "watch",
  }),
  pruneEmpty: flag({
    name: "prune-empty",
    help: "remove the folders under --in that moves leave empty (never --in)",
    section: "watch",
  }),
  json: flag({ name: "json", help: "one JSON object per event on stdout", section: "output" }),
  quiet: flag({
    name: "quiet",
    short: "q",
    help: "only malicious files, errors and the summary",
    section: "output",
  }),
  debug: flag({ name: "debug", help: "show the stack of an internal error", section: "output" }),
  config: text({
    name: "config",
    meta: "FILE",
    help: "JSON file of option names and values (flags win)",
    section: "output",
    config: false,
  }),
  help: flag({ name: "help", short: "h", help: "this text", section: "output", config: false }),
  version: flag({
    name: "version",
    short: "V",
    help: "the version",
    section: "output",
    config: false,
  }),
} satisfies OptionTable;

/** Settings that are not one option's value. */
interface Derived {
  /** Where `--api-key` came from: on the command line it shows in the process list. */
  apiKeyFrom?: "command line" | "config";
  /** Arguments after the options (hashes, for `te-scan query`). */
  positionals: string[];
  /** `--no-emulation` (with `--extract`): Threat Extraction only, originals left untouched. */
  noEmulation: boolean;
}

/** The scan command's settings, validated: one per option of {@linkcode SCAN_OPTIONS}. */
export type ScanArgs = OptionValues<typeof SCAN_OPTIONS> & Derived;

/** The settings a connection is made from: the options of the table's `connection` part. */
export type ConnectionArgs =
  & OptionValues<PartOf<typeof SCAN_OPTIONS, "connection">>
  & Pick<Derived, "apiKeyFrom">
  // `--grace` also bounds a request's HTTP retries (none starts later than this).
  & Partial<Pick<OptionValues<typeof SCAN_OPTIONS>, "graceMs">>;

/** What every file is asked for: the options of the table's `ask` part. */
export type AskArgs =
  & OptionValues<PartOf<typeof SCAN_OPTIONS, "ask">>
  & Pick<Derived, "noEmulation">;

/**
 * `scan` needs a folder; `lookup` (query, quota) takes only a connection and
 * arguments; `doctor` takes a connection of any kind.
 */
export type ArgsMode = "scan" | "lookup" | "doctor";

/** Every option of the scan command, as `--help` must name it. */
export const SCAN_OPTION_NAMES: readonly string[] = Object.values(SCAN_OPTIONS).map((o) => o.name);

/**
 * Rewrites te_api's flags to te-scan's (`-in X`, `--input_directory=X` → `--in X`).
 *
 * @example te_api aliases become te-scan options
 * ```ts
 * import { rewriteAliases } from "./args.ts";
 * import assert from "node:assert/strict";
 *
 * const argv = rewriteAliases(["-jail", "/q", "--benign_directory=/ok"]);
 * assert.deepEqual(argv, ["--jail", "/q", "--out=/ok"]);
 * ```
 */
export function rewriteAliases(argv: string[]): string[] {
  return rewriteWith(SCAN_OPTIONS, argv);
}

/**
 * `--extract clean|pdf|profile:NAME` with `--parts CODES`: the scrub method
 * (1 remove active content, 2 convert to PDF, 0 by the gateway's profile),
 * the profile's name, and the parts to remove (known part codes only).
 *
 * @example Clean with some parts, convert to PDF, or name a profile
 * ```ts
 * import { parseExtract } from "./args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseExtract("clean", "1026,1019"), { method: 1, parts: [1026, 1019] });
 * assert.deepEqual(parseExtract("pdf"), { method: 2 });
 * assert.deepEqual(parseExtract("profile:Recommended_Profile"), {
 *   method: 0,
 *   profile: "Recommended_Profile",
 * });
 * assert.throws(() => parseExtract("pdf", "1026"), /--parts: .*not to --extract pdf/);
 * ```
 */
export function parseExtract(text: string, parts?: string): ExtractOptions {
  const [kind, ...rest] = text.trim().split(":");
  const profile = rest.join(":").trim();
  let extract: ExtractOptions;
  if (kind === "clean" && !rest.length) extract = { method: 1 };
  else if (kind === "pdf" && !rest.length) extract = { method: 2 };
  else if (kind === "profile" && profile) extract = { method: 0, profile };
  else {
    throw new UsageError(
      `--extract: expected clean, pdf or profile:NAME, got ${JSON.stringify(text)}`,
    );
  }
  if (parts === undefined) return extract;
  if (extract.method === 2) {
    throw new UsageError(
      "--parts: parts apply to --extract clean and profile:NAME, not to --extract pdf",
    );
  }
  const codes = parts.split(",").map((s) => s.trim()).filter(Boolean);
  for (const code of codes) {
    if (!(Number(code) in SCRUBBED_PARTS) || !/^\d+$/.test(code)) {
      const known = Object.keys(SCRUBBED_PARTS).join(",");
      throw new UsageError(`--parts: unknown part code ${JSON.stringify(code)} (one of: ${known})`);
    }
  }
  if (!codes.length) throw new UsageError("--parts: give at least one part code");
  return { ...extract, parts: [...new Set(codes.map(Number))] };
}

/** The kinds of target a run may ask. */
export type TargetKind = "appliance" | "gateway" | "cloud";

/**
 * The one kind of target the settings name: `--ip`, `--gateway` or
 * `--url`. Both the parser and `connect` ask it, so the rule and its
 * words live here only.
 *
 * @example One kind, none, or two
 * ```ts
 * import { targetKind } from "./args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(targetKind({ appliances: [], gateways: ["gw"] }), "gateway");
 * assert.throws(() => targetKind({ appliances: [], gateways: [] }), /missing --ip HOST\[:PORT\]/);
 * assert.throws(
 *   () => targetKind({ appliances: ["a"], gateways: [], url: "https://x/" }),
 *   /one kind of target/,
 * );
 * ```
 */
export function targetKind(
  args: Pick<ConnectionArgs, "appliances" | "gateways" | "url">,
): TargetKind {
  const kinds: TargetKind[] = [];
  if (args.appliances.length) kinds.push("appliance");
  if (args.gateways.length) kinds.push("gateway");
  if (args.url !== undefined) kinds.push("cloud");
  if (!kinds.length) {
    throw new UsageError(
      "missing --ip HOST[:PORT], --gateway HOST[:PORT] or --url BASE (the target to ask)",
    );
  }
  if (kinds.length > 1) throw new UsageError("give one kind of target: --ip, --gateway or --url");
  return kinds[0];
}

/**
 * The gateway's options and the one target kind a run asks: `--ip`,
 * `--gateway` or `--url`; Threat Extraction only on a gateway, and only
 * with a `--clean` folder.
 */
function checkTargets(args: ScanArgs, values: RawValues): void {
  const kind = targetKind(args);
  if (values["report-port"] !== undefined && kind !== "gateway") {
    throw new UsageError("--report-port applies to --gateway only");
  }
  if (values.parts !== undefined && !args.extract) {
    throw new UsageError("--parts needs --extract clean or --extract profile:NAME");
  }
  if (args.extract && kind !== "gateway") checkCloudExtract(args);
  if (args.extract && !args.clean) {
    throw new UsageError("--extract needs --clean DIR (where the cleaned copies go)");
  }
  if (args.clean && !args.extract) {
    throw new UsageError("--clean needs --extract clean|pdf|profile:NAME");
  }
  checkNoEmulation(args);
}

/** `--extract` off a gateway: the cloud cleans or converts, an appliance's API does neither. */
function checkCloudExtract(args: ScanArgs): void {
  if (args.url === undefined) {
    throw new UsageError(
      "--extract needs --gateway or --url: Threat Extraction runs on a Security Gateway or in " +
        "the Check Point cloud (an appliance's API has none)",
    );
  }
  if (args.extract?.method === 0) {
    throw new UsageError("--extract profile:NAME is a gateway's; with --url use clean or pdf");
  }
  if (args.noEmulation) throw new UsageError("--no-emulation needs --gateway");
}

/** `--no-emulation`: Threat Extraction alone, so there is no verdict to sort files by. */
function checkNoEmulation(args: ScanArgs): void {
  if (!args.noEmulation) return;
  if (!args.extract) {
    throw new UsageError(
      "--no-emulation needs --extract clean|pdf|profile:NAME (Threat Extraction is all it does)",
    );
  }
  const sorted = [
    ["--out", args.benign],
    ["--jail", args.quarantine],
    ["--error", args.error],
  ].filter(([, folder]) => folder !== undefined).map(([name]) => name);
  if (sorted.length) {
    throw new UsageError(
      `Cannot sort files with --no-emulation: ${sorted.join(", ")} sort by verdict and ` +
        `without emulation there is none; cleaned copies go to --clean, originals stay in place`,
    );
  }
}

/**
 * `--proxy`, its address checked (a usage error names the option).
 *
 * @example A proxy address and a usage error
 * ```ts
 * import { parseProxyOption } from "./args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseProxyOption("http://proxy.corp:3128").port, 3128);
 * assert.throws(() => parseProxyOption("proxy.corp"), /^UsageError: --proxy: expected http/);
 * ```
 */
export function parseProxyOption(text: string): ProxyAddress {
  try {
    return parseProxy(text);
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(`--proxy: ${error.message}`);
    throw error;
  }
}

/** The command line's option values over the `--config` file's, and the positionals. */
function readArgv(
  argv: string[],
  mode: ArgsMode,
): { cli: RawValues; values: RawValues; positionals: string[] } {
  const { values: cli, positionals } = readCommandLine(SCAN_OPTIONS, argv);
  if (positionals.length && mode === "scan") {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  }
  const values: RawValues = {
    ...(typeof cli.config === "string" ? readConfigFile(SCAN_OPTIONS, cli.config) : {}),
    ...cli,
  };
  return { cli, values, positionals };
}

/** The checks across options, once they are parsed one by one. */
function checkArgs(args: ScanArgs, values: RawValues, mode: ArgsMode): void {
  if (args.filesFrom && !args.input) {
    // The list only picks files: --in says which folder they may be taken from.
    throw new UsageError("--files-from needs --in DIR (the folder the listed files are in)");
  }
  if (!args.input && mode === "scan") {
    throw new UsageError("missing --in DIR (the folder to scan)");
  }
  if (args.watch && args.filesFrom) {
    throw new UsageError("--watch and --files-from cannot be used together");
  }
  if (args.watch && !args.input) {
    throw new UsageError("--watch needs --in DIR (the folder to watch)");
  }
  checkTargets(args, values);
  if (!args.features.includes("te") && !args.features.includes("av")) {
    throw new UsageError("--features must include te or av (te_eb alone gives no final verdict)");
  }
  if (args.reports.includes("pdf") && args.reports.includes("summary")) {
    throw new UsageError(
      "--reports: pdf and summary cannot be asked together (the Threat Prevention API refuses it)",
    );
  }
  if ([args.caCert, args.pin, args.insecure || undefined].filter(Boolean).length > 1) {
    throw new UsageError("give at most one of --ca-cert, --pin and --insecure");
  }
}

/**
 * Parses and validates the scan command line. Command-line values win over
 * `--config` values.
 *
 * @example Several report formats
 * ```ts
 * import { parseScanArgs } from "./args.ts";
 * import assert from "node:assert/strict";
 *
 * const args = parseScanArgs(["--in", "/drop", "--ip", "10.0.0.2", "--reports", "summary,xml"]);
 * assert.deepEqual(args.reports, ["summary", "xml"]);
 * assert.throws(() => parseScanArgs(["--ip", "10.0.0.2"]), /--in/);
 * ```
 */
export function parseScanArgs(argv: string[], mode: ArgsMode = "scan"): ScanArgs {
  const { cli, values, positionals } = readArgv(argv, mode);
  const args: ScanArgs = {
    ...readValues(SCAN_OPTIONS, values),
    noEmulation: values.emulation === false,
    apiKeyFrom: values["api-key"] === undefined
      ? undefined
      : cli["api-key"] !== undefined
      ? "command line"
      : "config",
    positionals,
  };
  if (args.help || args.version) return args;
  checkArgs(args, values, mode);
  return args;
}

/** The usage lines above the options. */
const HELP_USAGE = `te-scan: scan a folder with Check Point Threat Emulation and sort every file

Usage:
  te-scan [scan] --in DIR|FILE [--files-from LIST] (--ip HOST | --gateway HOST | --url BASE)
                 [--out DIR] [--jail DIR] [--error DIR] [options]
  te-scan demo                      scan a sample tree against a built-in emulator
  te-scan emulator [--port N]       run the appliance and gateway emulator
  te-scan trust HOST[:PORT]         show (and --save) an appliance's certificate and fingerprint
  te-scan query HASH... --ip HOST   look md5/sha1/sha256 hashes up without files
  te-scan quota --url BASE          show the API key's quota (cloud)
  te-scan doctor --ip HOST          check a target set-up step by step, EICAR round trip
                                    included (--no-eicar skips it); exit 0 or 3
  te-scan restore --rep DIR FILE... put quarantined or error-folder files back where they were
  te-scan emulator --print-ca       the emulator's CA certificate, for --ca-cert
  te-scan help | --help | --version`;

/** The option sections of `--help`, generated from {@linkcode SCAN_OPTIONS}. */
function optionsHelp(): string {
  return SECTIONS.map(({ id, title, outro }) =>
    [title, helpOf(SCAN_OPTIONS, id), ...(outro ? [outro] : [])].join("\n")
  ).join("\n\n");
}

/** Examples and exit codes, below the options. */
const HELP_END = `Examples:
  # Sort a drop folder with an appliance whose certificate was saved by 'te-scan trust':
  te-scan --in /srv/drop --ip 10.1.1.5 --ca-cert appliance.pem \\
          --out /srv/clean --jail /srv/quarantine --error /srv/unresolved
  # Clean Office documents through a Security Gateway, keeping the originals in place:
  te-scan --in /srv/share --gateway gw.example --api-key-file /etc/te-scan/gw.key --copy \\
          --extract clean --clean /srv/cleaned --out /srv/clean --jail /srv/quarantine
  # A watch-folder service over two appliances, settings in a file:
  te-scan --config /etc/te-scan/te-scan.json --watch --settle 10 --ip 10.1.1.5 --ip 10.1.1.6

Exit codes:
  0    every file benign (or nothing to do)
  1    at least one file malicious, every one quarantined (or reported: no --jail)
  2    some file unresolved and none malicious, or the run stopped with files left in place
       (no appliance left in rotation, reports folder full or unwritable, quota spent), or
       a cleaned copy --extract asked for could not be made
  3    usage or configuration error, nothing scanned: bad options, wrong target (refused,
       unreachable, not trusted, not the API, wrong key), another run holds the folders
  4    a malicious file could NOT be quarantined (its line and the closing table name it
       and where it is); wins over 1, 2 and 130
  70   internal error (a bug: --debug shows the stack; please report it)
  130  interrupted (Ctrl-C, SIGTERM): settled files stay settled, the rest stay in place
`;

/** The scan command's help text. */
export const SCAN_HELP = `${HELP_USAGE}\n\n${optionsHelp()}\n\n${HELP_END}`;
