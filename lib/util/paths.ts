/**
 * Path relations the layout rules, the list of files and the registry of
 * running scans share.
 *
 * @module
 */

import { isAbsolute, relative, sep } from "node:path";

/**
 * Whether absolute path `child` is `parent` or lies below it, compared by
 * name only (resolve links first when they matter). A folder named `..x`
 * is inside, as it is a name, not a step up.
 *
 * @example Inside, the same, and beside
 * ```ts
 * import { isInside } from "./paths.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isInside("/drop/finance", "/drop"), true);
 * assert.equal(isInside("/drop", "/drop"), true);
 * assert.equal(isInside("/drop2", "/drop"), false);
 * assert.equal(isInside("/drop/..x", "/drop"), true);
 * ```
 */
export function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * Whether two absolute paths overlap: one is the other or inside it.
 *
 * @example Overlapping either way, or not at all
 * ```ts
 * import { overlaps } from "./paths.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(overlaps("/drop", "/drop/finance"), true);
 * assert.equal(overlaps("/drop/finance", "/drop"), true);
 * assert.equal(overlaps("/drop/finance", "/drop/hr"), false);
 * ```
 */
export function overlaps(first: string, second: string): boolean {
  return isInside(first, second) || isInside(second, first);
}
