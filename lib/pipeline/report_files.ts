/**
 * What a settled file leaves in the reports folder: its response file, and
 * for a malicious file its report archives and the summary report extracted
 * beside them. All three share one name: `REP/a/b.docx.response.json`,
 * `REP/a/b.docx.report.tar.gz`, `REP/a/b.docx_report/`; an emulation
 * image's own report carries the image's id (`REP/a/b.docx.<image-id>.report.xml`,
 * as Check Point's teapi names them). A rerun that finds any of them taken
 * numbers them all the same way (`b.1.docx.…`), so they stay together. A name
 * too long for the file system once a suffix is added is shortened for all
 * alike (see `lib/fs/names.ts`), and the file's record says so. They are
 * te-scan's own outputs, not user data: a rerun over an unchanged file (same
 * path, and a response file there for the same SHA-1) replaces them instead of
 * numbering new ones, so reruns do not pile.
 *
 * Every file appears whole or not at all (a temporary file, then a link),
 * and the extracted report folder appears whole too (extracted into the
 * temporary folder, then renamed into place).
 *
 * @module
 */

import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { reasonOf } from "../util/reason.ts";
import {
  exists,
  numberedName,
  PARTIAL_PREFIX,
  replaceFile,
  writeFileNoClobber,
} from "../fs/move.ts";
import { fitName, NAME_MAX } from "../fs/names.ts";
import { extractTarGz } from "../fs/tar.ts";
import type { ResponseItem } from "../transport/protocol.ts";
import type { DownloadedReport } from "./types.ts";

const REPORT_EXTENSION: Record<DownloadedReport["format"], string> = {
  summary: "tar.gz",
  full_report: "full.tar.gz",
  pdf: "pdf",
  xml: "xml",
  tar: "tar",
};

/** What was written for one file. */
export interface WrittenReports {
  responseFile?: string;
  reportFiles?: string[];
  reportDir?: string;
  /** Problems with the reports; the verdict stands. */
  notes: string[];
}

/** What names a report: its format, and the image it belongs to. */
type ReportKey = Pick<DownloadedReport, "format" | "imageId">;

/**
 * An image id fit for a file name. It comes from the appliance, so anything
 * that is not a plain id (a `/`, `..`, a dot, a control character) is not used:
 * such a report is named like a summary's, numbered if taken.
 */
const IMAGE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** The longest suffix a report file's name adds: the base must leave room for it. */
const SUFFIX_BYTES = Math.max(
  ...[
    ".response.json",
    "_report",
    // An image's own report adds `.<image-id>` (at most 64 bytes, see IMAGE_ID) before it.
    ...Object.values(REPORT_EXTENSION).map((e) => `.${"i".repeat(64)}.report.${e}`),
  ]
    .map((suffix) => suffix.length),
);

/** A base path whose every report file's name fits the file system. */
function baseOf(wanted: string): string {
  return fitName(wanted, NAME_MAX - SUFFIX_BYTES);
}

/** Says so in `notes` when the report files' base name had to be shortened to fit. */
function noteShortened(wanted: string, notes: string[]): void {
  const base = baseOf(wanted);
  if (base !== wanted) {
    notes.push(`name too long for the file system: report files named ${basename(base)}…`);
  }
}

/** The names one file's report files take, for a base path `REP/<relPath>`. */
function namesOf(wanted: string) {
  const base = baseOf(wanted);
  return {
    response: `${base}.response.json`,
    report: ({ format, imageId }: ReportKey) => {
      const image = imageId && IMAGE_ID.test(imageId) ? `.${imageId}` : "";
      return `${base}${image}.report.${REPORT_EXTENSION[format]}`;
    },
    folder: `${base}_report`,
  };
}

/**
 * Writes the report files of settled files into one reports folder.
 *
 * @example Two runs over the same file keep their files apart, numbered alike
 * ```ts
 * import { ReportFiles } from "./report_files.ts";
 * import assert from "node:assert/strict";
 *
 * const rep = await Deno.makeTempDir();
 * const files = new ReportFiles(rep);
 * const status = { code: 1001, label: "FOUND" };
 * const pdf = { format: "pdf" as const, id: "r1", bytes: new Uint8Array([37, 80, 68, 70]) };
 * const first = await files.write("a/b.docx", { status }, [pdf]);
 * const second = await files.write("a/b.docx", { status }, [pdf]);
 * assert.equal(first.responseFile, `${rep}/a/b.docx.response.json`);
 * assert.deepEqual(first.reportFiles, [`${rep}/a/b.docx.report.pdf`]);
 * assert.equal(second.responseFile, `${rep}/a/b.1.docx.response.json`);
 * assert.deepEqual(second.reportFiles, [`${rep}/a/b.1.docx.report.pdf`]);
 *
 * // Without reports, the response file is numbered the same way.
 * const third = await files.write("a/b.docx", { status }, []);
 * assert.equal(third.responseFile, `${rep}/a/b.2.docx.response.json`);
 *
 * // An image's own report carries the image's id, numbered like the rest.
 * const image = "e50e99f3-5963-4573-af9e-e3f4750b55e2";
 * const xml = { format: "xml" as const, id: "x1", imageId: image, bytes: new Uint8Array([60]) };
 * const fourth = await files.write("a/b.docx", { status }, [xml]);
 * assert.deepEqual(fourth.reportFiles, [`${rep}/a/b.3.docx.${image}.report.xml`]);
 * await Deno.remove(rep, { recursive: true });
 * ```
 */
export class ReportFiles {
  constructor(readonly reportsDir: string, readonly tempDir?: string) {}

  /** The first number at which the response, reports and report folder are all free. */
  async #freeNumber(wanted: string, reports: ReportKey[]): Promise<number> {
    for (let n = 0;; n++) {
      const names = namesOf(numberedName(wanted, n));
      const taken = [names.response, names.folder, ...reports.map(names.report)];
      if (!(await anyExists(taken))) return n;
    }
  }

  /**
   * The number of this file's own earlier response file: at `wanted`'s
   * name or a numbered one, answering for the same SHA-1.
   */
  async #ownNumber(wanted: string, sha1: string): Promise<number | undefined> {
    for (let n = 0; n < MAX_OWN_LOOKUPS; n++) {
      const path = namesOf(numberedName(wanted, n)).response;
      // Most files have none yet: a look that cannot fail is far cheaper than a failed read.
      if (!existsSync(path)) return undefined;
      let earlier: unknown;
      try {
        earlier = JSON.parse(await Deno.readTextFile(path));
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return undefined;
        continue; // Not a response file te-scan can read as its own: never replaced.
      }
      const its = (earlier as { sha1?: unknown } | null)?.sha1;
      if (typeof its === "string" && its.toLowerCase() === sha1.toLowerCase()) return n;
    }
    return undefined;
  }

  /** Replaces this file's own earlier response file and reports, at their number. */
  async #replace(
    wanted: string,
    n: number,
    response: ResponseItem,
    reports: DownloadedReport[],
  ): Promise<WrittenReports> {
    const written: WrittenReports = { notes: [] };
    const names = namesOf(numberedName(wanted, n));
    noteShortened(numberedName(wanted, n), written.notes);
    const tempDir = this.tempDir;
    await replaceFile(names.response, JSON.stringify(response, null, 2) + "\n", { tempDir });
    written.responseFile = names.response;
    for (const report of reports) {
      await replaceFile(names.report(report), report.bytes, { tempDir });
      (written.reportFiles ??= []).push(names.report(report));
      if (report.format === "summary") {
        await Deno.remove(names.folder, { recursive: true }).catch(() => {});
        written.reportDir = await this.#extract(report.bytes, names.folder, written.notes);
      }
    }
    return written;
  }

  /**
   * Writes the response file and, when given, the reports of one file
   * (whose content has SHA-1 `sha1`, when known). A
   * path too long for the file system under the reports folder (its folders
   * are deeper there than in the input) is one file's problem, not the
   * run's: its files go to the top of the reports folder instead, under its
   * relative path made one shortened name, and the file's record says so.
   */
  async write(
    relPath: string,
    response: ResponseItem | undefined,
    reports: DownloadedReport[],
    sha1?: string,
  ): Promise<WrittenReports> {
    if (!response && !reports.length) return { notes: [] };
    try {
      return await this.#writeAt(join(this.reportsDir, relPath), response, reports, sha1);
    } catch (error) {
      if (!/ENAMETOOLONG|name too long|os error 36\b/i.test(String(error))) throw error;
      const flat = fitName(join(this.reportsDir, relPath.replaceAll("/", "_")));
      const written = await this.#writeAt(flat, response, reports, sha1);
      written.notes.push(
        `path too long for the file system: report files named ${basename(flat)}…`,
      );
      return written;
    }
  }

  async #writeAt(
    wanted: string,
    response: ResponseItem | undefined,
    reports: DownloadedReport[],
    sha1?: string,
  ): Promise<WrittenReports> {
    const written: WrittenReports = { notes: [] };
    const own = response && sha1 ? await this.#ownNumber(wanted, sha1) : undefined;
    if (response && own !== undefined) return await this.#replace(wanted, own, response, reports);
    // Without reports only the response file's name matters: its link finds a free one,
    // numbered as the reports would be, with no look before (a cache hit's common case).
    const first = reports.length ? await this.#freeNumber(wanted, reports) : 0;
    // Should a name be taken meanwhile, the file takes the next number of the same scheme.
    const namesAt = (n: number) => namesOf(numberedName(wanted, first + n));
    const names = namesAt(0);
    noteShortened(numberedName(wanted, first), written.notes);
    const tempDir = this.tempDir;
    if (response) {
      const text = JSON.stringify(response, null, 2) + "\n";
      const nameAt = (n: number) => namesAt(n).response;
      written.responseFile = await writeFileNoClobber(names.response, text, { tempDir, nameAt });
    }
    for (const report of reports) {
      const nameAt = (n: number) => namesAt(n).report(report);
      const path = await writeFileNoClobber(nameAt(0), report.bytes, { tempDir, nameAt });
      (written.reportFiles ??= []).push(path);
      if (report.format === "summary") {
        written.reportDir = await this.#extract(report.bytes, names.folder, written.notes);
      }
    }
    return written;
  }

  /** Extracts a summary archive into a temporary folder, then renames it into place. */
  async #extract(
    archive: Uint8Array,
    folder: string,
    notes: string[],
  ): Promise<string | undefined> {
    const temp = join(this.tempDir ?? dirname(folder), `${PARTIAL_PREFIX}${crypto.randomUUID()}`);
    try {
      const result = await extractTarGz(ReadableStream.from([archive]), temp);
      for (const refused of result.refused) {
        notes.push(`report member ${JSON.stringify(refused.name)} refused: ${refused.reason}`);
      }
      await Deno.mkdir(dirname(folder), { recursive: true });
      // The base name was free; a folder that appeared since is never replaced.
      if (await exists(folder)) throw new Error(`${folder} appeared meanwhile`);
      await Deno.rename(temp, folder);
      return folder;
    } catch (error) {
      notes.push(`report archive not extracted: ${reasonOf(error)}`);
      await Deno.remove(temp, { recursive: true }).catch(() => {});
      return undefined;
    }
  }
}

/** How many numbered names a rerun looks through for the file's own response file. */
const MAX_OWN_LOOKUPS = 1000;

async function anyExists(paths: string[]): Promise<boolean> {
  for (const path of paths) if (await exists(path)) return true;
  return false;
}
