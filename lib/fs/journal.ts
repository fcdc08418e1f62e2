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
 * The journal lies in the reports folder, which others may be able to
 * write: nothing read back is trusted. Each line carries a checksum of its
 * body (`"c"`, a short SHA-256), so a torn or edited line is caught; each
 * record must have exactly the fields, of the types, that the writer
 * writes. A line that fails is kept in {@linkcode Journal.rejected} (its
 * line number and why) and never acted on; junk never stops a run. Where
 * a record's paths may point is checked by the replay (`replay.ts`).
 *
 * @module
 */

import { createHash } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { sleep } from "../util/sleep.ts";
import { concatBytes } from "../util/bytes.ts";
import { ReportsFolderError } from "./errors.ts";
import { reasonOf } from "../util/reason.ts";
import { lstatOrUndefined } from "../util/stat.ts";

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

/** A journal line that was not acted on, and why. */
export interface JournalProblem {
  /** Its line number in the journal file, from 1. */
  line: number;
  reason: string;
}

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
    await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const problems: JournalProblem[] = [];
    let opened: { file: Deno.FsFile; text: string; existed: boolean };
    try {
      opened = await openOwnFile(path, problems);
    } catch (error) {
      throw new Error(`Cannot read the journal ${path}: ${reasonOf(error)}`);
    }
    const { file, text, existed } = opened;
    // A line torn by a kill has no newline: the next record must not be glued to it.
    if (text !== "" && !text.endsWith("\n")) file.writeSync(encoder.encode("\n"));
    const read = readOpenRecords(text);
    const journal = new Journal(path, file, read.open, encoder.encode(text).length, options);
    journal.rejected.push(...problems, ...read.rejected);
    journal.#lines = read.lines;
    journal.existed = existed;
    return journal;
  }

  /** Whether the file was there when opened (a lost journal may have left files behind). */
  existed = true;

  /** Lines read at open that were not acted on (torn, edited, or not what the writer writes). */
  readonly rejected: JournalProblem[] = [];
  /** The line each record read at open came from. */
  #lines = new Map<number, number>();

  /** The journal line a record read at open came from (for messages). */
  lineOf(id: number): number | undefined {
    return this.#lines.get(id);
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
    this.#pending.push(encoder.encode(sealed({ t: "done", id })));
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
    this.#pending.push(encoder.encode(sealed(line)));
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
    const text = this.open.map(sealed).join("");
    const temp = join(dirname(this.path), `.journal-${crypto.randomUUID()}.tmp`);
    await Deno.writeTextFile(temp, text, { mode: 0o600 });
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

/**
 * Opens the journal file itself, never what a link in its place points to
 * (the next run reads and appends to it): anything but a regular file
 * there is set aside, renamed and never followed, and said so; a file
 * swapped in while it is opened is refused.
 */
async function openOwnFile(
  path: string,
  problems: JournalProblem[],
): Promise<{ file: Deno.FsFile; text: string; existed: boolean }> {
  const before = await lstatOrUndefined(path);
  if (before && !before.isFile) {
    const aside = `${path}.refused-${crypto.randomUUID()}`;
    await Deno.rename(path, aside);
    problems.push({
      line: 0,
      reason: `the journal is not a regular file (a symbolic link?); set aside as ${
        basename(aside)
      }`,
    });
  }
  const file = await Deno.open(path, { read: true, append: true, create: true, mode: 0o600 });
  try {
    const opened = await file.stat();
    const now = await Deno.lstat(path);
    if (!now.isFile || opened.dev !== now.dev || opened.ino !== now.ino) {
      throw new Error("it was replaced while being opened");
    }
    const chunks: Uint8Array[] = [];
    for (let n = 0; n < opened.size;) {
      const chunk = new Uint8Array(Math.min(1 << 20, opened.size - n));
      const read = await file.read(chunk);
      if (read === null) break;
      chunks.push(chunk.subarray(0, read));
      n += read;
    }
    const text = new TextDecoder().decode(concatBytes(chunks));
    return { file, text, existed: before?.isFile === true };
  } catch (error) {
    file.close();
    throw error;
  }
}

/** The checksum of a line's body: a short SHA-256, enough to catch a torn or edited line. */
function checksum(body: string): string {
  return createHash("sha256").update(body).digest("hex").slice(0, 16);
}

/** A line as written: the record's JSON with its checksum as the last field. */
function sealed(line: Line): string {
  const body = JSON.stringify(line);
  return `${body.slice(0, -1)},"c":"${checksum(body)}"}\n`;
}

/** What a journal's text leaves open, the lines refused, and where each record came from. */
interface ReadRecords {
  open: MoveRecord[];
  rejected: JournalProblem[];
  lines: Map<number, number>;
}

/**
 * The records a journal's text leaves open. A line that is not a sealed
 * record the writer would write (a torn last line after a kill, junk, an
 * edit) is refused and said why; it never stops the reading.
 */
function readOpenRecords(text: string): ReadRecords {
  const read: ReadRecords = { open: [], rejected: [], lines: new Map() };
  const open = new Map<number, MoveRecord>();
  for (const [index, line] of text.split("\n").entries()) {
    if (!line.trim()) continue;
    const parsed = parseLine(line);
    if (typeof parsed === "string") {
      read.rejected.push({ line: index + 1, reason: parsed });
    } else if (parsed.t === "done") {
      open.delete(parsed.id);
    } else if (open.has(parsed.id)) {
      read.rejected.push({ line: index + 1, reason: `record ${parsed.id} is already open` });
    } else {
      open.set(parsed.id, parsed);
      read.lines.set(parsed.id, index + 1);
    }
  }
  read.open = [...open.values()];
  return read;
}

/** One line's record, or why it is refused. */
function parseLine(line: string): Line | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return "not JSON (torn by a kill, or edited)";
  }
  if (!isObject(value)) return "not a record";
  const { c, ...body } = value;
  if (typeof c !== "string") return "no checksum";
  if (checksum(JSON.stringify(body)) !== c) return "checksum mismatch (torn or edited)";
  return body.t === "done" ? doneRecord(body) : moveRecord(body);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const isId = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
const isText = (v: unknown) => typeof v === "string" && v !== "";
const isHex = (length: number) => (v: unknown) =>
  typeof v === "string" && new RegExp(`^[0-9a-f]{${length}}$`).test(v);

/** Each field the writer writes, and the test its value must pass; `?` marks optional ones. */
type Fields = Record<string, (value: unknown) => boolean>;

const MOVE_FIELDS: Fields = {
  t: (v) => v === "move",
  id: isId,
  src: isText,
  dest: isText,
  dev: isId,
  ino: isId,
  "partial?": isText,
  "awaiting?": (v) => isObject(v) && fieldsProblem(v, AWAITING_FIELDS) === undefined,
};

const AWAITING_FIELDS: Fields = {
  relPath: isText,
  sha1: isHex(40),
  "md5?": isHex(32),
  size: isId,
  "via?": isText,
};

/** Why `record` is not what the writer writes (a missing, unknown or mistyped field). */
function fieldsProblem(record: Record<string, unknown>, fields: Fields): string | undefined {
  for (const [key, valid] of Object.entries(fields)) {
    const name = key.replace(/\?$/, "");
    if (record[name] === undefined && key.endsWith("?")) continue;
    if (!valid(record[name])) return `field ${name} is missing or not what te-scan writes`;
  }
  const known = new Set(Object.keys(fields).map((key) => key.replace(/\?$/, "")));
  const unknown = Object.keys(record).find((key) => !known.has(key));
  return unknown === undefined ? undefined : `unknown field ${JSON.stringify(unknown)}`;
}

function moveRecord(body: Record<string, unknown>): MoveRecord | string {
  if (body.t !== "move") return `unknown kind ${JSON.stringify(body.t)}`;
  return fieldsProblem(body, MOVE_FIELDS) ?? body as unknown as MoveRecord;
}

function doneRecord(body: Record<string, unknown>): DoneRecord | string {
  return fieldsProblem(body, { t: (v) => v === "done", id: isId }) ?? body as unknown as DoneRecord;
}
