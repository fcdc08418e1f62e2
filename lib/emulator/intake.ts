/**
 * Taking in an uploaded file, whichever transport brought it: check the
 * digests the client claimed, decide the verdict from the content's markers,
 * register the sample, and answer as the service answers an upload.
 *
 * @example Take an upload without the network
 * ```ts
 * import { acceptUpload } from "./intake.ts";
 * import { newContext } from "./context.ts";
 * import { resolveOptions } from "./options.ts";
 * import { scanBytes } from "./content_scan.ts";
 * import assert from "node:assert/strict";
 * const ctx = newContext(resolveOptions({}));
 * const item = acceptUpload(ctx, scanBytes(new Uint8Array([1])), {}, "one.bin");
 * assert.equal(item.status.label, "UPLOAD_SUCCESS");
 * ```
 * @module
 */

import type { RequestItem, ResponseItem } from "../transport/protocol.ts";
import { Code } from "../transport/status.ts";
import { buildAnswer, errorAnswer, teStage } from "./answer.ts";
import type { ContentFacts } from "./content_scan.ts";
import type { EmulatorContext } from "./context.ts";
import { fileTypeOf, type Sample, type SampleVerdict } from "./samples.ts";

/**
 * The verdict the markers in a file decide; unsupported wins over the rest,
 * then malicious (EICAR or TE-EMULATOR-MALICIOUS), then a failed emulation
 * (TE-EMULATOR-EMULATION-ERROR), then early-malicious.
 *
 * @example The early-malicious marker
 * ```ts
 * import { verdictOf } from "./intake.ts";
 * import { scanBytes } from "./content_scan.ts";
 * import assert from "node:assert/strict";
 *
 * const facts = scanBytes(new TextEncoder().encode("TE-EMULATOR-EARLY-MALICIOUS"));
 * assert.equal(verdictOf(facts), "early-malicious");
 * ```
 */
export function verdictOf(facts: Pick<ContentFacts, "markers">): SampleVerdict {
  const { markers } = facts;
  if (markers.has("unsupported")) return "unsupported";
  if (markers.has("eicar") || markers.has("malicious")) return "malicious";
  if (markers.has("emulation-error")) return "emulation-error";
  if (markers.has("early-malicious")) return "early-malicious";
  return "benign";
}

function mismatch(request: RequestItem, facts: ContentFacts): string | undefined {
  for (const key of ["md5", "sha1", "sha256"] as const) {
    const claimed = request[key];
    if (claimed && claimed !== facts[key]) {
      return `${key} ${claimed} in the request does not match the uploaded file (${facts[key]})`;
    }
  }
  return undefined;
}

/**
 * Registers an upload (unless it is refused) and returns its answer object.
 *
 * @example An unsupported file is answered 1007
 * ```ts
 * import { acceptUpload } from "./intake.ts";
 * import { newContext } from "./context.ts";
 * import { resolveOptions } from "./options.ts";
 * import { scanBytes } from "./content_scan.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = newContext(resolveOptions({}));
 * const facts = scanBytes(new TextEncoder().encode("TE-EMULATOR-UNSUPPORTED"));
 * assert.equal(acceptUpload(ctx, facts, {}, "x.bin").status.code, 1007);
 * ```
 */
export function acceptUpload(
  ctx: EmulatorContext,
  facts: ContentFacts,
  request: RequestItem,
  partFileName: string | null,
): ResponseItem {
  const { options, samples } = ctx;
  const fileName = request.file_name || partFileName || "";
  const known = { ...facts, fileName, fileType: request.file_type || fileTypeOf(fileName) };
  const wrong = mismatch(request, facts);
  if (wrong) return errorAnswer(request, Code.BAD_REQUEST, wrong, known);
  const settings = options;
  const existing = samples.find({ md5: facts.md5 });
  const now = ctx.now();
  if (existing) {
    const done = options.knownUploadAnswersFound && teStage(existing, now, settings) === "found";
    // A cached file is answered like a query (by md5, so AV answers too);
    // one still emulating keeps its clock: re-uploading does not restart it.
    return buildAnswer({
      request: { ...request, md5: facts.md5 },
      sample: existing,
      view: done ? "query" : "upload",
      now,
      settings,
      store: samples,
    });
  }
  const verdict = verdictOf(facts);
  const unsupported = verdict === "unsupported";
  if (!unsupported && options.mode === "cloud" && ctx.quota.exhausted) {
    return errorAnswer(request, Code.NO_QUOTA, undefined, known);
  }
  const sample: Sample = {
    md5: facts.md5,
    sha1: facts.sha1,
    sha256: facts.sha256,
    size: facts.size,
    fileName: known.fileName,
    fileType: known.fileType,
    verdict,
    eicar: facts.markers.has("eicar"),
    uploadedAt: now,
    receivedAt: new Date().toISOString(),
  };
  samples.add(sample);
  if (!unsupported) ctx.quota.consume();
  return buildAnswer({ request, sample, view: "upload", now, settings, store: samples });
}
