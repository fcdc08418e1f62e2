/**
 * `te-scan trust HOST[:PORT]`: fetches an appliance's certificate, shows
 * who it names and its SHA-256 fingerprint, and saves it on request, so the
 * operator can check it once (against the appliance console) and then scan
 * with `--pin` or `--ca-cert` instead of turning verification off.
 *
 * @example Show and save the certificate of an emulated appliance
 * ```ts
 * import { trustCommand } from "./trust.ts";
 * import { Terminal } from "./terminal.ts";
 * import { startEmulator } from "../emulator/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const emulator = await startEmulator({ port: 0 });
 * const dir = await Deno.makeTempDir();
 * const out: string[] = [];
 * const terminal = new Terminal({
 *   out: (t) => out.push(t),
 *   isTerminal: { out: false, err: false },
 * });
 * const code = await trustCommand(
 *   [`127.0.0.1:${emulator.port}`, "--save", `${dir}/appliance.pem`],
 *   terminal,
 * );
 * assert.equal(code, 0);
 * assert.match(out.join(""), /subject   CN=te-scan emulator/);
 * assert.match(await Deno.readTextFile(`${dir}/appliance.pem`), /^-----BEGIN CERTIFICATE-----/);
 * await emulator.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import { splitHostPort } from "./connect.ts";
import { parseProxyOption } from "./args.ts";
import type { ProxyAddress } from "../transport/proxy.ts";
import { usageErrorOf } from "./suggest.ts";
import { fetchCertificate, type PresentedCertificate } from "../transport/certificate.ts";
import { reasonOf } from "../util/reason.ts";
import { Exit } from "./exit.ts";
import { escapeControl } from "./render.ts";
import { processTerminal, type Terminal } from "./terminal.ts";

/**
 * What `te-scan trust` prints about a certificate, and how to use it. The
 * certificate's texts come from the host, so control characters are shown
 * as escapes.
 *
 * @example A saved self-signed certificate that names its host
 * ```ts
 * import { describeCertificate } from "./trust.ts";
 * import assert from "node:assert/strict";
 *
 * const lines = describeCertificate("127.0.0.1", 18194, {
 *   pem: "",
 *   subject: "CN=appliance",
 *   issuer: "CN=appliance",
 *   validFrom: "Jan 1 00:00:00 2026 GMT",
 *   validTo: "Jan 1 00:00:00 2036 GMT",
 *   selfSigned: true,
 *   sha256: "AB:CD",
 *   namesHost: true,
 * }, "appliance.pem");
 * assert.equal(lines[0], "127.0.0.1:18194 presents:");
 * assert.equal(lines.at(-1), "  or --ca-cert appliance.pem");
 * ```
 */
export function describeCertificate(
  host: string,
  port: number,
  cert: PresentedCertificate,
  saved?: string,
): string[] {
  const lines = [
    `${host}:${port} presents:`,
    `  subject   ${cert.subject}`,
    `  issuer    ${cert.issuer}${cert.selfSigned ? " (self-signed)" : ""}`,
    `  valid     ${cert.validFrom} to ${cert.validTo}`,
  ];
  if (cert.subjectAltName) lines.push(`  names     ${cert.subjectAltName}`);
  lines.push(`  SHA-256   ${cert.sha256}`);
  if (saved) lines.push(`  saved to  ${saved}`);
  lines.push("", "Check the fingerprint against the appliance, then scan with:");
  lines.push(`  --pin ${cert.sha256}`);
  if (saved && cert.selfSigned && cert.namesHost) lines.push(`  or --ca-cert ${saved}`);
  else if (saved) lines.push(...whyNotCaCert(cert, saved));
  return lines.map(escapeControl);
}

/** Why a saved certificate cannot be passed as `--ca-cert`, and what to pass instead. */
function whyNotCaCert(cert: PresentedCertificate, saved: string): string[] {
  if (!cert.selfSigned) {
    // TLS checks a leaf against its issuer: the leaf itself is no trust anchor.
    return [
      `  (not --ca-cert ${saved}: this certificate is signed by "${cert.issuer}", not`,
      `  self-signed, so --ca-cert needs that issuing CA's certificate; get it from whoever`,
      `  runs that CA (or the appliance's administrator), or use --pin)`,
    ];
  }
  return [
    `  (not --ca-cert ${saved}: it does not name ${cert.subjectAltName ? "the host" : "any host"}`,
    `  you scan by; scan by a name it carries, or use --pin)`,
  ];
}

const HELP = `Usage: te-scan trust HOST[:PORT] [--save FILE] [--json] [--proxy http://HOST:PORT]

Shows the certificate an appliance presents (default port 18194) with its SHA-256
fingerprint. Compare the fingerprint with the appliance's console, then scan with
  --pin SHA256        (works for any certificate), or
  --ca-cert FILE      (a self-signed certificate that names the host you scan by;
                      for a certificate signed by a CA, that CA's certificate).
--save FILE writes the certificate as PEM (an existing file is never overwritten).
--proxy connects through an HTTP CONNECT proxy, as the scan's --proxy does.`;

/**
 * Runs `te-scan trust`.
 *
 * @example The help, and a usage error
 * ```ts
 * import { trustCommand } from "./trust.ts";
 * import { Terminal } from "./terminal.ts";
 * import assert from "node:assert/strict";
 *
 * const out: string[] = [];
 * const err: string[] = [];
 * const terminal = new Terminal({
 *   out: (t) => out.push(t),
 *   err: (t) => err.push(t),
 *   isTerminal: { out: false, err: false },
 * });
 * assert.equal(await trustCommand(["--help"], terminal), 0);
 * assert.equal(await trustCommand([], terminal), 3);
 * assert.deepEqual(err, ["te-scan trust: give one HOST[:PORT]\n"]);
 * ```
 */
export async function trustCommand(
  argv: string[],
  terminal: Terminal = processTerminal(),
): Promise<number> {
  const fail = (message: string, code: number) => {
    terminal.err(`te-scan trust: ${escapeControl(message)}`);
    return code;
  };
  const options = {
    save: { type: "string" },
    json: { type: "boolean" },
    proxy: { type: "string" },
    help: { type: "boolean", short: "h" },
  } as const;
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    return fail(usageErrorOf(error, Object.keys(options)).message, Exit.USAGE);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    terminal.out(HELP);
    return Exit.CLEAN;
  }
  if (positionals.length !== 1) return fail("give one HOST[:PORT]", Exit.USAGE);
  let host: string;
  let port: number;
  let proxy: ProxyAddress | undefined;
  try {
    ({ host, port } = splitHostPort(positionals[0], "te-scan trust"));
    proxy = values.proxy === undefined ? undefined : parseProxyOption(values.proxy);
  } catch (error) {
    return fail(reasonOf(error), Exit.USAGE);
  }
  let cert: PresentedCertificate;
  try {
    cert = await fetchCertificate(host, port, undefined, proxy);
  } catch (error) {
    return fail(reasonOf(error), Exit.UNRESOLVED);
  }
  if (values.save) {
    try {
      await Deno.writeTextFile(values.save, cert.pem, { createNew: true });
    } catch (error) {
      return fail(`cannot save ${values.save}: ${reasonOf(error)}`, Exit.USAGE);
    }
  }
  if (values.json) {
    terminal.out(JSON.stringify({ event: "certificate", host, port, saved: values.save, ...cert }));
    return Exit.CLEAN;
  }
  terminal.out(describeCertificate(host, port, cert, values.save).join("\n"));
  return Exit.CLEAN;
}
