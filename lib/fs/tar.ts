/**
 * Safely extracting gzip-compressed tar archives (`.tar.gz`): the report
 * archives downloaded from an appliance, treated as hostile.
 *
 * It streams (a member is never held in memory), writes only regular files
 * and folders strictly inside the destination, never follows or overwrites
 * anything already there, and stops at size limits so that a decompression
 * bomb cannot fill the disk. Members it will not write are refused one by one
 * with a reason; a broken archive is one {@linkcode TarExtractError} with a
 * one-line message.
 *
 * @module
 */

import { join } from "node:path";
import { concatBytes } from "../util/bytes.ts";

/**
 * Bounds for {@linkcode extractTarGz}. Sizes are bytes of member content
 * (skipped members count too, so junk cannot keep the CPU busy either).
 *
 * @example An archive with more members than allowed is refused
 * ```ts
 * import { type ExtractLimits, extractTarGz, TarExtractError } from "./tar.ts";
 * import { tarGz } from "../emulator/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const archive = await tarGz([{ name: "a", data: "a" }, { name: "b", data: "b" }]);
 * const small: ExtractLimits = { maxEntries: 1, maxTotalBytes: 50 * 2 ** 20 };
 * await assert.rejects(
 *   extractTarGz(ReadableStream.from([archive]), dir, small),
 *   TarExtractError,
 * );
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface ExtractLimits {
  /** Most members the archive may have (default 10,000). */
  maxEntries?: number;
  /** Most content bytes over all members (default 512 MiB). */
  maxTotalBytes?: number;
  /** Most content bytes in one member (default 256 MiB). */
  maxEntryBytes?: number;
}

/**
 * A member that {@linkcode extractTarGz} did not write, and why.
 */
export interface RefusedMember {
  /** The member's name as the archive spells it. */
  name: string;
  reason: string;
}

/**
 * What {@linkcode extractTarGz} wrote. Paths are relative to the destination
 * and use `/` on every platform.
 */
export interface ExtractResult {
  /** Regular files written, in archive order. */
  files: string[];
  /** Folders created, in creation order (implied parents included). */
  directories: string[];
  refused: RefusedMember[];
  /** Bytes written to files. */
  bytes: number;
}

/**
 * A corrupt, truncated, non-gzip or over-limit archive. The message is one
 * line meant for the user, e.g. `report archive is truncated: …`.
 *
 * @example Something that is not gzip is refused
 * ```ts
 * import { extractTarGz, TarExtractError } from "./tar.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await assert.rejects(extractTarGz(new Blob(["not gzip"]).stream(), dir), TarExtractError);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class TarExtractError extends Error {
  override name = "TarExtractError";
}

const BLOCK = 512;
const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

// ------------------------------------------------------------- extracting --

const DEFAULT_LIMITS: Required<ExtractLimits> = {
  maxEntries: 10_000,
  maxTotalBytes: 512 * 2 ** 20,
  maxEntryBytes: 256 * 2 ** 20,
};

/** Pax and GNU long-name data is held in memory, so it gets a small bound of its own. */
const MAX_META_BYTES = 1 << 20;
/** More metadata headers in a row than any writer emits means a broken or hostile archive. */
const MAX_META_HEADERS = 32;
/**
 * Deno's DecompressionStream inflates each input chunk into one output chunk,
 * so 300 KiB of gzip can become one 300 MiB buffer. Feeding it slices this
 * small keeps every output chunk under ~8 MiB.
 */
const INFLATE_SLICE = 8 * 1024;
/** Zero padding after the end marker is read (so gzip's checksum is checked) up to this much. */
const MAX_TRAILING_BYTES = 1 << 20;

/**
 * Extracts a `.tar.gz` stream into `destDir` (created if missing), safely.
 *
 * Writes only regular files and folders, strictly inside `destDir`, through
 * folders this call created itself; never follows a link, never overwrites
 * anything. Every other member (links, devices, FIFOs, absolute or `..`
 * paths, duplicates, …) is refused with a reason and extraction goes on.
 * File modes keep only the owner's execute bit (0o755 or 0o644).
 *
 * Throws {@linkcode TarExtractError} for a corrupt, truncated or non-gzip
 * archive and when a limit is exceeded; files written before that stay, a
 * partly written file is removed.
 *
 * @example Extract a report archive, refusing a path that climbs out
 * ```ts
 * import { extractTarGz } from "./tar.ts";
 * import { tarGz } from "../emulator/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const archive = await tarGz([
 *   { name: "report/summary.html", data: "<h1>r</h1>" },
 *   { name: "../evil", data: "x" },
 * ]);
 * const result = await extractTarGz(new Blob([archive]).stream(), dir);
 * assert.deepEqual(result.files, ["report/summary.html"]);
 * assert.deepEqual(result.refused.map((r) => r.name), ["../evil"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function extractTarGz(
  source: ReadableStream<Uint8Array>,
  destDir: string,
  limits: ExtractLimits = {},
): Promise<ExtractResult> {
  const limit = { ...DEFAULT_LIMITS, ...limits };
  let destination: Destination;
  try {
    await Deno.mkdir(destDir, { recursive: true });
    destination = new Destination(await Deno.realPath(destDir));
  } catch (error) {
    // An unread HTTP body would keep its connection busy.
    await source.cancel(error).catch(() => {});
    throw error;
  }
  // The DOM typings want ArrayBuffer-backed chunks; stream chunks never view shared memory.
  const gzip = ReadableStream.from(gzipInput(source) as AsyncIterable<Uint8Array<ArrayBuffer>>);
  const input = new ByteReader(gzip.pipeThrough(new DecompressionStream("gzip")));
  try {
    let totalBytes = 0;
    for (let index = 1;; index++) {
      const member = await readMember(input, index);
      if (!member) break;
      if (index > limit.maxEntries) {
        throw tooLarge(`it has more than ${limit.maxEntries} entries`);
      }
      const size = contentSize(member);
      if (size > limit.maxEntryBytes) {
        throw tooLarge(
          `${describe(member)} holds ${size} bytes, over the ${limit.maxEntryBytes}-byte limit`,
        );
      }
      totalBytes += size;
      if (totalBytes > limit.maxTotalBytes) {
        throw tooLarge(`its entries hold over the ${limit.maxTotalBytes}-byte limit in total`);
      }
      await extractMember(member, size, input, destination);
      await input.skip(padding(size), describe(member));
    }
    input.archiveEnded = true;
    await input.drain(MAX_TRAILING_BYTES);
  } catch (error) {
    await input.cancel(error);
    throw error;
  }
  return destination.result;
}

/**
 * Reads a `.tar.gz` archive through to its end without writing anything, so
 * that an archive cut short in transit is caught before it is published.
 * Throws {@linkcode TarExtractError} for a truncated, corrupt or non-gzip
 * archive; returns the number of members.
 *
 * @example A whole archive and one cut short
 * ```ts
 * import { TarExtractError, verifyTarGz } from "./tar.ts";
 * import { tarGz } from "../emulator/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const archive = await tarGz([{ name: "report.html", data: "<h1>r</h1>".repeat(900) }]);
 * assert.equal(await verifyTarGz(archive), 1);
 * await assert.rejects(verifyTarGz(archive.subarray(0, archive.length - 20)), TarExtractError);
 * ```
 */
export async function verifyTarGz(archive: Uint8Array): Promise<number> {
  const source = ReadableStream.from([archive]);
  const gzip = ReadableStream.from(gzipInput(source) as AsyncIterable<Uint8Array<ArrayBuffer>>);
  const input = new ByteReader(gzip.pipeThrough(new DecompressionStream("gzip")));
  let members = 0;
  try {
    for (let index = 1;; index++) {
      const member = await readMember(input, index);
      if (!member) break;
      members++;
      const size = contentSize(member);
      await input.skip(size + padding(size), describe(member));
    }
    input.archiveEnded = true;
    await input.drain(MAX_TRAILING_BYTES);
  } catch (error) {
    await input.cancel(error);
    throw error;
  }
  return members;
}

function tooLarge(why: string): TarExtractError {
  return new TarExtractError(`report archive is too large: ${why}`);
}

function truncated(why: string): TarExtractError {
  return new TarExtractError(`report archive is truncated: ${why}`);
}

function corrupt(why: string): TarExtractError {
  return new TarExtractError(`report archive is corrupt: ${why}`);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The raw source, checked for gzip's magic bytes and cut into {@linkcode INFLATE_SLICE}s. */
async function* gzipInput(source: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = source.getReader();
  let finished = false;
  let head: Uint8Array = EMPTY;
  try {
    for (;;) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (error) {
        throw new TarExtractError(`report archive could not be read: ${messageOf(error)}`, {
          cause: error,
        });
      }
      if (next.done) break;
      if (head.length < 2) {
        // The magic may arrive split over chunks, so hold bytes until two are known.
        head = concatBytes([head, next.value]);
        if (head.length < 2) continue;
        checkGzipMagic(head);
        yield* slices(head);
      } else {
        yield* slices(next.value);
      }
    }
    finished = true;
    if (head.length === 0) throw new TarExtractError("report archive is empty (no bytes)");
    if (head.length < 2) checkGzipMagic(head);
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

function checkGzipMagic(head: Uint8Array): void {
  if (head[0] === 0x1f && head[1] === 0x8b) return;
  const start = head.subarray(0, 8);
  const hex = [...start].map((byte) => byte.toString(16).padStart(2, "0")).join(" ");
  const text = [...start].map((byte) =>
    byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : "."
  )
    .join("");
  throw new TarExtractError(
    `report archive is not a gzip stream (it starts with ${hex} "${text}")`,
  );
}

function* slices(chunk: Uint8Array): Generator<Uint8Array> {
  for (let offset = 0; offset < chunk.length; offset += INFLATE_SLICE) {
    yield chunk.subarray(offset, offset + INFLATE_SLICE);
  }
}

/** Pulls exact byte counts out of the decompressed stream without copying file data. */
class ByteReader {
  /** Set once the tar end marker is read: a gzip error after it no longer means truncation. */
  archiveEnded = false;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #chunk: Uint8Array = EMPTY;
  #offset = 0;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  /** Up to `max` next bytes as a view, or undefined at the end of the stream. */
  async #next(max: number): Promise<Uint8Array | undefined> {
    while (this.#offset >= this.#chunk.length) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await this.#reader.read();
      } catch (error) {
        throw error instanceof TarExtractError ? error : this.#gzipFailure(error);
      }
      if (next.done) return undefined;
      this.#chunk = next.value;
      this.#offset = 0;
    }
    const view = this.#chunk.subarray(this.#offset, this.#offset + max);
    this.#offset += view.length;
    return view;
  }

  #gzipFailure(error: unknown): TarExtractError {
    const detail = messageOf(error);
    // Deno reports a cut-short gzip stream and a bad CRC alike, as a checksum
    // mismatch at the end; and output queued before that error is dropped, so
    // even a whole archive with a bad CRC can look unfinished here.
    if (/checksum/i.test(detail)) {
      return this.archiveEnded
        ? corrupt("its gzip checksum does not match")
        : truncated("the gzip data ends before the tar archive does (or fails its checksum)");
    }
    if (/whole buffer/i.test(detail)) return corrupt("unexpected data after the gzip stream");
    return corrupt(`gzip: ${detail}`);
  }

  /** `size` bytes as one copied buffer; shorter only when the stream ends first. */
  async read(size: number): Promise<Uint8Array> {
    const bytes = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const view = await this.#next(size - filled);
      if (!view) return bytes.subarray(0, filled);
      bytes.set(view, filled);
      filled += view.length;
    }
    return bytes;
  }

  /** Exactly `size` bytes as a series of views; `what` names them if the stream ends first. */
  async *take(size: number, what: string): AsyncGenerator<Uint8Array> {
    let got = 0;
    while (got < size) {
      const view = await this.#next(size - got);
      if (!view) throw truncated(`${what} ends after ${got} of ${size} bytes`);
      got += view.length;
      yield view;
    }
  }

  async skip(size: number, what: string): Promise<void> {
    for await (const _ of this.take(size, what)) { /* discarded */ }
  }

  /** Reads what follows the end marker so that gzip's own checks run, within a bound. */
  async drain(limit: number): Promise<void> {
    let seen = 0;
    for (let view = await this.#next(Infinity); view; view = await this.#next(Infinity)) {
      seen += view.length;
      if (seen > limit) break;
    }
    await this.cancel();
  }

  async cancel(reason?: unknown): Promise<void> {
    await this.#reader.cancel(reason).catch(() => {});
    this.#reader.releaseLock();
  }
}

/** One logical member, after pax and GNU long-name headers are applied. */
interface Member {
  index: number;
  name: string;
  linkName: string;
  typeflag: string;
  size: number;
  mode: number;
  /** Seconds since the epoch, when the header has a valid one. */
  mtime?: number;
  /** Set by GNU sparse pax records: the data is not the file's content. */
  sparse: boolean;
}

function describe(member: Member): string {
  const name = member.name.length > 80 ? member.name.slice(0, 77) + "..." : member.name;
  return `entry ${member.index} (${JSON.stringify(name)})`;
}

/** Reads headers up to and including the next real member; undefined at the end marker. */
async function readMember(input: ByteReader, index: number): Promise<Member | undefined> {
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax = new Map<string, Uint8Array>();
  for (let meta = 0;; meta++) {
    if (meta > MAX_META_HEADERS) {
      throw corrupt(`more than ${MAX_META_HEADERS} metadata headers before entry ${index}`);
    }
    const block = await input.read(BLOCK);
    if (block.length === 0 && meta === 0) return undefined;
    if (block.length < BLOCK) throw truncated(`it ends inside the header of entry ${index}`);
    if (block.every((byte) => byte === 0)) {
      if (meta === 0) return undefined;
      throw corrupt(`entry ${index} has metadata headers but no header of its own`);
    }
    const header = parseHeader(block, index);
    if (header.typeflag === "L" || header.typeflag === "K") {
      const text = stripTrailingNuls(await readMeta(input, header.size, index));
      if (header.typeflag === "L") longName = text;
      else longLink = text;
    } else if (header.typeflag === "x") {
      pax = parsePax(await readMeta(input, header.size, index), index);
    } else if (header.typeflag === "g") {
      // Global pax headers are ignored on purpose: one record would rename every member.
      await input.skip(header.size + padding(header.size), `entry ${index}'s global header`);
    } else {
      return applyPax({ ...header, index, sparse: false, ...longNames(longName, longLink) }, pax);
    }
  }
}

function longNames(name?: string, linkName?: string): { name?: string; linkName?: string } {
  return { ...(name !== undefined && { name }), ...(linkName !== undefined && { linkName }) };
}

async function readMeta(input: ByteReader, size: number, index: number): Promise<Uint8Array> {
  if (size > MAX_META_BYTES) {
    throw corrupt(`entry ${index} has a ${size}-byte metadata header (the limit is 1 MiB)`);
  }
  const data = await input.read(size);
  if (data.length < size) throw truncated(`it ends inside entry ${index}'s metadata`);
  await input.skip(padding(size), `entry ${index}'s metadata`);
  return data;
}

function stripTrailingNuls(bytes: Uint8Array): string {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return decoder.decode(bytes.subarray(0, end));
}

function applyPax(member: Member, pax: Map<string, Uint8Array>): Member {
  const path = pax.get("path");
  const linkPath = pax.get("linkpath");
  const size = pax.get("size");
  if (path) member.name = decoder.decode(path);
  if (linkPath) member.linkName = decoder.decode(linkPath);
  if (size) {
    const text = decoder.decode(size);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
      throw corrupt(`entry ${member.index} has a bad pax size ${JSON.stringify(text)}`);
    }
    member.size = Number(text);
  }
  member.sparse = [...pax.keys()].some((key) => key.startsWith("GNU.sparse."));
  return member;
}

function parsePax(data: Uint8Array, index: number): Map<string, Uint8Array> {
  const records = new Map<string, Uint8Array>();
  const bad = () => corrupt(`bad pax header at entry ${index}`);
  let offset = 0;
  // Some writers pad the record area with NULs.
  while (offset < data.length && data[offset] !== 0) {
    const space = data.indexOf(0x20, offset);
    if (space < 0) throw bad();
    const lengthText = decoder.decode(data.subarray(offset, space));
    const end = offset + Number(lengthText);
    if (!/^\d+$/.test(lengthText) || end <= space + 1 || end > data.length) throw bad();
    if (data[end - 1] !== 0x0a) throw bad();
    const record = data.subarray(space + 1, end - 1);
    const equals = record.indexOf(0x3d);
    if (equals < 0) throw bad();
    records.set(decoder.decode(record.subarray(0, equals)), record.subarray(equals + 1));
    offset = end;
  }
  return records;
}

type Header = Omit<Member, "index" | "sparse">;

function parseHeader(block: Uint8Array, index: number): Header {
  verifyChecksum(block, index);
  const magic = decoder.decode(block.subarray(257, 263));
  // Old GNU tar ("ustar  \0") keeps other data where POSIX has the prefix field.
  const prefix = magic === "ustar\u0000" ? cString(block, 345, 155) : "";
  const name = cString(block, 0, 100);
  const size = parseNumber(block, 124, 12);
  if (size === undefined) throw corrupt(`bad size field at entry ${index}`);
  return {
    name: prefix ? `${prefix}/${name}` : name,
    linkName: cString(block, 157, 100),
    typeflag: String.fromCharCode(block[156]),
    size,
    mode: parseNumber(block, 100, 8) ?? 0o644,
    mtime: parseNumber(block, 136, 12),
  };
}

function verifyChecksum(block: Uint8Array, index: number): void {
  const stored = parseNumber(block, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : block[i];
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  // Some historic writers summed signed chars; both are accepted as tar does.
  if (stored !== unsigned && stored !== signed) {
    throw corrupt(`bad tar header checksum at entry ${index}`);
  }
}

function cString(block: Uint8Array, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return decoder.decode(end < 0 ? field : field.subarray(0, end));
}

/** Octal text, or GNU base-256 (high bit set) for values too big for octal. */
function parseNumber(block: Uint8Array, offset: number, length: number): number | undefined {
  const field = block.subarray(offset, offset + length);
  if (field[0] & 0x80) {
    if (field[0] === 0xff) return undefined; // negative
    let value = field[0] & 0x7f;
    for (const byte of field.subarray(1)) value = value * 256 + byte;
    return Number.isSafeInteger(value) ? value : undefined;
  }
  const text = cString(block, offset, length).trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) return undefined;
  const value = parseInt(text, 8);
  return Number.isSafeInteger(value) ? value : undefined;
}

const REGULAR_TYPEFLAGS = new Set(["0", "\u0000", "7"]);

const HEADER_ONLY_TYPES: Record<string, string> = {
  "1": "hard link",
  "2": "symbolic link",
  "3": "character device",
  "4": "block device",
  "5": "folder",
  "6": "FIFO",
};

/** Content bytes that follow the header; link, device and folder headers carry none. */
function contentSize(member: Member): number {
  return member.typeflag in HEADER_ONLY_TYPES ? 0 : member.size;
}

type Plan =
  | { kind: "file" | "directory"; parts: string[] }
  | { kind: "refuse"; reason: string };

function planMember(member: Member): Plan {
  const refuse = (reason: string): Plan => ({ kind: "refuse", reason });
  const { typeflag } = member;
  if (typeflag === "1" || typeflag === "2") {
    return refuse(
      `${HEADER_ONLY_TYPES[typeflag]} to ${JSON.stringify(member.linkName)} is not extracted`,
    );
  }
  if (typeflag === "3" || typeflag === "4" || typeflag === "6") {
    return refuse(`${HEADER_ONLY_TYPES[typeflag]} is not extracted`);
  }
  if (typeflag !== "5" && !REGULAR_TYPEFLAGS.has(typeflag)) {
    return refuse(`unsupported entry type ${JSON.stringify(typeflag)}`);
  }
  if (member.sparse) return refuse("sparse file (GNU pax) is not supported");
  const unsafe = unsafeNameReason(member.name);
  if (unsafe) return refuse(unsafe);
  const parts = member.name.split("/").filter((part) => part !== "" && part !== ".");
  // Pre-POSIX tars mark folders only by the trailing slash.
  const isDirectory = typeflag === "5" || member.name.endsWith("/");
  if (!isDirectory && parts.length === 0) return refuse("names the destination folder itself");
  return { kind: isDirectory ? "directory" : "file", parts };
}

function unsafeNameReason(name: string): string | undefined {
  if (name === "") return "empty name";
  if (name.includes("\u0000")) return "name contains a NUL byte";
  // deno-lint-ignore no-control-regex
  if (/[\u0001-\u001f\u007f]/.test(name)) return "name contains a control character";
  if (name.startsWith("/")) return "absolute path";
  // Harmless on Linux, but a path separator or drive on Windows.
  if (name.includes("\\") || /^[A-Za-z]:/.test(name)) return "Windows drive or backslash in path";
  if (name.split("/").includes("..")) return "path contains a '..' component";
  return undefined;
}

async function extractMember(
  member: Member,
  size: number,
  input: ByteReader,
  destination: Destination,
): Promise<void> {
  const plan = planMember(member);
  let reason: string | undefined;
  if (plan.kind === "refuse") {
    reason = plan.reason;
  } else if (plan.kind === "directory") {
    reason = await destination.makeFolder(plan.parts);
  } else {
    const opened = await destination.createFile(plan.parts, member.mode);
    if (typeof opened === "string") {
      reason = opened;
    } else {
      await writeContent(opened, member, size, input);
      destination.fileWritten(opened.relative, size);
      return;
    }
  }
  if (reason) destination.result.refused.push({ name: member.name, reason });
  await input.skip(size, describe(member));
}

async function writeContent(
  target: OpenedFile,
  member: Member,
  size: number,
  input: ByteReader,
): Promise<void> {
  const { file, path } = target;
  try {
    for await (const view of input.take(size, describe(member))) {
      for (let written = 0; written < view.length;) {
        written += await file.write(view.subarray(written));
      }
    }
    if (member.mtime !== undefined) await file.utime(member.mtime, member.mtime);
  } catch (error) {
    file.close();
    // A half-written file would look complete to whoever reads the folder next.
    await Deno.remove(path).catch(() => {});
    throw error;
  }
  file.close();
}

interface OpenedFile {
  file: Deno.FsFile;
  path: string;
  relative: string;
}

/** OS errors that mean "this name cannot exist here", not "the disk is broken". */
const NAME_ERROR_CODES = new Set(["ENAMETOOLONG", "EINVAL", "EILSEQ"]);

function nameErrorReason(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || !NAME_ERROR_CODES.has(code)) return undefined;
  return `the file system rejects this name (${messageOf(error).replace(/ \(os error.*$/, "")})`;
}

/**
 * The destination folder. Only folders created by this extraction are written
 * through: mkdir and create-new both fail on anything already there,
 * symlinks included, so nothing pre-existing is followed or overwritten.
 */
class Destination {
  readonly result: ExtractResult = { files: [], directories: [], refused: [], bytes: 0 };
  readonly #root: string;
  readonly #folders = new Set<string>([""]);
  readonly #files = new Set<string>();

  constructor(root: string) {
    this.#root = root;
  }

  /** Creates the folder (and its parents); returns why not, if refused. */
  async makeFolder(parts: string[]): Promise<string | undefined> {
    const relative = parts.join("/");
    if (this.#folders.has(relative)) return undefined;
    if (this.#files.has(relative)) return "duplicate name: an earlier entry wrote a file here";
    return await this.#ensureParents(parts) ?? await this.#mkdir(relative);
  }

  /** Opens a new file for writing, or returns why not. */
  async createFile(parts: string[], mode: number): Promise<OpenedFile | string> {
    const relative = parts.join("/");
    if (this.#files.has(relative)) {
      return "duplicate name: an earlier entry wrote this file; the first copy was kept";
    }
    if (this.#folders.has(relative)) return "duplicate name: an earlier entry made a folder here";
    const parentReason = await this.#ensureParents(parts);
    if (parentReason) return parentReason;
    const path = join(this.#root, ...parts);
    try {
      const permissions = mode & 0o100 ? 0o755 : 0o644;
      const file = await Deno.open(path, { write: true, createNew: true, mode: permissions });
      return { file, path, relative };
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) return await this.#existing(relative);
      const reason = nameErrorReason(error);
      if (reason) return reason;
      throw error;
    }
  }

  fileWritten(relative: string, size: number): void {
    this.#files.add(relative);
    this.result.files.push(relative);
    this.result.bytes += size;
  }

  async #ensureParents(parts: string[]): Promise<string | undefined> {
    for (let depth = 1; depth < parts.length; depth++) {
      const relative = parts.slice(0, depth).join("/");
      if (this.#folders.has(relative)) continue;
      if (this.#files.has(relative)) {
        return `${JSON.stringify(relative)} is a file from an earlier entry, not a folder`;
      }
      const reason = await this.#mkdir(relative);
      if (reason) return reason;
    }
    return undefined;
  }

  async #mkdir(relative: string): Promise<string | undefined> {
    try {
      await Deno.mkdir(join(this.#root, relative), { mode: 0o755 });
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) return await this.#existing(relative);
      const reason = nameErrorReason(error);
      if (reason) return reason;
      throw error;
    }
    this.#folders.add(relative);
    this.result.directories.push(relative);
    return undefined;
  }

  /** Why something found already in the destination blocks a member. */
  async #existing(relative: string): Promise<string> {
    const shown = JSON.stringify(relative);
    const info = await Deno.lstat(join(this.#root, relative)).catch(() => undefined);
    if (info?.isSymlink) return `${shown} is a symbolic link already in the destination`;
    if (info?.isDirectory) return `${shown} is a folder that existed before the extraction`;
    return `${shown} already exists in the destination and is not overwritten`;
  }
}

// ---------------------------------------------------------------- helpers --

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}
