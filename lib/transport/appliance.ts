/**
 * What the cache-query and upload-and-poll stages share: the request each
 * file is asked with, batched queries whose answers are matched back to
 * files by digest, and turning a final answer into a settled outcome (with
 * the reports of a malicious file).
 *
 * @example
 * ```ts
 * import { ApplianceSession } from "./appliance.ts";
 * import type { CloudClient } from "./cloud_client.ts";
 * declare const client: CloudClient;
 * const session = new ApplianceSession(client, {
 *   features: ["te", "te_eb"],
 *   reports: ["summary"],
 *   batchSize: 100,
 * });
 * ```
 * @module
 */

import { basename, extname } from "node:path";
import { type CloudClient, isTransient } from "./cloud_client.ts";
import type { Feature, ImageRef, ReportFormat, RequestItem, ResponseItem } from "./cloud_types.ts";
import type { UploadSource } from "./multipart.ts";
import type { Decision } from "../pipeline/decide.ts";
import { reasonOf } from "../fs/errors.ts";
import { ApplianceDownError } from "./fatal.ts";
import { fetchReports } from "../pipeline/reports.ts";
import type { HashedFile, Job, Settled } from "../pipeline/types.ts";

/** How files are asked about. */
export interface SessionOptions {
  features: Feature[];
  reports: ReportFormat[];
  images?: ImageRef[];
  /** Request objects per query request. */
  batchSize: number;
  /**
   * Requests in a row that may fail (each after its own retries) before the
   * appliance is taken out of rotation; default 3.
   */
  maxConsecutiveFailures?: number;
}

/**
 * Runs queries and settles outcomes for one appliance.
 *
 * @example
 * ```ts
 * import { ApplianceSession } from "./appliance.ts";
 * import type { CloudClient } from "./cloud_client.ts";
 * declare const client: CloudClient;
 * const session = new ApplianceSession(client, { features: ["te"], reports: [], batchSize: 50 });
 * ```
 */
export class ApplianceSession {
  #failuresInARow = 0;

  constructor(readonly client: CloudClient, readonly options: SessionOptions) {}

  /**
   * Runs one request and keeps count of passing failures in a row; past the
   * limit the appliance is out of rotation and the run must stop.
   */
  async #guard<T>(request: () => Promise<T>): Promise<T> {
    const limit = this.options.maxConsecutiveFailures ?? 3;
    if (this.#failuresInARow >= limit) {
      throw new ApplianceDownError(`appliance ${this.client.host} is out of rotation`);
    }
    try {
      const result = await request();
      this.#failuresInARow = 0;
      return result;
    } catch (error) {
      if (!isTransient(error)) throw error;
      if (++this.#failuresInARow >= limit) {
        throw new ApplianceDownError(
          `appliance ${this.client.host} failed ${this.#failuresInARow} requests in a row ` +
            `(last: ${reasonOf(error)}); files not yet settled were left in place`,
        );
      }
      throw error;
    }
  }

  /** Uploads one file (see {@linkcode CloudClient.upload}). */
  upload(file: HashedFile): Promise<ResponseItem> {
    const request = this.requestFor(file, true);
    const source: UploadSource = { path: file.path, size: file.size, name: basename(file.relPath) };
    return this.#guard(() => this.client.upload(source, request));
  }

  /**
   * The request object for a file. sha1 is what appliances key on (te_api
   * queries by sha1); md5, when computed, because AV looks files up by md5 only.
   */
  requestFor(file: HashedFile, withName = false): RequestItem {
    const { features, reports, images } = this.options;
    const item: RequestItem = { sha1: file.sha1, features: [...features] };
    if (file.md5) item.md5 = file.md5;
    if (withName) {
      const name = basename(file.relPath);
      item.file_name = name;
      const extension = extname(name);
      if (extension) item.file_type = extension.slice(1).toLowerCase();
    }
    if (features.includes("te")) {
      item.te = { reports: [...reports] };
      if (images?.length) item.te.images = images;
    }
    return item;
  }

  /**
   * Queries files in batches of `batchSize`. Each answer is matched back by
   * sha1, then md5; a file the server did not answer for maps to undefined.
   */
  async query(files: HashedFile[]): Promise<Map<HashedFile, ResponseItem | undefined>> {
    const matched = new Map<HashedFile, ResponseItem | undefined>();
    for (let start = 0; start < files.length; start += this.options.batchSize) {
      const batch = files.slice(start, start + this.options.batchSize);
      const { items } = await this.#guard(() =>
        this.client.query(batch.map((file) => this.requestFor(file)))
      );
      const bySha1 = new Map<string, ResponseItem>();
      const byMd5 = new Map<string, ResponseItem>();
      for (const item of items) {
        if (item.sha1) bySha1.set(item.sha1.toLowerCase(), item);
        if (item.md5) byMd5.set(item.md5.toLowerCase(), item);
      }
      for (const [i, file] of batch.entries()) {
        // Servers that echo no digest are matched by position when the counts agree.
        const positional = items.length === batch.length ? items[i] : undefined;
        const byDigest = bySha1.get(file.sha1) ?? (file.md5 ? byMd5.get(file.md5) : undefined);
        matched.set(file, byDigest ?? positional);
      }
    }
    return matched;
  }

  /** A final decision as a settled outcome, downloading the reports of a malicious file. */
  async settleFinal(
    job: Job,
    item: ResponseItem,
    decision: Extract<Decision, { kind: "final" }>,
    uploaded: boolean,
  ): Promise<Settled> {
    const elapsedMs = Math.round(performance.now() - job.startedAt);
    const outcome: Settled["outcome"] = {
      state: decision.state,
      verdict: decision.verdict,
      response: item,
      uploaded,
      early: job.earlySent,
      elapsedMs,
    };
    if (decision.state === "malicious" && this.options.reports.length) {
      const { reports, errors } = await fetchReports(this.client, item, this.options.reports);
      outcome.reports = reports;
      if (errors.length) outcome.reportErrors = errors;
    }
    return { kind: "settled", file: job.file, outcome };
  }

  /** An error outcome for a job. */
  settleError(job: Job, reason: string, item?: ResponseItem, uploaded = false): Settled {
    return {
      kind: "settled",
      file: job.file,
      outcome: {
        state: "error",
        reason,
        response: item,
        uploaded,
        early: job.earlySent,
        elapsedMs: Math.round(performance.now() - job.startedAt),
      },
    };
  }
}
