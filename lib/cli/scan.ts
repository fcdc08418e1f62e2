/**
 * `te-scan scan`: checks the layout, builds the appliance client, runs the
 * pipeline, writes `summary.json` and returns the exit code.
 *
 * Exit codes: 0 every file benign (or nothing to do), 1 malicious found,
 * 2 some file unresolved and none malicious, 3 usage or configuration
 * error (nothing scanned), 130 interrupted.
 *
 * @example
 * ```ts
 * import { scanCommand } from "./scan.ts";
 * const code = await scanCommand(["--in", "/drop", "--ip", "10.1.1.5", "--jail", "/q"]);
 * Deno.exit(code);
 * ```
 * @module
 */

import { isAbsolute, join, relative, resolve } from "node:path";
import { parseScanArgs, SCAN_HELP, type ScanArgs, UsageError } from "./args.ts";
import { connectRotation } from "./connect.ts";
import { Reporter } from "./console.ts";
import { renderError } from "./render.ts";
import { processTerminal, type Terminal } from "./terminal.ts";
import { Disposer, type Folders } from "../pipeline/dispose.ts";
import { reasonOf } from "../fs/errors.ts";
import { isConfigurationError } from "../transport/fatal.ts";
import { matchesAnyGlob } from "../pipeline/glob.ts";
import { runPipeline } from "../pipeline/mod.ts";
import { RunProgress } from "../pipeline/progress.ts";
import { RunLog } from "../fs/run_log.ts";
import { VERSION } from "./version.ts";

/** Exit codes of a scan. */
export const Exit = {
  CLEAN: 0,
  MALICIOUS: 1,
  UNRESOLVED: 2,
  USAGE: 3,
  INTERRUPTED: 130,
} as const;

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/**
 * Refuses layouts that could loop or lose data: a missing input, an output
 * folder (`--clean` included) that is the input or inside it (unless
 * excluded from the walk), the same folder for two outputs.
 *
 * @example
 * ```ts
 * import { checkLayout } from "./scan.ts";
 * await checkLayout("/drop", { benign: "/drop/ok" }, "/rep", []); // throws UsageError
 * ```
 */
export async function checkLayout(
  input: string,
  folders: Folders,
  reportsDir: string,
  exclude: string[],
  clean?: string,
): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(input);
  } catch (error) {
    throw new UsageError(`input folder not found: ${input} (${reasonOf(error)})`);
  }
  if (!info.isDirectory) throw new UsageError(`input is not a folder: ${input}`);
  const named: [string, string | undefined][] = [
    ["--out", folders.benign],
    ["--jail", folders.malicious],
    ["--error", folders.error],
    ["--clean", clean],
    ["--rep", reportsDir],
  ];
  const seen = new Map<string, string>();
  for (const [flag, folder] of named) {
    if (!folder) continue;
    if (folder === input) throw new UsageError(`${flag} is the input folder: ${folder}`);
    if (isInside(input, folder)) {
      throw new UsageError(`the input folder ${input} is inside ${flag} ${folder}`);
    }
    if (isInside(folder, input) && !matchesAnyGlob(relative(input, folder), exclude)) {
      throw new UsageError(
        `${flag} ${folder} is inside the input folder; move it out or add ` +
          `--exclude '${relative(input, folder)}'`,
      );
    }
    const other = seen.get(folder);
    if (other && flag !== "--rep") {
      throw new UsageError(`${other} and ${flag} are the same folder: ${folder}`);
    }
    seen.set(folder, flag);
    if (await Deno.stat(folder).then((s) => !s.isDirectory, () => false)) {
      throw new UsageError(`${flag} exists and is not a folder: ${folder}`);
    }
  }
}

/** Options that only tests and the demo set. */
export interface ScanHooks {
  /** Where the run's events go; default a Reporter on `terminal`. */
  reporter?: Reporter;
  /** Where everything is written; default the reporter's, else the process's terminal. */
  terminal?: Terminal;
  signal?: AbortSignal;
}

/**
 * Runs the scan command; returns the exit code.
 *
 * @example
 * ```ts
 * import { scanCommand } from "./scan.ts";
 * await scanCommand(["--help"]); // 0
 * ```
 */
export async function scanCommand(argv: string[], hooks: ScanHooks = {}): Promise<number> {
  const terminal = hooks.terminal ?? hooks.reporter?.terminal ?? processTerminal();
  let args: ScanArgs;
  try {
    args = parseScanArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    terminal.err(`${renderError(error.message)}\nTry: te-scan --help`);
    return Exit.USAGE;
  }
  if (args.help) {
    terminal.out(SCAN_HELP);
    return Exit.CLEAN;
  }
  if (args.version) {
    terminal.out(`te-scan ${VERSION}`);
    return Exit.CLEAN;
  }
  const reporter = hooks.reporter ??
    new Reporter({ json: args.json, quiet: args.quiet, terminal });
  try {
    return await runScan(args, reporter, hooks.signal);
  } catch (error) {
    if (error instanceof UsageError || isConfigurationError(error)) {
      reporter.error((error as Error).message);
      return Exit.USAGE;
    }
    throw error;
  }
}

async function runScan(args: ScanArgs, reporter: Reporter, signal?: AbortSignal): Promise<number> {
  const input = resolve(args.input!);
  const folders: Folders = {
    benign: args.benign && resolve(args.benign),
    malicious: args.quarantine && resolve(args.quarantine),
    error: args.error && resolve(args.error),
  };
  const reportsDir = resolve(args.reportsDir);
  const clean = args.clean && resolve(args.clean);
  await checkLayout(input, folders, reportsDir, args.exclude, clean);
  try {
    await Deno.mkdir(reportsDir, { recursive: true });
  } catch (error) {
    throw new UsageError(`cannot create --rep folder ${reportsDir}: ${reasonOf(error)}`);
  }
  for (const folder of [folders.benign, folders.malicious, folders.error, clean]) {
    if (!folder) continue;
    try {
      await Deno.mkdir(folder, { recursive: true });
    } catch (error) {
      throw new UsageError(`cannot create folder ${folder}: ${reasonOf(error)}`);
    }
  }

  const { rotation, origin } = await connectRotation(args, reporter, signal);
  const log = await RunLog.open(join(reportsDir, "te-scan.log.jsonl"));
  const disposer = new Disposer({
    reportsDir,
    // A dry run settles nothing on disk but the response files and the log.
    folders: args.dryRun ? {} : folders,
    copy: args.copy,
    clean,
    log,
    onFile: (record) => reporter.file(record),
  });
  const startedAt = new Date();
  const t0 = performance.now();
  const started = {
    event: "start",
    version: VERSION,
    input,
    appliance: origin,
    folders,
    reports_dir: reportsDir,
    dry_run: args.dryRun,
    copy: args.copy,
  };
  log.write(started);
  reporter.event(started);
  // The pipeline's stages keep these gauges; the progress line reads them.
  const progress = new RunProgress();
  reporter.track(disposer.counts, progress);
  let interrupted = false;
  let fatal: Error | undefined;
  try {
    ({ interrupted } = await runPipeline({
      walk: {
        root: input,
        recursive: args.recursive,
        followSymlinks: args.followSymlinks,
        include: args.include,
        exclude: args.exclude,
        maxSize: args.maxSize,
        skipDirs: [folders.benign, folders.malicious, folders.error, clean, reportsDir].filter(
          (f): f is string => !!f,
        ),
      },
      rotation,
      disposer,
      reports: args.reports,
      concurrency: args.concurrency,
      pollIntervalMs: args.pollIntervalMs,
      timeoutMs: args.timeoutMs,
      dryRun: args.dryRun,
      decide: { uploadKnown: args.extract !== undefined, avOnly: !args.features.includes("te") },
      progress,
      signal,
      onWarning: (message) => reporter.warn(message),
    }));
  } catch (error) {
    fatal = error as Error;
  } finally {
    rotation.close();
  }
  const counts = disposer.counts;
  let exitCode: number = counts.malicious > 0
    ? Exit.MALICIOUS
    : counts.error > 0
    ? Exit.UNRESOLVED
    : Exit.CLEAN;
  if (interrupted) exitCode = Exit.INTERRUPTED;
  if (fatal) exitCode = isConfigurationError(fatal) ? Exit.USAGE : Exit.UNRESOLVED;
  const seconds = (performance.now() - t0) / 1000;
  const summary = {
    version: VERSION,
    started: startedAt.toISOString(),
    finished: new Date().toISOString(),
    seconds: Math.round(seconds * 1000) / 1000,
    input,
    appliance: origin,
    folders,
    reports_dir: reportsDir,
    counts,
    interrupted,
    error: fatal ? reasonOf(fatal) : undefined,
    exit_code: exitCode,
  };
  log.write({ event: "end", ...summary });
  log.close();
  const summaryPath = join(reportsDir, "summary.json");
  const temp = `${summaryPath}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(temp, JSON.stringify(summary, null, 2) + "\n");
  await Deno.rename(temp, summaryPath);
  reporter.event({ event: "summary", ...summary });
  if (fatal) reporter.error(reasonOf(fatal));
  if (interrupted) reporter.warn("interrupted: files not yet settled were left in place");
  reporter.finish({ counts, seconds, logPath: log.path, summaryPath });
  return exitCode;
}
