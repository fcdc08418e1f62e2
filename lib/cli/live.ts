/**
 * A run's outputs kept current while it runs: a watch service's
 * `summary.json` and `index.html`, and the `--metrics` file, rewritten
 * (each whole, by rename) at most once per interval, and only when
 * something changed, so a long-running service always has a current page
 * and numbers to scrape.
 *
 * @module
 */

import { join } from "node:path";
import type { DisposeCounts } from "../pipeline/dispose.ts";
import type { RunProgress } from "../pipeline/progress.ts";
import { replaceFile } from "../fs/move.ts";
import { type RunSummary, writeRunPage } from "./run_page.ts";

/** What {@linkcode LiveOutputs} writes and how often. */
export interface LiveOptions {
  /** Writes the outputs once (each file whole); `changed` when `version` moved since. */
  write: (changed: boolean) => Promise<void>;
  /** The shortest time between two writes; default 2 s. */
  intervalMs?: number;
  /** Write every interval even when nothing changed (gauges such as queue depth move). */
  always?: boolean;
  /** A number that changes when what the outputs show changes (files settled). */
  version: () => number;
  /** Told when a write fails (once until one succeeds again). */
  onError?: (error: unknown) => void;
}

/**
 * Rewrites a run's outputs while it runs, at most once per interval.
 *
 * @example A settled file brings one write at the next tick
 * ```ts
 * import { LiveOutputs } from "./live.ts";
 * import assert from "node:assert/strict";
 *
 * let writes = 0;
 * let settled = 0;
 * const live = new LiveOutputs({
 *   write: () => Promise.resolve(void writes++),
 *   version: () => settled,
 *   intervalMs: 10,
 * });
 * settled++;
 * await live.flush();
 * assert.equal(writes, 1);
 * await live.flush();
 * assert.equal(writes, 1, "nothing changed since");
 * live.stop();
 * ```
 */
export class LiveOutputs {
  readonly #options: LiveOptions;
  readonly #timer: ReturnType<typeof setInterval>;
  #written?: number;
  #writing?: Promise<void>;
  #failing = false;

  constructor(options: LiveOptions) {
    this.#options = options;
    this.#timer = setInterval(() => void this.flush(), options.intervalMs ?? 2_000);
  }

  /** Writes now if something changed (or always); never two writes at once. */
  flush(): Promise<void> {
    const version = this.#options.version();
    if (this.#writing) return this.#writing;
    const changed = version !== this.#written;
    if (!changed && !this.#options.always) return Promise.resolve();
    this.#written = version;
    this.#writing = this.#options.write(changed).then(
      () => void (this.#failing = false),
      (error) => {
        if (!this.#failing) this.#options.onError?.(error);
        this.#failing = true;
      },
    ).finally(() => (this.#writing = undefined));
    return this.#writing;
  }

  /** Stops the timer and waits for a write under way. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#writing;
  }
}

/** One target's health, for the metrics. */
export interface TargetHealth {
  label: string;
  up: boolean;
}

/** What the metrics are made of. */
export interface MetricsSource {
  counts: DisposeCounts;
  progress: RunProgress;
  targets: readonly TargetHealth[];
}

/** A label value in the Prometheus text format: `\`, `"` and newlines escaped. */
function labelValue(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/**
 * The run's counters in the Prometheus text format, for node_exporter's
 * textfile collector: files by state, bytes, uploads, queue depth by
 * stage, and each target's health.
 *
 * @example Counters of a run with one benign file
 * ```ts
 * import { metricsText } from "./live.ts";
 * import { zeroCounts } from "../pipeline/dispose.ts";
 * import { RunProgress } from "../pipeline/progress.ts";
 * import assert from "node:assert/strict";
 *
 * const counts = { ...zeroCounts(), benign: 1, bytes: 42, uploaded: 1 };
 * const text = metricsText({
 *   counts,
 *   progress: new RunProgress(),
 *   targets: [{ label: "10.1.1.5:18194", up: true }],
 * });
 * assert.match(text, /^te_scan_files_total\{state="benign"\} 1$/m);
 * assert.match(text, /^te_scan_bytes_total 42$/m);
 * assert.match(text, /^te_scan_target_up\{target="10.1.1.5:18194"\} 1$/m);
 * ```
 */
export function metricsText(source: MetricsSource): string {
  const { counts, progress, targets } = source;
  const states = ["benign", "malicious", "error", "skipped"] as const;
  const stages = {
    hashing: progress.hashing,
    querying: progress.querying,
    uploading: progress.uploading,
    emulating: progress.emulating,
  };
  const lines = [
    "# HELP te_scan_files_total Files settled, by final state.",
    "# TYPE te_scan_files_total counter",
    ...states.map((state) => `te_scan_files_total{state="${state}"} ${counts[state]}`),
    "# HELP te_scan_bytes_total Bytes of the files settled.",
    "# TYPE te_scan_bytes_total counter",
    `te_scan_bytes_total ${counts.bytes}`,
    "# HELP te_scan_uploads_total Files uploaded for emulation.",
    "# TYPE te_scan_uploads_total counter",
    `te_scan_uploads_total ${counts.uploaded}`,
    "# HELP te_scan_queue_files Files on their way, by stage.",
    "# TYPE te_scan_queue_files gauge",
    ...Object.entries(stages).map(([stage, n]) => `te_scan_queue_files{stage="${stage}"} ${n}`),
    "# HELP te_scan_target_up Whether a target is in rotation (1) or failing (0).",
    "# TYPE te_scan_target_up gauge",
    ...targets.map((t) => `te_scan_target_up{target="${labelValue(t.label)}"} ${t.up ? 1 : 0}`),
    "# HELP te_scan_last_update_seconds When these numbers were written (Unix time).",
    "# TYPE te_scan_last_update_seconds gauge",
    `te_scan_last_update_seconds ${Math.round(Date.now() / 1000)}`,
  ];
  return lines.join("\n") + "\n";
}

/** A running scan's outputs, as {@linkcode startLiveRun} keeps them current. */
export interface LiveRun {
  /** A watch service: `summary.json` and `index.html` too. */
  watch: boolean;
  /** `--metrics FILE`. */
  metricsPath?: string;
  /** The run's summary as it stands. */
  summary: () => RunSummary;
  metrics: () => MetricsSource;
  /** Changes when files settle. */
  version: () => number;
  /** The run log, and the byte this run's events start at. */
  logPath: string;
  logStart: number;
  tempDir?: string;
  onError: (error: unknown) => void;
  intervalMs?: number;
}

/**
 * Writes `summary.json` whole (temporary name, rename).
 *
 * @example The summary of a run
 * ```ts
 * import { writeSummary } from "./live.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await writeSummary(dir, { exit_code: 0 });
 * assert.equal(JSON.parse(await Deno.readTextFile(`${dir}/summary.json`)).exit_code, 0);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeSummary(
  reportsDir: string,
  summary: Record<string, unknown> | RunSummary,
  tempDir?: string,
): Promise<string> {
  const path = join(reportsDir, "summary.json");
  await replaceFile(path, JSON.stringify(summary, null, 2) + "\n", { tempDir });
  return path;
}

/** Writes the metrics file whole, when there is one. */
export async function writeMetrics(run: Pick<LiveRun, "metricsPath" | "metrics">): Promise<void> {
  if (run.metricsPath !== undefined) await replaceFile(run.metricsPath, metricsText(run.metrics()));
}

/**
 * Keeps a running scan's outputs current: under `--watch` its summary and
 * page (when files settled since the last write), with `--metrics` the
 * metrics (every interval: gauges move even when no file settles). None of
 * these: nothing to keep.
 */
export function startLiveRun(run: LiveRun): LiveOutputs | undefined {
  if (!run.watch && run.metricsPath === undefined) return undefined;
  return new LiveOutputs({
    intervalMs: run.intervalMs,
    always: run.metricsPath !== undefined,
    version: run.version,
    onError: run.onError,
    write: async (changed) => {
      await writeMetrics(run);
      // The page reads the run's log again: only when files settled since.
      if (!run.watch || !changed) return;
      const summary = run.summary();
      await writeSummary(summary.reports_dir, summary, run.tempDir);
      await writeRunPage({ ...run, summary });
    },
  });
}
