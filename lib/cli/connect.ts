/**
 * From command-line settings to verified connections: the API base URL of
 * each `--ip HOST[:PORT]` or the `--url`, the trust mode (`--ca-cert`,
 * `--pin`, `--insecure`, or the system roots), the API key, the clients,
 * and the preflight that proves each target right before a run starts.
 *
 * @module
 */

import { CloudClient, DEFAULT_API_PATH, HttpStatusError } from "../transport/cloud_client.ts";
import { resolve } from "node:path";
import { type AskOptions, CloudTransport } from "../transport/cloud.ts";
import {
  DEFAULT_REPORT_PORT,
  type ExtractOptions,
  GatewayTransport,
  TPAPI_PATH,
} from "../transport/gateway.ts";
import {
  describeTargetFailure,
  PREFLIGHT_ANSWER_MS,
  SilentTargetError,
  type TargetContext,
  TargetError,
} from "../transport/diagnose.ts";
import type { Transport } from "../transport/transport.ts";
import type { ExtractionRequest } from "../transport/protocol.ts";
import { HttpClient, NetworkError, type Trust } from "../transport/http.ts";
import { Rotation } from "../transport/rotation.ts";
import { QuotaError } from "../transport/fatal.ts";
import { DEFAULT_RETRY } from "../transport/retry.ts";
import { sleep } from "../util/sleep.ts";
import { type AskArgs, type ConnectionArgs, targetKind, UsageError } from "./args.ts";
import type { Reporter } from "./console.ts";
import { reasonOf } from "../util/reason.ts";

// The settings a connection and its questions are made from: parts of the options table.
export type { AskArgs, ConnectionArgs } from "./args.ts";

/** A client ready to use; close it when done. */
export interface Connection {
  client: CloudClient;
  /** What the target is, for the preflight and error messages. */
  context: TargetContext;
  /** `https://host:port`, for messages and logs. */
  origin: string;
  /** Whether the target is the cloud (`--url`) rather than an appliance. */
  cloud: boolean;
  /** The API key (a gateway sends it in each request object). */
  apiKey?: string;
}

/** The default appliance port of the cloud-format API. */
export const DEFAULT_PORT = 18194;

/** The default port of a gateway's TPAPI (the UserCheck portal's HTTPS). */
export const GATEWAY_PORT = 443;

/**
 * Splits `HOST[:PORT]` (IPv6 in brackets) with the appliance default port.
 * A URL with no path (`https://10.1.1.5:18194/`) is taken as its host and
 * port; one with a path belongs in `--url`.
 *
 * @example Host and port in the forms a user types
 * ```ts
 * import { splitHostPort } from "./connect.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(splitHostPort("10.1.1.5"), { host: "10.1.1.5", port: 18194 });
 * assert.deepEqual(splitHostPort("[::1]:443"), { host: "::1", port: 443 });
 * assert.deepEqual(splitHostPort("https://gw.example:8443/"), { host: "gw.example", port: 8443 });
 * assert.throws(() => splitHostPort("https://gw/tecloud/api/v1/file/"), /use --url/);
 * ```
 */
export function splitHostPort(
  text: string,
  option = "--ip",
  defaultPort = DEFAULT_PORT,
): { host: string; port: number } {
  const trimmed = text.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) return fromUrl(trimmed, option, defaultPort);
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(trimmed);
  if (bracketed) return { host: bracketed[1], port: Number(bracketed[2] ?? defaultPort) };
  const plain = /^([^:/\s]+)(?::(\d+))?$/.exec(trimmed);
  if (plain) return { host: plain[1], port: Number(plain[2] ?? defaultPort) };
  throw new UsageError(`${option}: not a host or host:port: ${JSON.stringify(text)}`);
}

function fromUrl(text: string, option: string, defaultPort: number) {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${option}: not a host or host:port: ${JSON.stringify(text)}`);
  }
  if (url.pathname !== "/" || url.search || url.protocol !== "https:") {
    throw new UsageError(
      `${option} takes HOST[:PORT]: drop the scheme, or use --url for a full API URL ` +
        `(got ${JSON.stringify(text)})`,
    );
  }
  return { host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port || defaultPort) };
}

/**
 * The API base URL for `--ip HOST[:PORT]` (IPv6 in brackets).
 *
 * @example The API base of an appliance
 * ```ts
 * import { applianceUrl } from "./connect.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(applianceUrl("10.1.1.5"), "https://10.1.1.5:18194/tecloud/api/v1/file/");
 * assert.equal(applianceUrl("[::1]:8443"), "https://[::1]:8443/tecloud/api/v1/file/");
 * ```
 */
export function applianceUrl(hostPort: string): string {
  const { host, port } = splitHostPort(hostPort);
  return new URL(`https://${host.includes(":") ? `[${host}]` : host}:${port}${DEFAULT_API_PATH}`)
    .href;
}

async function readSecretFile(path: string, what: string): Promise<string> {
  try {
    const text = (await Deno.readTextFile(path)).split(/\r?\n/)[0].trim();
    if (!text) throw new UsageError(`${what} ${path} is empty`);
    return text;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot read ${what} ${path}: ${reasonOf(error)}`);
  }
}

async function trustFrom(args: ConnectionArgs): Promise<Trust> {
  if (args.insecure) return { kind: "insecure" };
  if (args.pin) {
    const hex = args.pin.replace(/[^0-9a-f]/gi, "");
    if (hex.length !== 64) {
      throw new UsageError(
        `--pin: expected a SHA-256 fingerprint (64 hex digits), got ${args.pin}`,
      );
    }
    return { kind: "pin", sha256: hex };
  }
  if (args.caCert) {
    let pem: string;
    try {
      pem = await Deno.readTextFile(args.caCert);
    } catch (error) {
      throw new UsageError(`--ca-cert: cannot read ${args.caCert}: ${reasonOf(error)}`);
    }
    if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
      throw new UsageError(`--ca-cert: ${args.caCert} holds no PEM certificate`);
    }
    return { kind: "ca", caPem: [pem] };
  }
  return { kind: "system" };
}

/** The API key of the settings, read once; never echoed. */
async function apiKeyOf(args: ConnectionArgs, reporter: Reporter): Promise<string | undefined> {
  if (args.apiKeyFile) return await readSecretFile(args.apiKeyFile, "--api-key-file");
  if (args.apiKey && args.apiKeyFrom !== "config") {
    reporter.warn("--api-key shows in the process list; prefer --api-key-file");
  }
  return args.apiKey;
}

/** The base URLs the settings name: one per --ip or --gateway, or the --url. */
function baseUrlsOf(args: ConnectionArgs): { url: URL; kind: TargetContext["kind"] }[] {
  const kind = targetKind(args);
  if (kind === "gateway") {
    return args.gateways.map((value) => {
      const { host, port } = splitHostPort(value, "--gateway", GATEWAY_PORT);
      const name = host.includes(":") ? `[${host}]` : host;
      return { url: new URL(`https://${name}:${port}${TPAPI_PATH}`), kind };
    });
  }
  if (kind === "appliance") {
    return args.appliances.map((ip) => ({ url: new URL(applianceUrl(ip)), kind }));
  }
  let url: URL;
  try {
    url = new URL(args.url!);
  } catch {
    throw new UsageError(`--url: not a URL: ${args.url}`);
  }
  if (url.protocol !== "https:") throw new UsageError(`--url must be https: ${args.url}`);
  return [{ url, kind: "cloud" }];
}

/**
 * Builds the clients for the targets the settings name (one per `--ip`, or
 * the `--url`), each with what the preflight and error messages need to
 * know about it.
 *
 * @example Two appliances, trusted by one CA file
 * ```ts
 * import { connect } from "./connect.ts";
 * import { parseScanArgs } from "./args.ts";
 * import { Reporter } from "./console.ts";
 * import { DEFAULT_CA_PEM } from "../emulator/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const caCert = await Deno.makeTempFile({ suffix: ".pem" });
 * await Deno.writeTextFile(caCert, DEFAULT_CA_PEM);
 * const args = parseScanArgs(["--ip", "10.1.1.5", "--ip", "10.1.1.6", "--ca-cert", caCert], "doctor");
 * const targets = await connect(args, new Reporter({ json: false, quiet: false }));
 * assert.deepEqual(targets.map((t) => t.origin), [
 *   "https://10.1.1.5:18194",
 *   "https://10.1.1.6:18194",
 * ]);
 * for (const { client } of targets) client.close();
 * await Deno.remove(caCert);
 * ```
 */
export async function connect(
  args: ConnectionArgs,
  reporter: Reporter,
  signal?: AbortSignal,
  mayRetry?: RetryGate,
): Promise<Connection[]> {
  const bases = baseUrlsOf(args);
  const trust = await trustFrom(args);
  const apiKey = await apiKeyOf(args, reporter);
  return bases.map(({ url, kind }) => {
    // A gateway takes its key in each request object, not as a header.
    const client = clientAt(url, trust, args, reporter, {
      apiKey: kind === "gateway" ? undefined : apiKey,
      signal,
      mayRetry: mayRetry && ((error) => mayRetry(url.origin, error)),
    });
    const context: TargetContext = {
      // URL drops a scheme's default port; messages name it all the same.
      label: `${url.hostname}:${url.port || 443}`,
      host: url.hostname.replace(/^\[|\]$/g, ""),
      port: Number(url.port || 443),
      url: url.href,
      kind,
      trust: trust.kind,
      caCert: args.caCert,
      proxy: args.proxy,
    };
    return { client, origin: url.origin, cloud: kind === "cloud", context, apiKey };
  });
}

/** Whether a target's client may retry a passing failure, by the target's origin. */
export type RetryGate = (origin: string, error: unknown) => boolean;

/** A client of the API under `base` (origin and path), as every target gets one. */
function clientAt(
  base: URL,
  trust: Trust,
  args: ConnectionArgs,
  reporter: Reporter,
  options: { apiKey?: string; signal?: AbortSignal; mayRetry?: (error: unknown) => boolean },
): CloudClient {
  const http = new HttpClient(base.origin, {
    trust,
    maxSockets: args.concurrency + 2,
    timeoutMs: args.requestTimeoutMs,
    proxy: args.proxy,
  });
  return new CloudClient(http, {
    apiKey: options.apiKey,
    apiPath: base.pathname,
    retry: {
      ...DEFAULT_RETRY,
      attempts: args.retries ?? DEFAULT_RETRY.attempts,
      budgetMs: args.graceMs,
    },
    signal: options.signal,
    mayRetry: options.mayRetry,
    onRetry: (what, error, attempt, delay) =>
      reporter.warn(`${what} failed (${reasonOf(error)}); try ${attempt + 1} in ${delay} ms`),
  });
}

/** What every file is asked for, on any target. */
function askOf(args: AskArgs): Omit<AskOptions, "md5"> {
  return {
    features: args.features,
    reports: args.reports,
    images: args.images.map((id) => ({ id, revision: 1 })),
    batchSize: args.batchSize,
    benignReports: args.benignReports,
  };
}

/** The cloud's `extraction` request section for `--extract clean|pdf` (with `--parts`). */
function cloudExtraction(extract: ExtractOptions | undefined): ExtractionRequest | undefined {
  if (!extract) return undefined;
  if (extract.method === 2) return { method: "pdf" };
  const clean: ExtractionRequest = { method: "clean" };
  if (extract.parts) clean.extracted_parts_codes = [...extract.parts];
  return clean;
}

/**
 * The transport for one connection: the cloud format, or a gateway's TPAPI
 * (`te-scan query` asks a gateway through it).
 *
 * @example A gateway's transport, with the key from the settings
 * ```ts
 * import { connect, transportOf } from "./connect.ts";
 * import { parseScanArgs } from "./args.ts";
 * import { Reporter } from "./console.ts";
 * import { DEFAULT_CA_PEM, startEmulator } from "../emulator/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const emulator = await startEmulator({ port: 0, apiKey: "s3cret" });
 * const caCert = await Deno.makeTempFile({ suffix: ".pem" });
 * await Deno.writeTextFile(caCert, DEFAULT_CA_PEM);
 * const keyFile = await Deno.makeTempFile();
 * await Deno.writeTextFile(keyFile, "s3cret\n");
 * const gateway = `127.0.0.1:${emulator.port}`;
 * const argv = ["--gateway", gateway, "--ca-cert", caCert, "--api-key-file", keyFile];
 * const args = parseScanArgs(argv, "lookup");
 * const reporter = new Reporter({ json: false, quiet: false });
 * const [connection] = await connect(args, reporter);
 * const target = await transportOf(connection, args, reporter);
 * const [answer] = await target.query([{ sha1: "1".repeat(40) }]);
 * assert.equal(answer.item?.status.label, "NOT_FOUND");
 * target.close();
 * await emulator.close();
 * await Deno.remove(caCert);
 * await Deno.remove(keyFile);
 * ```
 */
export async function transportOf(
  connection: Connection,
  args: ConnectionArgs & AskArgs,
  reporter: Reporter,
  signal?: AbortSignal,
  mayRetry?: RetryGate,
): Promise<Transport> {
  const { client, cloud, context } = connection;
  if (context.kind !== "gateway") {
    // AV looks files up by md5 only, and the cloud answers FOUND for md5 lookups.
    return new CloudTransport(client, {
      ...askOf(args),
      md5: args.features.includes("av") || cloud,
      extraction: cloudExtraction(args.extract),
    });
  }
  // Reports: the same host's cloud-format download route, on the report port, with no key.
  const reports = new URL(DEFAULT_API_PATH, connection.origin);
  reports.port = String(args.reportPort ?? DEFAULT_REPORT_PORT);
  const trust = await trustFrom(args);
  const reportsClient = clientAt(reports, trust, args, reporter, {
    signal,
    mayRetry: mayRetry && ((error) => mayRetry(connection.origin, error)),
  });
  return new GatewayTransport(client, reportsClient, {
    ...askOf(args),
    apiKey: connection.apiKey ?? "",
    extract: args.extract,
    noEmulation: args.noEmulation,
    cleanedDir: args.clean === undefined ? undefined : resolve(args.clean),
  });
}

/** A run's targets: the rotation, and what each target is, for messages. */
export interface Targets {
  rotation: Rotation;
  contexts: Map<Transport, TargetContext>;
  /** The targets' origins, for the log. */
  origin: string;
}

/**
 * Builds the rotation of targets the settings name, each a cloud-format
 * transport asking for the run's features and reports.
 *
 * @example Connect a scan to the appliances of its settings
 * ```ts
 * import { connectRotation } from "./connect.ts";
 * import { parseScanArgs } from "./args.ts";
 * import { Reporter } from "./console.ts";
 * import { DEFAULT_CA_PEM } from "../emulator/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const caCert = await Deno.makeTempFile({ suffix: ".pem" });
 * await Deno.writeTextFile(caCert, DEFAULT_CA_PEM);
 * const args = parseScanArgs(["--in", "/drop", "--ip", "10.1.1.5", "--ca-cert", caCert]);
 * const { rotation, origin } = await connectRotation(
 *   args,
 *   new Reporter({ json: false, quiet: false }),
 * );
 * assert.equal(origin, "https://10.1.1.5:18194");
 * rotation.close();
 * await Deno.remove(caCert);
 * ```
 */
export async function connectRotation(
  args: ConnectionArgs & AskArgs,
  reporter: Reporter,
  signal?: AbortSignal,
): Promise<Targets> {
  // In a fleet, a failing target's request is not retried while another target is up.
  const byOrigin = new Map<string, Transport>();
  const mayRetry: RetryGate = (origin, error) => {
    const target = byOrigin.get(origin);
    return !target || rotation.mayRetry(target, error);
  };
  const connections = await connect(args, reporter, signal, mayRetry);
  const contexts = new Map<Transport, TargetContext>();
  for (const connection of connections) {
    const target = await transportOf(connection, args, reporter, signal, mayRetry);
    byOrigin.set(connection.origin, target);
    contexts.set(target, connection.context);
  }
  const rotation: Rotation = new Rotation([...contexts.keys()], {
    graceMs: args.graceMs,
    // A watch service waits for an appliance to come back instead of stopping.
    patient: args.watch ?? false,
    signal,
    onWarning: (message) => reporter.warn(message),
  });
  return { rotation, contexts, origin: connections.map((c) => c.origin).join(", ") };
}

/** Passing failures of the preflight (HTTP 5xx, resets) get this many quick tries. */
const PREFLIGHT_TRIES = 3;

/**
 * One target's preflight, within {@linkcode PREFLIGHT_ANSWER_MS}: a target
 * that accepts connections and never answers fails it in seconds, not after
 * the minute a scan's request may wait. `te-scan doctor` asks it too.
 *
 * @example An emulated appliance passes
 * ```ts
 * import { connectRotation, preflightOne } from "./connect.ts";
 * import { parseScanArgs } from "./args.ts";
 * import { Reporter } from "./console.ts";
 * import { DEFAULT_CA_PEM, startEmulator } from "../emulator/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const emulator = await startEmulator({ port: 0 });
 * const caCert = await Deno.makeTempFile({ suffix: ".pem" });
 * await Deno.writeTextFile(caCert, DEFAULT_CA_PEM);
 * const args = parseScanArgs(["--ip", `127.0.0.1:${emulator.port}`, "--ca-cert", caCert], "doctor");
 * const { rotation } = await connectRotation(args, new Reporter({ json: false, quiet: false }));
 * await preflightOne(rotation.all[0]);
 * assert.equal(emulator.stats().queries, 1);
 * rotation.close();
 * await emulator.close();
 * await Deno.remove(caCert);
 * ```
 */
export async function preflightOne(target: Transport): Promise<void> {
  const deadline = AbortSignal.timeout(PREFLIGHT_ANSWER_MS);
  for (let attempt = 1;; attempt++) {
    try {
      return await target.preflight(deadline);
    } catch (error) {
      if (deadline.aborted) throw new SilentTargetError();
      const passing = error instanceof HttpStatusError && error.transient;
      if (!passing || attempt >= PREFLIGHT_TRIES) throw error;
      await sleep(300 * attempt);
    }
  }
}

/**
 * Proves every target reachable, trusted, speaking the API and accepting
 * the key, before anything is hashed or moved. A target that is down while
 * others answer leaves the rotation with a warning; any other failure, or
 * none left, is a {@linkcode TargetError} whose one line says what to do.
 */
export async function preflight(
  targets: Targets,
  reporter: Reporter,
  options: { dryRun?: boolean } = {},
): Promise<void> {
  const failures: { target: Transport; error: unknown }[] = [];
  await Promise.all(targets.rotation.all.map(async (target) => {
    try {
      await preflightOne(target);
    } catch (error) {
      failures.push({ target, error });
    }
  }));
  for (const { target, error } of failures) {
    const line = await describeTargetFailure(error, targets.contexts.get(target)!);
    if (error instanceof QuotaError && options.dryRun) {
      // A dry run uploads nothing: what the cache knows can still be collected.
      reporter.warn(`${line} The dry run asks the cache only, and goes on.`);
      continue;
    }
    const down = error instanceof NetworkError ||
      (error instanceof HttpStatusError && error.transient);
    // A watch service starts anyway and waits for it; a run needs one target up.
    const wait = targets.rotation.patient;
    if (!down || (failures.length === targets.rotation.all.length && !wait)) {
      throw new TargetError(line);
    }
    reporter.warn(`${line} It leaves the rotation.`);
    targets.rotation.retire(target);
  }
}
