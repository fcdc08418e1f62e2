/**
 * The dispose sink: every settled file gets its response file, its reports
 * (decoded and safely extracted) when malicious, a move (or copy) into the
 * folder of its state at the same relative path, and a log line.
 *
 * Nothing is overwritten (names clash into numbered ones), a failed move
 * leaves the file where it was and says why, and a te_eb early malicious
 * verdict quarantines at once; if the final verdict differs, it wins and the
 * file moves again.
 *
 * @example
 * ```ts
 * import { Disposer, disposeSink } from "./dispose.ts";
 * import { RunLog } from "../fs/run_log.ts";
 * const disposer = new Disposer({
 *   reportsDir: "/tmp/rep",
 *   folders: { benign: "/tmp/out", malicious: "/tmp/jail", error: "/tmp/err" },
 *   copy: false,
 *   log: await RunLog.open("/tmp/rep/te-scan.log.jsonl"),
 * });
 * const sink = disposeSink(disposer);
 * ```
 * @module
 */

import { dirname, join } from "node:path";
import { reasonOf } from "../fs/errors.ts";
import { copyNoClobber, moveNoClobber, numberedName, writeFileNoClobber } from "../fs/move.ts";
import type { RunLog } from "../fs/run_log.ts";
import type {
  DownloadedReport,
  EarlyVerdict,
  FinalState,
  Outcome,
  PipelineItem,
  ScanFile,
  Settled,
} from "./types.ts";
import { isHashed } from "./types.ts";
import { extractTarGz } from "../fs/tar.ts";
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
  /** Told about every file, for the console. */
  onFile?: (record: FileRecord) => void;
}

/** What happened to one input file. */
export interface FileRecord extends FindingFields {
  relPath: string;
  state: FinalState;
  verdict?: string;
  sha1?: string;
  md5?: string;
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
}

const FOLDER_OF: Record<FinalState, keyof Folders | undefined> = {
  benign: "benign",
  malicious: "malicious",
  error: "error",
  skipped: undefined,
};

const REPORT_EXTENSION: Record<DownloadedReport["format"], string> = {
  summary: "tar.gz",
  full_report: "full.tar.gz",
  pdf: "pdf",
  xml: "xml",
  tar: "tar",
};

async function freshDirectory(path: string): Promise<string> {
  await Deno.mkdir(dirname(path), { recursive: true });
  for (let n = 0;; n++) {
    const candidate = numberedName(path, n);
    try {
      await Deno.mkdir(candidate);
      return candidate;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  }
}

/**
 * Settles files on disk. One instance per run.
 *
 * @example
 * ```ts
 * import { Disposer } from "./dispose.ts";
 * declare const disposer: Disposer;
 * disposer.counts.malicious; // 0
 * ```
 */
export class Disposer {
  readonly counts: DisposeCounts = {
    benign: 0,
    malicious: 0,
    error: 0,
    skipped: 0,
    uploaded: 0,
    duplicates: 0,
    bytes: 0,
  };
  /** Files quarantined by an early verdict: input path → where they are now. */
  readonly #early = new Map<string, string>();

  constructor(readonly options: DisposeOptions) {}

  /** Handles one pipeline item (jobs never reach the sink). */
  async handle(item: PipelineItem): Promise<void> {
    if (item.kind === "settled") await this.#settled(item);
    else if (item.kind === "early") await this.#earlyVerdict(item);
  }

  async #earlyVerdict(item: EarlyVerdict): Promise<void> {
    const jail = this.options.folders.malicious;
    for (const file of [item.file]) {
      if (!jail || this.options.copy) {
        this.options.log.write({ event: "early", file: file.relPath, sha1: file.sha1 });
        continue;
      }
      try {
        const placed = await moveNoClobber(file.path, join(jail, file.relPath));
        this.#early.set(file.path, placed);
        this.options.log.write({
          event: "early",
          file: file.relPath,
          sha1: file.sha1,
          destination: placed,
        });
        this.options.onFile?.({
          relPath: file.relPath,
          state: "malicious",
          verdict: "malicious",
          sha1: file.sha1,
          size: file.size,
          disposition: "early",
          destination: placed,
          reason: item.reason ?? "te_eb early verdict; final verdict and report follow",
        });
      } catch (error) {
        this.options.log.write({
          event: "early",
          file: file.relPath,
          sha1: file.sha1,
          reason: `cannot quarantine early: ${reasonOf(error)}`,
        });
      }
    }
  }

  async #settled(item: Settled): Promise<void> {
    if (item.duplicateOf !== undefined) this.counts.duplicates++;
    await this.#one(item.file, item.outcome, item.duplicateOf);
  }

  async #one(file: ScanFile, outcome: Outcome, duplicateOf?: string): Promise<void> {
    const { reportsDir, folders, copy, log } = this.options;
    let state = outcome.state;
    let reason = outcome.reason;
    const notes: string[] = [...(outcome.reportErrors ?? [])];
    const earlyPlace = this.#early.get(file.path);
    this.#early.delete(file.path);
    if (earlyPlace && state === "error") {
      // The early verdict was malicious; a missing final answer does not make it safe.
      notes.push(`final verdict not received (${reason}); kept in quarantine on the early verdict`);
      state = "malicious";
      reason = undefined;
    } else if (earlyPlace && state === "benign") {
      notes.push("final verdict benign overrides the early malicious verdict");
    }
    const record: FileRecord = {
      relPath: file.relPath,
      state,
      verdict: outcome.verdict,
      size: file.size,
      disposition: "left",
      uploaded: outcome.uploaded,
      early: outcome.early,
      elapsedMs: outcome.elapsedMs,
    };
    if (isHashed(file)) {
      record.sha1 = file.sha1;
      // Without AV the md5 was not computed; the appliance's answer carries it.
      const md5 = file.md5 ?? outcome.response?.md5;
      if (md5) record.md5 = md5;
    }
    if (duplicateOf) record.duplicateOf = duplicateOf;
    const base = join(reportsDir, file.relPath);
    try {
      if (outcome.response) {
        record.responseFile = await writeFileNoClobber(
          `${base}.response.json`,
          JSON.stringify(outcome.response, null, 2) + "\n",
          { durable: false },
        );
      }
      if (state === "malicious" && outcome.reports?.length) {
        await this.#writeReports(base, outcome.reports, record, notes);
      }
    } catch (error) {
      notes.push(`cannot write report files: ${reasonOf(error)}`);
    }
    const folderKey = FOLDER_OF[state];
    const folder = folderKey && !outcome.keepInPlace ? folders[folderKey] : undefined;
    const current = earlyPlace ?? file.path;
    if (earlyPlace && state === "malicious") {
      record.disposition = "moved";
      record.destination = earlyPlace;
    } else if (folder && !(copy && earlyPlace)) {
      try {
        const target = join(folder, file.relPath);
        record.destination = copy
          ? await copyNoClobber(current, target)
          : await moveNoClobber(current, target);
        record.disposition = copy ? "copied" : "moved";
      } catch (error) {
        // The move guarantees the file is still where it was.
        notes.push(reasonOf(error));
        if (state !== "malicious") state = "error";
        record.state = state;
        if (earlyPlace) record.destination = earlyPlace;
      }
    } else if (earlyPlace) {
      record.destination = earlyPlace;
      record.disposition = "moved";
    }
    notes.push(...await addFindings(record, file, outcome, this.options.clean));
    if (reason) record.reason = reason;
    if (notes.length) record.reason = [reason, ...notes].filter(Boolean).join("; ");
    this.counts[record.state]++;
    if (outcome.uploaded) this.counts.uploaded++;
    this.counts.bytes += file.size;
    log.write({ event: "file", file: record.relPath, path: file.path, ...record });
    this.options.onFile?.(record);
  }

  async #writeReports(
    base: string,
    reports: DownloadedReport[],
    record: FileRecord,
    notes: string[],
  ): Promise<void> {
    record.reportFiles = [];
    for (const report of reports) {
      const path = await writeFileNoClobber(
        `${base}.report.${REPORT_EXTENSION[report.format]}`,
        report.bytes,
        { durable: false },
      );
      record.reportFiles.push(path);
      if (report.format !== "summary") continue;
      const dir = await freshDirectory(`${base}_report`);
      record.reportDir = dir;
      try {
        const result = await extractTarGz(ReadableStream.from([report.bytes]), dir);
        for (const refused of result.refused) {
          notes.push(`report member ${JSON.stringify(refused.name)} refused: ${refused.reason}`);
        }
      } catch (error) {
        notes.push(`report archive not extracted: ${reasonOf(error)}`);
      }
    }
  }
}

/**
 * The sink stage over a {@linkcode Disposer}. Up to `concurrency` files are
 * settled at once, so one file's disk latency does not hold up the next;
 * items about the same file (an early quarantine, then the final verdict)
 * are handled in the order they came.
 *
 * @example
 * ```ts ignore
 * import { Disposer, disposeSink } from "./dispose.ts";
 * declare const disposer: Disposer;
 * const sink: WritableStream = disposeSink(disposer, 8);
 * ```
 */
export function disposeSink(disposer: Disposer, concurrency = 8): WritableStream<PipelineItem> {
  const pool = new TaskPool(concurrency);
  const lastOfFile = new Map<string, Promise<void>>();
  return new WritableStream({
    async write(item) {
      const key = item.file.path;
      const before = lastOfFile.get(key);
      let done!: () => void;
      const tail = new Promise<void>((resolve) => (done = resolve));
      lastOfFile.set(key, tail);
      await pool.run(async () => {
        try {
          await before;
          await disposer.handle(item);
        } finally {
          if (lastOfFile.get(key) === tail) lastOfFile.delete(key);
          done();
        }
      });
    },
    close: () => pool.drain(),
    // Let the files being moved finish moving: never leave one half-placed.
    abort: () => pool.drain().catch(() => {}),
  });
}
