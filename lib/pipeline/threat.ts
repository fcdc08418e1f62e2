/**
 * What an answer says about a malicious file's threat: how severe, how
 * sure, and its name, so the operator sees what the appliance saw (the
 * file's line, the log, `index.html`; the response file keeps the answer
 * whole).
 *
 * The te section speaks first (the full emulation), then AV (its scales
 * differ: confidence runs to 5), then te_eb (an early verdict). The name is
 * AV's signature; TE answers name no threat, but their images may say what
 * decided the verdict (`additional_emulation_data.verdict_decider`), which
 * is kept as such.
 *
 * @example EICAR through te and AV
 * ```ts
 * import { threatFinding } from "./threat.ts";
 * import assert from "node:assert/strict";
 *
 * const found = { code: 1001, label: "FOUND" };
 * const threat = threatFinding({
 *   status: found,
 *   te: { status: found, combined_verdict: "malicious", severity: 4, confidence: 3 },
 *   av: { status: found, malware_info: { signature_name: "EICAR-Test-File" } },
 * });
 * assert.deepEqual(threat, {
 *   source: "te",
 *   severity: 4,
 *   severityName: "critical",
 *   confidence: 3,
 *   confidenceName: "high",
 *   name: "EICAR-Test-File",
 * });
 * ```
 * @module
 */

import { normalizeVerdict, type ResponseItem } from "../transport/protocol.ts";

/** The severity and confidence of a malicious verdict, and the threat's name when given. */
export interface ThreatFinding {
  /** The answer's section the severity and confidence come from. */
  source: "te" | "te_eb" | "av";
  /** 1–4 (low, medium, high, critical), as the appliance gave it. */
  severity?: number;
  severityName?: string;
  /** te and te_eb: 1–3 (low, medium, high); AV: 1–5. */
  confidence?: number;
  confidenceName?: string;
  /** The threat's name: AV's signature. */
  name?: string;
  /** What decided the te verdict, by the first te image that says. */
  decidedBy?: string;
}

const SEVERITY = ["", "low", "medium", "high", "critical"];
const CONFIDENCE = ["", "low", "medium", "high"];

/** A level's name on its scale, or undefined when the number is off it (or 0: no threat). */
function levelName(names: string[], value: number | undefined): string | undefined {
  return value !== undefined && Number.isInteger(value) && value > 0 ? names[value] : undefined;
}

/** What the first te image that says it names as the decider of the verdict. */
function decider(item: ResponseItem): string | undefined {
  for (const image of item.te?.images ?? []) {
    const decider = image.report?.additional_emulation_data?.verdict_decider?.trim();
    if (decider) return decider;
  }
  return undefined;
}

/** The section whose severity and confidence describe the threat. */
function sourceOf(item: ResponseItem): Pick<ThreatFinding, "source" | "severity" | "confidence"> {
  const { te, te_eb: teEb, av } = item;
  if (te && normalizeVerdict(te.combined_verdict) === "malicious") {
    return { source: "te", severity: te.severity, confidence: te.confidence };
  }
  const info = av?.malware_info;
  if (info?.signature_name?.trim()) {
    return { source: "av", severity: info.severity, confidence: info.confidence };
  }
  if (teEb && normalizeVerdict(teEb.combined_verdict) === "malicious") {
    return { source: "te_eb", severity: teEb.severity, confidence: teEb.confidence };
  }
  return { source: "te", severity: te?.severity, confidence: te?.confidence };
}

/**
 * The threat an answer describes, or undefined when it gives neither a
 * severity, a confidence nor a name.
 *
 * @example An early verdict, and an answer with nothing to tell
 * ```ts
 * import { threatFinding } from "./threat.ts";
 * import assert from "node:assert/strict";
 *
 * const found = { code: 1001, label: "FOUND" };
 * const early = { status: found, combined_verdict: "Malicious", severity: 4, confidence: 2 };
 * assert.equal(threatFinding({ status: found, te_eb: early })?.confidenceName, "medium");
 * assert.equal(threatFinding({ status: found }), undefined);
 * ```
 */
export function threatFinding(item: ResponseItem): ThreatFinding | undefined {
  const { source, severity, confidence } = sourceOf(item);
  const name = item.av?.malware_info?.signature_name?.trim() || undefined;
  const decidedBy = decider(item);
  if (!severity && !confidence && !name && !decidedBy) return undefined;
  const threat: ThreatFinding = { source };
  if (severity !== undefined) threat.severity = severity;
  const severityName = levelName(SEVERITY, severity);
  if (severityName) threat.severityName = severityName;
  if (confidence !== undefined) threat.confidence = confidence;
  const confidenceName = source === "av" ? undefined : levelName(CONFIDENCE, confidence);
  if (confidenceName) threat.confidenceName = confidenceName;
  if (name) threat.name = name;
  if (decidedBy) threat.decidedBy = decidedBy;
  return threat;
}

/**
 * The short form for a file's line, a query's answer and the run page:
 * `severity critical, confidence high` (AV's confidence as `N/5`), the
 * threat's name unless `shown` (what the line shows besides) holds it
 * already, as a line with AV's signature does, and what decided the verdict.
 *
 * @example The short form, with and without the name
 * ```ts
 * import { describeThreat } from "./threat.ts";
 * import assert from "node:assert/strict";
 *
 * const te = { source: "te" as const, severity: 2, severityName: "medium", name: "Macro" };
 * assert.equal(describeThreat(te), "severity medium, threat Macro");
 * assert.equal(
 *   describeThreat({ source: "te", severity: 4, severityName: "critical", decidedBy: "Static" }),
 *   "severity critical, decided by Static",
 * );
 * assert.equal(describeThreat({ ...te, confidence: 3, confidenceName: "high" }, "AV: Macro"),
 *   "severity medium, confidence high");
 * assert.equal(
 *   describeThreat({ source: "av", severity: 4, severityName: "critical", confidence: 5 }),
 *   "severity critical, confidence 5/5",
 * );
 * ```
 */
export function describeThreat(threat: ThreatFinding, shown = ""): string {
  const parts: string[] = [];
  const severity = threat.severityName ?? threat.severity;
  if (severity) parts.push(`severity ${severity}`);
  const scale = threat.source === "av" && threat.confidence ? "/5" : "";
  const confidence = threat.confidenceName ?? threat.confidence;
  if (confidence) parts.push(`confidence ${confidence}${scale}`);
  if (threat.name && !shown.includes(threat.name)) parts.push(`threat ${threat.name}`);
  if (threat.decidedBy) parts.push(`decided by ${threat.decidedBy}`);
  return parts.join(", ");
}
