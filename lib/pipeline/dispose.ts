/**
 * The dispose sink: every settled file gets its response file, its reports
 * (decoded and safely extracted) when malicious, a move (or copy) into the
 * folder of its state at the same relative path, and a log line.
 *
 * A verdict belongs to the bytes that were scanned: the file is checked
 * against the version that was hashed just before it is moved and once it
 * is in its new place, and a file that changed is never published as
 * benign (it stays where it is and ends unresolved; a malicious one is
 * still quarantined). Every move is journaled, so a kill at any instant is
 * finished by the next run. Nothing is overwritten (names clash into
 * numbered ones), a failed move leaves the file where it was and says why,
 * and a te_eb early malicious verdict quarantines at once; if the final
 * verdict differs, it wins and the file moves again.
 *
 * @module
 */

import { join } from "node:path";
import { reasonOf, ReportsFolderError } from "../fs/errors.ts";
import { FileChangedError, type FileIdentity, identityOf, sameVersion } from "../fs/identity.ts";
import type { Journal } from "../fs/journal.ts";
import { copyNoClobber, exists, moveFile, type PlaceOptions } from "../fs/move.ts";
import type { RunLog } from "../fs/run_log.ts";
import { ReportFiles } from "./report_files.ts";
import type {
  EarlyVerdict,
  FinalState,
  HashedFile,
  Outcome,
  PipelineItem,
  ScanFile,
  Settled,
} from "./types.ts";
import { isHashed } from "./types.ts";
import { TaskPool } from "./task_pool.ts";
import { addFindings, type FindingFields } from "./clean.ts";

/** Where each state's files go; a missing folder leaves those files in place. */
export interface Folders {
  benign?: string;
  malicious?: string;
  error?: string;
}

/** Options of a {@linkcode Disposer}. */
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
  return { benign: 0, malicious: 0, error: 0, skipped: 0, uploaded: 0, duplicates: 0, bytes: 0 };
}

const FOLDER_OF: Record<FinalState, keyof Folders | undefined> = {
  benign: "benign",
  malicious: "malicious",
  error: "error",
  skipped: undefined,
};

/** A file quarantined by an early verdict, waiting for its final one. */
interface EarlyPlace {
  /** Where it is now. */
  path: string;
  /** Its identity there (a copy to another filesystem is a new file). */
  identity?: FileIdentity;
  /** Its journal record, closed once the final verdict is applied. */
  record?: number;
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
 * Settles files on disk. One instance per run.
 *
 * @example A benign file moves to the benign folder
 * ```ts
 * import { Disposer } from "./dispose.ts";
 * import { RunLog } from "../fs/run_log.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "fine");
 * const log = await RunLog.open(`${dir}/log.jsonl`);
 * const disposer = new Disposer({
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
export class Disposer {
  readonly counts: DisposeCounts = zeroCounts();
  /** Settled files still at their input path (report-only, copied, skipped, a failed move). */
  stayed = 0;
  /** Files quarantined by an early verdict: the path they were scanned at → where they are. */
  readonly #early = new Map<string, EarlyPlace>();
  readonly #reports: ReportFiles;

  constructor(readonly options: DisposeOptions) {
    this.#reports = new ReportFiles(options.reportsDir, options.tempDir);
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
      // A followed link's identity is its target's: the link itself is checked apart.
      expect: file.target ? undefined : hashed?.identity,
      strict: !moved,
      sha1: file.target ? undefined : hashed?.sha1,
    };
  }

  async #earlyVerdict(item: EarlyVerdict): Promise<void> {
    const { file } = item;
    const jail = this.options.folders.malicious;
    const event = { event: "early", file: file.relPath, sha1: file.sha1 };
    // Links and copies wait for the final verdict, which acts on the content.
    if (!jail || this.options.copy || file.target || this.#early.has(file.path)) {
      this.options.log.write(event);
      return;
    }
    try {
      const awaiting = { relPath: file.relPath, sha1: file.sha1, md5: file.md5, size: file.size };
      const placed = await moveFile(file.path, join(jail, file.relPath), {
        ...this.#placeOptions(file, false),
        // Erring towards quarantine is allowed: a changed file is quarantined all the same.
        expect: undefined,
        awaiting,
      });
      const identity = identityOf(Deno.lstatSync(placed.path));
      this.#early.set(file.path, { path: placed.path, record: placed.openRecord, identity });
      this.options.log.write({ ...event, destination: placed.path });
      this.options.onFile?.({
        relPath: file.relPath,
        path: file.path,
        state: "malicious",
        verdict: "malicious",
        sha1: file.sha1,
        size: file.size,
        disposition: "early",
        destination: placed.path,
        reason: item.reason ?? "te_eb early verdict; final verdict and report follow",
      });
    } catch (error) {
      this.options.log.write({ ...event, reason: `cannot quarantine early: ${reasonOf(error)}` });
    }
  }

  async #settled(item: Settled): Promise<void> {
    if (item.duplicateOf !== undefined) this.counts.duplicates++;
    const d = this.#disposal(item);
    await this.#writeReports(d);
    await this.#place(d);
    d.notes.push(...await addFindings(d.record, d.file, d.outcome, this.options.clean));
    this.#finish(d);
  }

  /** The file's state after its early verdict (if any) and the final answer. */
  #disposal(item: Settled): Disposal {
    const { file, outcome } = item;
    const early = this.#early.get(file.path);
    this.#early.delete(file.path);
    const notes = [...(outcome.reportErrors ?? [])];
    let state = outcome.state;
    let reason = outcome.reason;
    if (early && state === "error") {
      // The early verdict was malicious; a missing final answer does not make it safe.
      notes.push(`final verdict not received (${reason}); kept in quarantine on the early verdict`);
      state = "malicious";
      reason = undefined;
    } else if (early && state === "benign") {
      notes.push("final verdict benign overrides the early malicious verdict");
    }
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
      // Without AV the md5 was not computed; the appliance's answer carries it.
      const md5 = file.md5 ?? outcome.response?.md5;
      if (md5) record.md5 = md5;
      if (outcome.response?.sha256) record.sha256 = outcome.response.sha256;
    }
    if (item.duplicateOf) record.duplicateOf = item.duplicateOf;
    return { file, outcome, record, notes, early };
  }

  async #writeReports(d: Disposal): Promise<void> {
    const reports = d.record.state === "malicious" ? d.outcome.reports ?? [] : [];
    try {
      const sha1 = isHashed(d.file) ? d.file.sha1 : undefined;
      const written = await this.#reports.write(d.file.relPath, d.outcome.response, reports, sha1);
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

  /** Moves (or copies) the file into the folder of its state, or leaves it and says why. */
  async #place(d: Disposal): Promise<void> {
    const { record, file, outcome, early } = d;
    const key = FOLDER_OF[record.state];
    const folder = key && !outcome.keepInPlace ? this.options.folders[key] : undefined;
    if (early && record.state === "malicious") return this.#at(d, early.path, "moved");
    if (file.target && record.state === "malicious" && folder) {
      return await this.#contain(d, folder);
    }
    if (!folder) return early ? this.#at(d, early.path, "moved") : undefined;
    const current = early?.path ?? file.path;
    const target = join(folder, file.relPath);
    try {
      if (file.target) this.#checkLinkTarget(file);
      const options = this.#placeOptions(file, early !== undefined);
      if (early?.identity) options.expect = early.identity;
      if (this.options.copy) {
        this.#at(d, await copyNoClobber(current, target, options), "copied");
      } else this.#at(d, (await moveFile(current, target, options)).path, "moved");
    } catch (error) {
      await this.#placeFailed(d, error, current, target);
    }
  }

  #at(d: Disposal, destination: string, disposition: FileRecord["disposition"]): void {
    d.record.destination = destination;
    d.record.disposition = disposition;
  }

  async #placeFailed(d: Disposal, error: unknown, current: string, target: string): Promise<void> {
    if (error instanceof ReportsFolderError) throw error;
    const { record, early } = d;
    if (early) this.#at(d, early.path, "moved");
    if (!(error instanceof FileChangedError)) {
      // The move guarantees the file is still where it was, if it still is anywhere.
      const gone = !(await exists(current));
      d.notes.push(gone ? "gone from the input before it could be moved" : reasonOf(error));
      if (record.state !== "malicious") record.state = "error";
      return;
    }
    if (record.state === "malicious" && !this.options.copy) {
      // Erring towards quarantine: the changed file is quarantined all the same.
      try {
        const moved = await moveFile(current, target, { journal: this.options.journal });
        this.#at(d, moved.path, "moved");
        d.notes.push(
          "changed while being scanned; quarantined on the verdict of the scanned bytes",
        );
        return;
      } catch (again) {
        d.notes.push(reasonOf(again));
        return;
      }
    }
    record.state = "error";
    record.reason = "changed while being scanned";
    if (early) d.notes.push("left in quarantine");
  }

  /** A followed link is published only while its target is the version that was scanned. */
  #checkLinkTarget(file: ScanFile): void {
    const hashed = isHashed(file) ? file : undefined;
    if (!hashed?.identity) return;
    const now = identityOf(Deno.statSync(file.path));
    if (!sameVersion(hashed.identity, now)) {
      throw new FileChangedError("changed while being scanned");
    }
  }

  /**
   * A malicious followed link: the verdict acts on the content. A target
   * inside the input is quarantined and the link removed with it; a target
   * outside it is not ours to move, and the operator is told where it is.
   */
  async #contain(d: Disposal, jail: string): Promise<void> {
    const target = d.file.target!;
    if (target.relPath === undefined || this.options.copy) {
      d.notes.push(`not contained: the malicious bytes are at ${target.path}`);
      return;
    }
    if (!(await exists(target.path))) {
      // Its own entry (or a copy of it) was quarantined first: only the link is left.
      await Deno.remove(d.file.path).catch(() => {});
      d.notes.push(`the link's target ${target.relPath} was already quarantined; link removed`);
      return;
    }
    try {
      const options = {
        ...this.#placeOptions(d.file, false),
        expect: (d.file as HashedFile).identity,
      };
      const placed = await moveFile(target.path, join(jail, target.relPath), options);
      await Deno.remove(d.file.path).catch(() => {});
      this.#at(d, placed.path, "moved");
      d.notes.push(`the link's target ${target.relPath} was quarantined and the link removed`);
    } catch (error) {
      d.notes.push(`not contained: ${reasonOf(error)}; the malicious bytes are at ${target.path}`);
    }
  }

  #finish(d: Disposal): void {
    const { record, notes, file, outcome, early } = d;
    if (notes.length) record.reason = [record.reason, ...notes].filter(Boolean).join("; ");
    if (early?.record !== undefined) this.options.journal?.done(early.record);
    this.counts[record.state]++;
    if (record.disposition === "left" || record.disposition === "copied") this.stayed++;
    if (outcome.uploaded) this.counts.uploaded++;
    this.counts.bytes += file.size;
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
 * The sink stage over a {@linkcode Disposer}. Up to `concurrency` files are
 * settled at once, so one file's disk latency does not hold up the next;
 * items about the same content (an early quarantine, then the final
 * verdict; a followed link and its target) are handled one after the
 * other, in the order they came.
 *
 * @example Settle a stream of files
 * ```ts
 * import { Disposer, disposeSink } from "./dispose.ts";
 * import type { PipelineItem } from "./types.ts";
 * import { RunLog } from "../fs/run_log.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "fine");
 * const log = await RunLog.open(`${dir}/log.jsonl`);
 * const folders = { benign: `${dir}/out` };
 * const disposer = new Disposer({ reportsDir: `${dir}/rep`, folders, copy: false, log });
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
  disposer: Disposer,
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
