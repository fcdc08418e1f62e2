/**
 * HTTP CONNECT proxies (`--proxy http://HOST:PORT`): jump hosts often reach
 * the cloud, and sometimes their appliances, only through one. Every
 * connection te-scan makes opens a tunnel first (`CONNECT host:port`), then
 * speaks TLS over it end to end: the proxy sees the host name, never the
 * traffic, and the certificate is checked as without a proxy.
 *
 * A proxy that cannot be reached, refuses the tunnel or asks for
 * authentication (407: te-scan sends none) is a {@linkcode ProxyError}:
 * a configuration error, found by the preflight, exit 3.
 *
 * @module
 */

import https from "node:https";
import net from "node:net";
import tls from "node:tls";
import type { ClientRequestArgs } from "node:http";
import type { Duplex } from "node:stream";

/** Where the proxy listens. */
export interface ProxyAddress {
  host: string;
  port: number;
  /** `http://HOST:PORT`, for messages and for Deno's own client. */
  url: string;
}

/** The proxy cannot be reached or will not open the tunnel: a configuration error. */
export class ProxyError extends Error {
  override name = "ProxyError";
}

/**
 * Reads `--proxy`: `http://HOST:PORT` (a proxy reached in plain HTTP, as
 * corporate proxies are), nothing else; no credentials (they would show in
 * `ps`), no path.
 *
 * @example A proxy address, and what is refused
 * ```ts
 * import { parseProxy } from "./proxy.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseProxy("http://10.0.0.9:3128"), {
 *   host: "10.0.0.9",
 *   port: 3128,
 *   url: "http://10.0.0.9:3128",
 * });
 * assert.throws(() => parseProxy("10.0.0.9:3128"), /expected http:\/\/HOST:PORT/);
 * assert.throws(() => parseProxy("http://u:p@proxy:3128"), /credentials/);
 * ```
 */
export function parseProxy(text: string): ProxyAddress {
  const expected = `expected http://HOST:PORT, got ${JSON.stringify(text)}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RangeError(expected);
  }
  if (url.protocol !== "http:" || !url.hostname || !url.port) throw new RangeError(expected);
  if (url.username || url.password) {
    throw new RangeError("credentials in the proxy address are not supported (they show in ps)");
  }
  if (url.pathname !== "/" || url.search || url.hash) throw new RangeError(expected);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return { host, port: Number(url.port), url: `http://${url.host}` };
}

/** The proxy's answer to CONNECT, up to the blank line (a few hundred bytes in practice). */
const MAX_ANSWER_HEAD = 16 * 1024;

/** How long the proxy may take to answer CONNECT. */
const CONNECT_TIMEOUT_MS = 15_000;

/**
 * Opens a tunnel to `host:port` through `proxy`; resolves with the socket
 * once the proxy answered 200, ready for TLS.
 *
 * @example A proxy that is not there
 * ```ts
 * import { openTunnel, ProxyError } from "./proxy.ts";
 * import assert from "node:assert/strict";
 *
 * const proxy = { host: "127.0.0.1", port: 1, url: "http://127.0.0.1:1" };
 * await assert.rejects(openTunnel(proxy, "example.com", 443), ProxyError);
 * ```
 */
export function openTunnel(proxy: ProxyAddress, host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(proxy.port, proxy.host);
    const fail = (why: string) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new ProxyError(`Cannot connect through the proxy ${proxy.url}: ${why}`));
    };
    const timer = setTimeout(
      () => fail(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s`),
      CONNECT_TIMEOUT_MS,
    );
    const target = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
    let head = "";
    const onData = (chunk: Uint8Array) => {
      head += new TextDecoder().decode(chunk);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) {
        if (head.length > MAX_ANSWER_HEAD) fail("its answer to CONNECT has no end");
        return;
      }
      socket.off("data", onData);
      socket.off("error", onError);
      clearTimeout(timer);
      const status = head.slice(0, head.indexOf("\r\n"));
      const code = /^HTTP\/1\.[01] (\d{3})/.exec(status)?.[1];
      if (code === "200") return resolve(socket);
      socket.destroy();
      reject(new ProxyError(refusal(proxy, target, code, status)));
    };
    const onError = (error: Error) => fail(`${error.message} (is --proxy right?)`);
    socket.on("data", onData);
    socket.on("error", onError);
    socket.once("connect", () => {
      socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
    });
  });
}

/**
 * After a request through `proxy` to `url` failed: throws the proxy's
 * {@linkcode ProxyError} if a tunnel of its own cannot be opened either;
 * otherwise the proxy is not at fault, and it returns.
 *
 * @example A proxy that is not there is at fault
 * ```ts
 * import { proxyAtFault, ProxyError } from "./proxy.ts";
 * import assert from "node:assert/strict";
 *
 * const proxy = { host: "127.0.0.1", port: 1, url: "http://127.0.0.1:1" };
 * await assert.rejects(proxyAtFault(proxy, new URL("https://example.com/")), ProxyError);
 * ```
 */
export async function proxyAtFault(proxy: ProxyAddress, url: URL): Promise<void> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let socket;
  try {
    socket = await openTunnel(proxy, host, Number(url.port || 443));
  } catch (error) {
    if (error instanceof ProxyError) throw error;
  }
  socket?.destroy();
}

function refusal(proxy: ProxyAddress, target: string, code: string | undefined, status: string) {
  const lead = `Cannot connect through the proxy ${proxy.url}`;
  if (code === "407") {
    return `${lead}: it asks for authentication (${status.slice(9)}); te-scan sends none: ` +
      `use a proxy that lets this host through without it`;
  }
  const said = code ? status.slice(9) : JSON.stringify(status.slice(0, 80));
  return `${lead}: it refused the tunnel to ${target} (${said})`;
}

/**
 * A node:https agent whose every connection is TLS over a CONNECT tunnel
 * through `proxy`; `options` as for any agent (CA, pooling).
 *
 * @example A request through a proxy that is not there fails with the proxy's error
 * ```ts
 * import { proxyAgent } from "./proxy.ts";
 * import https from "node:https";
 * import assert from "node:assert/strict";
 *
 * const agent = proxyAgent({ host: "127.0.0.1", port: 1, url: "http://127.0.0.1:1" }, {});
 * const error = await new Promise<Error>((resolve) => {
 *   https.request({ host: "example.com", port: 443, agent }).on("error", resolve).end();
 * });
 * assert.match(error.message, /Cannot connect through the proxy http:\/\/127\.0\.0\.1:1/);
 * agent.destroy();
 * ```
 */
export function proxyAgent(proxy: ProxyAddress, options: https.AgentOptions): https.Agent {
  return new TunnelAgent(proxy, options);
}

class TunnelAgent extends https.Agent {
  readonly #proxy: ProxyAddress;

  constructor(proxy: ProxyAddress, options: https.AgentOptions) {
    super(options);
    this.#proxy = proxy;
  }

  // The callback form lets the agent wait for the tunnel before it hands the socket out
  // (returning no socket tells it to); the agent's TLS options go to the TLS over the tunnel.
  override createConnection(
    options: ClientRequestArgs,
    callback?: (error: Error | null, stream: Duplex) => void,
  ): Duplex {
    const tlsOptions = options as tls.ConnectionOptions;
    openTunnel(this.#proxy, tlsOptions.host ?? "localhost", Number(tlsOptions.port ?? 443)).then(
      (socket) => callback?.(null, tls.connect({ ...tlsOptions, socket })),
      (error) => callback?.(error, undefined as unknown as Duplex),
    );
    return undefined as unknown as Duplex;
  }
}
