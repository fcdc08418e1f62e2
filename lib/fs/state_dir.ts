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

/** Options of {@linkcode StateDir.open}. */
export interface StateOptions extends JournalOptions {
  /** The folders files are moved to: the journal's records must stay inside them. */
  destinations?: readonly string[];
}

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
 *   assert.equal((await Deno.stat(state.path)).mode! & 0o777, 0o700);
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
   * temporary folder, opens the journal and replays what it left open (only
   * records that stay inside `input` and `options.destinations`).
   */
  static async open(
    reportsDir: string,
    input: string | undefined,
    options: StateOptions = {},
  ): Promise<StateDir> {
    const { destinations = [], ...journalOptions } = options;
    const path = join(reportsDir, STATE_DIR);
    // Only the owner may read or write what the next run acts on.
    await Deno.mkdir(path, { recursive: true, mode: 0o700 });
    await Deno.chmod(path, 0o700);
    await Deno.mkdir(join(path, "tmp"), { recursive: true });
    const lock = await RunLock.acquire(input, join(path, "lock"));
    try {
      await emptyFolder(join(path, "tmp"));
      const journal = await Journal.open(join(path, "journal.jsonl"), journalOptions);
      const replay = await replayJournal(journal, { input, destinations });
      return new StateDir(path, lock, journal, replay);
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
