/**
 * The dispose sink: every settled file gets its response file, its reports
 * (decoded and safely extracted) when malicious, a move (or copy) into the
 * folder of its state at the same relative path, and a log line.
 *
 * A verdict belongs to the bytes that were scanned: the file is checked
 * against the version that was hashed (and its folders against the input
 * folder, see `lib/fs/confine.ts`) just before it is moved and once it is
 * in its new place, and a file that changed is never moved on that verdict
 * (it stays where it is and ends unresolved; a malicious one is reported
 * not quarantined). A file reached through a followed link is never moved.
 * Quarantined files are made inert. Every move is journaled, so a kill at any instant is
 * finished by the next run. Nothing is overwritten (names clash into
 * numbered ones), a failed move leaves the file where it was and says why,
 * and a te_eb early malicious verdict quarantines at once; if the final
 * verdict differs, it wins and the file moves again.
 *
 * What each of these ends as (state, disposition, reason, uncontained) is
 * decided in `final_state.ts`; the {@linkcode Settler} here does the I/O.
 *
 * @module
 */

import { join } from "node:path";
import { ReportsFolderError } from "../fs/errors.ts";
import { reasonOf } from "../util/reason.ts";
import { changeModeOpened, type Confinement, confinementOf, makeInert } from "../fs/confine.ts";
import { FileChangedError, type FileIdentity } from "../fs/identity.ts";
import type { Journal } from "../fs/journal.ts";
import { copyNoClobber, exists, moveFile, type PlaceOptions } from "../fs/move.ts";
import type { RunLog } from "../fs/run_log.ts";
import { ReportFiles } from "./report_files.ts";
import type {
  EarlyVerdict,
  FinalState,
  Outcome,
  PipelineItem,
  ScanFile,
  Settled,
} from "./types.ts";
import { isHashed } from "./types.ts";
import { TaskPool } from "./task_pool.ts";
import {
  addFindings,
  countExtraction,
  type ExtractionCounts,
  type FindingFields,
} from "./clean.ts";
import { threatFinding } from "./threat.ts";
import {
  finalState,
  FOLDER_OF,
  type FolderKey,
  intendedState,
  type Placement,
  placementPlan,
  type Settlement,
} from "./final_state.ts";

/** Where each state's files go; a missing folder leaves those files in place. */
export interface Folders {
  benign?: string;
  malicious?: string;
  error?: string;
}

/** Options of a {@linkcode Settler}. */
export interface DisposeOptions {
  reportsDir: string;
  folders: Folders;
  /** Copy instead of move: the input stays untouched. */
  copy: boolean;
  /** Where cleaned copies go (`--clean`, with `--extract`). */
  clean?: string;
  log: RunLog;
  /** Records every move before it happens (see `lib/fs/journal.ts`). */
  journal?: Journal;
  /** Where report files are written before they get their names (emptied at each start). */
  tempDir?: string;
  /** The input folder: a file is moved only while every folder on its path is a real one inside. */
  input?: string;
  /** Told about every file, for the console. */
  onFile?: (record: FileRecord) => void;
}

/** What happened to one input file. */
export interface FileRecord extends FindingFields {
  relPath: string;
  /** The absolute path the file was scanned at. */
  path?: string;
  state: FinalState;
  verdict?: string;
  sha1?: string;
  md5?: string;
  /** From the appliance's answer, which carries it. */
  sha256?: string;
  size: number;
  /** The mode a file moved into `--jail` or `--error` had (octal) before it was made inert. */
  originalMode?: string;
  /** `moved`, `copied`, `left` (report-only, skipped, or a failed move), or `early`. */
  disposition: "moved" | "copied" | "left" | "early";
  destination?: string;
  reason?: string;
  responseFile?: string;
  reportFiles?: string[];
  reportDir?: string;
  uploaded?: boolean;
  early?: boolean;
  /** The appliance that answered. */
  via?: string;
  /** The file whose content this one shares (emulated once for both). */
  duplicateOf?: string;
  elapsedMs?: number;
  /** The TE engine that emulated the file (`te.te_engine_version`, asked for with `version_info`). */
  teEngineVersion?: string;
  /** Malicious, a quarantine was asked for, and the file could not be put there (exit 4). */
  uncontained?: true;
}

/** Counts per state, for the summary and the exit code. */
export interface DisposeCounts {
  benign: number;
  malicious: number;
  error: number;
  skipped: number;
  uploaded: number;
  duplicates: number;
  bytes: number;
  /** Malicious files that could not be quarantined (counted in `malicious` too). */
  uncontained: number;
  /** Files not reached because the run stopped (set when it ends). */
  left_in_place?: number;
  /** Entries `--exclude` left out (set when it ends). */
  excluded?: number;
}

/**
 * Counts before any file settled.
 *
 * @example Every count starts at zero
 * ```ts
 * import { zeroCounts } from "./dispose.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(Object.values(zeroCounts()).every((n) => n === 0));
 * ```
 */
export function zeroCounts(): DisposeCounts {
  return {
    benign: 0,
    malicious: 0,
    error: 0,
    skipped: 0,
    uploaded: 0,
    duplicates: 0,
    bytes: 0,
    uncontained: 0,
  };
}

/** The mode a file had before it was made inert, or why it could not be. */
interface Inert {
  originalMode?: string;
  failure?: string;
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, "0");
}

/** A file quarantined by an early verdict, waiting for its final one. */
interface EarlyPlace {
  /** Where it is now. */
  path: string;
  /** Its identity there (a copy to another filesystem is a new file). */
  identity?: FileIdentity;
  /** Its journal record, closed once the final verdict is applied. */
  record?: number;
  /** The mode it had before it was made inert (octal). */
  originalMode?: string;
}

/** A file on its way through the sink: what will be logged about it. */
interface Disposal {
  file: ScanFile;
  outcome: Outcome;
  record: FileRecord;
  notes: string[];
  early?: EarlyPlace;
}

/**
 * Takes exec, setuid and setgid off a file placed in quarantine (or the
 * error folder); returns the mode it was scanned with, as octal.
 */
function inertAt(path: string, placed?: FileIdentity, hashed?: FileIdentity): Inert {
  let current: number | undefined;
  let failure: string | undefined;
  try {
    current = makeInert(path, placed?.ino ?? Deno.lstatSync(path).ino ?? 0);
  } catch (error) {
    failure = `cannot take the exec bits off: ${reasonOf(error)}`;
  }
  const original = hashed?.mode ?? current;
  return { originalMode: original === undefined ? undefined : octal(original), failure };
}

/**
 * The answer as its response file keeps it: for a file on its way to
 * `--jail` or `--error`, where it is made inert, with the mode it had
 * (`original_mode`, octal), so that it can be given back.
 */
function withOriginalMode(d: Disposal, folders: Folders): Disposal["outcome"]["response"] {
  const { response } = d.outcome;
  const key = FOLDER_OF[d.record.state];
  const mode = isHashed(d.file) ? d.file.identity?.mode : undefined;
  if (!response || key === "benign" || !key || !folders[key] || mode === undefined) {
    return response;
  }
  return { ...response, original_mode: octal(mode) };
}

/** A file placed in `--jail` or `--error` is made inert; its mode before is recorded. */
function quarantined(d: Disposal, destination: string, placed?: FileIdentity): void {
  const hashed = isHashed(d.file) ? d.file.identity : undefined;
  const { originalMode, failure } = inertAt(destination, placed, hashed);
  if (originalMode !== undefined) d.record.originalMode = originalMode;
  if (failure) d.notes.push(failure);
}

/** A file leaving quarantine on a benign final verdict gets back the mode it had. */
function modeBack(
  d: Disposal,
  destination: string,
  originalMode: string,
  placed?: FileIdentity,
): void {
  try {
    const ino = placed?.ino ?? Deno.lstatSync(destination).ino ?? 0;
    changeModeOpened(destination, ino, () => parseInt(originalMode, 8));
  } catch (error) {
    d.notes.push(`cannot give back its mode ${originalMode}: ${reasonOf(error)}`);
  }
}

/** The log record of a settled file, in `state` with `reason`, before it is placed. */
function recordOf(item: Settled, state: FinalState, reason?: string): FileRecord {
  const { file, outcome } = item;
  const record: FileRecord = {
    relPath: file.relPath,
    path: file.path,
    state,
    verdict: outcome.verdict,
    size: file.size,
    disposition: "left",
    uploaded: outcome.uploaded,
    early: outcome.early,
    via: outcome.via,
    elapsedMs: outcome.elapsedMs,
  };
  if (reason) record.reason = reason;
  if (isHashed(file)) {
    record.sha1 = file.sha1;
    // Every hashed file has its md5 (hash.ts); the answer's is only a fallback.
    const md5 = file.md5 ?? outcome.response?.md5;
    if (md5) record.md5 = md5;
    if (outcome.response?.sha256) record.sha256 = outcome.response.sha256;
    const engine = outcome.response?.te?.te_engine_version;
    if (engine) record.teEngineVersion = engine;
  }
  if (item.duplicateOf) record.duplicateOf = item.duplicateOf;
  return record;
}

/** Writes a file's final state (see `final_state.ts`) into its record and notes. */
function settle(d: Disposal, final: Settlement): void {
  const { record } = d;
  Object.assign(record, { state: final.state, disposition: final.disposition });
  if (final.destination !== undefined) record.destination = final.destination;
  if (final.reason) record.reason = final.reason;
  else delete record.reason;
  d.notes.push(...final.notes);
}

/**
 * A malicious file that a quarantine was asked for and that is not in it
 * (the move failed, the file changed or went, it may not be moved) is
 * uncontained: its line says so first, with where the bytes are.
 */
async function notContained(d: Disposal): Promise<void> {
  d.record.uncontained = true;
  const where = d.file.target?.path ?? d.file.path;
  d.notes.unshift(
    await exists(where)
      ? `NOT quarantined: the file is still at ${where}`
      : `NOT quarantined: ${where} went away before it could be moved`,
  );
}

/**
 * Settles files on disk. One instance per run.
 *
 * @example A benign file moves to the benign folder
 * ```ts
 * import { Settler } from "./dispose.ts";
 * import { RunLog } from "../fs/run_log.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "fine");
 * const log = await RunLog.open(`${dir}/log.jsonl`);
 * const disposer = new Settler({
 *   reportsDir: `${dir}/rep`,
 *   folders: { benign: `${dir}/out` },
 *   copy: false,
 *   log,
 * });
 * await disposer.handle({
 *   kind: "settled",
 *   file: { path: `${dir}/a.txt`, relPath: "a.txt", size: 4, mtimeMs: 0 },
 *   outcome: { state: "benign", verdict: "benign" },
 * });
 * log.close();
 * assert.equal(await Deno.readTextFile(`${dir}/out/a.txt`), "fine");
 * assert.equal(disposer.counts.benign, 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Settler {
  readonly counts: DisposeCounts = zeroCounts();
  /** Threat Extraction outcomes of settled files (with `--extract`). */
  readonly extraction: ExtractionCounts = { cleaned: 0, failed: 0, skipped: 0 };
  /** Settled files still at their input path (report-only, copied, skipped, a failed move). */
  stayed = 0;
  /** Files quarantined by an early verdict: the path they were scanned at → where they are. */
  readonly #early = new Map<string, EarlyPlace>();
  readonly #reports: ReportFiles;
  readonly #confine?: Confinement;

  constructor(readonly options: DisposeOptions) {
    this.#reports = new ReportFiles(options.reportsDir, options.tempDir);
    if (options.input !== undefined) this.#confine = confinementOf(options.input);
  }

  /** Files quarantined early and still waiting for their final verdict. */
  get awaitingFinal(): number {
    return this.#early.size;
  }

  /** Handles one pipeline item (jobs never reach the sink). */
  async handle(item: PipelineItem): Promise<void> {
    if (item.kind === "settled") await this.#settled(item);
    else if (item.kind === "early") await this.#earlyVerdict(item);
  }

  /**
   * Takes over a file a killed run quarantined early (its journal record is
   * still open): its final verdict, when it comes, is applied where it is.
   */
  resumeEarly(path: string, record: number): void {
    this.#early.set(path, { path, record });
  }

  #placeOptions(file: ScanFile, moved: boolean): PlaceOptions {
    const hashed = isHashed(file) ? file : undefined;
    return {
      journal: this.options.journal,
      expect: hashed?.identity,
      strict: !moved,
      sha1: hashed?.sha1,
      // Once moved, the file is in a folder of the run's own, no longer on the input's path.
      confine: moved ? undefined : this.#confine,
    };
  }

  async #earlyVerdict(item: EarlyVerdict): Promise<void> {
    const { file } = item;
    const jail = this.options.folders.malicious;
    const threat = threatFinding(item.response);
    const event = { event: "early", file: file.relPath, sha1: file.sha1, threat };
    // Links and copies wait for the final verdict, which acts on the content.
    if (!jail || this.options.copy || file.target || this.#early.has(file.path)) {
      this.options.log.write(event);
      return;
    }
    try {
      const awaiting = { relPath: file.relPath, sha1: file.sha1, md5: file.md5, size: file.size };
      // Only the hashed version is quarantined on its verdict, and its hashed identity is what
      // the final move compares against: bytes changed meanwhile never reach another folder.
      const placed = await moveFile(file.path, join(jail, file.relPath), {
        ...this.#placeOptions(file, false),
        awaiting,
      });
      const { identity } = placed;
      const { originalMode, failure } = inertAt(placed.path, identity, file.identity);
      const early = { path: placed.path, record: placed.openRecord, identity, originalMode };
      this.#early.set(file.path, early);
      this.options.log.write({ ...event, destination: placed.path, originalMode, reason: failure });
      this.options.onFile?.({
        relPath: file.relPath,
        path: file.path,
        state: "malicious",
        verdict: "malicious",
        sha1: file.sha1,
        size: file.size,
        disposition: "early",
        destination: placed.path,
        threat,
        reason: item.reason ?? "te_eb early verdict; final verdict and report follow",
      });
    } catch (error) {
      const reason = `cannot quarantine early: ${reasonOf(error)}; not quarantined`;
      this.options.log.write({ ...event, reason });
    }
  }

  async #settled(item: Settled): Promise<void> {
    if (item.duplicateOf !== undefined) this.counts.duplicates++;
    const d = this.#disposal(item);
    await this.#writeReports(d);
    const final = finalState({
      state: item.outcome.state,
      reason: item.outcome.reason,
      early: d.early?.path,
      placement: await this.#place(d),
      jail: this.options.folders.malicious !== undefined,
    });
    settle(d, final);
    d.notes.push(...await addFindings(d.record, d.file, d.outcome, this.options.clean));
    if (final.uncontained) {
      this.counts.uncontained++;
      await notContained(d);
    }
    this.#finish(d);
  }

  /** The file's record, in the state it is placed by (see `final_state.ts`). */
  #disposal(item: Settled): Disposal {
    const { file, outcome } = item;
    const early = this.#early.get(file.path);
    this.#early.delete(file.path);
    const notes = [...(outcome.reportErrors ?? [])];
    const { state, reason } = intendedState(outcome.state, outcome.reason, early !== undefined);
    return { file, outcome, record: recordOf(item, state, reason), notes, early };
  }

  async #writeReports(d: Disposal): Promise<void> {
    // A benign file has reports only when --benign-reports asked for them.
    const kept = d.record.state === "malicious" || d.record.state === "benign";
    const reports = kept ? d.outcome.reports ?? [] : [];
    try {
      const response = withOriginalMode(d, this.options.folders);
      const sha1 = isHashed(d.file) ? d.file.sha1 : undefined;
      const written = await this.#reports.write(d.file.relPath, response, reports, sha1);
      Object.assign(d.record, {
        responseFile: written.responseFile,
        reportFiles: written.reportFiles,
        reportDir: written.reportDir,
      });
      d.notes.push(...written.notes);
    } catch (error) {
      // Without its record the file must not move on: the run stops, this file stays put.
      throw new ReportsFolderError(this.options.reportsDir, error);
    }
  }

  /** Moves (or copies) the file into the folder of its state, or leaves it; says what it did. */
  async #place(d: Disposal): Promise<Placement> {
    const { record, file, outcome, early } = d;
    const key = FOLDER_OF[record.state];
    const folder = key && !outcome.keepInPlace ? this.options.folders[key] : undefined;
    if (early?.originalMode !== undefined) record.originalMode = early.originalMode;
    const at = { early: early !== undefined, linked: file.target !== undefined, folder: !!folder };
    switch (placementPlan(record.state, at)) {
      case "stay-early":
        return { kind: "stayed-early" };
      case "leave-linked":
        return { kind: "linked", at: file.target!.path };
      case "leave":
        return { kind: "left" };
    }
    const current = early?.path ?? file.path;
    try {
      return await this.#move(d, current, join(folder!, file.relPath), key!);
    } catch (error) {
      if (error instanceof ReportsFolderError) throw error;
      if (error instanceof FileChangedError) return { kind: "changed", detail: error.message };
      // The move guarantees the file is still where it was, if it still is anywhere.
      const gone = !(await exists(current));
      return {
        kind: "failed",
        detail: gone ? "gone from the input before it could be moved" : reasonOf(error),
      };
    }
  }

  async #move(d: Disposal, current: string, target: string, key: FolderKey): Promise<Placement> {
    const { file, early } = d;
    const options = this.#placeOptions(file, early !== undefined);
    if (early?.identity) options.expect = early.identity;
    if (this.options.copy) {
      const destination = await copyNoClobber(current, target, options);
      if (key !== "benign") quarantined(d, destination);
      return { kind: "placed", how: "copied", destination };
    }
    const moved = await moveFile(current, target, options);
    if (key !== "benign") quarantined(d, moved.path, moved.identity);
    else if (early?.originalMode !== undefined) {
      modeBack(d, moved.path, early.originalMode, moved.identity);
    }
    return { kind: "placed", how: "moved", destination: moved.path };
  }

  #finish(d: Disposal): void {
    const { record, notes, file, outcome, early } = d;
    if (notes.length) record.reason = [record.reason, ...notes].filter(Boolean).join("; ");
    if (early?.record !== undefined) this.options.journal?.done(early.record);
    this.counts[record.state]++;
    if (record.disposition === "left" || record.disposition === "copied") this.stayed++;
    if (outcome.uploaded) this.counts.uploaded++;
    this.counts.bytes += file.size;
    countExtraction(this.extraction, record.extraction);
    this.options.log.write({ event: "file", file: record.relPath, ...record });
    this.options.onFile?.(record);
  }
}

/**
 * Files settled at once. Each waits a moment for its journal record to be
 * flushed together with others' (see `lib/fs/journal.ts`); enough of them
 * must be under way for one flush to carry many moves. Each holds only its
 * answer, so this costs little memory.
 */
const SETTLING_AT_ONCE = 64;

/**
 * The sink stage over a {@linkcode Settler}. Up to `concurrency` files are
 * settled at once, so one file's disk latency does not hold up the next;
 * items about the same content (an early quarantine, then the final
 * verdict; a followed link and its target) are handled one after the
 * other, in the order they came.
 *
 * @example Settle a stream of files
 * ```ts
 * import { Settler, disposeSink } from "./dispose.ts";
 * import type { PipelineItem } from "./types.ts";
 * import { RunLog } from "../fs/run_log.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "fine");
 * const log = await RunLog.open(`${dir}/log.jsonl`);
 * const folders = { benign: `${dir}/out` };
 * const disposer = new Settler({ reportsDir: `${dir}/rep`, folders, copy: false, log });
 * await ReadableStream.from<PipelineItem>([{
 *   kind: "settled",
 *   file: { path: `${dir}/a.txt`, relPath: "a.txt", size: 4, mtimeMs: 0 },
 *   outcome: { state: "benign", verdict: "benign" },
 * }]).pipeTo(disposeSink(disposer, 8));
 * log.close();
 * assert.equal(await Deno.readTextFile(`${dir}/out/a.txt`), "fine");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function disposeSink(
  disposer: Settler,
  concurrency = SETTLING_AT_ONCE,
): WritableStream<PipelineItem> {
  const pool = new TaskPool(concurrency);
  const lastOfContent = new Map<string, Promise<void>>();
  return new WritableStream({
    async write(item) {
      const key = isHashed(item.file) ? item.file.sha1 : item.file.path;
      const before = lastOfContent.get(key);
      let done!: () => void;
      const tail = new Promise<void>((resolve) => (done = resolve));
      lastOfContent.set(key, tail);
      await pool.run(async () => {
        try {
          await before;
          await disposer.handle(item);
        } finally {
          if (lastOfContent.get(key) === tail) lastOfContent.delete(key);
          done();
        }
      });
    },
    close: () => pool.drain(),
    // Let the files being moved finish moving: never leave one half-placed.
    abort: () => pool.drain().catch(() => {}),
  });
}
