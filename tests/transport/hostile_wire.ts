/**
 * A bare HTTPS/1.1 server for the randomized-answer test, written on
 * `Deno.listenTls` rather than `Deno.serve` because the test needs what a
 * well-behaved server library will not do: close a connection without
 * answering, promise a `Content-Length` and send less, trickle an answer
 * byte by byte, or answer with a status line a library would refuse.
 *
 * It understands just enough HTTP for te-scan's client (which always sends
 * a `Content-Length` with a body) and keeps connections alive between
 * requests, as appliances do, so the client's connection reuse is exercised.
 *
 * @module
 */

import { concatBytes } from "../../lib/util/bytes.ts";
import { DEFAULT_CERT_PEM, DEFAULT_KEY_PEM } from "../../lib/emulator/mod.ts";
import { sleep } from "../../lib/util/sleep.ts";

/** A request as read off the wire. */
export interface WireRequest {
  method: string;
  /** Path and query string. */
  target: string;
  headers: Headers;
  body: Uint8Array;
}

/** What to do with a request. */
export type WirePlan =
  | { kind: "reset"; delayMs?: number }
  | {
    kind: "send";
    status: number;
    headers?: Record<string, string>;
    body: Uint8Array;
    /** Wait before the status line. */
    delayMs?: number;
    /** Send only this many body bytes (the header still promises them all), then close. */
    cut?: number;
    /** Send the answer in small pieces with pauses. */
    trickle?: boolean;
    /** Send the head at once, then the body one byte every `dripMs`. */
    dripMs?: number;
    /** Close the connection after the answer. */
    close?: boolean;
  };

/** Answers one request. */
export type WireHandler = (request: WireRequest) => Promise<WirePlan> | WirePlan;

const CRLF2 = new Uint8Array([13, 10, 13, 10]);
const MAX_HEAD = 64 * 1024;
const encoder = new TextEncoder();

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

/** Buffered reads off a connection. */
class ByteReader {
  #buffer: Uint8Array = new Uint8Array(0);
  constructor(readonly conn: Deno.Conn) {}

  async #fill(): Promise<boolean> {
    const chunk = new Uint8Array(16 * 1024);
    const n = await this.conn.read(chunk);
    if (n === null) return false;
    this.#buffer = concatBytes([this.#buffer, chunk.subarray(0, n)]);
    return true;
  }

  /** Bytes up to and including `\r\n\r\n`; `null` at a clean end of stream. */
  async head(): Promise<Uint8Array | null> {
    for (;;) {
      const at = indexOf(this.#buffer, CRLF2);
      if (at >= 0) return this.take(at + 4);
      if (this.#buffer.length > MAX_HEAD) throw new Error("request head too large");
      if (!(await this.#fill())) return null;
    }
  }

  async exactly(n: number): Promise<Uint8Array> {
    while (this.#buffer.length < n) {
      if (!(await this.#fill())) throw new Error("request body cut short");
    }
    return this.take(n);
  }

  take(n: number): Uint8Array {
    const out = this.#buffer.slice(0, n);
    this.#buffer = this.#buffer.slice(n);
    return out;
  }
}

async function readRequest(reader: ByteReader): Promise<WireRequest | null> {
  const head = await reader.head();
  if (!head) return null;
  const lines = new TextDecoder().decode(head).split("\r\n");
  const [method, target] = lines[0].split(" ");
  const headers = new Headers();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  if (headers.has("transfer-encoding")) throw new Error("chunked requests are not expected");
  const length = Number(headers.get("content-length") ?? "0");
  const body = await reader.exactly(length);
  return { method, target, headers, body };
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

/** Writes one answer; returns whether the connection may carry another request. */
async function writePlan(conn: Deno.Conn, plan: WirePlan): Promise<boolean> {
  if (plan.delayMs) await sleep(plan.delayMs);
  if (plan.kind === "reset") return false;
  const lines = [`HTTP/1.1 ${plan.status} Hostile`];
  for (const [key, value] of Object.entries(plan.headers ?? {})) lines.push(`${key}: ${value}`);
  lines.push(`content-length: ${plan.body.length}`);
  const keep = !plan.close && plan.cut === undefined;
  lines.push(`connection: ${keep ? "keep-alive" : "close"}`);
  const head = encoder.encode(lines.join("\r\n") + "\r\n\r\n");
  const body = plan.cut === undefined ? plan.body : plan.body.subarray(0, plan.cut);
  const whole = concatBytes([head, body]);
  if (plan.dripMs !== undefined) {
    await writeAll(conn, head);
    for (let offset = 0; offset < body.length; offset++) {
      await sleep(plan.dripMs);
      await writeAll(conn, body.subarray(offset, offset + 1));
    }
    return keep;
  }
  if (!plan.trickle) {
    await writeAll(conn, whole);
    return keep;
  }
  const step = Math.max(1, Math.ceil(whole.length / 8));
  for (let offset = 0; offset < whole.length; offset += step) {
    await writeAll(conn, whole.subarray(offset, offset + step));
    await sleep(3);
  }
  return keep;
}

/**
 * The server: one task per connection, each answering its requests in turn.
 *
 * @example
 * ```ts ignore
 * const server = new HostileWireServer(() => ({ kind: "reset" }));
 * console.log(server.port);
 * await server.close();
 * ```
 */
export class HostileWireServer {
  readonly #listener: Deno.TlsListener;
  readonly #conns = new Set<Deno.Conn>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #accepting: Promise<void>;

  constructor(readonly handler: WireHandler) {
    this.#listener = Deno.listenTls({
      hostname: "127.0.0.1",
      port: 0,
      cert: DEFAULT_CERT_PEM,
      key: DEFAULT_KEY_PEM,
    });
    this.#accepting = this.#accept();
  }

  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  async #accept(): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch {
        return;
      }
      this.#conns.add(conn);
      const task = this.#serve(conn).finally(() => {
        this.#conns.delete(conn);
        this.#tasks.delete(task);
      });
      this.#tasks.add(task);
    }
  }

  async #serve(conn: Deno.Conn): Promise<void> {
    const reader = new ByteReader(conn);
    try {
      for (;;) {
        const request = await readRequest(reader);
        if (!request) return;
        const plan = await this.handler(request);
        if (!(await writePlan(conn, plan))) return;
      }
    } catch {
      // The client went away, or sent what this server does not parse: drop the connection.
    } finally {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  }

  /** Stops listening, closes every connection and waits for every answer in progress. */
  async close(): Promise<void> {
    this.#listener.close();
    await this.#accepting;
    for (const conn of this.#conns) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
    await Promise.all([...this.#tasks]);
  }
}
