/**
 * Writing gzip-compressed POSIX tar archives (`.tar.gz`): the emulator ships
 * its summary reports in them, and tests build hostile ones with it. Every
 * name is written verbatim, `../evil` included; the client side only ever
 * reads archives (see `lib/fs/tar.ts`).
 *
 * @module
 */

import { concatBytes } from "../util/bytes.ts";

const BLOCK = 512;
const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/**
 * The kinds of member the writer can produce. The extractor writes only
 * `file` and `directory`; it refuses the rest.
 */
export type TarEntryType =
  | "file"
  | "directory"
  | "symlink"
  | "hardlink"
  | "chardev"
  | "blockdev"
  | "fifo";

/**
 * One member to write with {@linkcode tar} or {@linkcode tarGz}.
 *
 * `name` is written byte for byte (UTF-8), whatever it contains; give folders
 * a trailing `/` if you want the usual tar spelling. `data` is used only by
 * files. `linkName` is the target of a symlink or hard link.
 *
 * @example A folder, a file and a link
 * ```ts
 * import { type TarEntry, tarGz } from "./tar_writer.ts";
 * import { extractTarGz } from "../fs/tar.ts";
 * import assert from "node:assert/strict";
 *
 * const entries: TarEntry[] = [
 *   { name: "report/", type: "directory" },
 *   { name: "report/summary.html", data: "<h1>clean</h1>", mtime: new Date(0) },
 *   { name: "link", type: "symlink", linkName: "/etc/passwd" },
 * ];
 * const dir = await Deno.makeTempDir();
 * const result = await extractTarGz(new Blob([await tarGz(entries)]).stream(), dir);
 * assert.deepEqual(result.files, ["report/summary.html"]);
 * assert.deepEqual(result.refused.map((r) => r.name), ["link"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface TarEntry {
  name: string;
  type?: TarEntryType;
  data?: Uint8Array | string;
  linkName?: string;
  mode?: number;
  mtime?: Date;
}

const TYPEFLAGS: Record<TarEntryType, string> = {
  file: "0",
  hardlink: "1",
  symlink: "2",
  chardev: "3",
  blockdev: "4",
  directory: "5",
  fifo: "6",
};

const DEFAULT_MODES: Record<TarEntryType, number> = {
  file: 0o644,
  hardlink: 0o644,
  symlink: 0o777,
  chardev: 0o644,
  blockdev: 0o644,
  directory: 0o755,
  fifo: 0o644,
};

/** Largest value an 11-digit octal field holds; bigger sizes go to a pax header. */
const MAX_OCTAL_11 = 0o77777777777;

/**
 * Builds an uncompressed POSIX ustar archive. Names over 100 bytes use the
 * ustar prefix field when they can be split at a `/`, otherwise a pax `path`
 * record; link targets over 100 bytes use a pax `linkpath` record.
 *
 * @example A header, a data block and two end blocks
 * ```ts
 * import { tar } from "./tar_writer.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = tar([{ name: "hello.txt", data: "hello\n" }]);
 * assert.equal(bytes.length, 2048);
 * ```
 */
export function tar(entries: TarEntry[]): Uint8Array<ArrayBuffer> {
  const blocks = entries.flatMap(entryBlocks);
  blocks.push(new Uint8Array(2 * BLOCK));
  return concatBytes(blocks);
}

/**
 * Builds a gzip-compressed POSIX ustar archive; see {@linkcode tar}.
 *
 * @example A gzipped archive, checked
 * ```ts
 * import { tarGz } from "./tar_writer.ts";
 * import { verifyTarGz } from "../fs/tar.ts";
 * import assert from "node:assert/strict";
 *
 * const archive = await tarGz([{ name: "summary.html", data: "<h1>clean</h1>" }]);
 * assert.equal(await verifyTarGz(archive), 1);
 * ```
 */
export async function tarGz(entries: TarEntry[]): Promise<Uint8Array<ArrayBuffer>> {
  const gzip = new Blob([tar(entries)]).stream().pipeThrough(new CompressionStream("gzip"));
  return await new Response(gzip).bytes();
}

function entryBlocks(entry: TarEntry): Uint8Array[] {
  const type = entry.type ?? "file";
  const data = type === "file" ? asBytes(entry.data ?? EMPTY) : EMPTY;
  const path = encoder.encode(entry.name);
  const link = encoder.encode(entry.linkName ?? "");
  const split = splitUstarName(path);
  const pax: [string, Uint8Array][] = [];
  if (!split) pax.push(["path", path]);
  if (link.length > 100 || link.includes(0)) pax.push(["linkpath", link]);
  if (data.length > MAX_OCTAL_11) pax.push(["size", encoder.encode(String(data.length))]);
  const header = ustarHeader({
    // Readers that ignore pax still get a (shortened) name.
    name: split?.name ?? path.subarray(0, 100),
    prefix: split?.prefix ?? EMPTY,
    mode: entry.mode ?? DEFAULT_MODES[type],
    size: data.length > MAX_OCTAL_11 ? 0 : data.length,
    mtime: entry.mtime ?? new Date(),
    typeflag: TYPEFLAGS[type],
    linkName: link.subarray(0, 100),
  });
  const blocks = pax.length > 0 ? paxBlocks(pax) : [];
  blocks.push(header, data, new Uint8Array(padding(data.length)));
  return blocks;
}

/** Splits a long name at a `/` into ustar's prefix (≤155) and name (≤100) fields. */
function splitUstarName(path: Uint8Array): { name: Uint8Array; prefix: Uint8Array } | undefined {
  if (path.includes(0)) return undefined;
  if (path.length <= 100) return { name: path, prefix: EMPTY };
  // A split at index 0 would lose the leading "/" of an absolute name: readers
  // join prefix and name only when the prefix is non-empty.
  for (let slash = Math.min(155, path.length - 2); slash >= 1; slash--) {
    if (path.length - slash - 1 > 100) break;
    if (path[slash] === 0x2f) {
      return { name: path.subarray(slash + 1), prefix: path.subarray(0, slash) };
    }
  }
  return undefined;
}

interface HeaderFields {
  name: Uint8Array;
  prefix: Uint8Array;
  mode: number;
  size: number;
  mtime: Date;
  typeflag: string;
  linkName: Uint8Array;
}

function ustarHeader(fields: HeaderFields): Uint8Array {
  const header = new Uint8Array(BLOCK);
  header.set(fields.name, 0);
  writeOctal(header, 100, 8, fields.mode & 0o7777);
  writeOctal(header, 108, 8, 0); // uid
  writeOctal(header, 116, 8, 0); // gid
  writeOctal(header, 124, 12, fields.size);
  const seconds = Math.floor(fields.mtime.getTime() / 1000);
  writeOctal(header, 136, 12, Math.min(Math.max(seconds, 0), MAX_OCTAL_11));
  header[156] = fields.typeflag.charCodeAt(0);
  header.set(fields.linkName, 157);
  header.set(encoder.encode("ustar\u000000"), 257);
  writeOctal(header, 329, 8, 0); // devmajor
  writeOctal(header, 337, 8, 0); // devminor
  header.set(fields.prefix, 345);
  header.fill(0x20, 148, 156);
  const sum = header.reduce((total, byte) => total + byte, 0);
  header.set(encoder.encode(sum.toString(8).padStart(6, "0") + "\u0000 "), 148);
  return header;
}

function writeOctal(header: Uint8Array, offset: number, width: number, value: number): void {
  header.set(encoder.encode(value.toString(8).padStart(width - 1, "0") + "\u0000"), offset);
}

function paxBlocks(records: [string, Uint8Array][]): Uint8Array[] {
  const data = concatBytes(records.map(([key, value]) => paxRecord(key, value)));
  const header = ustarHeader({
    name: encoder.encode("././@PaxHeader"),
    prefix: EMPTY,
    mode: 0o644,
    size: data.length,
    mtime: new Date(0),
    typeflag: "x",
    linkName: EMPTY,
  });
  return [header, data, new Uint8Array(padding(data.length))];
}

/** A pax record is `<length> <key>=<value>\n`, where length counts its own digits. */
function paxRecord(key: string, value: Uint8Array): Uint8Array {
  const body = concatBytes([encoder.encode(` ${key}=`), value, encoder.encode("\n")]);
  let digits = 1;
  while (String(body.length + digits).length > digits) digits++;
  return concatBytes([encoder.encode(String(body.length + digits)), body]);
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function asBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}
