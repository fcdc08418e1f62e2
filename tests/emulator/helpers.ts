/**
 * Test helpers: a real emulator on a free port, an HTTPS client that trusts
 * the test CA, and the requests the tests make (queries, hand-built
 * multipart uploads, TPAPI calls), each of which reads its whole body so
 * `deno test` sees no leaked resources.
 *
 * @example
 * ```ts
 * import { withEmulator } from "./helpers.ts";
 * await withEmulator({ emulationMs: 30 }, async (h) => {
 *   const answer = await h.query({ md5: "0".repeat(32) });
 * });
 * ```
 * @module
 */

import { parseResponseBody, type ResponseItem } from "../../lib/transport/protocol.ts";
import { parseTpapiResponseBody, type TpapiResponseItem } from "../../lib/transport/tpapi_types.ts";
import {
  type EmulatorOptions,
  type RunningEmulator,
  startEmulator,
} from "../../lib/emulator/server.ts";
import type { EmulatorStats } from "../../lib/emulator/stats.ts";
import { sleep } from "../../lib/util/sleep.ts";

/** The test CA, read from the fixture (not from the built-in copy under test). */
export const CA_PEM = await Deno.readTextFile(new URL("../fixtures/tls/ca.pem", import.meta.url));

const ENCODER = new TextEncoder();

/** A raw HTTP answer with its body read. */
export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  bytes: Uint8Array;
  /** The body parsed as JSON, or `undefined` when it is not JSON. */
  json: unknown;
}

async function reply(res: Response): Promise<Reply> {
  const bytes = await res.bytes();
  const text = new TextDecoder().decode(bytes);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, bytes, json };
}

/** Options of a hand-built multipart upload. */
export interface UploadOptions {
  /** `request` (default) or the `json` alias. */
  partName?: "request" | "json";
  /** The JSON part as a file-style part (`filename="request"`), as Python `requests` sends it. */
  fileStylePart?: boolean;
  /** Send `{"request":[…]}` instead of `{"request":{…}}`. */
  asArray?: boolean;
  /** The file part's filename; `null` for none. */
  fileName?: string | null;
}

/** A multipart body built by hand, as te-scan's client streams it. */
export function multipartBody(
  request: unknown,
  content: Uint8Array,
  options: UploadOptions = {},
): { body: Uint8Array<ArrayBuffer>; contentType: string } {
  const boundary = `----emutest${crypto.randomUUID().replaceAll("-", "")}`;
  const partName = options.partName ?? "request";
  const requestHead = options.fileStylePart
    ? `Content-Disposition: form-data; name="${partName}"; filename="${partName}"\r\n`
    : `Content-Disposition: form-data; name="${partName}"\r\nContent-Type: application/json\r\n`;
  const fileName = options.fileName === undefined ? "sample.bin" : options.fileName;
  const fileHead = fileName === null
    ? `Content-Disposition: form-data; name="file"\r\n`
    : `Content-Disposition: form-data; name="file"; filename="${fileName}"\r\n`;
  const head = ENCODER.encode(
    `--${boundary}\r\n${requestHead}\r\n${JSON.stringify(request)}\r\n` +
      `--${boundary}\r\n${fileHead}Content-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = ENCODER.encode(`\r\n--${boundary}--\r\n`);
  const body = new Uint8Array(head.length + content.length + tail.length);
  body.set(head);
  body.set(content, head.length);
  body.set(tail, head.length + content.length);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

/** A running emulator and a client for it. */
export class Harness {
  readonly emulator: RunningEmulator;
  readonly client: Deno.HttpClient;
  /** HTTP requests this harness made (the stats route aside), to check `http_requests`. */
  requestsMade = 0;

  constructor(emulator: RunningEmulator, client: Deno.HttpClient) {
    this.emulator = emulator;
    this.client = client;
  }

  /** Any request; the body is read completely. */
  fetch(path: string, init: RequestInit = {}): Promise<Reply> {
    this.requestsMade++;
    return this.#raw(path, init);
  }

  async #raw(path: string, init: RequestInit = {}): Promise<Reply> {
    const res = await fetch(`${this.emulator.url}${path}`, { ...init, client: this.client });
    return await reply(res);
  }

  /** POSTs a JSON text (or object) to a path. */
  postJson(path: string, body: unknown, headers: HeadersInit = {}): Promise<Reply> {
    return this.fetch(path, {
      method: "POST",
      headers,
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  }

  /** A query with one object (answer `response` is an object) or an array. */
  async queryRaw(request: unknown, headers: HeadersInit = {}): Promise<Reply> {
    return await this.postJson("/tecloud/api/v1/file/query", { request }, headers);
  }

  /** Queries one object and returns its answer, checked against the client-side contract. */
  async query(request: Record<string, unknown>): Promise<ResponseItem> {
    const r = await this.queryRaw([{ features: ["te", "te_eb"], ...request }]);
    if (r.status !== 200) throw new Error(`query answered ${r.status}: ${r.text}`);
    return parseResponseBody(r.json, "query answer").items[0];
  }

  /** Queries many objects in one request; answers checked against the contract. */
  async queryMany(requests: Record<string, unknown>[]): Promise<ResponseItem[]> {
    const r = await this.queryRaw(requests);
    if (r.status !== 200) throw new Error(`query answered ${r.status}: ${r.text}`);
    return parseResponseBody(r.json, "query answer").items;
  }

  /** A hand-built multipart upload. */
  uploadRaw(
    content: Uint8Array | string,
    request: Record<string, unknown> = {},
    options: UploadOptions = {},
    headers: HeadersInit = {},
  ): Promise<Reply> {
    const bytes = typeof content === "string" ? ENCODER.encode(content) : content;
    const { body, contentType } = multipartBody(
      { request: options.asArray ? [request] : request },
      bytes,
      options,
    );
    return this.fetch("/tecloud/api/v1/file/upload", {
      method: "POST",
      headers: { ...Object.fromEntries(new Headers(headers)), "content-type": contentType },
      body,
    });
  }

  /** Uploads and returns the (contract-checked) answer item. */
  async upload(
    content: Uint8Array | string,
    request: Record<string, unknown> = {},
    options: UploadOptions = {},
  ): Promise<ResponseItem> {
    const r = await this.uploadRaw(content, { features: ["te", "te_eb"], ...request }, options);
    if (r.status !== 200) throw new Error(`upload answered ${r.status}: ${r.text}`);
    return parseResponseBody(r.json, "upload answer").items[0];
  }

  /** A TPAPI call; answers checked against the client-side contract. */
  async tpapi(request: unknown): Promise<{ reply: Reply; items: TpapiResponseItem[] }> {
    const r = await this.postJson("/UserCheck/TPAPI", { request });
    if (r.status !== 200) return { reply: r, items: [] };
    return { reply: r, items: parseTpapiResponseBody(r.json) };
  }

  /** Downloads an id. */
  download(id: string): Promise<Reply> {
    return this.fetch(`/tecloud/api/v1/file/download?id=${encodeURIComponent(id)}`);
  }

  /** Queues faults. */
  async faults(faults: Record<string, unknown>[]): Promise<void> {
    const r = await this.postJson("/__emulator/faults", { faults });
    if (r.status !== 200) throw new Error(`faults answered ${r.status}: ${r.text}`);
  }

  /** Moves the emulator's clock forward through the HTTP route. */
  async advanceClock(ms: number): Promise<void> {
    const r = await this.postJson("/__emulator/clock", { advance_ms: ms });
    if (r.status !== 200) throw new Error(`clock answered ${r.status}: ${r.text}`);
  }

  /** The counters, through the HTTP route (which does not count itself). */
  async stats(): Promise<EmulatorStats> {
    const r = await this.#raw("/__emulator/stats");
    return r.json as EmulatorStats;
  }

  /**
   * Queries until `done` holds, at most `limitMs`; returns every answer seen.
   * A short pause between polls keeps the loop from hammering the server;
   * correctness never depends on its length.
   */
  async pollUntil(
    request: Record<string, unknown>,
    done: (item: ResponseItem) => boolean,
    limitMs = 5000,
  ): Promise<ResponseItem[]> {
    const seen: ResponseItem[] = [];
    const deadline = performance.now() + limitMs;
    while (performance.now() < deadline) {
      const item = await this.query(request);
      seen.push(item);
      if (done(item)) return seen;
      await sleep(2);
    }
    throw new Error(`state not reached in ${limitMs} ms; last: ${JSON.stringify(seen.at(-1))}`);
  }
}

/** Runs `fn` against a fresh emulator on a free port; always closes both ends. */
export async function withEmulator(
  options: Partial<EmulatorOptions>,
  fn: (h: Harness) => Promise<void>,
): Promise<void> {
  const emulator = await startEmulator({ port: 0, ...options });
  const client = Deno.createHttpClient({ caCerts: [CA_PEM] });
  try {
    await fn(new Harness(emulator, client));
  } finally {
    client.close();
    await emulator.close();
  }
}

/** Gunzips bytes with the built-in DecompressionStream. */
export async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new DecompressionStream("gzip"),
  );
  return await new Response(stream).bytes();
}

/** One member of a tar archive. */
export interface TarMember {
  name: string;
  type: string;
  linkName: string;
  data: Uint8Array;
}

/** Lists a ustar archive (enough of the format to check what the emulator wrote). */
export function listTar(bytes: Uint8Array): TarMember[] {
  const text = (from: number, length: number) =>
    new TextDecoder().decode(bytes.subarray(from, from + length)).replace(/\0.*$/s, "");
  const members: TarMember[] = [];
  for (let offset = 0; offset + 512 <= bytes.length;) {
    if (bytes.subarray(offset, offset + 512).every((b) => b === 0)) break;
    const prefix = text(offset + 345, 155);
    const name = prefix ? `${prefix}/${text(offset, 100)}` : text(offset, 100);
    const size = parseInt(text(offset + 124, 12).trim() || "0", 8);
    const type = text(offset + 156, 1) || "0";
    const data = bytes.slice(offset + 512, offset + 512 + size);
    members.push({ name, type, linkName: text(offset + 157, 100), data });
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return members;
}

/** Bytes holding a test marker (assembled, so this file does not trip scanners). */
export function marked(
  marker:
    | "MALICIOUS"
    | "EARLY-MALICIOUS"
    | "UNSUPPORTED"
    | "ACTIVE-CONTENT"
    | "ENCRYPTED"
    | "EMULATION-ERROR",
  unique: string,
): string {
  return `unique ${unique}\nTE-EMULATOR-${marker}\nend\n`;
}
