/**
 * A file whose name is the full 255 bytes is handled like any other: the
 * names te-scan makes from it (response and report files, numbered names
 * in the destinations) are shortened to fit, and the other files settle.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  captureScan,
  fastFlags,
  listFiles,
  readLog,
  scanFolders,
  sortFlags,
  tempDir,
  withEmulator,
  within,
  writeTree,
} from "../helpers.ts";

const LONG_DOC = `${"m".repeat(251)}.doc`;
const LONG_TXT = `${"b".repeat(251)}.txt`;
const bytesOf = (name: string) => new TextEncoder().encode(name).length;

async function fill(input: string): Promise<void> {
  await writeTree(input, {
    [LONG_DOC]: "TE-EMULATOR-MALICIOUS macro\n",
    [LONG_TXT]: "a benign file with a long name\n",
    "ok.txt": "fine\n",
  });
}

Deno.test("255-byte names: report files and numbered names are shortened, every file settles, run after run", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  assert.equal(bytesOf(LONG_DOC), 255);
  await withEmulator({}, async (emulator) => {
    for (const round of [1, 2]) {
      await fill(f.input);
      const run = await within(60, captureScan([...sortFlags(f), ...fastFlags(emulator.port)]));
      assert.equal(run.code, 1, `round ${round}:\n${[...run.out, ...run.err].join("\n")}`);
      assert.deepEqual(await listFiles(f.input), [], `round ${round}: every file settled`);
    }
  });
  const jailed = await listFiles(f.jail);
  const published = await listFiles(f.out);
  assert.equal(jailed.length, 2);
  assert.ok(jailed.includes(LONG_DOC));
  assert.equal(published.length, 4);
  assert.ok(published.includes(LONG_TXT) && published.includes("ok.txt"));
  // The second round's numbered names had no room for their number: shortened, extension kept.
  for (const name of [...jailed, ...published]) assert.ok(bytesOf(name) <= 255, name);
  assert.ok(jailed.some((name) => /^m+~[0-9a-f]{12}\.doc$/.test(name)), jailed.join("\n"));
  const reports = await listFiles(f.rep);
  for (const path of reports) {
    for (const part of path.split("/")) assert.ok(bytesOf(part) <= 255, part);
  }
  const files = (await readLog(f.rep)).filter((e) => e.event === "file" && e.file === LONG_DOC);
  assert.equal(files.length, 2);
  for (const event of files) {
    assert.match(String(event.responseFile), /~[0-9a-f]{12}\.doc\.response\.json$/);
    assert.match(String(event.reason), /name too long for the file system: report files named/);
    assert.ok(reports.includes(String(event.responseFile).slice(f.rep.length + 1)));
  }
});

Deno.test("a path too long under the reports folder (deeper than the input) is one file's problem: its response file goes to the top, the run goes on", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  const chain = (letter: string, n: number) => Array(n).fill(letter.repeat(200)).join("/");
  const rep = join(dir.path, chain("r", 7));
  const deep = `${chain("d", 14)}/deep.txt`;
  await writeTree(f.input, { [deep]: "benign, deep down\n", "ok.txt": "fine\n" });
  assert.ok(bytesOf(join(rep, deep)) > 4096 && bytesOf(join(f.input, deep)) < 4000);
  await withEmulator({}, async (emulator) => {
    const flags = [...sortFlags({ ...f, rep }), ...fastFlags(emulator.port)];
    const run = await within(60, captureScan(flags));
    assert.equal(run.code, 0, [...run.out, ...run.err].join("\n"));
  });
  assert.deepEqual(await listFiles(f.out), [deep, "ok.txt"].sort());
  const [event] = (await readLog(rep)).filter((e) => e.event === "file" && e.file === deep);
  assert.match(String(event.reason), /path too long for the file system: report files named/);
  const response = String(event.responseFile);
  assert.equal(join(response, ".."), rep, "at the top of the reports folder");
  assert.match(response, /~[0-9a-f]{12}\.txt\.response\.json$/);
  assert.equal(JSON.parse(await Deno.readTextFile(response)).status.label, "FOUND");
});
