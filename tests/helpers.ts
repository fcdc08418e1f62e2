/**
 * Shared test helpers: paths to the shared fixtures and the TLS test CA,
 * temporary folders, and a running emulator with a client that trusts it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { type EmulatorOptions, startEmulator } from "../lib/emulator/mod.ts";
import type { Terminal } from "../lib/cli/terminal.ts";
import { sleep } from "../lib/util/sleep.ts";

/** The published Check Point response samples, copied from `../shared/fixtures/checkpoint/`. */
export const CHECKPOINT_FIXTURES = fromFileUrl(
  new URL("./fixtures/checkpoint/", import.meta.url),
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

/**
 * Settles as `run` does, or rejects saying it was still running after `seconds`: a generous
 * bound that turns a hang into a failed test instead of a hung suite.
 */
export async function within<T>(seconds: number, run: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running after ${seconds} s`)), seconds * 1000);
  });
  try {
    return await Promise.race([run, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves once `holds()` is true (checked every few milliseconds), or rejects after `seconds`
 * naming `what` never happened: a polling wait that turns a hang into a failed test.
 */
export async function eventually(
  seconds: number,
  what: string,
  holds: () => boolean | Promise<boolean>,
): Promise<void> {
  const deadline = performance.now() + seconds * 1000;
  while (!(await holds())) {
    if (performance.now() > deadline) throw new Error(`${what}: not after ${seconds} s`);
    await sleep(5);
  }
}

/** Runs `body` with a temporary folder, removed afterwards. */
export async function withTempDir(
  body: (dir: string) => Promise<void>,
  prefix?: string,
): Promise<void> {
  await using dir = await tempDir(prefix);
  await body(dir.path);
}

/** The names in a folder, sorted. */
export async function namesIn(dir: string): Promise<string[]> {
  const names = (await Array.fromAsync(Deno.readDir(dir))).map((entry) => entry.name);
  return names.sort();
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

/** Runs the scan command in-process with its console captured; a scan that hangs fails at 300 s. */
export async function captureScan(argv: string[], signal?: AbortSignal): Promise<CapturedRun> {
  const { scanCommand } = await import("../lib/cli/scan.ts");
  const { terminal, lines } = await captureTerminal();
  const code = await within(300, scanCommand(argv, { terminal, signal }));
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

/** Writes a tree of text files under `root`. */
export async function writeTree(root: string, tree: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(tree)) {
    await Deno.mkdir(dirname(join(root, path)), { recursive: true });
    await Deno.writeTextFile(join(root, path), content);
  }
}

/** Every file under `root`, as sorted relative paths (none when it does not exist). */
export async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  async function visit(dir: string, prefix: string): Promise<void> {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    for (const entry of entries) {
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory) await visit(join(dir, entry.name), rel);
      else out.push(rel);
    }
  }
  await visit(root, "");
  return out.sort();
}

/** Runs `body` against a fresh in-process emulator on a free port (fast timings by default). */
export async function withEmulator(
  options: Partial<EmulatorOptions>,
  body: (emulator: Awaited<ReturnType<typeof startEmulator>>) => Promise<void>,
): Promise<void> {
  const emulator = await startEmulator({ port: 0, emulationMs: 60, earlyMs: 10, ...options });
  try {
    await body(emulator);
  } finally {
    await emulator.close();
  }
}

/** The connection and timing flags of a fast scan against the emulator on `port`. */
export function fastFlags(port: number): string[] {
  return [
    "--ca-cert",
    CA_FILE,
    "--poll-interval",
    "0.03",
    "--timeout",
    "20",
    "--ip",
    `127.0.0.1:${port}`,
  ];
}

/** The flags of a fast scan through the emulator's gateway (TPAPI) side on `port`. */
export function gatewayFastFlags(port: number, keyFile: string): string[] {
  const trustAndTiming = fastFlags(port).slice(0, -2); // all but `--ip HOST`
  const gateway = `127.0.0.1:${port}`;
  return ["--gateway", gateway, "--report-port", String(port), "--api-key-file", keyFile]
    .concat(trustAndTiming);
}

/** Queues faults on a running emulator (`POST /__emulator/faults`). */
export async function injectFaults(url: string, faults: unknown[]): Promise<void> {
  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(CA_FILE)] });
  try {
    const response = await fetch(`${url}/__emulator/faults`, {
      method: "POST",
      body: JSON.stringify({ faults }),
      client,
    });
    await response.body?.cancel();
    assert.equal(response.status, 200);
  } finally {
    client.close();
  }
}

/** The run log's events. */
export async function readLog(rep: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(join(rep, "te-scan.log.jsonl"));
  return text.trim().split("\n").map((line) => JSON.parse(line));
}

/** `count` small text files of distinct content, spread over `folders` subfolders. */
export function numberedTree(count: number, tag = "file", folders = 1): Record<string, string> {
  const tree: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const folder = folders > 1 ? `d${i % folders}/` : "";
    tree[`${folder}f${i}.txt`] = `${tag} ${i}\n`;
  }
  return tree;
}
