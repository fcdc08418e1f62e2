/**
 * The emulator's memory: every uploaded file (a "sample"), findable by any of
 * its three digests, and every download id it has handed out.
 *
 * Download ids are derived from the sample's sha1 and the kind of download,
 * so the same sample always gets the same ids: a client that crashed after a
 * query can download the report in a later run.
 *
 * @example Add a sample and find it by its sha1
 * ```ts
 * import { SampleStore } from "./samples.ts";
 * import assert from "node:assert/strict";
 * const store = new SampleStore();
 * store.add({
 *   md5: "a".repeat(32),
 *   sha1: "b".repeat(40),
 *   sha256: "c".repeat(64),
 *   size: 1,
 *   fileName: "x.doc",
 *   fileType: "doc",
 *   verdict: "benign",
 *   eicar: false,
 *   uploadedAt: 0,
 *   receivedAt: "2026-01-01T00:00:00.000Z",
 * });
 * assert.equal(store.find({ sha1: "b".repeat(40) })?.fileName, "x.doc");
 * ```
 * @module
 */

import { createHash } from "node:crypto";
import type { ImageRef } from "../transport/protocol.ts";

/**
 * What emulation of a sample concludes. `early-malicious` is a file whose
 * early verdict (te_eb) is Malicious but whose final te verdict is Benign,
 * so clients can test that the final verdict wins.
 */
export type SampleVerdict =
  | "malicious"
  | "early-malicious"
  | "benign"
  | "unsupported"
  | "emulation-error";

/**
 * One uploaded file. Only facts are kept, never the content: uploads may be GiBs.
 */
export interface Sample {
  md5: string;
  sha1: string;
  sha256: string;
  size: number;
  /** Name given at upload (request JSON or the part's filename); may be "". */
  fileName: string;
  /** Extension-derived type, without the dot; may be "". */
  fileType: string;
  verdict: SampleVerdict;
  /** The content held the EICAR test string (names the AV signature). */
  eicar: boolean;
  /** Emulator clock (ms) at upload; emulation progress is measured from it. */
  uploadedAt: number;
  /** Wall-clock time of the upload (ISO 8601), shown in reports. */
  receivedAt: string;
}

/**
 * Digests a request names; absent or empty ones are ignored.
 */
export interface DigestQuery {
  md5?: string;
  sha1?: string;
  sha256?: string;
}

/**
 * What can be downloaded: a report of a sample, or its Threat Extraction copy.
 */
export type DownloadKind = "summary" | "full_report" | "pdf" | "xml" | "tar" | "extracted";

/**
 * What a download id stands for.
 */
export interface DownloadTarget {
  kind: DownloadKind;
  sample: Sample;
  /** The images the answer that named this id listed (reports show them). */
  images: ImageRef[];
  /** The image a per-image report belongs to. */
  imageId?: string;
  /** For `extracted`: the cleaned file's name and how it was cleaned. */
  outputFileName?: string;
  method?: "pdf" | "clean";
}

/**
 * A stable id in UUID form for one download of one sample.
 *
 * @example The same sample and kind, the same id
 * ```ts
 * import { downloadId } from "./samples.ts";
 * import assert from "node:assert/strict";
 *
 * const sha1 = "b".repeat(40);
 * assert.equal(downloadId(sha1, "summary"), downloadId(sha1, "summary"));
 * assert.notEqual(downloadId(sha1, "summary"), downloadId(sha1, "xml"));
 * ```
 */
export function downloadId(sha1: string, kind: DownloadKind, detail = ""): string {
  const hex = createHash("sha256").update(`te-scan-emulator\0${sha1}\0${kind}\0${detail}`).digest(
    "hex",
  );
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20, 32)
  }`;
}

/**
 * The file type the service reports for a name: the text after the last dot,
 * verbatim (a name copied from a URL keeps its query, as in Check Point's own
 * samples), lower-cased.
 *
 * @example The extension, lower-cased
 * ```ts
 * import { fileTypeOf } from "./samples.ts";
 * import assert from "node:assert/strict";
 * assert.equal(fileTypeOf("Report.DOCX"), "docx");
 * assert.equal(fileTypeOf("README"), "");
 * ```
 */
export function fileTypeOf(fileName: string): string {
  const base = fileName.slice(Math.max(fileName.lastIndexOf("/"), fileName.lastIndexOf("\\")) + 1);
  const dot = base.lastIndexOf(".");
  return dot <= 0 ? "" : base.slice(dot + 1).toLowerCase();
}

/**
 * Samples by digest, and download ids handed out.
 *
 * @example An empty store
 * ```ts
 * import { SampleStore } from "./samples.ts";
 * import assert from "node:assert/strict";
 * assert.equal(new SampleStore().find({ md5: "0".repeat(32) }), undefined);
 * ```
 */
export class SampleStore {
  #byDigest = new Map<string, Sample>();
  #downloads = new Map<string, DownloadTarget>();

  /**
   * Adds (or replaces) a sample under its three digests.
   *
   * @example A sample is found by any of its digests
   * ```ts
   * import { SampleStore } from "./samples.ts";
   * import assert from "node:assert/strict";
   *
   * const store = new SampleStore();
   * store.add({
   *   md5: "1".repeat(32),
   *   sha1: "2".repeat(40),
   *   sha256: "3".repeat(64),
   *   size: 0,
   *   fileName: "",
   *   fileType: "",
   *   verdict: "benign",
   *   eicar: false,
   *   uploadedAt: 0,
   *   receivedAt: "2026-01-01T00:00:00.000Z",
   * });
   * assert.equal(store.find({ md5: "1".repeat(32) }), store.find({ sha256: "3".repeat(64) }));
   * ```
   */
  add(sample: Sample): void {
    this.#byDigest.set(`md5:${sample.md5}`, sample);
    this.#byDigest.set(`sha1:${sample.sha1}`, sample);
    this.#byDigest.set(`sha256:${sample.sha256}`, sample);
  }

  /**
   * The sample all the given digests belong to. Digests that disagree (an md5
   * of one file and a sha1 of another) find nothing, like an unknown file.
   *
   * @example A query without a digest
   * ```ts
   * import { SampleStore } from "./samples.ts";
   * import assert from "node:assert/strict";
   * assert.equal(new SampleStore().find({}), undefined);
   * ```
   */
  find(query: DigestQuery): Sample | undefined {
    const keys = (["md5", "sha1", "sha256"] as const).filter((k) => query[k]);
    let found: Sample | undefined;
    for (const key of keys) {
      const sample = this.#byDigest.get(`${key}:${query[key]!.toLowerCase()}`);
      if (!sample || (found && found !== sample)) return undefined;
      found = sample;
    }
    return found;
  }

  /**
   * Registers a download and returns its stable id.
   *
   * @example An offered id can be downloaded
   * ```ts
   * import { type Sample, SampleStore } from "./samples.ts";
   * import assert from "node:assert/strict";
   *
   * const sample: Sample = {
   *   md5: "a".repeat(32),
   *   sha1: "b".repeat(40),
   *   sha256: "c".repeat(64),
   *   size: 1,
   *   fileName: "x.doc",
   *   fileType: "doc",
   *   verdict: "benign",
   *   eicar: false,
   *   uploadedAt: 0,
   *   receivedAt: "2026-01-01T00:00:00.000Z",
   * };
   * const store = new SampleStore();
   * const id = store.offer({ kind: "summary", sample, images: [] });
   * assert.equal(store.download(id)?.sample, sample);
   * ```
   */
  offer(target: DownloadTarget): string {
    const detail = target.kind === "extracted"
      ? `${target.method}\0${target.outputFileName}`
      : target.imageId ?? "";
    const id = downloadId(target.sample.sha1, target.kind, detail);
    this.#downloads.set(id, target);
    return id;
  }

  /**
   * What a download id stands for, if it was handed out.
   *
   * @example An id never offered
   * ```ts
   * import { SampleStore } from "./samples.ts";
   * import assert from "node:assert/strict";
   * assert.equal(new SampleStore().download("no-such-id"), undefined);
   * ```
   */
  download(id: string): DownloadTarget | undefined {
    return this.#downloads.get(id);
  }
}
