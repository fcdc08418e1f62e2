/**
 * The folders of a scan, resolved and checked before anything is touched:
 * layouts that could loop or lose data are refused with exit 3.
 *
 * @module
 */

import { isAbsolute, relative, resolve } from "node:path";
import { reasonOf } from "../util/reason.ts";
import type { Folders } from "../pipeline/dispose.ts";
import { matchesAnyGlob } from "../pipeline/glob.ts";
import { inputFolder, statInput } from "../pipeline/walk.ts";
import { UsageError } from "./exit.ts";

/** A scan's folders, absolute. */
export interface Layout {
  /** The input: a folder, or a single file; none with `--files-from`. */
  input?: string;
  /** The folder the input's lock and layout rules apply to (a single file's folder). */
  inputFolder?: string;
  folders: Folders;
  reportsDir: string;
  /** Where Threat Extraction's cleaned copies go (`--clean`). */
  clean?: string;
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/**
 * Resolves and checks a scan's folders: a missing input, an output folder
 * (`--clean` included) that is the input or inside it (unless excluded from
 * the walk), the input
 * inside an output folder, the same folder for two verdicts, or an output
 * that is a file are refused.
 *
 * @example An output folder inside the input is refused
 * ```ts
 * import { checkLayout } from "./layout.ts";
 * import assert from "node:assert/strict";
 *
 * const input = await Deno.makeTempDir();
 * await assert.rejects(
 *   checkLayout(input, { benign: `${input}/ok` }, "/tmp/rep", []),
 *   /--out .* is inside the input folder/,
 * );
 * await Deno.remove(input);
 * ```
 */
export async function checkLayout(
  input: string | undefined,
  folders: Folders,
  reportsDir: string,
  exclude: string[],
  clean?: string,
): Promise<Layout> {
  let info: Deno.FileInfo | undefined;
  try {
    if (input !== undefined) info = await statInput(input);
  } catch (error) {
    throw new UsageError(reasonOf(error));
  }
  const root = input !== undefined && info ? inputFolder(input, info) : undefined;
  const named: [string, string | undefined][] = [
    ["--out", folders.benign],
    ["--jail", folders.malicious],
    ["--error", folders.error],
    ["--clean", clean],
    ["--rep", reportsDir],
  ];
  const seen = new Map<string, string>();
  for (const [flag, folder] of named) {
    if (!folder) continue;
    if (root !== undefined) await checkFolder(flag, folder, root, exclude, info!.isFile);
    else await checkNotAFile(flag, folder);
    const other = seen.get(folder);
    if (other && flag !== "--rep") {
      throw new UsageError(`${other} and ${flag} are the same folder: ${folder}`);
    }
    seen.set(folder, flag);
  }
  return { input: input && resolve(input), inputFolder: root, folders, reportsDir, clean };
}

async function checkFolder(
  flag: string,
  folder: string,
  root: string,
  exclude: string[],
  singleFile: boolean,
): Promise<void> {
  if (folder === root && !singleFile) {
    throw new UsageError(`${flag} is the input folder: ${folder}`);
  }
  if (root !== folder && isInside(root, folder)) {
    throw new UsageError(`the input folder ${root} is inside ${flag} ${folder}`);
  }
  if (!singleFile && isInside(folder, root) && !matchesAnyGlob(relative(root, folder), exclude)) {
    throw new UsageError(
      `${flag} ${folder} is inside the input folder; move it out or add ` +
        `--exclude '${relative(root, folder)}'`,
    );
  }
  await checkNotAFile(flag, folder);
}

async function checkNotAFile(flag: string, folder: string): Promise<void> {
  if (await Deno.stat(folder).then((s) => !s.isDirectory, () => false)) {
    throw new UsageError(`${flag} exists and is not a folder: ${folder}`);
  }
}
