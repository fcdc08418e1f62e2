/**
 * The emulator's own picture of the wire: the shapes it reads and answers
 * and the status codes, written from `shared/reference/te-api-protocol.md`
 * (§2, §3) and the gateway guide in `shared/seeds/`, not taken from the
 * client. The emulator is the oracle the client is tested against, so a
 * shape both got wrong in one shared table could never fail a test.
 *
 * @example A status object as the service sends it
 * ```ts
 * import { Code, statusObject } from "./wire.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(statusObject(Code.PENDING), {
 *   code: 1003,
 *   label: "PENDING",
 *   message: "The request is pending.",
 * });
 * ```
 * @module
 */

// The status labels in code order: the codes run from 1001 without a gap.
const LABELS = [
  "FOUND",
  "UPLOAD_SUCCESS",
  "PENDING",
  "NOT_FOUND",
  "NO_QUOTA",
  "PARTIALLY_FOUND",
  "FILE_TYPE_NOT_SUPPORTED",
  "BAD_REQUEST",
  "INTERNAL_ERROR",
  "FORBIDDEN",
  "NOT_ENOUGH_RESOURCES",
] as const;

/** The numeric status codes of the Threat Prevention API, by label. */
export const Code = Object.fromEntries(LABELS.map((label, i) => [label, 1001 + i])) as Readonly<
  Record<typeof LABELS[number], number>
>;

// The message text of each code, as the published samples spell it where
// they show one (1001, 1002, 1003, 1004) and a paraphrase of the guide else.
const MESSAGES: Readonly<Record<number, string>> = {
  [Code.FOUND]: "The request has been fully answered.",
  [Code.UPLOAD_SUCCESS]: "The file was uploaded successfully.",
  [Code.PENDING]: "The request is pending.",
  [Code.NOT_FOUND]: "Could not find the requested file. Please upload it.",
  [Code.NO_QUOTA]: "There is no quota left for this API key.",
  [Code.PARTIALLY_FOUND]: "Part of the request has been answered.",
  [Code.FILE_TYPE_NOT_SUPPORTED]: "The file type is not supported.",
  [Code.BAD_REQUEST]: "The request is not in a valid format.",
  [Code.INTERNAL_ERROR]: "Internal error, try again later.",
  [Code.FORBIDDEN]: "Permission denied for the requested feature.",
  [Code.NOT_ENOUGH_RESOURCES]: "Not enough resources, try again in a few seconds.",
};

/** `{code, label, message}`, per feature and combined. */
export interface Status {
  code: number;
  label?: string;
  message?: string;
}

/**
 * The label of a code, `undefined` for a code the protocol does not name.
 *
 * @example Known and unknown codes
 * ```ts
 * import { labelOf } from "./wire.ts";
 * import assert from "node:assert/strict";
 * assert.equal(labelOf(1007), "FILE_TYPE_NOT_SUPPORTED");
 * assert.equal(labelOf(4242), undefined);
 * ```
 */
export function labelOf(code: number): string | undefined {
  return Number.isInteger(code) ? LABELS[code - 1001] : undefined;
}

/**
 * A status object for any code, known or not (forced fault codes may be ones
 * the protocol lacks, to test how clients cope); `message` replaces the
 * standard text.
 *
 * @example A code of the table, one outside it, and a message of one's own
 * ```ts
 * import { statusObject } from "./wire.ts";
 * import assert from "node:assert/strict";
 * assert.equal(statusObject(1007).label, "FILE_TYPE_NOT_SUPPORTED");
 * assert.equal(statusObject(4242).label, "UNKNOWN");
 * assert.equal(statusObject(1008, "no digest").message, "no digest");
 * ```
 */
export function statusObject(code: number, message?: string): Required<Status> {
  const standard: string | undefined = MESSAGES[code];
  return {
    code,
    label: labelOf(code) ?? "UNKNOWN",
    message: message ?? standard ?? `Status ${code}.`,
  };
}

/**
 * A request the protocol does not allow; answered 1008 BAD_REQUEST with this
 * message, which names the field and what is wrong.
 *
 * @example The error's name
 * ```ts
 * import { BadRequest } from "./wire.ts";
 * import assert from "node:assert/strict";
 * assert.equal(new BadRequest("request: expected an array").name, "BadRequest");
 * ```
 */
export class BadRequest extends Error {
  override name = "BadRequest";
}

/** A body larger than the emulator takes (answered 413): the generic one of `lib/util/`. */
export { TooLarge } from "../util/json_stream.ts";

/** The features of the protocol (§2.1, `te_eb` from the appliance clients). */
export type Feature = "te" | "te_eb" | "av" | "extraction";

/** Every feature, in the order answers list their sections. */
export const FEATURES: readonly Feature[] = ["te", "te_eb", "av", "extraction"];

/** An emulation image of a request (`te.images[]`). */
export interface ImageRef {
  id: string;
  revision?: number;
}

/**
 * A request's `te` object (§2.2). The parser always sets `version_info` and
 * `return_errors` (false when not sent), so answers can depend on them.
 */
export interface TeRequest {
  benign_reports?: boolean;
  images?: ImageRef[];
  reports?: string[];
  reports_version_number?: number;
  return_errors?: boolean;
  version_info?: boolean;
}

/** A request's `extraction` object (§2.3). */
export interface ExtractionRequest {
  extracted_parts_codes?: number[];
  method?: "pdf" | "clean";
  scrubbed_parts_codes?: string[];
}

/** One cloud-format request object (query or upload), as checked. */
export interface RequestItem {
  extraction?: ExtractionRequest;
  features?: string[];
  file_name?: string;
  file_type?: string;
  md5?: string;
  quota?: boolean;
  sha1?: string;
  sha256?: string;
  te?: TeRequest;
}

/** `images[].report`: the verdict, report ids, and the emulation's details. */
export interface ImageReport {
  additional_emulation_data?: Record<string, string>;
  full_report?: string | null;
  pdf_report?: string | null;
  tar_report?: string | null;
  verdict?: string;
  xml_report?: string | null;
}

/** One image of an answer's `te.images`. */
export interface ImageResult {
  id: string;
  report?: ImageReport;
  revision?: number;
  status?: string;
}

/** An answer's `te` section (§3.2). */
export interface TeResult {
  combined_verdict?: string | null;
  confidence?: number;
  images?: ImageResult[];
  score?: number;
  severity?: number;
  status: Status;
  summary_report?: string | null;
  te_engine_version?: string;
  trust?: number;
}

/** An answer's `te_eb` section (§3.3). */
export interface TeEbResult {
  combined_verdict?: string | null;
  confidence?: number;
  severity?: number;
  status: Status;
}

/** An answer's `av` section (§3.4). */
export interface AvResult {
  status: Status;
  malware_info?: {
    signature_name?: string;
    malware_family?: number;
    malware_type?: number;
    severity?: number;
    confidence?: number;
  };
}

/** An answer's `extraction` section (§3.5). */
export interface ExtractionResult {
  extract_content?: string;
  extract_result?: string;
  extracted_file_download_id?: string;
  extraction_data?: Record<string, unknown>;
  method?: string;
  output_file_name?: string;
  status: Status;
  tex_product?: boolean;
  time?: string;
}

/** One answer object (§3.1): the combined status and a section per feature. */
export interface ResponseItem {
  av?: AvResult;
  extraction?: ExtractionResult;
  features?: string[];
  file_name?: string;
  file_type?: string;
  md5?: string;
  sha1?: string;
  sha256?: string;
  status: Status;
  te?: TeResult;
  te_eb?: TeEbResult;
}
