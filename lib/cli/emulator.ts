/**
 * `te-scan emulator`: runs the appliance emulator until SIGINT or SIGTERM.
 *
 * Once listening it prints exactly one line on stdout,
 * `te-scan emulator listening on https://127.0.0.1:PORT`, which scripts wait
 * for (with `--port 0` it names the port picked). Nothing else goes to
 * stdout; `--verbose` logs requests to stderr.
 *
 * @example Run the emulator until Ctrl-C
 * ```ts ignore
 * import { emulatorCommand } from "./emulator.ts";
 * Deno.exit(await emulatorCommand(["--port", "0", "--emulation-ms", "100"]));
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import { DEFAULT_CA_PEM, type EmulatorOptions, startEmulator } from "../emulator/mod.ts";
import { processTerminal, type Terminal } from "./terminal.ts";
import { Exit, UsageError } from "./exit.ts";
import { usageErrorOf } from "./suggest.ts";

const USAGE = `Usage: te-scan emulator [options]

A Check Point TE appliance (cloud-format API) and Security Gateway (TPAPI)
stand-in on one HTTPS port, for tests, benchmarks and rehearsals.

Options:
  --host HOST             address to listen on (default 127.0.0.1)
  --port N                port, 0 for a free one (default 18194)
  --cert FILE, --key FILE TLS certificate chain and key (PEM); default the
                          built-in test certificate, signed by the built-in CA
                          (see --print-ca)
  --mode appliance|cloud  answer like an appliance or like the cloud (default appliance)
  --emulation-ms N        upload to te FOUND, in ms (default 2000)
  --early-ms N            upload to te_eb FOUND Malicious, in ms (default 500)
  --fail-rate R           fraction 0..1 of API requests answered 500/503 or dropped
  --seed N                seed for --fail-rate, for repeatable runs
  --api-key KEY           the TPAPI key: each request object's api_key must be
                          KEY; in cloud mode Authorization: KEY too (appliance
                          mode: the cloud format takes no key, as on 18194)
  --verdict-case upper|lower
                          Malicious/Benign or malicious/benign (default by mode)
  --quota N               cloud mode: uploads allowed before 1005 NO_QUOTA
  --report-style normal|hostile|tiny|invalid
                          content of summary report archives (default normal)
  --image-partial         te passes through PARTIALLY_FOUND half way
  --benign-early found|pending
                          te_eb of benign files once te is found (default found)
  --known-upload found|uploaded
                          re-uploading an emulated file answers FOUND at once
                          (default) or UPLOAD_SUCCESS, on both transports
  --scrub-max-bytes N     largest file TPAPI Threat Extraction takes; larger ones
                          answer scrub result 17 (default 16777216)
  --verbose               log one line per request to stderr
  --print-ca              print the built-in CA certificate (PEM) on stdout and
                          exit: te-scan emulator --print-ca > te-emulator-ca.pem,
                          then scan with --ca-cert te-emulator-ca.pem
  --help                  show this help

Content markers (ASCII text anywhere in a file; build them at run time):
  EICAR (the anti-virus test string)
      te Malicious; te_eb Malicious after --early-ms; av FOUND with
      signature "EICAR-Test-File"; scrub as for any other file
  TE-EMULATOR-MALICIOUS
      te Malicious; te_eb Malicious after --early-ms; av FOUND clean (no
      signature: a zero-day only emulation sees); scrub as for any other file
  TE-EMULATOR-EARLY-MALICIOUS
      te_eb Malicious after --early-ms, then te Benign after --emulation-ms
      (the final verdict wins); av FOUND clean; scrub as for any other file
  TE-EMULATOR-UNSUPPORTED
      te, te_eb and av 1007 FILE_TYPE_NOT_SUPPORTED; scrub 3 Unsupported
  TE-EMULATOR-EMULATION-ERROR
      the emulation fails: te FOUND with verdict Error (and the reason in
      te.status.message) to a client that sends te.return_errors, te Benign
      to one that does not; te_eb, av and scrub as for any other file
  TE-EMULATOR-ACTIVE-CONTENT
      te, te_eb and av as for any other file; scrub method 1 or 0: 0 OK with
      a cleaned copy in which the marker is replaced (<name>.cleaned.<ext>)
  TE-EMULATOR-ENCRYPTED
      te, te_eb and av as for any other file; scrub 7 Password protected
  any other file
      te Benign; te_eb Benign once te is found (see --benign-early); av FOUND
      clean; scrub method 1 or 0: 4 Skipped, method 2: 0 OK with a small PDF
  Unknown hashes answer NOT_FOUND on every feature. A file over
  --scrub-max-bytes answers scrub 17 whatever it holds.

TPAPI (POST /UserCheck/TPAPI): one object or a batch, answered in order, each
{protocol_version, src_ip, te: <cloud-format answer>, scrub}. A missing or
wrong api_key is answered for that object, with HTTP 200, te.status (and
te.te.status) 1010 FORBIDDEN and a message naming api_key; no key is echoed.
A malformed object is answered 1008 BAD_REQUEST naming the field.

Control routes:
  GET  /__emulator/stats   the counters below, as JSON
  POST /__emulator/faults  {"faults":[{"kind":K,"path":P,"times":N}]} queues
                           faults; K: http500, http503, html, reset, garbage,
                           truncate (the real answer cut in half), delay
                           ("delayMs"), code ("code": any status for every
                           object), scrub ("code": any scrub result, 17 or 99);
                           P: query, upload, download, tpapi or any (default)
  POST /__emulator/clock   {"advance_ms":N}: every sample N ms further on

Counters:
  http_requests           every request but the stats route itself
  queries, query_items    cloud-format query requests, and objects in them
  uploads, upload_bytes   cloud-format uploads with a file part, and file bytes
  downloads               downloads answered 200
  quota_requests          …/quota requests
  tpapi_requests          TPAPI requests whose body was read
  tpapi_items             request objects in them, served or refused
  tpapi_queries           TPAPI requests with at least one served QueryFile
  tpapi_query_items       served QueryFile objects
  tpapi_uploads           served UploadFile objects
  tpapi_upload_bytes      their decoded file bytes (not base64, not JSON)
  scrubs                  Threat Extraction answers, forced codes included
  tpapi_av_uploads        served UploadFile objects whose te_options asked for av
  bad_requests            requests answered 400/413, objects answered 1008
  auth_failures           cloud-format requests answered 403, objects answered 1010
  faults_injected         faults applied, queued or from --fail-rate
`;

/**
 * Where the command writes, and what stops it; tests pass their own.
 *
 * @example Collect what the emulator says, and stop it at once
 * ```ts
 * import { type CliIo, runEmulatorCli } from "./emulator.ts";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const io: CliIo = {
 *   out: (l) => lines.push(l),
 *   err: (l) => lines.push(l),
 *   stopped: Promise.resolve(),
 * };
 * assert.equal(await runEmulatorCli(["--port", "0"], io), 0);
 * assert.match(lines[0], /^te-scan emulator listening on https:\/\/127\.0\.0\.1:\d+$/);
 * ```
 */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** Resolves when the emulator should shut down. */
  stopped: Promise<void>;
}

function integer(flag: string, text: string | undefined, min: number, max: number) {
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`--${flag} must be an integer from ${min} to ${max}, got "${text}"`);
  }
  return Number(text);
}

function choice<T extends string>(flag: string, text: string | undefined, allowed: readonly T[]) {
  if (text === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(text)) {
    throw new UsageError(`--${flag} must be ${allowed.join(" or ")}, got "${text}"`);
  }
  return text as T;
}

function yesIf(flag: string, text: string | undefined, yes: string, no: string) {
  const picked = choice(flag, text, [yes, no]);
  return picked === undefined ? undefined : picked === yes;
}

async function readPem(flag: string, path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(`cannot read --${flag} ${path}: ${reason}`);
  }
}

const OPTIONS = {
  host: { type: "string" },
  port: { type: "string" },
  cert: { type: "string" },
  key: { type: "string" },
  mode: { type: "string" },
  "emulation-ms": { type: "string" },
  "early-ms": { type: "string" },
  "fail-rate": { type: "string" },
  "api-key": { type: "string" },
  "verdict-case": { type: "string" },
  seed: { type: "string" },
  quota: { type: "string" },
  "report-style": { type: "string" },
  "image-partial": { type: "boolean" },
  "benign-early": { type: "string" },
  "scrub-max-bytes": { type: "string" },
  "known-upload": { type: "string" },
  verbose: { type: "boolean" },
  "print-ca": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

async function parseOptions(
  args: string[],
): Promise<Partial<EmulatorOptions> | "help" | "print-ca"> {
  let values;
  try {
    ({ values } = parseArgs({ args, strict: true, allowPositionals: false, options: OPTIONS }));
  } catch (error) {
    throw usageErrorOf(error, Object.keys(OPTIONS));
  }
  if (values.help) return "help";
  if (values["print-ca"]) return "print-ca";
  const day = 24 * 3600 * 1000;
  const options: Partial<EmulatorOptions> = {
    host: values.host,
    port: integer("port", values.port, 0, 65535),
    mode: choice("mode", values.mode, ["appliance", "cloud"]),
    emulationMs: integer("emulation-ms", values["emulation-ms"], 0, day),
    earlyMs: integer("early-ms", values["early-ms"], 0, day),
    apiKey: values["api-key"],
    verdictCase: choice("verdict-case", values["verdict-case"], ["upper", "lower"]),
    seed: integer("seed", values.seed, -(2 ** 31), 2 ** 32 - 1),
    quota: integer("quota", values.quota, 0, Number.MAX_SAFE_INTEGER),
    reportStyle: choice("report-style", values["report-style"], [
      "normal",
      "hostile",
      "tiny",
      "invalid",
    ]),
    imagePartial: values["image-partial"],
    benignEarly: choice("benign-early", values["benign-early"], ["found", "pending"]),
    knownUploadAnswersFound: yesIf("known-upload", values["known-upload"], "found", "uploaded"),
    scrubMaxBytes: integer(
      "scrub-max-bytes",
      values["scrub-max-bytes"],
      0,
      Number.MAX_SAFE_INTEGER,
    ),
    verbose: values.verbose,
  };
  const rate = values["fail-rate"];
  if (rate !== undefined) {
    if (!/^(\d+\.?\d*|\.\d+)$/.test(rate) || Number(rate) > 1) {
      throw new UsageError(`--fail-rate must be a number from 0 to 1, got "${rate}"`);
    }
    options.failRate = Number(rate);
  }
  if ((values.cert === undefined) !== (values.key === undefined)) {
    throw new UsageError("--cert and --key go together");
  }
  if (values.cert !== undefined && values.key !== undefined) {
    options.cert = await readPem("cert", values.cert);
    options.key = await readPem("key", values.key);
  }
  if (options.apiKey === "") throw new UsageError("--api-key must not be empty");
  // Unset flags stay absent so the emulator's defaults (some mode-dependent) apply.
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}

/**
 * The command with its output and stop condition supplied: parses flags,
 * starts the emulator, prints the listening line, waits for `io.stopped`,
 * shuts down gracefully. Returns the exit code.
 *
 * @example An unknown option is a usage error
 * ```ts
 * import { runEmulatorCli } from "./emulator.ts";
 * import assert from "node:assert/strict";
 * const code = await runEmulatorCli(["--bogus"], {
 *   out: () => {},
 *   err: () => {},
 *   stopped: Promise.resolve(),
 * });
 * assert.equal(code, 3);
 * ```
 */
export async function runEmulatorCli(args: string[], io: CliIo): Promise<number> {
  let options;
  try {
    options = await parseOptions(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`te-scan emulator: ${error.message.replace(/\s+/g, " ")} (see --help)`);
    return Exit.USAGE;
  }
  if (options === "help") {
    io.out(USAGE.trimEnd());
    return 0;
  }
  // The CA the built-in certificate is signed by: the installed command, bundle and kit
  // carry no checkout, so this is how an operator gets the file for --ca-cert.
  if (options === "print-ca") {
    io.out(DEFAULT_CA_PEM.trimEnd());
    return 0;
  }
  let emulator;
  try {
    emulator = await startEmulator({ ...options, log: (line) => io.err(line) });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    io.err(
      `te-scan emulator: cannot start: ${reason.replace(/^emulator: /, "").replace(/\s+/g, " ")}`,
    );
    return Exit.USAGE;
  }
  io.out(`te-scan emulator listening on ${emulator.url}`);
  await io.stopped;
  await emulator.close();
  return 0;
}

/**
 * `te-scan emulator ARGS…`: serves until SIGINT or SIGTERM, then exits 0
 * after a graceful shutdown; usage and configuration errors exit 3 with one
 * line on stderr.
 *
 * @example A cloud-style emulator on a free port, until Ctrl-C
 * ```ts ignore
 * import { emulatorCommand } from "./emulator.ts";
 * const code = await emulatorCommand(["--mode", "cloud", "--port", "0"]);
 * ```
 */
export async function emulatorCommand(
  args: string[],
  terminal: Terminal = processTerminal(),
): Promise<number> {
  const signals = ["SIGINT", "SIGTERM"] as const;
  let onSignal = () => {};
  const stopped = new Promise<void>((resolve) => onSignal = resolve);
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  try {
    return await runEmulatorCli(args, {
      out: (line) => terminal.out(line),
      err: (line) => terminal.err(line),
      stopped,
    });
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
  }
}
