/**
 * The Security Gateway "UserCheck" TPAPI (`POST /UserCheck/TPAPI`) as types,
 * with parsers for requests and answers, the scrub result codes and the
 * scrubbed parts codes (sk137032, kept in `shared/seeds/`).
 *
 * @example The gateway's name for a scrub result code
 * ```ts
 * import { scrubResultInfo } from "./tpapi_types.ts";
 * import assert from "node:assert/strict";
 * assert.equal(scrubResultInfo(4).message, "Skipped");
 * assert.equal(scrubResultInfo(99).message, "unknown code 99");
 * ```
 * @module
 */

import { parseResponseItem, parseStatus, type ResponseItem, type TeRequest } from "./protocol.ts";
import { expectObject, optionalNumber, optionalString, ProtocolError } from "./validate.ts";

/** The protocol version every TPAPI request carries. */
export const TPAPI_PROTOCOL_VERSION = "1.1";

/** `scrub_options.scrub_method`: 0 by profile, 1 extract (clean), 2 convert to PDF. */
export type ScrubMethod = 0 | 1 | 2;

/** `scrub_options` of an UploadFile request. */
export interface ScrubOptions {
  scrub_method: ScrubMethod;
  profile_name?: string;
  scrubbed_parts_codes?: number[];
  save_original_file_on_server?: boolean;
  sender?: string;
}

/** `te_options` of an UploadFile request. */
export interface TeOptions {
  file_name?: string;
  file_type?: string;
  is_base64?: boolean;
  features?: string[];
  te?: TeRequest;
}

/** Fields every TPAPI request object carries. */
interface TpapiCommon {
  protocol_version: string;
  api_key: string;
}

/** A QueryFile request object: `features`/`te` sit at the top level. */
export interface QueryFileRequest extends TpapiCommon {
  request_name: "QueryFile";
  md5?: string;
  sha1?: string;
  sha256?: string;
  features?: string[];
  te?: TeRequest;
}

/** An UploadFile request object: the file is base64 inside the JSON. */
export interface UploadFileRequest extends TpapiCommon {
  request_name: "UploadFile";
  file_enc_data: string;
  file_orig_name?: string;
  te_options?: TeOptions;
  scrub_options?: ScrubOptions;
}

/** Either TPAPI request object. */
export type TpapiRequest = QueryFileRequest | UploadFileRequest;

/** The `scrub` section of an UploadFile answer. */
export interface ScrubResult {
  scrub_result: number;
  file_enc_data?: string;
  output_file_name?: string;
  message?: string;
  scrub_method?: string;
  scrubbed_content?: string;
  scrub_time?: string;
  scrub_activity?: string;
  real_extension?: string;
  input_real_extension?: string;
  orig_file_url?: string;
  risk?: number;
  protection_name?: string;
  protection_type?: string;
}

/** One TPAPI answer object: the cloud-format answer nests under `te`. */
export interface TpapiResponseItem {
  protocol_version?: string;
  src_ip?: string;
  te?: ResponseItem;
  scrub?: ScrubResult;
}

/** What a scrub result means for the file: a cleaned copy, nothing to clean, or none made. */
export type ScrubAction = "cleaned" | "unchanged" | "retry" | "failed";

/** A row of the scrub result table. */
export interface ScrubResultInfo {
  code: number;
  message: string;
  outcome: ScrubAction;
}

const SCRUB_RESULTS: Record<number, Omit<ScrubResultInfo, "code">> = {
  0: { message: "OK", outcome: "cleaned" },
  1: { message: "Failed", outcome: "failed" },
  2: { message: "Timeout", outcome: "retry" },
  3: { message: "Unsupported", outcome: "failed" },
  4: { message: "Skipped", outcome: "unchanged" },
  5: { message: "Error", outcome: "retry" },
  6: { message: "Disk limit reached", outcome: "retry" },
  7: { message: "Password protected", outcome: "failed" },
  8: { message: "Protected by DocSec", outcome: "failed" },
  9: { message: "Out of memory", outcome: "retry" },
  15: { message: "Unknown", outcome: "failed" },
  17: { message: "Larger than next hop size limit", outcome: "failed" },
};

/**
 * Looks up a scrub result code by the gateway guide's name for it (sk137032,
 * "Scrub Result Codes"); codes the guide does not name (10 to 14, 16, -1,
 * anything else) are `unknown code N`, never a crash (te_api's enum raised
 * here).
 *
 * @example Cleaned, and failed
 * ```ts
 * import { scrubResultInfo } from "./tpapi_types.ts";
 * import assert from "node:assert/strict";
 * assert.equal(scrubResultInfo(0).outcome, "cleaned");
 * assert.equal(scrubResultInfo(12).outcome, "failed");
 * ```
 */
export function scrubResultInfo(code: number): ScrubResultInfo {
  const known = SCRUB_RESULTS[code];
  return known ? { code, ...known } : { code, message: `unknown code ${code}`, outcome: "failed" };
}

/** Scrubbed parts codes and their display names (sk137032). */
export const SCRUBBED_PARTS: Readonly<Record<number, string>> = {
  1017: "Custom Properties",
  1018: "Database Queries",
  1019: "Embedded Objects",
  1021: "Fast Save Data",
  1025: "Linked Objects",
  1026: "Macros And Code",
  1034: "Sensitive Hyperlinks",
  1036: "Statistic Properties",
  1037: "Summary Properties",
  1137: "PDF Go To Remote Actions",
  1139: "PDF Launch Actions",
  1141: "PDF URI Actions",
  1142: "PDF Sound Actions",
  1143: "PDF Movie Actions",
  1150: "PDF JavaScript Actions",
  1151: "PDF Submit Form Actions",
};

/** The parts removed when a request names none (the appliance clients' default). */
export const DEFAULT_SCRUBBED_PARTS: readonly number[] = [
  1018,
  1019,
  1021,
  1025,
  1026,
  1034,
  1137,
  1139,
  1141,
  1142,
  1143,
  1150,
  1151,
];

/**
 * Validates a `scrub` section.
 *
 * @example A skipped scrub
 * ```ts
 * import { parseScrubResult } from "./tpapi_types.ts";
 * import assert from "node:assert/strict";
 *
 * const scrub = parseScrubResult({ scrub_result: 4, file_enc_data: "" }, "scrub");
 * assert.equal(scrub.scrub_result, 4);
 * ```
 */
export function parseScrubResult(value: unknown, path: string): ScrubResult {
  const obj = expectObject(value, path);
  const code = optionalNumber(obj, "scrub_result", path);
  if (code === undefined) throw new ProtocolError(`${path}.scrub_result: missing`);
  // The cleaned copy is the one field whose type decides what is written; the texts beside
  // it only describe (the guide's own example and its prose disagree on `scrub_time`'s type),
  // so a text of another type is set aside by `oddScrubFields`, never fatal.
  optionalString(obj, "file_enc_data", path);
  return obj as unknown as ScrubResult;
}

/** The `scrub` fields te-scan reads as text (or, for `risk`, as a number). */
const SCRUB_TEXTS = [
  "output_file_name",
  "message",
  "scrub_method",
  "scrubbed_content",
  "scrub_time",
  "scrub_activity",
  "protection_type",
] as const;

/**
 * The descriptive `scrub` fields of a type te-scan does not expect, for the
 * log: each is ignored, the file's result stands.
 *
 * @example A numeric scrub_time is noted, not refused
 * ```ts
 * import { oddScrubFields, parseScrubResult } from "./tpapi_types.ts";
 * import assert from "node:assert/strict";
 *
 * const scrub = parseScrubResult({ scrub_result: 4, scrub_time: 0.483 }, "scrub");
 * assert.deepEqual(oddScrubFields(scrub), ["scrub_time is number 0.483, not text"]);
 * ```
 */
export function oddScrubFields(scrub: ScrubResult): string[] {
  const fields = scrub as unknown as Record<string, unknown>;
  const odd: string[] = [];
  for (const key of SCRUB_TEXTS) {
    const value = fields[key];
    if (value !== undefined && value !== null && typeof value !== "string") {
      odd.push(`${key} is ${typeof value} ${JSON.stringify(value)?.slice(0, 40)}, not text`);
    }
  }
  const risk = fields.risk;
  if (risk !== undefined && risk !== null && typeof risk !== "number") {
    odd.push(`risk is ${typeof risk}, not a number`);
  }
  return odd;
}

/**
 * Validates a TPAPI answer body (`response` as an object or an array).
 *
 * @example One item in the answer
 * ```ts
 * import { parseTpapiResponseBody } from "./tpapi_types.ts";
 * import assert from "node:assert/strict";
 *
 * const items = parseTpapiResponseBody({ response: [{ protocol_version: "1.1" }] });
 * assert.equal(items.length, 1);
 * ```
 */
export function parseTpapiResponseBody(value: unknown): TpapiResponseItem[] {
  const body = expectObject(value, "gateway answer");
  const raw = body.response;
  if (raw === undefined) throw new ProtocolError(`gateway answer: no "response" field`);
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((element, i) => {
    const path = `gateway answer: response[${i}]`;
    const obj = expectObject(element, path);
    optionalString(obj, "protocol_version", path);
    optionalString(obj, "src_ip", path);
    if (obj.te !== undefined && obj.te !== null) parseResponseItem(obj.te, `${path}.te`);
    if (obj.scrub !== undefined && obj.scrub !== null) parseScrubResult(obj.scrub, `${path}.scrub`);
    if (obj.status !== undefined) parseStatus(obj.status, `${path}.status`);
    return obj as TpapiResponseItem;
  });
}
