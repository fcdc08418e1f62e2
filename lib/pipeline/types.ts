/**
 * What flows between the pipeline's stages.
 *
 * Every stage passes on what it does not handle, so a file settled early
 * (skipped by the walk, failed to hash, found in the cache) travels on to
 * the dispose sink like every other.
 *
 * @example A file the walk skipped, settled at once
 * ```ts
 * import type { PipelineItem } from "./types.ts";
 * const item: PipelineItem = {
 *   kind: "settled",
 *   file: { path: "/in/a", relPath: "a", size: 1, mtimeMs: 0 },
 *   outcome: { state: "skipped", reason: "FIFO" },
 * };
 * ```
 * @module
 */

import type { AvResult, ReportFormat, ResponseItem, Verdict } from "../transport/protocol.ts";
import type { ScrubOutcome, Transport } from "../transport/transport.ts";
import type { FileIdentity } from "../fs/identity.ts";
import type { LinkTarget } from "./walk.ts";
import type { Confinement } from "../fs/confine.ts";

/** A file found by the walk. */
export interface ScanFile {
  /** Absolute path. */
  path: string;
  /** POSIX path relative to the input folder; kept in every destination. */
  relPath: string;
  size: number;
  mtimeMs: number;
  /** For a followed symbolic link: the file whose bytes are scanned. */
  target?: LinkTarget;
  /** The input folder the file is read inside of, by the hash and the upload (see `lib/fs/confine.ts`). */
  confinedTo?: Confinement;
}

/** A file with its digests. */
export interface HashedFile extends ScanFile {
  sha1: string;
  /** The file and version that was hashed; checked again before the file is published. */
  identity?: FileIdentity;
  /** Only when the features need it (AV, the cloud); see lib/hash.ts. */
  md5?: string;
}

/** The final state of an input file. */
export type FinalState = "benign" | "malicious" | "error" | "skipped";

/** A downloaded report, ready to be written. */
export interface DownloadedReport {
  format: ReportFormat;
  id: string;
  /** The emulation image a per-image report (pdf, xml, tar) belongs to. */
  imageId?: string;
  fileName?: string;
  bytes: Uint8Array;
}

/**
 * An answer as the response file keeps it: after a gateway upload with
 * Threat Extraction, that upload's `scrub` result (file data aside) sits
 * beside the final answer's fields, as in the gateway's own answer item.
 */
export type RecordedResponse = ResponseItem & {
  scrub?: Record<string, unknown>;
  /** The mode (octal) a file quarantined and made inert had (see `dispose.ts`). */
  original_mode?: string;
};

/** How a file was settled. */
export interface Outcome {
  state: FinalState;
  /** Why, for `error` and `skipped`; a note for the others. */
  reason?: string;
  /** The verdict as the appliance gave it, normalised. */
  verdict?: Verdict;
  /** The final API answer. */
  response?: RecordedResponse;
  /** Reports downloaded for a malicious file. */
  reports?: DownloadedReport[];
  /** Problems fetching reports; the verdict stands. */
  reportErrors?: string[];
  /** Whether this run uploaded the content (false: the appliance already had it). */
  uploaded?: boolean;
  /** Whether a te_eb early verdict quarantined the file before the final answer. */
  early?: boolean;
  /** The appliance that answered (its label). */
  via?: string;
  /** Milliseconds from the file entering the pipeline to its outcome. */
  elapsedMs?: number;
  /** Leave the file where it is whatever its state (it is still being written, or gone). */
  keepInPlace?: boolean;
  /** The Threat Extraction result of this run's upload, its cleaned copy not yet published. */
  scrub?: ScrubOutcome;
}

/** A file on its way: hashed, not settled yet. */
export interface Job {
  kind: "job";
  file: HashedFile;
  /** When it entered the pipeline (performance.now()). */
  startedAt: number;
  /** Whether the appliance needs the content (the cache did not know it). */
  needsUpload: boolean;
  /** The target that has the content (it answered PENDING, or the file was uploaded to it). */
  via?: Transport;
  /** This run uploaded the content. */
  uploaded?: boolean;
  /** A te_eb early malicious verdict was already passed on for this file. */
  earlySent?: boolean;
  /** The Threat Extraction result of the last upload (gateway, `--extract`). */
  scrub?: ScrubOutcome;
  /** AV's answer from the cache query: an upload need not ask AV again. */
  cachedAv?: AvResult;
}

/** A file settled, for the dispose sink. */
export interface Settled {
  kind: "settled";
  file: ScanFile | HashedFile;
  outcome: Outcome;
  /** The file whose content this one shares (emulated once for both). */
  duplicateOf?: string;
}

/** An early malicious verdict (te_eb, or an AV detection): quarantine now, the final answer follows. */
export interface EarlyVerdict {
  kind: "early";
  file: HashedFile;
  response: ResponseItem;
  /** Why, when it is not te_eb's early verdict (an AV signature). */
  reason?: string;
}

/** Anything travelling through the pipeline. */
export type PipelineItem = Job | Settled | EarlyVerdict;

/**
 * Whether a scan file carries digests.
 *
 * @example A file not hashed yet
 * ```ts
 * import { isHashed } from "./types.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isHashed({ path: "/a", relPath: "a", size: 0, mtimeMs: 0 }), false);
 * ```
 */
export function isHashed(file: ScanFile | HashedFile): file is HashedFile {
  return "sha1" in file && typeof file.sha1 === "string";
}
