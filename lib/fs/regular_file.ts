/**
 * Opening an input file for reading without ever waiting on it. `Deno.open`
 * of a FIFO blocks until a writer comes (for ever, and the process cannot
 * exit while it waits), and an `lstat` before the open leaves a window in
 * which the name can be swapped for one. So the file is opened with
 * `O_NONBLOCK` (which a regular file ignores), checked with `fstat` on the
 * descriptor itself, and read through that descriptor: what is read is the
 * regular file that was checked, whatever the name leads to meanwhile.
 * `Deno.open` takes no such flag, hence `node:fs`.
 *
 * @module
 */

import { closeSync, constants, fstat, fstatSync, openSync, read, readSync } from "node:fs";
import type { FileStat } from "./identity.ts";

/** The name leads to something other than a regular file (a FIFO, a device, a folder, …). */
export class NotRegularFileError extends Error {
  override name = "NotRegularFileError";
}

/** A regular file open for reading, with the reads of a `Deno.FsFile` that the scan uses. */
export interface RegularFile extends Disposable {
  /** Reads into `buffer`; `null` at the end of the file. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** {@linkcode RegularFile.read} with a blocking call (for small files). */
  readSync(buffer: Uint8Array): number | null;
  stat(): Promise<FileStat>;
  statSync(): FileStat;
  /** The `fstat` taken as it was opened (which proved it a regular file): callers reuse it. */
  readonly opened: FileStat;
  close(): void;
}

function kindOf(info: { isFIFO(): boolean; isDirectory(): boolean; isSocket(): boolean }): string {
  if (info.isFIFO()) return "a FIFO";
  if (info.isDirectory()) return "a folder";
  if (info.isSocket()) return "a socket";
  return "a device or special file";
}

/**
 * Opens `path` for reading if it is a regular file, without blocking on
 * anything else. Throws {@linkcode NotRegularFileError} (or what `refuse`
 * makes of it) for a FIFO, device, socket or folder, and the system's error
 * (code `ENOENT`, …) when it cannot be opened.
 *
 * @example A FIFO-free read of a file
 * ```ts
 * import { NotRegularFileError, openRegularFile } from "./regular_file.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "abc");
 * using file = openRegularFile(`${dir}/a.txt`);
 * const buffer = new Uint8Array(8);
 * assert.equal(await file.read(buffer), 3);
 * assert.equal(file.statSync().size, 3);
 * assert.throws(() => openRegularFile(dir), NotRegularFileError);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function openRegularFile(
  path: string,
  refuse: (error: NotRegularFileError) => Error = (error) => error,
): RegularFile {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  let info;
  try {
    info = fstatSync(fd);
    if (!info.isFile()) {
      throw refuse(new NotRegularFileError(`not a regular file (${kindOf(info)})`));
    }
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  let open = true;
  const close = () => {
    if (open) closeSync(fd);
    open = false;
  };
  return {
    read: (buffer) =>
      new Promise((resolve, reject) => {
        read(fd, buffer, 0, buffer.byteLength, null, (error, count) => {
          if (error) reject(error);
          else resolve(count > 0 ? count : null);
        });
      }),
    readSync: (buffer) => {
      const count = readSync(fd, buffer, 0, buffer.byteLength, null);
      return count > 0 ? count : null;
    },
    stat: () =>
      new Promise((resolve, reject) => {
        fstat(fd, (error, info) => error ? reject(error) : resolve(info));
      }),
    statSync: () => fstatSync(fd),
    opened: info,
    close,
    [Symbol.dispose]: close,
  };
}
