/**
 * From command-line settings to a verified connection: the API base URL of
 * `--ip HOST[:PORT]` or `--url`, or the gateways of `--gateway HOST[:PORT]`;
 * the trust mode (`--ca-cert`, `--pin`, `--insecure`, or the system roots),
 * the API key, and the clients.
 *
 * @example
 * ```ts
 * import { connect } from "./connect.ts";
 * import { Reporter } from "./console.ts";
 * const { client } = await connect(
 *   { appliances: ["10.1.1.5"], insecure: false, caCert: "appliance.pem", concurrency: 4 },
 *   new Reporter({ json: false, quiet: false }),
 * );
 * client.close();
 * ```
 * @module
 */

import { resolve } from "node:path";
import { CloudClient, DEFAULT_API_PATH } from "../transport/cloud_client.ts";
import { type AskOptions, CloudTransport } from "../transport/cloud.ts";
import {
  DEFAULT_REPORT_PORT,
  type ExtractOptions,
  GatewayTransport,
  TPAPI_PATH,
} from "../transport/gateway.ts";
import { isConfigurationError } from "../transport/fatal.ts";
import type { Transport } from "../transport/transport.ts";
import type { Feature, ReportFormat } from "../transport/cloud_types.ts";
import { HttpClient, type Trust } from "../transport/http.ts";
import { Rotation } from "../transport/rotation.ts";
import { DEFAULT_RETRY } from "../transport/retry.ts";
import { UsageError } from "./args.ts";
import type { Reporter } from "./console.ts";
import { reasonOf } from "../fs/errors.ts";

/** The settings a connection is made from (a subset of the scan's). */
export interface ConnectionArgs {
  appliances: string[];
  url?: string;
  /** `--gateway` values; a scan builds one gateway transport each. */
  gateways?: string[];
  /** The gateways' report port. */
  reportPort?: number;
  caCert?: string;
  pin?: string;
  insecure: boolean;
  apiKeyFile?: string;
  apiKey?: string;
  /** Where `apiKey` came from; from the command line it earns a warning. */
  apiKeyFrom?: "command line" | "config";
  /** Files in emulation at once: the connection pool is sized from it. */
  concurrency: number;
  /** Tries per request for passing failures; default 6. */
  retries?: number;
  /** Time without progress before a request fails; default 60 s. */
  requestTimeoutMs?: number;
}

/** What every file is asked for (a subset of the scan's settings). */
export interface AskArgs {
  features: Feature[];
  reports: ReportFormat[];
  images: string[];
  batchSize: number;
  /** How long a target may keep failing before it leaves the rotation. */
  graceMs: number;
  /** Threat Extraction on the gateway, and where its cleaned copies go. */
  extract?: ExtractOptions;
  clean?: string;
}

/** A client ready to use; close it when done. */
export interface Connection {
  client: CloudClient;
  /** `https://host:port`, for messages and logs. */
  origin: string;
  /** Whether the target is the cloud (`--url`) rather than an appliance. */
  cloud: boolean;
}

/** The default appliance port of the cloud-format API. */
export const DEFAULT_PORT = 18194;

/** The default port of a gateway's TPAPI (the UserCheck portal's HTTPS). */
export const GATEWAY_PORT = 443;

/**
 * Splits `HOST[:PORT]` (IPv6 in brackets) with the appliance default port.
 *
 * @example
 * ```ts
 * import { splitHostPort } from "./connect.ts";
 * splitHostPort("10.1.1.5"); // { host: "10.1.1.5", port: 18194 }
 * splitHostPort("[::1]:443"); // { host: "::1", port: 443 }
 * ```
 */
export function splitHostPort(
  text: string,
  defaultPort = DEFAULT_PORT,
): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) return { host: bracketed[1], port: Number(bracketed[2] ?? defaultPort) };
  const plain = /^([^:]+)(?::(\d+))?$/.exec(text);
  if (plain) return { host: plain[1], port: Number(plain[2] ?? defaultPort) };
  return { host: text, port: defaultPort };
}

/**
 * The API base URL for `--ip HOST[:PORT]` (IPv6 in brackets).
 *
 * @example
 * ```ts
 * import { applianceUrl } from "./connect.ts";
 * applianceUrl("10.1.1.5"); // "https://10.1.1.5:18194/tecloud/api/v1/file/"
 * applianceUrl("[::1]:8443"); // "https://[::1]:8443/tecloud/api/v1/file/"
 * ```
 */
export function applianceUrl(hostPort: string): string {
  return originOf(hostPort, DEFAULT_PORT, "--ip") + DEFAULT_API_PATH;
}

/**
 * `https://HOST:PORT` for a `HOST[:PORT]` option value (IPv6 in brackets),
 * `port` when it names none.
 *
 * @example A gateway and its report port
 * ```ts
 * import { originOf } from "./connect.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(originOf("gw.example", 443, "--gateway"), "https://gw.example:443");
 * assert.equal(originOf("[::1]:4434", 443, "--gateway"), "https://[::1]:4434");
 * assert.throws(() => originOf("gw x", 443, "--gateway"), /--gateway: not a host/);
 * ```
 */
export function originOf(hostPort: string, port: number, flag: string): string {
  const split = splitHostPort(hostPort.trim(), port);
  const host = split.host.includes(":") ? `[${split.host}]` : split.host;
  try {
    const url = new URL(`https://${host}:${split.port}/`);
    // URL drops a scheme's default port: put it back, messages name it.
    return `https://${url.hostname}:${url.port || split.port}`;
  } catch {
    throw new UsageError(`${flag}: not a host or host:port: ${JSON.stringify(hostPort)}`);
  }
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

/** What every file is asked for, on any target. */
function askOf(args: AskArgs): Omit<AskOptions, "md5"> {
  return {
    features: args.features,
    reports: args.reports,
    images: args.images.map((id) => ({ id, revision: 1 })),
    batchSize: args.batchSize,
  };
}

/** The API key of `--api-key-file` (or `--api-key`, warned about when typed on the command line). */
async function apiKeyOf(args: ConnectionArgs, reporter: Reporter): Promise<string | undefined> {
  if (args.apiKeyFile) return await readSecretFile(args.apiKeyFile, "--api-key-file");
  if (args.apiKey && args.apiKeyFrom !== "config") {
    reporter.warn("--api-key shows in the process list; prefer --api-key-file");
  }
  return args.apiKey;
}

/** A client of the API under `base` (origin and path), as every target gets one. */
function clientAt(
  base: URL,
  trust: Trust,
  args: ConnectionArgs,
  reporter: Reporter,
  options: { apiKey?: string; signal?: AbortSignal },
): CloudClient {
  const http = new HttpClient(base.origin, {
    trust,
    maxSockets: args.concurrency + 2,
    timeoutMs: args.requestTimeoutMs,
  });
  return new CloudClient(http, {
    apiKey: options.apiKey,
    apiPath: base.pathname,
    retry: { ...DEFAULT_RETRY, attempts: args.retries ?? DEFAULT_RETRY.attempts },
    signal: options.signal,
    onRetry: (what, error, attempt, delay) =>
      reporter.warn(`${what} failed (${reasonOf(error)}); try ${attempt + 1} in ${delay} ms`),
  });
}

/**
 * Builds the client for the appliance the settings name.
 *
 * @example
 * ```ts
 * import { connect } from "./connect.ts";
 * import { Reporter } from "./console.ts";
 * const { client } = await connect(
 *   { appliances: [], url: "https://te-api.checkpoint.com/tecloud/api/v1/file/", insecure: false,
 *     apiKeyFile: "key.txt", concurrency: 4 },
 *   new Reporter({ json: false, quiet: false }),
 * );
 * client.close();
 * ```
 */
export async function connect(
  args: ConnectionArgs,
  reporter: Reporter,
  signal?: AbortSignal,
): Promise<Connection> {
  const trust = await trustFrom(args);
  const apiKey = await apiKeyOf(args, reporter);
  if (!args.url && !args.appliances.length) {
    throw new UsageError("missing --ip HOST[:PORT] or --url BASE (the appliance to ask)");
  }
  const baseUrl = args.url ?? applianceUrl(args.appliances[0]);
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    throw new UsageError(`--url: not a URL: ${baseUrl}`);
  }
  if (base.protocol !== "https:") throw new UsageError(`--url must be https: ${baseUrl}`);
  const client = clientAt(base, trust, args, reporter, { apiKey, signal });
  return { client, origin: base.origin, cloud: args.url !== undefined };
}

/**
 * One gateway transport per `--gateway` value, each preflighted (in
 * parallel): a wrong key, an untrusted certificate, or a gateway that cannot
 * be reached or does not speak TPAPI ends the run before the walk, exit 3,
 * with one line. The key goes in each request body, never in a header.
 */
async function connectGateways(
  args: ConnectionArgs & AskArgs,
  reporter: Reporter,
  signal?: AbortSignal,
): Promise<Transport[]> {
  const trust = await trustFrom(args);
  const apiKey = (await apiKeyOf(args, reporter)) ?? "";
  const gateways = (args.gateways ?? []).map((value) => {
    const origin = originOf(value, GATEWAY_PORT, "--gateway");
    // Reports: the same host's cloud-format download route, on the report port.
    const reports = new URL(DEFAULT_API_PATH, origin);
    reports.port = String(args.reportPort ?? DEFAULT_REPORT_PORT);
    return new GatewayTransport(
      clientAt(new URL(TPAPI_PATH, origin), trust, args, reporter, { signal }),
      clientAt(reports, trust, args, reporter, { signal }),
      {
        ...askOf(args),
        apiKey,
        extract: args.extract,
        cleanedDir: args.clean === undefined ? undefined : resolve(args.clean),
      },
    );
  });
  try {
    await Promise.all(gateways.map(async (gateway) => {
      try {
        await gateway.preflight();
      } catch (error) {
        if (isConfigurationError(error)) throw error;
        const reason = reasonOf(error).replace(`${gateway.label}: `, "");
        throw new UsageError(`cannot use gateway ${gateway.label}: ${reason}`);
      }
    }));
  } catch (error) {
    for (const gateway of gateways) gateway.close();
    throw error;
  }
  return gateways;
}

/**
 * Builds the rotation of targets the settings name: the appliance or cloud
 * endpoint as a cloud-format transport, or one gateway transport per
 * `--gateway` (preflighted), each asking for the run's features and reports.
 *
 * @example Connect a scan to the appliances of its settings
 * ```ts ignore
 * import { connectRotation } from "./connect.ts";
 * import { parseScanArgs } from "./args.ts";
 * import { Reporter } from "./console.ts";
 * const args = parseScanArgs(["--in", "/drop", "--ip", "10.1.1.5", "--ca-cert", "a.pem"]);
 * const { rotation } = await connectRotation(args, new Reporter({ json: false, quiet: false }));
 * rotation.close();
 * ```
 */
export async function connectRotation(
  args: ConnectionArgs & AskArgs,
  reporter: Reporter,
  signal?: AbortSignal,
): Promise<{ rotation: Rotation; origin: string }> {
  let transports: Transport[];
  let origin: string;
  if (args.gateways?.length) {
    transports = await connectGateways(args, reporter, signal);
    origin = transports.map((t) => `https://${t.label}`).join(", ");
  } else {
    const connection = await connect(args, reporter, signal);
    origin = connection.origin;
    transports = [
      new CloudTransport(connection.client, {
        ...askOf(args),
        // AV looks files up by md5 only, and the cloud answers FOUND for md5 lookups.
        md5: args.features.includes("av") || connection.cloud,
      }),
    ];
  }
  const rotation = new Rotation(transports, {
    graceMs: args.graceMs,
    onWarning: (message) => reporter.warn(message),
  });
  return { rotation, origin };
}
