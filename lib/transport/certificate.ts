/**
 * The certificate a TLS server presents, fetched without verifying it: for
 * `te-scan trust`, and to show an operator which certificate a scan refused
 * (its subject and SHA-256 fingerprint) and how to trust it.
 *
 * @module
 */

import { X509Certificate } from "node:crypto";
import tls from "node:tls";
import { reasonOf } from "../util/reason.ts";
import { openTunnel, type ProxyAddress } from "./proxy.ts";

/** What an appliance presented. */
export interface PresentedCertificate {
  pem: string;
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  subjectAltName?: string;
  selfSigned: boolean;
  /** Upper-case hex with colons, as browsers and the appliance console show it. */
  sha256: string;
  /** Whether the certificate names the host it was fetched from. */
  namesHost: boolean;
}

function toPem(der: Uint8Array): string {
  const lines = der.toBase64().match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}

/**
 * Connects without verifying and returns the certificate the host presents.
 *
 * @example The certificate the emulator presents
 * ```ts
 * import { fetchCertificate } from "./certificate.ts";
 * import { startEmulator } from "../emulator/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const emulator = await startEmulator({ port: 0 });
 * const cert = await fetchCertificate("127.0.0.1", emulator.port);
 * assert.equal(cert.namesHost, true);
 * assert.match(cert.sha256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
 * await emulator.close();
 * ```
 */
export async function fetchCertificate(
  host: string,
  port: number,
  timeoutMs = 15_000,
  proxy?: ProxyAddress,
): Promise<PresentedCertificate> {
  // Through a proxy, the TLS handshake runs over its tunnel (its refusal says why).
  const tunnel = proxy ? await openTunnel(proxy, host, port) : undefined;
  return await new Promise((resolve, reject) => {
    // Any `ca` keeps node:tls off the system store (which needs --allow-sys); nothing is sent.
    const socket = tls.connect({
      ...(tunnel ? { socket: tunnel } : { host, port }),
      ca: [],
      rejectUnauthorized: false,
      servername: /^[\d.]+$|:/.test(host) ? undefined : host,
    });
    socket.setTimeout(
      timeoutMs,
      () => socket.destroy(new Error(`no TLS answer within ${timeoutMs / 1000} s`)),
    );
    socket.once(
      "error",
      (error) => reject(new Error(`cannot reach ${host}:${port}: ${reasonOf(error)}`)),
    );
    socket.once("secureConnect", () => {
      try {
        const raw = socket.getPeerCertificate(true).raw;
        if (!raw?.length) throw new Error(`${host}:${port} presented no certificate`);
        const x509 = new X509Certificate(raw);
        const namesHost = /^[\d.]+$|:/.test(host)
          ? x509.checkIP(host) !== undefined
          : x509.checkHost(host) !== undefined;
        resolve({
          pem: toPem(new Uint8Array(raw)),
          subject: x509.subject.replace(/\n/g, ", "),
          issuer: x509.issuer.replace(/\n/g, ", "),
          validFrom: x509.validFrom,
          validTo: x509.validTo,
          subjectAltName: x509.subjectAltName,
          selfSigned: x509.subject === x509.issuer,
          sha256: x509.fingerprint256,
          namesHost,
        });
      } catch (error) {
        reject(error);
      } finally {
        socket.destroy();
      }
    });
  });
}
