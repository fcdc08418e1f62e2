/**
 * Emulated Threat Extraction for the gateway's UploadFile `scrub_options`:
 * conversion to PDF, or removal of "active content", decided by the markers
 * the content scanner found, so tests can steer every outcome:
 * - `TE-EMULATOR-ACTIVE-CONTENT`: there is something to remove (methods 1
 *   and 0); the cleaned copy has each marker replaced by
 *   `[removed by te-scan emulator]`; without it, result 4 Skipped;
 * - `TE-EMULATOR-ENCRYPTED`: the file is password protected (result 7);
 * - `TE-EMULATOR-UNSUPPORTED`: the type is not supported (result 3);
 * - a file over the size limit (`scrubMaxBytes`): result 17, as a gateway
 *   refuses what it will not pass to the next hop. The limit is also what
 *   bounds the copy the emulator keeps to clean.
 *
 * Field names and texts follow the gateway guide (sk137032).
 *
 * @example Clean a document with active content
 * ```ts
 * import { scrubFile } from "./scrub.ts";
 * import { scanBytes } from "./content_scan.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("macro: TE-EMULATOR-ACTIVE-CONTENT");
 * const result = scrubFile({
 *   facts: scanBytes(bytes),
 *   bytes,
 *   fileName: "a.docm",
 *   options: { scrub_method: 1 },
 *   maxBytes: 1024,
 * });
 * assert.equal(result.scrub_result, 0);
 * assert.equal(result.output_file_name, "a.cleaned.docm");
 * assert.equal(
 *   new TextDecoder().decode(Uint8Array.fromBase64(result.file_enc_data!)),
 *   "macro: [removed by te-scan emulator]",
 * );
 * ```
 * @module
 */

import type { ScrubOptions } from "./requests.ts";
import { BytePattern, type ContentFacts, markerBytes } from "./content_scan.ts";
import { simplePdf } from "./documents.ts";
import { fileTypeOf } from "./samples.ts";
import { cleanedName } from "./sections.ts";
import { concatBytes } from "../util/bytes.ts";

/** The `scrub` section of an UploadFile answer (the guide's "Upload Response Format"). */
export interface ScrubResult {
  file_enc_data?: string;
  input_real_extension?: string;
  message?: string;
  orig_file_url?: string;
  output_file_name?: string;
  protection_name?: string;
  protection_type?: string;
  real_extension?: string;
  risk?: number;
  scrub_activity?: string;
  scrub_method?: string;
  scrub_result: number;
  scrub_time?: string;
  scrubbed_content?: string;
}

// The guide's "Scrub Result Codes": codes 0 to 9 in order, then 15 and 17.
const RESULT_MESSAGES = [
  "OK",
  "Failed",
  "Timeout",
  "Unsupported",
  "Skipped",
  "Error",
  "Disk limit reached",
  "Password protected",
  "Protected by DocSec",
  "Out of memory",
];

function resultMessage(code: number): string {
  if (code === 15) return "Unknown";
  if (code === 17) return "Larger than next hop size limit";
  return RESULT_MESSAGES[code] ?? `unknown code ${code}`;
}

// The guide's "Scrubbed Parts Codes", by display name.
const PART_NAMES = new Map<number, string>([
  [1017, "Custom Properties"],
  [1018, "Database Queries"],
  [1019, "Embedded Objects"],
  [1021, "Fast Save Data"],
  [1025, "Linked Objects"],
  [1026, "Macros And Code"],
  [1034, "Sensitive Hyperlinks"],
  [1036, "Statistic Properties"],
  [1037, "Summary Properties"],
  [1137, "PDF Go To Remote Actions"],
  [1139, "PDF Launch Actions"],
  [1141, "PDF URI Actions"],
  [1142, "PDF Sound Actions"],
  [1143, "PDF Movie Actions"],
  [1150, "PDF JavaScript Actions"],
  [1151, "PDF Submit Form Actions"],
]);

// A request naming no parts gets every part but the document properties:
// the list the guide's own example and the appliance clients send.
const DEFAULT_PARTS = [...PART_NAMES.keys()].filter((code) => ![1017, 1036, 1037].includes(code));

const ACTIVE = new BytePattern(markerBytes("active-content"));
const REPLACEMENT = new TextEncoder().encode("[removed by te-scan emulator]");

/**
 * Input of {@link scrubFile}.
 */
export interface ScrubInput {
  /** What the content scanner found in the whole file. */
  facts: Pick<ContentFacts, "size" | "markers">;
  /** The whole file; null when it was over `maxBytes` and so not kept. */
  bytes: Uint8Array | null;
  fileName: string;
  options: ScrubOptions;
  /** Largest file Threat Extraction takes; larger ones answer 17. */
  maxBytes: number;
  /** A result code forced by a fault (any number, known or not). */
  forcedCode?: number;
  /** Where the original is kept when `save_original_file_on_server` is set. */
  originalUrl?: string;
  malicious?: boolean;
}

/**
 * Every occurrence of `pattern` in `bytes` replaced by `replacement`.
 *
 * @example Replace every match
 * ```ts
 * import { replaceAll } from "./scrub.ts";
 * import { BytePattern } from "./content_scan.ts";
 * import assert from "node:assert/strict";
 *
 * const e = new TextEncoder();
 * const out = replaceAll(e.encode("aXbX"), new BytePattern(e.encode("X")), e.encode("--"));
 * assert.equal(new TextDecoder().decode(out), "a--b--");
 * ```
 */
export function replaceAll(
  bytes: Uint8Array,
  pattern: BytePattern,
  replacement: Uint8Array,
): Uint8Array {
  const parts: Uint8Array[] = [];
  let from = 0;
  for (let at = pattern.indexIn(bytes); at >= 0; at = pattern.indexIn(bytes, from)) {
    parts.push(bytes.subarray(from, at), replacement);
    from = at + pattern.length;
  }
  parts.push(bytes.subarray(from));
  return concatBytes(parts);
}

function baseName(fileName: string): string {
  const dot = fileName.indexOf(".");
  return dot < 0 ? fileName : fileName.slice(0, dot);
}

/**
 * The `scrub` section of an UploadFile answer.
 *
 * @example Convert to PDF, and a file over the limit
 * ```ts
 * import { scrubFile } from "./scrub.ts";
 * import { scanBytes } from "./content_scan.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array(3);
 * const input = { facts: scanBytes(bytes), bytes, fileName: "hi.txt", maxBytes: 3 };
 * const pdf = scrubFile({ ...input, options: { scrub_method: 2 } });
 * assert.equal(pdf.output_file_name, "hi.cleaned.pdf");
 * const big = scrubFile({ ...input, maxBytes: 2, options: { scrub_method: 2 } });
 * assert.equal(big.scrub_result, 17);
 * assert.equal(big.file_enc_data, "");
 * ```
 */
export function scrubFile(input: ScrubInput): ScrubResult {
  const { facts, bytes, fileName, options } = input;
  const toPdf = options.scrub_method === 2;
  const extension = fileTypeOf(fileName);
  const result = (
    code: number,
    activity: string,
    cleaned?: Uint8Array,
    output = "",
  ): ScrubResult => ({
    file_enc_data: cleaned ? cleaned.toBase64() : "",
    input_real_extension: extension,
    message: resultMessage(code),
    orig_file_url: options.save_original_file_on_server ? input.originalUrl ?? "" : "",
    output_file_name: cleaned ? output : "",
    protection_name: "Extract potentially malicious content",
    protection_type: toPdf ? "Conversion to PDF" : "Content Removal",
    real_extension: extension,
    risk: input.malicious ? 4 : 0,
    scrub_activity: activity,
    scrub_method: toPdf ? "Convert to PDF" : "Clean Document",
    scrub_result: code,
    scrub_time: "0.011",
    scrubbed_content: code === 0 && !toPdf ? partsNamed(options) : "",
  });
  if (input.forcedCode !== undefined && input.forcedCode !== 0) {
    return result(input.forcedCode, `Result ${input.forcedCode} forced by an injected fault`);
  }
  if (bytes === null || facts.size > input.maxBytes) {
    return result(17, `The file is larger than the ${input.maxBytes}-byte Threat Extraction limit`);
  }
  if (facts.markers.has("encrypted")) return result(7, "The file is password protected");
  if (facts.markers.has("unsupported")) {
    return result(3, "The file type is not supported by Threat Extraction");
  }
  if (toPdf) {
    const pdf = simplePdf([
      `${fileName || "file"} converted to PDF by the te-scan emulator`,
      `${facts.size} bytes in the original.`,
    ]);
    const label = extension ? extension.toUpperCase() : "The";
    return result(
      0,
      `${label} file was converted to PDF`,
      pdf,
      `${baseName(fileName)}.cleaned.pdf`,
    );
  }
  if (!facts.markers.has("active-content")) {
    return result(4, "The file doesn't include cleanable parts");
  }
  const cleaned = replaceAll(bytes, ACTIVE, REPLACEMENT);
  return result(0, "Active content was removed", cleaned, cleanedName(fileName, "clean"));
}

function partsNamed(options: ScrubOptions): string {
  const codes = options.scrubbed_parts_codes ?? DEFAULT_PARTS;
  return codes.map((code) => PART_NAMES.get(code)).filter(Boolean).join(", ");
}
