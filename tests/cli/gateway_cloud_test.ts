// The smaller gaps of issue 19: a dry run at zero quota, and transient codes asked again.
import assert from "node:assert/strict";
import { join } from "node:path";
import { marked } from "../emulator/helpers.ts";
import {
  captureScan,
  fastFlags,
  gatewayFastFlags,
  injectFaults,
  listFiles,
  readLog,
  scanFolders,
  sortFlags,
  tempDir,
  withEmulator,
  writeTree,
} from "../helpers.ts";

Deno.test("a dry run with the quota spent collects what the cache knows (exit 0, not 3)", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "known.txt": "scanned before" });
  await withEmulator({ mode: "cloud", apiKey: "k-q", quota: 1 }, async (emulator) => {
    const keyFile = join(dir.path, "key");
    await Deno.writeTextFile(keyFile, "k-q");
    const url = `https://127.0.0.1:${emulator.port}/tecloud/api/v1/file/`;
    const cloud = [
      ...fastFlags(emulator.port).slice(0, -2),
      "--url",
      url,
      "--api-key-file",
      keyFile,
    ];
    const first = await captureScan(["--in", f.input, "--rep", f.rep, ...cloud]);
    assert.equal(first.code, 0, first.err.join("\n"));
    await writeTree(f.input, { "new.txt": "never scanned" });
    const rep = join(dir.path, "rep-dry");
    const dry = await captureScan(["--in", f.input, "--rep", rep, ...cloud, "--dry-run"]);
    assert.equal(dry.code, 0, [...dry.out, ...dry.err].join("\n"));
    assert.match(dry.err.join("\n"), /no quota left.*dry run asks the cache only/);
    const files = (await readLog(rep)).filter((e) => e.event === "file");
    const byFile = new Map(files.map((e) => [e.file, e]));
    assert.equal(byFile.get("known.txt")?.verdict, "benign", "the cache's verdict collected");
    assert.equal(byFile.get("new.txt")?.state, "skipped");
    assert.match(String(byFile.get("new.txt")?.reason), /dry run: no quota left/);
    assert.deepEqual(await listFiles(f.input), ["known.txt", "new.txt"], "nothing moved");
    assert.equal(emulator.stats().uploads, 1, "the dry run uploaded nothing");
  });
});

Deno.test("a poll answered 1009 or 1011 is asked again, the file not uploaded again", async () => {
  for (const code of [1009, 1011]) {
    await using dir = await tempDir();
    const f = scanFolders(dir.path);
    await writeTree(f.input, { "a.txt": `one ${code}` });
    await withEmulator({}, async (emulator) => {
      await injectFaults(emulator.url, [
        // The preflight's query and the cache query go through; the first poll meets the code.
        { kind: "delay", path: "query", delayMs: 0 },
        { kind: "delay", path: "query", delayMs: 0 },
        { kind: "code", path: "query", code },
      ]);
      const run = await captureScan([...sortFlags(f), ...fastFlags(emulator.port)]);
      assert.equal(run.code, 0, run.err.join("\n"));
      assert.deepEqual(await listFiles(f.out), ["a.txt"]);
      assert.equal(emulator.stats().uploads, 1, `${code}: the file went once`);
      assert.ok(
        run.err.some((l) => /a\.txt: poll answered .*asking again/.test(l)),
        run.err.join("\n"),
      );
      const [file] = (await readLog(f.rep)).filter((e) => e.event === "file");
      assert.equal(file.uploaded, true);
    });
  }
});

Deno.test("--benign-reports: a benign file's report is asked for and kept", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "docs/a.txt": "plain" });
  await withEmulator({}, async (emulator) => {
    const run = await captureScan([
      ...sortFlags(f),
      ...fastFlags(emulator.port),
      "--benign-reports",
    ]);
    assert.equal(run.code, 0, run.err.join("\n"));
    const kept = await listFiles(join(f.rep, "docs"));
    assert.ok(kept.some((p) => p.startsWith("a.txt_report/")), kept.join("\n"));
    const [file] = (await readLog(f.rep)).filter((e) => e.event === "file");
    assert.equal(file.state, "benign");
  });
});

Deno.test("on a gateway, AV answered by the cache is not asked again on upload; its result stays", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "a/memo.docm": marked("ACTIVE-CONTENT", "av") });
  await withEmulator({ apiKey: "k-av" }, async (emulator) => {
    const keyFile = join(dir.path, "key");
    await Deno.writeTextFile(keyFile, "k-av");
    const gateway = [...gatewayFastFlags(emulator.port, keyFile), "--features", "te,av"];
    const first = await captureScan(["--in", f.input, "--rep", f.rep, ...gateway]);
    assert.equal(first.code, 0, first.err.join("\n"));
    assert.equal(emulator.stats().tpapi_av_uploads, 1);
    // Known now: --extract uploads it again for its cleaned copy, but AV has its answer.
    const clean = join(dir.path, "clean");
    const rep = join(dir.path, "rep-extract");
    const again = await captureScan([
      ...["--in", f.input, "--rep", rep, ...gateway],
      ...["--extract", "clean", "--clean", clean],
    ]);
    assert.equal(again.code, 0, again.err.join("\n"));
    const stats = emulator.stats();
    assert.equal(stats.tpapi_uploads, 2, "uploaded again for the cleaned copy");
    assert.equal(stats.tpapi_av_uploads, 1, "without asking AV again");
    assert.deepEqual(await listFiles(clean), ["a/memo.cleaned.docm"]);
    const [file] = (await readLog(rep)).filter((e) => e.event === "file");
    assert.deepEqual(file.av, { code: 1001, status: "FOUND" }, "the cached AV result is kept");
  });
});
