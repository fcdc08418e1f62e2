/**
 * Emulated Threat Extraction for the gateway's UploadFile `scrub_options`:
 * conversion to PDF, or removal of "active content", decided by ASCII markers
 * in the file so tests can steer every outcome:
 * - `TE-EMULATOR-ACTIVE-CONTENT`: there is something to remove; the cleaned
 *   copy has each marker replaced by `[removed by te-scan emulator]`;
 * - `TE-EMULATOR-ENCRYPTED`: the file is password protected (result 7);
 * - `TE-EMULATOR-UNSUPPORTED`: the type is not supported (result 3).
 *
 * Field names and texts follow the gateway guide (sk137032).
 *
 * @example
 * ```ts
 * import { scrubFile } from "./scrub.ts";
 * const result = scrubFile({
 *   bytes: new TextEncoder().encode("macro: TE-EMULATOR-ACTIVE-CONTENT"),
 *   fileName: "a.docm",
 *   options: { scrub_method: 1 },
 * });
 * result.scrub_result; // 0
 * new TextDecoder().decode(Uint8Array.fromBase64(result.file_enc_data!));
 * // "macro: [removed by te-scan emulator]"
 * ```
 * @module
 */

import {
  DEFAULT_SCRUBBED_PARTS,
  SCRUBBED_PARTS,
  type ScrubOptions,
  type ScrubResult,
  scrubResultInfo,
} from "../transport/tpapi_types.ts";
import { BytePattern, markerBytes } from "./content_scan.ts";
import { simplePdf } from "./documents.ts";
import { fileTypeOf } from "./samples.ts";
import { cleanedName } from "./sections.ts";
import { concatBytes } from "../fs/bytes.ts";

const ACTIVE = new BytePattern(markerBytes("active-content"));
const ENCRYPTED = new BytePattern(markerBytes("encrypted"));
const UNSUPPORTED = new BytePattern(markerBytes("unsupported"));
const REPLACEMENT = new TextEncoder().encode("[removed by te-scan emulator]");

/**
 * Input of {@link scrubFile}.
 *
 * @example
 * ```ts
 * import type { ScrubInput } from "./scrub.ts";
 * const input: ScrubInput = {
 *   bytes: new Uint8Array(),
 *   fileName: "a.pdf",
 *   options: { scrub_method: 2 },
 * };
 * ```
 */
export interface ScrubInput {
  bytes: Uint8Array;
  fileName: string;
  options: ScrubOptions;
  /** A result code forced by a fault (any number, known or not). */
  forcedCode?: number;
  /** Where the original is kept when `save_original_file_on_server` is set. */
  originalUrl?: string;
  malicious?: boolean;
}

/**
 * Every occurrence of `pattern` in `bytes` replaced by `replacement`.
 *
 * @example
 * ```ts
 * import { replaceAll } from "./scrub.ts";
 * import { BytePattern, markerBytes } from "./content_scan.ts";
 * const e = new TextEncoder();
 * const out = replaceAll(e.encode("aXbX"), new BytePattern(e.encode("X")), e.encode("--"));
 * new TextDecoder().decode(out);
 * // "a--b--"
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
 * @example
 * ```ts
 * import { scrubFile } from "./scrub.ts";
 * scrubFile({ bytes: new Uint8Array(3), fileName: "hi.txt", options: { scrub_method: 2 } })
 *   .output_file_name; // "hi.cleaned.pdf"
 * ```
 */
export function scrubFile(input: ScrubInput): ScrubResult {
  const { bytes, fileName, options } = input;
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
    message: scrubResultInfo(code).message,
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
  if (ENCRYPTED.indexIn(bytes) >= 0) return result(7, "The file is password protected");
  if (UNSUPPORTED.indexIn(bytes) >= 0) {
    return result(3, "The file type is not supported by Threat Extraction");
  }
  if (toPdf) {
    const pdf = simplePdf([
      `${fileName || "file"} converted to PDF by the te-scan emulator`,
      `${bytes.length} bytes in the original.`,
    ]);
    const label = extension ? extension.toUpperCase() : "The";
    return result(
      0,
      `${label} file was converted to PDF`,
      pdf,
      `${baseName(fileName)}.cleaned.pdf`,
    );
  }
  if (ACTIVE.indexIn(bytes) < 0) {
    return result(4, "The file doesn't include cleanable parts");
  }
  const cleaned = replaceAll(bytes, ACTIVE, REPLACEMENT);
  return result(0, "Active content was removed", cleaned, cleanedName(fileName, "clean"));
}

function partsNamed(options: ScrubOptions): string {
  const codes = options.scrubbed_parts_codes ?? DEFAULT_SCRUBBED_PARTS;
  return codes.map((code) => SCRUBBED_PARTS[code]).filter(Boolean).join(", ");
}
