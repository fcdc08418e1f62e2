/**
 * The host's running scans, so that a run refuses an input folder another
 * te-scan is scanning, contains, or is inside of, whatever their reports
 * folders (the per-folder locks of `lock.ts` see only the very same folder).
 *
 * Each run keeps one entry in a host-wide folder, `/tmp/te-scan-runs/`
 * (sticky and world-writable like `/tmp`, so every user's runs meet, and
 * each user's entries are theirs alone). An entry names the run's input by
 * its real path and is held by a kernel lock for the run's life: an entry
 * whose lock is free belongs to a dead process and is ignored (and removed
 * when it is this user's). Only read and write permissions are needed.
 *
 * `/tmp` is shared with other users, so nothing there is trusted: the folder
 * must be a real folder (sticky when others may write it), entries are
 * created with create-new (which never follows a link), others' entries are
 * opened only when they are regular files, and an open that blocks (a FIFO
 * put in place) is given up on. A registry that cannot be used is a warning,
 * not a stop: overlapping runs are then not detected, nothing else changes.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import { reasonOf } from "../util/reason.ts";
import { LockedError } from "./lock.ts";
import { isInside, overlaps } from "../util/paths.ts";

/** Where the host's running scans are registered unless told otherwise. */
export const RUNS_DIR = "/tmp/te-scan-runs";

/** What an entry says about its run. */
interface Entry {
  input: string;
  pid: number;
  started: string;
}

const OPEN_LIMIT_MS = 1000;

function isEntry(value: unknown): value is Entry {
  const entry = value as Entry;
  return typeof entry === "object" && entry !== null && typeof entry.input === "string" &&
    typeof entry.pid === "number" && typeof entry.started === "string";
}

/** Opens `path` for reading, or gives up after a second (a FIFO blocks its open). */
async function openBounded(path: string): Promise<Deno.FsFile | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const opening = Deno.open(path, { read: true });
  const late = new Promise<undefined>((done) => {
    timer = setTimeout(() => done(undefined), OPEN_LIMIT_MS);
  });
  try {
    const handle = await Promise.race([opening, late]);
    // Too late: close it whenever it opens.
    if (!handle) opening.then((h) => h.close(), () => {});
    return handle;
  } finally {
    clearTimeout(timer);
  }
}

/** The run an entry stands for, when its process is alive (it holds the lock). */
async function liveEntry(dir: string, name: string, uid: number): Promise<Entry | undefined> {
  const path = join(dir, name);
  const info = await Deno.lstat(path).catch(() => undefined);
  if (!info?.isFile) return undefined;
  const handle = await openBounded(path).catch(() => undefined);
  if (!handle) return undefined;
  try {
    if (!(await handle.stat()).isFile) return undefined;
    if (await handle.tryLock(false)) {
      // Its process died: this user's leftovers go; others' cannot (the folder is sticky).
      if (info.uid === uid) await Deno.remove(path).catch(() => {});
      return undefined;
    }
    const text = await new Response(handle.readable).text();
    const entry: unknown = JSON.parse(text);
    return isEntry(entry) ? entry : undefined;
  } catch {
    return undefined;
  } finally {
    try {
      handle.close();
    } catch {
      // Already closed by reading it to the end.
    }
  }
}

/** Creates the registry folder when missing, with `/tmp`'s mode; a link in its place is refused. */
async function ensureFolder(dir: string): Promise<void> {
  try {
    await Deno.mkdir(dir, { mode: 0o1777 });
    // mkdir's mode passes through the umask.
    await Deno.chmod(dir, 0o1777);
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
  if (!(await Deno.lstat(dir)).isDirectory) {
    throw new Error("it is not a folder (a link or a file is in its place)");
  }
}

/**
 * Why the registry folder cannot be trusted, if it cannot: whoever created
 * it, others may only add entries of their own, as in `/tmp`.
 */
async function distrust(dir: string): Promise<string | undefined> {
  const info = await Deno.lstat(dir);
  if (!info.isDirectory) return "it is not a folder (a link or a file is in its place)";
  const mode = info.mode ?? 0;
  if ((mode & 0o022) !== 0 && (mode & 0o1000) === 0) {
    return "others may write in it and it is not sticky (chmod +t)";
  }
  return undefined;
}

/** `Cannot scan X: another te-scan (pid N, started T) is scanning Y (how they overlap)`. */
function overlapMessage(input: string, other: Entry): string {
  const how = other.input === input
    ? "the same folder"
    : isInside(input, other.input)
    ? "which contains it"
    : "which is inside it";
  return `Cannot scan ${input}: another te-scan (pid ${other.pid}, started ${other.started}) ` +
    `is scanning ${other.input}, ${how}`;
}

/**
 * This run's entry among the host's running scans, released by `using` or
 * {@linkcode RunRegistry.release}.
 *
 * @example A run on a subfolder of a folder being scanned is refused
 * ```ts
 * import { RunRegistry } from "./run_registry.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * {
 *   using _first = await RunRegistry.enter("/drop", { dir });
 *   await assert.rejects(
 *     RunRegistry.enter("/drop/finance", { dir }),
 *     /another te-scan \(pid \d+, started \S+\) is scanning \/drop, which contains it/,
 *   );
 *   using _beside = await RunRegistry.enter("/drop2", { dir });
 * }
 * // Released: the subfolder may be scanned now.
 * using _later = await RunRegistry.enter("/drop/finance", { dir });
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class RunRegistry implements Disposable {
  private constructor(private handle: Deno.FsFile | undefined, readonly path?: string) {}

  /**
   * Registers a run on `input` (a real path), or throws `LockedError` naming
   * the running scan it overlaps. A registry that cannot be used is reported
   * through `onWarning` and the run goes on unregistered.
   */
  static async enter(
    input: string,
    options: { dir?: string; onWarning?: (message: string) => void } = {},
  ): Promise<RunRegistry> {
    const dir = options.dir ?? RUNS_DIR;
    let registry: RunRegistry;
    try {
      await ensureFolder(dir);
      registry = await RunRegistry.#create(dir, input);
    } catch (error) {
      options.onWarning?.(`Cannot check for overlapping runs in ${dir}: ${reasonOf(error)}`);
      return new RunRegistry(undefined);
    }
    try {
      await registry.#refuseOverlaps(dir, input);
      return registry;
    } catch (error) {
      registry.release();
      throw error;
    }
  }

  /** Writes and locks the entry under a temporary name, then names it: no entry is seen unlocked. */
  static async #create(dir: string, input: string): Promise<RunRegistry> {
    const key = createHash("sha256").update(input).digest("hex").slice(0, 16);
    const id = `${key}-${Deno.pid}-${crypto.randomUUID()}`;
    const temporary = join(dir, `.${id}.tmp`);
    const handle = await Deno.open(temporary, { read: true, write: true, createNew: true });
    try {
      await handle.lock(true);
      const entry: Entry = { input, pid: Deno.pid, started: new Date().toISOString() };
      await handle.write(new TextEncoder().encode(JSON.stringify(entry) + "\n"));
      const why = await distrust(dir);
      if (why) throw new Error(why);
      await Deno.rename(temporary, join(dir, `${id}.run`));
      return new RunRegistry(handle, join(dir, `${id}.run`));
    } catch (error) {
      handle.close();
      await Deno.remove(temporary).catch(() => {});
      throw error;
    }
  }

  async #refuseOverlaps(dir: string, input: string): Promise<void> {
    const uid = (await this.handle!.stat()).uid ?? -1;
    for await (const item of Deno.readDir(dir)) {
      if (!item.name.endsWith(".run") || join(dir, item.name) === this.path) continue;
      const other = await liveEntry(dir, item.name, uid);
      if (other && overlaps(input, other.input)) {
        throw new LockedError(overlapMessage(input, other));
      }
    }
  }

  /** Removes the entry and releases its lock. */
  release(): void {
    if (!this.handle) return;
    if (this.path) {
      try {
        Deno.removeSync(this.path);
      } catch {
        // Its lock goes with the handle: a leftover entry is ignored and cleared later.
      }
    }
    this.handle.close();
    this.handle = undefined;
  }

  [Symbol.dispose](): void {
    this.release();
  }
}
