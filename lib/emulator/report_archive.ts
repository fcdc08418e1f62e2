/**
 * The report archives the download route serves: the summary report as
 * base64 text of a `.tar.gz` (what appliances send, and what te_api decodes),
 * and the per-image tar report as raw `.tar.gz` bytes; plus the deliberately
 * broken variants of `reportStyle` for testing clients' extraction.
 *
 * @example A tiny archive is gzip
 * ```ts
 * import { reportArchive } from "./report_archive.ts";
 * import assert from "node:assert/strict";
 *
 * const archive = await reportArchive({
 *   fileName: "a.doc",
 *   fileType: "doc",
 *   size: 1,
 *   md5: "m",
 *   sha1: "0".repeat(40),
 *   sha256: "s",
 *   receivedAt: "2026-01-01T00:00:00.000Z",
 *   malicious: true,
 *   eicar: false,
 *   verdict: "Malicious",
 *   images: [],
 * }, "tiny");
 * assert.deepEqual([archive[0], archive[1]], [0x1f, 0x8b]);
 * ```
 * @module
 */

import { type TarEntry, tarGz } from "./tar_writer.ts";
import { utf8 } from "./documents.ts";
import { REPORT_CSS, type ReportInfo, summaryHtml } from "./report_html.ts";

/**
 * What a summary archive holds:
 * - `normal`: `report.html` (tens of KiB) and `images/report.css`;
 * - `tiny`: a `report.html` stub; the archive stays under 8 KiB;
 * - `hostile`: `report.html` plus `../escaped.html`, `/abs.html`, a symlink
 *   `evil -> /etc/passwd` and a hard link `hard -> /etc/passwd`;
 * - `invalid`: not an archive at all (and not base64).
 */
export type ReportStyle = "normal" | "hostile" | "tiny" | "invalid";

// Fixed so that the same sample always yields byte-identical archives.
const MTIME = new Date("2026-01-01T00:00:00Z");

/**
 * The gzip'd tar of a report in one of the valid styles.
 *
 * @example A normal archive extracts to a report page
 * ```ts
 * import { reportArchive } from "./report_archive.ts";
 * import { extractTarGz } from "../fs/tar.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = await reportArchive({
 *   fileName: "a.doc",
 *   fileType: "doc",
 *   size: 1,
 *   md5: "m",
 *   sha1: "0".repeat(40),
 *   sha256: "s",
 *   receivedAt: "2026-01-01T00:00:00.000Z",
 *   malicious: false,
 *   eicar: false,
 *   verdict: "Benign",
 *   images: [],
 * }, "normal");
 * const dir = await Deno.makeTempDir();
 * const { files } = await extractTarGz(ReadableStream.from([bytes]), dir);
 * assert.ok(files.some((name) => name.endsWith("report.html")));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function reportArchive(
  info: ReportInfo,
  style: Exclude<ReportStyle, "invalid">,
): Promise<Uint8Array> {
  const html = summaryHtml(info, style === "tiny" ? "tiny" : "full");
  const entries: TarEntry[] = [{ name: "report.html", data: utf8(html), mtime: MTIME }];
  if (style !== "tiny") {
    entries.push({ name: "images/", type: "directory", mtime: MTIME });
    entries.push({ name: "images/report.css", data: REPORT_CSS, mtime: MTIME });
  }
  if (style === "hostile") {
    const bait =
      "<html><body>This file must not be written outside the report folder.</body></html>";
    entries.push(
      { name: "../escaped.html", data: bait, mtime: MTIME },
      { name: "/abs.html", data: bait, mtime: MTIME },
      { name: "evil", type: "symlink", linkName: "/etc/passwd", mtime: MTIME },
      { name: "hard", type: "hardlink", linkName: "/etc/passwd", mtime: MTIME },
    );
  }
  return await tarGz(entries);
}

/**
 * The body of a summary (or full) report download: base64 text of the
 * archive, or, for `invalid`, text that is neither base64 nor gzip.
 *
 * @example The download is base64 text of the archive
 * ```ts
 * import { summaryDownload } from "./report_archive.ts";
 * import assert from "node:assert/strict";
 *
 * const text = new TextDecoder().decode(
 *   await summaryDownload({
 *     fileName: "a.doc",
 *     fileType: "doc",
 *     size: 1,
 *     md5: "m",
 *     sha1: "0".repeat(40),
 *     sha256: "s",
 *     receivedAt: "2026-01-01T00:00:00.000Z",
 *     malicious: false,
 *     eicar: false,
 *     verdict: "Benign",
 *     images: [],
 *   }, "tiny"),
 * );
 * const archive = Uint8Array.fromBase64(text);
 * assert.deepEqual([archive[0], archive[1]], [0x1f, 0x8b]);
 * ```
 */
export async function summaryDownload(info: ReportInfo, style: ReportStyle): Promise<Uint8Array> {
  if (style === "invalid") {
    return utf8("<html><body>Report unavailable: %%% this is not base64 *** </body></html>\n");
  }
  return utf8((await reportArchive(info, style)).toBase64());
}
