/**
 * The cache-query stage: looks hashed files up in batches, so that a tree
 * the appliance already knows costs a few requests per thousand files.
 *
 * Files the cache settles (FOUND, or a permanent error) go on settled; files
 * it does not know go on to be uploaded; files it is still emulating (a run
 * that was interrupted, a copy uploaded by someone else) go on to be polled
 * without a second upload. With several appliances, a file unknown to the
 * first is asked of the next, and so on: only the misses cost more requests.
 *
 * @module
 */

import { isFatal, type Rotation, type Transport } from "../transport/transport.ts";
import { AnswerApplier } from "./apply.ts";
import type { DecideOptions } from "./decide.ts";
import type { RunProgress } from "./progress.ts";
import { safely } from "./streams.ts";
import { TaskPool } from "./task_pool.ts";
import type { Job, PipelineItem } from "./types.ts";
import type { ReportFormat } from "../transport/protocol.ts";

/** Options of the cache-query stage. */
export interface CacheQueryOptions {
  rotation: Rotation;
  /** Report formats to fetch for a file the cache already knows is malicious. */
  reports: readonly ReportFormat[];
  /** How long a partial batch waits for more files before it is sent. */
  flushMs: number;
  /** Hash and query only: unknown files are reported, not uploaded. */
  dryRun: boolean;
  /** What the run asks for (AV only; extraction, so known files are uploaded too). */
  decide?: DecideOptions;
  /** Query requests out at once; default 4. */
  maxInFlight?: number;
  progress?: RunProgress;
  signal?: AbortSignal;
}

/**
 * Asks each target in rotation, in turn, about the jobs not settled by the
 * ones before; returns what is left to upload or poll.
 */
async function askTargets(
  jobs: Job[],
  options: CacheQueryOptions,
  applier: AnswerApplier,
  emit: (item: PipelineItem) => void,
): Promise<void> {
  let unknown = jobs;
  const pending: Job[] = [];
  for (const target of options.rotation.active) {
    if (!unknown.length) break;
    const asked = unknown;
    unknown = [];
    let answers;
    try {
      answers = await options.rotation.call(target, (t) => t.query(asked.map((job) => job.file)));
    } catch (error) {
      if (isFatal(error)) throw error;
      // The poller asks again (and uploads what is unknown); no file fails for this.
      pending.push(...asked.map((job) => ({ ...job, via: target })));
      continue;
    }
    await Promise.all(asked.map(async (job, i) => {
      const answer = answers[i];
      const asTarget: Job = { ...job, via: target };
      if (!answer.item) return void pending.push(asTarget);
      const step = await applier.apply(asTarget, answer.item, "cache");
      // The job as applied: an early quarantine it may have had goes with it.
      if (step.kind === "upload") unknown.push(asTarget);
      else if (step.kind !== "settled") pending.push(asTarget);
    }));
  }
  for (const job of pending) emit(job);
  // Unknown everywhere: the poller uploads it to the least-loaded target.
  for (const job of unknown) emit({ ...job, needsUpload: true, via: undefined });
}

/**
 * The stage.
 *
 * @example A file the emulator already knows settles from the cache
 * ```ts
 * import { cacheQueryStage } from "./cache_query.ts";
 * import type { PipelineItem } from "./types.ts";
 * import { CloudClient } from "../transport/cloud_client.ts";
 * import { CloudTransport } from "../transport/cloud.ts";
 * import { HttpClient } from "../transport/http.ts";
 * import { Rotation } from "../transport/rotation.ts";
 * import { DEFAULT_CA_PEM, startEmulator } from "../emulator/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const emulator = await startEmulator({ port: 0 });
 * const { sha1 } = emulator.learn(new TextEncoder().encode("fine"), "a.txt");
 * emulator.advanceClock(60_000);
 * const http = new HttpClient(emulator.url, { trust: { kind: "ca", caPem: [DEFAULT_CA_PEM] } });
 * const options = { features: ["te" as const], reports: [], batchSize: 100, md5: false };
 * const target = new CloudTransport(new CloudClient(http), options);
 * const rotation = new Rotation([target], { graceMs: 60_000 });
 * const stage = cacheQueryStage({ rotation, reports: [], flushMs: 1, dryRun: false });
 * const file = { path: "/in/a.txt", relPath: "a.txt", size: 4, mtimeMs: 0, sha1: sha1! };
 * const other = { ...file, relPath: "new.txt", sha1: "1".repeat(40) };
 * const jobs = ReadableStream.from<PipelineItem>([
 *   { kind: "job", file, startedAt: 0, needsUpload: false },
 *   { kind: "job", file: other, startedAt: 0, needsUpload: false },
 * ]);
 * const out = await Array.fromAsync(jobs.pipeThrough(stage));
 * assert.deepEqual(out.map((item) => `${item.kind} ${item.file.relPath}`), [
 *   "settled a.txt",
 *   "job new.txt",
 * ]);
 * target.close();
 * await emulator.close();
 * ```
 */
export function cacheQueryStage(
  options: CacheQueryOptions,
): TransformStream<PipelineItem, PipelineItem> {
  let batch: Job[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pool: TaskPool;
  let emit: (item: PipelineItem) => void;
  let applier: AnswerApplier;
  const batchSize = Math.min(...options.rotation.all.map((t: Transport) => t.batchSize));
  const progress = options.progress;

  /** Sends the pending batch; resolves once a query slot is free for the next one. */
  async function flush(): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    if (!batch.length) return;
    const jobs = batch;
    batch = [];
    await pool.run(async () => {
      try {
        await askTargets(jobs, options, applier, emit);
      } finally {
        if (progress) progress.querying -= jobs.length;
      }
    });
  }

  return new TransformStream<PipelineItem, PipelineItem>({
    start(controller) {
      emit = (item) => safely(() => controller.enqueue(item));
      applier = new AnswerApplier({
        reports: options.reports,
        dryRun: options.dryRun,
        decide: options.decide,
        emit,
      });
      pool = new TaskPool(options.maxInFlight ?? 4, {
        signal: options.signal,
        onFailure: (error) => controller.error(error),
      });
    },
    async transform(item, controller) {
      if (item.kind !== "job") return controller.enqueue(item);
      batch.push(item);
      if (progress) progress.querying++;
      if (batch.length >= batchSize) await flush();
      else timer ??= setTimeout(() => void flush().catch(() => {}), options.flushMs);
    },
    async flush() {
      await flush();
      await pool.drain();
    },
  });
}
