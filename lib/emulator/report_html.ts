/**
 * The HTML of an emulated Threat Emulation summary report: file details,
 * verdict, severity, the emulation images, and an activity section per image
 * (processes, file system, registry, network), in the layout of a SandBlast
 * summary.
 *
 * The activity is made up but stable: it is drawn from a generator seeded
 * with the sample's sha1, so the same file always gets the same report. The
 * full report runs to tens of KiB even compressed, as real ones do; te_api
 * mishandles archives under 8 KiB, and clients must be tested with real sizes.
 *
 * @example A full report page
 * ```ts
 * import { summaryHtml } from "./report_html.ts";
 * import assert from "node:assert/strict";
 * const html = summaryHtml({
 *   fileName: "a.doc",
 *   fileType: "doc",
 *   size: 10,
 *   md5: "m",
 *   sha1: "0".repeat(40),
 *   sha256: "s",
 *   receivedAt: "2026-01-01T00:00:00.000Z",
 *   malicious: false,
 *   eicar: false,
 *   verdict: "Benign",
 *   images: [{ id: "e50e99f3-5963-4573-af9e-e3f4750b55e2" }],
 * }, "full");
 * assert.equal(html.startsWith("<!DOCTYPE html>"), true);
 * ```
 * @module
 */

import { createHash } from "node:crypto";
import type { ImageRef } from "./wire.ts";
import { escapeHtml as e } from "../util/html.ts";
import { seededRandom } from "./rng.ts";

/**
 * What a report shows about a sample.
 */
export interface ReportInfo {
  fileName: string;
  fileType: string;
  size: number;
  md5: string;
  sha1: string;
  sha256: string;
  receivedAt: string;
  malicious: boolean;
  eicar: boolean;
  /** Verdict as the deployment spells it (`Malicious`, `benign`…). */
  verdict: string;
  images: readonly ImageRef[];
}

/**
 * Names of the emulation images Check Point publishes ids for.
 *
 * @example A known image and a custom one
 * ```ts
 * import { imageName } from "./report_html.ts";
 * import assert from "node:assert/strict";
 * assert.equal(imageName("10b4a9c6-e414-425c-ae8b-fe4dd7b25244"), "Windows 10 64-bit");
 * assert.equal(imageName("nope"), "Custom image nope");
 * ```
 */
export function imageName(id: string): string {
  const names: Record<string, string> = {
    "e50e99f3-5963-4573-af9e-e3f4750b55e2": "Windows XP, Office 2003/2007, Adobe Reader 9",
    "7e6fe36e-889e-4c25-8704-56378f0830df": "Windows 7 32-bit",
    "8d188031-1010-4466-828b-0cd13d4303ff": "Windows 7 32-bit, Office 2010",
    "5e5de275-a103-4f67-b55b-47532918fa59": "Windows 7 32-bit, Office 2013, Adobe Reader 11",
    "3ff3ddae-e7fd-4969-818c-d5f1a2be336d": "Windows 7 64-bit",
    "6c453c9b-20f7-471a-956c-3198a868dc92": "Windows 8.1 64-bit",
    "10b4a9c6-e414-425c-ae8b-fe4dd7b25244": "Windows 10 64-bit",
    "d2acf0d2-6d2e-4c2e-86b3-20a30ca6a3f6": "macOS X",
  };
  return names[id] ?? `Custom image ${id}`;
}

/**
 * The stylesheet the report links to (`images/report.css` in the archive).
 *
 * @example The report's style sheet
 * ```ts
 * import { REPORT_CSS } from "./report_html.ts";
 * import assert from "node:assert/strict";
 * assert.equal(REPORT_CSS.includes(".verdict"), true);
 * ```
 */
export const REPORT_CSS = `/* Threat Emulation report (te-scan emulator) */
body { font-family: Arial, Helvetica, sans-serif; font-size: 13px; color: #222; margin: 0; }
header { background: #3a3a3a; color: #fff; padding: 14px 24px; }
header h1 { font-size: 20px; margin: 0; font-weight: normal; }
header .product { color: #f2a900; font-weight: bold; }
main { padding: 18px 24px; }
h2 { font-size: 16px; border-bottom: 2px solid #f2a900; padding-bottom: 4px; margin-top: 28px; }
h3 { font-size: 14px; margin: 18px 0 6px; }
table { border-collapse: collapse; width: 100%; margin-bottom: 10px; }
th, td { border: 1px solid #d5d5d5; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; font-weight: bold; }
td.hash, td.path {
  font-family: Consolas, "Courier New", monospace; font-size: 12px; word-break: break-all;
}
.verdict { display: inline-block; padding: 6px 14px; border-radius: 3px; font-weight: bold; }
.verdict.malicious { background: #d0021b; color: #fff; }
.verdict.benign { background: #2e8b57; color: #fff; }
.severity-4 { color: #d0021b; font-weight: bold; }
.indicator {
  border-left: 4px solid #d0021b; background: #fff4f4; padding: 6px 10px; margin: 6px 0;
}
.note { color: #666; font-size: 12px; }
footer { border-top: 1px solid #ddd; color: #777; font-size: 11px; padding: 10px 24px; }
`;

const SEVERITY = ["None", "Low", "Medium", "High", "Critical"];
const CONFIDENCE = ["None", "Low", "Medium", "High"];

const INDICATORS = [
  [
    "Code injection",
    "The sample wrote code into the memory of a running process and started a thread in it.",
  ],
  ["Persistence", "A Run key was added so the dropped executable starts at every logon."],
  [
    "Suspicious network traffic",
    "The sample contacted a host with no reputation over a non-standard port.",
  ],
  ["Dropped executable", "An executable file was written to a temporary folder and executed."],
  [
    "Defense evasion",
    "The sample queried for analysis tools and tried to stop a security service.",
  ],
  ["Known malware mutex", "A mutex name associated with a known malware family was created."],
  ["Shadow copy deletion", "vssadmin.exe was started to delete volume shadow copies."],
] as const;

const DIRS = [
  "C:\\Users\\admin\\AppData\\Local\\Temp",
  "C:\\Users\\admin\\AppData\\Roaming\\Microsoft",
  "C:\\ProgramData",
  "C:\\Windows\\Temp",
  "C:\\Users\\admin\\Documents",
];
const EXTENSIONS = ["tmp", "dll", "exe", "dat", "log", "ini", "lnk", "js", "vbs", "bin"];
const PROCESSES = [
  "winword.exe",
  "excel.exe",
  "cmd.exe",
  "powershell.exe",
  "rundll32.exe",
  "svchost.exe",
  "regsvr32.exe",
  "wscript.exe",
  "explorer.exe",
  "conhost.exe",
];
const REG_KEYS = [
  "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run",
  "HKCU\\Software\\Microsoft\\Office\\15.0\\Word\\Resiliency",
  "HKLM\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters",
  "HKCU\\Software\\Classes\\CLSID",
  "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon",
  "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\RecentDocs",
];
const DOMAINS = [
  "update-cdn.example",
  "telemetry.example.net",
  "files.example.org",
  "api.example.com",
  "ocsp.example.net",
];

/** Deterministic activity for one image of one sample. */
class Activity {
  #random: () => number;
  #seed: string;
  #n = 0;

  constructor(sha1: string, imageId: string) {
    this.#seed = `${sha1}:${imageId}`;
    this.#random = seededRandom(
      parseInt(createHash("sha1").update(this.#seed).digest("hex").slice(0, 8), 16),
    );
  }

  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.#random() * list.length)];
  }

  int(max: number): number {
    return Math.floor(this.#random() * max);
  }

  hash(algorithm: "md5" | "sha256"): string {
    return createHash(algorithm).update(`${this.#seed}:${this.#n++}`).digest("hex");
  }

  time(base: number): string {
    return `${(base + this.#random() * 4).toFixed(3)} s`;
  }
}

function row(cells: string[], classes: string[] = []): string {
  return `<tr>${
    cells.map((c, i) => `<td${classes[i] ? ` class="${classes[i]}"` : ""}>${c}</td>`).join("")
  }</tr>`;
}

function table(head: string[], rows: string[]): string {
  return `<table>\n<tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr>\n${
    rows.join("\n")
  }\n</table>`;
}

function imageActivity(info: ReportInfo, image: ImageRef, rows: number): string {
  const a = new Activity(info.sha1, image.id);
  const processes: string[] = [];
  for (let pid = 1000 + a.int(3000), i = 0; i < Math.ceil(rows / 4); i++, pid += 4 + a.int(400)) {
    const name = a.pick(PROCESSES);
    processes.push(row([
      String(pid),
      e(name),
      e(`"C:\\Windows\\System32\\${name}" /c ${a.hash("md5").slice(0, 12)}`),
      a.time(i * 0.4),
    ], ["", "", "path", ""]));
  }
  const files: string[] = [];
  for (let i = 0; i < rows; i++) {
    const action = a.pick(["Created", "Modified", "Read", "Deleted", "Created"]);
    const path = `${a.pick(DIRS)}\\${a.hash("md5").slice(0, 10)}.${a.pick(EXTENSIONS)}`;
    files.push(
      row([action, e(path), a.hash("sha256"), String(512 + a.int(900_000))], [
        "",
        "path",
        "hash",
        "",
      ]),
    );
  }
  const registry: string[] = [];
  for (let i = 0; i < Math.ceil(rows / 2); i++) {
    registry.push(row([
      a.pick(["SetValue", "CreateKey", "QueryValue", "DeleteValue"]),
      e(`${a.pick(REG_KEYS)}\\${a.hash("md5").slice(0, 8)}`),
      a.hash("md5"),
    ], ["", "path", "hash"]));
  }
  const network: string[] = [];
  for (let i = 0; i < Math.ceil(rows / 3); i++) {
    network.push(row([
      a.pick(["DNS", "TCP", "HTTP", "TLS"]),
      `${a.hash("md5").slice(0, 6)}.${a.pick(DOMAINS)}`,
      `198.51.100.${1 + a.int(254)}`,
      String(a.pick([53, 80, 443, 8080, 4444, 8443])),
    ]));
  }
  return [
    `<h3>Processes</h3>`,
    table(["PID", "Process", "Command line", "Start"], processes),
    `<h3>File system activity</h3>`,
    table(["Action", "Path", "SHA-256", "Size (bytes)"], files),
    `<h3>Registry activity</h3>`,
    table(["Operation", "Key", "Data digest"], registry),
    `<h3>Network activity</h3>`,
    table(["Protocol", "Host", "Address", "Port"], network),
  ].join("\n");
}

/** The page up to the verdict: the title names the file. */
function summaryHead(info: ReportInfo): string[] {
  const verdictClass = info.malicious ? "malicious" : "benign";
  return [
    `<!DOCTYPE html>`,
    `<html lang="en">`,
    `<head>`,
    `<meta charset="utf-8">`,
    `<title>Threat Emulation Report - ${e(info.fileName)}</title>`,
    `<link rel="stylesheet" href="images/report.css">`,
    `</head>`,
    `<body>`,
    `<header><h1><span class="product">Check Point SandBlast</span>`,
    ` Threat Emulation Report</h1></header>`,
    `<main>`,
    `<p><span class="verdict ${verdictClass}">${e(info.verdict)}</span></p>`,
  ];
}

/** The file information table: name, type, size, hashes, severity. */
function fileDetails(info: ReportInfo): string {
  const severity = info.malicious ? 4 : 0;
  const confidence = info.malicious ? 3 : 0;
  return table(["Property", "Value"], [
    row(["File name", e(info.fileName)], ["", "path"]),
    row(["File type", e(info.fileType)]),
    row(["File size", `${info.size} bytes`]),
    row(["MD5", info.md5], ["", "hash"]),
    row(["SHA-1", info.sha1], ["", "hash"]),
    row(["SHA-256", info.sha256], ["", "hash"]),
    row(["Received", e(info.receivedAt)]),
    row(["Severity", `<span class="severity-${severity}">${SEVERITY[severity]}</span>`]),
    row(["Confidence", CONFIDENCE[confidence]]),
  ]);
}

/** The emulation environments table: one row per image. */
function imagesTable(info: ReportInfo): string {
  return table(
    ["Environment", "Image id", "Revision", "Verdict", "Emulation time"],
    info.images.map((image, i) =>
      row([
        e(imageName(image.id)),
        e(image.id),
        String(image.revision ?? 1),
        e(info.verdict),
        `${(38 + i * 7.5).toFixed(1)} s`,
      ], ["", "hash", "", "", ""])
    ),
  );
}

/**
 * The summary report page. `full` is what appliances send (tens of KiB);
 * `tiny` is a stub of well under 8 KiB for testing clients' small-archive
 * handling.
 *
 * @example Names are escaped
 * ```ts
 * import { summaryHtml } from "./report_html.ts";
 * import assert from "node:assert/strict";
 * const tiny = summaryHtml({
 *   fileName: "<x>.exe",
 *   fileType: "exe",
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
 * assert.equal(tiny.includes("&lt;x&gt;.exe"), true); // names are escaped
 * ```
 */
export function summaryHtml(info: ReportInfo, detail: "full" | "tiny"): string {
  const head = summaryHead(info);
  const details = fileDetails(info);
  const tail = [
    `</main>`,
    `<footer>Generated by the te-scan emulator for testing. Not a Check Point report.</footer>`,
    `</body>`,
    `</html>`,
    ``,
  ];
  if (detail === "tiny") return [...head, `<h2>File</h2>`, details, ...tail].join("\n");
  const images = imagesTable(info);
  const indicators = info.malicious
    ? (info.eicar
      ? [["Anti-virus test file", "The file is the EICAR anti-virus test file."] as const]
      : INDICATORS).map(([title, text]) =>
        `<div class="indicator"><strong>${title}</strong><br>${text}</div>`
      )
    : [`<p>No malicious activity was detected in any emulation environment.</p>`];
  const activity = info.images.map((image) =>
    [
      `<h2>Activity on ${e(imageName(image.id))}</h2>`,
      `<p class="note">Image ${e(image.id)}, revision ${image.revision ?? 1}.</p>`,
      imageActivity(info, image, info.malicious ? 80 : 60),
    ].join("\n")
  );
  return [
    ...head,
    `<h2>File information</h2>`,
    details,
    `<h2>Emulation environments</h2>`,
    images,
    `<h2>${info.malicious ? "Malicious activity summary" : "Activity summary"}</h2>`,
    ...indicators,
    ...activity,
    ...tail,
  ].join("\n");
}
