/**
 * `te-scan query HASH...` (look hashes up without the files) and
 * `te-scan quota` (the cloud API key's quota), over the same verified
 * connection as a scan.
 *
 * @example Look a hash up on an emulated appliance
 * ```ts
 * import { queryCommand } from "./lookup.ts";
 * import { Terminal } from "./terminal.ts";
 * import { DEFAULT_CA_PEM, startEmulator } from "../emulator/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const emulator = await startEmulator({ port: 0 });
 * const caCert = await Deno.makeTempFile({ suffix: ".pem" });
 * await Deno.writeTextFile(caCert, DEFAULT_CA_PEM);
 * const out: string[] = [];
 * const terminal = new Terminal({
 *   out: (t) => out.push(t),
 *   isTerminal: { out: false, err: false },
 * });
 * const hash = "3395856ce81f2b7382dee72602f798b642f14140";
 * const code = await queryCommand(
 *   ["--ip", `127.0.0.1:${emulator.port}`, "--ca-cert", caCert, hash],
 *   terminal,
 * );
 * assert.equal(code, 2);
 * assert.match(
 *   out.join(""),
 *   /^3395856ce81f2b7382dee72602f798b642f14140  no verdict  \(1004 NOT_FOUND/,
 * );
 * await emulator.close();
 * await Deno.remove(caCert);
 * ```
 * @module
 */

import type { RequestItem, ResponseItem } from "../transport/protocol.ts";
import { TE_ASK_ERRORS } from "../transport/cloud.ts";
import { Code, describeStatus } from "../transport/status.ts";
import type { MatchedAnswer } from "../transport/transport.ts";
import { parseScanArgs, SCAN_OPTIONS, type ScanArgs, UsageError } from "./args.ts";
import { helpDefault } from "./options.ts";
import { connect, type Connection, transportOf } from "./connect.ts";
import { describeTargetFailure } from "../transport/diagnose.ts";
import { reasonOf } from "../util/reason.ts";
import { Reporter } from "./console.ts";
import { renderError } from "./render.ts";
import { processTerminal, type Terminal } from "./terminal.ts";
import { avFinding, decide } from "../pipeline/decide.ts";
import { describeThreat, threatFinding } from "../pipeline/threat.ts";
import { isFatal } from "../transport/fatal.ts";
import { matchAnswers } from "../transport/match.ts";
import { Exit } from "./exit.ts";

const DIGEST_KEYS: Record<number, "md5" | "sha1" | "sha256"> = {
  32: "md5",
  40: "sha1",
  64: "sha256",
};

/**
 * The request object for a hash, by its length (md5, sha1 or sha256).
 *
 * @example An md5 becomes an md5 request
 * ```ts
 * import { requestForHash } from "./lookup.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(requestForHash("D41D8CD98F00B204E9800998ECF8427E", ["te"]), {
 *   md5: "d41d8cd98f00b204e9800998ecf8427e",
 *   features: ["te"],
 *   te: { reports: [], return_errors: true, version_info: true },
 * });
 * assert.throws(() => requestForHash("xyz", ["te"]), /not an md5, sha1 or sha256 hash/);
 * ```
 */
export function requestForHash(hash: string, features: string[]): RequestItem {
  const digest = hash.trim().toLowerCase();
  const key = DIGEST_KEYS[digest.length];
  if (!key || !/^[0-9a-f]+$/.test(digest)) {
    throw new UsageError(`not an md5, sha1 or sha256 hash: ${JSON.stringify(hash)}`);
  }
  return { [key]: digest, features: [...features], te: { reports: [], ...TE_ASK_ERRORS } };
}

async function withConnection(
  argv: string[],
  terminal: Terminal,
  task: (
    args: ScanArgs,
    reporter: Reporter,
    client: Connection,
  ) => Promise<number>,
  help: string,
): Promise<number> {
  let args: ScanArgs;
  try {
    args = parseScanArgs(argv, "lookup");
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    terminal.err(renderError(error.message));
    return Exit.USAGE;
  }
  if (args.help) {
    terminal.out(help);
    return Exit.CLEAN;
  }
  const reporter = new Reporter({ json: args.json, quiet: args.quiet, terminal });
  let connection: Connection | undefined;
  try {
    // A lookup asks one target: the first one named.
    [connection] = await connect(args, reporter);
    return await task(args, reporter, connection);
  } catch (error) {
    if (error instanceof UsageError) {
      reporter.error(error.message);
      return Exit.USAGE;
    }
    reporter.error(
      connection ? await describeTargetFailure(error, connection.context) : reasonOf(error),
    );
    return isFatal(error) ? Exit.USAGE : Exit.UNRESOLVED;
  } finally {
    connection?.client.close();
  }
}

/**
 * `te-scan query`: prints one line (or JSON object) per hash; exits like a
 * scan (1 when any is malicious, 2 when any is unknown or failed).
 *
 * @example The help
 * ```ts
 * import { queryCommand } from "./lookup.ts";
 * import { Terminal } from "./terminal.ts";
 * import assert from "node:assert/strict";
 *
 * const out: string[] = [];
 * const terminal = new Terminal({
 *   out: (t) => out.push(t),
 *   isTerminal: { out: false, err: false },
 * });
 * assert.equal(await queryCommand(["--help"], terminal), 0);
 * assert.match(out.join(""), /te-scan query/);
 * ```
 */
export function queryCommand(
  argv: string[],
  terminal: Terminal = processTerminal(),
): Promise<number> {
  return withConnection(argv, terminal, async (args, reporter, connection) => {
    if (!args.positionals.length) throw new UsageError("give at least one hash to look up");
    const requests = args.positionals.map((hash) => requestForHash(hash, args.features));
    const ask = await askerFor(connection, args, reporter);
    let malicious = 0;
    let unresolved = 0;
    try {
      for (let start = 0; start < requests.length; start += args.batchSize) {
        const batch = requests.slice(start, start + args.batchSize);
        const answers = await ask.query(batch);
        for (const [i, request] of batch.entries()) {
          const verdict = reportAnswer(request, answers[i], args, reporter);
          if (verdict === "malicious") malicious++;
          if (!verdict) unresolved++;
        }
      }
    } finally {
      ask.close();
    }
    return malicious ? Exit.MALICIOUS : unresolved ? Exit.UNRESOLVED : Exit.CLEAN;
  }, QUERY_HELP);
}

/** How a lookup asks its target about a batch of hashes. */
interface Asker {
  query(batch: RequestItem[]): Promise<MatchedAnswer[]>;
  close(): void;
}

/**
 * An appliance or the cloud is asked in the cloud format; a gateway through
 * its transport (QueryFile objects with the key), after one cheap request
 * that proves the key (a wrong one is a usage error, exit 3).
 */
async function askerFor(
  connection: Connection,
  args: ScanArgs,
  reporter: Reporter,
): Promise<Asker> {
  const { client, context } = connection;
  if (context.kind !== "gateway") {
    return {
      query: async (batch) => matchAnswers(batch, (await client.query(batch)).items),
      close: () => {},
    };
  }
  // A lookup fetches no reports, so the gateway's report port is not asked for.
  const target = await transportOf(connection, { ...args, reports: [] }, reporter);
  try {
    await target.preflight();
  } catch (error) {
    target.close();
    throw error;
  }
  return { query: (batch) => target.query(batch), close: () => target.close() };
}

/** Prints one hash's answer; returns its final verdict, if it has one. */
function reportAnswer(
  request: RequestItem,
  answer: MatchedAnswer,
  args: ScanArgs,
  reporter: Reporter,
): "benign" | "malicious" | undefined {
  const hash = request.md5 ?? request.sha1 ?? request.sha256 ?? "";
  const item = answer.item;
  if (!item) {
    reporter.result(
      { event: "query", hash, error: answer.missing },
      `${hash}  no answer (${answer.missing})`,
    );
    return undefined;
  }
  const decision = decide(item, "cache", { avOnly: !args.features.includes("te") });
  const verdict = decision.kind === "final" ? decision.state : undefined;
  const status = describeStatus(item.te?.status ?? item.status);
  const event = { event: "query", hash, verdict, response: item };
  reporter.result(
    event,
    `${hash}  ${verdict ?? "no verdict"}  (${status})${findingsOf(item, verdict === "malicious")}`,
  );
  return verdict;
}

/** A malicious answer's severity and confidence, and what AV said when it was asked. */
function findingsOf(item: ResponseItem, malicious: boolean): string {
  const av = avFinding(item);
  const signature = av
    ? `AV: ${av.signature ?? (av.code === Code.FOUND ? "clean" : av.status)}`
    : "";
  const threat = malicious ? threatFinding(item) : undefined;
  const about = threat ? describeThreat(threat, signature) : "";
  return [about, signature].filter(Boolean).map((part) => `  ${part}`).join("");
}

/** ", resets 2026-11-27 19:00 UTC" for a reset time in epoch seconds (the wire sends a string). */
function resetsAt(epochSeconds: string | undefined): string {
  const seconds = Number(epochSeconds);
  if (!epochSeconds || !Number.isFinite(seconds) || seconds <= 0) return "";
  const at = new Date(seconds * 1000).toISOString();
  return `, resets ${at.slice(0, 10)} ${at.slice(11, 16)} UTC`;
}

/**
 * `te-scan quota`: prints the API key's remaining quota (cloud only).
 *
 * @example The quota left on an emulated cloud
 * ```ts
 * import { quotaCommand } from "./lookup.ts";
 * import { Terminal } from "./terminal.ts";
 * import { DEFAULT_CA_PEM, startEmulator } from "../emulator/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const cloud = await startEmulator({ port: 0, mode: "cloud", quota: 10 });
 * const caCert = await Deno.makeTempFile({ suffix: ".pem" });
 * await Deno.writeTextFile(caCert, DEFAULT_CA_PEM);
 * const out: string[] = [];
 * const terminal = new Terminal({
 *   out: (t) => out.push(t),
 *   isTerminal: { out: false, err: false },
 * });
 * const url = `${cloud.url}/tecloud/api/v1/file/`;
 * assert.equal(await quotaCommand(["--url", url, "--ca-cert", caCert], terminal), 0);
 * const [hour, month] = out.join("").split("\n");
 * assert.match(hour, /^hour: {2}10 of 10 left, resets \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
 * assert.match(month, /^month: 10 of 10 left, resets /);
 * await cloud.close();
 * await Deno.remove(caCert);
 * ```
 */
export function quotaCommand(
  argv: string[],
  terminal: Terminal = processTerminal(),
): Promise<number> {
  return withConnection(argv, terminal, async (_args, reporter, { client, context }) => {
    if (context.kind === "gateway") {
      throw new UsageError("--gateway: a quota is the Check Point cloud's (--url BASE)");
    }
    const quota = await client.quota();
    reporter.result(
      { event: "quota", ...quota },
      `hour:  ${quota.remain_quota_hour ?? "?"} of ${quota.assigned_quota_hour ?? "?"} left` +
        resetsAt(quota.hourly_quota_next_reset),
      `month: ${quota.remain_quota_month ?? "?"} of ${quota.assigned_quota_month ?? "?"} left` +
        resetsAt(quota.monthly_quota_next_reset),
    );
    return Exit.CLEAN;
  }, QUOTA_HELP);
}

const CONNECTION_HELP = `  --ip HOST[:PORT] | --url BASE    the appliance or cloud endpoint
  --ca-cert FILE | --pin SHA256 | --insecure
  --api-key-file FILE              API key (cloud)
  --json                           JSON output`;

const QUERY_HELP =
  `Usage: te-scan query HASH... (--ip HOST[:PORT] | --gateway HOST[:PORT] | --url BASE)

Looks md5, sha1 or sha256 hashes up in the appliance's cache; nothing is uploaded.
Prints each verdict, a malicious one's severity and confidence, and the AV result.
Exit codes: 0 all benign, 1 any malicious, 2 any unknown or failed, 3 usage.

${CONNECTION_HELP}
  --gateway HOST[:PORT]            a Security Gateway (QueryFile, with --api-key-file)
  --features LIST                  te,te_eb,av (${helpDefault(SCAN_OPTIONS.features)})`;

const QUOTA_HELP = `Usage: te-scan quota --url BASE --api-key-file FILE [options]

Shows the API key's hourly and monthly quota (Check Point cloud only).

${CONNECTION_HELP}`;
