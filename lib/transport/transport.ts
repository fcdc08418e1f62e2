/**
 * The seam between the pipeline and a target: what the pipeline asks of an
 * appliance, the Check Point cloud or a Security Gateway, whatever the wire
 * format. One client per target implements it; the pipeline knows only
 * this interface, so a new target is a new client, not a new pipeline.
 *
 * Every answer handed to the pipeline is already validated at the edge and
 * already known to be about the file it is given for (see `match.ts`).
 *
 * The seam is this module: besides the interface it exports what the
 * pipeline may know of failures (transient errors, answers about other
 * content, refusals, run-stopping errors: `fatal.ts`), of the rotation of
 * targets, and of the retry pace. The pipeline imports from `lib/transport/`
 * only this module and the protocol types (`protocol.ts`, `status.ts`);
 * `scripts/check_imports.ts` enforces it.
 *
 * @module
 */

import type { ResponseItem } from "./protocol.ts";

export {
  ApplianceDownError,
  AuthError,
  ForeignAnswerError,
  isConfigurationError,
  isFatal,
  isTransient,
  QuotaError,
  refusal,
  REFUSALS,
  refusedStatus,
  RUN_REFUSALS,
} from "./fatal.ts";
export { OutOfRotationError, type Rotation } from "./rotation.ts";
export { backoffMs, DEFAULT_RETRY } from "./retry.ts";
export { scrubResultInfo } from "./tpapi_types.ts";
export { extractionOutcome } from "./cloud.ts";
import type { Confinement } from "../fs/confine.ts";

/** A file's digests in lowercase hex (at least one); what answers are matched on. */
export interface FileDigests {
  sha1?: string;
  /** Computed only where a target needs it (AV, the cloud, the gateway). */
  md5?: string;
  sha256?: string;
}

/** A file on disk to upload, with the digests it was hashed to. */
export interface UploadFile extends FileDigests {
  sha1: string;
  path: string;
  /** The name the target is told (the file's base name). */
  name: string;
  size: number;
  /** Its modification time when it was hashed: a file touched since is not sent. */
  mtimeMs?: number;
  /** AV already answered about it (cache query): the upload leaves `av` out of its features. */
  avKnown?: boolean;
  /** The input folder it must be read inside of; none for a file reached through a link. */
  confinedTo?: Confinement;
}

/** An answer matched to one file, or why there is none. */
export type MatchedAnswer =
  | { item: ResponseItem; missing?: undefined }
  | { item?: undefined; missing: string };

/** A Threat Extraction result (gateway `scrub`), the cleaned copy already on disk. */
export interface ScrubOutcome {
  /** The gateway's `scrub_result` code. */
  code: number;
  /** The guide's name for the code, or `unknown code N`. */
  name: string;
  /** The gateway's message and activity text. */
  message?: string;
  /** The cleaned copy, written to a temporary file the caller publishes or removes. */
  cleanedPath?: string;
  /** The name the gateway gave the cleaned copy (`output_file_name`). */
  outputName?: string;
  /** The whole `scrub` object as the gateway sent it, its file data removed. */
  raw: Record<string, unknown>;
  /** Descriptive fields of a type te-scan does not expect, ignored (for the log). */
  oddFields?: string[];
}

/** What an upload answered. */
export interface UploadAnswer {
  item: ResponseItem;
  /** Present when Threat Extraction was asked for. */
  scrub?: ScrubOutcome;
}

/** A downloaded report. */
export interface Download {
  /** From `Content-Disposition`, when the server gave one. */
  fileName?: string;
  bytes: Uint8Array;
}

/**
 * A target the pipeline talks to.
 *
 * @example A transport as the pipeline uses it
 * ```ts
 * import type { Transport } from "./transport.ts";
 * import { CloudClient } from "./cloud_client.ts";
 * import { CloudTransport } from "./cloud.ts";
 * import { HttpClient } from "./http.ts";
 * import { DEFAULT_CA_PEM, startEmulator } from "../emulator/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const emulator = await startEmulator({ port: 0 });
 * const http = new HttpClient(emulator.url, { trust: { kind: "ca", caPem: [DEFAULT_CA_PEM] } });
 * const target: Transport = new CloudTransport(new CloudClient(http), {
 *   features: ["te"],
 *   reports: [],
 *   batchSize: 100,
 *   md5: false,
 * });
 * const [answer] = await target.query([{ sha1: "da39a3ee5e6b4b0d3255bfef95601890afd80709" }]);
 * assert.equal(answer.item?.status.label, "NOT_FOUND");
 * target.close();
 * await emulator.close();
 * ```
 */
export interface Transport {
  /** `HOST:PORT` (or the URL's origin), for messages and logs. */
  readonly label: string;
  /** Request objects one query request may carry. */
  readonly batchSize: number;
  /**
   * Asks about many files in as few requests as the batch size allows.
   * Answers come back in the order of `files`, each matched by digest.
   */
  query(files: readonly FileDigests[]): Promise<MatchedAnswer[]>;
  /** Uploads one file (streamed from disk) and returns the answer about it. */
  upload(file: UploadFile): Promise<UploadAnswer>;
  /** Downloads a report by the id an answer named. */
  download(id: string): Promise<Download>;
  /**
   * One cheap request that proves the target is reachable, trusted, speaks
   * this API and accepts the key; throws a one-line error naming the cause.
   * `signal` ends it early (the preflight's own deadline).
   */
  preflight(signal?: AbortSignal): Promise<void>;
  /** Closes idle connections. */
  close(): void;
}
