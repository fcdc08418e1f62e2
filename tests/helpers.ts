/**
 * Shared test helpers: paths to the shared fixtures and the TLS test CA,
 * temporary folders, and a running emulator with a client that trusts it.
 *
 * @module
 */

import { fileURLToPath as fromFileUrl } from "node:url";
import type { Terminal } from "../lib/cli/terminal.ts";

/** `../shared/fixtures/checkpoint/` beside the project. */
export const CHECKPOINT_FIXTURES = fromFileUrl(
  new URL("../../shared/fixtures/checkpoint/", import.meta.url),
);

/** The project root. */
export const ROOT = fromFileUrl(new URL("../", import.meta.url));

/** The emulator's test CA, as committed. */
export const CA_FILE = fromFileUrl(new URL("./fixtures/tls/ca.pem", import.meta.url));

/** Reads a Check Point sample by file name. */
export async function readFixture(name: string): Promise<unknown> {
  return JSON.parse(await Deno.readTextFile(CHECKPOINT_FIXTURES + name));
}

/** Every Check Point sample file name. */
export async function fixtureNames(): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(CHECKPOINT_FIXTURES)) {
    if (entry.name.endsWith(".json")) names.push(entry.name);
  }
  return names.sort();
}

/** A temporary folder removed when disposed. */
export async function tempDir(
  prefix = "te-scan-test-",
): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}

/** What a scan printed and returned. */
export interface CapturedRun {
  code: number;
  out: string[];
  err: string[];
}

/** A terminal that keeps what it writes; neither stream is a terminal unless told. */
export interface CapturedTerminal {
  terminal: Terminal;
  /** Exactly what was written to each stream, write by write. */
  writes: { out: string[]; err: string[] };
  /** What was written to a stream, as lines (without their newlines). */
  lines(stream: "out" | "err"): string[];
}

/** Makes a {@linkcode CapturedTerminal} without colour, 80 columns wide unless told. */
export async function captureTerminal(
  isTerminal = { out: false, err: false },
  columns = 80,
): Promise<CapturedTerminal> {
  const { Terminal: TerminalClass } = await import("../lib/cli/terminal.ts");
  const writes = { out: [] as string[], err: [] as string[] };
  const terminal = new TerminalClass({
    out: (text) => writes.out.push(text),
    err: (text) => writes.err.push(text),
    isTerminal,
    columns: () => columns,
    color: false,
  });
  const lines = (stream: "out" | "err") => {
    const text = writes[stream].join("");
    return text === "" ? [] : text.replace(/\n$/, "").split("\n");
  };
  return { terminal, writes, lines };
}

/** Runs the scan command in-process with its console captured. */
export async function captureScan(argv: string[], signal?: AbortSignal): Promise<CapturedRun> {
  const { scanCommand } = await import("../lib/cli/scan.ts");
  const { terminal, lines } = await captureTerminal();
  const code = await scanCommand(argv, { terminal, signal });
  return { code, out: lines("out"), err: lines("err") };
}

/** The folders of a scan test, under `root`. */
export function scanFolders(root: string) {
  return {
    input: `${root}/in`,
    out: `${root}/benign`,
    jail: `${root}/quarantine`,
    error: `${root}/error`,
    rep: `${root}/reports`,
  };
}

/** `--in`, `--out`, `--jail`, `--error` and `--rep` for those folders. */
export function sortFlags(f: ReturnType<typeof scanFolders>): string[] {
  return ["--in", f.input, "--out", f.out, "--jail", f.jail, "--error", f.error, "--rep", f.rep];
}
