/**
 * The per-feature sections of an answer (`te`, `te_eb`, `av`, `extraction`)
 * for each stage of a sample's life: unknown, just uploaded, pending, partly
 * and fully emulated. Shapes follow Check Point's published samples
 * (`shared/fixtures/checkpoint/`), key order included.
 *
 * @example The te section of an unknown file
 * ```ts
 * import { teSection } from "./sections.ts";
 * import assert from "node:assert/strict";
 * const te = teSection({ stage: "unknown", reports: [], images: [] });
 * assert.equal(te.status.code, 1004);
 * ```
 * @module
 */

import type {
  AvResult,
  ExtractionResult,
  ImageRef,
  ImageReport,
  ImageResult,
  TeEbResult,
  TeResult,
} from "../transport/protocol.ts";
import { Code, statusObject } from "../transport/status.ts";

/**
 * Where a feature stands for one sample at one moment:
 * - `unknown`: the emulator has no such file;
 * - `uploaded`: the answer to the upload itself;
 * - `pending` / `partial` / `found`: emulation progress.
 */
export type Stage = "unknown" | "uploaded" | "pending" | "partial" | "found";

/** Placeholder the service sends in `te.score` (INT_MIN) in every sample. */
const SCORE = -2147483648;

/**
 * The two images every real answer lists when the request names none.
 *
 * @example The first default image
 * ```ts
 * import { DEFAULT_IMAGES } from "./sections.ts";
 * import assert from "node:assert/strict";
 * assert.equal(DEFAULT_IMAGES.map((i) => i.id)[0], "e50e99f3-5963-4573-af9e-e3f4750b55e2");
 * ```
 */
export const DEFAULT_IMAGES: readonly ImageRef[] = [
  { id: "e50e99f3-5963-4573-af9e-e3f4750b55e2", revision: 1 },
  { id: "5e5de275-a103-4f67-b55b-47532918fa59", revision: 1 },
];

/**
 * Report formats produced per image; `summary` is per sample.
 */
export type ImageFormat = "pdf" | "xml" | "tar" | "full_report";

const REPORT_KEYS = {
  pdf: "pdf_report",
  xml: "xml_report",
  tar: "tar_report",
  full_report: "full_report",
} as const satisfies Record<ImageFormat, Exclude<keyof ImageReport, "verdict">>;

/**
 * Report ids of a found sample; `null` when the report is not produced
 * (benign files without `benign_reports`).
 */
export interface ReportIdSource {
  summary(): string | null;
  image(format: ImageFormat, imageId: string): string | null;
}

/**
 * Input of {@link teSection}.
 */
export interface TeInput {
  stage: Stage;
  /** `te.reports` of the request. */
  reports: string[];
  /** Images to list (the request's, or the defaults). */
  images: readonly ImageRef[];
  /** Verdict text, spelled as the deployment spells it; required from `partial` on. */
  verdict?: string;
  malicious?: boolean;
  ids?: ReportIdSource;
}

function imageReport(
  verdict: string,
  reports: string[],
  id: (format: ImageFormat) => string | null,
): ImageReport {
  const report: ImageReport = { verdict };
  for (
    const [format, key] of Object.entries(REPORT_KEYS) as [
      ImageFormat,
      Exclude<keyof ImageReport, "verdict">,
    ][]
  ) {
    if (reports.includes(format)) report[key] = id(format);
  }
  return report;
}

function image(ref: ImageRef, status: string, report: ImageReport): ImageResult {
  return { report, status, id: ref.id, revision: ref.revision ?? 1 };
}

/**
 * The `te` section.
 *
 * @example A pending te section has no report yet
 * ```ts
 * import { DEFAULT_IMAGES, teSection } from "./sections.ts";
 * import assert from "node:assert/strict";
 * const te = teSection({ stage: "pending", reports: ["summary"], images: DEFAULT_IMAGES });
 * assert.equal(te.summary_report, null);
 * assert.equal(te.images?.[0].status, "pending");
 * ```
 */
export function teSection(input: TeInput): TeResult {
  const { stage, reports, images } = input;
  const none = () => null;
  if (stage === "unknown") {
    return {
      trust: 0,
      images: images.map((ref) => image(ref, "not_found", { verdict: "unknown" })),
      score: SCORE,
      status: statusObject(Code.NOT_FOUND),
    };
  }
  const found = stage === "found";
  const code = {
    uploaded: Code.UPLOAD_SUCCESS,
    pending: Code.PENDING,
    partial: Code.PARTIALLY_FOUND,
    found: Code.FOUND,
  }[stage];
  const ids = found ? input.ids : undefined;
  const imageResults = images.map((ref, i) => {
    if (found || (stage === "partial" && i === 0)) {
      const report = imageReport(input.verdict!, reports, (f) => ids?.image(f, ref.id) ?? null);
      return image(ref, "found", report);
    }
    return image(
      ref,
      stage === "uploaded" ? "not_found" : "pending",
      imageReport("unknown", reports, none),
    );
  });
  const te: TeResult = {
    combined_verdict: found ? input.verdict! : null,
    trust: found && input.malicious ? 10 : 0,
    images: imageResults,
    score: SCORE,
    confidence: found && input.malicious ? 3 : 0,
    severity: found && input.malicious ? 4 : 0,
    status: statusObject(code),
  };
  if (reports.includes("summary")) te.summary_report = ids?.summary() ?? null;
  return te;
}

/**
 * The `te_eb` (early verdict) section.
 *
 * @example te_eb's confidence in an early malicious verdict
 * ```ts
 * import { teEbSection } from "./sections.ts";
 * import assert from "node:assert/strict";
 * assert.equal(teEbSection("found", "Malicious", true).confidence, 2);
 * ```
 */
export function teEbSection(stage: Stage, verdict?: string, malicious?: boolean): TeEbResult {
  switch (stage) {
    case "unknown":
      return { status: statusObject(Code.NOT_FOUND) };
    case "uploaded":
      return { status: statusObject(Code.UPLOAD_SUCCESS) };
    case "found":
      return {
        status: statusObject(Code.FOUND),
        combined_verdict: verdict!,
        severity: malicious ? 4 : 0,
        // An early verdict is less certain than a full emulation.
        confidence: malicious ? 2 : 0,
      };
    default:
      return { status: statusObject(Code.PENDING), combined_verdict: null };
  }
}

/**
 * What the AV engine says about a found sample: it has a signature for the
 * EICAR test string and for nothing else.
 */
export type AvFinding = "eicar" | "clean";

/**
 * The `av` section. A benign file still carries `malware_info`, with an
 * empty signature and zeros: `av_api` reads it unconditionally.
 *
 * @example The EICAR signature
 * ```ts
 * import { avSection } from "./sections.ts";
 * import assert from "node:assert/strict";
 * assert.equal(avSection("found", "eicar").malware_info?.signature_name, "EICAR-Test-File");
 * ```
 */
export function avSection(stage: Stage, finding: AvFinding = "clean"): AvResult {
  if (stage === "unknown") return { status: statusObject(Code.NOT_FOUND) };
  if (stage === "uploaded") return { status: statusObject(Code.UPLOAD_SUCCESS) };
  const info = {
    eicar: {
      signature_name: "EICAR-Test-File",
      malware_family: 5374,
      malware_type: 42,
      severity: 4,
      confidence: 5,
    },
    clean: { signature_name: "", malware_family: 0, malware_type: 0, severity: 0, confidence: 0 },
  }[finding];
  return { malware_info: info, status: statusObject(Code.FOUND) };
}

/**
 * Input of {@link extractionSection}.
 */
export interface ExtractionInput {
  stage: Stage;
  method: "pdf" | "clean";
  /** The file name the query gave; extraction needs one to answer. */
  fileName?: string;
  malicious?: boolean;
  /** Hands out the cleaned file's download id. */
  downloadId?: (outputFileName: string) => string;
}

/**
 * The name Threat Extraction gives the cleaned copy: `.cleaned` goes after the
 * first dot-separated part (`a.docx` → `a.cleaned.docx`), and a conversion to
 * PDF appends `.pdf`, as in the service's samples.
 *
 * @example The gateway's cleaned names
 * ```ts
 * import { cleanedName } from "./sections.ts";
 * import assert from "node:assert/strict";
 * assert.equal(cleanedName("index.html", "pdf"), "index.cleaned.html.pdf");
 * assert.equal(cleanedName("a.b.docx", "clean"), "a.cleaned.b.docx");
 * ```
 */
export function cleanedName(fileName: string, method: "pdf" | "clean"): string {
  const dot = fileName.indexOf(".");
  const base = dot < 0
    ? `${fileName}.cleaned`
    : `${fileName.slice(0, dot)}.cleaned${fileName.slice(dot)}`;
  return method === "pdf" ? `${base}.pdf` : base;
}

/**
 * The `extraction` section (cloud Threat Extraction). Extraction is fast: it
 * is FOUND from the first query after upload, even while te is pending.
 *
 * @example A finished extraction
 * ```ts
 * import { extractionSection } from "./sections.ts";
 * import assert from "node:assert/strict";
 *
 * const section = extractionSection({ stage: "found", method: "clean" });
 * assert.equal(section.status.label, "PARTIALLY_FOUND");
 * ```
 */
export function extractionSection(input: ExtractionInput): ExtractionResult {
  const { stage, method, fileName } = input;
  const brief = (code: typeof Code[keyof typeof Code]) => ({
    method,
    status: statusObject(code),
    tex_product: false,
  });
  if (stage === "unknown") return brief(Code.NOT_FOUND);
  if (stage === "uploaded") return brief(Code.UPLOAD_SUCCESS);
  if (!fileName) return brief(Code.PARTIALLY_FOUND);
  const output = cleanedName(fileName, method);
  const inputExtension = fileName.includes(".")
    ? fileName.slice(fileName.lastIndexOf(".") + 1)
    : "";
  const pdf = method === "pdf";
  const content = pdf ? "" : "Macros and Code";
  return {
    extract_result: "CP_EXTRACT_RESULT_SUCCESS",
    extraction_data: {
      input_extension: inputExtension,
      input_real_extension: inputExtension.toLowerCase(),
      message: "OK",
      orig_file_url: "",
      output_file_name: output,
      protection_name: "Potential malicious content extracted",
      protection_type: pdf ? "Conversion to PDF" : "Content Removal",
      risk: input.malicious ? 4 : 0,
      scrub_activity: pdf
        ? `${inputExtension.toUpperCase() || "The"} file was converted to PDF`
        : "Active content was removed",
      scrub_method: pdf ? "Convert to PDF" : "Clean Document",
      scrub_result: 0,
      scrub_time: "0.037",
      scrubbed_content: content,
    },
    method,
    output_file_name: output,
    status: statusObject(Code.FOUND),
    tex_product: false,
    extract_content: content,
    extracted_file_download_id: input.downloadId?.(output) ?? "",
    time: "0.037",
  };
}
