/**
 * What AV and Threat Extraction add to a settled file: its AV result, its
 * Threat Extraction result by the gateway guide's name, and the cleaned
 * copy published into `--clean` at the file's relative folder.
 *
 * The cleaned copy arrives with the upload's answer as a temporary file in
 * the `--clean` folder (`lib/transport/tpapi_answer.ts`); here it is given
 * its name, never overwriting (numbered names), whole or not at all (a
 * rename or a copy then rename). A file whose final verdict is malicious
 * keeps no cleaned copy: the temporary file is removed and the record says
 * why. Identical files emulated once share one cleaned copy: each gets its
 * own, and the temporary file goes when the last of them is settled.
 *
 * @module
 */

import { basename, dirname, extname, join } from "node:path";
import { reasonOf } from "../util/reason.ts";
import { copyNoClobber, moveNoClobber, PARTIAL_PREFIX } from "../fs/move.ts";
import {
  extractionOutcome,
  type ScrubOutcome,
  scrubResultInfo,
  type Transport,
} from "../transport/transport.ts";
import type { ResponseItem } from "../transport/protocol.ts";
import { type AvFinding, avFinding } from "./decide.ts";
import { type ThreatFinding, threatFinding } from "./threat.ts";
import type { FinalState, Job, Outcome, ScanFile } from "./types.ts";

/** What a file's record gains from AV and Threat Extraction. */
export interface FindingFields {
  /** The AV result, when AV was asked for. */
  av?: AvFinding;
  /** The Threat Extraction result: its code, the guide's name for it, the gateway's text. */
  extraction?: ExtractionResult;
  /** Where the cleaned copy was published. */
  cleanedFile?: string;
  /** A malicious file's severity, confidence and threat name, as the answer gives them. */
  threat?: ThreatFinding;
}

/**
 * What became of a file's requested cleaned copy: made, nothing to clean
 * (or withheld from a malicious file), or could not be made (the run exits 2).
 */
export type ExtractionStatus = "cleaned" | "skipped" | "failed";

/** A file's Threat Extraction result as its record keeps it. */
export interface ExtractionResult {
  code: number;
  /** The gateway guide's name for the code. */
  result: string;
  /** The gateway's own text, when it says more than the name. */
  message?: string;
  status: ExtractionStatus;
}

/** Counts of extraction outcomes in a run (`summary.json` `extraction`). */
export type ExtractionCounts = Record<ExtractionStatus, number>;

/** Settled files still to take each cleaned copy, for copies shared by identical files. */
const holders = new WeakMap<ScrubOutcome, number>();

/**
 * Marks a Threat Extraction result as shared by `extra` more settled files
 * (identical content emulated once): each publishes its own copy.
 *
 * @example A cleaned copy shared by two identical files
 * ```ts
 * import { addFindings, shareCleanedCopy } from "./clean.ts";
 * import type { ScrubOutcome } from "../transport/transport.ts";
 * import assert from "node:assert/strict";
 *
 * const clean = await Deno.makeTempDir();
 * const cleanedPath = `${clean}/.te-scan-partial-1`;
 * await Deno.writeTextFile(cleanedPath, "cleaned");
 * const scrub: ScrubOutcome = { code: 0, name: "OK", cleanedPath, raw: {} };
 * shareCleanedCopy(scrub, 1);
 * for (const relPath of ["a.docm", "copy.docm"]) {
 *   const record: Parameters<typeof addFindings>[0] = { state: "benign" };
 *   const file = { path: `/in/${relPath}`, relPath, size: 9, mtimeMs: 0 };
 *   await addFindings(record, file, { state: "benign", scrub }, clean);
 *   assert.equal(await Deno.readTextFile(record.cleanedFile!), "cleaned");
 * }
 * await assert.rejects(Deno.stat(cleanedPath), Deno.errors.NotFound);
 * await Deno.remove(clean, { recursive: true });
 * ```
 */
export function shareCleanedCopy(scrub: ScrubOutcome, extra: number): void {
  if (extra > 0) holders.set(scrub, (holders.get(scrub) ?? 1) + extra);
}

/**
 * Keeps the Threat Extraction result of a file's latest upload (a file
 * uploaded again gets a new one); the cleaned copy of the previous one goes.
 * Synchronous, like the poller's step it sits in: no other task may see the
 * file between its upload's answer and that answer being applied.
 *
 * @example The latest upload's result is kept
 * ```ts
 * import { keepLatestScrub } from "./clean.ts";
 * import type { Job } from "./types.ts";
 * import assert from "node:assert/strict";
 *
 * const job: Job = {
 *   kind: "job",
 *   file: { path: "/in/a", relPath: "a", size: 1, mtimeMs: 0, sha1: "aa" },
 *   startedAt: 0,
 *   needsUpload: true,
 * };
 * keepLatestScrub(job, { code: 4, name: "Skipped", raw: {} });
 * assert.equal(job.scrub?.name, "Skipped");
 * ```
 */
export function keepLatestScrub(job: Job, scrub: ScrubOutcome | undefined): void {
  if (!scrub) return;
  const previous = job.scrub;
  job.scrub = scrub;
  if (previous?.cleanedPath && previous.cleanedPath !== scrub.cleanedPath) {
    try {
      Deno.removeSync(previous.cleanedPath);
    } catch { /* already gone */ }
  }
}

/**
 * Cloud Threat Extraction: a settled file's `extraction` result, its cleaned
 * copy downloaded (by `extracted_file_download_id`) into a temporary file in
 * `dir` when there is one to keep (result OK, the file not malicious).
 *
 * @example An answer without an extraction section has no result
 * ```ts
 * import { cloudExtraction } from "./clean.ts";
 * import assert from "node:assert/strict";
 *
 * const item = { status: { code: 1001, label: "FOUND", message: "" } };
 * const unused = { download: () => Promise.reject(new Error("not called")) };
 * assert.equal(await cloudExtraction(item, unused, "/clean", "benign"), undefined);
 * ```
 */
export async function cloudExtraction(
  item: ResponseItem,
  via: Pick<Transport, "download">,
  dir: string,
  state: FinalState,
): Promise<ScrubOutcome | undefined> {
  if (!item.extraction) return undefined;
  const outcome = extractionOutcome(item.extraction);
  const id = item.extraction.extracted_file_download_id;
  if (outcome.code !== 0 || !id || state === "malicious") return outcome;
  try {
    const { bytes } = await via.download(id);
    const temp = join(dir, `${PARTIAL_PREFIX}${crypto.randomUUID()}`);
    await Deno.writeFile(temp, bytes, { createNew: true });
    outcome.cleanedPath = temp;
  } catch (error) {
    outcome.message = `the cleaned copy could not be downloaded: ${reasonOf(error)}`;
  }
  return outcome;
}

// deno-lint-ignore no-control-regex
const UNSAFE_NAME = /[\x00-\x1f\x7f/\\]/;

/**
 * The name of a file's cleaned copy: the gateway's `output_file_name` when
 * it is a plain file name, else `<name>.cleaned.<ext>` where `<ext>` is the
 * real (last) extension, or `pdf` for a conversion to PDF. Unlike te_api,
 * `a.b.docx` keeps its extension and a name without a dot is fine.
 *
 * @example The gateway's name, and the fallback for multi-dot names
 * ```ts
 * import { cleanedCopyName } from "./clean.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(cleanedCopyName("a.b.docx", "a.cleaned.b.docx", false), "a.cleaned.b.docx");
 * assert.equal(cleanedCopyName("a.b.docx", undefined, false), "a.b.cleaned.docx");
 * assert.equal(cleanedCopyName("hi.txt", "", true), "hi.cleaned.pdf");
 * assert.equal(cleanedCopyName("README", undefined, false), "README.cleaned");
 * assert.equal(cleanedCopyName("x.pdf", "../../etc/passwd", false), "x.cleaned.pdf");
 * ```
 */
export function cleanedCopyName(
  original: string,
  outputName: string | undefined,
  toPdf: boolean,
): string {
  const given = outputName?.trim() ?? "";
  const safe = given !== "" && given !== "." && given !== ".." && !UNSAFE_NAME.test(given) &&
    !given.startsWith(PARTIAL_PREFIX) && new TextEncoder().encode(given).length <= 255;
  if (safe) return given;
  const extension = extname(original);
  const stem = original.slice(0, original.length - extension.length);
  if (toPdf) return `${stem}.cleaned.pdf`;
  return `${stem}.cleaned${extension}`;
}

/** Whether a scrub result is a conversion to PDF, by the gateway's own words. */
function convertedToPdf(scrub: ScrubOutcome): boolean {
  return /pdf/i.test(String(scrub.raw.scrub_method ?? scrub.raw.protection_type ?? ""));
}

/** One holder is done with the temporary file; the last one removes it (if still there). */
async function release(scrub: ScrubOutcome): Promise<void> {
  const left = (holders.get(scrub) ?? 1) - 1;
  if (left > 0) {
    holders.set(scrub, left);
    return;
  }
  holders.delete(scrub);
  if (scrub.cleanedPath) await Deno.remove(scrub.cleanedPath).catch(() => {});
}

/** Publishes a holder's copy: the last holder renames the temporary file, the others copy it. */
async function publish(scrub: ScrubOutcome, dest: string): Promise<string> {
  const temp = scrub.cleanedPath!;
  const sole = (holders.get(scrub) ?? 1) === 1;
  try {
    return sole ? await moveNoClobber(temp, dest) : await copyNoClobber(temp, dest);
  } finally {
    await release(scrub);
  }
}

/**
 * Adds a settled file's AV and Threat Extraction results (and a malicious
 * file's threat) to its record and publishes (or withholds) its cleaned copy; returns notes for the
 * record's reason. `record.state` is the file's final state.
 *
 * @example A benign file's cleaned copy, published at its relative folder
 * ```ts
 * import { addFindings } from "./clean.ts";
 * import assert from "node:assert/strict";
 *
 * const clean = await Deno.makeTempDir();
 * const temp = `${clean}/.te-scan-partial-1`;
 * await Deno.writeTextFile(temp, "cleaned");
 * const record: Parameters<typeof addFindings>[0] = { state: "benign" };
 * const notes = await addFindings(
 *   record,
 *   { path: "/in/a/b.docm", relPath: "a/b.docm", size: 9, mtimeMs: 0 },
 *   { state: "benign", scrub: { code: 0, name: "OK", cleanedPath: temp, raw: {} } },
 *   clean,
 * );
 * assert.deepEqual(notes, []);
 * assert.equal(record.cleanedFile, `${clean}/a/b.cleaned.docm`);
 * assert.equal(await Deno.readTextFile(record.cleanedFile!), "cleaned");
 * assert.deepEqual(record.extraction, { code: 0, result: "OK", status: "cleaned" });
 * await Deno.remove(clean, { recursive: true });
 * ```
 */
export async function addFindings(
  record: FindingFields & { state: FinalState },
  file: ScanFile,
  outcome: Outcome,
  cleanDir: string | undefined,
): Promise<string[]> {
  const av = outcome.response ? avFinding(outcome.response) : undefined;
  if (av) record.av = av;
  const threat = record.state === "malicious" && outcome.response
    ? threatFinding(outcome.response)
    : undefined;
  if (threat) record.threat = threat;
  const scrub = outcome.scrub;
  if (!scrub) return [];
  const extraction: ExtractionResult = { code: scrub.code, result: scrub.name, status: "failed" };
  if (scrub.message) extraction.message = scrub.message;
  record.extraction = extraction;
  const notes = (scrub.oddFields ?? []).map((odd) => `Threat Extraction answer: ${odd} (ignored)`);
  notes.push(...await publishFor(record, file, scrub, cleanDir));
  extraction.status = record.cleanedFile ? "cleaned" : statusWithoutCopy(record.state, scrub);
  return notes;
}

/** A result with no cleaned copy: nothing to clean, withheld (malicious), or a failure. */
function statusWithoutCopy(state: FinalState, scrub: ScrubOutcome): ExtractionStatus {
  if (state === "malicious") return "skipped";
  return scrubResultInfo(scrub.code).outcome === "unchanged" ? "skipped" : "failed";
}

async function publishFor(
  record: FindingFields & { state: FinalState },
  file: ScanFile,
  scrub: ScrubOutcome,
  cleanDir: string | undefined,
): Promise<string[]> {
  if (!scrub.cleanedPath) {
    return scrub.code === 0 ? ["Threat Extraction: the gateway sent no cleaned copy"] : [];
  }
  if (record.state === "malicious" || cleanDir === undefined) {
    await release(scrub);
    const why = cleanDir === undefined ? "no --clean folder" : "the original is malicious";
    return [`cleaned copy not kept: ${why}`];
  }
  const name = cleanedCopyName(basename(file.relPath), scrub.outputName, convertedToPdf(scrub));
  const dest = join(cleanDir, dirname(file.relPath), name);
  try {
    record.cleanedFile = await publish(scrub, dest);
    return [];
  } catch (error) {
    return [`cannot publish the cleaned copy: ${reasonOf(error)}`];
  }
}

/**
 * Counts a settled file's extraction outcome, if it has one.
 *
 * @example A failed cleaning is counted
 * ```ts
 * import { countExtraction } from "./clean.ts";
 * import assert from "node:assert/strict";
 *
 * const counts = { cleaned: 0, failed: 0, skipped: 0 };
 * countExtraction(counts, { code: 7, result: "Password protected", status: "failed" });
 * countExtraction(counts, undefined);
 * assert.deepEqual(counts, { cleaned: 0, failed: 1, skipped: 0 });
 * ```
 */
export function countExtraction(
  counts: ExtractionCounts,
  extraction: ExtractionResult | undefined,
): void {
  if (extraction) counts[extraction.status]++;
}
