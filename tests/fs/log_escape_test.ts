/**
 * The run log and `--json` carry no raw control or bidirectional
 * characters: a file name holding a C1 CSI (U+009B) and a right-to-left
 * override (U+202E) is written as `\u009b` and `\u202e`, and reads back as
 * the same name.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  captureScan,
  fastFlags,
  scanFolders,
  sortFlags,
  tempDir,
  withEmulator,
  within,
  writeTree,
} from "../helpers.ts";

const NAME = "invoice\u009b2J\u202etxt.exe";
const RAW = /[\u0080-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

Deno.test("the run log and --json escape C1 and bidi controls in file names as \\uXXXX", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { [NAME]: "fine" });
  await withEmulator({}, async (emulator) => {
    const run = await within(
      60,
      captureScan([...sortFlags(f), ...fastFlags(emulator.port), "--json"]),
    );
    assert.equal(run.code, 0, run.err.join("\n"));
    const stdout = run.out.join("\n");
    assert.doesNotMatch(stdout, RAW, "no raw control on --json");
    assert.ok(stdout.includes(String.raw`invoice\u009b2J\u202etxt.exe`));
    const events = run.out.map((line) => JSON.parse(line));
    assert.ok(events.some((e) => e.file === NAME), "--json reads back the same name");
  });
  const log = await Deno.readTextFile(join(f.rep, "te-scan.log.jsonl"));
  assert.doesNotMatch(log, RAW, "no raw control in the log");
  assert.ok(log.includes(String.raw`invoice\u009b2J\u202etxt.exe`));
  const files = log.trim().split("\n").map((line) => JSON.parse(line))
    .filter((e) => e.event === "file");
  assert.deepEqual(files.map((e) => e.file), [NAME]);
});
