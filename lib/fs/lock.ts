/**
 * One run at a time per input folder and per reports folder. Two runs on
 * the same folders would upload everything twice, race for the same names
 * and report each other's moves as errors.
 *
 * The locks are kernel file locks (`flock`): the input folder itself is
 * locked (nothing is written into it), and a lock file in the reports
 * folder says who holds it. The kernel releases both when the process dies,
 * so a run that was killed never blocks the next one.
 *
 * @module
 */

import { reasonOf } from "../util/reason.ts";

/** Another run holds a lock: exit 3, nothing touched. */
export class LockedError extends Error {
  override name = "LockedError";
}

/** Who holds a reports folder's lock. */
interface Holder {
  pid: number;
  started: string;
  input: string;
}

async function tryLockPath(path: string, options: Deno.OpenOptions): Promise<Deno.FsFile | null> {
  const handle = await Deno.open(path, options);
  if (await handle.tryLock(true)) return handle;
  handle.close();
  return null;
}

async function describeHolder(lockFile: string): Promise<string> {
  try {
    const holder: Holder = JSON.parse(await Deno.readTextFile(lockFile));
    return `another te-scan (pid ${holder.pid}, started ${holder.started}) is scanning ` +
      holder.input;
  } catch {
    return "another te-scan is using it";
  }
}

/**
 * The locks of one run, released by `using` or {@linkcode RunLock.release}.
 *
 * @example A second lock on the same folders is refused
 * ```ts
 * import { LockedError, RunLock } from "./lock.ts";
 * import assert from "node:assert/strict";
 *
 * const input = await Deno.makeTempDir();
 * const reports = await Deno.makeTempDir();
 * {
 *   using _first = await RunLock.acquire(input, `${reports}/lock`);
 *   await assert.rejects(RunLock.acquire(input, `${reports}/lock`), LockedError);
 * }
 * await Deno.remove(input, { recursive: true });
 * await Deno.remove(reports, { recursive: true });
 * ```
 */
export class RunLock implements Disposable {
  private constructor(readonly handles: Deno.FsFile[]) {}

  /** Locks `input` (a folder, if any) and the reports folder's `lockFile`, or throws. */
  static async acquire(input: string | undefined, lockFile: string): Promise<RunLock> {
    const handles: Deno.FsFile[] = [];
    try {
      const reports = await tryLockPath(lockFile, { read: true, write: true, create: true });
      if (!reports) throw new LockedError(await describeHolder(lockFile));
      handles.push(reports);
      if (input !== undefined) {
        const folder = await tryLockPath(input, { read: true });
        // Its holder's pid is in its own reports folder, which this run does not know.
        if (!folder) {
          throw new LockedError(
            `another te-scan is scanning ${input} (into another reports folder)`,
          );
        }
        handles.push(folder);
      }
      const holder: Holder = {
        pid: Deno.pid,
        started: new Date().toISOString(),
        input: input ?? "a list of files",
      };
      await reports.truncate(0);
      await reports.write(new TextEncoder().encode(JSON.stringify(holder) + "\n"));
      return new RunLock(handles);
    } catch (error) {
      for (const handle of handles) handle.close();
      if (error instanceof LockedError) throw error;
      throw new Error(`Cannot lock ${input}: ${reasonOf(error)}`);
    }
  }

  /** Releases both locks. */
  release(): void {
    for (const handle of this.handles.splice(0)) handle.close();
  }

  [Symbol.dispose](): void {
    this.release();
  }
}
