/**
 * `te-scan scan`: checks the layout, builds the appliance client, runs the
 * pipeline, writes `summary.json` and returns the exit code.
 *
 * Exit codes: 0 every file benign (or nothing to do), 1 malicious found,
 * 2 some file unresolved and none malicious, 3 usage or configuration
 * error (nothing scanned), 4 a malicious file could not be quarantined,
 * 130 interrupted.
 *
 * @example Scan a folder against the built-in emulator
 * ```ts
 * import { scanCommand } from "./scan.ts";
 * import { Terminal } from "./terminal.ts";
 * import { DEFAULT_CA_PEM, startEmulator } from "../emulator/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/in`);
 * await Deno.writeTextFile(`${dir}/in/a.txt`, "fine");
 * await Deno.writeTextFile(`${dir}/in/b.doc`, "TE-EMULATOR-MALICIOUS");
 * await Deno.writeTextFile(`${dir}/ca.pem`, DEFAULT_CA_PEM);
 * const emulator = await startEmulator({ port: 0, emulationMs: 0, earlyMs: 0 });
 * const out: string[] = [];
 * const terminal = new Terminal({
 *   out: (t) => out.push(t),
 *   isTerminal: { out: false, err: false },
 * });
 * const code = await scanCommand([
 *   ...["--in", `${dir}/in`, "--ip", `127.0.0.1:${emulator.port}`, "--ca-cert", `${dir}/ca.pem`],
 *   ...["--out", `${dir}/ok`, "--jail", `${dir}/jail`, "--rep", `${dir}/rep`],
 * ], { terminal });
 * assert.equal(code, 1); // a malicious file was found
 * assert.ok(out.includes(`BENIGN     a.txt -> ${dir}/ok/a.txt\n`));
 * assert.equal(await Deno.readTextFile(`${dir}/jail/b.doc`), "TE-EMULATOR-MALICIOUS");
 * await emulator.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 * @module
 */

import { dirname, join, resolve, sep } from "node:path";
import { parseScanArgs, SCAN_HELP, type ScanArgs } from "./args.ts";
import { connectRotation, preflight, type Targets } from "./connect.ts";
import { Reporter } from "./console.ts";
import { Exit, UsageError } from "./exit.ts";
import { checkLayout, type Layout, probeLayout } from "./layout.ts";
import { renderError } from "./render.ts";
import { type RunSummary, writeRunPage } from "./run_page.ts";
import {
  type LiveRun,
  startLiveRun,
  type TargetHealth,
  writeMetrics,
  writeSummary,
} from "./live.ts";
import { processTerminal, type Terminal } from "./terminal.ts";
import { type DisposeCounts, Settler } from "../pipeline/dispose.ts";
import type { ExtractionCounts } from "../pipeline/clean.ts";
import { ReportsFolderError } from "../fs/errors.ts";
import { reasonOf } from "../util/reason.ts";
import { LockedError } from "../fs/lock.ts";
import { RunRegistry } from "../fs/run_registry.ts";
import { StateDir } from "../fs/state_dir.ts";
import { strandedEarly } from "../fs/stranded.ts";
import { isConfigurationError } from "../transport/fatal.ts";
import { describeTargetFailure, TargetError } from "../transport/diagnose.ts";
import type { Rotation } from "../transport/rotation.ts";
import { runPipeline } from "../pipeline/mod.ts";
import { RunProgress } from "../pipeline/progress.ts";
import { walk, type WalkItem, type WalkOptions } from "../pipeline/walk.ts";
import { filesFrom } from "../pipeline/files_from.ts";
import { RunLog } from "../fs/run_log.ts";
import { confinementOf } from "../fs/confine.ts";
import { VERSION } from "./version.ts";

/** Options that only tests and the demo set. */
export interface ScanHooks {
  /** Where the run's events go; default a Reporter on `terminal`. */
  reporter?: Reporter;
  /** Where everything is written; default the reporter's, else the process's terminal. */
  terminal?: Terminal;
  signal?: AbortSignal;
  /** The registry of the host's running scans (tests keep their own); default `/tmp/te-scan-runs`. */
  runsDir?: string;
}

/**
 * Runs the scan command; returns the exit code.
 *
 * @example The help
 * ```ts
 * import { scanCommand } from "./scan.ts";
 * import { Terminal } from "./terminal.ts";
 * import assert from "node:assert/strict";
 *
 * const out: string[] = [];
 * const terminal = new Terminal({
 *   out: (t) => out.push(t),
 *   isTerminal: { out: false, err: false },
 * });
 * assert.equal(await scanCommand(["--help"], { terminal }), 0);
 * assert.match(out.join(""), /^te-scan: scan a folder/);
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
    return await runScan(args, reporter, hooks);
  } catch (error) {
    if (error instanceof UsageError || error instanceof TargetError) {
      reporter.error(error.message);
      return Exit.USAGE;
    }
    if (error instanceof ReportsFolderError) {
      reporter.error(`${error.message}; nothing was moved`);
      return Exit.UNRESOLVED;
    }
    throw error;
  }
}

/** Resolves the folders and refuses layouts that could lose data; creates nothing. */
function resolveLayout(args: ScanArgs): Promise<Layout> {
  const folders = {
    benign: args.benign && resolve(args.benign),
    malicious: args.quarantine && resolve(args.quarantine),
    error: args.error && resolve(args.error),
  };
  const input = args.input === undefined ? undefined : resolve(args.input);
  const clean = args.clean && resolve(args.clean);
  return checkLayout(input, folders, resolve(args.reportsDir), args.exclude, clean);
}

/** Creates the reports folder and, unless it is a dry run, the output folders. */
async function createFolders(layout: Layout, dryRun: boolean): Promise<Layout> {
  const { folders, reportsDir, clean } = layout;
  const outputs = dryRun ? [] : [folders.benign, folders.malicious, folders.error, clean];
  for (const folder of [reportsDir, ...outputs]) {
    if (!folder) continue;
    try {
      await Deno.mkdir(folder, { recursive: true });
    } catch (error) {
      throw new UsageError(`cannot create folder ${folder}: ${reasonOf(error)}`);
    }
  }
  return layout;
}

/** The files a killed run left in quarantine awaiting their final verdict, as walk items. */
async function resumedFiles(state: StateDir, disposer: Settler): Promise<WalkItem[]> {
  const items: WalkItem[] = [];
  for (const file of state.replay.awaiting) {
    const info = await Deno.lstat(file.path);
    disposer.resumeEarly(file.path, file.record);
    const mtimeMs = info.mtime?.getTime() ?? 0;
    const relPath = file.awaiting.relPath;
    items.push({ kind: "file", path: file.path, relPath, size: info.size, mtimeMs });
  }
  return items;
}

/**
 * Says which journal lines were refused (never acted on) and, when the
 * journal was lost or refused lines, which files quarantined early still
 * wait in the jail for a final verdict: a rescan of them finishes them.
 */
async function reportJournal(
  state: StateDir,
  log: RunLog,
  reporter: Reporter,
  counts: Settler["counts"],
): Promise<void> {
  const { journal, replay } = state;
  for (const { line, reason } of replay.rejected) {
    log.write({ event: "journal_rejected", line, reason });
    reporter.warn(`journal line ${line} skipped, nothing done: ${reason}`);
  }
  if (journal.existed && !replay.rejected.length) return;
  const open = new Set(journal.open.map((record) => record.dest));
  for (const file of await strandedEarly(log.path, open)) {
    const reason = "quarantined early, final verdict never applied (journal lost); " +
      "rescan it to finish it";
    // Still malicious on its early verdict, as a file whose final verdict never came.
    counts.malicious++;
    log.write({
      event: "stranded",
      relPath: file.file,
      state: "malicious",
      verdict: "malicious",
      sha1: file.sha1,
      destination: file.path,
      reason,
    });
    reporter.warn(`${file.path}: ${reason}`);
  }
}

/** Locks the folders and opens the journal; a reports folder that cannot be written is exit 2. */
async function openState(layout: Layout): Promise<{ state: StateDir; log: RunLog }> {
  let state: StateDir | undefined;
  try {
    const destinations = Object.values(layout.folders).filter((f): f is string => !!f);
    state = await StateDir.open(layout.reportsDir, layout.inputFolder, { destinations });
    const log = await RunLog.open(join(layout.reportsDir, "te-scan.log.jsonl"));
    return { state, log };
  } catch (error) {
    await state?.close().catch(() => {});
    if (error instanceof LockedError) throw new UsageError(error.message);
    if (error instanceof ReportsFolderError) throw error;
    throw new ReportsFolderError(layout.reportsDir, error);
  }
}

/** A `--metrics` file needs its folder: said before anything is scanned, not every interval. */
async function checkMetricsFolder(args: ScanArgs): Promise<void> {
  if (args.metrics === undefined) return;
  const folder = dirname(resolve(args.metrics));
  const info = await Deno.stat(folder).catch(() => undefined);
  if (!info?.isDirectory) {
    throw new UsageError(`Cannot write the metrics file ${args.metrics}: no folder ${folder}`);
  }
}

/** Registers the run among the host's running scans; one on an overlapping input is exit 3. */
async function registerRun(
  layout: Layout,
  reporter: Reporter,
  dir?: string,
): Promise<RunRegistry | undefined> {
  if (layout.input === undefined) return undefined;
  try {
    const input = await Deno.realPath(layout.input);
    return await RunRegistry.enter(input, { dir, onWarning: (m) => reporter.warn(m) });
  } catch (error) {
    if (error instanceof LockedError) throw new UsageError(error.message);
    // The input went away since its layout was checked.
    throw new UsageError(`Cannot scan ${layout.input}: ${reasonOf(error)}`);
  }
}

async function runScan(args: ScanArgs, reporter: Reporter, hooks: ScanHooks): Promise<number> {
  const signal = hooks.signal;
  const resolved = await resolveLayout(args);
  await checkMetricsFolder(args);
  const moves = !args.copy && !args.dryRun;
  for (const note of await probeLayout(resolved, moves)) reporter.warn(note);
  // Held until the run ends (a watch, until it stops): the kernel frees it if the process dies.
  using _registered = await registerRun(resolved, reporter, hooks.runsDir);
  const targets = await connectRotation(args, reporter, signal);
  let opened: { state: StateDir; log: RunLog };
  let layout: Layout;
  try {
    // Before anything is created, hashed or moved: a wrong target ends the run here.
    await preflight(targets, reporter, { dryRun: args.dryRun });
    layout = await createFolders(resolved, args.dryRun);
    opened = await openState(layout);
  } catch (error) {
    targets.rotation.close();
    throw error;
  }
  const { state, log } = opened;
  try {
    return await scanAndSummarize(args, layout, targets, state, log, reporter, signal);
  } finally {
    reporter.stopProgress();
    await state.close().catch((error) => reporter.warn(reasonOf(error)));
  }
}

async function scanAndSummarize(
  args: ScanArgs,
  layout: Layout,
  targets: Targets,
  state: StateDir,
  log: RunLog,
  reporter: Reporter,
  signal?: AbortSignal,
): Promise<number> {
  const { rotation, origin } = targets;
  const disposer = disposerOf(args, layout, state, log, reporter);
  // The pipeline's stages keep these gauges; the progress line and the metrics read them.
  const progress = new RunProgress();
  const run: TreeRun = { args, layout, rotation, disposer, reporter, signal, state, progress };
  const outputs = outputsOf({ ...run, origin, log });
  const live = startLiveRun(outputs);
  announceStart(run, origin, log);
  await reportJournal(state, log, reporter, disposer.counts);
  let outcome;
  try {
    outcome = await scanTree(run);
  } finally {
    await live?.stop();
  }
  // A run stopped by its target says why in the same words as the preflight would.
  const [context] = targets.contexts.values();
  const describe = async (error: Error) =>
    error instanceof ReportsFolderError
      ? error.message
      : await describeTargetFailure(error, context);
  return await summarize({
    ...outcome,
    args,
    layout,
    origin,
    disposer,
    log,
    reporter,
    state,
    describe,
    outputs,
  });
}

/** The start event, in the log and (with --json) on stdout. */
function announceStart(run: TreeRun, origin: string, log: RunLog): void {
  const { args, layout, state } = run;
  const started = {
    event: "start",
    time: new Date().toISOString(),
    version: VERSION,
    input: layout.input,
    appliance: origin,
    folders: layout.folders,
    reports_dir: layout.reportsDir,
    dry_run: args.dryRun,
    copy: args.copy,
    replayed: state.replay.finished + state.replay.notStarted + state.replay.awaiting.length,
  };
  log.write(started);
  run.reporter.event(started);
}

/** Dispositions that take a file out of the input (an early quarantine too). */
const MOVED_OUT = new Set(["moved", "early"]);

/** The sink of the run's files; prunes the folders moves leave empty when asked. */
function disposerOf(
  args: ScanArgs,
  layout: Layout,
  state: StateDir,
  log: RunLog,
  reporter: Reporter,
): Settler {
  return new Settler({
    reportsDir: layout.reportsDir,
    // A dry run settles nothing on disk but the response files and the log.
    folders: args.dryRun ? {} : layout.folders,
    copy: args.copy,
    clean: layout.clean,
    log,
    journal: state.journal,
    tempDir: state.tempDir,
    input: layout.inputFolder,
    onFile: (record) => {
      reporter.file(record);
      if (args.pruneEmpty && MOVED_OUT.has(record.disposition) && record.path && layout.input) {
        void pruneEmpty(dirname(record.path), layout.input);
      }
    },
  });
}

/** What a running scan keeps current: a watch's summary and page, the metrics. */
function outputsOf(run: Omit<TreeRun, "signal"> & { origin: string; log: RunLog }): LiveRun {
  const { args, layout, origin, disposer, log } = run;
  const t0 = performance.now();
  const counts = disposer.counts;
  return {
    watch: args.watch,
    metricsPath: args.metrics === undefined ? undefined : resolve(args.metrics),
    summary: () =>
      summaryOf({
        layout,
        origin,
        counts,
        t0,
        exitCode: exitCodeOf({ disposer, interrupted: false }),
      }),
    metrics: () => ({ counts, progress: run.progress, targets: healthOf(run.rotation) }),
    version: () => counts.benign + counts.malicious + counts.error + counts.skipped,
    logPath: log.path,
    logStart: log.start,
    tempDir: run.state.tempDir,
    onError: (error: unknown) => run.reporter.warn(reasonOf(error)),
  };
}

/** Each target and whether it is in rotation now, for the metrics. */
function healthOf(rotation: Rotation): TargetHealth[] {
  return rotation.all.map((t) => ({ label: t.label, up: rotation.isUp(t) }));
}

/**
 * Removes `folder` and its parents while they are empty, up to `input`
 * (never `input` itself): what moves leave behind. A folder that is not
 * empty, or not there, stays as it is.
 */
async function pruneEmpty(folder: string, input: string): Promise<void> {
  for (let dir = folder; dir !== input && dir.startsWith(input + sep); dir = dirname(dir)) {
    try {
      await Deno.remove(dir);
    } catch {
      return;
    }
  }
}

/** The parts of `summary.json`. */
interface SummaryParts {
  layout: Layout;
  origin: string;
  /** With `--extract`, the extraction counts too. */
  counts: DisposeCounts & { extraction?: ExtractionCounts };
  t0: number;
  exitCode: number;
  interrupted?: boolean;
  error?: string;
}

/** `summary.json`: at the end of a run, or (`interrupted` not given) while it runs. */
function summaryOf(p: SummaryParts): RunSummary {
  const seconds = (performance.now() - p.t0) / 1000;
  return {
    version: VERSION,
    started: new Date(Date.now() - seconds * 1000).toISOString(),
    finished: new Date().toISOString(),
    seconds: Math.round(seconds * 1000) / 1000,
    input: p.layout.input,
    appliance: p.origin,
    folders: p.layout.folders,
    reports_dir: p.layout.reportsDir,
    counts: p.counts,
    clean_dir: p.layout.clean,
    interrupted: p.interrupted ?? false,
    error: p.error,
    exit_code: p.exitCode,
    ...(p.interrupted === undefined ? { running: true } : {}),
  };
}

interface TreeRun {
  args: ScanArgs;
  layout: Layout;
  rotation: Rotation;
  disposer: Settler;
  reporter: Reporter;
  state: StateDir;
  progress: RunProgress;
  signal?: AbortSignal;
}

/** The files `--files-from` names, when it is given; those outside `input` are not touched. */
async function listedFiles(
  args: ScanArgs,
  input?: string,
): Promise<ReadableStream<WalkItem> | undefined> {
  if (args.filesFrom === undefined) return undefined;
  let list: ReadableStream<Uint8Array>;
  try {
    list = args.filesFrom === "-"
      ? Deno.stdin.readable
      : (await Deno.open(args.filesFrom, { read: true })).readable;
  } catch (error) {
    throw new UsageError(`--files-from: cannot read ${args.filesFrom}: ${reasonOf(error)}`);
  }
  return filesFrom(list, { nul: args.nulSeparated, inside: input });
}

/** Runs the pipeline over the tree; says whether it was interrupted or stopped by an error. */
async function scanTree(
  run: TreeRun,
): Promise<{ interrupted: boolean; fatal?: Error; t0: number }> {
  const { args, layout, disposer, reporter, progress } = run;
  const t0 = performance.now();
  reporter.track(disposer.counts, progress);
  const walkOptions = walkOptionsOf(args, layout, disposer.counts);
  const end = await runTree(run, walkOptions, progress);
  // A run that stopped early says how many files it did not reach.
  const stopped = end.interrupted || end.fatal !== undefined;
  const walked = args.filesFrom === undefined ? walkOptions : undefined;
  disposer.counts.left_in_place = stopped ? await leftInPlace(walked, disposer, progress) : 0;
  return { ...end, t0 };
}

/** The walk's rules; entries `--exclude` leaves out are counted in `counts.excluded`. */
function walkOptionsOf(args: ScanArgs, layout: Layout, counts: DisposeCounts): WalkOptions {
  const { folders, reportsDir, clean } = layout;
  // A watch walks the folder again and again: each excluded entry counts once.
  const seen = args.watch ? new Set<string>() : undefined;
  counts.excluded = 0;
  return {
    root: layout.input ?? "",
    recursive: args.recursive,
    followSymlinks: args.followSymlinks,
    include: args.include,
    exclude: args.exclude,
    maxSize: args.maxSize,
    skipDirs: [folders.benign, folders.malicious, folders.error, clean, reportsDir].filter(
      (f): f is string => !!f,
    ),
    onExcluded: (relPath) => {
      if (seen?.has(relPath)) return;
      seen?.add(relPath);
      counts.excluded = (counts.excluded ?? 0) + 1;
    },
  };
}

/**
 * Files a stopped run left where they were: what the walk finds in the
 * input now, less the settled files that stay there (report-only, copied,
 * skipped). Without a walk (`--files-from`), the files taken and not settled.
 */
async function leftInPlace(
  walkOptions: WalkOptions | undefined,
  disposer: Settler,
  progress: RunProgress,
): Promise<number> {
  const c = disposer.counts;
  const taken = Math.max(0, progress.found - (c.benign + c.malicious + c.error + c.skipped));
  if (!walkOptions) return taken;
  let present = 0;
  try {
    for await (const _ of walk({ ...walkOptions, onExcluded: undefined })) present++;
  } catch {
    return taken;
  }
  return Math.max(0, present - disposer.stayed);
}

/** Runs the pipeline over the tree; says whether it was interrupted or stopped by an error. */
async function runTree(
  run: TreeRun,
  walkOptions: WalkOptions,
  progress: RunProgress,
): Promise<{ interrupted: boolean; fatal?: Error }> {
  const { args, layout, rotation, disposer, reporter, signal } = run;
  try {
    const { interrupted, held } = await runPipeline({
      files: await listedFiles(args, layout.input),
      confine: layout.inputFolder === undefined ? undefined : confinementOf(layout.inputFolder),
      watch: args.watch ? { settleMs: args.settleMs } : undefined,
      walk: walkOptions,
      resume: await resumedFiles(run.state, disposer),
      rotation,
      disposer,
      reports: args.reports,
      concurrency: args.concurrency,
      pollIntervalMs: args.pollIntervalMs,
      timeoutMs: args.timeoutMs,
      dryRun: args.dryRun,
      decide: {
        // The gateway cleans only on upload; the cloud answers extraction to a query too.
        uploadKnown: args.extract !== undefined && args.gateways.length > 0,
        extractTo: args.extract && !args.gateways.length ? layout.clean : undefined,
        avOnly: !args.features.includes("te"),
        extractOnly: args.noEmulation,
        benignReports: args.benignReports,
      },
      progress,
      signal,
      onWarning: (message) => reporter.warn(message),
    });
    const leftOver = Object.entries(held).filter(([, count]) => count > 0);
    if (!interrupted && leftOver.length) {
      // Every file has settled, so this is a bug: say so rather than hide it.
      const what = leftOver.map(([name, count]) => `${name} ${count}`).join(", ");
      reporter.warn(`internal: the run ended still holding ${what}; please report it`);
    }
    return { interrupted };
  } catch (error) {
    return { interrupted: false, fatal: error as Error };
  } finally {
    rotation.close();
  }
}

interface RunEnd {
  interrupted: boolean;
  fatal?: Error;
  t0: number;
  args: ScanArgs;
  layout: Layout;
  origin: string;
  disposer: Settler;
  log: RunLog;
  reporter: Reporter;
  state: StateDir;
  describe: (error: Error) => Promise<string>;
  outputs: LiveRun;
}

function exitCodeOf(end: Pick<RunEnd, "disposer" | "fatal" | "interrupted">): number {
  const counts = end.disposer.counts;
  if (end.fatal && isConfigurationError(end.fatal)) return Exit.USAGE;
  // Malware that could not be quarantined outranks every other outcome.
  if (counts.uncontained > 0) return Exit.UNCONTAINED;
  if (end.fatal) return Exit.UNRESOLVED;
  if (end.interrupted) return Exit.INTERRUPTED;
  if (counts.malicious > 0) return Exit.MALICIOUS;
  // A requested cleaned copy that could not be made is as unfinished as an unresolved file.
  const unfinished = counts.error > 0 || end.disposer.extraction.failed > 0;
  return unfinished ? Exit.UNRESOLVED : Exit.CLEAN;
}

/**
 * Writes the end of the log, `summary.json` and `index.html`, prints the
 * closing table; returns the exit code.
 */
async function summarize(end: RunEnd): Promise<number> {
  const { layout, disposer, log, reporter, fatal, interrupted } = end;
  const exitCode = exitCodeOf(end);
  const why = fatal ? await end.describe(fatal) : undefined;
  const counts = disposer.counts;
  const summary = summaryOf({
    ...end,
    counts: end.args.extract ? { ...counts, extraction: disposer.extraction } : counts,
    exitCode,
    interrupted,
    error: why,
  });
  const { seconds } = summary;
  const summaryPath = join(layout.reportsDir, "summary.json");
  try {
    log.write({ event: "end", ...summary });
    await writeSummary(layout.reportsDir, summary, end.state.tempDir);
  } catch (error) {
    // The reports folder gave out at the very end: say so, and still close the run cleanly.
    if (!fatal) reporter.error(reasonOf(error));
  } finally {
    log.close();
  }
  const page = { summary, logPath: log.path, logStart: log.start, tempDir: end.state.tempDir };
  await writeRunPage(page).catch((error) => reporter.warn(reasonOf(error)));
  await writeMetrics(end.outputs).catch((error) => reporter.warn(reasonOf(error)));
  // Under --json the summary is the last event: the run's warnings come before it.
  if (interrupted) reporter.warn("interrupted: files not yet settled were left in place");
  reporter.event({ event: "summary", ...summary });
  if (why) reporter.error(why);
  const stopped = why ?? (interrupted ? "interrupted" : undefined);
  reporter.finish({ counts, seconds, logPath: log.path, summaryPath, stopped });
  return exitCode;
}
