/**
 * The cache-query stage: looks hashed files up in batches, so that a tree
 * the appliance already knows costs a few requests per thousand files.
 *
 * Files the cache settles (FOUND, or a permanent error) go on settled; files
 * it does not know go on to be uploaded; files it is still emulating (a run
 * that was interrupted, a copy uploaded by someone else) go on to be polled
 * without a second upload.
 *
 * @example
 * ```ts
 * import { cacheQueryStage } from "./cache_query.ts";
 * import type { ApplianceSession } from "../transport/appliance.ts";
 * declare const session: ApplianceSession;
 * const stage = cacheQueryStage(session, { flushMs: 50, dryRun: false });
 * ```
 * @module
 */

import { isFatal } from "../transport/fatal.ts";
import { decide } from "./decide.ts";
import type { Job, PipelineItem } from "./types.ts";
import type { ApplianceSession } from "../transport/appliance.ts";
import { safely } from "./streams.ts";
import { describeStatus } from "../transport/status.ts";

/** Options of the cache-query stage. */
export interface CacheQueryOptions {
  /** How long a partial batch waits for more files before it is sent. */
  flushMs: number;
  /** Hash and query only: unknown files are reported, not uploaded. */
  dryRun: boolean;
  /** Query requests out at once; default 4. */
  maxInFlight?: number;
}

/**
 * The stage.
 *
 * @example
 * ```ts
 * import { cacheQueryStage } from "./cache_query.ts";
 * import type { ApplianceSession } from "../transport/appliance.ts";
 * declare const session: ApplianceSession;
 * cacheQueryStage(session, { flushMs: 20, dryRun: true });
 * ```
 */
export function cacheQueryStage(
  session: ApplianceSession,
  options: CacheQueryOptions,
): TransformStream<PipelineItem, PipelineItem> {
  let batch: Job[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const inFlight = new Set<Promise<void>>();
  const maxInFlight = options.maxInFlight ?? 4;
  let failure: { error: unknown } | undefined;
  let out: TransformStreamDefaultController<PipelineItem>;

  async function send(jobs: Job[]): Promise<void> {
    let answers;
    try {
      answers = await session.query(jobs.map((job) => job.file));
    } catch (error) {
      if (isFatal(error)) throw error;
      // The poller asks again (and uploads what is unknown); a file is not failed for this.
      for (const job of jobs) out.enqueue({ ...job, needsUpload: false });
      return;
    }
    await Promise.all(jobs.map(async (job) => {
      const item = answers.get(job.file);
      if (!item) {
        // No answer for this file: let the poller ask again (and upload if unknown).
        out.enqueue({ ...job, needsUpload: false });
        return;
      }
      const decision = decide(item, "cache");
      if (decision.kind === "final") {
        out.enqueue(await session.settleFinal(job, item, decision, false));
      } else if (decision.kind === "error") {
        out.enqueue(session.settleError(job, decision.reason, item));
      } else if (options.dryRun) {
        const status = decision.kind === "upload"
          ? "not in the appliance's cache"
          : `appliance answered ${describeStatus(item.status)}`;
        out.enqueue({
          kind: "settled",
          file: job.file,
          outcome: { state: "skipped", reason: `dry run: ${status}`, response: item },
        });
      } else {
        if (decision.kind === "early-malicious") {
          out.enqueue({ kind: "early", file: job.file, response: item });
        }
        out.enqueue({
          ...job,
          needsUpload: decision.kind === "upload",
          earlySent: decision.kind === "early-malicious",
        });
      }
    }));
  }

  /** Sends the pending batch; resolves once fewer than `maxInFlight` queries are out. */
  async function flush(): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    if (batch.length) {
      const jobs = batch;
      batch = [];
      const sending: Promise<void> = send(jobs).catch((error) => {
        failure ??= { error };
        safely(() => out.error(error));
      }).finally(() => inFlight.delete(sending));
      inFlight.add(sending);
    }
    // A few queries in flight keep hashing busy while the appliance answers.
    while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
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
      batch.push(item);
      if (batch.length >= session.options.batchSize) {
        await flush();
      } else if (timer === undefined) {
        timer = setTimeout(() => void flush(), options.flushMs);
      }
    },
    async flush() {
      await flush();
      await Promise.all(inFlight);
      if (failure) throw failure.error;
    },
  });
}
