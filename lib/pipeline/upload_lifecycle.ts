/**
 * A tracked file's uploads: the first one, the uploads again within the
 * file's send budget (a lost file, a passing failure, a transient Threat
 * Extraction result), and the one move of a file whose target left the
 * rotation to a target still in it. The poller owns the polls and settles
 * files; this class only decides when a file's content goes out again.
 *
 * @module
 */

import { basename } from "node:path";
import { reasonOf } from "../util/reason.ts";
import { FileChangedError } from "../fs/identity.ts";
import { LEFT_INPUT, OutsideInputError } from "../fs/confine.ts";
import { sleep } from "../util/sleep.ts";
import type { ResponseItem } from "../transport/protocol.ts";
import {
  backoffMs,
  DEFAULT_RETRY,
  ForeignAnswerError,
  isFatal,
  isTransient,
  OutOfRotationError,
  type Rotation,
  type ScrubOutcome,
  scrubResultInfo,
} from "../transport/transport.ts";
import type { NextStep } from "./apply.ts";
import { keepLatestScrub } from "./clean.ts";
import type { Phase } from "./decide.ts";
import type { PollTiming } from "./poll_schedule.ts";
import type { RunProgress } from "./progress.ts";
import type { Job } from "./types.ts";

/**
 * How often one file's content is sent at most: each send streams the whole
 * file, so the tries are counted per file (an upload is never retried inside
 * the HTTP client), not multiplied by the HTTP retries.
 */
export const UPLOAD_SENDS = 4;

/** A file from admission to a final answer. */
export interface Tracked extends PollTiming {
  job: Job;
  uploads: number;
  /** Times a transient answer (1009, 1011) had the file asked about again. */
  askedAgain: number;
  /** It moved once already from a target that failed to another. */
  moved?: boolean;
  lastStatus?: string;
  lastItem?: ResponseItem;
  misses: number;
  lastMiss?: string;
  /** Ends the file's emulation slot. */
  release: (error?: unknown) => void;
}

/** What the uploads need from the run's options. */
export interface UploadOptions {
  rotation: Rotation;
  /** Sends of a file's content in all; default {@linkcode UPLOAD_SENDS}. */
  uploadAttempts?: number;
  onWarning?: (message: string) => void;
  progress?: RunProgress;
  signal?: AbortSignal;
}

/** What the uploads hand back to the poller. */
export interface UploadHost {
  /** Applies an upload's answer (and lets the file be polled again). */
  apply(t: Tracked, item: ResponseItem, phase: Phase): Promise<void>;
  /** Has the file asked about at its next poll. */
  reschedule(t: Tracked): void;
  /** Records that the file's upload was answered now. */
  uploaded(t: Tracked): void;
  /** Settles the file as an error; `keepInPlace` for bytes that changed. */
  settleError(t: Tracked, reason: string, keepInPlace?: boolean): void;
  /** Stops the run. */
  fail(error: unknown): void;
}

/**
 * Uploads tracked files, in the background, within each file's send budget.
 *
 * @example A file that moved once already is not moved again when its target leaves
 * ```ts
 * import { type Tracked, UploadLifecycle } from "./upload_lifecycle.ts";
 * import { CloudClient } from "../transport/cloud_client.ts";
 * import { CloudTransport } from "../transport/cloud.ts";
 * import { HttpClient } from "../transport/http.ts";
 * import { Rotation } from "../transport/rotation.ts";
 * import assert from "node:assert/strict";
 *
 * const http = new HttpClient("https://127.0.0.1:9", { trust: { kind: "insecure" } });
 * const options = { features: ["te" as const], reports: [], batchSize: 100, md5: false };
 * const target = new CloudTransport(new CloudClient(http), options);
 * const rotation = new Rotation([target], { graceMs: 60_000 });
 * const errors: string[] = [];
 * const uploads = new UploadLifecycle({ rotation }, {
 *   apply: () => Promise.resolve(),
 *   reschedule: () => {},
 *   uploaded: () => {},
 *   settleError: (_t, reason) => void errors.push(reason),
 *   fail: (error) => assert.fail(String(error)),
 * });
 * const file = { path: "/in/a", relPath: "a", size: 1, mtimeMs: 0, sha1: "a".repeat(40) };
 * const job = { kind: "job" as const, file, startedAt: 0, needsUpload: false, via: target };
 * const t: Tracked = {
 *   job, deadline: 0, nextPollAt: 0, polls: 0, uploading: false,
 *   uploads: 1, askedAgain: 0, misses: 0, moved: true, release: () => {},
 * };
 * rotation.load(target, 1);
 * uploads.moveAway([t]);
 * assert.deepEqual(errors, [`appliance ${target.label} stopped answering (after 1 uploads)`]);
 * assert.equal(t.job.via, undefined);
 * target.close();
 * ```
 */
export class UploadLifecycle {
  readonly #options: UploadOptions;
  readonly #host: UploadHost;

  constructor(options: UploadOptions, host: UploadHost) {
    this.#options = options;
    this.#host = host;
  }

  /** A file's sends in all, whatever sends it again: one budget. */
  get #sends(): number {
    return this.#options.uploadAttempts ?? UPLOAD_SENDS;
  }

  /** Uploads in the background after `delayMs`: the poller goes on meanwhile. */
  start(t: Tracked, delayMs: number): void {
    t.uploading = true;
    const run = async () => {
      if (delayMs) await sleep(delayMs, this.#options.signal);
      await this.#upload(t);
    };
    run().catch((error) => this.#host.fail(error));
  }

  /**
   * An answer asked for the file again (lost, or a passing failure): it is
   * uploaded again after a back-off, or settled once its sends are spent.
   */
  again(t: Tracked, step: NextStep, phase: Phase): void {
    if (t.uploads >= this.#sends) {
      const why = step.kind === "retry" ? step.reason : "appliance lost the file";
      return this.#host.settleError(t, `${why} (after ${t.uploads} uploads)`);
    }
    this.#options.onWarning?.(
      `${t.job.file.relPath}: ${phase} answered ${t.lastStatus}; uploading again`,
    );
    this.start(t, backoffMs(Math.max(0, t.uploads - 1), DEFAULT_RETRY));
  }

  /**
   * Files whose target left the rotation are uploaded again to one still in
   * it: at most once each, within their upload tries.
   */
  moveAway(files: Tracked[]): void {
    for (const t of files) {
      const from = t.job.via!;
      this.#options.rotation.load(from, -1);
      t.job.via = undefined;
      if (t.moved || t.uploads >= this.#sends) {
        this.#host.settleError(
          t,
          `appliance ${from.label} stopped answering (after ${t.uploads} uploads)`,
        );
        continue;
      }
      t.moved = true;
      this.start(t, 0);
    }
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
      return this.#failed(t, error);
    } finally {
      this.#gaugeUploading(-1);
    }
    t.job.uploaded = true;
    keepLatestScrub(t.job, answer.scrub);
    if (this.#scrubAgain(t, answer.scrub)) return;
    this.#host.uploaded(t);
    // The file stays out of poll rounds until its upload answer is applied (`apply`
    // clears the flag): applying a final answer downloads its reports, and a poll
    // answered meanwhile would settle the same file a second time.
    await this.#host.apply(t, answer.item, "upload");
  }

  /**
   * A transient Threat Extraction result (Timeout, Error, Disk limit, Out of
   * memory) asks for the cleaned copy again, within the file's upload budget;
   * the last answer stands once the budget is spent.
   */
  #scrubAgain(t: Tracked, scrub: ScrubOutcome | undefined): boolean {
    if (!scrub || scrubResultInfo(scrub.code).outcome !== "retry") return false;
    if (t.uploads >= this.#sends) return false;
    this.#options.onWarning?.(
      `${t.job.file.relPath}: Threat Extraction answered ${scrub.name}; uploading again`,
    );
    this.start(t, backoffMs(t.uploads - 1, DEFAULT_RETRY));
    return true;
  }

  /** Moves one file between the progress line's "uploading" and "in emulation". */
  #gaugeUploading(delta: 1 | -1): void {
    const progress = this.#options.progress;
    if (!progress) return;
    progress.uploading += delta;
    progress.emulating -= delta;
  }

  #failed(t: Tracked, error: unknown): void {
    if (error instanceof OutOfRotationError) return this.moveAway([t]);
    if (error instanceof FileChangedError) {
      // Not the bytes that were hashed: no verdict can belong to them. It stays where it is.
      const reason = error instanceof OutsideInputError
        ? LEFT_INPUT
        : "changed while being scanned";
      return this.#host.settleError(t, reason, true);
    }
    const reason = `upload failed: ${reasonOf(error)}`;
    const retryable = isTransient(error) || error instanceof ForeignAnswerError;
    if (retryable && t.uploads < this.#sends) {
      // The poller asks again; an answer of NOT_FOUND brings the next upload.
      this.#options.onWarning?.(`${t.job.file.relPath}: ${reason}; will try again`);
      return this.#host.reschedule(t);
    }
    this.#host.settleError(t, reason);
  }
}
