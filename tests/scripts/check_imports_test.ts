import assert from "node:assert/strict";
import { checkGraph, type ImportEdge, importsOf } from "../../scripts/check_imports.ts";

/** A graph from `from → to` pairs; a `type:` prefix on `to` marks an `import type`. */
function graphOf(pairs: [string, string][]): Map<string, ImportEdge[]> {
  const graph = new Map<string, ImportEdge[]>();
  for (const [from, to] of pairs) {
    const edge = { to: to.replace(/^type:/, ""), typeOnly: to.startsWith("type:") };
    graph.set(from, [...(graph.get(from) ?? []), edge]);
  }
  return graph;
}

Deno.test("each folder imports itself and the folders below it; main.ts imports anything", () => {
  const report = checkGraph(graphOf([
    ["main.ts", "lib/cli/scan.ts"],
    ["main.ts", "lib/emulator/mod.ts"],
    ["lib/cli/scan.ts", "lib/pipeline/mod.ts"],
    ["lib/cli/scan.ts", "lib/util/sleep.ts"],
    ["lib/cli/emulator.ts", "lib/emulator/mod.ts"],
    ["lib/pipeline/mod.ts", "lib/transport/transport.ts"],
    ["lib/pipeline/mod.ts", "lib/pipeline/walk.ts"],
    ["lib/transport/tpapi_answer.ts", "lib/fs/move.ts"],
    ["lib/fs/journal.ts", "lib/util/sleep.ts"],
    ["lib/emulator/server.ts", "lib/fs/tar.ts"],
    ["lib/emulator/server.ts", "lib/util/html.ts"],
  ]));
  assert.deepEqual(report, { errors: [], warnings: [] });
});

Deno.test("an upward import is an error, type-only or not, and so is the cycle it makes", () => {
  const report = checkGraph(graphOf([
    ["lib/transport/http.ts", "lib/fs/move.ts"],
    ["lib/fs/journal.ts", "lib/transport/retry.ts"],
    ["lib/util/sleep.ts", "type:lib/cli/args.ts"],
  ]));
  assert.deepEqual(report.errors, [
    "lib/fs/journal.ts imports lib/transport/retry.ts: upward import " +
    "(order: cli → pipeline → transport → fs → util)",
    "lib/util/sleep.ts imports lib/cli/args.ts: upward import " +
    "(order: cli → pipeline → transport → fs → util)",
    "folder cycle: fs → transport → fs",
  ]);
});

Deno.test("the emulator is entered through mod.ts, from cli only, and imports fs and util only", () => {
  const report = checkGraph(graphOf([
    ["lib/cli/demo.ts", "lib/emulator/server.ts"],
    ["lib/pipeline/hash.ts", "lib/emulator/mod.ts"],
    ["lib/emulator/mod.ts", "lib/pipeline/walk.ts"],
    ["lib/emulator/tpapi.ts", "lib/transport/status.ts"],
    ["lib/emulator/tpapi.ts", "type:lib/transport/protocol.ts"],
  ]));
  const why = "lib/emulator/tpapi.ts imports lib/transport/status.ts: " +
    "the emulator must not import transport at run time";
  assert.deepEqual(report.errors, [
    "lib/cli/demo.ts imports lib/emulator/server.ts: " +
    "enter lib/emulator/ only through lib/emulator/mod.ts",
    "lib/pipeline/hash.ts imports lib/emulator/mod.ts: only cli may use the emulator",
    "lib/emulator/mod.ts imports lib/pipeline/walk.ts: the emulator may import only fs and util",
    why,
    "folder cycle: emulator → pipeline → emulator",
  ]);
  // With the switch off (while the emulator still borrowed the client's code) it was a warning.
  const lenient = checkGraph(
    graphOf([["lib/emulator/tpapi.ts", "lib/transport/status.ts"]]),
    false,
  );
  assert.deepEqual(lenient, { errors: [], warnings: [why] });
});

Deno.test("a folder outside the order is an error until it is placed in it", () => {
  const report = checkGraph(graphOf([["lib/cli/scan.ts", "lib/helpers/x.ts"]]));
  assert.deepEqual(report.errors, [
    "lib/cli/scan.ts imports lib/helpers/x.ts: lib/helpers/ is not in the folder order",
  ]);
});

Deno.test("imports are read from re-exports, multi-line lists and bare imports", () => {
  const source = [
    "import {",
    "  a,",
    "  type B,",
    '} from "../fs/move.ts";',
    'export { c } from "./c.ts";',
    'export type { D } from "../util/d.ts";',
    'import "../cli/side_effect.ts";',
    "const text = 'not an import from \"../cli/x.ts\"';",
  ].join("\n");
  assert.deepEqual(importsOf("lib/transport/x.ts", source), [
    { to: "lib/fs/move.ts", typeOnly: false },
    { to: "lib/transport/c.ts", typeOnly: false },
    { to: "lib/util/d.ts", typeOnly: true },
    { to: "lib/cli/side_effect.ts", typeOnly: false },
  ]);
});

Deno.test("the pipeline enters transport only through the seam and the protocol types", () => {
  const report = checkGraph(graphOf([
    ["lib/pipeline/upload_poll.ts", "lib/transport/transport.ts"],
    ["lib/pipeline/decide.ts", "lib/transport/status.ts"],
    ["lib/pipeline/types.ts", "type:lib/transport/protocol.ts"],
    ["lib/pipeline/upload_poll.ts", "lib/transport/cloud_client.ts"],
    ["lib/pipeline/apply.ts", "lib/transport/cloud.ts"],
    ["lib/pipeline/mod.ts", "type:lib/transport/rotation.ts"],
    ["lib/cli/connect.ts", "lib/transport/cloud.ts"],
  ]));
  const seam = "the pipeline enters lib/transport/ only through the seam " +
    "(transport.ts, protocol.ts, status.ts)";
  assert.deepEqual(report.errors, [
    `lib/pipeline/upload_poll.ts imports lib/transport/cloud_client.ts: ${seam}`,
    `lib/pipeline/apply.ts imports lib/transport/cloud.ts: ${seam}`,
    `lib/pipeline/mod.ts imports lib/transport/rotation.ts: ${seam}`,
  ]);
});
