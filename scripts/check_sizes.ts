/**
 * `deno run --allow-read scripts/check_sizes.ts [ROOT]`: fails (exit 1)
 * listing every function over {@linkcode FUNCTION_LIMIT} lines and every
 * class over {@linkcode CLASS_LIMIT} lines under `lib/`. Part of
 * `deno task check`.
 *
 * A declaration is measured from its first line to its closing brace, JSDoc
 * left out, on deno-fmt'ed text: functions and classes at the top level,
 * arrow functions assigned at the top level, and methods and arrow-function
 * fields of a class. Lines inside template literals and block comments are
 * skipped, so an HTML template at column 0 does not end a function early.
 *
 * @example The shipped tree passes
 * ```sh
 * ./scripts/deno run --allow-read scripts/check_sizes.ts
 * ```
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The most lines a function, method or arrow function may span. */
export const FUNCTION_LIMIT = 60;
/** The most lines a class may span. */
export const CLASS_LIMIT = 200;

/** One measured declaration. */
export interface Declaration {
  kind: "function" | "class";
  name: string;
  /** 1-based line of the declaration. */
  line: number;
  /** Lines from the declaration to its closing brace, both included. */
  lines: number;
}

const MODIFIERS = "(?:(?:export|default|declare|abstract|async)\\s+)*";
const TOP_FUNCTION = new RegExp(`^${MODIFIERS}function\\s*\\*?\\s*([\\w$]+)`);
const TOP_CLASS = new RegExp(`^${MODIFIERS}class\\s+([\\w$]+)`);
const ARROW_VALUE = "(?:async\\s+)?(?:function\\b|\\(|<|[\\w$]+\\s*=>)";
const TOP_ARROW = new RegExp(
  `^(?:export\\s+)?(?:const|let)\\s+([\\w$]+)(?:\\s*:[^=]+)?\\s*=\\s*${ARROW_VALUE}`,
);
const MEMBER_MODIFIERS =
  "(?:(?:static|private|public|protected|override|readonly|abstract|async|get|set)\\s+)*";
const METHOD = new RegExp(`^  ${MEMBER_MODIFIERS}\\*?(#?[\\w$]+)\\s*(?:<.*>)?\\(`);
const ARROW_FIELD = new RegExp(
  `^  ${MEMBER_MODIFIERS}(#?[\\w$]+)(?:\\s*:[^=]+)?\\s*=\\s*${ARROW_VALUE}`,
);
const NOT_A_MEMBER = /^ {2}(?:if|for|while|switch|catch|return|await|new|throw|super)\b/;

/**
 * For each line, whether it starts inside a template literal or a block
 * comment: such lines say nothing about where a declaration ends.
 *
 * @example A template literal's inner lines are flagged
 * ```ts
 * import { linesInsideText } from "./check_sizes.ts";
 * import assert from "node:assert/strict";
 *
 * const source = ["const a = `", "}", "`;", "/*", "} *" + "/", "const b = 1;"].join("\n");
 * assert.deepEqual(linesInsideText(source), [false, true, true, false, true, false]);
 * ```
 */
export function linesInsideText(source: string): boolean[] {
  const inside: boolean[] = [false];
  // Each entry is a brace depth inside `${…}`; a template literal's body is the top when it is -1.
  const stack: number[] = [];
  let mode: "code" | "block" | "line" | "'" | '"' | "regex" = "code";
  let previous = "";
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    const inTemplate = mode === "code" && stack.at(-1) === -1;
    if (c === "\n") {
      if (mode === "line" || mode === "'" || mode === '"' || mode === "regex") mode = "code";
      inside.push(mode === "block" || (mode === "code" && stack.at(-1) === -1));
      continue;
    }
    if (inTemplate) {
      if (c === "\\") i++;
      else if (c === "`") stack.pop();
      else if (c === "$" && source[i + 1] === "{") (stack.push(0), i++);
      continue;
    }
    if (mode !== "code") {
      mode = leaveText(mode, source, i);
      if (c === "\\" && mode !== "block" && mode !== "line") i++;
      if (mode === "code" && c === "*") i++;
      if (mode === "code") previous = ")";
      continue;
    }
    const next = source[i + 1];
    if (c === "/" && next === "/") (mode = "line", i++);
    else if (c === "/" && next === "*") (mode = "block", i++);
    else if (c === "/" && /^$|[(,=:[!&|?{};+\-*%<>~^]$/.test(previous)) mode = "regex";
    else if (c === "'" || c === '"') mode = c;
    else if (c === "`") stack.push(-1);
    else if (c === "{" && stack.length) stack[stack.length - 1]++;
    else if (c === "}" && stack.length) {
      // Closing a `${…}` returns to the template literal's body below it.
      if (stack[stack.length - 1] === 0) stack.pop();
      else stack[stack.length - 1]--;
    }
    if (!/\s/.test(c)) previous = /[\w$]/.test(c) ? endOfWord(source, i) : c;
  }
  return inside;
}

/** The mode after character `i` of a string, regex or comment: "code" once it closes. */
function leaveText(
  mode: "block" | "line" | "'" | '"' | "regex",
  source: string,
  i: number,
): "code" | "block" | "line" | "'" | '"' | "regex" {
  const c = source[i];
  if (mode === "block") return c === "*" && source[i + 1] === "/" ? "code" : mode;
  if (mode === "line") return mode;
  if (mode === "regex") return c === "/" && !inRegexClass(source, i) ? "code" : mode;
  return c === mode ? "code" : mode;
}

/** Whether the `/` at `i` sits inside a `[...]` class of the regex it closes or continues. */
function inRegexClass(source: string, i: number): boolean {
  let open = false;
  for (let j = source.lastIndexOf("\n", i) + 1; j < i; j++) {
    if (source[j] === "\\") j++;
    else if (source[j] === "[") open = true;
    else if (source[j] === "]") open = false;
  }
  return open;
}

/** A word ending at or after `i`, as `previous` for regex detection: keywords allow a regex. */
function endOfWord(source: string, i: number): string {
  let start = i;
  while (start > 0 && /[\w$]/.test(source[start - 1])) start--;
  const word = source.slice(start, i + 1);
  return /^(return|typeof|case|in|of|await|yield|void|delete|throw|else)$/.test(word) ? "=" : "w";
}

/**
 * Every function, method, arrow function and class in a module's source,
 * with the lines it spans.
 *
 * @example A top-level function and a class with one method
 * ```ts
 * import { declarationsOf } from "./check_sizes.ts";
 * import assert from "node:assert/strict";
 *
 * const source = [
 *   "export function f(",
 *   "  a: number,",
 *   "): number {",
 *   "  return a;",
 *   "}",
 *   "class C {",
 *   "  m(): void {",
 *   "  }",
 *   "}",
 * ].join("\n");
 * assert.deepEqual(declarationsOf(source), [
 *   { kind: "function", name: "f", line: 1, lines: 5 },
 *   { kind: "class", name: "C", line: 6, lines: 4 },
 *   { kind: "function", name: "m", line: 7, lines: 2 },
 * ]);
 * ```
 */
export function declarationsOf(source: string): Declaration[] {
  const lines = source.split("\n");
  const skip = linesInsideText(source);
  const found: Declaration[] = [];
  let classEnd = -1;
  for (let i = 0; i < lines.length; i++) {
    if (skip[i]) continue;
    const text = lines[i];
    const topClass = TOP_CLASS.exec(text);
    const top = topClass ?? TOP_FUNCTION.exec(text) ?? TOP_ARROW.exec(text);
    const member = i < classEnd && !NOT_A_MEMBER.test(text)
      ? METHOD.exec(text) ?? ARROW_FIELD.exec(text)
      : null;
    const match = top ?? member;
    if (!match) continue;
    const end = endOf(lines, skip, i, top ? 0 : 2);
    if (topClass) classEnd = end;
    const kind = topClass ? "class" : "function";
    found.push({ kind, name: match[1], line: i + 1, lines: end - i + 1 });
  }
  return found;
}

/**
 * The 0-based line where the declaration at `start` (indented `indent`)
 * ends: its closing `}` at the same indent, or the line before the next
 * statement at that indent when it has no body (an overload, a one-liner).
 */
function endOf(lines: string[], skip: boolean[], start: number, indent: number): number {
  for (let k = start + 1; k < lines.length; k++) {
    const text = lines[k];
    if (skip[k] || text.trim() === "") continue;
    const depth = text.length - text.trimStart().length;
    if (depth > indent) continue;
    const first = text.trimStart()[0];
    if (first === "}") return k;
    if (first === ")") continue; // a multi-line signature or call closing before its body
    return k - 1;
  }
  return lines.length - 1;
}

/**
 * The declarations of one module over the limits, as report lines.
 *
 * @example A 61-line function fails, a 60-line one passes
 * ```ts
 * import { oversized } from "./check_sizes.ts";
 * import assert from "node:assert/strict";
 *
 * const body = (n: number) => Array.from({ length: n - 2 }, () => "  work();");
 * const source = [
 *   ...["function big() {", ...body(61), "}"],
 *   ...["function fits() {", ...body(60), "}"],
 * ].join("\n");
 * assert.deepEqual(oversized("lib/x.ts", source), [
 *   "lib/x.ts:1 function big is 61 lines (limit 60)",
 * ]);
 * ```
 */
export function oversized(file: string, source: string): string[] {
  return declarationsOf(source).flatMap(({ kind, name, line, lines }) => {
    const limit = kind === "class" ? CLASS_LIMIT : FUNCTION_LIMIT;
    return lines > limit
      ? [`${file}:${line} ${kind} ${name} is ${lines} lines (limit ${limit})`]
      : [];
  });
}

/** Every `.ts` module under `folder` (repo-relative), sorted. */
async function modulesUnder(root: string, folder: string): Promise<string[]> {
  const files: string[] = [];
  const entries = await Array.fromAsync(Deno.readDir(join(root, folder)));
  for (const entry of entries.sort((x, y) => x.name < y.name ? -1 : 1)) {
    const path = join(folder, entry.name);
    if (entry.isDirectory) files.push(...await modulesUnder(root, path));
    else if (entry.isFile && entry.name.endsWith(".ts")) files.push(path);
  }
  return files;
}

if (import.meta.main) {
  const root = Deno.args[0] ?? fileURLToPath(new URL("../", import.meta.url));
  const problems: string[] = [];
  for (const file of await modulesUnder(root, "lib")) {
    problems.push(...oversized(file, await Deno.readTextFile(join(root, file))));
  }
  for (const problem of problems) console.error(`check_sizes: ${problem}`);
  if (problems.length) {
    console.error(`check_sizes: ${problems.length} declaration(s) over the size limits`);
    Deno.exit(1);
  }
  console.log(
    `check_sizes: ok, no function over ${FUNCTION_LIMIT} lines, no class over ${CLASS_LIMIT}`,
  );
}
