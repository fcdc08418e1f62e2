/**
 * Small, valid documents the emulator hands out in place of real reports and
 * cleaned files: a one-page PDF and an XML report. They only need to look
 * right to a client (magic bytes, structure), not to be pretty.
 *
 * @example A PDF of one line
 * ```ts
 * import { simplePdf } from "./documents.ts";
 * import assert from "node:assert/strict";
 * const pdf = simplePdf(["Hello"]);
 * assert.equal(new TextDecoder().decode(pdf.subarray(0, 5)), "%PDF-");
 * ```
 * @module
 */

import { escapeHtml } from "../util/html.ts";

const ENCODER = new TextEncoder();

function pdfText(line: string): string {
  // PDF string literals escape backslash and parentheses; the base-14 fonts
  // have no glyphs beyond Latin-1, so anything else prints as "?".
  return line.replace(/[\\()]/g, (c) => `\\${c}`).replace(/[^\x20-\x7e]/g, "?");
}

/**
 * A one-page PDF showing `lines` in Helvetica, with a correct cross-reference
 * table (offsets computed), so PDF readers and validators accept it.
 *
 * @example A PDF ends with its trailer
 * ```ts
 * import { simplePdf } from "./documents.ts";
 * import assert from "node:assert/strict";
 * const text = new TextDecoder().decode(simplePdf(["a", "b"]));
 * assert.equal(text.trimEnd().endsWith("%%EOF"), true);
 * ```
 */
export function simplePdf(lines: string[]): Uint8Array {
  const content = [
    "BT",
    "/F1 11 Tf",
    "14 TL",
    "56 790 Td",
    ...lines.slice(0, 50).map((line) => `(${pdfText(line.slice(0, 95))}) '`),
    "ET",
  ].join("\n");
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] " +
    "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
  ];
  let out = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n";
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    // One char is one byte here (Latin-1), so string lengths are byte offsets.
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) out += `${String(offset).padStart(10, "0")} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return latin1(out);
}

function latin1(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return bytes;
}

/**
 * Fields of an XML emulation report.
 */
export interface XmlReportInfo {
  fileName: string;
  md5: string;
  sha1: string;
  sha256: string;
  verdict: string;
  imageId: string;
  imageName: string;
}

/**
 * An XML report for one image.
 *
 * @example Names are escaped in the XML report
 * ```ts
 * import { xmlReport } from "./documents.ts";
 * import assert from "node:assert/strict";
 * const xml = xmlReport({
 *   fileName: "a&b.doc",
 *   md5: "m",
 *   sha1: "s",
 *   sha256: "t",
 *   verdict: "Malicious",
 *   imageId: "i",
 *   imageName: "Win7",
 * });
 * assert.equal(xml.includes("a&amp;b.doc"), true);
 * ```
 */
export function xmlReport(info: XmlReportInfo): string {
  const e = escapeHtml;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<te_report generator="te-scan emulator" version="1.0">`,
    `  <file name="${e(info.fileName)}" md5="${e(info.md5)}" sha1="${e(info.sha1)}" sha256="${
      e(info.sha256)
    }"/>`,
    `  <image id="${e(info.imageId)}" name="${e(info.imageName)}" revision="1">`,
    `    <verdict>${e(info.verdict)}</verdict>`,
    `  </image>`,
    `</te_report>`,
    ``,
  ].join("\n");
}

/**
 * UTF-8 bytes of a text.
 *
 * @example Two bytes for an accented letter
 * ```ts
 * import { utf8 } from "./documents.ts";
 * import assert from "node:assert/strict";
 * assert.equal(utf8("é").length, 2);
 * ```
 */
export function utf8(text: string): Uint8Array {
  return ENCODER.encode(text);
}
