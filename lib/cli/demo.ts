/**
 * `te-scan demo`: the whole product in one command, with no network beyond
 * loopback. It starts the emulator on a free port, builds a small sample
 * tree (benign documents, a malicious one, the EICAR test file, an
 * unsupported file, a duplicate, nested folders), scans it into benign,
 * quarantine and error folders, and shows where everything went.
 *
 * @example Run the demo
 * ```sh
 * deno run --allow-net --allow-read --allow-write main.ts demo
 * ```
 * @module
 */

import { dirname, join, relative } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_CA_PEM, eicarText, startEmulator } from "../emulator/mod.ts";
import { Exit } from "./exit.ts";
import { usageErrorOf } from "./suggest.ts";
import { scanCommand } from "./scan.ts";
import { processTerminal, type Terminal } from "./terminal.ts";

/** The sample tree: relative path → content. */
export function demoTree(): Record<string, string> {
  const report = "Quarterly report\n\nRevenue grew 4% on the quarter.\n".repeat(40);
  return {
    "finance/q3-report.docx": report,
    "finance/archive/q3-report-copy.docx": report,
    "finance/invoices/2026/invoice-1042.pdf": "%PDF-1.4\nInvoice 1042: 1,250.00 EUR\n%%EOF\n",
    "hr/onboarding.txt": "Welcome aboard. Your badge is at the front desk.\n",
    "hr/payroll-macro.docm":
      "Payroll update\nTE-EMULATOR-MALICIOUS (a macro that drops a payload)\n",
    "downloads/eicar.com": eicarText(),
    "downloads/firmware.bin": "TE-EMULATOR-UNSUPPORTED firmware image\n",
  };
}

async function listTree(root: string): Promise<string[]> {
  const out: string[] = [];
  async function visit(dir: string): Promise<void> {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch {
      return;
    }
    entries.sort((a, b) => a.name < b.name ? -1 : 1);
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) await visit(path);
      else out.push(relative(root, path));
    }
  }
  await visit(root);
  return out;
}

async function whereEverythingWent(root: string): Promise<string> {
  const lines = ["", "Where everything went:"];
  for (const folder of ["benign", "quarantine", "error", "drop"]) {
    const files = await listTree(join(root, folder));
    lines.push(`  ${folder}/${folder === "drop" ? " (left in the input)" : ""}`);
    lines.push(...(files.length ? files.map((file) => `    ${file}`) : ["    (empty)"]));
  }
  // An extracted report folder is one line, not its dozens of files.
  const reports = new Set<string>();
  for (const file of await listTree(join(root, "reports"))) {
    const folder = file.match(/^(.*_report)\//)?.[1];
    if (folder) reports.add(`${folder}/ (the report, extracted: open report.html)`);
    else reports.add(file === "index.html" ? "index.html (this run's page, for a browser)" : file);
  }
  lines.push(`  reports/ (responses, reports, log, summary)`);
  lines.push(...[...reports].map((file) => `    ${file}`));
  lines.push("", `Everything is in ${root}; delete it when done.`);
  return lines.join("\n");
}

/** Writes the sample tree into `root`'s `drop/`, and the emulator's CA beside it. */
async function writeDemoTree(root: string): Promise<{ input: string; caFile: string }> {
  const input = join(root, "drop");
  for (const [path, content] of Object.entries(demoTree())) {
    await Deno.mkdir(dirname(join(input, path)), { recursive: true });
    await Deno.writeTextFile(join(input, path), content);
  }
  const caFile = join(root, "emulator-ca.pem");
  await Deno.writeTextFile(caFile, DEFAULT_CA_PEM);
  return { input, caFile };
}

/** The scan the demo runs: the sample tree sorted into folders of `root`, polled briskly. */
function demoScanArgs(root: string, input: string, caFile: string, port: number): string[] {
  return [
    "--in",
    input,
    "--ip",
    `127.0.0.1:${port}`,
    "--ca-cert",
    caFile,
    "--out",
    join(root, "benign"),
    "--jail",
    join(root, "quarantine"),
    "--error",
    join(root, "error"),
    "--rep",
    join(root, "reports"),
    "--poll-interval",
    "0.25",
    "--timeout",
    "60",
  ];
}

/**
 * Runs the demo; returns 0 when the scan sorted the sample tree.
 *
 * @example The demo sorts its sample tree in a folder of your choice
 * ```ts
 * import { demoCommand } from "./demo.ts";
 * import { Terminal } from "./terminal.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const out: string[] = [];
 * const terminal = new Terminal({
 *   out: (t) => out.push(t),
 *   isTerminal: { out: false, err: false },
 * });
 * assert.equal(await demoCommand(["--dir", dir], undefined, terminal), 0);
 * assert.ok((await Array.fromAsync(Deno.readDir(`${dir}/quarantine`))).length > 0);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function demoCommand(
  argv: string[],
  signal?: AbortSignal,
  terminal: Terminal = processTerminal(),
): Promise<number> {
  const options = { dir: { type: "string" }, help: { type: "boolean", short: "h" } } as const;
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true }));
  } catch (error) {
    terminal.err(`te-scan demo: ${usageErrorOf(error, Object.keys(options)).message}`);
    return Exit.USAGE;
  }
  if (values.help) {
    terminal.out(
      "Usage: te-scan demo [--dir DIR]\n\n" +
        "Scans a sample tree against a built-in emulator on loopback and shows where every\n" +
        "file went. --dir picks the folder to build it in (default: a new temporary folder).",
    );
    return Exit.CLEAN;
  }
  const root = values.dir
    ? (await Deno.mkdir(values.dir, { recursive: true }), values.dir)
    : await Deno.makeTempDir({ prefix: "te-scan-demo-" });
  const { input, caFile } = await writeDemoTree(root);
  const emulator = await startEmulator({
    host: "127.0.0.1",
    port: 0,
    emulationMs: 1500,
    earlyMs: 300,
    log: (line) => terminal.err(line),
  });
  terminal.out(`te-scan demo: emulator on ${emulator.url}; sample tree in ${input}\n`);
  let code: number;
  try {
    code = await scanCommand(demoScanArgs(root, input, caFile, emulator.port), {
      signal,
      terminal,
    });
  } finally {
    await emulator.close();
  }
  terminal.out(await whereEverythingWent(root));
  if (code === Exit.MALICIOUS) {
    terminal.out("A real scan of this tree exits 1 (malicious files found); the demo exits 0.");
    return Exit.CLEAN;
  }
  return code;
}
