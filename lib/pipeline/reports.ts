/**
 * Fetching the emulation reports an answer names, and decoding the summary
 * report (base64 text of a `.tar.gz` on appliances, sometimes raw gzip).
 *
 * A report that cannot be fetched never changes where the file goes: the
 * verdict stands and the failure is noted.
 *
 * @example Base64 text of a gzip archive
 * ```ts
 * import { decodeSummaryReport } from "./reports.ts";
 * import assert from "node:assert/strict";
 *
 * const gz = decodeSummaryReport(new TextEncoder().encode("H4sIAAAAAAAAAwMAAAAAAAAAAAA="));
 * assert.deepEqual([gz[0], gz[1]], [0x1f, 0x8b]);
 * ```
 * @module
 */

import type { Transport } from "../transport/transport.ts";
import { type ReportFormat, reportIds, type ResponseItem } from "../transport/protocol.ts";
import type { DownloadedReport } from "./types.ts";
import { reasonOf } from "../util/reason.ts";
import { verifyTarGz } from "../fs/tar.ts";

/** A summary report that is neither gzip nor base64 of gzip. */
export class ReportFormatError extends Error {
  override name = "ReportFormatError";
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Turns a downloaded summary report into `.tar.gz` bytes: appliances send
 * base64 text, some servers the archive itself.
 *
 * @example Gzip as it is, and neither gzip nor base64
 * ```ts
 * import { decodeSummaryReport, ReportFormatError } from "./reports.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(decodeSummaryReport(new Uint8Array([0x1f, 0x8b, 8, 0])).length, 4);
 * assert.throws(() => decodeSummaryReport(new TextEncoder().encode("<html>")), ReportFormatError);
 * ```
 */
export function decodeSummaryReport(body: Uint8Array): Uint8Array {
  if (isGzip(body)) return body;
  const text = new TextDecoder().decode(body).replace(/\s+/g, "");
  let decoded: Uint8Array;
  try {
    decoded = Uint8Array.fromBase64(text);
  } catch {
    throw new ReportFormatError("summary report is neither gzip nor base64 text");
  }
  if (!isGzip(decoded)) throw new ReportFormatError("summary report is base64 but not gzip");
  return decoded;
}

/**
 * Downloads every report the answer names in the wanted formats. Failures
 * are returned, not thrown.
 *
 * @example Fetch the summary report of a malicious file
 * ```ts
 * import { fetchReports } from "./reports.ts";
 * import { CloudClient } from "../transport/cloud_client.ts";
 * import { CloudTransport } from "../transport/cloud.ts";
 * import { HttpClient } from "../transport/http.ts";
 * import { DEFAULT_CA_PEM, startEmulator } from "../emulator/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const emulator = await startEmulator({ port: 0 });
 * const { sha1 } = emulator.learn(new TextEncoder().encode("TE-EMULATOR-MALICIOUS"), "a.doc");
 * emulator.advanceClock(60_000);
 * const http = new HttpClient(emulator.url, { trust: { kind: "ca", caPem: [DEFAULT_CA_PEM] } });
 * const target = new CloudTransport(new CloudClient(http), {
 *   features: ["te"],
 *   reports: ["summary"],
 *   batchSize: 100,
 *   md5: false,
 * });
 * const [answer] = await target.query([{ sha1: sha1! }]);
 * const { reports, errors } = await fetchReports(target, answer.item!, ["summary"]);
 * assert.deepEqual(errors, []);
 * assert.equal(reports.length, 1);
 * target.close();
 * await emulator.close();
 * ```
 */
export async function fetchReports(
  target: Pick<Transport, "download">,
  item: ResponseItem,
  formats: readonly ReportFormat[],
): Promise<{ reports: DownloadedReport[]; errors: string[] }> {
  const reports: DownloadedReport[] = [];
  const errors: string[] = [];
  for (const ref of reportIds(item)) {
    if (!formats.includes(ref.format)) continue;
    try {
      const report = await fetchWhole(target, ref.id, ref.format);
      reports.push(ref.imageId ? { ...report, imageId: ref.imageId } : report);
    } catch (error) {
      errors.push(`${ref.format} report ${ref.id}: ${reasonOf(error)}`);
    }
  }
  return { reports, errors };
}

/** Downloads of a report cut short that are tried again before giving up on it. */
const WHOLE_ATTEMPTS = 3;

/**
 * Downloads one report until it reads back whole: a summary archive must
 * decompress and list through to its end, or the download is tried again
 * like any passing failure.
 */
async function fetchWhole(
  target: Pick<Transport, "download">,
  id: string,
  format: ReportFormat,
): Promise<DownloadedReport> {
  for (let attempt = 1;; attempt++) {
    const download = await target.download(id);
    if (format !== "summary" && format !== "full_report") {
      return { format, id, fileName: download.fileName, bytes: download.bytes };
    }
    try {
      const bytes = decodeSummaryReport(download.bytes);
      await verifyTarGz(bytes);
      return { format, id, fileName: download.fileName, bytes };
    } catch (error) {
      if (attempt >= WHOLE_ATTEMPTS) throw error;
    }
  }
}
