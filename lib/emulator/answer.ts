/**
 * One answer object of the cloud format for one request object: the echoed
 * digests and names, a section per requested feature, and the combined
 * status over them. This is where a sample's time line (pending → early
 * verdict → found) is read off the clock.
 *
 * @example A query about a file the emulator has never seen
 * ```ts
 * import { buildAnswer } from "./answer.ts";
 * import { SampleStore } from "./samples.ts";
 * import assert from "node:assert/strict";
 * const item = buildAnswer({
 *   request: { md5: "0".repeat(32) },
 *   view: "query",
 *   now: 0,
 *   store: new SampleStore(),
 *   settings: {
 *     mode: "appliance",
 *     verdictCase: "upper",
 *     emulationMs: 10,
 *     earlyMs: 5,
 *     imagePartial: false,
 *     benignEarly: "found",
 *   },
 * });
 * assert.equal(item.status.label, "NOT_FOUND");
 * ```
 * @module
 */

import {
  type Feature,
  FEATURES,
  type ImageRef,
  type RequestItem,
  type ResponseItem,
  type Status,
} from "./wire.ts";
import { Code, statusObject } from "./wire.ts";
import type { ResolvedOptions } from "./options.ts";
import type { DigestQuery, Sample, SampleStore } from "./samples.ts";
import {
  avSection,
  DEFAULT_IMAGES,
  extractionSection,
  type ReportIdSource,
  type Stage,
  teEbSection,
  teSection,
} from "./sections.ts";

/**
 * The options that shape answers.
 */
export type AnswerSettings = Pick<
  ResolvedOptions,
  "mode" | "verdictCase" | "emulationMs" | "earlyMs" | "imagePartial" | "benignEarly"
>;

/**
 * A status object for any code, known or not: forced fault codes may be ones
 * the table lacks, to test how clients cope.
 *
 * @example Known codes, an unknown one, and a message of one's own
 * ```ts
 * import { statusFor } from "./answer.ts";
 * import assert from "node:assert/strict";
 * assert.equal(statusFor(1007).label, "FILE_TYPE_NOT_SUPPORTED");
 * assert.equal(statusFor(4242).label, "UNKNOWN");
 * assert.equal(statusFor(1008, "no digest").message, "no digest");
 * ```
 */
export function statusFor(code: number, message?: string): Required<Status> {
  return statusObject(code, message);
}

/**
 * The features a request object asks for (default `te`), or a message naming
 * one the protocol does not have.
 *
 * @example The default, duplicates dropped, and an unknown feature
 * ```ts
 * import { requestedFeatures } from "./answer.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(requestedFeatures({}), ["te"]);
 * assert.deepEqual(requestedFeatures({ features: ["te", "te_eb", "te"] }), ["te", "te_eb"]);
 * assert.match(String(requestedFeatures({ features: ["sandbox"] })), /^unknown feature "sandbox"/);
 * ```
 */
export function requestedFeatures(request: RequestItem): Feature[] | string {
  const asked = request.features?.length ? request.features : ["te"];
  const out: Feature[] = [];
  for (const name of asked) {
    if (!(FEATURES as readonly string[]).includes(name)) {
      return `unknown feature ${JSON.stringify(name)} (known: ${FEATURES.join(", ")})`;
    }
    if (!out.includes(name as Feature)) out.push(name as Feature);
  }
  return out;
}

const IN_PROGRESS: readonly number[] = [Code.PENDING, Code.PARTIALLY_FOUND, Code.UPLOAD_SUCCESS];
const ORDINARY: readonly number[] = [
  Code.FOUND,
  Code.UPLOAD_SUCCESS,
  Code.PENDING,
  Code.NOT_FOUND,
  Code.PARTIALLY_FOUND,
];

/**
 * The combined (top-level) status code over the per-feature codes.
 *
 * While te is still running, another finished feature makes the appliance
 * say PARTIALLY_FOUND (its clients read te_eb then) but the cloud PENDING
 * (`TEXResponsePending.json`). Errors win over everything.
 *
 * @example Appliances and the cloud combine codes differently
 * ```ts
 * import { combinedCode } from "./answer.ts";
 * import assert from "node:assert/strict";
 * const codes = new Map([["te", 1003], ["te_eb", 1001]] as const);
 * assert.equal(combinedCode(codes, "appliance"), 1006);
 * assert.equal(combinedCode(codes, "cloud"), 1003);
 * ```
 */
export function combinedCode(
  codes: ReadonlyMap<Feature, number>,
  mode: "appliance" | "cloud",
): number {
  const all = [...codes.values()];
  const error = all.find((code) => !ORDINARY.includes(code));
  if (error !== undefined) return error;
  for (const same of [Code.FOUND, Code.UPLOAD_SUCCESS, Code.NOT_FOUND]) {
    if (all.every((code) => code === same)) return same;
  }
  const te = codes.get("te");
  const someAnswered = all.some((code) => code === Code.FOUND || code === Code.PARTIALLY_FOUND);
  if (te !== undefined && IN_PROGRESS.includes(te)) {
    if (mode === "cloud") return Code.PENDING;
    return someAnswered ? Code.PARTIALLY_FOUND : Code.PENDING;
  }
  return someAnswered ? Code.PARTIALLY_FOUND : Code.PENDING;
}

/** Echoes what batch clients key on: every digest when the file is known. */
function echo(
  request: RequestItem,
  known: DigestQuery | undefined,
  fileName: string,
  fileType: string,
): Pick<ResponseItem, "md5" | "sha1" | "sha256" | "file_type" | "file_name"> {
  const out: Pick<ResponseItem, "md5" | "sha1" | "sha256" | "file_type" | "file_name"> = {};
  for (const key of ["md5", "sha1", "sha256"] as const) {
    const value = known?.[key] ?? request[key];
    if (value) out[key] = value;
  }
  out.file_type = fileType;
  out.file_name = fileName;
  return out;
}

function assemble(
  status: Status,
  echoed: ReturnType<typeof echo>,
  features: Feature[],
  sections: Partial<Pick<ResponseItem, Feature>>,
): ResponseItem {
  const item: ResponseItem = { status, ...echoed, features };
  for (const feature of FEATURES) {
    if (features.includes(feature) && sections[feature]) {
      Object.assign(item, { [feature]: sections[feature] });
    }
  }
  return item;
}

/**
 * What the emulator knows about the file an error answer is about: the
 * digests it computed, the name and type it was uploaded with.
 */
export type KnownFile = DigestQuery & { fileName?: string; fileType?: string };

/**
 * An answer whose top-level status and every requested feature's status is
 * `code`: errors (1005, 1007, 1008, …) and forced fault codes.
 *
 * @example Every asked feature gets the error
 * ```ts
 * import { errorAnswer } from "./answer.ts";
 * import assert from "node:assert/strict";
 * const item = errorAnswer({ md5: "ab", features: ["te", "av"] }, 1009);
 * assert.equal(item.te?.status.code, 1009);
 * ```
 */
export function errorAnswer(
  request: RequestItem,
  code: number,
  message?: string,
  known?: KnownFile,
): ResponseItem {
  const features = requestedFeatures(request);
  const list = typeof features === "string" ? ["te" as const] : features;
  const status = statusFor(code, message);
  const sections: Partial<Pick<ResponseItem, Feature>> = {};
  for (const feature of list) {
    sections[feature] = feature === "extraction"
      ? { method: request.extraction?.method ?? "pdf", status, tex_product: false }
      : { status };
  }
  const fileName = request.file_name ?? known?.fileName ?? "";
  const fileType = request.file_type ?? known?.fileType ?? "";
  return assemble(status, echo(request, known, fileName, fileType), list, sections);
}

/**
 * Input of {@link buildAnswer}.
 */
export interface AnswerInput {
  request: RequestItem;
  /** The sample the request names; absent when the emulator has no such file. */
  sample?: Sample;
  /** `upload`: the answer to the upload itself (every feature UPLOAD_SUCCESS). */
  view: "query" | "upload";
  /** Emulator clock, ms. */
  now: number;
  settings: AnswerSettings;
  store: SampleStore;
}

/**
 * How far te has got for a sample at `now`.
 *
 * @example Pending, half way with a partial image, then found
 * ```ts
 * import { teStage } from "./answer.ts";
 * import type { Sample } from "./samples.ts";
 * import assert from "node:assert/strict";
 *
 * const sample: Sample = {
 *   md5: "a".repeat(32),
 *   sha1: "b".repeat(40),
 *   sha256: "c".repeat(64),
 *   size: 1,
 *   fileName: "x.doc",
 *   fileType: "doc",
 *   verdict: "benign",
 *   eicar: false,
 *   uploadedAt: 0,
 *   receivedAt: "2026-01-01T00:00:00.000Z",
 * };
 * const settings = { emulationMs: 2000, imagePartial: true };
 * assert.equal(teStage(sample, 500, settings), "pending");
 * assert.equal(teStage(sample, 1000, settings), "partial");
 * assert.equal(teStage(sample, 3000, settings), "found");
 * ```
 */
export function teStage(
  sample: Sample,
  now: number,
  settings: Pick<AnswerSettings, "emulationMs" | "imagePartial">,
): Stage {
  const elapsed = now - sample.uploadedAt;
  if (elapsed >= settings.emulationMs) return "found";
  if (settings.imagePartial && elapsed >= settings.emulationMs / 2) return "partial";
  return "pending";
}

/**
 * Whether a sample's early verdict (te_eb) is Malicious: for malicious
 * files and for early-malicious ones, whose final verdict is Benign.
 *
 * @example Only the early-malicious marker is caught early
 * ```ts
 * import { earlyMalicious } from "./answer.ts";
 * import assert from "node:assert/strict";
 * assert.equal(earlyMalicious({ verdict: "early-malicious" }), true);
 * assert.equal(earlyMalicious({ verdict: "benign" }), false);
 * ```
 */
export function earlyMalicious(sample: Pick<Sample, "verdict">): boolean {
  return sample.verdict === "malicious" || sample.verdict === "early-malicious";
}

function teEbStage(sample: Sample, now: number, te: Stage, settings: AnswerSettings): Stage {
  if (earlyMalicious(sample)) {
    const early = Math.min(settings.earlyMs, settings.emulationMs);
    return now - sample.uploadedAt >= early ? "found" : "pending";
  }
  // Early verdicts exist for malicious files; a benign one only "arrives"
  // with the full result, and some appliances never send it.
  return te === "found" && settings.benignEarly === "found" ? "found" : "pending";
}

function reportIds(
  input: AnswerInput,
  sample: Sample,
  images: readonly ImageRef[],
): ReportIdSource {
  const { request, store } = input;
  const produced = sample.verdict === "malicious" || request.te?.benign_reports === true;
  const listed = [...images];
  return {
    summary: () => produced ? store.offer({ kind: "summary", sample, images: listed }) : null,
    image: (format, imageId) => {
      if (!produced) return null;
      // One pdf for all images, as in Check Point's malicious sample.
      return format === "pdf"
        ? store.offer({ kind: "pdf", sample, images: listed })
        : store.offer({ kind: format, sample, images: listed, imageId });
    },
  };
}

/**
 * A verdict spelled as the deployment spells it: `Malicious`/`Benign` on
 * appliances, `malicious`/`benign` in the cloud.
 *
 * @example The spelling of the appliance and of the cloud
 * ```ts
 * import { spellVerdict } from "./answer.ts";
 * import assert from "node:assert/strict";
 * assert.equal(spellVerdict(true, "upper"), "Malicious");
 * assert.equal(spellVerdict(false, "lower"), "benign");
 * ```
 */
export function spellVerdict(malicious: boolean, verdictCase: "upper" | "lower"): string {
  const word = malicious ? "Malicious" : "Benign";
  return verdictCase === "upper" ? word : word.toLowerCase();
}

/** The engine version answered to `te.version_info` (sk167161). */
export const TE_ENGINE_VERSION = "te-scan-emulator-1.0";
const EMULATION_FAILED = "The emulation failed (TE-EMULATOR-EMULATION-ERROR).";

/** A failed emulation is reported as one only to a client that asks for errors. */
function emulationFailed(sample: Sample | undefined, request: RequestItem): boolean {
  return sample?.verdict === "emulation-error" && request.te?.return_errors === true;
}

/** The te verdict as the deployment spells it: Error for a failed emulation reported as one. */
function teVerdict(
  sample: Sample | undefined,
  request: RequestItem,
  verdictCase: "upper" | "lower",
): string {
  if (!emulationFailed(sample, request)) {
    return spellVerdict(sample?.verdict === "malicious", verdictCase);
  }
  return verdictCase === "upper" ? "Error" : "error";
}

/**
 * Adds to a te section what the request asked for: the engine's version
 * (`version_info`) and, for a failed emulation reported as an Error verdict
 * (`return_errors`), the reason in its status message.
 *
 * @example A failed emulation, asked for errors and the version
 * ```ts
 * import { askedTeExtras, TE_ENGINE_VERSION } from "./answer.ts";
 * import assert from "node:assert/strict";
 *
 * import type { TeResult } from "./wire.ts";
 *
 * const te: TeResult = { status: { code: 1001, label: "FOUND" }, combined_verdict: "Error" };
 * askedTeExtras(te, { te: { return_errors: true, version_info: true } }, true);
 * assert.equal(te.te_engine_version, TE_ENGINE_VERSION);
 * assert.match(te.status.message ?? "", /emulation failed/);
 * ```
 */
export function askedTeExtras(
  te: { status: Status; te_engine_version?: string },
  request: RequestItem,
  failed: boolean,
): void {
  if (request.te?.version_info === true) te.te_engine_version = TE_ENGINE_VERSION;
  if (failed && te.status.code === Code.FOUND) te.status = statusFor(Code.FOUND, EMULATION_FAILED);
}

/** What the sections of one answer are built from, besides the feature. */
interface SectionInput {
  input: AnswerInput;
  /** The te stage of the sample, which every feature shares until emulation starts. */
  te: Stage;
  /** Before emulation starts every feature answers alike: NOT_FOUND or UPLOAD_SUCCESS. */
  fresh: boolean;
  images: readonly ImageRef[];
  verdict: string;
  malicious: boolean;
}

/** One feature's section of an answer. */
function featureSection(feature: Feature, at: SectionInput): NonNullable<ResponseItem[Feature]> {
  const { input, te, fresh, images, verdict, malicious } = at;
  const { request, sample, settings } = input;
  if (feature === "te") {
    const section = teSection({
      stage: te,
      reports: request.te?.reports ?? [],
      images,
      verdict,
      malicious,
      ids: sample && te === "found" ? reportIds(input, sample, images) : undefined,
    });
    askedTeExtras(section, request, emulationFailed(sample, request));
    return section;
  }
  if (feature === "te_eb") {
    const stage = fresh ? te : teEbStage(sample!, input.now, te, settings);
    const early = sample !== undefined && earlyMalicious(sample);
    return teEbSection(stage, spellVerdict(early, settings.verdictCase), early);
  }
  if (feature === "av") {
    // The AV engine looks files up by md5 only, and knows signatures only:
    // the TE markers are "zero-days" that only emulation sees.
    const stage = fresh ? te : request.md5 ? "found" : "unknown";
    return avSection(stage, sample?.eicar ? "eicar" : "clean");
  }
  const method = request.extraction?.method ?? "pdf";
  return extractionSection({
    stage: fresh ? te : "found",
    method,
    fileName: request.file_name,
    malicious,
    downloadId: (outputFileName) =>
      input.store.offer({
        kind: "extracted",
        sample: sample!,
        images: [],
        outputFileName,
        method,
      }),
  });
}

/**
 * The answer object for one request object.
 *
 * @example A request with no digest
 * ```ts
 * import { buildAnswer } from "./answer.ts";
 * import { SampleStore } from "./samples.ts";
 * import assert from "node:assert/strict";
 * const item = buildAnswer({
 *   request: {},
 *   view: "query",
 *   now: 0,
 *   store: new SampleStore(),
 *   settings: {
 *     mode: "cloud",
 *     verdictCase: "lower",
 *     emulationMs: 0,
 *     earlyMs: 0,
 *     imagePartial: false,
 *     benignEarly: "found",
 *   },
 * });
 * assert.equal(item.status.code, 1004); // no digest, no file
 * ```
 */
export function buildAnswer(input: AnswerInput): ResponseItem {
  const { request, sample, view, settings } = input;
  const features = requestedFeatures(request);
  if (typeof features === "string") {
    return errorAnswer(request, Code.BAD_REQUEST, features, sample);
  }
  if (sample?.verdict === "unsupported") {
    return errorAnswer(request, Code.FILE_TYPE_NOT_SUPPORTED, undefined, sample);
  }
  const malicious = sample?.verdict === "malicious";
  const verdict = teVerdict(sample, request, settings.verdictCase);
  const te: Stage = !sample
    ? "unknown"
    : view === "upload"
    ? "uploaded"
    : teStage(sample, input.now, settings);
  // Before emulation starts every feature answers alike: NOT_FOUND or UPLOAD_SUCCESS.
  const fresh = te === "unknown" || te === "uploaded";
  const images = request.te?.images?.length ? request.te.images : DEFAULT_IMAGES;
  const sections: Partial<Pick<ResponseItem, Feature>> = {};
  const codes = new Map<Feature, number>();
  for (const feature of features) {
    const section = featureSection(feature, { input, te, fresh, images, verdict, malicious });
    Object.assign(sections, { [feature]: section });
    codes.set(feature, section.status.code);
  }
  const status = statusFor(combinedCode(codes, settings.mode));
  const fileName = request.file_name ?? sample?.fileName ?? "";
  const fileType = request.file_type ?? sample?.fileType ?? "";
  return assemble(status, echo(request, sample, fileName, fileType), features, sections);
}
