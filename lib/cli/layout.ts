/**
 * The folders of a scan, resolved and checked before anything is touched:
 * layouts that could loop or lose data are refused with exit 3.
 *
 * @module
 */

import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { reasonOf } from "../util/reason.ts";
import type { Folders } from "../pipeline/dispose.ts";
import { matchesAnyGlob } from "../pipeline/glob.ts";
import { inputFolder, statInput } from "../pipeline/walk.ts";
import { UsageError } from "./exit.ts";
import { isInside } from "../util/paths.ts";

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

/** A folder as given (absolute) and its real path. */
interface Place {
  flag: string;
  path: string;
  real: string;
}

/** `--out /x` or, when a link leads elsewhere, `--out /x (real path /y)`. */
function shown(place: Place): string {
  const real = place.real === place.path ? "" : ` (real path ${place.real})`;
  return `${place.flag} ${place.path}${real}`;
}

/**
 * The real path of `path`: symlinks resolved, and for a folder not created
 * yet its nearest existing ancestor's real path with the rest appended, as
 * that is where `mkdir` would put it.
 */
async function realPathOf(path: string): Promise<string> {
  try {
    return await Deno.realPath(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    // A dangling link is there: mkdir would fail on it, so it is no place to create.
    const link = await Deno.lstat(path).then(() => true, () => false);
    const parent = dirname(path);
    if (link || parent === path) throw error;
    return join(await realPathOf(parent), basename(path));
  }
}

async function placeOf(flag: string, path: string): Promise<Place> {
  try {
    return { flag, path, real: await realPathOf(path) };
  } catch (error) {
    throw new UsageError(`Cannot use ${flag} ${path}: ${reasonOf(error)}`);
  }
}

/**
 * Resolves and checks a scan's folders on their real paths: a missing
 * input; a destination (`--out`, `--jail`, `--error`, `--clean`, `--rep`)
 * that is the input, contains it, or is inside it (unless excluded from the
 * walk); two destinations that are the same folder or one inside the other;
 * a destination that is a file. Each is refused with a `UsageError` naming
 * both folders.
 *
 * @example An output folder inside the input, or the quarantine inside the benign folder
 * ```ts
 * import { checkLayout } from "./layout.ts";
 * import assert from "node:assert/strict";
 *
 * const input = await Deno.makeTempDir();
 * await assert.rejects(
 *   checkLayout(input, { benign: `${input}/ok` }, "/tmp/rep", []),
 *   /--out .* is inside the input folder .*--exclude '\/ok'/,
 * );
 * await assert.rejects(
 *   checkLayout(input, { benign: "/x/clean", malicious: "/x/clean/q" }, "/tmp/rep", []),
 *   /Cannot use --jail \/x\/clean\/q: it is inside --out \/x\/clean/,
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
  const realRoot = root === undefined ? undefined : await placeOf("the input folder", root);
  const named: [string, string | undefined][] = [
    ["--out", folders.benign],
    ["--jail", folders.malicious],
    ["--error", folders.error],
    ["--clean", clean],
    ["--rep", reportsDir],
  ];
  const places: Place[] = [];
  for (const [flag, folder] of named) {
    if (!folder) continue;
    const place = await placeOf(flag, folder);
    await checkNotAFile(place);
    if (realRoot) checkAgainstInput(place, realRoot, exclude, info!.isFile);
    for (const other of places) checkApart(other, place);
    places.push(place);
  }
  return { input: input && resolve(input), inputFolder: root, folders, reportsDir, clean };
}

/** Two destinations never share a folder, nor hold one another. */
function checkApart(first: Place, second: Place): void {
  if (first.real === second.real) {
    throw new UsageError(
      `Cannot use ${first.flag} and ${second.flag}: they are the same folder: ` +
        `${shown(first)}, ${shown(second)}`,
    );
  }
  const [inner, outer] = isInside(second.real, first.real)
    ? [second, first]
    : isInside(first.real, second.real)
    ? [first, second]
    : [];
  if (inner && outer) {
    throw new UsageError(
      `Cannot use ${shown(inner)}: it is inside ${shown(outer)}; ` +
        `each destination needs a folder of its own`,
    );
  }
}

/** Whether the walk keeps out of `rel` (a folder inside the input): it or a parent is excluded. */
function excluded(rel: string, exclude: string[]): boolean {
  const parts = rel.split(sep);
  for (let i = 1; i <= parts.length; i++) {
    if (matchesAnyGlob(parts.slice(0, i).join("/"), exclude)) return true;
  }
  return false;
}

/**
 * An `--exclude` pattern for exactly the folder at `rel` in the input:
 * anchored by its leading `/`, glob characters escaped, quoted for a shell.
 */
function excludeFor(rel: string): string {
  const glob = "/" + rel.split(sep).join("/").replace(/[*?[\]{}\\]/g, "\\$&");
  return `'${glob.replaceAll("'", "'\\''")}'`;
}

function checkAgainstInput(
  place: Place,
  input: Place,
  exclude: string[],
  singleFile: boolean,
): void {
  const root = input.real;
  if (place.real === root && !singleFile) {
    throw new UsageError(`Cannot use ${shown(place)}: it is the input folder`);
  }
  if (place.real !== root && isInside(root, place.real)) {
    throw new UsageError(
      `Cannot use ${shown(place)}: ${shown(input)} is inside it`,
    );
  }
  const rel = relative(root, place.real);
  if (!singleFile && isInside(place.real, root) && !excluded(rel, exclude)) {
    throw new UsageError(
      `Cannot use ${shown(place)}: it is inside ${shown(input)}; ` +
        `move it out or add --exclude ${excludeFor(rel)}`,
    );
  }
}

async function checkNotAFile(place: Place): Promise<void> {
  if (await Deno.stat(place.real).then((s) => !s.isDirectory, () => false)) {
    throw new UsageError(`Cannot use ${shown(place)}: it exists and is not a folder`);
  }
}

/** The folder itself when it exists, else its nearest existing ancestor. */
async function nearestExisting(path: string): Promise<string> {
  for (let folder = path;; folder = dirname(folder)) {
    if (await Deno.stat(folder).then(() => true, () => false)) return folder;
    if (dirname(folder) === folder) return folder;
  }
}

/**
 * Creates and removes a file in `folder`, the only test of writability
 * that holds for root, ACLs, read-only mounts and full disks alike.
 */
async function probeWrite(folder: string): Promise<void> {
  const probe = join(folder, `.te-scan-probe-${Deno.pid}-${crypto.randomUUID()}`);
  const file = await Deno.open(probe, { write: true, createNew: true });
  try {
    await file.write(new Uint8Array([0x0a]));
  } finally {
    file.close();
    await Deno.remove(probe);
  }
}

/**
 * Probes, before anything is uploaded, that every destination a file may
 * be moved or copied into (`--out`, `--jail`, `--error`, `--clean`) can be
 * written: in the folder, or for one not created yet in its nearest existing
 * ancestor (nothing is created: a dry run leaves no folder behind). Throws a
 * `UsageError` naming the folder and the reason; returns notes for
 * destinations on another file system than the input when files are moved
 * (each move is then a copy, fsync and unlink).
 *
 * @example A destination that cannot be created is refused; nothing is created
 * ```ts
 * import { probeLayout } from "./layout.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/in`);
 * const layout = { input: `${dir}/in`, folders: { benign: `${dir}/ok/new` }, reportsDir: `${dir}/rep` };
 * assert.deepEqual(await probeLayout(layout, true), []);
 * assert.equal(await Deno.stat(`${dir}/ok`).catch(() => "absent"), "absent", "nothing created");
 * await Deno.writeTextFile(`${dir}/file`, "not a folder");
 * const blocked = { ...layout, folders: { malicious: `${dir}/file/q` } };
 * await assert.rejects(probeLayout(blocked, true), /Cannot write to --jail .*file\/q/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function probeLayout(layout: Layout, moves: boolean): Promise<string[]> {
  const { folders, clean } = layout;
  const named: [string, string | undefined][] = [
    ["--out", folders.benign],
    ["--jail", folders.malicious],
    ["--error", folders.error],
    ["--clean", clean],
  ];
  const inputDevice = layout.input === undefined
    ? undefined
    : (await Deno.stat(layout.input).catch(() => undefined))?.dev;
  const notes: string[] = [];
  for (const [flag, folder] of named) {
    if (!folder) continue;
    const existing = await nearestExisting(folder);
    try {
      await probeWrite(existing);
    } catch (error) {
      const where = existing === folder ? "" : ` (it would be created in ${existing})`;
      throw new UsageError(`Cannot write to ${flag} ${folder}${where}: ${reasonOf(error)}`);
    }
    const device = (await Deno.stat(existing)).dev;
    if (moves && flag !== "--clean" && inputDevice !== undefined && device !== inputDevice) {
      notes.push(
        `${flag} ${folder} is on another file system than the input: ` +
          `each file is copied there, flushed, then removed from the input`,
      );
    }
  }
  return notes;
}
