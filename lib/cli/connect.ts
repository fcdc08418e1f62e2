/**
 * From command-line settings to a verified connection: the API base URL of
 * `--ip HOST[:PORT]` or `--url`, the trust mode (`--ca-cert`, `--pin`,
 * `--insecure`, or the system roots), the API key, and the client.
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

import { CloudClient, DEFAULT_API_PATH } from "../transport/cloud_client.ts";
import { CloudTransport } from "../transport/cloud.ts";
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
  caCert?: string;
  pin?: string;
  insecure: boolean;
  apiKeyFile?: string;
  apiKey?: string;
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
export function splitHostPort(text: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) return { host: bracketed[1], port: Number(bracketed[2] ?? DEFAULT_PORT) };
  const plain = /^([^:]+)(?::(\d+))?$/.exec(text);
  if (plain) return { host: plain[1], port: Number(plain[2] ?? DEFAULT_PORT) };
  return { host: text, port: DEFAULT_PORT };
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
  const { host, port } = splitHostPort(hostPort.trim());
  try {
    return new URL(`https://${host.includes(":") ? `[${host}]` : host}:${port}${DEFAULT_API_PATH}`)
      .href;
  } catch {
    throw new UsageError(`--ip: not a host or host:port: ${JSON.stringify(hostPort)}`);
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
  let apiKey: string | undefined;
  if (args.apiKeyFile) apiKey = await readSecretFile(args.apiKeyFile, "--api-key-file");
  else if (args.apiKey) {
    reporter.warn("--api-key shows in the process list; prefer --api-key-file");
    apiKey = args.apiKey;
  }
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
  const http = new HttpClient(base.origin, {
    trust,
    maxSockets: args.concurrency + 2,
    timeoutMs: args.requestTimeoutMs,
  });
  const client = new CloudClient(http, {
    apiKey,
    apiPath: base.pathname,
    retry: { ...DEFAULT_RETRY, attempts: args.retries ?? DEFAULT_RETRY.attempts },
    signal,
    onRetry: (what, error, attempt, delay) =>
      reporter.warn(`${what} failed (${reasonOf(error)}); try ${attempt + 1} in ${delay} ms`),
  });
  return { client, origin: base.origin, cloud: args.url !== undefined };
}

/**
 * Builds the rotation of targets the settings name, each a cloud-format
 * transport asking for the run's features and reports.
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
  const { client, origin, cloud } = await connect(args, reporter, signal);
  const transport = new CloudTransport(client, {
    features: args.features,
    reports: args.reports,
    images: args.images.map((id) => ({ id, revision: 1 })),
    batchSize: args.batchSize,
    // AV looks files up by md5 only, and the cloud answers FOUND for md5 lookups.
    md5: args.features.includes("av") || cloud,
  });
  const rotation = new Rotation([transport], {
    graceMs: args.graceMs,
    onWarning: (message) => reporter.warn(message),
  });
  return { rotation, origin };
}
