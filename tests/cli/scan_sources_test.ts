// Ways in (a single file, a list of files) and ways out (several appliances) of a scan.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startEmulator } from "../../lib/emulator/mod.ts";
import {
  CA_FILE,
  captureScan,
  eventually,
  fastFlags,
  listFiles,
  readLog,
  scanFolders,
  tempDir,
  writeTree,
} from "../helpers.ts";

Deno.test("--files-from: the listed files, each kept at its path in the destinations", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(join(dir.path, "a"), { "x/report.docx": "report", "y/report.docx": "other" });
  await writeTree(join(dir.path, "b"), { "evil.docm": "TE-EMULATOR-MALICIOUS" });
  const list = join(dir.path, "list.txt");
  const paths = [
    join(dir.path, "a", "x", "report.docx"),
    join(dir.path, "a", "y", "report.docx"),
    join(dir.path, "b", "evil.docm"),
    join(dir.path, "b", "missing.txt"),
  ];
  await Deno.writeTextFile(list, paths.join("\n") + "\n");
  const emulator = await startEmulator({ port: 0, emulationMs: 20, earlyMs: 5 });
  try {
    const run = await captureScan([
      "--files-from",
      list,
      "--out",
      f.out,
      "--jail",
      f.jail,
      "--rep",
      f.rep,
      ...fastFlags(emulator.port),
    ]);
    assert.equal(run.code, 1, run.err.join("\n"));
    const base = dir.path.slice(1);
    assert.deepEqual(await listFiles(f.out), [
      `${base}/a/x/report.docx`,
      `${base}/a/y/report.docx`,
    ]);
    assert.deepEqual(await listFiles(f.jail), [`${base}/b/evil.docm`]);
    const missing = (await readLog(f.rep)).find((e) => String(e.file).endsWith("missing.txt"));
    assert.equal(missing?.state, "error");
    assert.match(String(missing?.reason), /listed but not found/);
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
