/**
 * Looking at a path that may not be there.
 *
 * @module
 */

/**
 * The path's own information (a link is not followed), or `undefined` when
 * nothing is there. Any other failure (a folder that may not be read, say)
 * is thrown: "cannot tell" must not pass for "missing".
 *
 * @example A missing path, then a present one
 * ```ts
 * import { lstatOrUndefined } from "./stat.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * assert.equal(await lstatOrUndefined(`${dir}/nothing`), undefined);
 * assert.equal((await lstatOrUndefined(dir))?.isDirectory, true);
 * await Deno.remove(dir);
 * ```
 */
export async function lstatOrUndefined(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/**
 * The path's own information (a link is not followed), or `undefined` when
 * it cannot be had for any reason: for callers that only need to know
 * whether something readable stands there now (a walk entry, a folder on the
 * way to a file).
 *
 * @example A missing path, then a present one
 * ```ts
 * import { lstatSyncIfAny } from "./stat.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = Deno.makeTempDirSync();
 * assert.equal(lstatSyncIfAny(`${dir}/nothing`), undefined);
 * assert.equal(lstatSyncIfAny(dir)?.isDirectory, true);
 * Deno.removeSync(dir);
 * ```
 */
export function lstatSyncIfAny(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.lstatSync(path);
  } catch {
    return undefined;
  }
}
