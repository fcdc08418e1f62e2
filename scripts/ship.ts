/**
 * What the shipping tasks in deno.json share: the flags every way of running
 * te-scan carries, running the Deno in use (and te-scan, to check a build),
 * and their one-line errors.
 *
 * te-scan needs exactly `--allow-net --allow-read --allow-write` (SPEC §3);
 * `--v8-flags=--max-semi-space-size=4,--optimize-for-size` is not a permission: it keeps V8's
 * heap small and collected early (README, BENCHMARKS.md). Keeping them in one place here means the
 * installed command, the bundle's shebang, the kit's launcher and the binary
 * cannot drift apart.
 *
 * @module
 */

import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

/** The project root. */
export const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** The CLI's entry point. */
export const MAIN = join(ROOT, "main.ts");
/** The project's deno.json, named explicitly: a copy or a run elsewhere must not lose it. */
export const CONFIG = join(ROOT, "deno.json");
/** Exactly the permissions te-scan needs, and nothing else. */
export const PERMISSIONS = ["--allow-net", "--allow-read", "--allow-write"] as const;
/** The V8 flag every run of te-scan carries. */
export const V8_FLAG = "--v8-flags=--max-semi-space-size=4,--optimize-for-size";
/** The flags for `deno run` / `install` / `compile` of te-scan. */
export const RUN_FLAGS: readonly string[] = [V8_FLAG, ...PERMISSIONS];

/** What a finished subprocess printed. */
export interface Output {
  ok: boolean;
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs `command` to the end (killed after `timeoutMs`), stdin closed, output kept. */
export async function output(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Output> {
  const signal = AbortSignal.timeout(options.timeoutMs ?? 120_000);
  const result = await new Deno.Command(command, {
    args,
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal,
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return {
    ok: result.success,
    code: result.code,
    stdout: decode(result.stdout),
    stderr: decode(result.stderr),
    timedOut: signal.aborted,
  };
}

/** Runs the Deno executable that runs this script. */
export function deno(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Output> {
  return output(Deno.execPath(), args, { cwd: ROOT, ...options });
}

/** The last non-empty line of `text`, for one-line errors. */
export function lastLine(text: string): string {
  return text.trim().split("\n").map((line) => line.trim()).filter(Boolean).at(-1) ?? "";
}

/** Prints `script: message` on stderr and exits 1. */
export function fail(script: string, message: string): never {
  console.error(`${script}: ${message}`);
  Deno.exit(1);
}

/** Parses the task's `--NAME VALUE` options (the only ones it takes); one-line error otherwise. */
export function parseTaskArgs<K extends string>(
  script: string,
  names: readonly K[],
): Partial<Record<K, string>> {
  const options: Record<string, { type: "string" }> = {};
  for (const name of names) options[name] = { type: "string" };
  try {
    return parseArgs({ args: Deno.args, options, strict: true }).values as Partial<
      Record<K, string>
    >;
  } catch (error) {
    const usage = names.map((name) => `--${name} DIR`).join(", ") || "none";
    fail(script, `${error instanceof Error ? error.message : error} (options: ${usage})`);
  }
}

/** The folder the task writes to: `--out DIR`, by default `dist/` in the project. */
export function outDir(script: string): string {
  const { out } = parseTaskArgs(script, ["out"]);
  return resolve(out ?? join(ROOT, "dist"));
}

/** `path` as the user would type it from the current folder. */
export function shown(path: string): string {
  const rel = relative(Deno.cwd(), path);
  return rel && !rel.startsWith("..") ? rel : path;
}

/** Bytes as "310 KB" / "41.7 MB" (decimal units, as `ls -lh --si` shows them). */
export function size(bytes: number): string {
  if (bytes < 1e6) return `${Math.round(bytes / 1e3)} KB`;
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** `text` quoted for a POSIX shell. */
export function shQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * Runs te-scan (`command ...args --version`); returns the version line it printed, or throws
 * `why(first line printed)` when what ran is not te-scan.
 */
export async function teScanVersion(
  command: string,
  args: string[],
  why: (printed: string) => string,
  options: { env?: Record<string, string> } = {},
): Promise<string> {
  const run = await output(command, [...args, "--version"], { ...options, timeoutMs: 30_000 });
  if (run.ok && /^te-scan \d/.test(run.stdout)) return run.stdout.trim();
  throw new Error(why((run.stdout.trim() || lastLine(run.stderr)).split("\n")[0]));
}

/** Builds `file` under a temporary name beside it, which takes the name only once `build` succeeds. */
export async function buildAs<T>(file: string, build: (temp: string) => Promise<T>): Promise<T> {
  const temp = `${file}.tmp-${Deno.pid}`;
  try {
    const result = await build(temp);
    await Deno.rename(temp, file);
    return result;
  } finally {
    await Deno.remove(temp).catch(() => {});
  }
}
