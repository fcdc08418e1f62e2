// Ways in (a single file, a list of files) and ways out (several appliances) of a scan.
import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { startEmulator } from "../../lib/emulator/mod.ts";
import {
  CA_FILE,
  captureScan,
  eventually,
  fastFlags,
  listFiles,
  readLog,
  scanFolders,
  sortFlags,
  tempDir,
  writeTree,
} from "../helpers.ts";

/** Scans the files `list` names, with `f`'s folders. */
function scanList(list: string, f: ReturnType<typeof scanFolders>, port: number) {
  return captureScan(["--files-from", list, ...sortFlags(f), ...fastFlags(port)]);
}

Deno.test("--files-from: the listed files inside --in, each kept at its path in the destinations", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(join(f.input, "a"), { "x/report.docx": "report", "y/report.docx": "other" });
  await writeTree(join(f.input, "b"), { "evil.docm": "TE-EMULATOR-MALICIOUS" });
  const list = join(dir.path, "list.txt");
  const paths = [
    join(f.input, "a", "x", "report.docx"),
    "in/a/y/report.docx",
    join(f.input, "b", "evil.docm"),
    join(f.input, "b", "missing.txt"),
  ];
  await Deno.writeTextFile(list, paths.join("\n") + "\n");
  const emulator = await startEmulator({ port: 0, emulationMs: 20, earlyMs: 5 });
  const cwd = Deno.cwd();
  try {
    Deno.chdir(dir.path);
    const run = await scanList(list, f, emulator.port);
    assert.equal(run.code, 1, run.err.join("\n"));
    assert.deepEqual(await listFiles(f.out), ["a/x/report.docx", "a/y/report.docx"]);
    assert.deepEqual(await listFiles(f.jail), ["b/evil.docm"]);
    const missing = (await readLog(f.rep)).find((e) => String(e.file).endsWith("missing.txt"));
    assert.equal(missing?.state, "error");
    assert.match(String(missing?.reason), /listed but not found/);
  } finally {
    Deno.chdir(cwd);
    await emulator.close();
  }
});

Deno.test("--files-from: paths outside --in, by name or through a link, are reported and never touched", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "inside.txt": "fine" });
  await writeTree(join(dir.path, "etc"), {
    "hostname": "box",
    "evil.docm": "TE-EMULATOR-MALICIOUS",
  });
  await Deno.symlink(join(dir.path, "etc", "evil.docm"), join(f.input, "link.docm"));
  const outside = [
    join(dir.path, "etc", "hostname"),
    join(f.input, "..", "etc", "evil.docm"),
    join(f.input, "link.docm"),
  ];
  const list = join(dir.path, "list.txt");
  await Deno.writeTextFile(list, [join(f.input, "inside.txt"), ...outside].join("\n") + "\n");
  const emulator = await startEmulator({ port: 0, emulationMs: 20, earlyMs: 5 });
  try {
    const run = await scanList(list, f, emulator.port);
    assert.equal(run.code, 2, run.err.join("\n"));
    for (const path of outside) {
      const lines = run.out.filter((l) => l.includes("outside --in, not touched"));
      assert.ok(lines.some((l) => l.includes(basename(path))), `${path}: ${run.out.join("\n")}`);
    }
    assert.deepEqual(await listFiles(join(dir.path, "etc")), ["evil.docm", "hostname"]);
    assert.deepEqual(await listFiles(f.out), ["inside.txt"]);
    assert.deepEqual(await listFiles(f.jail), [], "the link's malicious target stays where it is");
    assert.equal(emulator.stats().uploads, 1, "only the file inside --in was uploaded");
  } finally {
    await emulator.close();
  }
});

Deno.test("--in FILE scans that one file", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "one.txt": "just me", "other.txt": "not me" });
  const emulator = await startEmulator({ port: 0, emulationMs: 20 });
  try {
    const run = await captureScan([
      "--in",
      join(f.input, "one.txt"),
      "--out",
      f.out,
      "--rep",
      f.rep,
      ...fastFlags(emulator.port),
    ]);
    assert.equal(run.code, 0, run.err.join("\n"));
    assert.deepEqual(await listFiles(f.out), ["one.txt"]);
    assert.deepEqual(await listFiles(f.input), ["other.txt"]);
  } finally {
    await emulator.close();
  }
});

Deno.test("two appliances share a run; one that stops leaves the rotation, the other finishes", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  const tree: Record<string, string> = {};
  for (let i = 0; i < 24; i++) tree[`d${i % 3}/f${i}.txt`] = `file ${i}`;
  await writeTree(f.input, tree);
  const first = await startEmulator({ port: 0, emulationMs: 400 });
  const second = await startEmulator({ port: 0, emulationMs: 400 });
  try {
    const scanning = captureScan([
      "--in",
      f.input,
      "--out",
      f.out,
      "--error",
      f.error,
      "--rep",
      f.rep,
      "--ip",
      `127.0.0.1:${first.port}`,
      "--ip",
      `127.0.0.1:${second.port}`,
      "--ca-cert",
      CA_FILE,
      "--poll-interval",
      "0.05",
      "-n",
      "6",
      "--retries",
      "1",
      "--grace",
      "0",
    ]);
    // Once both have work in emulation, the first one goes away.
    await eventually(
      30,
      "two uploads on each appliance",
      () => first.stats().uploads >= 2 && second.stats().uploads >= 2,
    );
    await first.close();
    const run = await scanning;
    assert.equal(run.code, 0, run.err.join("\n"));
    assert.equal((await listFiles(f.out)).length, 24, "every file finished on the other one");
    assert.match(
      run.err.join("\n"),
      new RegExp(`appliance 127\\.0\\.0\\.1:${first.port} .*leaves the rotation`),
    );
    const events = (await readLog(f.rep)).filter((e) => e.event === "file");
    assert.ok(
      events.every((e) =>
        e.via === `127.0.0.1:${second.port}` || e.via === `127.0.0.1:${first.port}`
      ),
    );
    assert.ok(
      events.some((e) => e.via === `127.0.0.1:${first.port}`) || first.stats().uploads >= 2,
    );
    assert.ok(events.filter((e) => e.via === `127.0.0.1:${second.port}`).length >= 12);
  } finally {
    await first.close();
    await second.close();
  }
});

Deno.test("--json file events carry the log's fields: time, absolute path, digests", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "a/ok.txt": "fine", "evil.docm": "TE-EMULATOR-MALICIOUS" });
  const emulator = await startEmulator({ port: 0, emulationMs: 20, earlyMs: 5 });
  try {
    const run = await captureScan([
      "--in",
      f.input,
      "--rep",
      f.rep,
      "--json",
      ...fastFlags(emulator.port),
    ]);
    assert.equal(run.code, 1, run.err.join("\n"));
    const events = run.out.map((line) => JSON.parse(line)).filter((e) => e.event === "file");
    const logged = (await readLog(f.rep)).filter((e) => e.event === "file");
    assert.equal(events.length, 2);
    for (const event of events) {
      const line = logged.find((l) => l.file === event.file)!;
      assert.deepEqual(Object.keys(event).sort(), Object.keys(line).sort(), String(event.file));
      assert.equal(event.path, join(f.input, event.file));
      assert.match(event.time, /^\d{4}-\d\d-\d\dT/);
      assert.match(event.sha256, /^[0-9a-f]{64}$/);
    }
  } finally {
    await emulator.close();
  }
});
