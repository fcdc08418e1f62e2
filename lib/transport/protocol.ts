/**
 * The Threat Emulation API's protocol as types, with parsers that validate
 * answers and requests at the edge: the cloud format
 * (`/tecloud/api/v1/file/{query,upload,download,quota}`) that appliances and
 * the Check Point cloud speak, and whose request and answer items a gateway's
 * TPAPI nests. The pipeline's model of an answer is these types.
 *
 * Parsers keep the original objects (unknown fields included) so that the
 * answer can be written to `*.response.json` exactly as it came, but only
 * after every field the client reads has been checked.
 *
 * @example A single item, not an array, is read as a list of one
 * ```ts
 * import { parseResponseBody } from "./protocol.ts";
 * import assert from "node:assert/strict";
 * const body = parseResponseBody(
 *   { response: { status: { code: 1002, label: "UPLOAD_SUCCESS", message: "" }, md5: "x" } },
 *   "upload answer",
 * );
 * assert.equal(body.items[0].status.code, 1002);
 * assert.equal(body.wasArray, false);
 * ```
 * @module
 */

import {
  expectObject,
  type JsonObject,
  optionalArray,
  optionalBoolean,
  optionalNumber,
  optionalObject,
  optionalString,
  ProtocolError,
  requiredNumber,
  requiredString,
  stringElement,
} from "./validate.ts";

/** Features a request may ask for. */
export type Feature = "te" | "te_eb" | "av" | "extraction";

/** Every feature name the protocol knows. */
export const FEATURES: readonly Feature[] = ["te", "te_eb", "av", "extraction"];

/** Report formats of `te.reports`. */
export type ReportFormat = "pdf" | "xml" | "tar" | "summary" | "full_report";

/** Every report format the protocol knows. */
export const REPORT_FORMATS: readonly ReportFormat[] = [
  "pdf",
  "xml",
  "tar",
  "summary",
  "full_report",
];

/** `{code, label, message}`, per feature and combined. */
export interface Status {
  code: number;
  /** Absent on some hostile or minimal servers: `code` is authoritative. */
  label?: string;
  message?: string;
}

/** An emulation image requested or reported. */
export interface ImageRef {
  id: string;
  revision?: number;
}

/** The `te` section of a request. */
export interface TeRequest {
  reports?: string[];
  images?: ImageRef[];
  benign_reports?: boolean;
  version_info?: boolean;
  return_errors?: boolean;
  reports_version_number?: number;
}

/** The `extraction` section of a request (cloud Threat Extraction). */
export interface ExtractionRequest {
  method?: "pdf" | "clean";
  extracted_parts_codes?: number[];
  scrubbed_parts_codes?: string[];
}

/** One request object of a query or an upload. */
export interface RequestItem {
  md5?: string;
  sha1?: string;
  sha256?: string;
  file_name?: string;
  file_type?: string;
  features?: string[];
  te?: TeRequest;
  extraction?: ExtractionRequest;
  quota?: boolean;
}

/** `{"request": …}`: one object or an array of them. */
export interface RequestBody {
  request: RequestItem | RequestItem[];
}

/** The per-image report ids. */
export interface ImageReport {
  verdict?: string;
  pdf_report?: string | null;
  xml_report?: string | null;
  tar_report?: string | null;
  full_report?: string | null;
}

/** An image's `report` as answers carry it: the ids, and what the image saw besides. */
export interface ImageReportDetails extends ImageReport {
  /** Seed 001's QueryFile answer shows it. */
  additional_emulation_data?: AdditionalEmulationData;
}

/** `images[].report.additional_emulation_data`: strings, empty when there is nothing to say. */
export interface AdditionalEmulationData {
  /** What decided the verdict: the nearest the answer comes to naming the threat. */
  verdict_decider?: string;
}

/** One image's result inside `te.images`. */
export interface ImageResult {
  id: string;
  revision?: number;
  status?: string;
  report?: ImageReportDetails;
}

/** The `te` section of an answer. */
export interface TeResult {
  status: Status;
  combined_verdict?: string | null;
  severity?: number;
  confidence?: number;
  images?: ImageResult[];
  summary_report?: string | null;
  trust?: number;
  score?: number;
  te_engine_version?: string;
}

/** The `te_eb` (early verdict) section of an answer. */
export interface TeEbResult {
  status: Status;
  combined_verdict?: string | null;
  severity?: number;
  confidence?: number;
}

/** AV `malware_info`. */
export interface MalwareInfo {
  signature_name?: string;
  malware_family?: number;
  malware_type?: number;
  severity?: number;
  confidence?: number;
}

/** The `av` section of an answer. */
export interface AvResult {
  status: Status;
  malware_info?: MalwareInfo;
}

/** The `extraction` section of an answer. */
export interface ExtractionResult {
  status: Status;
  method?: string;
  tex_product?: boolean;
  extract_result?: string;
  extracted_file_download_id?: string;
  output_file_name?: string;
  extract_content?: string;
  time?: string;
  extraction_data?: JsonObject;
}

/** One answer object: the combined status and one section per feature. */
export interface ResponseItem {
  status: Status;
  md5?: string;
  sha1?: string;
  sha256?: string;
  file_type?: string;
  file_name?: string;
  features?: string[];
  te?: TeResult;
  te_eb?: TeEbResult;
  av?: AvResult;
  extraction?: ExtractionResult;
}

/** A parsed `{"response": …}` body. */
export interface ResponseBody {
  /** The answer objects in order (one when the server sent an object). */
  items: ResponseItem[];
  /** Whether `response` was an array on the wire. */
  wasArray: boolean;
}

/** The quota answer (cloud only). */
export interface QuotaInfo {
  remain_quota_hour?: number;
  remain_quota_month?: number;
  assigned_quota_hour?: number;
  assigned_quota_month?: number;
  hourly_quota_next_reset?: string;
  monthly_quota_next_reset?: string;
  quota_id?: string;
  action?: string;
}

/**
 * Validates a status object.
 *
 * @example A status object, checked
 * ```ts
 * import { parseStatus } from "./protocol.ts";
 * import assert from "node:assert/strict";
 *
 * const status = parseStatus({ code: 1003, label: "PENDING", message: "…" }, "status");
 * assert.equal(status.label, "PENDING");
 * assert.throws(() => parseStatus({ label: "PENDING" }, "status"));
 * ```
 */
export function parseStatus(value: unknown, path: string): Status {
  const obj = expectObject(value, path);
  requiredNumber(obj, "code", path);
  optionalString(obj, "label", path);
  optionalString(obj, "message", path);
  return obj as unknown as Status;
}

function parseImage(value: unknown, path: string): ImageResult {
  const obj = expectObject(value, path);
  requiredString(obj, "id", path);
  optionalNumber(obj, "revision", path);
  optionalString(obj, "status", path);
  const report = optionalObject(obj, "report", path);
  if (report) {
    for (const key of ["verdict", "pdf_report", "xml_report", "tar_report", "full_report"]) {
      optionalString(report, key, `${path}.report`);
    }
    const extra = optionalObject(report, "additional_emulation_data", `${path}.report`);
    if (extra) optionalString(extra, "verdict_decider", `${path}.report.additional_emulation_data`);
  }
  return obj as unknown as ImageResult;
}

function parseFeatureStatus(obj: JsonObject, key: string, path: string): JsonObject | undefined {
  const section = optionalObject(obj, key, path);
  if (!section) return undefined;
  parseStatus(section.status, `${path}.${key}.status`);
  return section;
}

function parseTe(obj: JsonObject, path: string): void {
  const te = parseFeatureStatus(obj, "te", path);
  if (!te) return;
  const p = `${path}.te`;
  optionalString(te, "combined_verdict", p);
  optionalNumber(te, "severity", p);
  optionalNumber(te, "confidence", p);
  optionalString(te, "summary_report", p);
  optionalNumber(te, "trust", p);
  optionalNumber(te, "score", p);
  optionalString(te, "te_engine_version", p);
  optionalArray(te, "images", p, parseImage);
}

function parseTeEb(obj: JsonObject, path: string): void {
  const teEb = parseFeatureStatus(obj, "te_eb", path);
  if (!teEb) return;
  optionalString(teEb, "combined_verdict", `${path}.te_eb`);
  optionalNumber(teEb, "severity", `${path}.te_eb`);
  optionalNumber(teEb, "confidence", `${path}.te_eb`);
}

function parseAv(obj: JsonObject, path: string): void {
  const av = parseFeatureStatus(obj, "av", path);
  if (!av) return;
  const info = optionalObject(av, "malware_info", `${path}.av`);
  if (!info) return;
  const p = `${path}.av.malware_info`;
  optionalString(info, "signature_name", p);
  for (const key of ["malware_family", "malware_type", "severity", "confidence"]) {
    optionalNumber(info, key, p);
  }
}

function parseExtraction(obj: JsonObject, path: string): void {
  const ex = parseFeatureStatus(obj, "extraction", path);
  if (!ex) return;
  const p = `${path}.extraction`;
  optionalString(ex, "method", p);
  optionalBoolean(ex, "tex_product", p);
  optionalString(ex, "extract_result", p);
  optionalString(ex, "extracted_file_download_id", p);
  optionalString(ex, "output_file_name", p);
  optionalObject(ex, "extraction_data", p);
}

/**
 * Validates one answer object (an element of `response`).
 *
 * @example An item with its md5
 * ```ts
 * import { parseResponseItem } from "./protocol.ts";
 * import assert from "node:assert/strict";
 * const item = parseResponseItem(
 *   { status: { code: 1004, label: "NOT_FOUND", message: "" }, md5: "ab" },
 *   "response[0]",
 * );
 * assert.equal(item.md5, "ab");
 * ```
 */
export function parseResponseItem(value: unknown, path: string): ResponseItem {
  const obj = expectObject(value, path);
  parseStatus(obj.status, `${path}.status`);
  for (const key of ["md5", "sha1", "sha256", "file_type", "file_name"]) {
    optionalString(obj, key, path);
  }
  optionalArray(obj, "features", path, stringElement);
  parseTe(obj, path);
  parseTeEb(obj, path);
  parseAv(obj, path);
  parseExtraction(obj, path);
  return obj as unknown as ResponseItem;
}

/**
 * Validates a `{"response": …}` body whose `response` is an object or an
 * array (servers differ; see the protocol reference §2.6).
 *
 * @example An empty answer
 * ```ts
 * import { parseResponseBody } from "./protocol.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseResponseBody({ response: [] }, "query answer").items.length, 0);
 * ```
 */
export function parseResponseBody(value: unknown, what: string): ResponseBody {
  const body = expectObject(value, what);
  const response = body.response;
  if (Array.isArray(response)) {
    return {
      items: response.map((item, i) => parseResponseItem(item, `${what}: response[${i}]`)),
      wasArray: true,
    };
  }
  if (response === undefined) throw new ProtocolError(`${what}: no "response" field`);
  return { items: [parseResponseItem(response, `${what}: response`)], wasArray: false };
}

/**
 * Validates a quota answer: an array of one object (what the service sends)
 * or an object (what the guide shows).
 *
 * @example The quota left
 * ```ts
 * import { parseQuotaBody } from "./protocol.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseQuotaBody({ response: [{ remain_quota_hour: 5 }] }).remain_quota_hour, 5);
 * ```
 */
export function parseQuotaBody(value: unknown): QuotaInfo {
  const body = expectObject(value, "quota answer");
  const raw = Array.isArray(body.response) ? body.response[0] : body.response;
  const obj = expectObject(raw, "quota answer: response");
  for (const key of ["remain_quota_hour", "remain_quota_month", "assigned_quota_hour"]) {
    optionalNumber(obj, key, "quota answer");
  }
  optionalNumber(obj, "assigned_quota_month", "quota answer");
  for (const key of ["hourly_quota_next_reset", "monthly_quota_next_reset", "quota_id"]) {
    optionalString(obj, key, "quota answer");
  }
  optionalString(obj, "action", "quota answer");
  return obj as QuotaInfo;
}

/** A verdict, normalised: the wire has `Malicious`, `malicious`, `Benign`, `Error`… */
export type Verdict = "malicious" | "benign" | "error" | "unknown";

/**
 * Normalises a verdict string case-insensitively; `null`/absent gives
 * `undefined` (not decided yet).
 *
 * @example Verdicts in any case, and one the client does not know
 * ```ts
 * import { normalizeVerdict } from "./protocol.ts";
 * import assert from "node:assert/strict";
 * assert.equal(normalizeVerdict("Malicious"), "malicious");
 * assert.equal(normalizeVerdict("BENIGN"), "benign");
 * assert.equal(normalizeVerdict("suspicious"), "unknown");
 * ```
 */
export function normalizeVerdict(value: string | null | undefined): Verdict | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const lower = value.trim().toLowerCase();
  if (lower === "malicious" || lower === "benign" || lower === "error") return lower;
  return "unknown";
}

/**
 * Every report id an answer names, with the format and image it belongs to;
 * `null` ids (real benign samples carry them) are skipped, repeated ids kept once.
 *
 * @example The ids of the reports to download
 * ```ts
 * import { reportIds } from "./protocol.ts";
 * import assert from "node:assert/strict";
 *
 * const found = { code: 1001, label: "FOUND", message: "" };
 * assert.deepEqual(
 *   reportIds({ status: found, te: { status: found, summary_report: "s1" } }),
 *   [{ id: "s1", format: "summary" }],
 * );
 * ```
 */
export function reportIds(
  item: ResponseItem,
): { id: string; format: ReportFormat; imageId?: string }[] {
  const out: { id: string; format: ReportFormat; imageId?: string }[] = [];
  const seen = new Set<string>();
  const add = (id: string | null | undefined, format: ReportFormat, imageId?: string) => {
    if (!id || seen.has(id)) return;
    seen.add(id);
    out.push(imageId ? { id, format, imageId } : { id, format });
  };
  add(item.te?.summary_report, "summary");
  for (const image of item.te?.images ?? []) {
    add(image.report?.pdf_report, "pdf", image.id);
    add(image.report?.xml_report, "xml", image.id);
    add(image.report?.tar_report, "tar", image.id);
    add(image.report?.full_report, "full_report", image.id);
  }
  return out;
}
