/**
 * HTTPS for talking to appliances: verified TLS with a pinned CA or
 * certificate fingerprint, keep-alive, timeouts, bounded answers, and
 * streamed request bodies that carry a `Content-Length`.
 *
 * Built on `node:https` rather than `fetch` because (see deno-notes §3, §4)
 * `fetch` rejects the self-signed `CA:TRUE` certificates appliances ship,
 * has no per-client way to pin, and drops `Content-Length` on streamed
 * bodies. With `trust: {kind: "system"}` (no CA given, e.g. the public
 * cloud) it uses `fetch`, whose built-in root store needs no permission.
 *
 * @example Post a query to an emulated appliance
 * ```ts
 * import { HttpClient } from "./http.ts";
 * import { DEFAULT_CA_PEM, startEmulator } from "../emulator/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const emulator = await startEmulator({ port: 0 });
 * const http = new HttpClient(emulator.url, { trust: { kind: "ca", caPem: [DEFAULT_CA_PEM] } });
 * const answer = await http.request("POST", "/tecloud/api/v1/file/query", {
 *   body: new TextEncoder().encode('{"request":[]}'),
 * });
 * assert.equal(answer.status, 200);
 * assert.deepEqual(JSON.parse(await answer.text()), { response: [] });
 * http.close();
 * await emulator.close();
 * ```
 * @module
 */

import https from "node:https";
import type { ClientRequest, IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import { concatBytes } from "../util/bytes.ts";
import { FileChangedError } from "../fs/identity.ts";
import { type ProxyAddress, proxyAgent, proxyAtFault, ProxyError } from "./proxy.ts";

/** How the appliance's certificate is checked. */
export type Trust =
  | { kind: "ca"; caPem: string[] }
  | { kind: "pin"; sha256: string }
  | { kind: "insecure" }
  | { kind: "system" };

/** Options of an {@linkcode HttpClient}. */
export interface HttpClientOptions {
  trust: Trust;
  /** Idle time without progress before a request fails; default 60 s. */
  timeoutMs?: number;
  /**
   * Longest time to read a whole answer once its headers came, plus a second
   * per MiB received; default {@linkcode ANSWER_FACTOR} × `timeoutMs`. The
   * idle timeout alone lets a server that trickles a byte now and then hold
   * a request for ever.
   */
  answerMs?: number;
  /** Parallel connections to the host; default 8. */
  maxSockets?: number;
  /** Largest answer body read into memory; default 64 MiB. */
  maxBodyBytes?: number;
  /** An HTTP CONNECT proxy every connection goes through (`--proxy`). */
  proxy?: ProxyAddress;
}

/** A request body: bytes, or a stream of known length (sent with Content-Length). */
export type RequestBody =
  | Uint8Array
  | { length: number; chunks: () => AsyncIterable<Uint8Array> };

/** Per-request options. */
export interface RequestOptions {
  headers?: Record<string, string>;
  body?: RequestBody;
  signal?: AbortSignal;
}

/** An answer with its body not read yet. */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  /** The body as text (bounded by `maxBodyBytes`). */
  text(): Promise<string>;
  /** The body as bytes (bounded by `maxBodyBytes`). */
  bytes(): Promise<Uint8Array>;
  /**
   * The body as it arrives, not bounded by `maxBodyBytes`: for answers too
   * large to hold (a gateway's cleaned copy), whose reader bounds what it keeps.
   */
  stream(): AsyncIterable<Uint8Array>;
  /** Drops the body without reading it. */
  discard(): Promise<void>;
}

/**
 * A failure to get any answer: connection refused or reset, DNS, timeout,
 * truncated answer. Worth retrying.
 */
export class NetworkError extends Error {
  override name = "NetworkError";
  /** The system's error code (`ECONNREFUSED`, `ENOTFOUND`, …) when there is one. */
  readonly code?: string;
  constructor(message: string, options: ErrorOptions & { code?: string } = {}) {
    super(message, options);
    this.code = options.code;
  }
}

/**
 * How many idle timeouts a whole answer may take to arrive, by default; a
 * large answer gets a second more per MiB received ({@linkcode EARNED_BYTES_PER_MS}).
 */
export const ANSWER_FACTOR = 4;

/** The pace (1 MiB/s) at which bytes received extend an answer's deadline. */
const EARNED_BYTES_PER_MS = 1024 * 1024 / 1000;

/** The appliance's certificate was refused. Not worth retrying. */
export class TlsError extends Error {
  override name = "TlsError";
}

/** An answer body larger than the client accepts (a hostile or broken server). */
export class AnswerTooLargeError extends Error {
  override name = "AnswerTooLargeError";
}

const TLS_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "CERT_UNTRUSTED",
]);

function normaliseFingerprint(text: string): string {
  return text.replace(/[^0-9a-f]/gi, "").toLowerCase();
}

/**
 * The messages of an error and of every `cause` under it, outermost first:
 * `fetch failed` hides the reason (`invalid peer certificate: UnknownIssuer`)
 * one level down.
 *
 * @example Every message along the causes
 * ```ts
 * import { causeChain } from "./http.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new TypeError("fetch failed", { cause: new Error("UnknownIssuer") });
 * assert.deepEqual(causeChain(error), ["fetch failed", "UnknownIssuer"]);
 * ```
 */
export function causeChain(error: unknown): string[] {
  const messages: string[] = [];
  for (let e = error; e !== undefined && e !== null && messages.length < 8;) {
    const message = e instanceof Error ? e.message : String(e);
    if (message && messages.at(-1) !== message) messages.push(message);
    e = e instanceof Error ? e.cause : undefined;
  }
  return messages;
}

/** The first `code` (`ECONNREFUSED`, `ENOTFOUND`, …) along an error's cause chain. */
function codeOf(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && depth < 8; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    e = e instanceof Error ? e.cause : undefined;
  }
  return undefined;
}

const TLS_PATTERN = /certificate|self[- ]signed|UnknownIssuer|CaUsedAsEndEntity|NotValidForName/i;

/**
 * Turns a low-level error into a one-line {@linkcode NetworkError} or
 * {@linkcode TlsError} naming the host, keeping the original as its cause.
 */
function classify(error: unknown, host: string): Error {
  if (error instanceof TlsError || error instanceof NetworkError) return error;
  if (error instanceof ProxyError) return error;
  // A body that could not be read is the file's fault, not the network's: never retried.
  if (error instanceof AnswerTooLargeError || error instanceof FileChangedError) return error;
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (cause instanceof FileChangedError) return cause;
  const code = codeOf(error);
  const chain = causeChain(error);
  const detail = chain.at(-1) ?? String(error);
  if ((code && TLS_CODES.has(code)) || chain.some((m) => TLS_PATTERN.test(m))) {
    return new TlsError(`TLS: the certificate of ${host} is not trusted (${detail})`, {
      cause: error,
    });
  }
  return new NetworkError(`${host}: ${detail}`, { cause: error, code });
}

async function* collect(
  source: AsyncIterable<Uint8Array>,
  limit: number,
  what: string,
): AsyncGenerator<Uint8Array> {
  let total = 0;
  for await (const chunk of source) {
    total += chunk.byteLength;
    if (total > limit) {
      throw new AnswerTooLargeError(`${what}: answer larger than ${limit} bytes`);
    }
    yield chunk;
  }
}

/**
 * A timer that fires `onIdle` once nothing has restarted it for `ms`: the
 * request-phase watchdog of both transports, fed by upload progress.
 */
function idleTimer(ms: number, onIdle: () => void): { restart(): void; stop(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const restart = () => {
    clearTimeout(timer);
    timer = setTimeout(onIdle, ms);
  };
  restart();
  return { restart, stop: () => clearTimeout(timer) };
}

/**
 * Passes chunks on, failing when none arrives for `idleMs`: a server that
 * sends its headers and then stalls (or a connection left open after a
 * broken answer) must not hang a scan; nor may one that trickles, so the
 * whole answer must also be in within `wholeMs` (plus a second per MiB
 * received). `onStall` tears the connection down.
 */
async function* timeLimited(
  source: AsyncIterable<Uint8Array>,
  limits: { idleMs: number; wholeMs: number },
  onStall: () => void,
  what: string,
): AsyncGenerator<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]();
  const startedAt = performance.now();
  let received = 0;
  for (;;) {
    // A large answer arriving at a real pace earns its time; a trickle earns none.
    const allowedMs = limits.wholeMs + received / EARNED_BYTES_PER_MS;
    const left = startedAt + allowedMs - performance.now();
    const whole = left < limits.idleMs;
    const why = whole
      ? `answer not complete within ${Math.round(allowedMs / 1000)} s`
      : `answer stalled (no data for ${limits.idleMs / 1000} s)`;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        onStall();
        reject(new NetworkError(`${what}: ${why}`));
      }, Math.max(0, whole ? left : limits.idleMs));
    });
    let next: IteratorResult<Uint8Array>;
    try {
      next = await Promise.race([iterator.next(), stalled]);
    } finally {
      clearTimeout(timer);
    }
    if (next.done) return;
    received += next.value.byteLength;
    yield next.value;
  }
}

async function* classified(
  source: AsyncIterable<Uint8Array>,
  host: string,
): AsyncGenerator<Uint8Array> {
  try {
    yield* source;
  } catch (error) {
    throw classify(error, host);
  }
}

async function concat(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  return concatBytes(await Array.fromAsync(source));
}

/** An answer's headers as a `Headers`. */
function headersOf(response: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [key, value] of Object.entries(response.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(key, v);
  }
  return headers;
}

/** Refuses the connection unless the server's certificate has the pinned fingerprint. */
function checkPin(request: ClientRequest, sha256: string, host: string): void {
  request.on("socket", (socket) => {
    socket.once("secureConnect", () => {
      const got = normaliseFingerprint((socket as TLSSocket).getPeerCertificate().fingerprint256);
      if (got !== normaliseFingerprint(sha256)) {
        socket.destroy(
          new TlsError(`TLS: the certificate of ${host} has SHA-256 ${got}, not the pinned one`),
        );
      }
    });
  });
}

/** Bounds on reading one answer: its size, the idle gap and the whole answer's time. */
interface AnswerLimits {
  maxBodyBytes: number;
  idleMs: number;
  wholeMs: number;
}

/**
 * An answer whose body is read once, within `limits`: held whole (bounded by
 * `maxBodyBytes`), streamed, or drained so the connection can be reused.
 */
function readAnswer(
  raw: { status: number; headers: Headers; source: AsyncIterable<Uint8Array> },
  limits: AnswerLimits,
  host: string,
  onStall: () => void,
): HttpAnswer {
  const { idleMs, wholeMs } = limits;
  const body = timeLimited(raw.source, { idleMs, wholeMs }, onStall, host);
  let consumed = false;
  const open = () => {
    if (consumed) throw new Error("answer body already read");
    consumed = true;
    return body;
  };
  const take = async () => {
    const source = open();
    try {
      return await concat(collect(source, limits.maxBodyBytes, host));
    } catch (error) {
      throw classify(error, host);
    }
  };
  return {
    status: raw.status,
    headers: raw.headers,
    bytes: take,
    stream: () => classified(open(), host),
    text: async () => new TextDecoder().decode(await take()),
    discard: async () => {
      if (consumed) return;
      consumed = true;
      try {
        for await (const _ of body) { /* drain so the connection can be reused */ }
      } catch { /* the answer is being thrown away anyway */ }
    },
  };
}

/** What a node:https request needs from its client. */
interface NodeRequestContext {
  agent?: https.Agent;
  trust: Trust;
  timeoutMs: number;
  host: string;
  /** Wraps an answer's body in the client's limits. */
  answer: (
    status: number,
    headers: Headers,
    source: AsyncIterable<Uint8Array>,
    onStall: () => void,
  ) => HttpAnswer;
}

/** Starts a node:https request; `onResponse` gets its answer. */
function startNodeRequest(
  method: string,
  url: URL,
  headers: Record<string, string | number>,
  agent: https.Agent | undefined,
  onResponse: (response: IncomingMessage) => void,
): ClientRequest {
  return https.request({
    method,
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: url.port || 443,
    path: url.pathname + url.search,
    headers,
    agent,
    servername: /^[\d.]+$|:/.test(url.hostname) ? undefined : url.hostname,
  }, onResponse);
}

/**
 * One request over node:https: resolves with the answer once its headers
 * came, or rejects (classified) when it fails, stalls or is aborted.
 */
function nodeRequest(
  method: string,
  url: URL,
  options: RequestOptions,
  context: NodeRequestContext,
): Promise<HttpAnswer> {
  const headers: Record<string, string | number> = { ...options.headers };
  const body = options.body;
  if (body) {
    headers["content-length"] = body instanceof Uint8Array ? body.byteLength : body.length;
  }
  return new Promise<HttpAnswer>((resolve, reject) => {
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      reject(classify(error, context.host));
    };
    const request = startNodeRequest(method, url, headers, context.agent, (response) => {
      // Deno's node:http sends a request again after an answer it could not parse on a
      // kept-alive socket, and hands over the second answer after the error: nobody reads
      // it, so drop it, or its socket is never given back and the pool runs dry.
      if (settled) return void response.destroy();
      settled = true;
      const status = response.statusCode ?? 0;
      resolve(context.answer(status, headersOf(response), response, () => request.destroy()));
    });
    const progress = watchRequest(request, options.signal, context, fail);
    sendBody(request, body, progress, fail);
  });
}

/**
 * Fails a request that stalls, closes without an answer, is aborted or meets
 * the wrong pinned certificate. Returns what upload progress calls to
 * restart its watchdog.
 */
function watchRequest(
  request: ClientRequest,
  signal: AbortSignal | undefined,
  context: NodeRequestContext,
  fail: (error: unknown) => void,
): () => void {
  const { timeoutMs, trust, host } = context;
  // destroy() alone emits nothing while the request waits for a socket: fail it first.
  const abandon = (error: Error) => {
    fail(error);
    request.destroy(error);
  };
  // Our own watchdog: Deno's node:http does not apply setTimeout to a kept-alive socket,
  // and a server that never answers on one would hang the scan. Upload progress feeds it.
  const watchdog = idleTimer(timeoutMs, () => {
    abandon(new NetworkError(`no answer within ${timeoutMs / 1000} s`));
  });
  request.once("response", watchdog.stop);
  request.once("close", () => {
    watchdog.stop();
    fail(new NetworkError("connection closed before an answer"));
  });
  if (trust.kind === "pin") checkPin(request, trust.sha256, host);
  // The run's signal outlives every request: remove the listener when the request ends,
  // or each one stays reachable for the whole run.
  const onAbort = () => abandon(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  request.once("close", () => signal?.removeEventListener("abort", onAbort));
  request.on("error", fail);
  return watchdog.restart;
}

/** Sends a request's body (none, bytes or a stream) and ends the request. */
function sendBody(
  request: ClientRequest,
  body: RequestBody | undefined,
  progress: () => void,
  fail: (error: unknown) => void,
): void {
  if (!body) return void request.end();
  if (body instanceof Uint8Array) return void request.end(body);
  // The body's own failure (the file changed) ends the request at once: Deno's
  // node:http does not always emit "error" for a request destroyed mid-body.
  pump(request, body, progress).catch((error) => {
    fail(error);
    request.destroy(error);
  });
}

/** Streams a body of known length, pausing while the socket is full. */
async function pump(
  request: ClientRequest,
  body: { length: number; chunks: () => AsyncIterable<Uint8Array> },
  progress: () => void,
): Promise<void> {
  let sent = 0;
  for await (const chunk of body.chunks()) {
    progress();
    sent += chunk.byteLength;
    if (sent > body.length) break;
    if (!request.write(chunk)) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = () => {
          request.off("error", onError);
          resolve();
        };
        const onError = (error: Error) => {
          request.off("drain", onDrain);
          reject(error);
        };
        request.once("drain", onDrain);
        request.once("error", onError);
      });
    }
    if (request.destroyed) return;
  }
  if (sent !== body.length) {
    throw new NetworkError(`body length changed while sending (${sent} of ${body.length} bytes)`);
  }
  request.end();
}

/**
 * An HTTPS client bound to one base URL.
 *
 * @example Trust a pinned certificate
 * ```ts
 * import { fetchCertificate } from "./certificate.ts";
 * import { HttpClient } from "./http.ts";
 * import { startEmulator } from "../emulator/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const emulator = await startEmulator({ port: 0 });
 * const { sha256 } = await fetchCertificate("127.0.0.1", emulator.port);
 * const http = new HttpClient(emulator.url, { trust: { kind: "pin", sha256 } });
 * assert.equal((await http.request("GET", "/__emulator/stats")).status, 200);
 * http.close();
 * await emulator.close();
 * ```
 */
export class HttpClient {
  readonly base: URL;
  readonly #options: Required<Omit<HttpClientOptions, "proxy">> & { proxy?: ProxyAddress };
  readonly #agent?: https.Agent;
  readonly #fetchClient?: Deno.HttpClient;

  constructor(baseUrl: string, options: HttpClientOptions) {
    this.base = new URL(baseUrl);
    if (this.base.protocol !== "https:") {
      throw new TypeError(`appliance URL must be https: ${baseUrl}`);
    }
    const timeoutMs = options.timeoutMs ?? 60_000;
    this.#options = {
      maxSockets: 8,
      maxBodyBytes: 64 * 1024 * 1024,
      answerMs: ANSWER_FACTOR * timeoutMs,
      ...options,
      timeoutMs,
    };
    const trust = options.trust;
    const proxy = options.proxy;
    if (trust.kind === "system") {
      this.#fetchClient = Deno.createHttpClient({
        http2: false,
        ...(proxy ? { proxy: { url: proxy.url } } : {}),
      });
      return;
    }
    // Giving node:https any `ca` keeps it off the system store, which would need --allow-sys.
    const agentOptions = {
      keepAlive: true,
      maxSockets: this.#options.maxSockets,
      ca: trust.kind === "ca" ? trust.caPem : [],
      rejectUnauthorized: trust.kind === "ca",
    };
    this.#agent = proxy ? proxyAgent(proxy, agentOptions) : new https.Agent(agentOptions);
  }

  /** The host (and port) for messages. */
  get host(): string {
    return this.base.host;
  }

  /**
   * Sends one request to `path` (resolved against the base URL).
   *
   * @example Read the emulator's counters
   * ```ts
   * import { HttpClient } from "./http.ts";
   * import { startEmulator } from "../emulator/mod.ts";
   * import assert from "node:assert/strict";
   *
   * const emulator = await startEmulator({ port: 0 });
   * const http = new HttpClient(emulator.url, { trust: { kind: "insecure" } });
   * const answer = await http.request("GET", "/__emulator/stats");
   * assert.equal(JSON.parse(await answer.text()).uploads, 0);
   * http.close();
   * await emulator.close();
   * ```
   */
  request(method: string, path: string, options: RequestOptions = {}): Promise<HttpAnswer> {
    const url = new URL(path, this.base);
    return this.#fetchClient
      ? this.#viaFetch(method, url, options, this.#fetchClient)
      : nodeRequest(method, url, options, {
        agent: this.#agent,
        trust: this.#options.trust,
        timeoutMs: this.#options.timeoutMs,
        host: this.host,
        answer: (status, headers, source, onStall) =>
          this.#answer(status, headers, source, onStall),
      });
  }

  #answer(
    status: number,
    headers: Headers,
    source: AsyncIterable<Uint8Array>,
    onStall: () => void,
  ): HttpAnswer {
    const { maxBodyBytes, timeoutMs: idleMs, answerMs: wholeMs } = this.#options;
    const limits = { maxBodyBytes, idleMs, wholeMs };
    return readAnswer({ status, headers, source }, limits, this.host, onStall);
  }

  async #viaFetch(
    method: string,
    url: URL,
    options: RequestOptions,
    client: Deno.HttpClient,
  ): Promise<HttpAnswer> {
    const host = this.host;
    const idleMs = this.#options.timeoutMs;
    // An idle watchdog, not a total deadline: a large upload on a slow link is not stalled.
    const stalled = new AbortController();
    const watchdog = idleTimer(idleMs, () => stalled.abort());
    const signal = options.signal
      ? AbortSignal.any([options.signal, stalled.signal])
      : stalled.signal;
    const body = options.body;
    let init: BodyInit | undefined;
    if (body instanceof Uint8Array) init = body as Uint8Array<ArrayBuffer>;
    else if (body) {
      const chunks = body.chunks();
      init = ReadableStream.from((async function* () {
        for await (const chunk of chunks) {
          watchdog.restart();
          yield chunk;
        }
      })());
    }
    try {
      const response = await fetch(url, {
        method,
        headers: options.headers,
        body: init,
        client,
        signal,
      });
      watchdog.stop();
      const stream = response.body ?? ReadableStream.from([]);
      return this.#answer(response.status, response.headers, stream, () => stalled.abort());
    } catch (error) {
      watchdog.stop();
      if (stalled.signal.aborted) {
        throw new NetworkError(`${host}: no answer within ${Math.round(idleMs / 1000)} s`);
      }
      // Deno's own client says little when its proxy fails: the proxy at fault says why.
      if (this.#options.proxy) await proxyAtFault(this.#options.proxy, url);
      throw classify(error, host);
    }
  }

  /** Closes idle connections. */
  close(): void {
    this.#agent?.destroy();
    this.#fetchClient?.close();
  }
}
