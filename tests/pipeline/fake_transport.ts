/**
 * A scripted stand-in for a target, for unit tests of the poller and the
 * stages (no network): each content answers queries from its own script,
 * and every call is recorded in order.
 *
 * @module
 */

import type { ResponseItem } from "../../lib/transport/protocol.ts";
import type {
  Download,
  FileDigests,
  MatchedAnswer,
  ScrubOutcome,
  Transport,
  UploadAnswer,
  UploadFile,
} from "../../lib/transport/transport.ts";

const FOUND = { code: 1001, label: "FOUND" };
const PENDING = { code: 1003, label: "PENDING" };

/** A final benign answer about `sha1`. */
export function benign(sha1: string): ResponseItem {
  return { status: FOUND, sha1, te: { status: FOUND, combined_verdict: "Benign" } };
}

/** A pending answer about `sha1`. */
export function pending(sha1: string): ResponseItem {
  return { status: PENDING, sha1, te: { status: PENDING } };
}

/** An upload-success answer about `sha1`. */
export function uploaded(sha1: string): ResponseItem {
  const status = { code: 1002, label: "UPLOAD_SUCCESS" };
  return { status, sha1, te: { status } };
}

/** A target whose answers a test writes in advance. */
export class FakeTransport implements Transport {
  readonly label = "fake:18194";
  readonly batchSize: number;
  /** Every call in order: `query a,b` or `upload a`. */
  readonly calls: string[] = [];
  /** sha1 → answers to its queries, in order; the last one repeats. */
  readonly queryScript = new Map<string, ResponseItem[]>();
  /** sha1 → the answer to its upload (default UPLOAD_SUCCESS). */
  readonly uploadAnswers = new Map<string, ResponseItem>();
  /** When set, an uploaded file is pending for this long after its upload, then benign. */
  emulationMs?: number;
  readonly #uploadedAt = new Map<string, number>();
  /** sha1 → the Threat Extraction result its upload answers with. */
  readonly uploadScrubs = new Map<string, ScrubOutcome>();

  constructor(batchSize = 100) {
    this.batchSize = batchSize;
  }

  query(files: readonly FileDigests[]): Promise<MatchedAnswer[]> {
    this.calls.push(`query ${files.map((f) => f.sha1).join(",")}`);
    return Promise.resolve(files.map((file) => {
      const uploadedAt = this.#uploadedAt.get(file.sha1!);
      if (this.emulationMs !== undefined && uploadedAt !== undefined) {
        const done = performance.now() - uploadedAt >= this.emulationMs;
        return { item: done ? benign(file.sha1!) : pending(file.sha1!) };
      }
      const script = this.queryScript.get(file.sha1!);
      if (!script?.length) return { missing: "not scripted" };
      return { item: script.length > 1 ? script.shift()! : script[0] };
    }));
  }

  upload(file: UploadFile): Promise<UploadAnswer> {
    this.calls.push(`upload ${file.sha1}`);
    this.#uploadedAt.set(file.sha1, performance.now());
    const item = this.uploadAnswers.get(file.sha1) ?? uploaded(file.sha1);
    const scrub = this.uploadScrubs.get(file.sha1);
    return Promise.resolve(scrub ? { item, scrub } : { item });
  }

  download(_id: string): Promise<Download> {
    return Promise.reject(new Error("no reports here"));
  }

  preflight(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {}
}
