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
import type {
  ExtractionRequest,
  ExtractionResult,
  Feature,
  ImageRef,
  ReportFormat,
  RequestItem,
} from "./protocol.ts";
import { ForeignAnswerError, refusal } from "./fatal.ts";
import { matchAnswers, queryInBatches } from "./match.ts";
import { Code, describeStatus } from "./status.ts";
import { scrubResultInfo } from "./tpapi_types.ts";
import { ProtocolError } from "./validate.ts";
import type {
  Download,
  FileDigests,
  MatchedAnswer,
  ScrubOutcome,
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
  /** Cloud Threat Extraction (`--extract` with `--url`): the `extraction` feature and section. */
  extraction?: ExtractionRequest;
  /** Reports for benign files too (`te.benign_reports`). */
  benignReports?: boolean;
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
  ask: Pick<AskOptions, "features" | "reports" | "images" | "extraction" | "benignReports">,
  name?: string,
): RequestItem {
  const { features, reports, images, extraction } = ask;
  const item: RequestItem = { features: [...features] };
  if (extraction) {
    item.features!.push("extraction");
    item.extraction = structuredClone(extraction);
  }
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
    if (ask.benignReports) item.te.benign_reports = true;
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

  /** The request object for a file (see {@linkcode requestItem}). */
  requestFor(file: FileDigests, name?: string): RequestItem {
    return requestItem(file, this.options, name);
  }

  query(files: readonly FileDigests[]): Promise<MatchedAnswer[]> {
    return queryInBatches(files, this.batchSize, async (batch) => {
      const { items } = await this.client.query(
        batch.map((file) => this.requestFor(file, this.#nameForExtraction(file))),
      );
      return items;
    });
  }

  /** Extraction needs the file's name in every request (the service says so), not only uploads. */
  #nameForExtraction(file: FileDigests): string | undefined {
    if (!this.options.extraction) return undefined;
    const relPath = (file as { relPath?: unknown }).relPath;
    return typeof relPath === "string" ? basename(relPath) : undefined;
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

/** `extract_result` as the gateway guide numbers scrub results (sk137032, DOC-189793). */
const EXTRACT_RESULTS: Record<string, number> = {
  CP_EXTRACT_RESULT_SUCCESS: 0,
  CP_EXTRACT_RESULT_FAILURE: 1,
  CP_EXTRACT_RESULT_TIMEOUT: 2,
  CP_EXTRACT_RESULT_UNSUPPORTED_FILE: 3,
  CP_EXTRACT_RESULT_NOT_SCRUBBED: 4,
  CP_EXTRACT_RESULT_INTERNAL_ERROR: 5,
  CP_EXTRACT_RESULT_DISK_LIMIT_REACHED: 6,
  CP_EXTRACT_RESULT_ENCRYPTED_FILE: 7,
  CP_EXTRACT_RESULT_DOCSEC_FILE: 8,
  CP_EXTRACT_RESULT_OUT_OF_MEMORY: 9,
  CP_EXTRACT_RESULT_UNKNOWN: 15,
};

/**
 * A cloud `extraction` section as a scrub result, numbered like the
 * gateway's; one that is not FOUND (yet) has no result: Unknown (15), with
 * its status as the message.
 *
 * @example A finished cleaning, and one not answered
 * ```ts
 * import { extractionOutcome } from "./cloud.ts";
 * import assert from "node:assert/strict";
 *
 * const found = { code: 1001, label: "FOUND", message: "" };
 * const ok = extractionOutcome({
 *   status: found,
 *   extract_result: "CP_EXTRACT_RESULT_SUCCESS",
 *   output_file_name: "a.cleaned.docx",
 * });
 * assert.deepEqual([ok.code, ok.name, ok.outputName], [0, "OK", "a.cleaned.docx"]);
 * const none = extractionOutcome({ status: { code: 1004, label: "NOT_FOUND", message: "" } });
 * assert.equal(none.code, 15);
 * assert.match(none.message ?? "", /NOT_FOUND/);
 * ```
 */
export function extractionOutcome(extraction: ExtractionResult): ScrubOutcome {
  const raw: Record<string, unknown> = { ...extraction };
  if (extraction.status.code !== Code.FOUND) {
    const message = `extraction answered ${describeStatus(extraction.status)}`;
    return { code: 15, name: scrubResultInfo(15).message, message, raw };
  }
  const code = EXTRACT_RESULTS[extraction.extract_result ?? ""] ?? 15;
  const outcome: ScrubOutcome = { code, name: scrubResultInfo(code).message, raw };
  const activity = extraction.extraction_data?.scrub_activity;
  if (typeof activity === "string" && activity) outcome.message = activity;
  if (extraction.output_file_name) outcome.outputName = extraction.output_file_name;
  return outcome;
}
