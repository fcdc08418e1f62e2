/**
 * The upload-and-poll stage: at most `concurrency` files in emulation at
 * once; uploads stream from disk; ONE poller re-queries every pending file
 * in batches, with back-off, instead of a loop per file.
 *
 * A te_eb early malicious verdict is passed on at once (the sink
 * quarantines the file) while polling goes on for the final verdict and
 * report. Passing failures are retried; permanent ones and the per-file
 * deadline settle the file as an error with the reason.
 *
 * @example
 * ```ts
 * import { uploadPollStage } from "./upload_poll.ts";
 * import type { ApplianceSession } from "../transport/appliance.ts";
 * declare const session: ApplianceSession;
 * const stage = uploadPollStage(session, {
 *   concurrency: 4,
 *   pollIntervalMs: 5_000,
 *   timeoutMs: 600_000,
 * });
 * ```
 * @module
 */

import type { ResponseItem } from "../transport/cloud_types.ts";
import { describeStatus } from "../transport/status.ts";
import { backoffMs, DEFAULT_RETRY, sleep } from "../transport/retry.ts";
import { decide, type Decision } from "./decide.ts";
import { isFatal } from "../transport/fatal.ts";
import { reasonOf } from "../fs/errors.ts";
import { isTransient } from "../transport/cloud_client.ts";
import type { Job, PipelineItem } from "./types.ts";
import type { ApplianceSession } from "../transport/appliance.ts";
import { safely } from "./streams.ts";

/** Options of the upload-and-poll stage. */
export interface UploadPollOptions {
  /** Files in emulation at once (`-n`). */
  concurrency: number;
  /** Time between polls of a file at first; it backs off to 4× this. */
  pollIntervalMs: number;
  /** Per-file deadline from its admission to a final verdict. */
  timeoutMs: number;
  /** Upload tries for passing failures (in-body 1009/1011, lost files). */
  uploadAttempts?: number;
  /** Told about passing problems, for the log. */
  onWarning?: (message: string) => void;
}

interface Tracked {
  job: Job;
  deadline: number;
  nextPollAt: number;
  polls: number;
  uploads: number;
  uploaded: boolean;
  /** The file is being uploaded; the poller leaves it alone. */
  uploading: boolean;
  lastStatus?: string;
  lastItem?: ResponseItem;
  misses: number;
}

/**
 * The stage.
 *
 * @example
 * ```ts
 * import { uploadPollStage } from "./upload_poll.ts";
 * import type { ApplianceSession } from "../transport/appliance.ts";
 * declare const session: ApplianceSession;
 * uploadPollStage(session, { concurrency: 2, pollIntervalMs: 100, timeoutMs: 10_000 });
 * ```
 */
export function uploadPollStage(
  session: ApplianceSession,
  options: UploadPollOptions,
): TransformStream<PipelineItem, PipelineItem> {
  const tracked = new Map<string, Tracked>();
  const uploadAttempts = options.uploadAttempts ?? 3;
  const maxIntervalMs = options.pollIntervalMs * 4;
  let out: TransformStreamDefaultController<PipelineItem>;
  let failure: { error: unknown } | undefined;
  let slotFreed: () => void = () => {};
  let wakePoller: () => void = () => {};
  let poller: Promise<void> | undefined;
  let upstreamDone = false;

  function throwIfFailed(): void {
    if (failure) throw failure.error;
  }

  function fail(error: unknown): void {
    failure ??= { error };
    safely(() => out.error(error));
    slotFreed();
    wakePoller();
  }

  function settle(t: Tracked, item: PipelineItem): void {
    tracked.delete(t.job.file.sha1);
    safely(() => out.enqueue(item));
    slotFreed();
    wakePoller();
  }

  function schedule(t: Tracked): void {
    const interval = Math.min(maxIntervalMs, options.pollIntervalMs * 1.5 ** Math.min(t.polls, 4));
    t.nextPollAt = performance.now() + interval;
    wakePoller();
  }

  async function apply(t: Tracked, item: ResponseItem, decision: Decision, phase: string) {
    t.lastItem = item;
    t.lastStatus = describeStatus(item.te?.status ?? item.status);
    switch (decision.kind) {
      case "final":
        tracked.delete(t.job.file.sha1); // no more polls while the reports download
        settle(t, await session.settleFinal(t.job, item, decision, t.uploaded));
        return;
      case "error":
        settle(t, session.settleError(t.job, decision.reason, item, t.uploaded));
        return;
      case "early-malicious":
        if (!t.job.earlySent) {
          t.job.earlySent = true;
          safely(() => out.enqueue({ kind: "early", file: t.job.file, response: item }));
        }
        schedule(t);
        return;
      case "wait":
        schedule(t);
        return;
      case "upload":
      case "retry":
        if (t.uploads >= uploadAttempts) {
          const why = decision.kind === "retry" ? decision.reason : "appliance lost the file";
          settle(t, session.settleError(t.job, `${why} (after ${t.uploads} uploads)`, item, true));
          return;
        }
        options.onWarning?.(
          `${t.job.file.relPath}: ${phase} answered ${t.lastStatus}; uploading again`,
        );
        // Not awaited: the poller goes on with the other files while this one uploads.
        t.uploading = true;
        sleep(backoffMs(Math.max(0, t.uploads - 1), DEFAULT_RETRY))
          .then(() => upload(t))
          .catch(fail);
        return;
    }
  }

  async function upload(t: Tracked): Promise<void> {
    t.uploading = true;
    t.uploads++;
    const { file } = t.job;
    let item: ResponseItem;
    try {
      item = await session.upload(file);
    } catch (error) {
      t.uploading = false;
      if (isFatal(error)) return fail(error);
      const reason = `upload failed: ${reasonOf(error)}`;
      if (isTransient(error) && t.uploads < uploadAttempts) {
        // The poller asks again; an answer of NOT_FOUND brings the next upload.
        options.onWarning?.(`${file.relPath}: ${reason}; will try again`);
        schedule(t);
        return;
      }
      settle(t, session.settleError(t.job, reason));
      return;
    }
    t.uploading = false;
    t.uploaded = true;
    t.polls = 0;
    await apply(t, item, decide(item, "upload"), "upload");
  }

  async function pollDue(): Promise<void> {
    const now = performance.now();
    const due: Tracked[] = [];
    for (const t of tracked.values()) {
      if (t.uploading) continue;
      if (now >= t.deadline) {
        const last = t.lastStatus ? ` (last answer: ${t.lastStatus})` : "";
        const seconds = Math.round(options.timeoutMs / 1000);
        settle(
          t,
          session.settleError(
            t.job,
            `no final verdict within ${seconds} s${last}`,
            t.lastItem,
            t.uploaded,
          ),
        );
        continue;
      }
      // Files due within half an interval ride along: one request instead of two.
      if (t.nextPollAt <= now + options.pollIntervalMs / 2) due.push(t);
    }
    if (!due.length) return;
    for (const t of due) t.polls++;
    let answers;
    try {
      answers = await session.query(due.map((t) => t.job.file));
    } catch (error) {
      if (isFatal(error)) return fail(error);
      options.onWarning?.(`poll failed, will try again: ${(error as Error).message}`);
      for (const t of due) schedule(t);
      return;
    }
    await Promise.all(due.map(async (t) => {
      if (!tracked.has(t.job.file.sha1)) return;
      const item = answers.get(t.job.file);
      if (!item) {
        if (++t.misses >= 5) {
          settle(
            t,
            session.settleError(
              t.job,
              "appliance gave no answer for this file",
              undefined,
              t.uploaded,
            ),
          );
        } else schedule(t);
        return;
      }
      await apply(t, item, decide(item, "poll"), "poll");
    }));
  }

  async function runPoller(): Promise<void> {
    while (!failure && (tracked.size > 0 || !upstreamDone)) {
      const now = performance.now();
      let next = Infinity;
      for (const t of tracked.values()) {
        if (!t.uploading) next = Math.min(next, t.nextPollAt, t.deadline);
      }
      const wait = Math.max(0, Math.min(next - now, options.pollIntervalMs * 4));
      if (next === Infinity || wait > 0) {
        await new Promise<void>((resolve) => {
          wakePoller = resolve;
          if (next !== Infinity || upstreamDone) setTimeout(resolve, wait || 0);
          if (next === Infinity && upstreamDone && tracked.size === 0) resolve();
        });
        wakePoller = () => {};
        if (performance.now() < next - 1 && next !== Infinity) continue;
      }
      try {
        await pollDue();
      } catch (error) {
        fail(error);
      }
    }
  }

  function admit(job: Job): void {
    const now = performance.now();
    const t: Tracked = {
      job,
      deadline: now + options.timeoutMs,
      nextPollAt: now + options.pollIntervalMs,
      polls: 0,
      uploads: 0,
      uploaded: false,
      uploading: false,
      misses: 0,
    };
    tracked.set(job.file.sha1, t);
    if (job.needsUpload) {
      upload(t).catch(fail);
    } else {
      // Known to the appliance but not final (resumed run): poll without uploading.
      t.nextPollAt = now;
      wakePoller();
    }
    poller ??= runPoller();
  }

  return new TransformStream<PipelineItem, PipelineItem>({
    start(controller) {
      out = controller;
    },
    async transform(item, controller) {
      if (failure) throw failure.error;
      if (item.kind !== "job") {
        controller.enqueue(item);
        return;
      }
      while (tracked.size >= options.concurrency && !failure) {
        await new Promise<void>((resolve) => (slotFreed = resolve));
      }
      throwIfFailed();
      admit(item);
    },
    async flush() {
      upstreamDone = true;
      wakePoller();
      await poller;
      if (failure) throw failure.error;
    },
  });
}
