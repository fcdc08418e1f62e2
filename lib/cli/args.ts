/**
 * The `scan` command line: te-scan's option names, te_api's flags as
 * aliases (so existing cron lines run unchanged), `--config` files, and
 * validation into a typed {@linkcode ScanArgs}.
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

import { parseArgs } from "node:util";
import {
  type Feature,
  FEATURES,
  REPORT_FORMATS,
  type ReportFormat,
} from "../transport/cloud_types.ts";
import { parseSize } from "../fs/size.ts";
import { DEFAULT_REPORT_PORT, type ExtractOptions } from "../transport/gateway.ts";
import { SCRUBBED_PARTS } from "../transport/tpapi_types.ts";

import { UsageError } from "./exit.ts";
import { usageErrorOf } from "./suggest.ts";
export { UsageError };

/** The scan command's settings, validated. */
export interface ScanArgs {
  input?: string;
  /** `--files-from`: a file listing the paths to scan (`-` for standard input). */
  filesFrom?: string;
  /** `-0`: the list is separated by NUL bytes. */
  nulSeparated: boolean;
  /** `--watch`: keep scanning the input folder. */
  watch: boolean;
  /** `--settle`: how long a file must stand still before a watch takes it. */
  settleMs: number;
  /** `--metrics FILE`: Prometheus text-format counters, kept current while the run runs. */
  metrics?: string;
  /** `--prune-empty`: remove the folders under --in that moves leave empty. */
  pruneEmpty: boolean;
  reportsDir: string;
  benign?: string;
  quarantine?: string;
  error?: string;
  /** `--ip` values, `HOST[:PORT]`. */
  appliances: string[];
  url?: string;
  /** `--gateway` values, `HOST[:PORT]` (default port 443). */
  gateways: string[];
  /** The gateways' report port: their cloud-format download route (`--report-port`). */
  reportPort: number;
  /** Threat Extraction on the gateway (`--extract`, `--parts`). */
  extract?: ExtractOptions;
  /** Where cleaned copies go (`--clean`, required with `--extract`). */
  clean?: string;
  concurrency: number;
  pollIntervalMs: number;
  timeoutMs: number;
  reports: ReportFormat[];
  features: Feature[];
  images: string[];
  caCert?: string;
  pin?: string;
  insecure: boolean;
  apiKeyFile?: string;
  apiKey?: string;
  /** Where `--api-key` came from: on the command line it shows in the process list. */
  apiKeyFrom?: "command line" | "config";
  recursive: boolean;
  followSymlinks: boolean;
  include: string[];
  exclude: string[];
  maxSize?: number;
  copy: boolean;
  dryRun: boolean;
  json: boolean;
  quiet: boolean;
  batchSize: number;
  /** Tries per request for passing failures, the first included. */
  retries: number;
  /** Time without progress before a request is given up (and retried). */
  requestTimeoutMs: number;
  /** How long an appliance may keep failing before it leaves the rotation. */
  graceMs: number;
  help: boolean;
  version: boolean;
  /** Arguments after the options (hashes, for `te-scan query`). */
  positionals: string[];
}

/**
 * `scan` needs a folder; `lookup` (query, quota) takes only a connection and
 * arguments; `doctor` takes a connection of any kind.
 */
export type ArgsMode = "scan" | "lookup" | "doctor";

/** te_api's flags, single-dash long names and `--input_directory` forms. */
const ALIASES: Record<string, string> = {
  "-in": "--in",
  "--input_directory": "--in",
  "-rep": "--rep",
  "--reports_directory": "--rep",
  "-ip": "--ip",
  "--appliance_ip": "--ip",
  "-out": "--out",
  "--benign_directory": "--out",
  "-jail": "--jail",
  "--quarantine_directory": "--jail",
  "-error": "--error",
  "--error_directory": "--error",
};

const OPTIONS = {
  in: { type: "string" },
  rep: { type: "string" },
  out: { type: "string" },
  jail: { type: "string" },
  error: { type: "string" },
  ip: { type: "string", multiple: true },
  url: { type: "string" },
  gateway: { type: "string", multiple: true },
  "report-port": { type: "string" },
  extract: { type: "string" },
  clean: { type: "string" },
  parts: { type: "string" },
  concurrency: { type: "string", short: "n" },
  "poll-interval": { type: "string" },
  timeout: { type: "string" },
  reports: { type: "string" },
  features: { type: "string" },
  images: { type: "string" },
  "ca-cert": { type: "string" },
  pin: { type: "string" },
  insecure: { type: "boolean" },
  "api-key-file": { type: "string" },
  "api-key": { type: "string" },
  recursive: { type: "boolean" },
  "follow-symlinks": { type: "boolean" },
  include: { type: "string", multiple: true },
  exclude: { type: "string", multiple: true },
  "max-size": { type: "string" },
  copy: { type: "boolean" },
  "dry-run": { type: "boolean" },
  json: { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
  "batch-size": { type: "string" },
  retries: { type: "string" },
  "request-timeout": { type: "string" },
  grace: { type: "string" },
  config: { type: "string" },
  help: { type: "boolean", short: "h" },
  debug: { type: "boolean" },
  version: { type: "boolean", short: "V" },
  watch: { type: "boolean" },
  settle: { type: "string" },
  metrics: { type: "string" },
  "prune-empty": { type: "boolean" },
  "files-from": { type: "string" },
  null: { type: "boolean", short: "0" },
} as const;

type OptionName = keyof typeof OPTIONS;

/** Every option of the scan command, as `--help` must name it. */
export const SCAN_OPTION_NAMES: readonly string[] = Object.keys(OPTIONS);
type RawValues = Partial<Record<OptionName, string | boolean | string[]>>;

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
  const out: string[] = [];
  for (const [i, arg] of argv.entries()) {
    if (arg === "--") return [...out, ...argv.slice(i)];
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const target = ALIASES[name];
    out.push(target ? target + (eq > 0 ? arg.slice(eq) : "") : arg);
  }
  return out;
}

function parseSizeOption(text: string, option: string): number {
  try {
    return parseSize(text);
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(`${option}: ${error.message}`);
    throw error;
  }
}

function parseNumber(text: string, option: string, min: number, integer = false): number {
  const value = Number(text);
  if (
    !text.trim() || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))
  ) {
    const kind = integer ? "a whole number" : "a number";
    throw new UsageError(`${option}: expected ${kind} >= ${min}, got ${JSON.stringify(text)}`);
  }
  return value;
}

function parseList<T extends string>(text: string, option: string, allowed: readonly T[]): T[] {
  const items = text.split(",").map((s) => s.trim()).filter(Boolean);
  for (const item of items) {
    if (!allowed.includes(item as T)) {
      throw new UsageError(
        `${option}: unknown value ${JSON.stringify(item)} (one of: ${allowed.join(", ")})`,
      );
    }
  }
  return [...new Set(items)] as T[];
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

/**
 * The gateway's options and the one target kind a run asks: `--ip`,
 * `--gateway` or `--url`; Threat Extraction only on a gateway, and only
 * with a `--clean` folder.
 */
function checkTargets(args: ScanArgs, values: RawValues, mode: ArgsMode): void {
  const kinds = [args.appliances.length > 0, args.gateways.length > 0, args.url !== undefined];
  const given = kinds.filter(Boolean).length;
  if (!given) {
    throw new UsageError(
      "missing --ip HOST[:PORT], --gateway HOST[:PORT] or --url BASE (the target to ask)",
    );
  }
  if (given > 1) throw new UsageError("give one kind of target: --ip, --gateway or --url");
  if (mode === "lookup" && args.gateways.length) {
    throw new UsageError("--gateway: look hashes up on an appliance (--ip) or the cloud (--url)");
  }
  if (values["report-port"] !== undefined && !args.gateways.length) {
    throw new UsageError("--report-port applies to --gateway only");
  }
  if (values.parts !== undefined && !args.extract) {
    throw new UsageError("--parts needs --extract clean or --extract profile:NAME");
  }
  if (args.extract && !args.gateways.length) {
    throw new UsageError("--extract needs --gateway: Threat Extraction runs on a Security Gateway");
  }
  if (args.extract && !args.clean) {
    throw new UsageError("--extract needs --clean DIR (where the cleaned copies go)");
  }
  if (args.clean && !args.extract) {
    throw new UsageError("--clean needs --extract clean|pdf|profile:NAME");
  }
}

function readConfig(path: string): RawValues {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    throw new UsageError(
      `--config: cannot read ${path}: ${(error as Error).message.split("\n")[0]}`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new UsageError(`--config: ${path} is not valid JSON`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new UsageError(`--config: ${path} must hold a JSON object of option names`);
  }
  const values: RawValues = {};
  for (const [key, value] of Object.entries(data)) {
    const name = (ALIASES[`--${key}`]?.slice(2) ?? key) as OptionName;
    const spec = OPTIONS[name];
    if (!spec || name === "config") {
      throw new UsageError(`--config: unknown option ${JSON.stringify(key)} in ${path}`);
    }
    if (spec.type === "boolean" && typeof value !== "boolean") {
      throw new UsageError(`--config: ${key} must be true or false in ${path}`);
    }
    if (spec.type === "string") {
      const list = Array.isArray(value) ? value : [value];
      if (!list.every((v) => typeof v === "string" || typeof v === "number")) {
        throw new UsageError(`--config: ${key} must be a string in ${path}`);
      }
      const strings = list.map(String);
      values[name] = "multiple" in spec ? strings : strings.join(",");
      continue;
    }
    values[name] = value as boolean;
  }
  return values;
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
/** The command line's option values over the `--config` file's, and the positionals. */
function readValues(
  argv: string[],
  mode: ArgsMode,
): { cli: RawValues; values: RawValues; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({
      args: rewriteAliases(argv),
      options: OPTIONS,
      allowPositionals: true,
      allowNegative: true,
      strict: true,
    });
  } catch (error) {
    throw usageErrorOf(error, Object.keys(OPTIONS));
  }
  if (parsed.positionals.length && mode === "scan") {
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[0])}`);
  }
  const cli = parsed.values as RawValues;
  const values: RawValues = {
    ...(typeof cli.config === "string" ? readConfig(cli.config) : {}),
    ...cli,
  };
  return { cli, values, positionals: parsed.positionals };
}

/** The checks across options, once they are parsed one by one. */
function checkArgs(args: ScanArgs, values: RawValues, mode: ArgsMode): void {
  if (!args.input && !args.filesFrom && mode === "scan") {
    throw new UsageError("missing --in DIR (the folder to scan) or --files-from FILE");
  }
  if (args.input && args.filesFrom) {
    throw new UsageError("give --in DIR or --files-from FILE, not both");
  }
  if (args.watch && !args.input) {
    throw new UsageError("--watch needs --in DIR (the folder to watch)");
  }
  checkTargets(args, values, mode);
  if (args.reportPort > 65_535) throw new UsageError("--report-port: at most 65535");
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
  if (args.batchSize > 500) throw new UsageError("--batch-size: at most 500 items per query");
  if (args.retries > 20) throw new UsageError("--retries: at most 20");
}

export function parseScanArgs(argv: string[], mode: ArgsMode = "scan"): ScanArgs {
  const { cli, values, positionals } = readValues(argv, mode);
  const str = (name: OptionName) => values[name] as string | undefined;
  const list = (name: OptionName) => (values[name] as string[] | undefined) ?? [];
  const flag = (name: OptionName) => values[name] as boolean | undefined;

  const args: ScanArgs = {
    input: str("in"),
    filesFrom: str("files-from"),
    nulSeparated: flag("null") ?? false,
    watch: flag("watch") ?? false,
    settleMs: parseNumber(str("settle") ?? "5", "--settle", 0) * 1000,
    metrics: str("metrics"),
    pruneEmpty: flag("prune-empty") ?? false,
    reportsDir: str("rep") ?? "te-reports",
    benign: str("out"),
    quarantine: str("jail"),
    error: str("error"),
    appliances: list("ip"),
    url: str("url"),
    gateways: list("gateway"),
    reportPort: parseNumber(
      str("report-port") ?? String(DEFAULT_REPORT_PORT),
      "--report-port",
      1,
      true,
    ),
    extract: str("extract") === undefined ? undefined : parseExtract(str("extract")!, str("parts")),
    clean: str("clean"),
    concurrency: parseNumber(str("concurrency") ?? "4", "--concurrency", 1, true),
    pollIntervalMs: parseNumber(str("poll-interval") ?? "5", "--poll-interval", 0.01) * 1000,
    timeoutMs: parseNumber(str("timeout") ?? "900", "--timeout", 0.1) * 1000,
    reports: parseList(str("reports") ?? "summary", "--reports", REPORT_FORMATS),
    features: parseList(str("features") ?? "te,te_eb", "--features", FEATURES),
    images: (str("images") ?? "").split(",").map((s) => s.trim()).filter(Boolean),
    caCert: str("ca-cert"),
    pin: str("pin"),
    insecure: flag("insecure") ?? false,
    apiKeyFile: str("api-key-file"),
    apiKey: str("api-key"),
    apiKeyFrom: str("api-key") === undefined
      ? undefined
      : cli["api-key"] !== undefined
      ? "command line"
      : "config",
    recursive: flag("recursive") ?? true,
    followSymlinks: flag("follow-symlinks") ?? false,
    include: list("include"),
    exclude: list("exclude"),
    maxSize: str("max-size") === undefined
      ? undefined
      : parseSizeOption(str("max-size")!, "--max-size"),
    copy: flag("copy") ?? false,
    dryRun: flag("dry-run") ?? false,
    json: flag("json") ?? false,
    quiet: flag("quiet") ?? false,
    batchSize: parseNumber(str("batch-size") ?? "100", "--batch-size", 1, true),
    retries: parseNumber(str("retries") ?? "6", "--retries", 1, true),
    requestTimeoutMs: parseNumber(str("request-timeout") ?? "60", "--request-timeout", 0.1) * 1000,
    graceMs: parseNumber(str("grace") ?? "120", "--grace", 0) * 1000,
    help: flag("help") ?? false,
    version: flag("version") ?? false,
    positionals,
  };
  if (args.help || args.version) return args;
  checkArgs(args, values, mode);
  return args;
}

/** The scan command's help text. */
export const SCAN_HELP =
  `te-scan: scan a folder with Check Point Threat Emulation and sort every file

Usage:
  te-scan [scan] (--in DIR|FILE | --files-from LIST) (--ip HOST | --gateway HOST | --url BASE)
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
  te-scan help | --help | --version

Where files go:
  --in DIR              folder to scan (te_api: -in, --input_directory)
  --out DIR             benign files (te_api: -out, --benign_directory)
  --jail DIR            malicious files, quarantined (te_api: -jail, --quarantine_directory)
  --error DIR           files without a verdict, with the reason (te_api: -error)
  --rep DIR             responses, reports, te-scan.log.jsonl, summary.json
                        (default ./te-reports; te_api: -rep, --reports_directory)
  --copy                copy instead of move: the input stays untouched
  --dry-run             hash and ask the cache only: no upload, no move
  Without --out/--jail/--error files stay where they are (report-only mode).

Target (one kind per run): --ip for a TE appliance, --gateway for a Security Gateway (the
only target with Threat Extraction), --url for the Check Point cloud.
  --ip HOST[:PORT]      a TE appliance (SandBlast): its cloud-format API, default port 18194
                        (te_api: -ip; repeatable: files go to the least loaded). Threat
                        Emulation, te_eb early verdicts, AV.
  --gateway HOST[:PORT] a Security Gateway's Threat Prevention API (POST /UserCheck/TPAPI,
                        default port 443; repeatable, files go to the least loaded). The same,
                        plus Threat Extraction (--extract). Needs the gateway's API key.
  --url BASE            any cloud-format base URL, e.g. the Check Point cloud
                        https://te-api.checkpoint.com/tecloud/api/v1/file/ (with an API key)
  --report-port N       a gateway's cloud-format port, where TE reports are downloaded
                        without a key (default 18194)
  --ca-cert FILE        trust the target's certificate(s) in this PEM file
  --pin SHA256          trust exactly the certificate with this SHA-256 fingerprint
  --insecure            do not verify the certificate (not recommended)
  --api-key-file FILE   API key (the gateway's, from its TPAPI.ini; or the cloud's); never
                        echoed or logged. A --config file may hold "api-key" instead.
  --api-key KEY         API key on the command line (visible in the process list)

Threat Extraction (--gateway only):
  --extract METHOD      clean (remove active content), pdf (convert to PDF) or
                        profile:NAME (as the gateway's Threat Prevention profile NAME says).
                        Extraction happens on upload, so files the gateway already knows
                        are uploaded again for their cleaned copy (not known malicious ones).
  --parts CODES         parts to remove with clean or profile:NAME, e.g. 1026,1019
                        (default: the gateway guide's list of 13)
  --clean DIR           where cleaned copies go, at each file's relative folder, under the
                        gateway's name for them (or NAME.cleaned.EXT); required with --extract.
                        A malicious file's cleaned copy is not kept.

Emulation:
  -n, --concurrency N   files in emulation at once (default 4; te_api: -n)
  --features LIST       te,te_eb,av (default te,te_eb); an AV detection quarantines at once
  --reports LIST        summary,pdf,xml,tar (default summary)
  --images ID,...       emulation images (default: the appliance's)
  --poll-interval SEC   longest wait between two polls of a pending file (default 5); below
                        it, a file is first asked about when the files before it took their
                        verdict, and poll rounds (one request for all) come at most once a second
  --timeout SEC         per-file deadline for a final verdict (default 900)
  --batch-size N        hashes per query request (default 100, at most 500)
  --retries N           tries per request on network errors, HTTP 5xx, 1009/1011 (default 6,
                        with jittered back-off)
  --grace SEC           with several --ip, a failing appliance gets no files (they go to the
                        others) until a probe succeeds; failing this long, it leaves the run.
                        The last one up leaves after this long; with none left the run stops
                        and files not yet settled stay in place (default 120)
  --request-timeout SEC a request with no progress for this long fails and is retried (default 60)

Selection:
  --in DIR|FILE         a folder (walked recursively) or a single file
  --files-from FILE     the paths to scan, one per line (- reads standard input);
                        each keeps its path in the destinations
  -0, --null            the --files-from list is separated by NUL bytes
  --no-recursive        top folder only (default: recursive)
  --follow-symlinks     follow symbolic links (loops are detected)
  --include GLOB        only files matching (repeatable; *.docx, a/**/x)
  --exclude GLOB        skip files and folders matching (repeatable)
  --max-size SIZE       skip larger files, e.g. 100M (reported, never called clean)

Watching a folder:
  --watch               keep scanning --in as files arrive; SIGINT or SIGTERM stops it (exit
                        130). An appliance outage pauses it until an appliance answers again.
  --settle SEC          take a file once its size and times have not changed for SEC seconds
                        (default 5), so a file still being copied in is scanned once, whole
                        REP/index.html and summary.json are rewritten (whole) every few seconds
                        while files settle
  --metrics FILE        Prometheus text-format counters (files by state, bytes, uploads, queue
                        depth, target health), rewritten every few seconds, for node_exporter's
                        textfile collector (name it *.prom)
  --prune-empty         remove the folders under --in that moves leave empty (never --in)

Output:
  --json                one JSON object per event on stdout
  -q, --quiet           only malicious files, errors and the summary
  --debug               show the stack of an internal error
  --config FILE         JSON file of option names and values (flags win)
  --help, -h            this text;  --version, -V  the version

Examples:
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
  1    at least one file malicious
  2    some file unresolved and none malicious, or the run stopped with files left in place
       (no appliance left in rotation, reports folder full or unwritable, quota spent)
  3    usage or configuration error, nothing scanned: bad options, wrong target (refused,
       unreachable, not trusted, not the API, wrong key), another run holds the folders
  70   internal error (a bug: --debug shows the stack; please report it)
  130  interrupted (Ctrl-C, SIGTERM): settled files stay settled, the rest stay in place
`;
