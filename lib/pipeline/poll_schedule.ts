/**
 * When the poller asks about each pending file: which files are due at a
 * given time, when it must wake next, how long emulation takes on each
 * target (learned from the polls around a verdict), and the back-off.
 *
 * Pure bookkeeping over an injected {@linkcode Clock}: no timers, no I/O, so
 * it is tested with a clock the test moves by hand.
 *
 * @module
 */

/** The times the schedule reads, in milliseconds. */
export interface Clock {
  /** Monotonic time (`performance.now()` in a run). */
  now(): number;
  /**
   * The time deadlines run on: in a run the rotation's clock, which stands
   * still while no appliance is in rotation.
   */
  deadlineNow(): number;
}

/** The schedule's view of one tracked file. */
export interface PollTiming {
  /** When the file is given up without a final verdict (on `deadlineNow()`). */
  deadline: number;
  /** When it is next asked about (on `now()`). */
  nextPollAt: number;
  /** Polls since its latest upload (or admission). */
  polls: number;
  /** When its upload was answered, for the learned emulation time. */
  uploadedAt?: number;
  /** When the latest poll about it was sent. */
  polledAt?: number;
  /** When the latest poll that found it still in emulation was sent. */
  pendingAt?: number;
  /**
   * The file is being uploaded (or waits to be, or its upload answer is being
   * applied): the poller leaves it alone.
   */
  uploading: boolean;
}

/** Options of a {@linkcode PollSchedule}. */
export interface PollScheduleOptions {
  /** The longest wait between two polls of a pending file. */
  pollIntervalMs: number;
  /** The shortest time between two poll rounds; default 1 s (or `pollIntervalMs` if less). */
  minRoundMs?: number;
  /** Per-file deadline from its admission to a final verdict. */
  timeoutMs: number;
}

/** What one round found: files past their deadline, and files to ask about now. */
export interface Round<F> {
  expired: F[];
  due: F[];
}

/**
 * The poll schedule of the files in emulation, per target `T`.
 *
 * @example The first wave is asked about every round, then less often
 * ```ts
 * import { PollSchedule } from "./poll_schedule.ts";
 * import assert from "node:assert/strict";
 *
 * let t = 0;
 * const clock = { now: () => t, deadlineNow: () => t };
 * const schedule = new PollSchedule(
 *   { pollIntervalMs: 60_000, minRoundMs: 1_000, timeoutMs: 600_000 },
 *   clock,
 *   () => "appliance",
 * );
 * const file = schedule.admit(false);
 * assert.deepEqual(schedule.round([file]).due, [file]);
 * schedule.reschedule(file);
 * assert.equal(file.nextPollAt, 1_150);
 * ```
 */
export class PollSchedule<F extends PollTiming, T> {
  readonly #options: PollScheduleOptions;
  readonly #clock: Clock;
  readonly #targetOf: (file: F) => T | undefined;
  /** Learned time from an upload's answer to the final verdict, per target (ms). */
  readonly #emulationMs = new Map<T, number>();
  /** Targets with a poll under way: their files wait for it, other targets' do not. */
  readonly #polling = new Set<T>();
  /** When the last poll round started. */
  #lastRound = -Infinity;

  constructor(
    options: PollScheduleOptions,
    clock: Clock,
    targetOf: (file: F) => T | undefined,
  ) {
    this.#options = options;
    this.#clock = clock;
    this.#targetOf = targetOf;
  }

  /** The shortest time between two rounds. */
  get minRoundMs(): number {
    return Math.min(this.#options.minRoundMs ?? 1_000, this.#options.pollIntervalMs);
  }

  /** The timing of a file admitted now: due at once, its deadline `timeoutMs` away. */
  admit(uploading: boolean): PollTiming {
    return {
      deadline: this.#clock.deadlineNow() + this.#options.timeoutMs,
      nextPollAt: this.#clock.now(),
      polls: 0,
      uploading,
    };
  }

  /**
   * The round due now, if one is: files past their deadline, and those due
   * for a poll (near-due ones ride along). A round with files to ask about
   * counts them as polled and starts the next round's pacing.
   */
  round(files: Iterable<F>): Round<F> {
    const now = this.#clock.now();
    // Rounds are paced: the files due meanwhile ride along in the next one.
    if (now < this.#lastRound + this.minRoundMs) return { expired: [], due: [] };
    const clock = this.#clock.deadlineNow();
    const rideAlongMs = this.minRoundMs / 2;
    const round: Round<F> = { expired: [], due: [] };
    for (const file of files) {
      if (this.#waiting(file)) continue;
      if (clock >= file.deadline) round.expired.push(file);
      else if (file.nextPollAt <= now + rideAlongMs) round.due.push(file);
    }
    if (round.due.length) this.#lastRound = now;
    for (const file of round.due) {
      file.polls++;
      file.polledAt = now;
    }
    return round;
  }

  /** When the poller must wake next (on `now()`): a poll, a deadline or the round pacing. */
  wakeAt(files: Iterable<F>): number {
    // Deadlines run on their own clock; on `now()` they fall this much later.
    const offset = this.#clock.now() - this.#clock.deadlineNow();
    let next = Infinity;
    for (const file of files) {
      if (this.#waiting(file)) continue;
      next = Math.min(next, file.nextPollAt, file.deadline + offset);
    }
    return Math.max(next, this.#lastRound + this.minRoundMs);
  }

  /**
   * A file being uploaded, or whose target has a poll under way, is left
   * alone: its answer may be being applied. A poll under way wakes the
   * poller when it ends.
   */
  #waiting(file: F): boolean {
    if (file.uploading) return true;
    const target = this.#targetOf(file);
    return target !== undefined && this.#polling.has(target);
  }

  /** A poll of `target` started: its files are not due until it ends. */
  pollStarted(target: T): void {
    this.#polling.add(target);
  }

  /** The poll of `target` ended. */
  pollEnded(target: T): void {
    this.#polling.delete(target);
  }

  /** The file's upload was answered now: earlier polls say nothing about this copy. */
  uploaded(file: F): void {
    file.polls = 0;
    file.uploadedAt = this.#clock.now();
    file.polledAt = file.pendingAt = undefined;
  }

  /** A poll answered: `final` (a verdict, learned from) or still pending. */
  polled(file: F, answer: "final" | "pending"): void {
    if (answer === "final") this.#learn(file);
    else file.pendingAt = file.polledAt;
  }

  /** The learned emulation time on `target`, once a verdict there showed it. */
  learnedMs(target: T): number | undefined {
    return this.#emulationMs.get(target);
  }

  /**
   * Learns how long emulation takes on a target from a file that just got its
   * verdict. A first poll that finds the verdict says only that it took at most
   * that long: the estimate is taken a little below, so that it can come down.
   * After a poll that found it pending, the verdict came between the two polls.
   * (A first poll that comes early costs the file a whole round.)
   */
  #learn(file: F): void {
    const target = this.#targetOf(file);
    if (file.uploadedAt === undefined || file.polledAt === undefined || target === undefined) {
      return;
    }
    const took = file.pendingAt === undefined
      ? (file.polledAt - file.uploadedAt) * 0.97
      : (file.pendingAt + file.polledAt) / 2 - file.uploadedAt;
    const before = this.#emulationMs.get(target);
    this.#emulationMs.set(target, before === undefined ? took : before * 0.7 + took * 0.3);
  }

  /**
   * When to ask about a pending file next: until a verdict on its target was
   * seen, every round at first and then a little less often; once one was,
   * first when emulation is expected to end, then at growing intervals. Never
   * longer than the poll interval.
   */
  reschedule(file: F): void {
    const min = this.minRoundMs;
    const target = this.#targetOf(file);
    const learned = target === undefined ? undefined : this.#emulationMs.get(target);
    let wait: number;
    // Until a verdict on this target shows how long emulation takes, ask about every round
    // at first, then less often (a first verdict found a round late delays every file).
    if (learned === undefined) wait = min * 1.15 ** Math.min(file.polls, 12);
    else if (file.polls === 0 && file.uploadedAt !== undefined) wait = learned;
    else wait = Math.max(min, learned * 0.2) * 1.5 ** Math.min(file.polls - 1, 8);
    file.nextPollAt = this.#clock.now() +
      Math.min(this.#options.pollIntervalMs, Math.max(min, wait));
  }
}
