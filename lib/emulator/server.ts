/**
 * The appliance emulator: one HTTPS port serving the cloud format
 * (`/tecloud/api/v1/file/…`, alias `/tecloud/gw/v1/file/…`), the gateway's
 * `POST /UserCheck/TPAPI`, and the control routes of `control.ts` for tests
 * (`/__emulator/stats`, `/__emulator/faults`, `/__emulator/clock`).
 *
 * @example Start an emulator and read its counters with fetch
 * ```ts
 * import { startEmulator } from "./server.ts";
 * import { DEFAULT_CA_PEM } from "./default_tls.ts";
 * import assert from "node:assert/strict";
 *
 * const emulator = await startEmulator({ port: 0, emulationMs: 50 });
 * const client = Deno.createHttpClient({ caCerts: [DEFAULT_CA_PEM] });
 * const res = await fetch(`${emulator.url}/__emulator/stats`, { client });
 * assert.equal((await res.json()).uploads, 0);
 * client.close();
 * await emulator.close();
 * ```
 * @module
 */

import { Code } from "../transport/status.ts";
import { statusFor } from "./answer.ts";
import { cloudAuthorized } from "./auth.ts";
import { handleDownload, handleQuery, handleQuota, handleUpload } from "./cloud.ts";
import { type EmulatorContext, newContext } from "./context.ts";
import { sleep } from "../util/sleep.ts";
import { DeliberateReset, faultResponse, truncate } from "./fault_answers.ts";
import { type ApiRoute, randomFault } from "./faults.ts";
import { apiError, discardBody, jsonResponse } from "./http.ts";
import { CONTROL_PREFIX, handleControl } from "./control.ts";
import { type EmulatorOptions, resolveOptions } from "./options.ts";
import type { EmulatorStats } from "./stats.ts";
import { handleTpapi } from "./tpapi.ts";
import { acceptUpload } from "./intake.ts";
import { scanBytes } from "./content_scan.ts";
import type { ResponseItem } from "../transport/protocol.ts";

export type { EmulatorOptions } from "./options.ts";
export type { EmulatorStats } from "./stats.ts";

/**
 * A listening emulator.
 *
 * @example Learn a file, then move the clock past its emulation
 * ```ts
 * import { type RunningEmulator, startEmulator } from "./server.ts";
 * import assert from "node:assert/strict";
 *
 * const emulator: RunningEmulator = await startEmulator({ port: 0 });
 * assert.match(emulator.url, /^https:\/\/127\.0\.0\.1:\d+$/);
 * const content = new TextEncoder().encode("fine");
 * assert.equal(emulator.learn(content, "a.txt").status.label, "UPLOAD_SUCCESS");
 * emulator.advanceClock(60_000);
 * assert.equal(emulator.learn(content, "a.txt").status.label, "FOUND");
 * await emulator.close();
 * ```
 */
export interface RunningEmulator {
  /** `https://HOST:PORT`, with no trailing slash. */
  url: string;
  port: number;
  /** A copy of the counters. */
  stats(): EmulatorStats;
  /**
   * Moves the emulator's clock forward by `ms` (as `POST /__emulator/clock`
   * does): samples reach their early and final verdicts without waiting.
   */
  advanceClock(ms: number): void;
  /**
   * Takes `content` as if a client had uploaded it under `fileName`, without
   * the network: benchmarks seed a cache of many files this way instead of a
   * first run. Returns the answer the upload would have had.
   */
  learn(content: Uint8Array, fileName?: string): ResponseItem;
  /** Stops listening, ends injected delays, and waits for open requests. */
  close(): Promise<void>;
}

const API_PREFIXES = ["/tecloud/api/v1/file/", "/tecloud/gw/v1/file/"];

function apiRoute(path: string): ApiRoute | undefined {
  if (path === "/UserCheck/TPAPI") return "tpapi";
  for (const prefix of API_PREFIXES) {
    if (!path.startsWith(prefix)) continue;
    const op = path.slice(prefix.length).replace(/\/$/, "");
    if (op === "query" || op === "upload" || op === "download" || op === "quota") return op;
  }
  return undefined;
}

const METHODS: Record<ApiRoute, readonly string[]> = {
  query: ["POST"],
  upload: ["POST"],
  tpapi: ["POST"],
  download: ["GET", "POST"],
  quota: ["GET", "POST"],
};

function dispatch(
  ctx: EmulatorContext,
  route: ApiRoute,
  req: Request,
  forcedCode: number | undefined,
): Promise<Response> {
  switch (route) {
    case "query":
      return handleQuery(ctx, req, forcedCode);
    case "upload":
      return handleUpload(ctx, req, forcedCode);
    case "tpapi":
      return handleTpapi(ctx, req, forcedCode);
    case "download":
      return handleDownload(ctx, req);
    case "quota":
      return handleQuota(ctx, req);
  }
}

async function serve(ctx: EmulatorContext, req: Request): Promise<Response> {
  const { stats, options } = ctx;
  const path = new URL(req.url).pathname;
  if (path.startsWith(CONTROL_PREFIX)) {
    const name = path.slice(CONTROL_PREFIX.length);
    // Reading the counters does not change them.
    if (name !== "stats") stats.http_requests++;
    return await handleControl(ctx, req, name);
  }
  stats.http_requests++;
  const route = apiRoute(path);
  if (!route) {
    await discardBody(req);
    return apiError(404, Code.NOT_FOUND, `no such route: ${req.method} ${path}`);
  }
  if (!METHODS[route].includes(req.method)) {
    await discardBody(req);
    const res = apiError(405, Code.BAD_REQUEST, `${req.method} is not allowed on ${path}`);
    res.headers.set("allow", METHODS[route].join(", "));
    return res;
  }
  // Only the cloud wants Authorization: an appliance's or a gateway's
  // cloud-format routes (report downloads on 18194 above all) take no key,
  // and TPAPI authenticates inside each request object instead.
  if (
    route !== "tpapi" && options.mode === "cloud" && !cloudAuthorized(req.headers, options.apiKey)
  ) {
    stats.auth_failures++;
    await discardBody(req);
    return apiError(403, Code.FORBIDDEN, "missing or wrong API key (Authorization header)");
  }
  const fault = ctx.faults.take(route) ?? randomFault(options.failRate, ctx.random);
  if (fault) {
    stats.faults_injected++;
    const replaced = faultResponse(fault);
    if (replaced) {
      await discardBody(req);
      return replaced;
    }
    if (fault.kind === "delay") {
      // A closing server cuts the delay short and answers at once.
      await sleep(fault.delayMs ?? 0, ctx.closing).catch(() => {});
    }
    if (fault.kind === "code" && (route === "download" || route === "quota")) {
      // No request objects to mark: the body is just the status, as a
      // service answers a request it could not serve.
      await discardBody(req);
      return jsonResponse({ response: { status: statusFor(fault.code!) } });
    }
  }
  const res = await dispatch(ctx, route, req, fault?.kind === "code" ? fault.code : undefined);
  return fault?.kind === "truncate" ? await truncate(res) : res;
}

function logError(log: (line: string) => void, error: unknown): void {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  log(`te-scan emulator: error: ${text.replace(/\s+/g, " ")}`);
}

function displayHost(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * Starts an emulator and resolves once it listens.
 *
 * @example A cloud that wants an API key
 * ```ts
 * import { startEmulator } from "./server.ts";
 * import { DEFAULT_CA_PEM } from "./default_tls.ts";
 * import assert from "node:assert/strict";
 *
 * const emulator = await startEmulator({ port: 0, mode: "cloud", apiKey: "k", quota: 10 });
 * const client = Deno.createHttpClient({ caCerts: [DEFAULT_CA_PEM] });
 * const quota = (key: string) =>
 *   fetch(`${emulator.url}/tecloud/api/v1/file/quota`, {
 *     client,
 *     method: "POST",
 *     headers: { authorization: key },
 *     body: "{}",
 *   });
 * const refused = await quota("wrong");
 * assert.equal(refused.status, 403);
 * await refused.body?.cancel();
 * const allowed = await quota("k");
 * assert.equal((await allowed.json()).response[0].remain_quota_hour, 10);
 * client.close();
 * await emulator.close();
 * ```
 */
export function startEmulator(options: Partial<EmulatorOptions> = {}): Promise<RunningEmulator> {
  let resolved;
  try {
    resolved = resolveOptions(options);
  } catch (error) {
    return Promise.reject(error);
  }
  const closing = new AbortController();
  const ctx = newContext(resolved, closing.signal);
  const handler = async (req: Request): Promise<Response> => {
    const started = performance.now();
    let res: Response;
    try {
      res = await serve(ctx, req);
    } catch (error) {
      logError(resolved.log, error);
      await discardBody(req);
      res = apiError(500, Code.INTERNAL_ERROR, "internal emulator error");
    }
    if (resolved.verbose) {
      const ms = (performance.now() - started).toFixed(1);
      resolved.log(`${req.method} ${new URL(req.url).pathname} ${res.status} ${ms} ms`);
    }
    return res;
  };
  return new Promise((resolve, reject) => {
    try {
      const server = Deno.serve({
        hostname: resolved.host,
        port: resolved.port,
        cert: resolved.cert,
        key: resolved.key,
        onError(error) {
          if (!(error instanceof DeliberateReset)) logError(resolved.log, error);
          return apiError(500, Code.INTERNAL_ERROR, "internal emulator error");
        },
        onListen({ port }) {
          let closed: Promise<void> | undefined;
          resolve({
            url: `https://${displayHost(resolved.host)}:${port}`,
            port,
            stats: () => ({ ...ctx.stats }),
            advanceClock: (ms) => ctx.advance(ms),
            learn: (content, fileName = "") => acceptUpload(ctx, scanBytes(content), {}, fileName),
            close() {
              closed ??= (async () => {
                closing.abort();
                await server.shutdown();
              })();
              return closed;
            },
          });
        },
      }, handler);
    } catch (error) {
      reject(error);
    }
  });
}
