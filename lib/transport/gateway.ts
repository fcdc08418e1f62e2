/**
 * The {@linkcode Transport} for a Check Point Security Gateway's TPAPI
 * (`--gateway HOST[:PORT]`, `POST https://HOST/UserCheck/TPAPI`, sk137032
 * in `shared/seeds/tpapi-gateway-guide.txt`): the same pipeline, folders
 * and guarantees as an appliance, plus Threat Extraction in the same pass.
 *
 * - QueryFile objects go many to a request, each the cloud-format request
 *   object of a file (`features` and `te` at its top) with
 *   `protocol_version` "1.1", `api_key` and `request_name`; the answer nests
 *   a cloud-format answer under each item's `te`, matched to its file by
 *   digest like any other.
 * - One UploadFile per file: `file_orig_name`, `te_options` (the same
 *   request object plus `is_base64`), `scrub_options` only when extraction
 *   is asked for, and `file_enc_data`, the whole file as base64, streamed
 *   from disk with an exact `Content-Length`. Its answer's cleaned copy is
 *   decoded to a temporary file as it arrives (`tpapi_answer.ts`).
 * - Reports come from the cloud-format download route on the same host's
 *   report port (18194 by default), which takes no key, as `tp_api` does.
 *
 * The API key travels in every request body and nowhere else: it is never
 * part of a message, and an error that would quote it (a server echoing a
 * request) has it replaced.
 *
 * @module
 */

import { basename } from "node:path";
import { reasonOf } from "../util/reason.ts";
import { TargetError } from "./diagnose.ts";
import { NetworkError, TlsError } from "./http.ts";
import type { CloudClient } from "./cloud_client.ts";
import { type AskOptions, requestItem } from "./cloud.ts";
import { AuthError, ForeignAnswerError, refusedStatus } from "./fatal.ts";
import type { ResponseItem } from "./protocol.ts";
import { matchAnswers, queryInBatches } from "./match.ts";
import { Code, describeStatus } from "./status.ts";
import { readTpapiUploadAnswer, scrubOutcome } from "./tpapi_answer.ts";
import {
  DEFAULT_SCRUBBED_PARTS,
  parseTpapiResponseBody,
  type QueryFileRequest,
  type ScrubMethod,
  type ScrubOptions,
  type ScrubResult,
  TPAPI_PROTOCOL_VERSION,
  type TpapiResponseItem,
  type UploadFileRequest,
} from "./tpapi_types.ts";
import type {
  Download,
  FileDigests,
  MatchedAnswer,
  Transport,
  UploadAnswer,
  UploadFile,
} from "./transport.ts";
import { base64JsonBody } from "./upload_body.ts";
import { parseJsonText, ProtocolError } from "./validate.ts";

/** The API path under which the gateway's client posts to `TPAPI_OP`. */
export const TPAPI_PATH = "/UserCheck/";

/** The one operation of the TPAPI, under {@linkcode TPAPI_PATH}. */
const TPAPI_OP = "TPAPI";

/** The port of the gateway's cloud-format routes, where reports are downloaded. */
export const DEFAULT_REPORT_PORT = 18194;

/** Threat Extraction as asked for (`--extract`, `--parts`). */
export interface ExtractOptions {
  /** 0 by the gateway's profile, 1 remove active content (clean), 2 convert to PDF. */
  method: ScrubMethod;
  /** The Threat Prevention profile, for method 0. */
  profile?: string;
  /** Parts to remove (methods 0 and 1); default the guide's list. */
  parts?: readonly number[];
}

/** What every file is asked for, and how. */
export interface GatewayOptions extends Omit<AskOptions, "md5"> {
  /** The gateway's API key (TPAPI.ini); may be empty, which the preflight reports. */
  apiKey: string;
  /** Threat Extraction on upload; without it no `scrub_options` are sent. */
  extract?: ExtractOptions;
  /**
   * Threat Extraction only (`--no-emulation`): uploads carry `scrub_options`
   * and no `te_options`, and their answers no verdict.
   */
  noEmulation?: boolean;
  /**
   * Folder for cleaned copies while they arrive: the `--clean` folder, so
   * that publishing one is a rename on the same filesystem.
   */
  cleanedDir?: string;
}

/** The gateway answers, but its report port (where TE reports are fetched) cannot be reached. */
export class ReportPortError extends TargetError {}

/** Digests no file has: the preflight asks for them, and a gateway answers NOT_FOUND. */
const NO_SUCH_FILE: FileDigests = { md5: "0".repeat(32), sha1: "0".repeat(40) };

/**
 * The answer to an extraction-only upload: its scrub result, and an item that
 * says the file was not emulated (no verdict: the pipeline leaves it in place).
 */
function notEmulated(
  file: FileDigests,
  scrub: ScrubResult | undefined,
  cleanedPath: string | undefined,
): UploadAnswer {
  if (!scrub) throw new ProtocolError("gateway upload answer: no scrub section");
  const status = { code: Code.FOUND, label: "FOUND", message: "Threat Extraction only" };
  return {
    item: { status, md5: file.md5, sha1: file.sha1 },
    scrub: scrubOutcome(scrub, cleanedPath),
  };
}

/** Largest cleaned copy accepted: conversion to PDF may grow a file, but not without bound. */
function maxCleanedBytes(size: number): number {
  return Math.max(64 * 1024 * 1024, 4 * size);
}

/**
 * The `scrub_options` of an upload: parts to remove for methods 1 and 0 (the
 * guide's list unless `--parts` names others), the profile for method 0, and
 * never a copy of the original left on the gateway.
 *
 * @example Clean with the default parts, and convert to PDF
 * ```ts
 * import { scrubOptionsFor } from "./gateway.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(scrubOptionsFor({ method: 1 }).scrubbed_parts_codes?.length, 13);
 * assert.deepEqual(scrubOptionsFor({ method: 2 }), {
 *   scrub_method: 2,
 *   save_original_file_on_server: false,
 * });
 * assert.deepEqual(scrubOptionsFor({ method: 0, profile: "Strict", parts: [1026] }), {
 *   scrub_method: 0,
 *   profile_name: "Strict",
 *   scrubbed_parts_codes: [1026],
 *   save_original_file_on_server: false,
 * });
 * ```
 */
export function scrubOptionsFor(extract: ExtractOptions): ScrubOptions {
  const options: ScrubOptions = { scrub_method: extract.method };
  if (extract.method === 0) options.profile_name = extract.profile ?? "";
  if (extract.method !== 2) {
    options.scrubbed_parts_codes = [...(extract.parts ?? DEFAULT_SCRUBBED_PARTS)];
  }
  options.save_original_file_on_server = false;
  return options;
}

/**
 * The body of an UploadFile request for `file`: its JSON text with
 * `file_enc_data` last, so the file's bytes stream in as base64 between the
 * text up to that field's opening quote and the rest.
 */
function uploadBody(
  file: UploadFile,
  common: { protocol_version: string; api_key: string },
  options: GatewayOptions,
): ReturnType<typeof base64JsonBody> {
  const name = basename(file.name);
  const request: Omit<UploadFileRequest, "file_enc_data"> = {
    ...common,
    request_name: "UploadFile",
    file_orig_name: name,
  };
  if (!options.noEmulation) {
    // AV answered the cache query already (md5 lookup): asking it again costs nothing new.
    const features = options.features.filter((f) => !(file.avKnown && f === "av"));
    const asked = { ...options, features };
    request.te_options = { ...requestItem(file, asked, name), is_base64: true };
  }
  if (options.extract) request.scrub_options = scrubOptionsFor(options.extract);
  const json = JSON.stringify({ request: [{ ...request, file_enc_data: "" }] });
  const cut = json.lastIndexOf('""') + 1;
  return base64JsonBody(json.slice(0, cut), json.slice(cut), { ...file, name });
}

/**
 * A gateway target.
 *
 * @example Ask an emulated gateway about a file it has never seen
 * ```ts
 * import { CloudClient } from "./cloud_client.ts";
 * import { GatewayTransport, TPAPI_PATH } from "./gateway.ts";
 * import { HttpClient } from "./http.ts";
 * import { DEFAULT_CA_PEM, startEmulator } from "../emulator/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const emulator = await startEmulator({ port: 0, apiKey: "s3cret" });
 * const trust = { kind: "ca" as const, caPem: [DEFAULT_CA_PEM] };
 * const http = new HttpClient(emulator.url, { trust });
 * const gateway = new GatewayTransport(
 *   new CloudClient(http, { apiPath: TPAPI_PATH }),
 *   new CloudClient(http),
 *   { apiKey: "s3cret", features: ["te", "av"], reports: ["summary"], batchSize: 100 },
 * );
 * await gateway.preflight();
 * const [answer] = await gateway.query([{ md5: "1".repeat(32), sha1: "1".repeat(40) }]);
 * assert.equal(answer.item?.status.label, "NOT_FOUND");
 * gateway.close();
 * await emulator.close();
 * ```
 */
export class GatewayTransport implements Transport {
  readonly #gateway: CloudClient;
  readonly #reports: CloudClient;
  readonly #options: GatewayOptions;

  /**
   * `gateway` posts to `/UserCheck/TPAPI` (its API path {@linkcode TPAPI_PATH});
   * `reports` downloads from the cloud-format routes of the report port. Neither
   * carries the key in a header: TPAPI takes it in the body, downloads take none.
   */
  constructor(gateway: CloudClient, reports: CloudClient, options: GatewayOptions) {
    this.#gateway = gateway;
    this.#reports = reports;
    this.#options = options;
  }

  get label(): string {
    return this.#gateway.host;
  }

  get batchSize(): number {
    return this.#options.batchSize;
  }

  #common(): { protocol_version: string; api_key: string } {
    return { protocol_version: TPAPI_PROTOCOL_VERSION, api_key: this.#options.apiKey };
  }

  /** A QueryFile object: the cloud-format request object with the TPAPI fields. */
  #queryFile(file: FileDigests): QueryFileRequest {
    return { ...this.#common(), request_name: "QueryFile", ...requestItem(file, this.#options) };
  }

  /** One TPAPI request of QueryFile objects; the answer's items in order. */
  #post(
    files: readonly FileDigests[],
    retry = true,
    signal?: AbortSignal,
  ): Promise<TpapiResponseItem[]> {
    const json = JSON.stringify({ request: files.map((file) => this.#queryFile(file)) });
    return this.#gateway.call(
      "gateway query",
      "POST",
      TPAPI_OP,
      async (answer) =>
        parseTpapiResponseBody(parseJsonText(await answer.text(), "gateway answer")),
      { body: new TextEncoder().encode(json), contentType: "application/json", retry, signal },
    );
  }

  query(files: readonly FileDigests[]): Promise<MatchedAnswer[]> {
    return this.#guard(() =>
      queryInBatches(files, this.batchSize, async (batch) => {
        const items = await this.#post(batch);
        return items.flatMap((item): ResponseItem[] => item.te ? [item.te] : []);
      })
    );
  }

  upload(file: UploadFile): Promise<UploadAnswer> {
    return this.#guard(async () => {
      const { extract, cleanedDir } = this.#options;
      const body = uploadBody(file, this.#common(), this.#options);
      const target = {
        dir: extract ? cleanedDir : undefined,
        maxBytes: maxCleanedBytes(file.size),
      };
      const read = await this.#gateway.call(
        "gateway upload",
        "POST",
        TPAPI_OP,
        (answer) => readTpapiUploadAnswer(answer.stream(), target),
        // One try: the poller counts every send of the file against its budget.
        { body, contentType: "application/json", retry: false },
      );
      return await this.#uploadAnswer(file, read.items, read.cleanedPath);
    });
  }

  async #uploadAnswer(
    file: UploadFile,
    items: TpapiResponseItem[],
    cleanedPath?: string,
  ): Promise<UploadAnswer> {
    let answer: UploadAnswer | undefined;
    try {
      if (items.length !== 1) {
        throw new ProtocolError(`gateway upload answer: expected one item, got ${items.length}`);
      }
      const [{ te, scrub }] = items;
      if (this.#options.noEmulation) return answer = notEmulated(file, scrub, cleanedPath);
      if (!te) throw new ProtocolError("gateway upload answer: no te section");
      const [matched] = matchAnswers([file], [te]);
      if (!matched.item) throw new ForeignAnswerError(`upload answer: ${matched.missing}`);
      answer = { item: matched.item };
      if (this.#options.extract && scrub) answer.scrub = scrubOutcome(scrub, cleanedPath);
      return answer;
    } finally {
      // A copy the outcome does not hold (not OK, not asked for, or a refused answer) goes now.
      if (cleanedPath && answer?.scrub?.cleanedPath !== cleanedPath) {
        await Deno.remove(cleanedPath).catch(() => {});
      }
    }
  }

  download(id: string): Promise<Download> {
    return this.#guard(() => this.#reports.download(id));
  }

  /**
   * A QueryFile for a file that cannot exist, not retried: proves the
   * gateway is reachable, trusted and speaks TPAPI, and that it takes the
   * key for the features asked (a refusal is 1010 FORBIDDEN in the answer).
   */
  async preflight(signal?: AbortSignal): Promise<void> {
    const items = await this.#guard(() => this.#post([NO_SUCH_FILE], false, signal));
    if (items.length !== 1) {
      throw new ProtocolError(`preflight: expected one answer item, got ${items.length}`);
    }
    const te = items[0].te;
    if (!te) {
      throw new ProtocolError(
        `${this.label} answered without a te section: is it a Security Gateway's /UserCheck/TPAPI?`,
      );
    }
    const refused = refusedStatus(te, [Code.FORBIDDEN]);
    if (refused) throw new AuthError(this.#refusal(this.#redact(describeStatus(refused))));
    if (this.#options.reports.length) await this.#checkReportPort();
  }

  /**
   * Reports come from another port than TPAPI: one that cannot be reached or
   * trusted would cost every malicious file its report, so the run does not
   * start. A download of an id that cannot exist, not retried: any answer of
   * the API's (its 404) will do.
   */
  async #checkReportPort(): Promise<void> {
    try {
      await this.#reports.call(
        "report port",
        "GET",
        `download?id=${NO_SUCH_FILE.sha1}`,
        (answer) => answer.discard(),
        { retry: false },
      );
    } catch (error) {
      if (!(error instanceof NetworkError || error instanceof TlsError)) return;
      throw new ReportPortError(
        `Cannot reach the report port of gateway ${this.label} at ${this.#reports.host} ` +
          `(${reasonOf(error)}): reports are downloaded there; pass the gateway's ` +
          `cloud-format port with --report-port PORT (default ${DEFAULT_REPORT_PORT})`,
      );
    }
  }

  #refusal(status: string): string {
    const features = this.#options.features.join(",");
    const key = this.#options.apiKey
      ? "the API key is wrong, or may not use the features asked for (" + features + ")"
      : "no API key was given";
    return `gateway ${this.label} refused the request (${status}): ${key}; ` +
      "pass the gateway's key (TPAPI.ini) with --api-key-file FILE";
  }

  /** Text from the gateway with the API key replaced, should it quote one. */
  #redact(text: string): string {
    const key = this.#options.apiKey;
    return key ? text.replaceAll(key, "<api key>") : text;
  }

  /** Runs `task`; an error that would quote the API key (a server echoing a request) has it replaced. */
  async #guard<T>(task: () => Promise<T>): Promise<T> {
    try {
      return await task();
    } catch (error) {
      if (error instanceof Error) error.message = this.#redact(error.message);
      throw error;
    }
  }

  close(): void {
    this.#gateway.close();
    this.#reports.close();
  }
}
