/**
 * The run journal: an append-only write-ahead record in the reports folder,
 * so that a run killed at any instant loses, doubles or half-writes
 * nothing. Before each irreversible step ("moving X to Y, inode N, partial
 * P"; "quarantined early, awaiting the final verdict") a record is written
 * and flushed to disk; when the step is complete a `done` record closes it.
 * The next run replays the records left open before it scans anything.
 *
 * Flushes are grouped, as a database commits: a record waits up to
 * `groupMs` for others to join it, and every record appended while a flush
 * is under way rides on the next one, so concurrent moves share one
 * `fdatasync`. On ext4 a sync also holds up every other change to the
 * filesystem until it commits, so one sync per file would halve the rate of
 * a run whose files are already known. `done` records are not flushed on
 * their own: a lost one only makes the next replay look at a step that is
 * already complete, which it recognises.
 *
 * Only open records are kept in memory (one per file in flight), and the
 * file is compacted to them whenever it has grown past a threshold, so it
 * does not grow without bound over a watch service's life.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { sleep } from "../util/sleep.ts";
import { ReportsFolderError } from "./errors.ts";
import { reasonOf } from "../util/reason.ts";

/** A file awaiting its final verdict after a te_eb early quarantine. */
export interface AwaitingVerdict {
  /** The path relative to the input folder (kept in every destination). */
  relPath: string;
  sha1: string;
  md5?: string;
  size: number;
  /** The target that has the content (its label). */
  via?: string;
}

/** An open step: a move (possibly of a file then awaiting its verdict). */
export interface MoveRecord {
  t: "move";
  id: number;
  src: string;
  /** The exact name the file is being given. */
  dest: string;
  /** Device and inode of the source (the same file under `dest` once linked). */
  dev: number;
  ino: number;
  /** The temporary copy on the destination's filesystem (cross-filesystem moves). */
  partial?: string;
  /** Set when the file, once moved, awaits its final verdict (early quarantine). */
  awaiting?: AwaitingVerdict;
}

/** Closes an open record. */
interface DoneRecord {
  t: "done";
  id: number;
}

type Line = MoveRecord | DoneRecord;

/** Options of {@linkcode Journal.open}. */
export interface JournalOptions {
  /** Compact once the file is larger than this many bytes; default 1 MiB. */
  compactBytes?: number;
  /** Flush to disk before irreversible steps; default true (tests of crashes keep it). */
  durable?: boolean;
  /** How long a record waits for others to share its flush; default 2 ms. */
  groupMs?: number;
}

const encoder = new TextEncoder();

/**
 * The journal of one reports folder. One run at a time holds it (see the
 * lock in `lock.ts`).
 *
 * @example Record a move, close it, and find nothing open on the next run
 * ```ts
 * import { Journal } from "./journal.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const journal = await Journal.open(`${dir}/journal.jsonl`);
 * const id = await journal.begin({ src: "/in/a", dest: "/out/a", dev: 1, ino: 2 });
 * assert.equal(journal.open.length, 1);
 * journal.done(id);
 * await journal.close();
 * const again = await Journal.open(`${dir}/journal.jsonl`);
 * assert.deepEqual(again.open, []);
 * await again.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Journal {
  #file: Deno.FsFile;
  readonly #open = new Map<number, MoveRecord>();
  readonly #options: Required<JournalOptions>;
  #nextId: number;
  #bytes: number;
  #pending: Uint8Array[] = [];
  #flushing?: Promise<void>;
  /** The next grouped durable flush, gathering records until it starts. */
  #commit?: Promise<void>;
  #syncs = 0;
  #failure?: Error;

  private constructor(
    readonly path: string,
    file: Deno.FsFile,
    open: MoveRecord[],
    bytes: number,
    options: JournalOptions,
  ) {
    this.#file = file;
    for (const record of open) this.#open.set(record.id, record);
    this.#nextId = Math.max(0, ...open.map((r) => r.id)) + 1;
    this.#bytes = bytes;
    this.#options = { compactBytes: 1 << 20, durable: true, groupMs: 2, ...options };
  }

  /** Opens (creating if needed) the journal at `path` and reads the records left open. */
  static async open(path: string, options: JournalOptions = {}): Promise<Journal> {
    await Deno.mkdir(dirname(path), { recursive: true });
    let text = "";
    try {
      text = await Deno.readTextFile(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        throw new Error(`Cannot read the journal ${path}: ${reasonOf(error)}`);
      }
    }
    const file = await Deno.open(path, { append: true, create: true });
    return new Journal(path, file, readOpenRecords(text), encoder.encode(text).length, options);
  }

  /** How many times the journal has been flushed to disk (grouping keeps this low). */
  get syncs(): number {
    return this.#syncs;
  }

  /** The records still open, oldest first. */
  get open(): MoveRecord[] {
    return [...this.#open.values()];
  }

  /**
   * Records a step about to happen and resolves once the record is on disk.
   * Returns its id, for {@linkcode Journal.done}.
   */
  async begin(step: Omit<MoveRecord, "t" | "id">): Promise<number> {
    const record: MoveRecord = { t: "move", id: this.#nextId++, ...step };
    this.#open.set(record.id, record);
    await this.#append(record, this.#options.durable);
    return record.id;
  }

  /**
   * Closes a record: its step is complete (or was undone). The line waits
   * for the next write: a lost one only makes the next replay look at a
   * step it finds complete.
   */
  done(id: number): void {
    if (!this.#open.delete(id)) return;
    this.#pending.push(encoder.encode(JSON.stringify({ t: "done", id }) + "\n"));
  }

  /** Flushes what is buffered, compacts when everything is done, and closes the file. */
  async close(): Promise<void> {
    try {
      await this.#flush(false);
      if (this.#open.size === 0 && !this.#failure) await this.#compact();
    } finally {
      this.#file.close();
    }
  }

  async #append(line: Line, durable: boolean): Promise<void> {
    if (this.#failure) throw this.#failure;
    this.#pending.push(encoder.encode(JSON.stringify(line) + "\n"));
    await (durable ? this.#nextCommit() : this.#flush(false));
  }

  /** The grouped durable flush the records appended now will ride on. */
  #nextCommit(): Promise<void> {
    this.#commit ??= sleep(this.#options.groupMs).then(() => {
      this.#commit = undefined;
      return this.#flush(true);
    });
    return this.#commit;
  }

  /** Writes every buffered line in one write; one sync covers them all. */
  async #flush(durable: boolean): Promise<void> {
    while (this.#flushing) await this.#flushing;
    if (!this.#pending.length) return;
    const lines = this.#pending;
    this.#pending = [];
    this.#flushing = (async () => {
      const bytes = new Uint8Array(lines.reduce((n, l) => n + l.length, 0));
      let offset = 0;
      for (const line of lines) {
        bytes.set(line, offset);
        offset += line.length;
      }
      for (let written = 0; written < bytes.length;) {
        written += this.#file.writeSync(bytes.subarray(written));
      }
      this.#bytes += bytes.length;
      if (durable) {
        this.#syncs++;
        await this.#file.syncData();
      }
      if (this.#bytes > this.#options.compactBytes) await this.#compact();
    })().catch((error) => {
      this.#failure = new ReportsFolderError(dirname(dirname(this.path)), error);
      throw this.#failure;
    }).finally(() => {
      this.#flushing = undefined;
    });
    await this.#flushing;
  }

  /** Rewrites the journal to its open records (nothing, when all are done). */
  async #compact(): Promise<void> {
    const text = this.open.map((r) => JSON.stringify(r) + "\n").join("");
    const temp = join(dirname(this.path), `.journal-${crypto.randomUUID()}.tmp`);
    await Deno.writeTextFile(temp, text);
    if (this.#options.durable) {
      using handle = await Deno.open(temp, { read: true, write: true });
      await handle.syncData();
    }
    await Deno.rename(temp, this.path);
    // The appending handle still points at the old file: append to the new one from now on.
    this.#file.close();
    this.#file = await Deno.open(this.path, { append: true });
    this.#bytes = encoder.encode(text).length;
  }
}

/** The records a journal's text leaves open; a torn last line (a kill mid-write) is ignored. */
function readOpenRecords(text: string): MoveRecord[] {
  const open = new Map<number, MoveRecord>();
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    let parsed: Line;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    if (parsed.t === "move" && typeof parsed.id === "number") open.set(parsed.id, parsed);
    else if (parsed.t === "done") open.delete(parsed.id);
  }
  return [...open.values()];
}
