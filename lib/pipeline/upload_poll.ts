/**
 * The upload-and-poll stage: at most `concurrency` files in emulation at
 * once; uploads stream from disk; ONE poller re-queries every pending file
 * in batches (one request per target per round), with back-off, instead of
 * a loop per file.
 *
 * A te_eb early malicious verdict is passed on at once (the sink
 * quarantines the file) while polling goes on for the final verdict and
 * report. Passing failures are retried; permanent ones and the per-file
 * deadline settle the file as an error with the reason. An emulation slot
 * is held from a file's admission until it settles, and a freed slot takes
 * the next file at once, without waiting for the next poll round.
 *
 * @module
 */

import { reasonOf } from "../util/reason.ts";
import type { ResponseItem } from "../transport/protocol.ts";
import { describeStatus } from "../transport/status.ts";
import {
  isFatal,
  isTransient,
  type MatchedAnswer,
  OutOfRotationError,
  type Rotation,
  type Transport,
} from "../transport/transport.ts";
import { AnswerApplier, type NextStep } from "./apply.ts";
import type { DecideOptions, Phase } from "./decide.ts";
import { type Clock, PollSchedule } from "./poll_schedule.ts";
import type { RunProgress } from "./progress.ts";
import { safely } from "./streams.ts";
import { TaskPool } from "./task_pool.ts";
import type { Job, PipelineItem } from "./types.ts";
import type { ReportFormat } from "../transport/protocol.ts";
import { type Tracked, UploadLifecycle } from "./upload_lifecycle.ts";

export { UPLOAD_SENDS } from "./upload_lifecycle.ts";

/** Options of the {@linkcode Poller} and its stage. */
export interface UploadPollOptions {
  rotation: Rotation;
  /** Report formats to fetch for a malicious file. */
  reports: readonly ReportFormat[];
  /** What the run asks for, as deciding an answer needs it (AV only). */
  decide?: DecideOptions;
  /** Files in emulation at once (`-n`). */
  concurrency: number;
  /**
   * The longest wait between two polls of a pending file. Below it the
   * poller adapts: a file is first asked about when files before it took
   * their verdict, and rounds come at most once per `minRoundMs`.
   */
  pollIntervalMs: number;
  /** The shortest time between two poll rounds; default 1 s (or `pollIntervalMs` if less). */
  minRoundMs?: number;
  /** Per-file deadline from its admission to a final verdict. */
  timeoutMs: number;
  /**
   * Sends of a file's content in all, HTTP tries and re-uploads together
   * (in-body 1009/1011, lost files, HTTP 5xx); default {@linkcode UPLOAD_SENDS}.
   */
  uploadAttempts?: number;
  /** Polls in a row without an answer about a file before it is given up; default 5. */
  missLimit?: number;
  /** Told about passing problems, for the log. */
  onWarning?: (message: string) => void;
  progress?: RunProgress;
  signal?: AbortSignal;
  /** Told the stage's poller once it exists (the run reads what it still holds at the end). */
  onPoller?: (poller: Poller) => void;
  /** The poll schedule's clock; default `performance.now()` and the rotation's clock. */
  clock?: Clock;
}

/** How many transient answers about one file are asked again before it ends unresolved. */
const ASK_AGAIN_LIMIT = 6;

/**
 * Tracks files from admission to a final answer: uploads them, polls them
 * in batches, applies every answer, and gives each file's slot back when it
 * settles.
 *
 * @example Poll a file the appliance already has until it is final
 * ```ts
 * import { Poller } from "./upload_poll.ts";
 * import type { PipelineItem } from "./types.ts";
 * import { CloudClient } from "../transport/cloud_client.ts";
 * import { CloudTransport } from "../transport/cloud.ts";
 * import { HttpClient } from "../transport/http.ts";
 * import { Rotation } from "../transport/rotation.ts";
 * import { DEFAULT_CA_PEM, startEmulator } from "../emulator/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const emulator = await startEmulator({ port: 0, emulationMs: 50 });
 * const { sha1 } = emulator.learn(new TextEncoder().encode("fine"), "a.txt");
 * const http = new HttpClient(emulator.url, { trust: { kind: "ca", caPem: [DEFAULT_CA_PEM] } });
 * const options = { features: ["te" as const], reports: [], batchSize: 100, md5: false };
 * const target = new CloudTransport(new CloudClient(http), options);
 * const rotation = new Rotation([target], { graceMs: 60_000 });
 * const emitted: PipelineItem[] = [];
 * const poller = new Poller(
 *   { rotation, reports: [], concurrency: 4, pollIntervalMs: 10, timeoutMs: 10_000 },
 *   (item) => emitted.push(item),
 * );
 * const loop = poller.run();
 * const file = { path: "/in/a.txt", relPath: "a.txt", size: 4, mtimeMs: 0, sha1: sha1! };
 * await poller.track({ kind: "job", file, startedAt: 0, needsUpload: false, via: target });
 * poller.finish();
 * await loop;
 * assert.equal(emitted[0].kind === "settled" && emitted[0].outcome.state, "benign");
 * target.close();
 * await emulator.close();
 * ```
 */
export class Poller {
  readonly #tracked = new Map<string, Tracked>();
  readonly #options: UploadPollOptions;
  readonly #applier: AnswerApplier;
  readonly #schedule: PollSchedule<Tracked, Transport>;
  readonly #uploads: UploadLifecycle;
  readonly #alarm: Alarm;
  #finished = false;
  #failure?: { error: unknown };

  constructor(options: UploadPollOptions, emit: (item: PipelineItem) => void) {
    this.#options = options;
    this.#applier = new AnswerApplier({ reports: options.reports, decide: options.decide, emit });
    const clock = options.clock ?? {
      now: () => performance.now(),
      deadlineNow: () => options.rotation.clock(),
    };
    this.#schedule = new PollSchedule(options, clock, (t) => t.job.via);
    this.#alarm = new Alarm(() => clock.now());
    this.#uploads = new UploadLifecycle(options, {
      apply: (t, item, phase) => this.#apply(t, item, phase),
      reschedule: (t) => this.#reschedule(t),
      uploaded: (t) => this.#schedule.uploaded(t),
      settleError: (t, reason, keepInPlace) => this.#settleError(t, reason, keepInPlace),
      fail: (error) => this.#fail(error),
    });
  }

  /** Files tracked now. */
  get size(): number {
    return this.#tracked.size;
  }

  /**
   * Admits a job: uploads it (or, when a target already has it, polls it).
   * Resolves when the file has settled; rejects when the run fails.
   */
  track(job: Job): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure.error);
    return new Promise<void>((resolve, reject) => {
      const t: Tracked = {
        ...this.#schedule.admit(job.needsUpload),
        job,
        uploads: 0,
        askedAgain: 0,
        misses: 0,
        release: (error) => error === undefined ? resolve() : reject(error),
      };
      this.#tracked.set(job.file.sha1, t);
      if (job.via) this.#options.rotation.load(job.via, 1);
      if (this.#options.progress) this.#options.progress.emulating++;
      if (job.needsUpload) this.#uploads.start(t, 0);
      this.#alarm.ring();
    });
  }

  /** No more files will be admitted: `run` ends once the last one settles. */
  finish(): void {
    this.#finished = true;
    this.#alarm.ring();
  }

  /** The poll loop. Rejects on an error that stops the run, or on abort. */
  async run(): Promise<void> {
    const signal = this.#options.signal;
    const onAbort = () => this.#fail(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) onAbort();
    try {
      while (!this.#failure && !(this.#finished && this.#tracked.size === 0)) {
        const { expired, due } = this.#schedule.round(this.#tracked.values());
        for (const t of expired) this.#expire(t);
        if (due.length) this.#pollRound(due);
        else await this.#alarm.sleepUntil(this.#schedule.wakeAt(this.#tracked.values()));
      }
      if (this.#failure) throw this.#failure.error;
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  #expire(t: Tracked): void {
    const last = t.lastStatus ? ` (last answer: ${t.lastStatus})` : "";
    const seconds = Math.round(this.#options.timeoutMs / 1000);
    this.#settleError(t, `no final verdict within ${seconds} s${last}`);
  }

  /**
   * One poll round: one batched query per target for the files due, each
   * under way on its own, so that a target that hangs or retries holds back
   * only its own files' polls.
   */
  #pollRound(due: Tracked[]): void {
    const byTarget = new Map<Transport, Tracked[]>();
    for (const t of due) {
      const target = t.job.via!;
      byTarget.set(target, [...(byTarget.get(target) ?? []), t]);
    }
    for (const [target, files] of byTarget) {
      this.#schedule.pollStarted(target);
      this.#pollTarget(target, files)
        .catch((error) => this.#fail(error))
        .finally(() => {
          this.#schedule.pollEnded(target);
          this.#alarm.ring();
        });
    }
  }

  async #pollTarget(target: Transport, files: Tracked[]): Promise<void> {
    let answers: MatchedAnswer[];
    try {
      answers = await this.#options.rotation.call(
        target,
        (t) => t.query(files.map((f) => f.job.file)),
      );
    } catch (error) {
      if (isFatal(error)) throw error;
      if (error instanceof OutOfRotationError) return this.#uploads.moveAway(files);
      // An answer that can never be read (larger than the cap) would come back every round.
      if (!isTransient(error)) {
        for (const t of files) this.#settleError(t, `query failed: ${reasonOf(error)}`);
        return;
      }
      this.#options.onWarning?.(`poll failed, will try again: ${reasonOf(error)}`);
      for (const t of files) this.#reschedule(t);
      return;
    }
    await Promise.all(files.map((t, i) => this.#onPollAnswer(t, answers[i])));
  }

  async #onPollAnswer(t: Tracked, answer: MatchedAnswer): Promise<void> {
    if (!this.#tracked.has(t.job.file.sha1)) return;
    if (answer.item) return await this.#apply(t, answer.item, "poll");
    t.lastMiss = answer.missing;
    if (++t.misses >= (this.#options.missLimit ?? 5)) {
      this.#settleError(t, `appliance gave no answer about this file (${t.lastMiss})`);
    } else this.#reschedule(t);
  }

  async #apply(t: Tracked, item: ResponseItem, phase: Phase): Promise<void> {
    t.lastItem = item;
    t.misses = 0;
    t.lastStatus = describeStatus(item.te?.status ?? item.status);
    const step = await this.#applier.apply(t.job, item, phase);
    t.uploading = false;
    if (phase === "poll" && step.kind === "settled") this.#schedule.polled(t, "final");
    if (phase === "poll" && step.kind === "wait") this.#schedule.polled(t, "pending");
    this.#next(t, step, phase);
  }

  #next(t: Tracked, step: NextStep, phase: Phase): void {
    if (step.kind === "settled") return this.#untrack(t);
    if (step.kind === "wait") return this.#reschedule(t);
    if (step.kind === "retry" && step.askAgain) return this.#askAgain(t, step.reason, phase);
    this.#uploads.again(t, step, phase);
  }

  /**
   * A passing failure of the target (1009, 1011) says nothing about the file:
   * it is asked about again (a lost upload then answers NOT_FOUND and goes
   * again), never uploaded on the spot, which would spend quota and bandwidth.
   */
  #askAgain(t: Tracked, reason: string, phase: Phase): void {
    if (++t.askedAgain > ASK_AGAIN_LIMIT) {
      return this.#settleError(t, `${reason} (asked ${ASK_AGAIN_LIMIT} times more)`);
    }
    this.#options.onWarning?.(
      `${t.job.file.relPath}: ${phase} answered ${t.lastStatus}; asking again`,
    );
    this.#reschedule(t);
  }

  #reschedule(t: Tracked): void {
    this.#schedule.reschedule(t);
    this.#alarm.ring();
  }

  #settleError(t: Tracked, reason: string, keepInPlace = false): void {
    this.#applier.settleError(t.job, reason, t.lastItem, keepInPlace);
    this.#untrack(t);
  }

  #untrack(t: Tracked): void {
    if (!this.#tracked.delete(t.job.file.sha1)) return;
    if (t.job.via) this.#options.rotation.load(t.job.via, -1);
    if (this.#options.progress) this.#options.progress.emulating--;
    t.release();
    this.#alarm.ring();
  }

  #fail(error: unknown): void {
    this.#failure ??= { error };
    for (const t of this.#tracked.values()) t.release(this.#failure.error);
    this.#tracked.clear();
    this.#alarm.ring();
  }
}

/**
 * The poll loop's sleep: until a time, or until rung. A ring while the loop
 * is busy makes its next sleep return at once, so no wake-up is lost.
 */
class Alarm {
  readonly #now: () => number;
  #wake?: () => void;
  #rungEarly = false;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** Waits until `at` (on the schedule's clock) or a ring; leaves no timer behind. */
  sleepUntil(at: number): Promise<void> {
    if (this.#rungEarly) {
      this.#rungEarly = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = at === Infinity
        ? undefined
        : setTimeout(() => done(), Math.max(0, at - this.#now()));
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      this.#wake = done;
    });
  }

  ring(): void {
    if (this.#wake) this.#wake();
    else this.#rungEarly = true;
  }
}

/**
 * The stage over a {@linkcode Poller}: jobs take an emulation slot from a
 * {@linkcode TaskPool} of `concurrency` and hold it until they settle.
 *
 * @example Upload a new file and settle it
 * ```ts
 * import { uploadPollStage } from "./upload_poll.ts";
 * import { hashFile } from "./hash.ts";
 * import type { PipelineItem } from "./types.ts";
 * import { CloudClient } from "../transport/cloud_client.ts";
 * import { CloudTransport } from "../transport/cloud.ts";
 * import { HttpClient } from "../transport/http.ts";
 * import { Rotation } from "../transport/rotation.ts";
 * import { DEFAULT_CA_PEM, startEmulator } from "../emulator/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const emulator = await startEmulator({ port: 0, emulationMs: 0, earlyMs: 0 });
 * const http = new HttpClient(emulator.url, { trust: { kind: "ca", caPem: [DEFAULT_CA_PEM] } });
 * const options = { features: ["te" as const], reports: [], batchSize: 100, md5: false };
 * const target = new CloudTransport(new CloudClient(http), options);
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "TE-EMULATOR-MALICIOUS");
 * const { sha1 } = await hashFile(path);
 * const stage = uploadPollStage({
 *   rotation: new Rotation([target], { graceMs: 60_000 }),
 *   reports: [],
 *   concurrency: 4,
 *   pollIntervalMs: 10,
 *   timeoutMs: 10_000,
 * });
 * const mtimeMs = (await Deno.stat(path)).mtime!.getTime();
 * const file = { path, relPath: "a.doc", size: 21, mtimeMs, sha1 };
 * const out = await Array.fromAsync(
 *   ReadableStream.from<PipelineItem>([{ kind: "job", file, startedAt: 0, needsUpload: true }])
 *     .pipeThrough(stage),
 * );
 * const last = out.at(-1);
 * assert.equal(last?.kind === "settled" && last.outcome.state, "malicious");
 * target.close();
 * await emulator.close();
 * await Deno.remove(path);
 * ```
 */
export function uploadPollStage(
  options: UploadPollOptions,
): TransformStream<PipelineItem, PipelineItem> {
  let poller: Poller;
  let slots: TaskPool;
  let loop: Promise<void>;
  return new TransformStream<PipelineItem, PipelineItem>({
    start(controller) {
      poller = new Poller(options, (item) => safely(() => controller.enqueue(item)));
      options.onPoller?.(poller);
      slots = new TaskPool(options.concurrency, {
        signal: options.signal,
        onFailure: (error) => controller.error(error),
      });
      loop = poller.run();
      loop.catch((error) => safely(() => controller.error(error)));
    },
    async transform(item, controller) {
      if (item.kind !== "job") return controller.enqueue(item);
      await slots.run(() => poller.track(item));
    },
    async flush() {
      poller.finish();
      await loop;
      await slots.drain();
    },
  });
}
