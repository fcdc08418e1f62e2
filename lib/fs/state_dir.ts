/**
 * The run's own corner of the reports folder, `REP/.te-scan/`: the lock
 * that keeps a second run out, the journal that lets the next run finish
 * what a killed one started, and the temporary folder report files are
 * written in before they get their names (emptied at every start, so a
 * kill mid-write leaves nothing behind under a temporary name).
 *
 * @module
 */

import { join } from "node:path";
import { reasonOf } from "../util/reason.ts";
import { Journal, type JournalOptions } from "./journal.ts";
import { RunLock } from "./lock.ts";
import { replayJournal, type ReplayResult } from "./replay.ts";

/** The folder's name inside the reports folder. */
export const STATE_DIR = ".te-scan";

/**
 * A run's lock, journal and temporary folder, released by `await using`.
 *
 * @example Open it, see what a previous run left, close it
 * ```ts
 * import { StateDir } from "./state_dir.ts";
 * import assert from "node:assert/strict";
 *
 * const input = await Deno.makeTempDir();
 * const reports = await Deno.makeTempDir();
 * {
 *   await using state = await StateDir.open(reports, input);
 *   assert.equal(state.replay.finished, 0);
 *   assert.deepEqual(state.replay.awaiting, []);
 * }
 * await Deno.remove(input, { recursive: true });
 * await Deno.remove(reports, { recursive: true });
 * ```
 */
export class StateDir implements AsyncDisposable {
  private constructor(
    readonly path: string,
    readonly lock: RunLock,
    readonly journal: Journal,
    readonly replay: ReplayResult,
  ) {}

  /** Where report files are written before they are linked into place. */
  get tempDir(): string {
    return join(this.path, "tmp");
  }

  /**
   * Locks `input` (when given) and `reportsDir` (or throws `LockedError`), empties the
   * temporary folder, opens the journal and replays what it left open.
   */
  static async open(
    reportsDir: string,
    input: string | undefined,
    options: JournalOptions = {},
  ): Promise<StateDir> {
    const path = join(reportsDir, STATE_DIR);
    await Deno.mkdir(join(path, "tmp"), { recursive: true });
    const lock = await RunLock.acquire(input, join(path, "lock"));
    try {
      await emptyFolder(join(path, "tmp"));
      const journal = await Journal.open(join(path, "journal.jsonl"), options);
      return new StateDir(path, lock, journal, await replayJournal(journal));
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  /** Compacts the journal (when everything in it is done) and releases the locks. */
  async close(): Promise<void> {
    try {
      await this.journal.close();
    } finally {
      this.lock.release();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

async function emptyFolder(folder: string): Promise<void> {
  try {
    for await (const entry of Deno.readDir(folder)) {
      await Deno.remove(join(folder, entry.name), { recursive: true });
    }
  } catch (error) {
    throw new Error(`Cannot empty ${folder}: ${reasonOf(error)}`);
  }
}
