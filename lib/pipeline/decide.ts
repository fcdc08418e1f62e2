/**
 * What an answer means for a file: settled benign or malicious, an early
 * malicious verdict, wait, upload, retry, or a permanent error.
 *
 * Unlike te_api, the te section decides (a `PARTIALLY_FOUND` answer whose te
 * is FOUND is final), verdicts are compared case-insensitively, and every
 * non-final code ends in a decision with a reason — no file is stranded.
 *
 * @example
 * ```ts
 * import { decide } from "./decide.ts";
 * const found = { code: 1001, label: "FOUND", message: "" };
 * decide({ status: found, te: { status: found, combined_verdict: "malicious" } }, "poll");
 * // { kind: "final", state: "malicious", verdict: "malicious" }
 * ```
 * @module
 */

import {
  normalizeVerdict,
  type ResponseItem,
  type Status,
  type Verdict,
} from "../transport/cloud_types.ts";
import { actionFor, Code, describeStatus } from "../transport/status.ts";

/** Where the answer came from: the first cache query, an upload, or a poll. */
export type Phase = "cache" | "upload" | "poll";

/** The meaning of an answer for one file. */
export type Decision =
  | { kind: "final"; state: "benign" | "malicious"; verdict: Verdict }
  | { kind: "early-malicious" }
  | { kind: "wait"; status: Status }
  | { kind: "upload" }
  | { kind: "retry"; reason: string }
  | { kind: "error"; reason: string };

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
      return { kind: "retry", reason: describeStatus(status) };
    case "give-up":
      return { kind: "error", reason: describeStatus(status) };
  }
}

/**
 * Decides what an answer item means.
 *
 * @example
 * ```ts
 * import { decide } from "./decide.ts";
 * decide({ status: { code: 1004, label: "NOT_FOUND", message: "" } }, "cache"); // { kind: "upload" }
 * ```
 */
export function decide(item: ResponseItem, phase: Phase): Decision {
  const top = item.status;
  const topAction = actionFor(top.code);
  const te = item.te;
  if (te) {
    if (te.status.code === Code.FOUND) return fromVerdict(te.combined_verdict, te.status);
    if (te.status.code === Code.PARTIALLY_FOUND) {
      const images = te.images ?? [];
      const settled = images.length > 0 && !images.some((image) => isPendingImage(image.status));
      if (settled && te.combined_verdict) return fromVerdict(te.combined_verdict, te.status);
    }
    // An error at the top level (quota, type, permission) wins over a te that says nothing.
    if (topAction === "give-up" || topAction === "retry") return fromCode(top, phase);
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
  return fromCode(top, phase);
}
