/**
 * One line that says what is wrong with a target and what to do: an
 * operator's first run is usually a wrong one (a missing certificate
 * option, a typo in the URL, the wrong port), and a minute of retries that
 * hides the cause helps nobody. Every failure of the preflight, and every
 * error that stops a run, is described here.
 *
 * @module
 */

import net from "node:net";
import { reasonOf } from "../util/reason.ts";
import { fetchCertificate } from "./certificate.ts";
import { AuthError, HttpStatusError } from "./cloud_client.ts";
import { QuotaError } from "./fatal.ts";
import { causeChain, NetworkError, TlsError } from "./http.ts";
import { type ProxyAddress, ProxyError } from "./proxy.ts";
import { ProtocolError } from "./validate.ts";

/** What a target is, as the operator named it. */
export interface TargetContext {
  /** `HOST:PORT`. */
  label: string;
  host: string;
  port: number;
  /** The API's base URL. */
  url: string;
  /** Which option named it. */
  kind: "appliance" | "cloud" | "gateway";
  /** How its certificate is checked, and the file of `--ca-cert`. */
  trust: "ca" | "pin" | "insecure" | "system";
  caCert?: string;
  /** The proxy its connections go through (`--proxy`). */
  proxy?: ProxyAddress;
}

/** A target that cannot serve this run: the one line says why and what to do. */
export class TargetError extends Error {
  override name = "TargetError";
}

/** How long the preflight waits for a target's answer before calling it silent. */
export const PREFLIGHT_ANSWER_MS = 10_000;

/** A target that sent no answer to the preflight within {@linkcode PREFLIGHT_ANSWER_MS}. */
export class SilentTargetError extends NetworkError {
  override name = "SilentTargetError";
  constructor(readonly ms = PREFLIGHT_ANSWER_MS) {
    super(`no answer in ${ms / 1000} s`, { code: "ETIMEDOUT" });
  }
}

/** What a bare TCP connection to a port showed. */
export interface PortProbe {
  /** Whether the connection was accepted. */
  open: boolean;
  /** The first bytes the server sent back (as Latin-1 text), if any. */
  first?: string;
  /** Why the connection failed, and its system code. */
  reason?: string;
  code?: string;
}

/**
 * Opens a plain TCP connection to `host:port`, sends `hello` if given, and
 * reports within `ms` whether it was accepted and what came back first: the
 * preflight's second look at a target that spoke no TLS or said nothing.
 *
 * @example A closed port, and a port that speaks plain HTTP
 * ```ts
 * import { probePort } from "./diagnose.ts";
 * import assert from "node:assert/strict";
 *
 * const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, () => new Response("hi"));
 * const http = await probePort("127.0.0.1", server.addr.port, 3_000, "HEAD / HTTP/1.0\r\n\r\n");
 * assert.equal(http.open, true);
 * assert.match(http.first ?? "", /^HTTP\//);
 * await server.shutdown();
 * const closed = await probePort("127.0.0.1", server.addr.port, 3_000);
 * assert.deepEqual([closed.open, closed.code], [false, "ECONNREFUSED"]);
 * ```
 */
export function probePort(
  host: string,
  port: number,
  ms: number,
  hello?: string,
): Promise<PortProbe> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let open = false;
    const done = (probe: Omit<PortProbe, "open">) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ open, ...probe });
    };
    const timer = setTimeout(() => done({ reason: `no answer in ${ms / 1000} s` }), ms);
    socket.once("connect", () => {
      open = true;
      if (hello === undefined) done({});
      else socket.write(hello);
    });
    socket.once(
      "data",
      (chunk: Uint8Array) => done({ first: new TextDecoder("latin1").decode(chunk) }),
    );
    socket.once("end", () => done({}));
    socket.once(
      "error",
      (error: Error & { code?: string }) => done({ reason: reasonOf(error), code: error.code }),
    );
  });
}

/** A TLS handshake answered by something that is not TLS (OpenSSL's and rustls's words). */
const NOT_TLS = /wrong version number|InvalidContentType/i;

const CLOUD_URL = "https://te-api.checkpoint.com/tecloud/api/v1/file/";

function howToName(kind: TargetContext["kind"]): string {
  const ways = {
    appliance: "for an appliance use --ip HOST[:PORT] (the API is on port 18194)",
    cloud: `for the Check Point cloud use --url ${CLOUD_URL}`,
    gateway: "for a Security Gateway use --gateway HOST[:PORT]",
  };
  return [ways[kind], ...Object.entries(ways).filter(([k]) => k !== kind).map(([, w]) => w)]
    .join("; ");
}

async function tlsAdvice(target: TargetContext, detail: string): Promise<string> {
  const lead = `Cannot trust ${target.label}`;
  let cert;
  try {
    cert = await fetchCertificate(target.host, target.port, 5_000, target.proxy);
  } catch {
    return `${lead} (${detail}). Run 'te-scan trust ${target.label}' to see its certificate.`;
  }
  const why = target.trust === "pin"
    ? "its SHA-256 fingerprint is not the one --pin gives"
    : target.trust === "system"
    ? `no --ca-cert or --pin was given, so only public certificate authorities are trusted ` +
      `(${detail})`
    : cert.namesHost
    ? `it is not signed by --ca-cert ${target.caCert} (${detail})`
    : `it does not name ${target.host} (it names ${cert.subjectAltName ?? cert.subject}); ` +
      `scan by a name it carries, or pin it`;
  const pin =
    `check that fingerprint on the appliance's console, then scan with --pin ${cert.sha256}`;
  const save = cert.selfSigned && cert.namesHost
    ? `, or save it with 'te-scan trust ${target.label} --save appliance.pem' and pass ` +
      `--ca-cert appliance.pem`
    : "";
  return `${lead}: ${why}. It presents "${cert.subject}" (SHA-256 ${cert.sha256}); ${pin}${save}.`;
}

/** The advice for a target that accepted a connection but did not answer as HTTPS. */
async function oddPortAdvice(
  target: TargetContext,
  error: NetworkError,
): Promise<string | undefined> {
  const port = target.kind === "appliance" ? "an appliance's API is on port 18194" : "";
  const which = `is ${target.label} the API's port${port ? ` (${port})` : ""}?`;
  if (error instanceof SilentTargetError) {
    const probe = await probePort(target.host, target.port, 3_000);
    return probe.open
      ? `Cannot reach ${target.label}: it accepted the connection but sent no answer in ` +
        `${error.ms / 1000} s. Is the service there hung, and ${which}`
      : `Cannot reach ${target.label}: no answer to a connection in ${error.ms / 1000} s ` +
        `(a firewall may drop it). Is the appliance up, and is ${target.label} right?`;
  }
  if (!causeChain(error).some((m) => NOT_TLS.test(m))) return undefined;
  const probe = await probePort(target.host, target.port, 3_000, "HEAD / HTTP/1.0\r\n\r\n");
  return probe.first?.startsWith("HTTP/")
    ? `Cannot reach ${target.label}: this port speaks HTTP, not HTTPS; te-scan only talks ` +
      `HTTPS to a target: ${which}`
    : `Cannot reach ${target.label}: it does not speak TLS (${causeChain(error).at(-1)}): ${which}`;
}

async function networkAdvice(target: TargetContext, error: NetworkError): Promise<string> {
  const odd = await oddPortAdvice(target, error);
  if (odd) return odd;
  const where = `is the appliance up, and is ${target.label} right?`;
  switch (error.code) {
    case "ECONNREFUSED":
      return `Cannot reach ${target.label}: connection refused. Nothing listens there: ${where}`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `Cannot reach ${target.label}: the name ${target.host} does not resolve. ` +
        `Is the host name right?`;
    default:
      return `Cannot reach ${target.label}: ${causeChain(error).at(-1)}. ${
        where[0].toUpperCase() + where.slice(1)
      } (A firewall may drop the connection.)`;
  }
}

/**
 * Describes why `target` failed, in one line with the next step.
 *
 * @example A closed port
 * ```ts
 * import { describeTargetFailure } from "./diagnose.ts";
 * import { NetworkError } from "./http.ts";
 * import assert from "node:assert/strict";
 *
 * const target = {
 *   label: "10.1.1.5:18194",
 *   host: "10.1.1.5",
 *   port: 18194,
 *   url: "https://10.1.1.5:18194/tecloud/api/v1/file/",
 *   kind: "appliance" as const,
 *   trust: "pin" as const,
 * };
 * const line = await describeTargetFailure(
 *   new NetworkError("connect ECONNREFUSED", { code: "ECONNREFUSED" }),
 *   target,
 * );
 * assert.match(line, /connection refused.*is 10\.1\.1\.5:18194 right\?/);
 * ```
 */
export async function describeTargetFailure(
  error: unknown,
  target: TargetContext,
): Promise<string> {
  if (error instanceof TargetError || error instanceof ProxyError) return error.message;
  if (error instanceof TlsError) {
    const detail = causeChain(error).at(-1)?.replace(/^TLS: /, "") ?? reasonOf(error);
    return await tlsAdvice(target, detail);
  }
  if (error instanceof NetworkError) return await networkAdvice(target, error);
  if (error instanceof AuthError) {
    const said = reasonOf(error);
    return said.includes("--api-key-file")
      ? said
      : `${target.label}: ${said}; check the key in --api-key-file (it is never shown)`;
  }
  if (error instanceof QuotaError) {
    return `${reasonOf(error)}: 'te-scan quota' shows when it resets.`;
  }
  if (error instanceof HttpStatusError && !error.transient) {
    return `${target.url} does not serve the Threat Emulation API (HTTP ${error.status}): ` +
      `${howToName(target.kind)}.`;
  }
  if (error instanceof ProtocolError) {
    return `${target.url} does not answer like the Threat Emulation API ` +
      `(${reasonOf(error)}): ${howToName(target.kind)}.`;
  }
  if (error instanceof HttpStatusError) {
    return `${target.label} answered HTTP ${error.status}: it may be starting or overloaded; ` +
      `try again in a minute.`;
  }
  return `${target.label}: ${reasonOf(error)}`;
}
