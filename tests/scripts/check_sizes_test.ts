import assert from "node:assert/strict";
import { declarationsOf, oversized } from "../../scripts/check_sizes.ts";

/** `n - 2` body lines at `indent`, so the declaration wrapping them spans `n` lines. */
function body(n: number, indent = "  "): string[] {
  return Array.from({ length: n - 2 }, (_, i) => `${indent}step(${i});`);
}

/** A class spanning `n` lines whose methods each stay well under the function limit. */
function classOf(name: string, n: number): string[] {
  const methods: string[] = [];
  let i = 0;
  while (methods.length + 2 + 10 <= n) {
    methods.push(`  m${i++}(): void {`, ...body(10, "    "), "  }");
  }
  methods.push(...Array.from({ length: n - 2 - methods.length }, (_, j) => `  f${j} = ${j};`));
  return [`export class ${name} {`, ...methods, "}"];
}

Deno.test("a 61-line function and a 201-line class fail; 60 and 200 lines pass", () => {
  const source = [
    ...["export function tooLong(", "  a: number,", "): void {", ...body(59), "}"],
    ...["export async function fits(): Promise<void> {", ...body(60), "}"],
    ...classOf("TooBig", 201),
    ...classOf("Fits", 200),
  ].join("\n");
  assert.deepEqual(oversized("lib/x.ts", source), [
    "lib/x.ts:1 function tooLong is 61 lines (limit 60)",
    "lib/x.ts:122 class TooBig is 201 lines (limit 200)",
  ]);
});

Deno.test("methods, arrow fields and top-level arrow functions are measured too", () => {
  const source = [
    "export const handler = async (",
    "  request: Request,",
    "): Promise<Response> => {",
    ...body(59),
    "};",
    "class C {",
    "  #cache = new Map<string, number>();",
    "  static async #load<T>(key: string): Promise<T> {",
    ...body(61, "    "),
    "  }",
    "  onEvent = (event: Event): void => {",
    ...body(60, "    "),
    "  };",
    "}",
  ].join("\n");
  assert.deepEqual(oversized("lib/y.ts", source), [
    "lib/y.ts:1 function handler is 61 lines (limit 60)",
    "lib/y.ts:64 function #load is 61 lines (limit 60)",
  ]);
  const names = declarationsOf(source).map(({ kind, name }) => `${kind} ${name}`);
  assert.deepEqual(names, ["function handler", "class C", "function #load", "function onEvent"]);
});

Deno.test("template literals, comments and regexes do not end a function early", () => {
  const source = [
    "export function page(title: string): string {",
    "  const re = /[`'\"]/g; // a quote in a regex: `",
    "  /* a brace at the start of a line",
    "}",
    "  */",
    "  return `",
    "<h1>${title.replace(re, (c) => `${c}`)}</h1>",
    "}",
    ...Array.from({ length: 55 }, (_, i) => `<p>${i}</p>`),
    "`;",
    "}",
  ].join("\n");
  assert.deepEqual(oversized("lib/z.ts", source), [
    "lib/z.ts:1 function page is 65 lines (limit 60)",
  ]);
});

Deno.test("an overload or a one-line function ends where it stands", () => {
  const source = [
    "export function f(a: string): string;",
    "export function f(a: number): number;",
    "export function f(a: unknown): unknown {",
    "  return a;",
    "}",
    "const g = (x: number) => x * 2;",
  ].join("\n");
  assert.deepEqual(declarationsOf(source).map(({ line, lines }) => [line, lines]), [
    [1, 1],
    [2, 1],
    [3, 3],
    [6, 1],
  ]);
});
