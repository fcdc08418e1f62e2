/**
 * The source of `--files-from FILE` (or `-` for standard input): the files
 * a list names, one path per line (`-0`: separated by NUL bytes, for names
 * with newlines), read as a stream so a list of millions costs no more
 * memory than one line. Each file keeps its path as its relative path in
 * the destinations (an absolute path without its leading `/`), so two
 * files of the same name from different folders never meet.
 *
 * te-scan acts only on the exact bytes listed: a name that is not valid
 * UTF-8 cannot be represented in Deno (decoding it would put U+FFFD in
 * place of its bad bytes and name another file, perhaps a real one), so it
 * is reported unresolved and nothing is done with it.
 *
 * @module
 */

import { isAbsolute, normalize, relative, resolve, sep } from "node:path";
import { concatBytes } from "../util/bytes.ts";
import { reasonOf } from "../util/reason.ts";
import { isInside } from "../util/paths.ts";
import { NOT_UTF8, type WalkItem } from "./walk.ts";

/** Splits a byte stream into records ending with `separator` (the last one may not). */
async function* records(
  source: ReadableStream<Uint8Array>,
  separator: number,
): AsyncGenerator<Uint8Array> {
  let pending = new Uint8Array(0);
  for await (const chunk of source) {
    const data = pending.length ? concatBytes([pending, chunk]) : chunk;
    let start = 0;
    for (let end = data.indexOf(separator); end !== -1; end = data.indexOf(separator, start)) {
      yield data.subarray(start, end);
      start = end + 1;
    }
    pending = data.slice(start);
  }
  if (pending.length) yield pending;
}

/** Exact names only: a bad byte throws instead of becoming U+FFFD, and a leading BOM is kept. */
const exact = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A listed name that is not UTF-8: unresolved, under a lossy name for the messages only. */
function notUtf8(record: Uint8Array, cwd: string): WalkItem {
  const shown = new TextDecoder().decode(record).replace(/\r$/, "");
  const path = resolve(cwd, shown);
  return { kind: "unresolved", path, relPath: relPathOf(path)!, reason: NOT_UTF8 };
}

/** The relative path a listed file keeps: its path, without a leading `/` or any `..`. */
function relPathOf(path: string): string | undefined {
  const rel = isAbsolute(path) ? normalize(path).replace(/^\/+/, "") : normalize(path);
  if (rel === "" || rel === "." || rel.split("/").includes("..")) return undefined;
  return rel;
}

/** Why a listed path is not the input's to touch, if it is not. */
const OUTSIDE = "outside --in, not touched";

/**
 * A listed path checked against the input folder's real path `root`: the
 * file it reaches (links resolved) must be inside, and that real path is the
 * one acted on, so no link leads a move out of `--in`.
 */
function confined(path: string, root: string): WalkItem | { path: string; relPath: string } {
  let real: string;
  try {
    real = Deno.realPathSync(path);
  } catch {
    // Gone or unreadable: reported below by its own path, if it is in the input at all.
    real = path;
  }
  const relPath = relative(root, real);
  if (relPath === "" || !isInside(real, root)) {
    return { kind: "unresolved", path, relPath: relPathOf(path)!, reason: OUTSIDE };
  }
  return { path: real, relPath: relPath.split(sep).join("/") };
}

function itemOf(line: string, cwd: string, root?: string): WalkItem | undefined {
  const text = line.endsWith("\r") ? line.slice(0, -1) : line;
  if (!text) return undefined;
  let path = resolve(cwd, text);
  let relPath = relPathOf(isAbsolute(text) ? text : relative(cwd, path)) ?? relPathOf(path)!;
  if (root !== undefined) {
    const place = confined(path, root);
    if ("kind" in place) return place;
    ({ path, relPath } = place);
  }
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "listed but not found"
      : `cannot read: ${reasonOf(error)}`;
    return { kind: "unresolved", path, relPath, reason };
  }
  if (!info.isFile) return { kind: "skipped", path, relPath, reason: "not a regular file" };
  const mtimeMs = info.mtime?.getTime() ?? 0;
  return { kind: "file", path, relPath, size: info.size, mtimeMs };
}

/**
 * The files a list names, as walk items.
 *
 * @example Two names, one missing
 * ```ts
 * import { filesFrom } from "./files_from.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "a");
 * const names = new TextEncoder().encode(`${dir}/a.txt\n${dir}/gone.txt\n`);
 * const items = await Array.fromAsync(filesFrom(ReadableStream.from([names]), { cwd: dir }));
 * assert.deepEqual(items.map((i) => i.kind), ["file", "unresolved"]);
 * assert.equal(items[0].relPath, `${dir.slice(1)}/a.txt`);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function filesFrom(
  list: ReadableStream<Uint8Array>,
  options: { nul?: boolean; cwd?: string; inside?: string } = {},
): ReadableStream<WalkItem> {
  const cwd = options.cwd ?? Deno.cwd();
  return ReadableStream.from((async function* () {
    const root = options.inside === undefined ? undefined : await Deno.realPath(options.inside);
    for await (const record of records(list, options.nul ? 0 : 0x0a)) {
      let line: string;
      try {
        line = exact.decode(record);
      } catch {
        yield notUtf8(record, cwd);
        continue;
      }
      const item = itemOf(line, cwd, root);
      if (item) yield item;
    }
  })());
}
