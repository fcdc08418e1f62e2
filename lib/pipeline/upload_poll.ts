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

import { basename } from "node:path";
import { reasonOf } from "../util/reason.ts";
import { FileChangedError } from "../fs/identity.ts";
import type { ResponseItem } from "../transport/protocol.ts";
import { LEFT_INPUT, OutsideInputError } from "../fs/confine.ts";
import { sleep } from "../util/sleep.ts";
import { describeStatus } from "../transport/status.ts";
import {
  backoffMs,
  DEFAULT_RETRY,
  ForeignAnswerError,
  isFatal,
  isTransient,
  type MatchedAnswer,
  OutOfRotationError,
  type Rotation,
  type ScrubOutcome,
  scrubResultInfo,
  type Transport,
} from "../transport/transport.ts";
import { AnswerApplier, type NextStep } from "./apply.ts";
import { keepLatestScrub } from "./clean.ts";
import type { DecideOptions, Phase } from "./decide.ts";
import type { RunProgress } from "./progress.ts";
import { safely } from "./streams.ts";
import { TaskPool } from "./task_pool.ts";
import type { Job, PipelineItem } from "./types.ts";
import type { ReportFormat } from "../transport/protocol.ts";

/**
 * How often one file's content is sent at most: each send streams the whole
 * file, so the tries are counted per file (an upload is never retried inside
 * the HTTP client), not multiplied by the HTTP retries.
 */
export const UPLOAD_SENDS = 4;

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
}

/** How many transient answers about one file are asked again before it ends unresolved. */
const ASK_AGAIN_LIMIT = 6;

interface Tracked {
  job: Job;
  deadline: number;
  nextPollAt: number;
  polls: number;
  /** When its upload was answered (performance.now()), for the learned emulation time. */
  uploadedAt?: number;
  /** When the latest poll about it was sent. */
  polledAt?: number;
  /** When the latest poll that found it still in emulation was sent. */
  pendingAt?: number;
  uploads: number;
  /** Times a transient answer (1009, 1011) had the file asked about again. */
  askedAgain: number;
  /** It moved once already from a target that failed to another. */
  moved?: boolean;
  /**
   * The file is being uploaded (or waits to be, or its upload answer is being
   * applied): the poller leaves it alone.
   */
  uploading: boolean;
  lastStatus?: string;
  lastItem?: ResponseItem;
  misses: number;
  lastMiss?: string;
  /** Ends the file's emulation slot. */
  release: (error?: unknown) => void;
}

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
  #finished = false;
  #failure?: { error: unknown };
  /** Learned time from an upload's answer to the final verdict, per target (ms). */
  readonly #emulationMs = new Map<Transport, number>();
  /** Targets with a poll under way: their files wait for it, other targets' do not. */
  readonly #polling = new Set<Transport>();
  /** When the last poll round started. */
  #lastRound = -Infinity;
  #wake?: () => void;
  /** A wake-up that came while the loop was busy: the next sleep returns at once. */
  #wokenEarly = false;

  constructor(options: UploadPollOptions, emit: (item: PipelineItem) => void) {
    this.#options = options;
    this.#applier = new AnswerApplier({ reports: options.reports, decide: options.decide, emit });
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
    const now = performance.now();
    return new Promise<void>((resolve, reject) => {
      const t: Tracked = {
        job,
        // On the rotation's clock, which stands still while no appliance is in rotation.
        deadline: this.#options.rotation.clock() + this.#options.timeoutMs,
        nextPollAt: now,
        polls: 0,
        uploads: 0,
        askedAgain: 0,
        uploading: job.needsUpload,
        misses: 0,
        release: (error) => error === undefined ? resolve() : reject(error),
      };
      this.#tracked.set(job.file.sha1, t);
      if (job.via) this.#options.rotation.load(job.via, 1);
      if (this.#options.progress) this.#options.progress.emulating++;
      if (job.needsUpload) this.#startUpload(t, 0);
      this.#wakeUp();
    });
  }

  /** No more files will be admitted: `run` ends once the last one settles. */
  finish(): void {
    this.#finished = true;
    this.#wakeUp();
  }

  /** The poll loop. Rejects on an error that stops the run, or on abort. */
  async run(): Promise<void> {
    const signal = this.#options.signal;
    const onAbort = () => this.#fail(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) onAbort();
    try {
      while (!this.#failure && !(this.#finished && this.#tracked.size === 0)) {
        const now = performance.now();
        // Rounds are paced: the files due meanwhile ride along in the next one.
        const roundAt = this.#lastRound + this.#minRoundMs;
        const due = now >= roundAt ? this.#collectDue(now, this.#options.rotation.clock()) : [];
        if (due.length) {
          this.#lastRound = now;
          this.#pollRound(due);
        } else await this.#sleepUntil(Math.max(this.#nextWakeAt(), roundAt));
      }
      if (this.#failure) throw this.#failure.error;
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Settles deadline-passed files; returns those due for a poll (near-due ones ride along). */
  #collectDue(now: number, clock: number): Tracked[] {
    const due: Tracked[] = [];
    const rideAlongMs = this.#minRoundMs / 2;
    for (const t of this.#tracked.values()) {
      // A file whose poll is under way is left to it: its answer may be being applied.
      if (t.uploading || this.#polling.has(t.job.via!)) continue;
      if (clock >= t.deadline) {
        const last = t.lastStatus ? ` (last answer: ${t.lastStatus})` : "";
        const seconds = Math.round(this.#options.timeoutMs / 1000);
        this.#settleError(t, `no final verdict within ${seconds} s${last}`);
      } else if (t.nextPollAt <= now + rideAlongMs) due.push(t);
    }
    return due;
  }

  #nextWakeAt(): number {
    // Deadlines run on the rotation's clock; on performance.now() they fall this much later.
    const offset = performance.now() - this.#options.rotation.clock();
    let next = Infinity;
    for (const t of this.#tracked.values()) {
      // A poll under way wakes the loop when it ends.
      if (t.uploading || this.#polling.has(t.job.via!)) continue;
      next = Math.min(next, t.nextPollAt, t.deadline + offset);
    }
    return next;
  }

  /** Waits until `at` (performance.now() time), a wake-up or an abort; leaves no timer behind. */
  #sleepUntil(at: number): Promise<void> {
    if (this.#wokenEarly) {
      this.#wokenEarly = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = at === Infinity
        ? undefined
        : setTimeout(() => done(), Math.max(0, at - performance.now()));
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      this.#wake = done;
    });
  }

  #wakeUp(): void {
    if (this.#wake) this.#wake();
    else this.#wokenEarly = true;
  }

  /**
   * One poll round: one batched query per target for the files due, each
   * under way on its own, so that a target that hangs or retries holds back
   * only its own files' polls.
   */
  #pollRound(due: Tracked[]): void {
    const now = performance.now();
    for (const t of due) {
      t.polls++;
      t.polledAt = now;
    }
    const byTarget = new Map<Transport, Tracked[]>();
    for (const t of due) {
      const target = t.job.via!;
      byTarget.set(target, [...(byTarget.get(target) ?? []), t]);
    }
    for (const [target, files] of byTarget) {
      this.#polling.add(target);
      this.#pollTarget(target, files)
        .catch((error) => this.#fail(error))
        .finally(() => {
          this.#polling.delete(target);
          this.#wakeUp();
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
      if (error instanceof OutOfRotationError) return this.#moveAway(files);
      // An answer that can never be read (larger than the cap) would come back every round.
      if (!isTransient(error)) {
        for (const t of files) this.#settleError(t, `query failed: ${reasonOf(error)}`);
        return;
      }
      this.#options.onWarning?.(`poll failed, will try again: ${reasonOf(error)}`);
      for (const t of files) this.#schedule(t);
      return;
    }
    await Promise.all(files.map((t, i) => this.#onPollAnswer(t, answers[i])));
  }

  /**
   * Files whose target left the rotation are uploaded again to one still in
   * it: at most once each, within their upload tries.
   */
  #moveAway(files: Tracked[]): void {
    for (const t of files) {
      const from = t.job.via!;
      this.#options.rotation.load(from, -1);
      t.job.via = undefined;
      if (t.moved || t.uploads >= (this.#options.uploadAttempts ?? 3)) {
        this.#settleError(
          t,
          `appliance ${from.label} stopped answering (after ${t.uploads} uploads)`,
        );
        continue;
      }
      t.moved = true;
      this.#startUpload(t, 0);
    }
  }

  async #onPollAnswer(t: Tracked, answer: MatchedAnswer): Promise<void> {
    if (!this.#tracked.has(t.job.file.sha1)) return;
    if (answer.item) return await this.#apply(t, answer.item, "poll");
    t.lastMiss = answer.missing;
    if (++t.misses >= (this.#options.missLimit ?? 5)) {
      this.#settleError(t, `appliance gave no answer about this file (${t.lastMiss})`);
    } else this.#schedule(t);
  }

  async #apply(t: Tracked, item: ResponseItem, phase: Phase): Promise<void> {
    t.lastItem = item;
    t.misses = 0;
    t.lastStatus = describeStatus(item.te?.status ?? item.status);
    const step = await this.#applier.apply(t.job, item, phase);
    t.uploading = false;
    if (phase === "poll" && step.kind === "settled") this.#learn(t);
    if (phase === "poll" && step.kind === "wait") t.pendingAt = t.polledAt;
    this.#next(t, step, phase);
  }

  get #minRoundMs(): number {
    return Math.min(this.#options.minRoundMs ?? 1_000, this.#options.pollIntervalMs);
  }

  /**
   * Learns how long emulation takes on a target from a file that just got its
   * verdict. A first poll that finds the verdict says only that it took at most
   * that long: the estimate is taken a little below, so that it can come down.
   * After a poll that found it pending, the verdict came between the two polls.
   * (A first poll that comes early costs the file a whole round.)
   */
  #learn(t: Tracked): void {
    const target = t.job.via;
    if (t.uploadedAt === undefined || t.polledAt === undefined || !target) return;
    const took = t.pendingAt === undefined
      ? (t.polledAt - t.uploadedAt) * 0.97
      : (t.pendingAt + t.polledAt) / 2 - t.uploadedAt;
    const before = this.#emulationMs.get(target);
    this.#emulationMs.set(target, before === undefined ? took : before * 0.7 + took * 0.3);
  }

  #next(t: Tracked, step: NextStep, phase: Phase): void {
    if (step.kind === "settled") return this.#untrack(t);
    if (step.kind === "wait") return this.#schedule(t);
    if (step.kind === "retry" && step.askAgain) return this.#askAgain(t, step.reason, phase);
    const attempts = this.#options.uploadAttempts ?? UPLOAD_SENDS;
    if (t.uploads >= attempts) {
      const why = step.kind === "retry" ? step.reason : "appliance lost the file";
      return this.#settleError(t, `${why} (after ${t.uploads} uploads)`);
    }
    this.#options.onWarning?.(
      `${t.job.file.relPath}: ${phase} answered ${t.lastStatus}; uploading again`,
    );
    this.#startUpload(t, backoffMs(Math.max(0, t.uploads - 1), DEFAULT_RETRY));
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
    this.#schedule(t);
  }

  /** Uploads in the background: the poller goes on with the other files meanwhile. */
  #startUpload(t: Tracked, delayMs: number): void {
    t.uploading = true;
    const run = async () => {
      if (delayMs) await sleep(delayMs, this.#options.signal);
      await this.#upload(t);
    };
    run().catch((error) => this.#fail(error));
  }

  async #upload(t: Tracked): Promise<void> {
    const { rotation } = this.#options;
    if (!t.job.via) {
      t.job.via = await rotation.pick();
      rotation.load(t.job.via, 1);
    }
    t.uploads++;
    this.#gaugeUploading(1);
    let answer;
    try {
      const file = {
        ...t.job.file,
        name: basename(t.job.file.relPath),
        avKnown: t.job.cachedAv !== undefined,
      };
      answer = await rotation.call(t.job.via, (target) => target.upload(file));
    } catch (error) {
      t.uploading = false;
      if (isFatal(error)) throw error;
      return this.#uploadFailed(t, error);
    } finally {
      this.#gaugeUploading(-1);
    }
    t.job.uploaded = true;
    keepLatestScrub(t.job, answer.scrub);
    if (this.#scrubAgain(t, answer.scrub)) return;
    t.polls = 0;
    t.uploadedAt = performance.now();
    // Polls before this upload (of a copy the appliance lost) say nothing about this one.
    t.polledAt = t.pendingAt = undefined;
    // The file stays out of poll rounds until its upload answer is applied (`#apply`
    // clears the flag): applying a final answer downloads its reports, and a poll
    // answered meanwhile would settle the same file a second time.
    await this.#apply(t, answer.item, "upload");
  }

  /**
   * A transient Threat Extraction result (Timeout, Error, Disk limit, Out of
   * memory) asks for the cleaned copy again, within the file's upload budget;
   * the last answer stands once the budget is spent.
   */
  #scrubAgain(t: Tracked, scrub: ScrubOutcome | undefined): boolean {
    if (!scrub || scrubResultInfo(scrub.code).outcome !== "retry") return false;
    if (t.uploads >= (this.#options.uploadAttempts ?? 3)) return false;
    this.#options.onWarning?.(
      `${t.job.file.relPath}: Threat Extraction answered ${scrub.name}; uploading again`,
    );
    this.#startUpload(t, backoffMs(t.uploads - 1, DEFAULT_RETRY));
    return true;
  }

  /** Moves one file between the progress line's "uploading" and "in emulation". */
  #gaugeUploading(delta: 1 | -1): void {
    const progress = this.#options.progress;
    if (!progress) return;
    progress.uploading += delta;
    progress.emulating -= delta;
  }

  #uploadFailed(t: Tracked, error: unknown): void {
    if (error instanceof OutOfRotationError) return this.#moveAway([t]);
    if (error instanceof FileChangedError) {
      // Not the bytes that were hashed: no verdict can belong to them. It stays where it is.
      const reason = error instanceof OutsideInputError
        ? LEFT_INPUT
        : "changed while being scanned";
      this.#applier.settleError(t.job, reason, t.lastItem, true);
      return this.#untrack(t);
    }
    const reason = `upload failed: ${reasonOf(error)}`;
    const retryable = isTransient(error) || error instanceof ForeignAnswerError;
    if (retryable && t.uploads < (this.#options.uploadAttempts ?? UPLOAD_SENDS)) {
      // The poller asks again; an answer of NOT_FOUND brings the next upload.
      this.#options.onWarning?.(`${t.job.file.relPath}: ${reason}; will try again`);
      return this.#schedule(t);
    }
    this.#settleError(t, reason);
  }

  /**
   * When to ask about a pending file next: until a verdict on its target was
   * seen, every round at first and then a little less often; once one was,
   * first when emulation is expected to end, then at growing intervals. Never
   * longer than the poll interval.
   */
  #schedule(t: Tracked): void {
    const min = this.#minRoundMs;
    const cap = this.#options.pollIntervalMs;
    const learned = t.job.via ? this.#emulationMs.get(t.job.via) : undefined;
    let wait: number;
    // Until a verdict on this target shows how long emulation takes, ask about every round
    // at first, then less often (a first verdict found a round late delays every file).
    if (learned === undefined) wait = min * 1.15 ** Math.min(t.polls, 12);
    else if (t.polls === 0 && t.uploadedAt !== undefined) wait = learned;
    else wait = Math.max(min, learned * 0.2) * 1.5 ** Math.min(t.polls - 1, 8);
    t.nextPollAt = performance.now() + Math.min(cap, Math.max(min, wait));
    this.#wakeUp();
  }

  #settleError(t: Tracked, reason: string): void {
    this.#applier.settleError(t.job, reason, t.lastItem);
    this.#untrack(t);
  }

  #untrack(t: Tracked): void {
    if (!this.#tracked.delete(t.job.file.sha1)) return;
    if (t.job.via) this.#options.rotation.load(t.job.via, -1);
    if (this.#options.progress) this.#options.progress.emulating--;
    t.release();
    this.#wakeUp();
  }

  #fail(error: unknown): void {
    this.#failure ??= { error };
    for (const t of this.#tracked.values()) t.release(this.#failure.error);
    this.#tracked.clear();
    this.#wakeUp();
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
