/**
 * The one place an answer is applied to a file. The cache-query stage and
 * the poller both hand every answer here; it settles the file (a final
 * verdict with its reports, or a permanent error), passes a te_eb early
 * malicious verdict on once, and tells the stage what is left to do:
 * wait, upload, or retry.
 *
 * @module
 */

import type { ReportFormat, ResponseItem } from "../transport/protocol.ts";
import { refusal, refusedStatus, RUN_REFUSALS } from "../transport/transport.ts";
import { Code, describeStatus } from "../transport/status.ts";
import { decide, type DecideOptions, type Decision, type Phase } from "./decide.ts";
import { cloudExtraction, keepLatestScrub } from "./clean.ts";
import { fetchReports } from "./reports.ts";
import type {
  EarlyVerdict,
  Job,
  Outcome,
  PipelineItem,
  RecordedResponse,
  Settled,
} from "./types.ts";

type FinalDecision = Extract<Decision, { kind: "final" }>;

/**
 * The answer as the response file keeps it: after a gateway upload with
 * Threat Extraction, the upload's `scrub` result beside it (its file data
 * aside), as the gateway's own answer item holds both.
 */
function recorded(item: ResponseItem | undefined, job: Job): RecordedResponse | undefined {
  return item && job.scrub ? { ...item, scrub: job.scrub.raw } : item;
}

/** What a stage still has to do for a file after an answer. */
export type NextStep =
  | { kind: "settled" }
  | { kind: "wait" }
  | { kind: "upload" }
  /** `askAgain`: a transient answer (1009, 1011) about a file the target may have: query it. */
  | { kind: "retry"; reason: string; askAgain?: boolean };

/**
 * A refused key (1010) or a spent quota (1005) would fail every file alike:
 * the run stops instead (files not yet settled stay in place).
 */
function stopIfRefused(item: ResponseItem): void {
  refusal(item, RUN_REFUSALS);
}

/**
 * AV's cache answer is kept for the upload (which leaves AV out on a gateway)
 * and stands in for it in later answers that carry none.
 */
function withCachedAv(job: Job, item: ResponseItem, phase: Phase): ResponseItem {
  if (phase === "cache") {
    if (item.av?.status.code === Code.FOUND) job.cachedAv = item.av;
    return item;
  }
  return job.cachedAv && !item.av ? { ...item, av: job.cachedAv } : item;
}

function quotaSpent(item: ResponseItem): boolean {
  return refusedStatus(item, [Code.NO_QUOTA]) !== undefined;
}

/** Options of an {@linkcode AnswerApplier}. */
export interface ApplyOptions {
  /** The report formats to download for a malicious file. */
  reports: readonly ReportFormat[];
  /** Hash and ask only: an answer that is not final settles the file as skipped. */
  dryRun?: boolean;
  /** What the run asks for, as deciding an answer needs it. */
  decide?: DecideOptions;
  /** Passes a settled file or an early verdict downstream. */
  emit: (item: PipelineItem) => void;
}

/**
 * Applies answers for one stage.
 *
 * @example A final benign answer settles the file
 * ```ts
 * import { AnswerApplier } from "./apply.ts";
 * import type { Job, PipelineItem } from "./types.ts";
 * import assert from "node:assert/strict";
 *
 * const emitted: PipelineItem[] = [];
 * const applier = new AnswerApplier({ reports: [], emit: (item) => emitted.push(item) });
 * const job: Job = {
 *   kind: "job",
 *   file: { path: "/in/a", relPath: "a", size: 1, mtimeMs: 0, sha1: "aa" },
 *   startedAt: 0,
 *   needsUpload: false,
 * };
 * const found = { code: 1001, label: "FOUND" };
 * const step = await applier.apply(job, {
 *   status: found,
 *   sha1: "aa",
 *   te: { status: found, combined_verdict: "Benign" },
 * }, "cache");
 * assert.equal(step.kind, "settled");
 * assert.equal(emitted[0].kind === "settled" && emitted[0].outcome.state, "benign");
 * ```
 */
export class AnswerApplier {
  readonly #options: ApplyOptions;

  constructor(options: ApplyOptions) {
    this.#options = options;
  }

  /** Applies `item`, the answer about `job`'s file from `phase`. */
  async apply(job: Job, given: ResponseItem, phase: Phase): Promise<NextStep> {
    const item = withCachedAv(job, given, phase);
    // A dry run uploads nothing, so a spent quota only means the cache does not know the file.
    if (this.#options.dryRun && quotaSpent(item)) {
      return this.#dryRun(
        job,
        item,
        `no quota left to ask about it (${describeStatus(item.status)})`,
      );
    }
    stopIfRefused(item);
    const decision = decide(item, phase, this.#options.decide);
    switch (decision.kind) {
      case "final":
        this.#options.emit(await this.#final(job, item, decision));
        return { kind: "settled" };
      case "error":
        this.settleError(job, decision.reason, item);
        return { kind: "settled" };
      case "early-malicious":
        if (this.#options.dryRun) return this.#dryRun(job, item, "early malicious verdict");
        if (!job.earlySent) {
          job.earlySent = true;
          const early: EarlyVerdict = { kind: "early", file: job.file, response: item };
          if (decision.reason) early.reason = `${decision.reason}; final verdict and report follow`;
          this.#options.emit(early);
        }
        return { kind: decision.upload ? "upload" : "wait" };
      case "wait":
        if (this.#options.dryRun) {
          return this.#dryRun(job, item, `appliance answered ${describeStatus(item.status)}`);
        }
        return { kind: "wait" };
      case "upload":
        if (this.#options.dryRun) return this.#dryRun(job, item, "not in the appliance's cache");
        return { kind: "upload" };
      case "retry":
        return { kind: "retry", reason: decision.reason, askAgain: decision.askAgain };
      case "not-emulated":
        return this.#notEmulated(job, item);
    }
  }

  /** A file cleaned without emulation: no verdict, so it stays where it is (a skip). */
  #notEmulated(job: Job, item: ResponseItem): NextStep {
    const reason = "not emulated (--no-emulation): Threat Extraction only, the original untouched";
    const outcome: Outcome = {
      ...this.#common(job),
      state: "skipped",
      reason,
      response: recorded(item, job),
    };
    this.#options.emit({ kind: "settled", file: job.file, outcome });
    return { kind: "settled" };
  }

  /**
   * Settles `job` as an error with `reason` (and the last answer, if any);
   * `keepInPlace` for a file that must stay where it is (it changed).
   */
  settleError(job: Job, reason: string, item?: ResponseItem, keepInPlace = false): void {
    const response = recorded(item, job);
    const outcome: Outcome = { ...this.#common(job), state: "error", reason, response };
    if (keepInPlace) outcome.keepInPlace = true;
    this.#options.emit({ kind: "settled", file: job.file, outcome });
  }

  #dryRun(job: Job, item: ResponseItem, status: string): NextStep {
    this.#options.emit({
      kind: "settled",
      file: job.file,
      outcome: { state: "skipped", reason: `dry run: ${status}`, response: item },
    });
    return { kind: "settled" };
  }

  async #final(job: Job, item: ResponseItem, decision: FinalDecision): Promise<Settled> {
    const { state, verdict, note } = decision;
    const extractTo = this.#options.decide?.extractTo;
    if (extractTo && job.via) {
      keepLatestScrub(job, await cloudExtraction(item, job.via, extractTo, state));
    }
    const outcome: Outcome = {
      ...this.#common(job),
      state,
      verdict,
      response: recorded(item, job),
    };
    if (note) outcome.reason = note;
    const formats = this.#options.reports;
    const wanted = state === "malicious" || this.#options.decide?.benignReports === true;
    if (wanted && formats.length && job.via) {
      const { reports, errors } = await fetchReports(job.via, item, formats);
      outcome.reports = reports;
      if (errors.length) outcome.reportErrors = errors;
    }
    return { kind: "settled", file: job.file, outcome };
  }

  #common(job: Job): Pick<Outcome, "uploaded" | "early" | "elapsedMs" | "via" | "scrub"> {
    return {
      uploaded: job.uploaded ?? false,
      early: job.earlySent,
      elapsedMs: Math.round(performance.now() - job.startedAt),
      via: job.via?.label,
      scrub: job.scrub,
    };
  }
}
