/**
 * What an answer means for a file: settled benign or malicious, an early
 * malicious verdict, wait, upload, retry, or a permanent error. The one
 * place answers are interpreted, for both transports.
 *
 * Unlike te_api, the te section decides (a `PARTIALLY_FOUND` answer whose te
 * is FOUND is final), verdicts are compared case-insensitively, an `Error`
 * verdict (asked for with `te.return_errors`) is an error with the
 * appliance's reason, never benign, and every
 * non-final code ends in a decision with a reason — no file is stranded.
 *
 * Anti-Virus (`--features av`): a detection (AV FOUND with a signature name)
 * counts as malicious. It quarantines the file at once, like a te_eb early
 * malicious verdict, whatever te says so far (still pending, unknown, or
 * even an error); a final benign te verdict does not undo it. With AV alone
 * (no te), AV FOUND is final.
 *
 * @example A final malicious verdict
 * ```ts
 * import { decide } from "./decide.ts";
 * import assert from "node:assert/strict";
 *
 * const found = { code: 1001, label: "FOUND", message: "" };
 * assert.deepEqual(
 *   decide({ status: found, te: { status: found, combined_verdict: "malicious" } }, "poll"),
 *   { kind: "final", state: "malicious", verdict: "malicious" },
 * );
 * ```
 * @module
 */

import {
  type AvResult,
  normalizeVerdict,
  type ResponseItem,
  type Status,
  type TeResult,
  type Verdict,
} from "../transport/protocol.ts";
import { actionFor, Code, describeStatus, statusInfo } from "../transport/status.ts";

/** Where the answer came from: the first cache query, an upload, or a poll. */
export type Phase = "cache" | "upload" | "poll";

/** The meaning of an answer for one file. */
export type Decision =
  | { kind: "final"; state: "benign" | "malicious"; verdict: Verdict; note?: string }
  /**
   * Quarantine now, the final verdict follows: te_eb said Malicious, or AV
   * detected the file (`reason` then names the signature). `upload`: the
   * target does not have the file yet, so it is uploaded as well.
   */
  | { kind: "early-malicious"; reason?: string; upload?: true }
  | { kind: "wait"; status: Status }
  | { kind: "upload" }
  /** `askAgain`: a passing failure (1009, 1011): ask about the file again, not upload it. */
  | { kind: "retry"; reason: string; askAgain?: boolean }
  | { kind: "error"; reason: string }
  /** Threat Extraction only (`--no-emulation`): the upload answered, there is no verdict. */
  | { kind: "not-emulated" };

function isPendingImage(status: string | undefined): boolean {
  return (status ?? "").toLowerCase() === "pending";
}

function fromVerdict(raw: string | null | undefined, status: Status): Decision {
  const verdict = normalizeVerdict(raw);
  if (verdict === "malicious" || verdict === "benign") {
    return { kind: "final", state: verdict, verdict };
  }
  if (verdict === undefined) {
    return { kind: "error", reason: `te ${describeStatus(status)} without a verdict` };
  }
  if (verdict === "error") {
    // Asked for with te.return_errors: the emulation failed, so the file is not known to be safe.
    const why = status.message?.trim();
    const reason = `emulation error: te verdict ${JSON.stringify(raw)}${why ? ` (${why})` : ""}`;
    return { kind: "error", reason };
  }
  return { kind: "error", reason: `appliance verdict is ${JSON.stringify(raw)}` };
}

function fromCode(status: Status, phase: Phase): Decision {
  const action = actionFor(status.code);
  switch (action) {
    case "done":
      return { kind: "error", reason: `answer ${describeStatus(status)} has no te result` };
    case "wait":
      return { kind: "wait", status };
    case "upload":
      // After an upload, NOT_FOUND means the appliance lost the file: send it again.
      return phase === "upload"
        ? { kind: "retry", reason: `upload answered ${describeStatus(status)}` }
        : { kind: "upload" };
    case "retry":
      return { kind: "retry", reason: describeStatus(status), askAgain: true };
    case "give-up":
      return { kind: "error", reason: describeStatus(status) };
  }
}

/** What AV said about a file, as the log records it. */
export interface AvFinding {
  code: number;
  status: string;
  /** The signature name, when AV detected the file. */
  signature?: string;
}

/**
 * The AV result of an answer, if it has an `av` section: a detection is
 * FOUND with a non-empty `malware_info.signature_name` (a clean file is
 * FOUND with an empty one, or without `malware_info`).
 *
 * @example EICAR, and a clean file
 * ```ts
 * import { avFinding } from "./decide.ts";
 * import assert from "node:assert/strict";
 *
 * const found = { code: 1001, label: "FOUND" };
 * const eicar = { status: found, malware_info: { signature_name: "EICAR-Test-File" } };
 * assert.deepEqual(avFinding({ status: found, av: eicar }), {
 *   code: 1001,
 *   status: "FOUND",
 *   signature: "EICAR-Test-File",
 * });
 * const clean = { status: found, malware_info: { signature_name: "" } };
 * assert.deepEqual(avFinding({ status: found, av: clean }), { code: 1001, status: "FOUND" });
 * assert.equal(avFinding({ status: found }), undefined);
 * ```
 */
export function avFinding(item: ResponseItem): AvFinding | undefined {
  const av = item.av;
  if (!av) return undefined;
  const label = av.status.label || statusInfo(av.status.code)?.label || "UNKNOWN";
  const finding: AvFinding = { code: av.status.code, status: label };
  const signature = av.malware_info?.signature_name?.trim();
  if (av.status.code === Code.FOUND && signature) finding.signature = signature;
  return finding;
}

/** How a decision is made: what the run asks for. */
export interface DecideOptions {
  /**
   * Only AV is asked for (no te): AV FOUND is then final. With te asked, an
   * answer without a te section is never made benign by a clean AV answer.
   */
  avOnly?: boolean;
  /**
   * Threat Extraction is asked for, and it happens only on upload: a file
   * the cache knows (benign, or still emulating) is uploaded anyway for its
   * cleaned copy. One known to be malicious is not (its copy is not published).
   */
  uploadKnown?: boolean;
  /**
   * Threat Extraction only (`--no-emulation`): every file is uploaded for its
   * cleaned copy, and its upload's answer settles it without a verdict.
   */
  extractOnly?: boolean;
  /**
   * Cloud Threat Extraction: where a settled benign file's cleaned copy is
   * downloaded to (the `--clean` folder), by its answer's `extraction` section.
   */
  extractTo?: string;
  /** `--benign-reports`: a benign file's reports are downloaded too. */
  benignReports?: boolean;
}

/** The te section decides (with the top-level status). */
function fromTe(item: ResponseItem, te: TeResult, phase: Phase): Decision {
  const topAction = actionFor(item.status.code);
  if (te.status.code === Code.FOUND) return fromVerdict(te.combined_verdict, te.status);
  if (te.status.code === Code.PARTIALLY_FOUND) {
    const images = te.images ?? [];
    const settled = images.length > 0 && !images.some((image) => isPendingImage(image.status));
    if (settled && te.combined_verdict) return fromVerdict(te.combined_verdict, te.status);
  }
  // An error at the top level (quota, type, permission) wins over a te that says nothing.
  if (topAction === "give-up" || topAction === "retry") return fromCode(item.status, phase);
  const teAction = actionFor(te.status.code);
  if (teAction === "give-up" || teAction === "retry" || teAction === "upload") {
    return fromCode(te.status, phase);
  }
  const early = item.te_eb;
  if (
    early?.status.code === Code.FOUND && normalizeVerdict(early.combined_verdict) === "malicious"
  ) {
    return { kind: "early-malicious" };
  }
  return { kind: "wait", status: te.status };
}

/** AV alone (no te asked): AV FOUND is final; a clean file is benign. */
function fromAv(item: ResponseItem, av: AvResult, phase: Phase): Decision {
  const topAction = actionFor(item.status.code);
  if (topAction === "give-up" || topAction === "retry") return fromCode(item.status, phase);
  if (av.status.code === Code.FOUND) return { kind: "final", state: "benign", verdict: "benign" };
  return fromCode(av.status, phase);
}

/** An AV detection makes any decision malicious, at once if nothing is final yet. */
function detected(decision: Decision, signature: string): Decision {
  const reason = `anti-virus: ${signature}`;
  switch (decision.kind) {
    case "final":
      return { kind: "final", state: "malicious", verdict: "malicious", note: reason };
    case "error":
      return {
        kind: "final",
        state: "malicious",
        verdict: "malicious",
        note: `${reason} (te: ${decision.reason})`,
      };
    case "upload":
    case "retry":
      return { kind: "early-malicious", reason, upload: true };
    case "wait":
    case "early-malicious":
      return { kind: "early-malicious", reason };
    case "not-emulated":
      return decision;
  }
}

/**
 * Decides what an answer item means.
 *
 * @example A file the cache does not know is uploaded
 * ```ts
 * import { decide } from "./decide.ts";
 * import assert from "node:assert/strict";
 *
 * const notFound = { code: 1004, label: "NOT_FOUND", message: "" };
 * assert.deepEqual(decide({ status: notFound }, "cache"), { kind: "upload" });
 * ```
 */
export function decide(item: ResponseItem, phase: Phase, options: DecideOptions = {}): Decision {
  if (options.extractOnly) return phase === "cache" ? { kind: "upload" } : { kind: "not-emulated" };
  let decision = item.te
    ? fromTe(item, item.te, phase)
    : options.avOnly && item.av
    ? fromAv(item, item.av, phase)
    : fromCode(item.status, phase);
  const signature = avFinding(item)?.signature;
  if (signature) return detected(decision, signature);
  const known = decision.kind === "wait" ||
    (decision.kind === "final" && decision.state === "benign");
  if (options.uploadKnown && phase === "cache" && known) decision = { kind: "upload" };
  return decision;
}
