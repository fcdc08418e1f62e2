/**
 * The scan pipeline, one Web Streams chain:
 * walk → hash → dedupe → cache query → upload and poll → dispose.
 *
 * The pipeline owns what its stages share: the dedupe groups (held before
 * the cache query, released after the poller), the live progress gauges,
 * and the run's abort signal.
 *
 * @module
 */

import type { ReportFormat } from "../transport/protocol.ts";
import type { Rotation } from "../transport/transport.ts";
import type { Confinement } from "../fs/confine.ts";
import { cacheQueryStage } from "./cache_query.ts";
import type { DecideOptions } from "./decide.ts";
import { Dedupe } from "./dedupe.ts";
import { disposeSink, type Settler } from "./dispose.ts";
import { hashStage } from "./hash.ts";
import { RunProgress } from "./progress.ts";
import { type Poller, uploadPollStage } from "./upload_poll.ts";
import { walk, type WalkItem, type WalkOptions } from "./walk.ts";
import { watch } from "./watch.ts";

/** Everything a run needs. */
export interface PipelineConfig {
  walk: WalkOptions;
  /** Files to take before the walk's: those a killed run left awaiting their final verdict. */
  resume?: WalkItem[];
  /** Keep watching the input: files are taken once they have stood still this long. */
  watch?: { settleMs: number; rescanMs?: number };
  /** Take the files these paths name instead of walking a folder (`--files-from`). */
  files?: ReadableStream<WalkItem>;
  /** The input folder files found in it are read inside of, by the hash and the upload. */
  confine?: Confinement;
  /** The targets files are asked about and uploaded to. */
  rotation: Rotation;
  disposer: Settler;
  /** Report formats to fetch for a malicious file. */
  reports: readonly ReportFormat[];
  concurrency: number;
  pollIntervalMs: number;
  timeoutMs: number;
  dryRun: boolean;
  /** What the run asks for, as deciding an answer needs it (AV only; extraction). */
  decide?: DecideOptions;
  /** Files hashed at once; default 4. */
  hashConcurrency?: number;
  /** How long a partial cache-query batch waits; default 50 ms. */
  flushMs?: number;
  /** The gauges the progress line reads; a fresh set when not given. */
  progress?: RunProgress;
  /** Aborting stops the run: settled files stay settled, the others stay in place. */
  signal?: AbortSignal;
  onWarning?: (message: string) => void;
}

/** Counts what the walk finds, and says when it is done (the total is then known). */
function counted(progress: RunProgress): TransformStream<WalkItem, WalkItem> {
  return new TransformStream({
    transform(item, controller) {
      progress.found++;
      controller.enqueue(item);
    },
    flush() {
      progress.walkDone = true;
    },
  });
}

/** The resumed files first, then the walk, the watch or the list of files. */
function sourceOf(config: PipelineConfig): ReadableStream<WalkItem> {
  const main = config.files ??
    (config.watch
      ? watch({ ...config.walk, ...config.watch, signal: config.signal })
      : walk(config.walk));
  const resume = config.resume ?? [];
  if (!resume.length) return main;
  return ReadableStream.from((async function* () {
    yield* resume;
    yield* main;
  })());
}

/**
 * What a run still holds about files when it ends: all zero after a run
 * that was not interrupted, whatever its size (nothing kept grows with the
 * tree).
 */
export interface Held {
  /** Files the poller tracks (uploaded or pending, not settled). */
  tracked: number;
  /** Contents whose first file has not settled (their copies wait). */
  contents: number;
  /** Files counted as in emulation on a target. */
  load: number;
  /** Files quarantined early, waiting for their final verdict. */
  awaitingFinal: number;
}

/** What a run ends with. */
export interface RunEnd {
  interrupted: boolean;
  held: Held;
}

/**
 * Runs the pipeline to the end or until `signal` aborts.
 *
 * @example Scan a folder against the built-in emulator
 * ```ts
 * import { runPipeline } from "./mod.ts";
 * import { Settler } from "./dispose.ts";
 * import { RunLog } from "../fs/run_log.ts";
 * import { CloudClient } from "../transport/cloud_client.ts";
 * import { CloudTransport } from "../transport/cloud.ts";
 * import { HttpClient } from "../transport/http.ts";
 * import { Rotation } from "../transport/rotation.ts";
 * import { DEFAULT_CA_PEM, startEmulator } from "../emulator/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/in`);
 * await Deno.writeTextFile(`${dir}/in/a.txt`, "fine");
 * await Deno.writeTextFile(`${dir}/in/b.doc`, "TE-EMULATOR-MALICIOUS");
 * const emulator = await startEmulator({ port: 0, emulationMs: 0, earlyMs: 0 });
 * const http = new HttpClient(emulator.url, { trust: { kind: "ca", caPem: [DEFAULT_CA_PEM] } });
 * const options = { features: ["te" as const], reports: [], batchSize: 100, md5: false };
 * const target = new CloudTransport(new CloudClient(http), options);
 * const log = await RunLog.open(`${dir}/te-scan.log.jsonl`);
 * const disposer = new Settler({
 *   reportsDir: `${dir}/rep`,
 *   folders: { benign: `${dir}/ok`, malicious: `${dir}/jail` },
 *   copy: false,
 *   log,
 * });
 * const end = await runPipeline({
 *   walk: { root: `${dir}/in` },
 *   rotation: new Rotation([target], { graceMs: 60_000 }),
 *   disposer,
 *   reports: [],
 *   concurrency: 4,
 *   pollIntervalMs: 10,
 *   timeoutMs: 10_000,
 *   dryRun: false,
 * });
 * log.close();
 * target.close();
 * await emulator.close();
 * assert.equal(end.interrupted, false);
 * assert.equal(await Deno.readTextFile(`${dir}/ok/a.txt`), "fine");
 * assert.equal(await Deno.readTextFile(`${dir}/jail/b.doc`), "TE-EMULATOR-MALICIOUS");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function runPipeline(config: PipelineConfig): Promise<RunEnd> {
  const dedupe = new Dedupe();
  const progress = config.progress ?? new RunProgress();
  const { rotation, signal } = config;
  let poller: Poller | undefined;
  const held = (): Held => ({
    tracked: poller?.size ?? 0,
    contents: dedupe.size,
    load: rotation.inEmulation,
    awaitingFinal: config.disposer.awaitingFinal,
  });
  try {
    await sourceOf(config)
      .pipeThrough(counted(progress))
      .pipeThrough(
        hashStage(config.hashConcurrency ?? 4, { progress, signal, confine: config.confine }),
      )
      .pipeThrough(dedupe.hold())
      .pipeThrough(cacheQueryStage({
        rotation,
        reports: config.reports,
        flushMs: config.flushMs ?? 50,
        dryRun: config.dryRun,
        // A dry run uploads nothing, extraction or not.
        decide: config.dryRun ? { ...config.decide, uploadKnown: false } : config.decide,
        progress,
        signal,
      }))
      .pipeThrough(uploadPollStage({
        rotation,
        reports: config.reports,
        decide: config.decide,
        concurrency: config.concurrency,
        pollIntervalMs: config.pollIntervalMs,
        timeoutMs: config.timeoutMs,
        onWarning: config.onWarning,
        progress,
        signal,
        onPoller: (created) => (poller = created),
      }))
      .pipeThrough(dedupe.release())
      .pipeTo(disposeSink(config.disposer), { signal });
    // A watch ends when the signal comes: that is an interruption too.
    return { interrupted: signal?.aborted ?? false, held: held() };
  } catch (error) {
    if (signal?.aborted) return { interrupted: true, held: held() };
    throw error;
  }
}
