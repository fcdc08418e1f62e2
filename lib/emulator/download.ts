/**
 * `…/file/download?id=…`: reports and cleaned files by the ids answers gave.
 * Bodies are raw bytes with `Content-Disposition: attachment; filename="…"`
 * (clients name the saved file from it, and one crashes without it), except
 * summary and full reports, which are base64 text of a `.tar.gz`.
 *
 * @example An unknown id is answered 404
 * ```ts
 * import { downloadResponse } from "./download.ts";
 * import { SampleStore } from "./samples.ts";
 * import assert from "node:assert/strict";
 * const res = await downloadResponse(new SampleStore(), "nope", {
 *   verdictCase: "upper",
 *   reportStyle: "normal",
 * });
 * assert.equal(res.status, 404);
 * await res.body?.cancel();
 * ```
 * @module
 */

import { Code } from "./wire.ts";
import { spellVerdict } from "./answer.ts";
import { simplePdf, utf8, xmlReport } from "./documents.ts";
import { apiError, attachment } from "./http.ts";
import type { ResolvedOptions } from "./options.ts";
import { reportArchive, summaryDownload } from "./report_archive.ts";
import { imageName, type ReportInfo } from "./report_html.ts";
import type { DownloadTarget, SampleStore } from "./samples.ts";

/**
 * The report facts of a download target, verdict spelled per deployment.
 *
 * @example The verdict in the cloud's spelling
 * ```ts
 * import { reportInfo } from "./download.ts";
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
 *   verdict: "malicious",
 *   eicar: false,
 *   uploadedAt: 0,
 *   receivedAt: "2026-01-01T00:00:00.000Z",
 * };
 * const info = reportInfo({ kind: "summary", sample, images: [] }, "lower");
 * assert.equal(info.verdict, "malicious");
 * assert.equal(info.fileName, "x.doc");
 * ```
 */
export function reportInfo(target: DownloadTarget, verdictCase: "upper" | "lower"): ReportInfo {
  const { sample } = target;
  const malicious = sample.verdict === "malicious";
  return {
    fileName: sample.fileName,
    fileType: sample.fileType,
    size: sample.size,
    md5: sample.md5,
    sha1: sample.sha1,
    sha256: sample.sha256,
    receivedAt: sample.receivedAt,
    malicious,
    eicar: sample.eicar,
    verdict: spellVerdict(malicious, verdictCase),
    images: target.images,
  };
}

function file(body: Uint8Array, type: string, name: string): Response {
  return new Response(body as Uint8Array<ArrayBuffer>, {
    headers: { "content-type": type, "content-disposition": attachment(name) },
  });
}

/**
 * Answers a download request.
 *
 * @example Download a summary report the store handed out
 * ```ts
 * import { downloadResponse } from "./download.ts";
 * import { type Sample, SampleStore } from "./samples.ts";
 * import assert from "node:assert/strict";
 *
 * const sample: Sample = {
 *   md5: "a".repeat(32),
 *   sha1: "b".repeat(40),
 *   sha256: "c".repeat(64),
 *   size: 1,
 *   fileName: "x.doc",
 *   fileType: "doc",
 *   verdict: "malicious",
 *   eicar: false,
 *   uploadedAt: 0,
 *   receivedAt: "2026-01-01T00:00:00.000Z",
 * };
 * const store = new SampleStore();
 * store.add(sample);
 * const id = store.offer({ kind: "summary", sample, images: [] });
 * const settings = { verdictCase: "lower", reportStyle: "tiny" } as const;
 * const res = await downloadResponse(store, id, settings);
 * assert.equal(res.status, 200);
 * const archive = Uint8Array.fromBase64(await res.text());
 * assert.deepEqual([archive[0], archive[1]], [0x1f, 0x8b]);
 * ```
 */
export async function downloadResponse(
  store: SampleStore,
  id: string | null,
  settings: Pick<ResolvedOptions, "verdictCase" | "reportStyle">,
): Promise<Response> {
  if (!id) return apiError(404, Code.NOT_FOUND, "download needs an id parameter");
  const target = store.download(id);
  if (!target) return apiError(404, Code.NOT_FOUND, `no report or file with id ${id}`);
  const info = reportInfo(target, settings.verdictCase);
  const imageId = target.imageId ?? target.images[0]?.id ?? "";
  switch (target.kind) {
    case "summary":
    case "full_report":
      return file(
        await summaryDownload(info, settings.reportStyle),
        "application/octet-stream",
        `${target.kind}_${id}.tar.gz.base64`,
      );
    case "tar":
      return file(await reportArchive(info, "normal"), "application/gzip", `report_${id}.tar.gz`);
    case "xml":
      return file(
        utf8(xmlReport({ ...info, imageId, imageName: imageName(imageId) })),
        "application/xml",
        `report_${id}.xml`,
      );
    case "pdf":
      return file(
        simplePdf([
          "Threat Emulation Report (te-scan emulator)",
          `File: ${info.fileName}`,
          `SHA-1: ${info.sha1}`,
          `Verdict: ${info.verdict}`,
          ...info.images.map((image) => `Image ${imageName(image.id)}: ${info.verdict}`),
        ]),
        "application/pdf",
        `report_${id}.pdf`,
      );
    case "extracted": {
      const name = target.outputFileName ?? `${info.sha1}.cleaned`;
      const lines = [
        `Cleaned copy of ${info.fileName} (sha1 ${info.sha1})`,
        "Active content removed by the te-scan emulator.",
      ];
      return target.method === "pdf"
        ? file(simplePdf(lines), "application/pdf", name)
        : file(utf8(`${lines.join("\n")}\n`), "application/octet-stream", name);
    }
  }
}
