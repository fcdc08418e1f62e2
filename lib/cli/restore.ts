/**
 * `te-scan restore --rep DIR FILE...`: puts a file te-scan quarantined or
 * sent to the error folder back at the input path it came from (a false
 * positive, or an error worth another try). The run log says where each file
 * came from and what it was; a file the log does not name as placed there,
 * or whose size or SHA-1 is no longer what was scanned, is refused and left
 * alone. The move is the scan's own: journaled, never overwriting (a taken
 * name gets a number), and logged as a `restore` event.
 *
 * Exit codes: 0 every file restored; 3 some file refused (named, with the
 * reason, on its own line) or the command line is wrong; the others were
 * restored all the same.
 *
 * @example Nothing to restore from an empty reports folder
 * ```ts
 * import { restoreCommand } from "./restore.ts";
 * import { Terminal } from "./terminal.ts";
 * import assert from "node:assert/strict";
 *
 * const rep = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${rep}/te-scan.log.jsonl`, "");
 * await Deno.writeTextFile(`${rep}/x.pdf`, "%PDF-");
 * const err: string[] = [];
 * const terminal = new Terminal({ err: (t) => err.push(t), isTerminal: { out: false, err: false } });
 * assert.equal(await restoreCommand(["--rep", rep, `${rep}/x.pdf`], terminal), 3);
 * assert.match(err.join(""), /Cannot restore .*x\.pdf: te-scan did not place it there/);
 * await Deno.remove(rep, { recursive: true });
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import { basename, dirname, join, resolve } from "node:path";
import { reasonOf } from "../util/reason.ts";
import { moveFile } from "../fs/move.ts";
import { type LogEvent, RunLog } from "../fs/run_log.ts";
import { readLogEvents } from "../fs/run_log_events.ts";
import { StateDir } from "../fs/state_dir.ts";
import { hashFile } from "../pipeline/hash.ts";
import { Exit, UsageError } from "./exit.ts";
import { escapeControl, renderError } from "./render.ts";
import { usageErrorOf } from "./suggest.ts";
import { processTerminal, type Terminal } from "./terminal.ts";

const LOG_NAME = "te-scan.log.jsonl";

const HELP = `Usage: te-scan restore --rep DIR FILE...

Puts each FILE, a file te-scan moved to the quarantine (--jail) or error (--error)
folder, back at the input path it came from, as the run log in DIR
(te-scan.log.jsonl) records it. A file is refused, and left where it is, when the
log does not name it as placed there by te-scan, or when its size or SHA-1 differ
from what was scanned. Nothing is overwritten: a taken name gets a number
(b.1.docx). The move is journaled like a scan's, and logged as a "restore" event.
Exit 0 when every file was restored, 3 when one was refused.`;

/** Where a file placed by te-scan came from, as its log line says. */
interface Placed {
  /** The input path it was scanned at. */
  path: string;
  sha1: string;
  size: number;
  state: string;
  /** Its mode at the input, when the run recorded it. */
  mode?: number;
}

/** A file the command cannot restore: the one line says why. */
class RefusedError extends Error {
  override name = "RefusedError";
}

/** A mode as the log may hold it: a number, or octal digits ("0640"). */
function modeOf(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) return value;
  if (typeof value === "string" && /^0?[0-7]{3,4}$/.test(value)) return parseInt(value, 8);
  return undefined;
}

/** The placement the log's last word about `dest` records, if it is still te-scan's. */
function placementOf(event: LogEvent): Placed | undefined {
  const { path, sha1, size, state, disposition } = event;
  if (disposition !== "moved" || typeof path !== "string") return undefined;
  if (typeof sha1 !== "string" || typeof size !== "number" || typeof state !== "string") {
    return undefined;
  }
  const mode = modeOf(event.original_mode);
  return { path, sha1, size, state, mode };
}

/** Reads the whole log for the last event that placed a file at `dest` or took it away. */
async function lastPlacement(logPath: string, dest: string): Promise<Placed | undefined> {
  let found: Placed | undefined;
  const quoted = JSON.stringify(dest);
  for await (const event of readLogEvents(logPath, 0, { containing: quoted })) {
    if (event.event === "file" && event.destination === dest) found = placementOf(event);
    // Restored (or placed elsewhere by a later run's restore): no longer te-scan's file here.
    if (event.event === "restore" && event.from === dest) found = undefined;
  }
  return found;
}

/** The path as given and with its folder's symlinks resolved: the log holds the run's form. */
async function namesOf(file: string): Promise<string[]> {
  const given = resolve(file);
  const real = await Deno.realPath(dirname(given)).then(
    (d) => join(d, basename(given)),
    () => given,
  );
  return real === given ? [given] : [given, real];
}

/** Finds where `file` came from, and checks it is still the file te-scan placed there. */
async function checkPlaced(file: string, logPath: string) {
  for (const at of await namesOf(file)) {
    const placed = await lastPlacement(logPath, at);
    if (!placed) continue;
    if (placed.state !== "malicious" && placed.state !== "error") {
      throw new RefusedError(
        `it was judged ${placed.state}; only quarantined and error-folder files go back`,
      );
    }
    const info = await Deno.lstat(at).catch(() => undefined);
    if (!info?.isFile) throw new RefusedError(`no file is there any more`);
    const now = await hashFile(at);
    if (now.size !== placed.size || now.sha1 !== placed.sha1) {
      throw new RefusedError(
        `it is not the file te-scan placed there (that one had ${placed.size} bytes and ` +
          `SHA-1 ${placed.sha1}; this one has ${now.size} bytes and SHA-1 ${now.sha1})`,
      );
    }
    return { at, placed, identity: now.identity };
  }
  throw new RefusedError(
    `te-scan did not place it there (the run log ${logPath} names no file moved to that path)`,
  );
}

/** Restores one file; returns where it went. */
async function restoreOne(file: string, state: StateDir, log: RunLog): Promise<string> {
  const { at, placed, identity } = await checkPlaced(file, log.path);
  const moved = await moveFile(at, placed.path, {
    journal: state.journal,
    expect: identity,
    sha1: placed.sha1,
  });
  // A jail may take away execute or read bits; the input had these.
  if (placed.mode !== undefined) await Deno.chmod(moved.path, placed.mode & 0o7777);
  log.write({ event: "restore", from: at, to: moved.path, sha1: placed.sha1, size: placed.size });
  return moved.path;
}

function parseRestoreArgs(argv: string[]): { rep: string; files: string[] } | "help" {
  const options = { rep: { type: "string" }, help: { type: "boolean", short: "h" } } as const;
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageErrorOf(error, Object.keys(options));
  }
  if (parsed.values.help) return "help";
  const rep = parsed.values.rep;
  if (rep === undefined) {
    throw new UsageError(
      "restore needs --rep DIR (the reports folder of the run that moved the files)",
    );
  }
  if (!parsed.positionals.length) throw new UsageError("give the files to restore");
  return { rep, files: parsed.positionals };
}

/**
 * Runs `te-scan restore`: exit 0 when every file went back, 3 when one was
 * refused or the command line is wrong, 2 when a move failed.
 */
export async function restoreCommand(
  argv: string[],
  terminal: Terminal = processTerminal(),
): Promise<number> {
  let args;
  try {
    args = parseRestoreArgs(argv);
    if (args === "help") {
      terminal.out(HELP);
      return Exit.CLEAN;
    }
    const logPath = join(args.rep, LOG_NAME);
    if (!(await Deno.stat(logPath).then((s) => s.isFile, () => false))) {
      throw new UsageError(
        `Cannot restore: no run log ${logPath} (is --rep the run's reports folder?)`,
      );
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    terminal.err(renderError(error.message));
    return Exit.USAGE;
  }
  let state: StateDir;
  try {
    state = await StateDir.open(args.rep, undefined);
  } catch (error) {
    terminal.err(renderError(`Cannot restore: ${reasonOf(error)}`));
    return Exit.USAGE;
  }
  const log = await RunLog.open(join(args.rep, LOG_NAME));
  let code: number = Exit.CLEAN;
  try {
    for (const file of args.files) {
      try {
        const to = await restoreOne(file, state, log);
        terminal.out(escapeControl(`RESTORED   ${file} -> ${to}`));
      } catch (error) {
        terminal.err(renderError(`Cannot restore ${file}: ${reasonOf(error)}`));
        code = Math.max(code, error instanceof RefusedError ? Exit.USAGE : Exit.UNRESOLVED);
      }
    }
  } finally {
    log.close();
    await state.close();
  }
  return code;
}
