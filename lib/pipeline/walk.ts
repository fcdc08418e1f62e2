/**
 * The pipeline's source: the files under the input folder as a pull-based
 * stream, depth-first and in name order, so runs over the same tree see files
 * in the same order. Only the listings of the folders on the current path are
 * held in memory, never the whole tree.
 *
 * Entries that will not be scanned (too big, links not followed, FIFOs,
 * sockets, devices, unreadable folders, entries that vanished) come out as
 * `skipped` items with a reason, so every input file is accounted for.
 * Entries filtered out by `include`/`exclude` or `skipDirs` come out as
 * nothing at all: the user asked not to see them.
 *
 * @example
 * ```ts
 * import { walk } from "./walk.ts";
 * for await (const item of walk({ root: "/drop", exclude: ["*.tmp"] })) {
 *   if (item.kind === "file") console.log(item.relPath, item.size);
 *   else console.warn(`skipped ${item.relPath}: ${item.reason}`);
 * }
 * ```
 * @module
 */

import { join, resolve } from "node:path";
import { matchesAnyGlob } from "./glob.ts";
import { reasonOf } from "../fs/errors.ts";
import { formatSize } from "../fs/size.ts";

/** What to walk and which entries to leave out. */
export interface WalkOptions {
  /** The input folder; a symbolic link to a folder is fine. */
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
  }
  | { kind: "skipped"; path: string; relPath: string; reason: string };

/** A folder whose listing is being worked through. */
interface Frame {
  folder: string;
  relFolder: string;
  names: string[];
  next: number;
  /** Device and inode, tracked only when links are followed (for loop detection). */
  identity?: string;
}

/** A folder's listing, or the reason it could not be read. */
type Listing = { names: string[] } | { failure: unknown };

function tooBigReason(size: number, maxSize: number): string {
  let shown = formatSize(size);
  let limit = formatSize(maxSize);
  // "10.0 MiB > 10.0 MiB" would read as a bug; exact byte counts make the point.
  if (shown === limit) [shown, limit] = [`${size} B`, `${maxSize} B`];
  return `larger than --max-size (${shown} > ${limit})`;
}

function isSymlinkLoopError(error: unknown): boolean {
  return error instanceof Error && "code" in error && error.code === "ELOOP";
}

function identityOf(info: Deno.FileInfo): string {
  return `${info.dev}:${info.ino}`;
}

async function listFolder(folder: string): Promise<Listing> {
  try {
    const names: string[] = [];
    for await (const entry of Deno.readDir(folder)) names.push(entry.name);
    // Code-unit order, not locale order: the same on every machine and every run.
    names.sort();
    return { names };
  } catch (failure) {
    return { failure };
  }
}

async function statRoot(root: string, shownAs: string): Promise<Deno.FileInfo> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(root);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(`input folder not found: ${shownAs}`);
    }
    throw new Error(`cannot read input folder: ${shownAs}: ${reasonOf(error)}`);
  }
  if (!info.isDirectory) throw new Error(`input is not a folder: ${shownAs}`);
  return info;
}

/** Identities of the skip folders that exist now, so links to them are caught too. */
async function identitiesOf(folders: Iterable<string>): Promise<Set<string>> {
  const identities = new Set<string>();
  for (const folder of folders) {
    try {
      identities.add(identityOf(await Deno.stat(folder)));
    } catch {
      // Not created yet: the path comparison still keeps the walk out of it.
    }
  }
  return identities;
}

function specialFileReason(info: Deno.FileInfo): string {
  if (info.isFifo) return "FIFO";
  if (info.isSocket) return "socket";
  if (info.isCharDevice || info.isBlockDevice) return "device";
  return "unsupported file type";
}

async function* walkItems(options: WalkOptions): AsyncGenerator<WalkItem> {
  const root = resolve(options.root);
  const rootInfo = await statRoot(root, options.root);
  const recursive = options.recursive ?? true;
  const follow = options.followSymlinks ?? false;
  const include = options.include ?? [];
  const exclude = options.exclude ?? [];
  const maxSize = options.maxSize;
  const skipPaths = new Set((options.skipDirs ?? []).map((folder) => resolve(folder)));
  const skipIdentities = await identitiesOf(skipPaths);
  // Both maps matter only when links are followed: without links a tree has no cycles.
  const onCurrentPath = new Set<string>();
  const scannedAs = new Map<string, string>();

  const rootListing = await listFolder(root);
  if ("failure" in rootListing) {
    throw new Error(`cannot read input folder: ${options.root}: ${reasonOf(rootListing.failure)}`);
  }
  const stack: Frame[] = [{ folder: root, relFolder: "", names: rootListing.names, next: 0 }];
  if (follow) {
    stack[0].identity = identityOf(rootInfo);
    onCurrentPath.add(stack[0].identity);
    scannedAs.set(stack[0].identity, ".");
  }

  const wanted = (relPath: string) => include.length === 0 || matchesAnyGlob(relPath, include);
  const skipped = (path: string, relPath: string, reason: string): WalkItem => ({
    kind: "skipped",
    path,
    relPath,
    reason,
  });

  while (stack.length > 0) {
    const frame = stack[stack.length - 1];
    if (frame.next >= frame.names.length) {
      stack.pop();
      if (frame.identity !== undefined) onCurrentPath.delete(frame.identity);
      continue;
    }
    const name = frame.names[frame.next++];
    const path = join(frame.folder, name);
    const relPath = frame.relFolder === "" ? name : `${frame.relFolder}/${name}`;
    if (matchesAnyGlob(relPath, exclude) || skipPaths.has(path)) continue;

    let info: Deno.FileInfo;
    try {
      // Blocking: an lstat is microseconds, an async one a thread-pool hand-off per entry.
      info = Deno.lstatSync(path);
    } catch (error) {
      if (!wanted(relPath)) continue;
      yield skipped(
        path,
        relPath,
        error instanceof Deno.errors.NotFound
          ? "vanished during walk"
          : `cannot read: ${reasonOf(error)}`,
      );
      continue;
    }

    if (info.isSymlink) {
      let target: Deno.FileInfo | undefined;
      let targetFailure: unknown;
      try {
        target = await Deno.stat(path);
      } catch (error) {
        targetFailure = error;
      }
      const leadsToFolder = target?.isDirectory ?? false;
      if (!leadsToFolder && !wanted(relPath)) continue;
      if (!follow) {
        yield skipped(path, relPath, "symbolic link (use --follow-symlinks)");
        continue;
      }
      if (target === undefined) {
        const reason = targetFailure instanceof Deno.errors.NotFound
          ? "dangling symbolic link"
          : isSymlinkLoopError(targetFailure)
          ? "symlink loop"
          : `cannot read: ${reasonOf(targetFailure)}`;
        yield skipped(path, relPath, reason);
        continue;
      }
      info = target;
    }

    if (info.isDirectory) {
      if (!recursive) continue;
      const identity = identityOf(info);
      if (skipIdentities.has(identity)) continue;
      if (follow) {
        if (onCurrentPath.has(identity)) {
          yield skipped(path, relPath, "symlink loop");
          continue;
        }
        const earlier = scannedAs.get(identity);
        if (earlier !== undefined) {
          yield skipped(path, relPath, `folder already scanned as ${earlier}`);
          continue;
        }
      }
      const listing = await listFolder(path);
      if ("failure" in listing) {
        const reason = listing.failure instanceof Deno.errors.NotFound
          ? "vanished during walk"
          : `cannot read directory: ${reasonOf(listing.failure)}`;
        yield skipped(path, relPath, reason);
        continue;
      }
      const child: Frame = { folder: path, relFolder: relPath, names: listing.names, next: 0 };
      if (follow) {
        child.identity = identity;
        onCurrentPath.add(identity);
        scannedAs.set(identity, relPath);
      }
      stack.push(child);
      continue;
    }

    if (!wanted(relPath)) continue;
    if (!info.isFile) {
      yield skipped(path, relPath, specialFileReason(info));
    } else if (maxSize !== undefined && info.size > maxSize) {
      yield skipped(path, relPath, tooBigReason(info.size, maxSize));
    } else {
      yield { kind: "file", path, relPath, size: info.size, mtimeMs: info.mtime?.getTime() ?? 0 };
    }
  }
}

/**
 * Walks `options.root` depth-first, in name order, yielding each file (or the
 * reason an entry was skipped) only when the reader asks for the next item.
 * A missing or non-folder root errors the stream with a one-line message such
 * as `input folder not found: /drop`.
 *
 * @example
 * ```ts
 * import { walk } from "./walk.ts";
 * const items = walk({ root: "/drop", maxSize: 10 * 2 ** 20, skipDirs: ["/drop/out"] });
 * for await (const item of items) console.log(item.kind, item.relPath);
 * ```
 */
export function walk(options: WalkOptions): ReadableStream<WalkItem> {
  return ReadableStream.from(walkItems(options));
}
