/**
 * One line that says what is wrong with a target and what to do: an
 * operator's first run is usually a wrong one (a missing certificate
 * option, a typo in the URL, the wrong port), and a minute of retries that
 * hides the cause helps nobody. Every failure of the preflight, and every
 * error that stops a run, is described here.
 *
 * @module
 */

import { reasonOf } from "../fs/errors.ts";
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

function networkAdvice(target: TargetContext, error: NetworkError): string {
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
  if (error instanceof NetworkError) return networkAdvice(target, error);
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
