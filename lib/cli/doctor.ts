/**
 * `te-scan doctor`: checks a target set-up end to end before the first cron
 * run, one line per step with what to do: the name, the port, TLS trust and
 * the certificate's days to expiry, the API, the key, the quota (cloud), the
 * report port (gateway), and an EICAR round trip (built at run time, never
 * stored) unless `--no-eicar`. It asks the same preflight and the same
 * diagnosis as a scan, so a fix it suggests is the fix a scan needs.
 *
 * @example A healthy emulated appliance, without the EICAR round trip
 * ```ts
 * import { doctorCommand } from "./doctor.ts";
 * import { Terminal } from "./terminal.ts";
 * import { DEFAULT_CA_PEM, startEmulator } from "../emulator/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const emulator = await startEmulator({ port: 0 });
 * const caCert = await Deno.makeTempFile({ suffix: ".pem" });
 * await Deno.writeTextFile(caCert, DEFAULT_CA_PEM);
 * const out: string[] = [];
 * const terminal = new Terminal({ out: (t) => out.push(t), isTerminal: { out: false, err: false } });
 * const argv = ["--ip", `127.0.0.1:${emulator.port}`, "--ca-cert", caCert, "--no-eicar"];
 * assert.equal(await doctorCommand(argv, terminal), 0);
 * assert.match(out.join(""), /ok +tls +.*expires in \d+ days/);
 * await emulator.close();
 * await Deno.remove(caCert);
 * ```
 * @module
 */

import dns from "node:dns";
import net from "node:net";
import { join } from "node:path";
import { eicarBytes } from "../emulator/mod.ts";
import { reasonOf } from "../util/reason.ts";
import { decide, type Decision } from "../pipeline/decide.ts";
import { hashFile } from "../pipeline/hash.ts";
import { fetchCertificate } from "../transport/certificate.ts";
import { CloudTransport } from "../transport/cloud.ts";
import { AuthError } from "../transport/cloud_client.ts";
import { describeTargetFailure, probePort, type TargetContext } from "../transport/diagnose.ts";
import { QuotaError } from "../transport/fatal.ts";
import { NetworkError, TlsError } from "../transport/http.ts";
import { sleep } from "../util/sleep.ts";
import type { Transport } from "../transport/transport.ts";
import { parseScanArgs, SCAN_OPTIONS, type ScanArgs, UsageError } from "./args.ts";
import { helpDefault } from "./options.ts";
import { connectRotation, preflightOne } from "./connect.ts";
import { ReportPortError } from "../transport/gateway.ts";
import { Reporter } from "./console.ts";
import { Exit } from "./exit.ts";
import { escapeControl, renderError } from "./render.ts";
import { processTerminal, type Terminal } from "./terminal.ts";

/** One step's outcome: `fail` ends the target's checks. */
interface Check {
  status: "ok" | "warn" | "fail";
  name: string;
  text: string;
}

const DAY_MS = 24 * 3600 * 1000;
/** A certificate expiring sooner than this is worth a warning. */
const EXPIRY_WARN_DAYS = 30;
const PROBE_MS = 5_000;

function line(check: Check): string {
  return escapeControl(`  ${check.status.padEnd(5)} ${check.name.padEnd(11)} ${check.text}`);
}

async function nameCheck(context: TargetContext): Promise<Check> {
  if (net.isIP(context.host)) {
    return { status: "ok", name: "name", text: `${context.host} is an address` };
  }
  try {
    const { address } = await dns.promises.lookup(context.host);
    return { status: "ok", name: "name", text: `${context.host} resolves to ${address}` };
  } catch (error) {
    return {
      status: "fail",
      name: "name",
      text: `${context.host} does not resolve (${reasonOf(error)}): fix the host name`,
    };
  }
}

async function portCheck(host: string, port: number, name = "port"): Promise<Check> {
  const probe = await probePort(host, port, PROBE_MS);
  const where = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  if (probe.open) return { status: "ok", name, text: `${where} accepts connections` };
  const why = probe.code === "ECONNREFUSED"
    ? "connection refused: nothing listens there; start the service or fix the port"
    : `${probe.reason ?? "no connection"}: a firewall may drop it; check the address and route`;
  return { status: "fail", name, text: `${where}: ${why}` };
}

/** Which step a preflight failure belongs to. */
function stepOf(error: unknown, tlsAnswered: boolean): string {
  if (error instanceof TlsError) return "tls";
  if (error instanceof NetworkError) return tlsAnswered ? "api" : "tls";
  if (error instanceof AuthError) return "key";
  if (error instanceof QuotaError) return "quota";
  return "api";
}

async function certificateCheck(context: TargetContext): Promise<Check | undefined> {
  let cert;
  try {
    cert = await fetchCertificate(context.host, context.port, PROBE_MS);
  } catch {
    return undefined;
  }
  const days = Math.floor((Date.parse(cert.validTo) - Date.now()) / DAY_MS);
  const trusted = context.trust === "ca"
    ? `trusted by --ca-cert ${context.caCert}`
    : context.trust === "pin"
    ? "pinned by --pin"
    : context.trust === "insecure"
    ? "NOT verified (--insecure)"
    : "trusted by the system's certificate authorities";
  const text = `"${cert.subject}", ${trusted}; expires in ${days} days (${cert.validTo})`;
  if (days < 0) return { status: "fail", name: "tls", text: `${text}: renew it on the target` };
  const soon = days < EXPIRY_WARN_DAYS || context.trust === "insecure";
  return { status: soon ? "warn" : "ok", name: "tls", text };
}

/** TLS, the API and the key: the scan's own preflight, with its diagnosis. */
async function preflightChecks(transport: Transport, context: TargetContext): Promise<Check[]> {
  // Side by side: a silent target costs the preflight's deadline once, not twice.
  const [error, tls] = await Promise.all([
    // The report port has a check of its own, further on.
    preflightOne(transport).then(
      () => undefined,
      (e: unknown) => e instanceof ReportPortError ? undefined : e,
    ),
    certificateCheck(context),
  ]);
  if (error !== undefined) {
    const step = stepOf(error, tls !== undefined);
    const failed: Check = {
      status: "fail",
      name: step,
      text: await describeTargetFailure(error, context),
    };
    return step === "tls" || !tls ? [failed] : [tls, failed];
  }
  const key = context.kind === "appliance"
    ? "none needed (an appliance's cloud-format API takes no key)"
    : "accepted";
  return [
    tls ?? { status: "ok", name: "tls", text: "trusted" },
    { status: "ok", name: "api", text: `${context.url} answers as the Threat Emulation API` },
    { status: "ok", name: "key", text: key },
  ];
}

async function quotaCheck(
  transport: Transport,
  context: TargetContext,
): Promise<Check | undefined> {
  if (context.kind !== "cloud" || !(transport instanceof CloudTransport)) return undefined;
  try {
    const quota = await transport.client.quota();
    const hour = Number(quota.remain_quota_hour ?? NaN);
    const month = Number(quota.remain_quota_month ?? NaN);
    const text = `${quota.remain_quota_hour ?? "?"} left this hour, ` +
      `${quota.remain_quota_month ?? "?"} this month`;
    return hour === 0 || month === 0
      ? { status: "fail", name: "quota", text: `${text}: 'te-scan quota' shows when it resets` }
      : { status: "ok", name: "quota", text };
  } catch (error) {
    return { status: "fail", name: "quota", text: `cannot read the quota: ${reasonOf(error)}` };
  }
}

/** Asks about the uploaded file until it has a verdict (or an early one), within `timeoutMs`. */
async function verdictOf(
  transport: Transport,
  file: Parameters<Transport["upload"]>[0],
  args: ScanArgs,
): Promise<Decision> {
  const options = { avOnly: !args.features.includes("te") };
  let decision = decide((await transport.upload(file)).item, "upload", options);
  const deadline = Date.now() + args.timeoutMs;
  while ((decision.kind === "wait" || decision.kind === "retry") && Date.now() < deadline) {
    await sleep(Math.min(args.pollIntervalMs, 5_000));
    const [answer] = await transport.query([file]);
    if (!answer.item) return { kind: "error", reason: answer.missing };
    decision = decide(answer.item, "poll", options);
  }
  return decision;
}

/** Uploads the EICAR test file (written at run time, removed after) and waits for its verdict. */
async function eicarCheck(
  transport: Transport,
  context: TargetContext,
  args: ScanArgs,
): Promise<Check> {
  const dir = await Deno.makeTempDir({ prefix: "te-scan-doctor-" });
  try {
    const path = join(dir, "eicar.com");
    await Deno.writeFile(path, eicarBytes());
    const digests = await hashFile(path);
    const file = { ...digests, path, name: "eicar.com" };
    const decision = await verdictOf(transport, file, args);
    if (
      decision.kind === "early-malicious" ||
      (decision.kind === "final" && decision.state === "malicious")
    ) {
      const how = decision.kind === "final"
        ? "final verdict"
        : `early verdict${decision.reason ? ` (${decision.reason})` : ""}`;
      return {
        status: "ok",
        name: "eicar",
        text: `the EICAR test file was uploaded and judged malicious (${how})`,
      };
    }
    const said = decision.kind === "final"
      ? "judged it benign: check the target's Threat Emulation and Anti-Virus policy"
      : decision.kind === "error"
      ? `gave no verdict (${decision.reason})`
      : `gave no verdict within --timeout ${args.timeoutMs / 1000} s`;
    return { status: "fail", name: "eicar", text: `the target ${said}` };
  } catch (error) {
    return {
      status: "fail",
      name: "eicar",
      text: `the EICAR round trip failed: ${await describeTargetFailure(error, context)}`,
    };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** The checks of one target, each printed as soon as it is known; false when one failed. */
async function checkTarget(
  transport: Transport,
  context: TargetContext,
  args: ScanArgs & { eicar: boolean },
  print: (check: Check) => void,
): Promise<boolean> {
  const steps: (() => Promise<Check | Check[] | undefined>)[] = [
    () => nameCheck(context),
    () => portCheck(context.host, context.port),
    () => preflightChecks(transport, context),
    () => quotaCheck(transport, context),
    async () =>
      context.kind === "gateway"
        ? await portCheck(context.host, args.reportPort, "report port")
        : undefined,
    async () => args.eicar ? await eicarCheck(transport, context, args) : undefined,
  ];
  for (const step of steps) {
    const checks = [await step()].flat().filter((c) => c !== undefined);
    checks.forEach(print);
    if (checks.some((c) => c.status === "fail")) return false;
  }
  return true;
}

const HELP = `Usage: te-scan doctor (--ip HOST | --gateway HOST | --url BASE) [options] [--no-eicar]

Checks a target set-up step by step, one line per check with what to do: the name
resolves, the port is open, TLS is trusted (and days to the certificate's expiry),
the API answers, the key is accepted, the quota (cloud), the gateway's report port,
and an EICAR round trip (the test file is built at run time, uploaded, and must be
judged malicious; --no-eicar skips it). Exit 0 when every check passes, 3 otherwise.

  --ip HOST[:PORT] | --gateway HOST[:PORT] | --url BASE   the target(s), as for a scan
  --ca-cert FILE | --pin SHA256 | --insecure               how its certificate is trusted
  --api-key-file FILE   the API key (gateway, cloud)
  --report-port N       a gateway's report port (${helpDefault(SCAN_OPTIONS.reportPort)})
  --features LIST       what the EICAR upload asks for (${helpDefault(SCAN_OPTIONS.features)})
  --timeout SEC         how long the EICAR round trip may wait for a verdict (${
  helpDefault(SCAN_OPTIONS.timeoutMs)
})
  --no-eicar            skip the EICAR round trip`;

/**
 * Runs `te-scan doctor`: exit 0 when every check of every target passes, 3
 * when one fails (or the command line is wrong).
 */
export async function doctorCommand(
  argv: string[],
  terminal: Terminal = processTerminal(),
): Promise<number> {
  let args;
  try {
    // --no-eicar is the doctor's own; the rest are a scan's target options.
    args = parseScanArgs(argv.filter((a) => a !== "--no-eicar"), "doctor");
    if (args.help) {
      terminal.out(HELP);
      return Exit.CLEAN;
    }
    if (args.positionals.length) {
      throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    terminal.err(renderError(error.message));
    return Exit.USAGE;
  }
  const reporter = new Reporter({ json: false, quiet: false, terminal });
  let targets;
  try {
    targets = await connectRotation(args, reporter);
  } catch (error) {
    terminal.err(renderError(reasonOf(error)));
    return Exit.USAGE;
  }
  let healthy = true;
  try {
    for (const [transport, context] of targets.contexts) {
      terminal.out(escapeControl(`${context.label} (${context.kind}):`));
      const options = { ...args, eicar: !argv.includes("--no-eicar") };
      if (!await checkTarget(transport, context, options, (c) => terminal.out(line(c)))) {
        healthy = false;
      }
    }
  } finally {
    targets.rotation.close();
  }
  return healthy ? Exit.CLEAN : Exit.USAGE;
}
