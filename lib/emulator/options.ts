/**
 * The emulator's settings: what a caller may pass, the defaults, and the
 * checks that turn a bad value into one clear error before anything listens.
 *
 * @example The cloud spells verdicts in lower case
 * ```ts
 * import { resolveOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 * const options = resolveOptions({ mode: "cloud" });
 * assert.equal(options.verdictCase, "lower"); // the cloud spells verdicts in lower case
 * ```
 * @module
 */

import { DEFAULT_CERT_PEM, DEFAULT_KEY_PEM } from "./default_tls.ts";

/**
 * Everything `startEmulator` can be told; every field has a default.
 */
export interface EmulatorOptions {
  /** Address to listen on; default `127.0.0.1`. */
  host: string;
  /** Port; default 18194 (the appliance port); 0 picks a free one. */
  port: number;
  /** PEM certificate chain; default the built-in test leaf. */
  cert?: string;
  /** PEM private key of `cert`; default the built-in test key. */
  key?: string;
  /** `appliance` (port 18194 style) or `cloud` (te.checkpoint.com style); default appliance. */
  mode: "appliance" | "cloud";
  /** Milliseconds from upload to te FOUND; default 2000. */
  emulationMs: number;
  /** Milliseconds from upload to te_eb FOUND Malicious for malicious files; default 500. */
  earlyMs: number;
  /** Fraction (0..1) of API requests answered 500/503 or with a dropped connection; default 0. */
  failRate: number;
  /**
   * When set, TPAPI requires it as `api_key` in each request object (a
   * missing or wrong one is answered 1010 FORBIDDEN for that object); in
   * cloud mode the cloud format also requires `Authorization: <key>` or
   * `x-access-token: <key>`. In appliance mode the cloud format takes no key,
   * as on a real appliance or gateway.
   */
  apiKey?: string;
  /** Verdict spelling; default `upper` (`Malicious`) in appliance mode, `lower` in cloud mode. */
  verdictCase: "upper" | "lower";
  /** Seed of the fault-injection RNG, for repeatable runs; default random. */
  seed?: number;
  /** Cloud mode: uploads allowed before 1005 NO_QUOTA; default unlimited. */
  quota?: number;
  /** Content of summary report archives; default `normal`. */
  reportStyle?: "normal" | "hostile" | "tiny" | "invalid";
  /** te passes through PARTIALLY_FOUND (first image found, second pending) half way. */
  imagePartial?: boolean;
  /** te_eb of benign files once te is FOUND: `found` (default) or stays `pending`. */
  benignEarly?: "found" | "pending";
  /** Uploading an already emulated file answers FOUND at once; default true. */
  knownUploadAnswersFound?: boolean;
  /**
   * Largest file TPAPI Threat Extraction takes, in bytes: larger ones answer
   * scrub result 17 (larger than next hop size limit). It is also the most
   * the emulator keeps of an uploaded file to clean it. Default 16 MiB.
   */
  scrubMaxBytes?: number;
  /** Log one line per request; default false. */
  verbose?: boolean;
  /**
   * Where the emulator's own lines go: internal errors, and with `verbose`
   * one line per request. Default: nowhere (a failing request still gets
   * its 500 answer). `te-scan emulator` and the demo send them to stderr.
   */
  log?: (line: string) => void;
}

/**
 * Options with every default filled in and every value checked.
 *
 * @example The defaults
 * ```ts
 * import { type ResolvedOptions, resolveOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 * const o: ResolvedOptions = resolveOptions({});
 * assert.equal(o.port, 18194);
 * ```
 */
export interface ResolvedOptions {
  host: string;
  port: number;
  cert: string;
  key: string;
  mode: "appliance" | "cloud";
  emulationMs: number;
  earlyMs: number;
  failRate: number;
  apiKey: string | undefined;
  verdictCase: "upper" | "lower";
  seed: number;
  /** `undefined`: unlimited. */
  quota: number | undefined;
  reportStyle: "normal" | "hostile" | "tiny" | "invalid";
  imagePartial: boolean;
  benignEarly: "found" | "pending";
  knownUploadAnswersFound: boolean;
  scrubMaxBytes: number;
  verbose: boolean;
  log: (line: string) => void;
}

/**
 * The appliance's cloud-format port.
 *
 * @example The appliance port
 * ```ts
 * import { DEFAULT_PORT } from "./options.ts";
 * import assert from "node:assert/strict";
 * assert.equal(DEFAULT_PORT, 18194);
 * ```
 */
export const DEFAULT_PORT = 18194;

/**
 * Default of `scrubMaxBytes`: 16 MiB, about where gateway clients stop
 * asking for Threat Extraction (te_api forks skip it above 15 MB).
 *
 * @example The default Threat Extraction limit
 * ```ts
 * import { DEFAULT_SCRUB_MAX_BYTES } from "./options.ts";
 * import assert from "node:assert/strict";
 * assert.equal(DEFAULT_SCRUB_MAX_BYTES, 16777216);
 * ```
 */
export const DEFAULT_SCRUB_MAX_BYTES = 16 * 1024 * 1024;

function check(ok: boolean, message: string): void {
  if (!ok) throw new RangeError(`emulator: ${message}`);
}

function oneOf<T extends string>(value: T | undefined, allowed: readonly T[], name: string): void {
  if (value === undefined) return;
  check(allowed.includes(value), `${name} must be one of ${allowed.join(", ")}, got ${value}`);
}

/** The options without a default: quota, scrubMaxBytes and seed, checked when given. */
function checkOptionalCounts(options: Partial<EmulatorOptions>, mode: string): void {
  if (options.quota !== undefined) {
    check(
      Number.isInteger(options.quota) && options.quota >= 0,
      `quota must be an integer >= 0, got ${options.quota}`,
    );
    check(mode === "cloud", "quota applies to cloud mode only (appliances have no quota)");
  }
  if (options.scrubMaxBytes !== undefined) {
    check(
      Number.isSafeInteger(options.scrubMaxBytes) && options.scrubMaxBytes >= 0,
      `scrubMaxBytes must be an integer >= 0, got ${options.scrubMaxBytes}`,
    );
  }
  if (options.seed !== undefined) {
    check(Number.isInteger(options.seed), `seed must be an integer, got ${options.seed}`);
  }
}

/**
 * Fills in defaults and validates; throws a `RangeError` with a one-line
 * message naming the bad option.
 *
 * @example A seed kept, and a rate out of range refused
 * ```ts
 * import { resolveOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(resolveOptions({ failRate: 0.1, seed: 7 }).seed, 7);
 * assert.throws(
 *   () => resolveOptions({ failRate: 2 }),
 *   { message: "emulator: failRate must be between 0 and 1, got 2" },
 * );
 * ```
 */
export function resolveOptions(options: Partial<EmulatorOptions> = {}): ResolvedOptions {
  const mode = options.mode ?? "appliance";
  oneOf(mode, ["appliance", "cloud"], "mode");
  oneOf(options.verdictCase, ["upper", "lower"], "verdictCase");
  oneOf(options.reportStyle, ["normal", "hostile", "tiny", "invalid"], "reportStyle");
  oneOf(options.benignEarly, ["found", "pending"], "benignEarly");
  const port = options.port ?? DEFAULT_PORT;
  check(Number.isInteger(port) && port >= 0 && port <= 65535, `port must be 0..65535, got ${port}`);
  const emulationMs = options.emulationMs ?? 2000;
  const earlyMs = options.earlyMs ?? 500;
  for (const [name, ms] of [["emulationMs", emulationMs], ["earlyMs", earlyMs]] as const) {
    check(Number.isFinite(ms) && ms >= 0, `${name} must be a number >= 0, got ${ms}`);
  }
  const failRate = options.failRate ?? 0;
  check(
    Number.isFinite(failRate) && failRate >= 0 && failRate <= 1,
    `failRate must be between 0 and 1, got ${failRate}`,
  );
  checkOptionalCounts(options, mode);
  check((options.cert === undefined) === (options.key === undefined), "give both cert and key");
  if (options.apiKey !== undefined) check(options.apiKey !== "", "apiKey must not be empty");
  const host = options.host ?? "127.0.0.1";
  check(host !== "", "host must not be empty");
  return {
    host,
    port,
    cert: options.cert ?? DEFAULT_CERT_PEM,
    key: options.key ?? DEFAULT_KEY_PEM,
    mode,
    emulationMs,
    earlyMs,
    failRate,
    apiKey: options.apiKey,
    verdictCase: options.verdictCase ?? (mode === "cloud" ? "lower" : "upper"),
    // A fixed default would make every unseeded run fail the same requests,
    // which hides ordering bugs that a real flaky network would show.
    seed: options.seed ?? crypto.getRandomValues(new Uint32Array(1))[0],
    quota: options.quota,
    reportStyle: options.reportStyle ?? "normal",
    imagePartial: options.imagePartial ?? false,
    benignEarly: options.benignEarly ?? "found",
    knownUploadAnswersFound: options.knownUploadAnswersFound ?? true,
    scrubMaxBytes: options.scrubMaxBytes ?? DEFAULT_SCRUB_MAX_BYTES,
    verbose: options.verbose ?? false,
    log: options.log ?? (() => {}),
  };
}
