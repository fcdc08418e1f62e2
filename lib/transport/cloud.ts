/**
 * The {@linkcode Transport} for the cloud-format API: TE appliances
 * (`--ip HOST`, port 18194) and the Check Point cloud (`--url`). It builds
 * the request object each file is asked with, batches queries, and matches
 * every answer to its file by digest before the pipeline sees it.
 *
 * @module
 */

import { basename, extname } from "node:path";
import type { CloudClient } from "./cloud_client.ts";
import type { Feature, ImageRef, ReportFormat, RequestItem, ResponseItem } from "./cloud_types.ts";
import { AuthError } from "./cloud_client.ts";
import { QuotaError } from "./fatal.ts";
import { matchAnswers, queryInBatches } from "./match.ts";
import { Code, describeStatus } from "./status.ts";
import { ProtocolError } from "./validate.ts";
import type {
  Download,
  FileDigests,
  MatchedAnswer,
  Transport,
  UploadAnswer,
  UploadFile,
} from "./transport.ts";

/** What every file is asked for. */
export interface AskOptions {
  features: Feature[];
  reports: ReportFormat[];
  images?: ImageRef[];
  /** Request objects per query request. */
  batchSize: number;
  /** Hash with MD5 too: AV looks files up by md5 only, and the cloud answers FOUND for md5. */
  md5: boolean;
}

/** An upload answered with an item about other content: it is not this file's answer. */
export class ForeignAnswerError extends Error {
  override name = "ForeignAnswerError";
}

/**
 * Throws when an answer refuses the request itself rather than answering
 * about a file: the key (1010), the quota (1005), the request's format (1008).
 */
export function refusal(item: ResponseItem): void {
  const codes = [item.status.code, item.te?.status.code];
  if (codes.includes(Code.FORBIDDEN)) {
    throw new AuthError(`the API refused the request (${describeStatus(item.status)})`);
  }
  if (codes.includes(Code.NO_QUOTA)) {
    throw new QuotaError(`the API key has no quota left (${describeStatus(item.status)})`);
  }
  if (codes.includes(Code.BAD_REQUEST)) {
    throw new ProtocolError(`it refused a well-formed query (${describeStatus(item.status)})`);
  }
}

/**
 * The cloud-format request object a file is asked with: its digests (sha1
 * is what appliances key on; md5, when computed, because AV looks files up
 * by md5), the features, the reports and images for te, and with a `name`
 * its file name and type; te always asks for error verdicts and the engine
 * version ({@linkcode TE_ASK_ERRORS}). A gateway nests the same object in its QueryFile
 * and UploadFile requests.
 *
 * @example Asked with a name
 * ```ts
 * import { requestItem } from "./cloud.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(
 *   requestItem(
 *     { sha1: "aa", md5: "bb" },
 *     { features: ["te", "av"], reports: ["summary"] },
 *     "A.DOCX",
 *   ),
 *   {
 *     features: ["te", "av"],
 *     sha1: "aa",
 *     md5: "bb",
 *     file_name: "A.DOCX",
 *     file_type: "docx",
 *     te: { reports: ["summary"], return_errors: true, version_info: true },
 *   },
 * );
 * ```
 */
export function requestItem(
  file: FileDigests,
  ask: Pick<AskOptions, "features" | "reports" | "images">,
  name?: string,
): RequestItem {
  const { features, reports, images } = ask;
  const item: RequestItem = { features: [...features] };
  if (file.sha1) item.sha1 = file.sha1;
  if (file.md5) item.md5 = file.md5;
  if (file.sha256) item.sha256 = file.sha256;
  if (name !== undefined) {
    item.file_name = name;
    const extension = extname(name);
    if (extension) item.file_type = extension.slice(1).toLowerCase();
  }
  if (features.includes("te")) {
    item.te = { reports: [...reports], ...TE_ASK_ERRORS };
    if (images?.length) item.te.images = images;
  }
  return item;
}

/**
 * Asked in every te request object, as Check Point's te_api asks: an
 * emulation that failed comes back as an error verdict instead of a plain
 * (benign) one, and the answer names the TE engine's version (sk167161).
 */
export const TE_ASK_ERRORS = { return_errors: true, version_info: true } as const;

/** A hash no file has: the preflight asks for it, and any API answers NOT_FOUND. */
const NO_SUCH_SHA1 = "0".repeat(40);

/**
 * A cloud-format target.
 *
 * @example Ask an emulator about a hash it has never seen
 * ```ts
 * import { CloudClient } from "./cloud_client.ts";
 * import { CloudTransport } from "./cloud.ts";
 * import { HttpClient } from "./http.ts";
 * import { DEFAULT_CA_PEM, startEmulator } from "../emulator/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const emulator = await startEmulator({ port: 0 });
 * const http = new HttpClient(emulator.url, { trust: { kind: "ca", caPem: [DEFAULT_CA_PEM] } });
 * const target = new CloudTransport(new CloudClient(http), {
 *   features: ["te"],
 *   reports: ["summary"],
 *   batchSize: 100,
 *   md5: false,
 * });
 * await target.preflight();
 * const [answer] = await target.query([{ sha1: "1".repeat(40) }]);
 * assert.equal(answer.item?.status.label, "NOT_FOUND");
 * target.close();
 * await emulator.close();
 * ```
 */
export class CloudTransport implements Transport {
  constructor(readonly client: CloudClient, readonly options: AskOptions) {}

  get label(): string {
    return this.client.host;
  }

  get batchSize(): number {
    return this.options.batchSize;
  }

  get needsMd5(): boolean {
    return this.options.md5;
  }

  /** The request object for a file (see {@linkcode requestItem}). */
  requestFor(file: FileDigests, name?: string): RequestItem {
    return requestItem(file, this.options, name);
  }

  query(files: readonly FileDigests[]): Promise<MatchedAnswer[]> {
    return queryInBatches(files, this.batchSize, async (batch) => {
      const { items } = await this.client.query(batch.map((file) => this.requestFor(file)));
      return items;
    });
  }

  async upload(file: UploadFile): Promise<UploadAnswer> {
    const name = basename(file.name);
    const item = await this.client.upload(
      {
        path: file.path,
        size: file.size,
        name,
        mtimeMs: file.mtimeMs,
        confinedTo: file.confinedTo,
      },
      this.requestFor(file, name),
    );
    const [matched] = matchAnswers([file], [item]);
    if (!matched.item) throw new ForeignAnswerError(`upload answer: ${matched.missing}`);
    return { item: matched.item };
  }

  download(id: string): Promise<Download> {
    return this.client.download(id);
  }

  async preflight(signal?: AbortSignal): Promise<void> {
    const { items } = await this.client.query([this.requestFor({ sha1: NO_SUCH_SHA1 })], {
      retry: false,
      signal,
    });
    if (items.length !== 1) {
      throw new ProtocolError(`expected one answer item, got ${items.length}`);
    }
    refusal(items[0]);
  }

  close(): void {
    this.client.close();
  }
}
