/**
 * The cloud-format client (`…/tecloud/api/v1/file/{query,upload,download,quota}`)
 * used against appliances (`--ip`) and the Check Point cloud (`--url`).
 *
 * Every answer is validated at the edge; HTTP-level passing failures are
 * retried with jittered back-off; the `te_cookie` the service sets is sent
 * back for server affinity.
 *
 * @example Ask an emulated appliance about a hash
 * ```ts
 * import { CloudClient } from "./cloud_client.ts";
 * import { HttpClient } from "./http.ts";
 * import { DEFAULT_CA_PEM, startEmulator } from "../emulator/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const emulator = await startEmulator({ port: 0 });
 * const http = new HttpClient(emulator.url, { trust: { kind: "ca", caPem: [DEFAULT_CA_PEM] } });
 * const client = new CloudClient(http);
 * const answer = await client.query([{ sha1: "da39a3ee5e6b4b0d3255bfef95601890afd80709" }]);
 * assert.equal(answer.items[0].status.label, "NOT_FOUND");
 * client.close();
 * await emulator.close();
 * ```
 * @module
 */

import {
  parseQuotaBody,
  parseResponseBody,
  type QuotaInfo,
  type RequestItem,
  type ResponseBody,
  type ResponseItem,
} from "./protocol.ts";
import { type HttpAnswer, HttpClient, type RequestBody } from "./http.ts";
import { AuthError, HttpStatusError, isTransient } from "./fatal.ts";
import { multipartUpload } from "./multipart.ts";
import type { UploadSource } from "./upload_body.ts";
import { DEFAULT_RETRY, type RetryPolicy, withRetry } from "./retry.ts";
import type { Download } from "./transport.ts";
import { parseJsonText, ProtocolError } from "./validate.ts";

/** The API path on appliances and the cloud. */
export const DEFAULT_API_PATH = "/tecloud/api/v1/file/";

// The seam's errors live in fatal.ts; exported here too for the modules that import them from here.
export { AuthError, HttpStatusError, isTransient } from "./fatal.ts";

/** Options of a {@linkcode CloudClient}. */
export interface CloudClientOptions {
  /** Sent as `Authorization: <key>` (bare, as the service wants). Never logged. */
  apiKey?: string;
  /** API path; default `/tecloud/api/v1/file/`. */
  apiPath?: string;
  retry?: RetryPolicy;
  /** Told about each retry, for the log. */
  onRetry?: (what: string, error: unknown, attempt: number, delayMs: number) => void;
  /**
   * Asked before each retry of a passing failure; false ends the tries at
   * once (in a fleet, a failing target's file goes to another one instead).
   */
  mayRetry?: (error: unknown) => boolean;
  signal?: AbortSignal;
}

/**
 * Reads the file name out of a `Content-Disposition` header, quoted or not,
 * or in the RFC 5987 `filename*=UTF-8''…` form.
 *
 * @example The file name of a download
 * ```ts
 * import { contentDispositionName } from "./cloud_client.ts";
 * import assert from "node:assert/strict";
 * assert.equal(contentDispositionName('attachment; filename="report.pdf"'), "report.pdf");
 * ```
 */
export function contentDispositionName(header: string | null): string | undefined {
  if (!header) return undefined;
  const extended = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(header);
  if (extended) {
    try {
      return decodeURIComponent(extended[1].trim());
    } catch { /* fall back to the plain form */ }
  }
  const plain = /filename\s*=\s*(?:"([^"]*)"|([^;]+))/.exec(header);
  const name = plain?.[1] ?? plain?.[2]?.trim();
  return name || undefined;
}

/** An answer's JSON text read as a response body; `what` names it in errors. */
async function readResponseBody(answer: HttpAnswer, what: string): Promise<ResponseBody> {
  return parseResponseBody(parseJsonText(await answer.text(), what), what);
}

/** What one request carries besides its method and route. */
interface SendOptions {
  body?: RequestBody;
  contentType?: string;
  signal?: AbortSignal;
}

/**
 * Single requests to the API path, not retried: each carries the API key and
 * the session cookie the appliance last set, and an answer outside 2xx
 * becomes an error.
 */
class ApiSession {
  readonly #http: HttpClient;
  readonly #apiKey?: string;
  readonly #path: string;
  #cookie?: string;

  constructor(http: HttpClient, apiKey: string | undefined, path: string) {
    this.#http = http;
    this.#apiKey = apiKey;
    this.#path = path.endsWith("/") ? path : `${path}/`;
  }

  get host(): string {
    return this.#http.host;
  }

  /** Sends one request to `op`; its answer, or an {@linkcode AuthError} or {@linkcode HttpStatusError}. */
  async send(
    what: string,
    method: string,
    op: string,
    { body, contentType, signal }: SendOptions,
  ): Promise<HttpAnswer> {
    const headers = this.#headers(contentType ? { "content-type": contentType } : {});
    const answer = await this.#http.request(method, this.#path + op, { headers, body, signal });
    this.#remember(answer);
    if (answer.status === 401 || answer.status === 403) {
      await answer.discard();
      throw new AuthError(
        `${this.host} refused the API key (HTTP ${answer.status}); check --api-key-file`,
      );
    }
    if (answer.status < 200 || answer.status >= 300) {
      const text = (await answer.text().catch(() => "")).slice(0, 200).replace(/\s+/g, " ");
      throw new HttpStatusError(
        answer.status,
        `${what}: HTTP ${answer.status} from ${this.host}${text ? `: ${text}` : ""}`,
      );
    }
    return answer;
  }

  #headers(extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { ...extra };
    if (this.#apiKey) headers["authorization"] = this.#apiKey;
    if (this.#cookie) headers["cookie"] = `te_cookie=${this.#cookie}`;
    return headers;
  }

  #remember(answer: HttpAnswer): void {
    const setCookie = answer.headers.get("set-cookie");
    const match = setCookie && /(?:^|[,;\s])te_cookie=([^;,\s]+)/.exec(setCookie);
    if (match) this.#cookie = match[1];
  }

  close(): void {
    this.#http.close();
  }
}

/**
 * A cloud-format API client.
 *
 * @example A client for the cloud, with its API key
 * ```ts
 * import { CloudClient } from "./cloud_client.ts";
 * import { HttpClient } from "./http.ts";
 * import { DEFAULT_CA_PEM, startEmulator } from "../emulator/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const emulator = await startEmulator({ port: 0, mode: "cloud", apiKey: "k" });
 * const http = new HttpClient(emulator.url, { trust: { kind: "ca", caPem: [DEFAULT_CA_PEM] } });
 * const client = new CloudClient(http, { apiKey: "k" });
 * const { items } = await client.query([{ sha1: "1".repeat(40) }]);
 * assert.equal(items[0].status.label, "NOT_FOUND");
 * client.close();
 * await emulator.close();
 * ```
 */
export class CloudClient {
  readonly #session: ApiSession;
  readonly #options: CloudClientOptions;

  constructor(http: HttpClient, options: CloudClientOptions = {}) {
    this.#session = new ApiSession(http, options.apiKey, options.apiPath ?? DEFAULT_API_PATH);
    this.#options = options;
  }

  /** Host name for messages. */
  get host(): string {
    return this.#session.host;
  }

  /**
   * Sends one request to `op` (under the API path), retried with back-off
   * on passing failures, and reads its answer with `read` (a failure to read
   * is retried too when it is passing, e.g. a truncated answer). 401/403 is
   * an {@linkcode AuthError}, any other answer outside 2xx an
   * {@linkcode HttpStatusError}. The gateway client sends its TPAPI requests
   * through this too.
   *
   * @example A query by hand
   * ```ts
   * import { CloudClient } from "./cloud_client.ts";
   * import { HttpClient } from "./http.ts";
   * import { DEFAULT_CA_PEM, startEmulator } from "../emulator/mod.ts";
   * import assert from "node:assert/strict";
   *
   * const emulator = await startEmulator({ port: 0 });
   * const http = new HttpClient(emulator.url, { trust: { kind: "ca", caPem: [DEFAULT_CA_PEM] } });
   * const client = new CloudClient(http);
   * const body = new TextEncoder().encode(`{"request":[{"sha1":"${"1".repeat(40)}"}]}`);
   * const text = await client.call("query", "POST", "query", (answer) => answer.text(), {
   *   body,
   *   contentType: "application/json",
   * });
   * assert.match(text, /NOT_FOUND/);
   * client.close();
   * await emulator.close();
   * ```
   */
  call<T>(
    what: string,
    method: string,
    op: string,
    read: (answer: HttpAnswer) => Promise<T>,
    options: SendOptions & { retry?: boolean } = {},
  ): Promise<T> {
    const { body, contentType } = options;
    const policy = this.#options.retry ?? DEFAULT_RETRY;
    // A call's own signal (the preflight's deadline) ends it as the client's does.
    const signals = [this.#options.signal, options.signal].filter((s) => s !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    return withRetry(
      async () => read(await this.#session.send(what, method, op, { body, contentType, signal })),
      options.retry === false ? { ...policy, attempts: 1 } : policy,
      (error) => isTransient(error) && (this.#options.mayRetry?.(error) ?? true),
      (error, attempt, delay) => this.#options.onRetry?.(what, error, attempt, delay),
      signal,
    );
  }

  /**
   * Queries many files in one request. The answer keeps the server's shape
   * (array or object); callers match items by digest, not by position.
   *
   * @example Query a hash the appliance has never seen
   * ```ts
   * import { CloudClient } from "./cloud_client.ts";
   * import { HttpClient } from "./http.ts";
   * import { DEFAULT_CA_PEM, startEmulator } from "../emulator/mod.ts";
   * import assert from "node:assert/strict";
   *
   * const emulator = await startEmulator({ port: 0 });
   * const http = new HttpClient(emulator.url, { trust: { kind: "ca", caPem: [DEFAULT_CA_PEM] } });
   * const client = new CloudClient(http);
   * const { items } = await client.query([{ sha1: "1".repeat(40), features: ["te"] }]);
   * assert.equal(items[0].status.code, 1004);
   * client.close();
   * await emulator.close();
   * ```
   */
  query(
    items: RequestItem[],
    options: { retry?: boolean; signal?: AbortSignal } = {},
  ): Promise<ResponseBody> {
    const body = new TextEncoder().encode(JSON.stringify({ request: items }));
    return this.call(
      "query",
      "POST",
      "query",
      (answer) => readResponseBody(answer, "query answer"),
      { body, contentType: "application/json", ...options },
    );
  }

  /**
   * Uploads one file, streamed from disk with a `Content-Length`, in one try
   * (the caller decides whether to send it again).
   *
   * @example Upload a file, then query it once emulated
   * ```ts
   * import { CloudClient } from "./cloud_client.ts";
   * import { HttpClient } from "./http.ts";
   * import { DEFAULT_CA_PEM, startEmulator } from "../emulator/mod.ts";
   * import assert from "node:assert/strict";
   *
   * const emulator = await startEmulator({ port: 0 });
   * const http = new HttpClient(emulator.url, { trust: { kind: "ca", caPem: [DEFAULT_CA_PEM] } });
   * const client = new CloudClient(http);
   * const path = await Deno.makeTempFile();
   * await Deno.writeTextFile(path, "TE-EMULATOR-MALICIOUS");
   * const item = await client.upload({ path, size: 21, name: "a.pdf" }, { features: ["te"] });
   * assert.equal(item.status.label, "UPLOAD_SUCCESS");
   * emulator.advanceClock(60_000);
   * const { items } = await client.query([{ sha1: item.sha1, features: ["te"] }]);
   * assert.equal(items[0].te?.combined_verdict, "Malicious");
   * client.close();
   * await emulator.close();
   * await Deno.remove(path);
   * ```
   */
  upload(file: UploadSource, item: RequestItem): Promise<ResponseItem> {
    const { contentType, body } = multipartUpload(JSON.stringify({ request: item }), file);
    return this.call("upload", "POST", "upload", async (answer) => {
      const parsed = await readResponseBody(answer, "upload answer");
      if (parsed.items.length !== 1) {
        throw new ProtocolError(`upload answer: expected one item, got ${parsed.items.length}`);
      }
      return parsed.items[0];
      // Never retried here: every try sends the whole file, and the caller counts the file's sends.
    }, { body, contentType, retry: false });
  }

  /**
   * Downloads a report or cleaned file by id.
   *
   * @example Download the summary report of an emulated file
   * ```ts
   * import { CloudClient } from "./cloud_client.ts";
   * import { HttpClient } from "./http.ts";
   * import { DEFAULT_CA_PEM, startEmulator } from "../emulator/mod.ts";
   * import assert from "node:assert/strict";
   *
   * const emulator = await startEmulator({ port: 0 });
   * const http = new HttpClient(emulator.url, { trust: { kind: "ca", caPem: [DEFAULT_CA_PEM] } });
   * const client = new CloudClient(http);
   * const { sha1 } = emulator.learn(new TextEncoder().encode("TE-EMULATOR-MALICIOUS"), "a.pdf");
   * emulator.advanceClock(60_000);
   * const te = { reports: ["summary"] };
   * const { items } = await client.query([{ sha1, features: ["te"], te }]);
   * const { fileName, bytes } = await client.download(items[0].te!.summary_report!);
   * assert.match(fileName!, /^summary_.*\.tar\.gz\.base64$/);
   * assert.ok(bytes.length > 0);
   * client.close();
   * await emulator.close();
   * ```
   */
  download(id: string): Promise<Download> {
    return this.call("download", "GET", `download?id=${encodeURIComponent(id)}`, async (answer) => {
      const fileName = contentDispositionName(answer.headers.get("content-disposition"));
      const bytes = await answer.bytes();
      return fileName ? { fileName, bytes } : { bytes };
    });
  }

  /** Closes idle connections. */
  close(): void {
    this.#session.close();
  }

  /**
   * Reads the API key's quota (cloud only).
   *
   * @example Uploads left this hour
   * ```ts
   * import { CloudClient } from "./cloud_client.ts";
   * import { HttpClient } from "./http.ts";
   * import { DEFAULT_CA_PEM, startEmulator } from "../emulator/mod.ts";
   * import assert from "node:assert/strict";
   *
   * const emulator = await startEmulator({ port: 0, mode: "cloud", quota: 10 });
   * const http = new HttpClient(emulator.url, { trust: { kind: "ca", caPem: [DEFAULT_CA_PEM] } });
   * const client = new CloudClient(http);
   * assert.equal((await client.quota()).remain_quota_hour, 10);
   * client.close();
   * await emulator.close();
   * ```
   */
  quota(): Promise<QuotaInfo> {
    return this.call(
      "quota",
      "POST",
      "quota",
      async (answer) => parseQuotaBody(parseJsonText(await answer.text(), "quota answer")),
    );
  }
}
