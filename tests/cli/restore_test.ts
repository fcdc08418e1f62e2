// `te-scan restore` after real scans against the emulator: a quarantined file goes back to its
// input path (numbered when the name is taken), journaled and logged; anything else is refused.
import assert from "node:assert/strict";
import { join } from "node:path";
import { restoreCommand } from "../../lib/cli/restore.ts";
import { eicarText } from "../../lib/emulator/mod.ts";
import {
  captureScan,
  captureTerminal,
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

async function restore(argv: string[]) {
  const { terminal, lines } = await captureTerminal();
  const code = await within(20, restoreCommand(argv, terminal));
  return { code, out: lines("out"), err: lines("err") };
}

Deno.test("restore: a quarantined file goes back to its input path, logged; a second restore is refused", async () => {
  await withEmulator({}, async (emulator) => {
    await using dir = await tempDir();
    const f = scanFolders(dir.path);
    await writeTree(f.input, { "a/bad.docx": eicarText(), "ok.txt": "fine" });
    const scan = await captureScan([...sortFlags(f), ...fastFlags(emulator.port)]);
    assert.equal(scan.code, 1, scan.err.join("\n"));
    const jailed = join(f.jail, "a/bad.docx");
    const run = await restore(["--rep", f.rep, jailed]);
    assert.equal(run.code, 0, run.err.join("\n"));
    assert.deepEqual(run.out, [`RESTORED   ${jailed} -> ${join(f.input, "a/bad.docx")}`]);
    assert.equal(await Deno.readTextFile(join(f.input, "a/bad.docx")), eicarText());
    assert.deepEqual(await listFiles(f.jail), []);
    const restored = (await readLog(f.rep)).filter((e) => e.event === "restore");
    assert.deepEqual(restored.map((e) => [e.from, e.to]), [[jailed, join(f.input, "a/bad.docx")]]);
    // Quarantined again by a second scan, then a restore onto a taken name: numbered, never over.
    assert.equal((await captureScan([...sortFlags(f), ...fastFlags(emulator.port)])).code, 1);
    await Deno.writeTextFile(join(f.input, "a/bad.docx"), "a new file with that name");
    assert.equal((await restore(["--rep", f.rep, jailed])).code, 0);
    assert.equal(await Deno.readTextFile(join(f.input, "a/bad.docx")), "a new file with that name");
    assert.equal(await Deno.readTextFile(join(f.input, "a/bad.1.docx")), eicarText());
    // The file is gone from the jail: the log's last word says it was restored.
    await Deno.writeTextFile(jailed, eicarText());
    const again = await restore(["--rep", f.rep, jailed]);
    assert.equal(again.code, 3);
    assert.match(
      again.err[0],
      /^te-scan: Cannot restore .*bad\.docx: te-scan did not place it there/,
    );
  });
});

Deno.test("restore refuses what te-scan did not place, a changed file and a benign one, exit 3", async () => {
  await withEmulator({}, async (emulator) => {
    await using dir = await tempDir();
    const f = scanFolders(dir.path);
    await writeTree(f.input, { "bad.pdf": eicarText(), "u.bin": "TE-EMULATOR-UNSUPPORTED" });
    await writeTree(f.input, { "ok.txt": "fine" });
    assert.equal((await captureScan([...sortFlags(f), ...fastFlags(emulator.port)])).code, 1);
    const stranger = join(f.jail, "stranger.pdf");
    await Deno.writeTextFile(stranger, "put here by hand");
    await Deno.writeTextFile(join(f.jail, "bad.pdf"), "replaced after the scan");
    const run = await restore([
      ...["--rep", f.rep, stranger, join(f.jail, "bad.pdf"), join(f.out, "ok.txt")],
      join(f.error, "u.bin"),
    ]);
    assert.equal(run.code, 3);
    assert.match(run.err[0], /Cannot restore .*stranger\.pdf: te-scan did not place it there/);
    assert.match(
      run.err[1],
      /Cannot restore .*bad\.pdf: it is not the file te-scan placed there \(that one had 68 bytes/,
    );
    assert.match(run.err[2], /Cannot restore .*ok\.txt: it was judged benign/);
    assert.equal(run.err.length, 3, "one line per refused file");
    // The error-folder file went back all the same; the refused ones stayed where they were.
    assert.deepEqual(run.out, [
      `RESTORED   ${join(f.error, "u.bin")} -> ${join(f.input, "u.bin")}`,
    ]);
    assert.deepEqual(await listFiles(f.jail), ["bad.pdf", "stranger.pdf"]);
    assert.deepEqual(await listFiles(f.out), ["ok.txt"]);
    assert.deepEqual(await listFiles(f.input), ["u.bin"]);
  });
});

Deno.test("restore: no --rep, no files, or a folder without a run log is a usage error", async () => {
  await using dir = await tempDir();
  assert.match((await restore(["x"])).err[0], /restore needs --rep DIR/);
  assert.match((await restore(["--rep", dir.path])).err[0], /give the files to restore/);
  const noLog = await restore(["--rep", dir.path, "x"]);
  assert.equal(noLog.code, 3);
  assert.match(noLog.err[0], /Cannot restore: no run log .*te-scan\.log\.jsonl/);
});

Deno.test("restore gives the file back the mode the log recorded for it at the input", async () => {
  await withEmulator({}, async (emulator) => {
    await using dir = await tempDir();
    const f = scanFolders(dir.path);
    await writeTree(f.input, { "run.sh": eicarText() });
    assert.equal((await captureScan([...sortFlags(f), ...fastFlags(emulator.port)])).code, 1);
    // The jail keeps owner-only bits; the run log records the input's mode as original_mode.
    await Deno.chmod(join(f.jail, "run.sh"), 0o600);
    const log = join(f.rep, "te-scan.log.jsonl");
    const lines = (await Deno.readTextFile(log)).trim().split("\n").map((l) => JSON.parse(l));
    for (const event of lines) if (event.event === "file") event.original_mode = 0o750;
    await Deno.writeTextFile(log, lines.map((e) => JSON.stringify(e)).join("\n") + "\n");
    const run = await restore(["--rep", f.rep, join(f.jail, "run.sh")]);
    assert.equal(run.code, 0, run.err.join("\n"));
    assert.equal((await Deno.stat(join(f.input, "run.sh"))).mode! & 0o7777, 0o750);
  });
});
