/**
 * `deno run --allow-read scripts/check_imports.ts [ROOT]`: fails (exit 1) when
 * a module under `lib/` imports against the folder order, or folders import
 * each other in a cycle, in the spirit of Deno std's
 * `_tools/check_circular_package_dependencies.ts`. Part of `deno task check`.
 *
 * The order is `cli` → `pipeline` → `transport` → `fs` → `util`: a folder
 * imports only from itself and the folders after it, so each can be read,
 * tested and replaced knowing only what lies below it. `lib/emulator/` stands
 * aside: it may import `fs` and `util`, only `cli` (and `main.ts`) may import
 * it, and only through `lib/emulator/mod.ts`. The emulator still imports
 * `transport` at run time today; that is listed as a warning until
 * {@linkcode EMULATOR_TRANSPORT_IS_ERROR} is switched on. Type-only imports
 * count for the order but not for that rule: they vanish at run time.
 *
 * @example The shipped tree passes
 * ```sh
 * ./scripts/deno run --allow-read scripts/check_imports.ts
 * ```
 * @module
 */

import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

/** Switch on once the emulator no longer imports `lib/transport/` at run time. */
export const EMULATOR_TRANSPORT_IS_ERROR = true;

/** The folders of `lib/` from the top down: each imports only itself and those after it. */
export const LAYERS = ["cli", "pipeline", "transport", "fs", "util"] as const;

/** What `lib/emulator/` may import besides itself. */
const EMULATOR_MAY_IMPORT = new Set(["fs", "util"]);

/** The folders (and `main.ts`) that may import the emulator, through its mod.ts. */
const EMULATOR_USERS = new Set(["main.ts", "cli"]);

/**
 * The modules of `lib/transport/` the pipeline may import: the seam (the
 * `Transport` interface and what it exports of failures, rotation and
 * retry pace) and the protocol types. Type-only imports count too: a client's
 * internals stay replaceable without the pipeline noticing.
 */
export const PIPELINE_SEAM = new Set([
  "lib/transport/transport.ts",
  "lib/transport/protocol.ts",
  "lib/transport/status.ts",
]);

/** One import: the file (repo-relative) it names, and whether it is `import type` only. */
export interface ImportEdge {
  to: string;
  typeOnly: boolean;
}

/** Repo-relative module path → the repo-relative modules it imports. */
export type ImportGraph = Map<string, ImportEdge[]>;

/** What the check found: errors fail it, warnings are listed. */
export interface ImportReport {
  errors: string[];
  warnings: string[];
}

const STATIC_IMPORT =
  /^[ \t]*(?:import|export)[ \t]+(type[ \t]+)?([^;]*?)\bfrom[ \t]*["']([^"']+)["']/gm;
const BARE_IMPORT = /^[ \t]*import[ \t]*["']([^"']+)["']/gm;
const DYNAMIC_IMPORT = /\bimport\(\s*["']([^"']+)["']\s*\)/g;

/**
 * The relative imports in a module's source text, resolved against `file`
 * (repo-relative). JSDoc examples are skipped: their lines start with `*`.
 *
 * @example Static, type-only and dynamic imports; packages are left out
 * ```ts
 * import { importsOf } from "./check_imports.ts";
 * import assert from "node:assert/strict";
 *
 * const source = [
 *   'import { a } from "../fs/move.ts";',
 *   'import type { B } from "./b.ts";',
 *   'import { type C } from "../util/c.ts";',
 *   'import assert from "node:assert/strict";',
 *   'const d = await import("../cli/d.ts");',
 *   ' * import { e } from "../cli/e.ts";',
 * ].join("\n");
 * assert.deepEqual(importsOf("lib/pipeline/x.ts", source), [
 *   { to: "lib/fs/move.ts", typeOnly: false },
 *   { to: "lib/pipeline/b.ts", typeOnly: true },
 *   { to: "lib/util/c.ts", typeOnly: true },
 *   { to: "lib/cli/d.ts", typeOnly: false },
 * ]);
 * ```
 */
export function importsOf(file: string, source: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  const add = (specifier: string, typeOnly: boolean) => {
    if (!specifier.startsWith(".")) return;
    edges.push({ to: normalize(join(dirname(file), specifier)), typeOnly });
  };
  for (const [, typeWord, names, specifier] of source.matchAll(STATIC_IMPORT)) {
    add(specifier, typeWord !== undefined || allTypes(names));
  }
  for (const [, specifier] of source.matchAll(BARE_IMPORT)) add(specifier, false);
  for (const [, specifier] of source.matchAll(DYNAMIC_IMPORT)) add(specifier, false);
  return edges;
}

/** Whether `{ type A, type B }` names only types (an import Deno drops at run time). */
function allTypes(names: string): boolean {
  const inBraces = /^\s*\{([^}]*)\}\s*$/.exec(names);
  if (!inBraces) return false;
  const parts = inBraces[1].split(",").map((p) => p.trim()).filter((p) => p !== "");
  return parts.length > 0 && parts.every((p) => p.startsWith("type "));
}

/** The part of the tree a module belongs to: `main.ts`, a folder of `lib/`, or undefined (elsewhere). */
function folderOf(file: string): string | undefined {
  if (file === "main.ts") return file;
  const match = /^lib\/([^/]+)\//.exec(file);
  return match?.[1];
}

/** Why `from` may not import `to` (both repo-relative), or undefined when it may. */
function ruleBroken(
  from: string,
  edge: ImportEdge,
  emulatorTransportIsError: boolean,
): { error?: string; warning?: string } {
  const source = folderOf(from)!;
  const target = folderOf(edge.to);
  const line = `${from} imports ${edge.to}`;
  if (target === undefined || target === source || target === "main.ts") {
    return target === "main.ts" ? { error: `${line}: nothing imports main.ts` } : {};
  }
  if (target === "emulator") {
    if (!EMULATOR_USERS.has(source)) return { error: `${line}: only cli may use the emulator` };
    return edge.to === "lib/emulator/mod.ts"
      ? {}
      : { error: `${line}: enter lib/emulator/ only through lib/emulator/mod.ts` };
  }
  if (source === "emulator") {
    if (EMULATOR_MAY_IMPORT.has(target)) return {};
    if (target === "transport") {
      if (edge.typeOnly) return {};
      const why = `${line}: the emulator must not import transport at run time`;
      return emulatorTransportIsError ? { error: why } : { warning: why };
    }
    return { error: `${line}: the emulator may import only fs and util` };
  }
  if (source === "pipeline" && target === "transport" && !PIPELINE_SEAM.has(edge.to)) {
    return {
      error: `${line}: the pipeline enters lib/transport/ only through the seam (${seamList()})`,
    };
  }
  return layerRule(line, source, target);
}

function seamList(): string {
  return [...PIPELINE_SEAM].map((path) => path.replace("lib/transport/", "")).join(", ");
}

function layerRule(line: string, source: string, target: string): { error?: string } {
  const order: readonly string[] = LAYERS;
  const [from, to] = [order.indexOf(source), order.indexOf(target)];
  if (to === -1) return { error: `${line}: lib/${target}/ is not in the folder order` };
  if (source === "main.ts" || to > from) return {};
  if (from === -1) return { error: `${line}: lib/${source}/ is not in the folder order` };
  return { error: `${line}: upward import (order: ${LAYERS.join(" → ")})` };
}

/**
 * The folder order's errors and warnings for a whole import graph, folder
 * cycles included.
 *
 * @example A planted upward import fails the check
 * ```ts
 * import { checkGraph } from "./check_imports.ts";
 * import assert from "node:assert/strict";
 *
 * const graph = new Map([
 *   ["lib/pipeline/a.ts", [{ to: "lib/fs/b.ts", typeOnly: false }]],
 *   ["lib/fs/b.ts", [{ to: "lib/transport/c.ts", typeOnly: false }]],
 * ]);
 * const { errors } = checkGraph(graph);
 * assert.match(errors[0], /^lib\/fs\/b.ts imports lib\/transport\/c.ts: upward import/);
 * ```
 */
export function checkGraph(
  graph: ImportGraph,
  emulatorTransportIsError = EMULATOR_TRANSPORT_IS_ERROR,
): ImportReport {
  const report: ImportReport = { errors: [], warnings: [] };
  for (const [from, edges] of graph) {
    for (const edge of edges) {
      const { error, warning } = ruleBroken(from, edge, emulatorTransportIsError);
      if (error) report.errors.push(error);
      if (warning) report.warnings.push(warning);
    }
  }
  for (const cycle of folderCycles(graph)) {
    report.errors.push(`folder cycle: ${cycle.join(" → ")}`);
  }
  return report;
}

/**
 * Every cycle among folders (each found once, from its first folder in
 * sorted order), e.g. `["fs", "transport", "fs"]`.
 *
 * @example Two folders that import each other
 * ```ts
 * import { folderCycles } from "./check_imports.ts";
 * import assert from "node:assert/strict";
 *
 * const graph = new Map([
 *   ["lib/fs/a.ts", [{ to: "lib/transport/b.ts", typeOnly: true }]],
 *   ["lib/transport/b.ts", [{ to: "lib/fs/a.ts", typeOnly: false }]],
 * ]);
 * assert.deepEqual(folderCycles(graph), [["fs", "transport", "fs"]]);
 * ```
 */
export function folderCycles(graph: ImportGraph): string[][] {
  const next = new Map<string, Set<string>>();
  for (const [from, edges] of graph) {
    const source = folderOf(from)!;
    for (const { to } of edges) {
      const target = folderOf(to);
      if (target === undefined || target === source) continue;
      next.set(source, (next.get(source) ?? new Set()).add(target));
    }
  }
  const cycles: string[][] = [];
  const starts = [...next.keys()].sort();
  for (const start of starts) {
    // Only cycles through folders after `start` in sorted order: each cycle is reported once.
    const walk = (folder: string, path: string[]) => {
      for (const target of [...(next.get(folder) ?? [])].sort()) {
        if (target === start) cycles.push([...path, start]);
        else if (target > start && !path.includes(target)) walk(target, [...path, target]);
      }
    };
    walk(start, [start]);
  }
  return cycles;
}

/** Every `.ts` module under `lib/` and `main.ts`, repo-relative, with its imports. */
async function importGraph(root: string): Promise<ImportGraph> {
  const graph: ImportGraph = new Map();
  const visit = async (folder: string) => {
    const entries = await Array.fromAsync(Deno.readDir(join(root, folder)));
    for (const entry of entries.sort((x, y) => x.name < y.name ? -1 : 1)) {
      const path = join(folder, entry.name);
      if (entry.isDirectory) await visit(path);
      else if (entry.isFile && entry.name.endsWith(".ts")) await read(path);
    }
  };
  const read = async (file: string) => {
    graph.set(file, importsOf(file, await Deno.readTextFile(join(root, file))));
  };
  await read("main.ts");
  await visit("lib");
  return graph;
}

/** Checks the tree at `root`: the report, with paths relative to `root`. */
async function checkTree(root: string): Promise<ImportReport> {
  return checkGraph(await importGraph(root));
}

if (import.meta.main) {
  const root = Deno.args[0] ?? fileURLToPath(new URL("../", import.meta.url));
  const { errors, warnings } = await checkTree(root);
  for (const warning of warnings) console.error(`check_imports: warning: ${warning}`);
  for (const error of errors) console.error(`check_imports: ${error}`);
  if (errors.length) {
    console.error(`check_imports: ${errors.length} problem(s) with the folder order`);
    Deno.exit(1);
  }
  console.log(
    `check_imports: ok, ${LAYERS.join(" → ")}; emulator → fs, util` +
      (warnings.length ? ` (${warnings.length} warning(s))` : ""),
  );
}
