/**
 * `te-scan emulator`: runs the appliance emulator until SIGINT or SIGTERM.
 *
 * Once listening it prints exactly one line on stdout,
 * `te-scan emulator listening on https://127.0.0.1:PORT`, which scripts wait
 * for (with `--port 0` it names the port picked). Nothing else goes to
 * stdout; `--verbose` logs requests to stderr.
 *
 * @example
 * ```ts
 * import { emulatorCommand } from "./emulator.ts";
 * Deno.exit(await emulatorCommand(["--port", "0", "--emulation-ms", "100"]));
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import { type EmulatorOptions, startEmulator } from "../emulator/mod.ts";
import { processTerminal, type Terminal } from "./terminal.ts";

/** Exit code of a usage or configuration error (the project's convention). */
const USAGE_ERROR = 3;

const USAGE = `Usage: te-scan emulator [options]

A Check Point TE appliance (cloud-format API) and Security Gateway (TPAPI)
stand-in on one HTTPS port, for tests, benchmarks and rehearsals.

Options:
  --host HOST             address to listen on (default 127.0.0.1)
  --port N                port, 0 for a free one (default 18194)
  --cert FILE, --key FILE TLS certificate chain and key (PEM); default the
                          built-in test certificate (trust tests/fixtures/tls/ca.pem)
  --mode appliance|cloud  answer like an appliance or like the cloud (default appliance)
  --emulation-ms N        upload to te FOUND, in ms (default 2000)
  --early-ms N            upload to te_eb FOUND for malicious files (default 500)
  --fail-rate R           fraction 0..1 of API requests answered 500/503 or dropped
  --seed N                seed for --fail-rate, for repeatable runs
  --api-key KEY           require Authorization: KEY (cloud format) and api_key (TPAPI)
  --verdict-case upper|lower
                          Malicious/Benign or malicious/benign (default by mode)
  --quota N               cloud mode: uploads allowed before 1005 NO_QUOTA
  --report-style normal|hostile|tiny|invalid
                          content of summary report archives (default normal)
  --image-partial         te passes through PARTIALLY_FOUND half way
  --benign-early found|pending
                          te_eb of benign files once te is found (default found)
  --verbose               log one line per request to stderr
  --help                  show this help

Content with the EICAR test string or TE-EMULATOR-MALICIOUS is malicious;
TE-EMULATOR-UNSUPPORTED answers 1007. GET /__emulator/stats shows counters;
POST /__emulator/faults queues faults.
`;

/**
 * Where the command writes, and what stops it; tests pass their own.
 *
 * @example
 * ```ts
 * import type { CliIo } from "./emulator.ts";
 * const lines: string[] = [];
 * const io: CliIo = {
 *   out: (l) => lines.push(l),
 *   err: (l) => lines.push(l),
 *   stopped: Promise.resolve(),
 * };
 * ```
 */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** Resolves when the emulator should shut down. */
  stopped: Promise<void>;
}

class UsageError extends Error {}

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

async function readPem(flag: string, path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(`cannot read --${flag} ${path}: ${reason}`);
  }
}

async function parseOptions(args: string[]): Promise<Partial<EmulatorOptions> | "help"> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
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
        verbose: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    // node's messages run on with advice about `--`; the first sentence is the point.
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(message.split(/\.\s|\n/)[0]);
  }
  if (values.help) return "help";
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
 * @example
 * ```ts
 * import { runEmulatorCli } from "./emulator.ts";
 * const code = await runEmulatorCli(["--bogus"], {
 *   out: () => {},
 *   err: () => {},
 *   stopped: Promise.resolve(),
 * });
 * code; // 3
 * ```
 */
export async function runEmulatorCli(args: string[], io: CliIo): Promise<number> {
  let options;
  try {
    options = await parseOptions(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`te-scan emulator: ${error.message.replace(/\s+/g, " ")} (see --help)`);
    return USAGE_ERROR;
  }
  if (options === "help") {
    io.out(USAGE.trimEnd());
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
    return USAGE_ERROR;
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
 * @example
 * ```ts
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
