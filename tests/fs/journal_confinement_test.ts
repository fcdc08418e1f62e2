/**
 * The journal cannot be turned against its owner: whatever a hand-written
 * `REP/.te-scan/journal.jsonl` holds (junk, `null`, torn or edited lines,
 * well-sealed records naming files outside the run), the next run deletes
 * and publishes nothing outside its folders, says which lines it skipped,
 * and goes on.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { Journal } from "../../lib/fs/journal.ts";
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

/** A record as te-scan writes it: its JSON with a checksum of its body as the last field. */
function sealed(record: Record<string, unknown>): string {
  const body = JSON.stringify(record);
  const sum = createHash("sha256").update(body).digest("hex").slice(0, 16);
  return `${body.slice(0, -1)},"c":"${sum}"}`;
}

async function writeJournal(rep: string, lines: string[]): Promise<void> {
  await Deno.mkdir(join(rep, ".te-scan"), { recursive: true });
  await Deno.writeTextFile(join(rep, ".te-scan", "journal.jsonl"), lines.join("\n") + "\n");
}

async function scan(f: ReturnType<typeof scanFolders>, port: number) {
  return await within(60, captureScan([...sortFlags(f), ...fastFlags(port)]));
}

Deno.test("junk in the journal (null, numbers, arrays, bad JSON, a bad checksum) is reported by line and the run goes on", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "a.txt": "fine" });
  await writeTree(dir.path, { "outside/victim.txt": "keep me" });
  const victim = join(dir.path, "outside", "victim.txt");
  // Inside paths, but a partial copy outside: its checksum no longer matches its body.
  const edited = sealed({
    t: "move",
    id: 7,
    src: join(f.input, "a.txt"),
    dest: join(f.out, "a.txt"),
    dev: 1,
    ino: 2,
  }).replace(`"ino":2`, `"ino":2,"partial":${JSON.stringify(victim)}`);
  await writeJournal(f.rep, ["null", "42", "[1,2]", '{"t":"move"', edited]);
  await withEmulator({}, async (emulator) => {
    const run = await scan(f, emulator.port);
    assert.equal(run.code, 0, run.err.join("\n"));
    for (const line of [1, 2, 3, 4, 5]) {
      assert.ok(
        run.err.some((text) => text.includes(`journal line ${line} skipped, nothing done`)),
        `line ${line} is reported:\n${run.err.join("\n")}`,
      );
    }
    assert.match(run.err.join("\n"), /journal line 5 .*checksum mismatch/);
  });
  assert.equal(await Deno.readTextFile(victim), "keep me");
  assert.deepEqual(await listFiles(f.out), ["a.txt"]);
  const rejected = (await readLog(f.rep)).filter((e) => e.event === "journal_rejected");
  assert.deepEqual(rejected.map((e) => e.line), [1, 2, 3, 4, 5]);
  // Only its owner may read or write what the next run acts on.
  assert.equal((await Deno.stat(join(f.rep, ".te-scan"))).mode! & 0o777, 0o700);
});

Deno.test("well-sealed records naming files outside the run delete, move and publish nothing outside it", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "a.txt": "fine" });
  await writeTree(dir.path, { "outside/partial.txt": "keep 1", "outside/linked.txt": "keep 2" });
  await writeTree(f.jail, { "e.doc": "benign once finished" });
  const outside = join(dir.path, "outside");
  // A name in --out linked to an outside file: replaying "src outside, dest ours" would unlink it.
  await Deno.mkdir(f.out, { recursive: true });
  await Deno.link(join(outside, "linked.txt"), join(f.out, "linked.txt"));
  const linked = await Deno.lstat(join(outside, "linked.txt"));
  const early = await Deno.lstat(join(f.jail, "e.doc"));
  const sha1 = createHash("sha1").update("benign once finished").digest("hex");
  await writeJournal(f.rep, [
    sealed({
      t: "move",
      id: 1,
      src: join(f.input, "gone.txt"),
      dest: join(f.out, "gone.txt"),
      dev: 1,
      ino: 2,
      partial: join(outside, "partial.txt"),
    }),
    sealed({
      t: "move",
      id: 2,
      src: join(outside, "linked.txt"),
      dest: join(f.out, "linked.txt"),
      dev: linked.dev,
      ino: linked.ino!,
    }),
    // A file "awaiting its final verdict" whose relative path climbs out of --out.
    sealed({
      t: "move",
      id: 3,
      src: join(f.input, "e.doc"),
      dest: join(f.jail, "e.doc"),
      dev: early.dev,
      ino: early.ino!,
      awaiting: { relPath: "../escaped.txt", sha1, size: 20 },
    }),
    sealed({
      t: "move",
      id: 4,
      src: join(f.input, "x.txt"),
      dest: join(f.out, "..", "..", "escaped.txt"),
      dev: 1,
      ino: 2,
    }),
    // Inside --out by its text, outside through a link: its partial copy is an outside file.
    sealed({
      t: "move",
      id: 5,
      src: join(f.input, "y.txt"),
      dest: join(f.out, "link", "y.txt"),
      dev: 1,
      ino: 2,
      partial: join(f.out, "link", ".te-scan-partial-1"),
    }),
  ]);
  await Deno.writeTextFile(join(outside, ".te-scan-partial-1"), "keep 3");
  await Deno.symlink(outside, join(f.out, "link"));
  let err = "";
  await withEmulator({}, async (emulator) => {
    const run = await scan(f, emulator.port);
    err = run.err.join("\n");
    assert.equal(run.code, 0, err);
  });
  assert.equal(await Deno.readTextFile(join(outside, "partial.txt")), "keep 1");
  assert.equal(await Deno.readTextFile(join(outside, "linked.txt")), "keep 2");
  await assert.rejects(Deno.lstat(join(dir.path, "escaped.txt")), Deno.errors.NotFound);
  await assert.rejects(Deno.lstat(join(dir.path, "..", "escaped.txt")), Deno.errors.NotFound);
  assert.equal(await Deno.readTextFile(join(outside, ".te-scan-partial-1")), "keep 3");
  assert.deepEqual((await listFiles(f.out)).sort(), ["a.txt", "link", "linked.txt"]);
  // The refused early record is not acted on: its file stays in the jail.
  assert.deepEqual(await listFiles(f.jail), ["e.doc"]);
  for (const line of [1, 2, 3, 4, 5]) {
    assert.match(err, new RegExp(`journal line ${line} skipped, nothing done`));
  }
  assert.match(err, /journal line 5 .*leads outside the run's folders/);
  assert.match(err, /journal line 3 .*relative path "..\/escaped.txt"/);
});

Deno.test("a journal lost after an early quarantine: the run names each file left in the jail", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "a.txt": "fine" });
  await writeTree(f.jail, { "m.doc": "quarantined early" });
  const destination = join(f.jail, "m.doc");
  const early = { event: "early", file: "m.doc", sha1: "ab".repeat(20), destination };
  await Deno.mkdir(f.rep, { recursive: true });
  await Deno.writeTextFile(join(f.rep, "te-scan.log.jsonl"), JSON.stringify(early) + "\n");
  await withEmulator({}, async (emulator) => {
    const run = await scan(f, emulator.port);
    // Malicious on its early verdict, as a file whose final verdict never came.
    assert.equal(run.code, 1, run.err.join("\n"));
    assert.match(run.err.join("\n"), /m\.doc: quarantined early, final verdict never applied/);
  });
  const stranded = (await readLog(f.rep)).filter((e) => e.event === "stranded");
  assert.deepEqual(stranded.map((e) => e.destination), [destination]);
  assert.deepEqual(await listFiles(f.jail), ["m.doc"]);
  // The run page lists it with the malicious files.
  const page = await Deno.readTextFile(join(f.rep, "index.html"));
  assert.match(page, /<tr data-state="malicious"><td class="path">m\.doc<\/td>/);
  assert.match(page, /final verdict never applied/);
});

Deno.test("sealed records that are not what te-scan writes (kinds, field types, unknown fields) are refused by line", async () => {
  await using dir = await tempDir();
  const move = { t: "move", id: 1, src: "/in/a", dest: "/out/a", dev: 1, ino: 2 };
  await writeJournal(dir.path, [
    sealed({ ...move, id: 1, ino: "2" }),
    sealed({ ...move, id: 2, extra: true }),
    sealed({ ...move, id: 3, t: "delete" }),
    sealed({ ...move, id: 4, awaiting: { relPath: "a", sha1: "x", size: 1 } }),
    sealed({ ...move, id: 5, partial: null }),
    sealed({ ...move, id: 6 }),
  ]);
  const journal = await Journal.open(join(dir.path, ".te-scan", "journal.jsonl"), {
    durable: false,
  });
  assert.deepEqual(journal.rejected.map((p) => p.line), [1, 2, 3, 4, 5]);
  assert.match(journal.rejected[1].reason, /unknown field "extra"/);
  assert.match(journal.rejected[2].reason, /unknown kind "delete"/);
  assert.deepEqual(journal.open.map((r) => r.id), [6]);
  await journal.close();
});

Deno.test("a journal that is a symbolic link is set aside, never read through nor appended to", async () => {
  await using dir = await tempDir();
  const target = join(dir.path, "precious.txt");
  await Deno.writeTextFile(target, "keep me\n");
  await Deno.mkdir(join(dir.path, ".te-scan"));
  const path = join(dir.path, ".te-scan", "journal.jsonl");
  await Deno.symlink(target, path);
  const journal = await Journal.open(path);
  await journal.begin({ src: "/in/a", dest: "/out/a", dev: 1, ino: 2 });
  await journal.close();
  assert.equal(await Deno.readTextFile(target), "keep me\n");
  assert.match(
    journal.rejected[0].reason,
    /not a regular file .*set aside as journal\.jsonl\.refused-/,
  );
  assert.ok((await Deno.lstat(path)).isFile);
});
