/**
 * Live gauges of a run, kept by the pipeline's stages and read by the
 * console's progress line: how many files the walk has found, whether it
 * has finished (then the total is known), and how many files are in each
 * stage right now. Counts of settled files by state live with the dispose
 * sink (`DisposeCounts`); these are the files still on their way.
 *
 * @module
 */

/**
 * The gauges. Stages add one when a file enters them and take one away when
 * it leaves; nothing here grows with the tree.
 *
 * @example Gauges of a run half-way
 * ```ts
 * import { RunProgress } from "./progress.ts";
 * import assert from "node:assert/strict";
 *
 * const progress = new RunProgress();
 * progress.found += 3;
 * progress.hashing++;
 * assert.equal(progress.inFlight, 1);
 * assert.equal(progress.total, undefined); // the walk is still going
 * progress.walkDone = true;
 * assert.equal(progress.total, 3);
 * ```
 */
export class RunProgress {
  /** Entries the walk has found so far: files to scan and entries it skipped. */
  found = 0;
  /** The walk has finished: `found` is the total. */
  walkDone = false;
  /** Files being read and hashed. */
  hashing = 0;
  /** Files waiting for (or in) a cache query. */
  querying = 0;
  /** Files being uploaded. */
  uploading = 0;
  /** Files uploaded (or known to the appliance) and waiting for their verdict. */
  emulating = 0;

  /** The number of files in the run, once the walk has finished. */
  get total(): number | undefined {
    return this.walkDone ? this.found : undefined;
  }

  /** Files past the walk and not settled yet. */
  get inFlight(): number {
    return this.hashing + this.querying + this.uploading + this.emulating;
  }
}
