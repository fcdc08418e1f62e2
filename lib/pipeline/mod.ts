/**
 * The scan pipeline, one Web Streams chain:
 * walk → hash → dedupe → cache query → upload and poll → dispose.
 *
 * @example
 * ```ts
 * import { runPipeline } from "./mod.ts";
 * import type { ApplianceSession } from "../transport/appliance.ts";
 * import type { Disposer } from "./dispose.ts";
 * declare const session: ApplianceSession;
 * declare const disposer: Disposer;
 * const { interrupted } = await runPipeline({
 *   walk: { root: "/drop" },
 *   session,
 *   disposer,
 *   concurrency: 4,
 *   pollIntervalMs: 5_000,
 *   timeoutMs: 900_000,
 *   dryRun: false,
 * });
 * ```
 * @module
 */

import { cacheQueryStage } from "./cache_query.ts";
import { DedupeIndex, dedupeStage } from "./dedupe.ts";
import { type Disposer, disposeSink } from "./dispose.ts";
import { hashStage } from "./hash.ts";
import type { ApplianceSession } from "../transport/appliance.ts";
import { uploadPollStage } from "./upload_poll.ts";
import { walk, type WalkOptions } from "./walk.ts";

/** Everything a run needs. */
export interface PipelineConfig {
  walk: WalkOptions;
  session: ApplianceSession;
  disposer: Disposer;
  concurrency: number;
  pollIntervalMs: number;
  timeoutMs: number;
  dryRun: boolean;
  /** Files hashed at once; default 4. */
  hashConcurrency?: number;
  /** Compute MD5 as well as SHA-1 (AV and the cloud need it). */
  md5?: boolean;
  /** How long a partial cache-query batch waits; default 50 ms. */
  flushMs?: number;
  /** Aborting stops the run: settled files stay settled, the others stay in place. */
  signal?: AbortSignal;
  onWarning?: (message: string) => void;
}

/**
 * Runs the pipeline to the end or until `signal` aborts.
 *
 * @example
 * ```ts
 * import { runPipeline, type PipelineConfig } from "./mod.ts";
 * declare const config: PipelineConfig;
 * await runPipeline(config);
 * ```
 */
export async function runPipeline(config: PipelineConfig): Promise<{ interrupted: boolean }> {
  const dedupe: DedupeIndex = config.disposer.options.dedupe ?? new DedupeIndex();
  try {
    await walk(config.walk)
      .pipeThrough(hashStage(config.hashConcurrency ?? 4, { md5: config.md5 }))
      .pipeThrough(dedupeStage(dedupe))
      .pipeThrough(cacheQueryStage(config.session, {
        flushMs: config.flushMs ?? 50,
        dryRun: config.dryRun,
      }))
      .pipeThrough(uploadPollStage(config.session, {
        concurrency: config.concurrency,
        pollIntervalMs: config.pollIntervalMs,
        timeoutMs: config.timeoutMs,
        onWarning: config.onWarning,
      }))
      .pipeTo(disposeSink(config.disposer), { signal: config.signal });
    return { interrupted: false };
  } catch (error) {
    if (config.signal?.aborted) return { interrupted: true };
    throw error;
  }
}
