/**
 * The pipeline's source: the files under the input folder as a pull-based
 * stream, depth-first and in name order, so runs over the same tree see files
 * in the same order. Only the listings of the folders on the current path are
 * held in memory, never the whole tree.
 *
 * Every regular file is either scanned or reported. Entries left alone by
 * policy (too big, links not followed, FIFOs, sockets, devices) come out as
 * `skipped` items with a reason. Entries that cannot be read by their real
 * name come out as `unresolved` (the run then exits 2): a name that is not
 * valid UTF-8 (Deno lists it with U+FFFD in its place, and opening that
 * lossy name would open another file or none), a permission error, an entry
 * that vanished. Entries filtered out by `include`/`exclude` or `skipDirs`
 * come out as nothing at all: the user asked not to see them.
 *
 * @module
 */

import { basename, dirname, join, relative, resolve } from "node:path";
import { matchesAnyGlob } from "./glob.ts";
import { reasonOf } from "../util/reason.ts";
import { lstatSyncIfAny } from "../util/stat.ts";
import { errorCode } from "../util/error_code.ts";
import { formatSize } from "../fs/size.ts";
import { LEFT_INPUT } from "../fs/confine.ts";

/** What to walk and which entries to leave out. */
export interface WalkOptions {
  /** The input folder (a symbolic link to a folder is fine), or a single file. */
  root: string;
  /** Descend into subfolders (default true). */
  recursive?: boolean;
  /** Follow symbolic links to files and folders (default false). */
  followSymlinks?: boolean;
  /** When non-empty, only files whose relative path matches one of these globs. */
  include?: string[];
  /** Files and folders whose relative path matches one of these globs are left out. */
  exclude?: string[];
  /** Files larger than this many bytes are skipped. */
  maxSize?: number;
  /** Folders never descended into, e.g. output folders inside the input folder. */
  skipDirs?: string[];
  /** Told of each entry `exclude` leaves out (a folder once), for the run's counts. */
  onExcluded?: (relPath: string) => void;
}

/** Where a followed symbolic link leads. */
export interface LinkTarget {
  /** The target's real path. */
  path: string;
  /** Its path relative to the input folder, when it is inside it. */
  relPath?: string;
}

/** A file to scan, or an entry left alone with the reason why. */
export type WalkItem =
  | {
    kind: "file";
    /** Absolute path; for a followed link, the link's own path. */
    path: string;
    /** Path relative to the root, with `/` separators. */
    relPath: string;
    size: number;
    mtimeMs: number;
    /** Change time; a watch compares it to see a file stand still. */
    ctimeMs?: number;
    /** For a followed link: the file whose bytes are scanned. */
    target?: LinkTarget;
  }
  | { kind: "skipped" | "unresolved"; path: string; relPath: string; reason: string };

/** A folder whose listing is being worked through. */
interface Frame {
  folder: string;
  relFolder: string;
  names: Entry[];
  next: number;
  /** Device and inode, tracked only when links are followed (for loop detection). */
  identity?: string;
  /** Reached through a followed link to a folder: its files are scanned, never moved. */
  viaLink?: boolean;
}

/** A name in a listing; `lossy` when it is not the entry's real (non-UTF-8) name. */
interface Entry {
  name: string;
  lossy?: boolean;
}

const REPLACEMENT = "\uFFFD";

/** Why a name cannot be used to open the entry it came from. */
export const NOT_UTF8 = "its name is not valid UTF-8, so it cannot be opened by its real name";

function tooBigReason(size: number, maxSize: number): string {
  let shown = formatSize(size);
  let limit = formatSize(maxSize);
  // "10.0 MiB > 10.0 MiB" would read as a bug; exact byte counts make the point.
  if (shown === limit) [shown, limit] = [`${size} B`, `${maxSize} B`];
  return `larger than --max-size (${shown} > ${limit})`;
}

function identityOf(info: Deno.FileInfo): string {
  return `${info.dev}:${info.ino}`;
}

function specialFileReason(info: Deno.FileInfo): string {
  if (info.isFifo) return "FIFO";
  if (info.isSocket) return "socket";
  if (info.isCharDevice || info.isBlockDevice) return "device";
  return "unsupported file type";
}

/**
 * Marks the names Deno could not list faithfully. Several entries listed
 * under the same name containing U+FFFD are at most one real name and the
 * rest lossy ones; a single one is lossy when nothing answers to it.
 */
function markLossy(folder: string, names: string[]): Entry[] {
  const seen = new Map<string, number>();
  const entries: Entry[] = [];
  for (const name of names) {
    if (!name.includes(REPLACEMENT)) {
      entries.push({ name });
      continue;
    }
    const count = (seen.get(name) ?? 0) + 1;
    seen.set(name, count);
    // The first of a group is the real name if the name opens anything at all.
    const real = count === 1 && lstatSyncIfAny(join(folder, name)) !== undefined;
    entries.push(real ? { name } : { name, lossy: true });
  }
  return entries;
}

function listFolder(folder: string): { names: Entry[] } | { failure: unknown } {
  try {
    const names: string[] = [];
    // Blocking, like the lstats: an async listing is a thread-pool hand-off per entry batch.
    for (const entry of Deno.readDirSync(folder)) names.push(entry.name);
    // Code-unit order, not locale order: the same on every machine and every run.
    names.sort();
    return { names: markLossy(folder, names) };
  } catch (failure) {
    return { failure };
  }
}

/**
 * Whether a folder just listed is really at `expected`: the listing follows
 * links, so a folder swapped for one after its parent's `lstat` would list
 * (and lead the walk into) the link's target outside the input.
 */
function isReally(path: string, expected: string): boolean {
  try {
    return Deno.realPathSync(path) === expected;
  } catch {
    return false;
  }
}

/**
 * The input as the walk sees it: a folder, or a single file. A missing root
 * is a one-line error such as `Cannot scan /drop: no such file or folder`.
 *
 * @example A file as the input
 * ```ts
 * import { statInput } from "./walk.ts";
 * import assert from "node:assert/strict";
 *
 * const file = await Deno.makeTempFile();
 * assert.equal((await statInput(file)).isFile, true);
 * await assert.rejects(statInput(`${file}.missing`), /Cannot scan .*: no such file or folder/);
 * await Deno.remove(file);
 * ```
 */
export async function statInput(root: string, shownAs = root): Promise<Deno.FileInfo> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(root);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      // --in takes a folder or a single file: the message must not assume which was meant.
      throw new Error(`Cannot scan ${shownAs}: no such file or folder`);
    }
    throw new Error(`cannot read input folder: ${shownAs}: ${reasonOf(error)}`);
  }
  if (!info.isDirectory && !info.isFile) {
    throw new Error(`input is neither a folder nor a regular file: ${shownAs}`);
  }
  return info;
}

/** The walk's state: the stack of folders on the current path and what links reached. */
class Walker {
  readonly #options: WalkOptions;
  readonly #root: string;
  /** The root's real path when the walk started: where every folder below it must really be. */
  #realRoot = "";
  readonly #skipPaths: Set<string>;
  readonly #skipIdentities = new Set<string>();
  // Both matter only when links are followed: without links a tree has no cycles.
  readonly #onCurrentPath = new Set<string>();
  readonly #scannedAs = new Map<string, string>();
  readonly #stack: Frame[] = [];

  constructor(options: WalkOptions) {
    this.#options = options;
    this.#root = resolve(options.root);
    this.#skipPaths = new Set((options.skipDirs ?? []).map((folder) => resolve(folder)));
  }

  get #follow(): boolean {
    return this.#options.followSymlinks ?? false;
  }

  #wanted(relPath: string): boolean {
    const include = this.#options.include ?? [];
    return include.length === 0 || matchesAnyGlob(relPath, include);
  }

  async *items(): AsyncGenerator<WalkItem> {
    const rootInfo = await statInput(this.#root, this.#options.root);
    if (rootInfo.isFile) {
      const name = basename(this.#root);
      yield* this.#file(this.#root, name, rootInfo);
      return;
    }
    await this.#start(rootInfo);
    while (this.#stack.length > 0) {
      const frame = this.#stack[this.#stack.length - 1];
      if (frame.next >= frame.names.length) {
        this.#stack.pop();
        if (frame.identity !== undefined) this.#onCurrentPath.delete(frame.identity);
        continue;
      }
      yield* this.#entry(frame, frame.names[frame.next++]);
    }
  }

  async #start(rootInfo: Deno.FileInfo): Promise<void> {
    for (const folder of this.#skipPaths) {
      // A skip folder not created yet is kept out by its path alone.
      const info = await Deno.stat(folder).catch(() => undefined);
      if (info) this.#skipIdentities.add(identityOf(info));
    }
    this.#realRoot = await Deno.realPath(this.#root);
    const listing = listFolder(this.#root);
    if ("failure" in listing) {
      throw new Error(
        `cannot read input folder: ${this.#options.root}: ${reasonOf(listing.failure)}`,
      );
    }
    const frame: Frame = { folder: this.#root, relFolder: "", names: listing.names, next: 0 };
    this.#enter(frame, rootInfo, ".");
  }

  #enter(frame: Frame, info: Deno.FileInfo, relPath: string): void {
    if (this.#follow) {
      frame.identity = identityOf(info);
      this.#onCurrentPath.add(frame.identity);
      this.#scannedAs.set(frame.identity, relPath);
    }
    this.#stack.push(frame);
  }

  async *#entry(frame: Frame, entry: Entry): AsyncGenerator<WalkItem> {
    const path = join(frame.folder, entry.name);
    const relPath = frame.relFolder === "" ? entry.name : `${frame.relFolder}/${entry.name}`;
    if (matchesAnyGlob(relPath, this.#options.exclude ?? [])) {
      return void this.#options.onExcluded?.(relPath);
    }
    if (this.#skipPaths.has(path)) return;
    if (entry.lossy) {
      // Deno lists such a name with U+FFFD and no way to its bytes: `ls -b` shows them.
      const folder = `'${frame.folder.replaceAll("'", `'\\''`)}'`;
      yield { kind: "unresolved", path, relPath, reason: `${NOT_UTF8}; ls -b ${folder} shows it` };
      return;
    }
    let info: Deno.FileInfo;
    try {
      // Blocking: an lstat is microseconds, an async one a thread-pool hand-off per entry.
      info = Deno.lstatSync(path);
    } catch (error) {
      if (!this.#wanted(relPath)) return;
      const reason = error instanceof Deno.errors.NotFound
        ? "vanished during walk"
        : `cannot read: ${reasonOf(error)}`;
      yield { kind: "unresolved", path, relPath, reason };
      return;
    }
    if (info.isSymlink) yield* this.#symlink(path, relPath);
    else if (info.isDirectory) yield* this.#folder(path, relPath, info, frame.viaLink);
    else if (frame.viaLink) yield* this.#file(path, relPath, info, await this.#linkTarget(path));
    else yield* this.#file(path, relPath, info);
  }

  async *#symlink(path: string, relPath: string): AsyncGenerator<WalkItem> {
    let target: Deno.FileInfo | undefined;
    let failure: unknown;
    try {
      target = await Deno.stat(path);
    } catch (error) {
      failure = error;
    }
    const leadsToFolder = target?.isDirectory ?? false;
    if (!leadsToFolder && !this.#wanted(relPath)) return;
    if (!this.#follow) {
      yield { kind: "skipped", path, relPath, reason: "symbolic link (use --follow-symlinks)" };
      return;
    }
    if (target === undefined) {
      const reason = failure instanceof Deno.errors.NotFound
        ? "dangling symbolic link"
        : errorCode(failure) === "ELOOP"
        ? "symlink loop"
        : `cannot read: ${reasonOf(failure)}`;
      yield { kind: "skipped", path, relPath, reason };
      return;
    }
    if (leadsToFolder) yield* this.#folder(path, relPath, target, true);
    else yield* this.#file(path, relPath, target, await this.#linkTarget(path));
  }

  async #linkTarget(link: string): Promise<LinkTarget> {
    const real = await Deno.realPath(link);
    const rootReal = await Deno.realPath(this.#root);
    const rel = relative(rootReal, real);
    const inside = rel !== "" && !rel.startsWith("..") && !rel.startsWith("/");
    return inside ? { path: real, relPath: rel.split("\\").join("/") } : { path: real };
  }

  async *#folder(
    path: string,
    relPath: string,
    info: Deno.FileInfo,
    viaLink = false,
  ): AsyncGenerator<WalkItem> {
    if (!(this.#options.recursive ?? true)) return;
    const identity = identityOf(info);
    if (this.#skipIdentities.has(identity)) return;
    if (this.#follow && this.#onCurrentPath.has(identity)) {
      yield { kind: "skipped", path, relPath, reason: "symlink loop" };
      return;
    }
    const earlier = this.#follow ? this.#scannedAs.get(identity) : undefined;
    if (earlier !== undefined) {
      yield { kind: "skipped", path, relPath, reason: `folder already scanned as ${earlier}` };
      return;
    }
    const listing = listFolder(path);
    if ("failure" in listing) {
      const reason = listing.failure instanceof Deno.errors.NotFound
        ? "vanished during walk"
        : `cannot read directory: ${reasonOf(listing.failure)}`;
      yield { kind: "unresolved", path, relPath, reason };
      return;
    }
    if (!viaLink && !isReally(path, join(this.#realRoot, relPath))) {
      yield { kind: "unresolved", path, relPath, reason: LEFT_INPUT };
      return;
    }
    const frame: Frame = {
      folder: path,
      relFolder: relPath,
      names: listing.names,
      next: 0,
      viaLink,
    };
    this.#enter(frame, info, relPath);
  }

  async *#file(
    path: string,
    relPath: string,
    info: Deno.FileInfo,
    target?: LinkTarget,
  ): AsyncGenerator<WalkItem> {
    if (!this.#wanted(relPath)) return;
    const maxSize = this.#options.maxSize;
    if (!info.isFile) {
      yield { kind: "skipped", path, relPath, reason: specialFileReason(info) };
    } else if (maxSize !== undefined && info.size > maxSize) {
      yield { kind: "skipped", path, relPath, reason: tooBigReason(info.size, maxSize) };
    } else {
      const mtimeMs = info.mtime?.getTime() ?? 0;
      const ctimeMs = info.ctime?.getTime() ?? 0;
      const item: WalkItem = { kind: "file", path, relPath, size: info.size, mtimeMs, ctimeMs };
      if (target) item.target = target;
      yield item;
    }
  }
}

/**
 * Walks `options.root` depth-first, in name order, yielding each file (or the
 * reason an entry was skipped or is unresolved) only when the reader asks
 * for the next item. A missing root errors the stream with a one-line
 * message such as `Cannot scan /drop: no such file or folder`.
 *
 * @example Walk a small tree
 * ```ts
 * import { walk } from "./walk.ts";
 * import assert from "node:assert/strict";
 *
 * const root = await Deno.makeTempDir();
 * await Deno.mkdir(`${root}/a`);
 * await Deno.writeTextFile(`${root}/a/x.txt`, "x");
 * await Deno.writeTextFile(`${root}/b.tmp`, "b");
 * const items = await Array.fromAsync(walk({ root, exclude: ["*.tmp"] }));
 * assert.deepEqual(items.map((i) => `${i.kind} ${i.relPath}`), ["file a/x.txt"]);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export function walk(options: WalkOptions): ReadableStream<WalkItem> {
  return ReadableStream.from(new Walker(options).items());
}

/** The folder whose lock and layout rules apply to an input: itself, or a file's folder. */
export function inputFolder(root: string, info: Deno.FileInfo): string {
  return info.isFile ? dirname(resolve(root)) : resolve(root);
}
