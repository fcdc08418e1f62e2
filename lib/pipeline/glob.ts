/**
 * Glob patterns for `--include` and `--exclude`, matched against a file's path
 * relative to the input folder (POSIX separators), gitignore-style.
 *
 * `node:path`'s `matchesGlob` and `node:fs`'s `glob` would do, but they need
 * env access and kill the process without it (see deno-notes section 1), so this is
 * a small translator to `RegExp` instead.
 *
 * Syntax: `*` any characters but `/`; `**` any characters including `/`
 * (`**` followed by `/` may match no folder at all); `?` one character but `/`;
 * `[abc]`, `[a-z]`, `[!a-z]` (or `[^a-z]`) one character of a class, never `/`;
 * `{a,b}` either alternative (nestable); `\x` a literal `x`.
 * A pattern without a `/` matches the base name at any depth (`*.tmp` matches
 * `a/b/x.tmp`); a pattern with a `/` matches the whole relative path. A leading
 * `/` only anchors (`/x.tmp` matches `x.tmp` but not `a/x.tmp`); a trailing `/`
 * is ignored, so `node_modules/` matches a `node_modules` at any depth.
 * Matching is case-sensitive.
 *
 * @example A pattern without a slash matches at any depth
 * ```ts
 * import { matchesAnyGlob } from "./glob.ts";
 * import assert from "node:assert/strict";
 * assert.equal(matchesAnyGlob("src/deep/x.tmp", ["*.tmp"]), true);
 * assert.equal(matchesAnyGlob("docs/a.md", ["src/**"]), false);
 * ```
 * @module
 */

const REGEXP_SPECIALS = /[.*+?^${}()|[\]\\/]/g;

function escapeLiteral(text: string): string {
  return text.replace(REGEXP_SPECIALS, "\\$&");
}

/** Index of the `}` closing the `{` at `open`, or -1 when it is never closed. */
function closingBrace(glob: string, open: number): number {
  let depth = 0;
  for (let i = open; i < glob.length; i++) {
    const char = glob[i];
    if (char === "\\") i++;
    else if (char === "{") depth++;
    else if (char === "}" && --depth === 0) return i;
  }
  return -1;
}

/** Index of the `]` closing the class opened at `open`, or -1 when unclosed. */
function closingBracket(glob: string, open: number): number {
  let i = open + 1;
  if (glob[i] === "!" || glob[i] === "^") i++;
  // A `]` right after the opening (or its negation) is a member, as in shells.
  if (glob[i] === "]") i++;
  for (; i < glob.length; i++) {
    if (glob[i] === "\\") i++;
    else if (glob[i] === "]") return i;
  }
  return -1;
}

function translateClass(body: string): string {
  const negated = body.startsWith("!") || body.startsWith("^");
  const members = (negated ? body.slice(1) : body).replace(/\\(.)/g, "$1");
  // Inside a RegExp class only `\`, `]`, `^` and `-` are special; `-` stays a range.
  const escaped = members.replace(/[\\\]^]/g, "\\$&");
  // A class stands for one character of a name, so it never matches a separator.
  return negated ? `[^/${escaped}]` : `(?!/)[${escaped}]`;
}

/** Translates `glob[start, end)` to RegExp source; `,` splits alternatives inside braces. */
function translate(glob: string, start: number, end: number): string {
  let source = "";
  for (let i = start; i < end; i++) {
    const char = glob[i];
    if (char === "*") {
      if (glob[i + 1] !== "*") {
        source += "[^/]*";
        continue;
      }
      i++;
      if (glob[i + 1] === "/") {
        // `**/` may stand for no folder at all: `**/x` matches `x`, `a/**/x` matches `a/x`.
        source += "(?:.*/)?";
        i++;
      } else {
        source += ".*";
      }
    } else if (char === "?") {
      source += "[^/]";
    } else if (char === "[") {
      const close = closingBracket(glob, i);
      if (close === -1 || close >= end) {
        source += "\\[";
        continue;
      }
      source += translateClass(glob.slice(i + 1, close));
      i = close;
    } else if (char === "{") {
      const close = closingBrace(glob, i);
      if (close === -1 || close >= end) {
        source += "\\{";
        continue;
      }
      source += `(?:${translateAlternatives(glob, i + 1, close)})`;
      i = close;
    } else if (char === "\\" && i + 1 < end) {
      source += escapeLiteral(glob[++i]);
    } else {
      source += escapeLiteral(char);
    }
  }
  return source;
}

function translateAlternatives(glob: string, start: number, end: number): string {
  const alternatives: string[] = [];
  let depth = 0;
  let from = start;
  for (let i = start; i < end; i++) {
    const char = glob[i];
    if (char === "\\") i++;
    else if (char === "{") depth++;
    else if (char === "}") depth--;
    else if (char === "," && depth === 0) {
      alternatives.push(translate(glob, from, i));
      from = i + 1;
    }
  }
  alternatives.push(translate(glob, from, end));
  return alternatives.join("|");
}

/**
 * Compiles one glob to a `RegExp` tested against a whole relative POSIX path.
 * An empty pattern (or a bare `/`) matches nothing.
 *
 * @example Alternatives, and a pattern anchored by its slash
 * ```ts
 * import { globToRegExp } from "./glob.ts";
 * import assert from "node:assert/strict";
 * assert.equal(globToRegExp("*.{doc,docx}").test("mail/2024/offer.docx"), true);
 * // A `/` in the pattern anchors it to the root.
 * assert.equal(globToRegExp("build/**").test("src/build/x.js"), false);
 * ```
 */
export function globToRegExp(glob: string): RegExp {
  const withoutTrailingSlash = glob.replace(/\/+$/, "");
  const anchored = withoutTrailingSlash.includes("/");
  const body = withoutTrailingSlash.replace(/^\/+/, "");
  if (body === "") return /(?!)/;
  const pattern = translate(body, 0, body.length);
  return new RegExp(anchored ? `^${pattern}$` : `^(?:.*/)?${pattern}$`);
}

const compiled = new Map<string, RegExp>();

/**
 * Whether a relative POSIX path matches at least one of the globs.
 * Compiled patterns are cached, as the walk tests every entry against the same list.
 *
 * @example Any of the patterns, and none at all
 * ```ts
 * import { matchesAnyGlob } from "./glob.ts";
 * import assert from "node:assert/strict";
 * assert.equal(matchesAnyGlob("a/b/x.tmp", ["*.log", "*.tmp"]), true);
 * assert.equal(matchesAnyGlob("a/b/x.tmp", []), false);
 * ```
 */
export function matchesAnyGlob(relPath: string, globs: string[]): boolean {
  for (const glob of globs) {
    let regExp = compiled.get(glob);
    if (regExp === undefined) {
      regExp = globToRegExp(glob);
      compiled.set(glob, regExp);
    }
    if (regExp.test(relPath)) return true;
  }
  return false;
}
