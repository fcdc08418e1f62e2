import assert from "node:assert/strict";
import { join } from "node:path";
import { eicarText, startEmulator } from "../../lib/emulator/mod.ts";
import {
  CA_FILE,
  captureScan,
  eventually,
  fastFlags,
  injectFaults,
  listFiles,
  readLog,
  scanFolders,
  sortFlags,
  tempDir,
  withEmulator,
  writeTree,
} from "../helpers.ts";
import { sleep } from "../../lib/util/sleep.ts";

const REPORT = "Quarterly report: revenue grew.\n".repeat(20);

/** A nested tree: benign, a duplicate, malicious (marker and EICAR), unsupported. */
function sampleTree(): Record<string, string> {
  return {
    "docs/report.docx": REPORT,
    "docs/archive/report-copy.docx": REPORT,
    "docs/notes.txt": "plain notes\n",
    "mail/attachments/invoice.docm": "Invoice TE-EMULATOR-MALICIOUS macro\n",
    "mail/eicar.com": eicarText(),
    "firmware/image.bin": "TE-EMULATOR-UNSUPPORTED\n",
  };
}

Deno.test("end to end: a nested tree is sorted, reports kept, duplicates uploaded once", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, sampleTree());
  await withEmulator({}, async (emulator) => {
    const run = await captureScan([
      ...sortFlags(f),
      ...fastFlags(emulator.port),
    ]);
    assert.equal(run.code, 1, run.err.join("\n"));
    assert.deepEqual(await listFiles(f.input), [], "input emptied");
    assert.deepEqual(await listFiles(f.out), [
      "docs/archive/report-copy.docx",
      "docs/notes.txt",
      "docs/report.docx",
    ]);
    assert.deepEqual(await listFiles(f.jail), ["mail/attachments/invoice.docm", "mail/eicar.com"]);
    assert.deepEqual(await listFiles(f.error), ["firmware/image.bin"]);
    assert.equal(await Deno.readTextFile(join(f.out, "docs/report.docx")), REPORT);

    for (const rel of Object.keys(sampleTree())) {
      const response = JSON.parse(await Deno.readTextFile(join(f.rep, `${rel}.response.json`)));
      assert.ok(response.status?.code, `${rel} has its response`);
    }
    for (const rel of ["mail/attachments/invoice.docm", "mail/eicar.com"]) {
      const archive = await Deno.stat(join(f.rep, `${rel}.report.tar.gz`));
      assert.ok(archive.size > 0);
      const html = await Deno.stat(join(f.rep, `${rel}_report`, "report.html"));
      assert.ok(html.size > 8 * 1024, "a real-looking summary report");
    }

    const stats = emulator.stats();
    assert.equal(stats.uploads, 5, "six files, five contents, each uploaded once");

    const log = await readLog(f.rep);
    const files = log.filter((e) => e.event === "file");
    assert.equal(files.length, 6);
    const unsupported = files.find((e) => e.file === "firmware/image.bin")!;
    assert.equal(unsupported.state, "error");
    assert.match(String(unsupported.reason), /1007 FILE_TYPE_NOT_SUPPORTED/);
    // Files are hashed four at a time, so either copy may be the one emulated.
    const pair = ["docs/report.docx", "docs/archive/report-copy.docx"];
    const copies = files.filter((e) => pair.includes(String(e.file)) && e.duplicateOf);
    assert.equal(copies.length, 1, "one of the two waited for the other");
    assert.deepEqual(
      [copies[0].file, copies[0].duplicateOf].sort(),
      [...pair].sort(),
    );
    assert.equal(copies[0].uploaded, false);

    const summary = JSON.parse(await Deno.readTextFile(join(f.rep, "summary.json")));
    assert.deepEqual(
      [summary.counts.benign, summary.counts.malicious, summary.counts.error, summary.exit_code],
      [3, 2, 1, 1],
    );
    assert.ok(run.out.some((l) => l.startsWith("MALICIOUS") && l.includes("mail/eicar.com")));
  });
});

Deno.test("te_api's own flags run the same scan", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, sampleTree());
  await withEmulator({}, async (emulator) => {
    const run = await captureScan([
      "-in",
      f.input,
      "-rep",
      f.rep,
      "-ip",
      `127.0.0.1:${emulator.port}`,
      "-n",
      "2",
      "-out",
      f.out,
      "-jail",
      f.jail,
      "-error",
      f.error,
      "--ca-cert",
      CA_FILE,
      "--poll-interval",
      "0.03",
    ]);
    assert.equal(run.code, 1, run.err.join("\n"));
    assert.deepEqual(await listFiles(f.input), []);
    assert.equal((await listFiles(f.out)).length, 3);
    assert.equal((await listFiles(f.jail)).length, 2);
    assert.equal((await listFiles(f.error)).length, 1);
  });
});

Deno.test("a second run answers from the appliance's cache: no upload", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, sampleTree());
  await withEmulator({}, async (emulator) => {
    const flags = ["--rep", f.rep, ...fastFlags(emulator.port)];
    assert.equal(
      (await captureScan(["--in", f.input, "--copy", "--out", f.out, ...flags])).code,
      1,
    );
    const uploads = emulator.stats().uploads;
    const queriesBefore = emulator.stats().queries;
    await Deno.remove(f.out, { recursive: true });
    const again = await captureScan(["--in", f.input, ...flags]);
    assert.equal(again.code, 1);
    assert.equal(emulator.stats().uploads, uploads, "nothing uploaded again");
    assert.ok(emulator.stats().queries - queriesBefore <= 2, "one batched query for the tree");
    assert.equal((await listFiles(f.input)).length, 6, "report-only mode leaves files in place");
  });
});

Deno.test("an interrupted run resumes: files pending on the appliance are not uploaded twice", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "a.docx": "TE-EMULATOR-MALICIOUS slow", "b.txt": "fine" });
  await withEmulator({ emulationMs: 400, earlyMs: 300 }, async (emulator) => {
    const flags = ["--in", f.input, "--jail", f.jail, "--out", f.out, "--rep", f.rep];
    const controller = new AbortController();
    const first = captureScan([...flags, ...fastFlags(emulator.port)], controller.signal);
    // Interrupt once both files are on the appliance.
    for (let i = 0; i < 2000 && emulator.stats().uploads < 2; i++) {
      await sleep(5);
    }
    controller.abort();
    assert.equal((await first).code, 130);
    const uploads = emulator.stats().uploads;
    assert.equal(uploads, 2);
    const second = await captureScan([...flags, ...fastFlags(emulator.port)]);
    assert.equal(second.code, 1, second.err.join("\n"));
    assert.equal(emulator.stats().uploads, uploads, "resumed by polling, not uploading");
    assert.deepEqual(await listFiles(f.jail), ["a.docx"]);
    assert.deepEqual(await listFiles(f.out), ["b.txt"]);
  });
});

Deno.test("name clashes get numbered names; nothing is overwritten", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "docs/a.txt": "new content" });
  await writeTree(f.out, { "docs/a.txt": "older file" });
  await withEmulator({}, async (emulator) => {
    const run = await captureScan([
      "--in",
      f.input,
      "--out",
      f.out,
      "--rep",
      f.rep,
      ...fastFlags(emulator.port),
    ]);
    assert.equal(run.code, 0);
    assert.equal(await Deno.readTextFile(join(f.out, "docs/a.txt")), "older file");
    assert.equal(await Deno.readTextFile(join(f.out, "docs/a.1.txt")), "new content");
  });
});

Deno.test("te_eb quarantines at once; a missing final verdict keeps it quarantined", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "x/evil.docm": "TE-EMULATOR-MALICIOUS" });
  await withEmulator({ emulationMs: 60_000, earlyMs: 0 }, async (emulator) => {
    const run = await captureScan([
      "--in",
      f.input,
      "--jail",
      f.jail,
      "--error",
      f.error,
      "--rep",
      f.rep,
      ...fastFlags(emulator.port),
      "--timeout",
      "0.5",
    ]);
    assert.equal(run.code, 1);
    assert.deepEqual(await listFiles(f.jail), ["x/evil.docm"]);
    assert.deepEqual(await listFiles(f.error), []);
    const log = await readLog(f.rep);
    const early = log.findIndex((e) => e.event === "early");
    const final = log.findIndex((e) => e.event === "file");
    assert.ok(early >= 0 && early < final, "quarantined before the final answer");
    assert.match(String(log[final].reason), /final verdict not received/);
  });
});

Deno.test("passing faults are retried; the result is unchanged", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "a.txt": "one", "b.docm": "TE-EMULATOR-MALICIOUS" });
  await withEmulator({}, async (emulator) => {
    await injectFaults(emulator.url, [
      // The preflight's query goes through untouched; the run's requests meet the faults.
      { kind: "delay", path: "query", delayMs: 0 },
      { kind: "http503", path: "query" },
      { kind: "html", path: "upload" },
      { kind: "code", path: "upload", code: 1011 },
      { kind: "garbage", path: "query" },
    ]);
    const run = await captureScan([
      "--in",
      f.input,
      "--out",
      f.out,
      "--jail",
      f.jail,
      "--rep",
      f.rep,
      ...fastFlags(emulator.port),
    ]);
    assert.equal(run.code, 1, run.err.join("\n"));
    assert.deepEqual(await listFiles(f.out), ["a.txt"]);
    assert.deepEqual(await listFiles(f.jail), ["b.docm"]);
    assert.ok(emulator.stats().faults_injected >= 4);
    assert.ok(run.err.some((l) => /warning/.test(l)), "retries are reported");
  });
});

Deno.test("a hostile report archive is extracted safely; the file is still quarantined", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "evil.exe": "TE-EMULATOR-MALICIOUS" });
  await withEmulator({ reportStyle: "hostile" }, async (emulator) => {
    const run = await captureScan([
      "--in",
      f.input,
      "--jail",
      f.jail,
      "--rep",
      f.rep,
      ...fastFlags(emulator.port),
    ]);
    assert.equal(run.code, 1);
    assert.deepEqual(await listFiles(f.jail), ["evil.exe"]);
    const extracted = await listFiles(join(f.rep, "evil.exe_report"));
    assert.ok(extracted.includes("report.html"));
    assert.deepEqual(
      (await listFiles(dir.path)).filter((p) => /escaped|abs\.html|evil$/.test(p)),
      [],
      "nothing escaped the report folder",
    );
    const [record] = (await readLog(f.rep)).filter((e) => e.event === "file");
    assert.match(String(record.reason), /refused/);
  });
});

Deno.test("deadline: a file without a verdict in time goes to the error folder with the reason", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "slow.pdf": "benign but slow" });
  await withEmulator({ emulationMs: 60_000 }, async (emulator) => {
    const run = await captureScan([
      "--in",
      f.input,
      "--error",
      f.error,
      "--rep",
      f.rep,
      ...fastFlags(emulator.port),
      "--timeout",
      "0.3",
    ]);
    assert.equal(run.code, 2);
    assert.deepEqual(await listFiles(f.error), ["slow.pdf"]);
    assert.ok(run.out.some((l) => /no final verdict within/.test(l)));
  });
});

Deno.test("configuration errors exit 3 with one line and touch nothing", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "a.txt": "x" });
  await withEmulator({ mode: "cloud", apiKey: "right-key" }, async (emulator) => {
    const keyFile = join(dir.path, "key");
    await Deno.writeTextFile(keyFile, "wrong-key\n");
    const cases: [string[], RegExp][] = [
      [["--in", join(dir.path, "missing")], /Cannot scan .*missing: no such file or folder/],
      [["--in", join(dir.path, "gone.docx")], /Cannot scan .*gone\.docx: no such file or folder/],
      [["--in", f.input, "--out", join(f.input, "ok")], /inside the input folder/],
      [["--in", f.input, "--out", f.jail, "--jail", f.jail], /same folder/],
      [["--in", f.input, "--api-key-file", keyFile, "--out", f.out], /refused the API key/],
      [["--in", f.input, "--api-key-file", join(dir.path, "nokey")], /cannot read --api-key-file/],
    ];
    for (const [argv, pattern] of cases) {
      const run = await captureScan([...argv, "--rep", f.rep, ...fastFlags(emulator.port)]);
      assert.equal(run.code, 3, argv.join(" "));
      assert.ok(run.err.some((l) => pattern.test(l)), `${pattern}: ${run.err.join(" | ")}`);
    }
    assert.deepEqual(await listFiles(f.input), ["a.txt"]);
    assert.equal(emulator.stats().uploads, 0);
  });
});

Deno.test("an untrusted certificate stops the run before any upload", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "a.txt": "x" });
  await withEmulator({}, async (emulator) => {
    const wrongPin = "ab".repeat(32);
    const run = await captureScan([
      "--in",
      f.input,
      "--out",
      f.out,
      "--rep",
      f.rep,
      "--ip",
      `127.0.0.1:${emulator.port}`,
      "--pin",
      wrongPin,
    ]);
    assert.equal(run.code, 3);
    assert.match(
      run.err.join("\n"),
      /Cannot trust 127\.0\.0\.1:\d+: its SHA-256 fingerprint is not the one --pin gives\. It presents "CN=te-scan emulator" \(SHA-256 F1:3D:[0-9A-F:]+\)/,
    );
    assert.deepEqual(await listFiles(f.input), ["a.txt"]);
    assert.equal(emulator.stats().uploads, 0);
    assert.equal(emulator.stats().queries, 0, "no request reached the appliance");
  });
});

Deno.test("special files and symlinks are skipped with a reason and left in place", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "real.txt": "data" });
  await Deno.symlink(join(f.input, "real.txt"), join(f.input, "link.txt"));
  await Deno.symlink(f.input, join(f.input, "loop"));
  await withEmulator({}, async (emulator) => {
    const run = await captureScan([
      "--in",
      f.input,
      "--out",
      f.out,
      "--rep",
      f.rep,
      ...fastFlags(emulator.port),
    ]);
    assert.equal(run.code, 0);
    assert.deepEqual(await listFiles(f.out), ["real.txt"]);
    const skipped = (await readLog(f.rep)).filter((e) => e.state === "skipped");
    assert.deepEqual(skipped.map((e) => e.file).sort(), ["link.txt", "loop"]);
    assert.ok(skipped.every((e) => /symbolic link/.test(String(e.reason))));
    assert.ok((await Deno.lstat(join(f.input, "link.txt"))).isSymlink);
  });
});

Deno.test("--dry-run hashes and asks the cache only", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "a.txt": "x", "b.txt": "y" });
  await withEmulator({}, async (emulator) => {
    const run = await captureScan([
      "--in",
      f.input,
      "--out",
      f.out,
      "--rep",
      f.rep,
      "--dry-run",
      ...fastFlags(emulator.port),
    ]);
    assert.equal(run.code, 0);
    assert.equal(emulator.stats().uploads, 0);
    assert.deepEqual(await listFiles(f.input), ["a.txt", "b.txt"]);
    assert.ok(run.out.filter((l) => /dry run: not in the appliance's cache/.test(l)).length === 2);
    await assert.rejects(Deno.stat(f.out), Deno.errors.NotFound, "no destination folder made");
  });
});

Deno.test("an appliance that goes down mid-run stops it after --grace: exit 2, files in place", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "a.txt": "one", "sub/b.txt": "two" });
  const emulator = await startEmulator({ port: 0, emulationMs: 600_000 });
  const scanning = captureScan([
    ...sortFlags(f),
    ...fastFlags(emulator.port),
    "--retries",
    "1",
    "--grace",
    "0",
  ]);
  // Both files uploaded and in emulation: then the appliance goes away.
  await eventually(30, "both uploads", () => emulator.stats().uploads >= 2);
  await emulator.close();
  const run = await scanning;
  assert.equal(run.code, 2, run.err.join("\n"));
  assert.match(run.err.join("\n"), /has failed for \d+ s .*left in place/);
  assert.deepEqual(await listFiles(f.input), ["a.txt", "sub/b.txt"]);
  assert.deepEqual(await listFiles(f.error), [], "nothing was failed for the appliance's state");
  const summary = JSON.parse(await Deno.readTextFile(join(f.rep, "summary.json")));
  assert.match(summary.error, /has failed for/);
  assert.equal(summary.counts.left_in_place, 2, "both counted as left where they were");
  assert.match(run.out.join("\n"), /^\s+left in place\s+2 \(the run stopped: .*has failed for/m);
});

Deno.test("a failed upload is tried again instead of failing the file", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "a.txt": "upload me" });
  await withEmulator({}, async (emulator) => {
    await injectFaults(emulator.url, [
      { kind: "http503", path: "upload" },
      { kind: "reset", path: "upload" },
    ]);
    // A reset can leave a kept-alive connection silent: the request timeout ends the wait.
    const run = await captureScan([
      ...sortFlags(f),
      ...fastFlags(emulator.port),
      "--retries",
      "1",
      "--request-timeout",
      "0.5",
    ]);
    assert.equal(run.code, 0, [...run.out, ...run.err].join("\n"));
    assert.deepEqual(await listFiles(f.out), ["a.txt"]);
    assert.equal(emulator.stats().uploads, 1, "the third upload got through");
    assert.equal(run.err.filter((l) => /upload failed: .*will try again/.test(l)).length, 2);
  });
});

Deno.test("md5 is computed for AV (which looks files up by md5 only); the log has it either way", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "ok.txt": "fine", "eicar.com": eicarText() });
  await withEmulator({}, async (emulator) => {
    const run = await captureScan([
      ...sortFlags(f),
      ...fastFlags(emulator.port),
      "--features",
      "te,av",
    ]);
    assert.equal(run.code, 1, run.err.join("\n"));
    const [eicar] = (await readLog(f.rep)).filter((e) => e.file === "eicar.com");
    const response = JSON.parse(await Deno.readTextFile(join(f.rep, "eicar.com.response.json")));
    assert.equal(response.av.status.code, 1001, "AV found the file by md5");
    assert.equal(response.av.malware_info.signature_name, "EICAR-Test-File");
    assert.match(String(eicar.md5), /^[0-9a-f]{32}$/);
  });
  await using dir2 = await tempDir();
  const g = scanFolders(dir2.path);
  await writeTree(g.input, { "ok.txt": "fine" });
  await withEmulator({}, async (emulator) => {
    assert.equal((await captureScan([...sortFlags(g), ...fastFlags(emulator.port)])).code, 0);
    const [ok] = (await readLog(g.rep)).filter((e) => e.file === "ok.txt");
    assert.match(String(ok.md5), /^[0-9a-f]{32}$/, "taken from the appliance's answer");
  });
});

Deno.test("--clean follows the layout rules of the other output folders", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await Deno.mkdir(f.input, { recursive: true });
  await Deno.writeTextFile(join(f.input, "a.txt"), "a");
  const gateway = ["--gateway", "127.0.0.1:1", "--extract", "clean"];
  const cases: [string, RegExp][] = [
    [f.out, /--out and --clean: they are the same folder/],
    [join(f.input, "cleaned"), /--clean .* is inside the input folder/],
    [f.input, /--clean .*: it is the input folder/],
  ];
  for (const [clean, pattern] of cases) {
    const run = await captureScan([...sortFlags(f), ...gateway, "--clean", clean]);
    assert.equal(run.code, 3, run.err.join("\n"));
    assert.match(run.err.join("\n"), pattern);
    assert.equal(await Deno.readTextFile(join(f.input, "a.txt")), "a", "nothing touched");
  }
});

Deno.test("--features te,te_eb,av on an appliance: AV's detection quarantines, its signature is logged", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "mail/eicar.com": eicarText(), "docs/notes.txt": "plain notes\n" });
  await withEmulator({ emulationMs: 60_000, earlyMs: 60_000 }, async (emulator) => {
    // te and te_eb take a minute, past the deadline: only AV can quarantine the EICAR file,
    // early, at the first answer that carries it (the deadline only ends the run).
    const { code, out } = await captureScan([
      ...sortFlags(f),
      ...fastFlags(emulator.port),
      "--features",
      "te,te_eb,av",
      "--timeout",
      "4",
    ]);
    assert.equal(code, 1, out.join("\n"));
    assert.deepEqual(await listFiles(f.jail), ["mail/eicar.com"]);
    assert.ok(
      out.some((l) => /^MALICIOUS\* mail\/eicar\.com .*anti-virus: EICAR-Test-File/.test(l)),
    );
    const line = out.find((l) => l.startsWith("MALICIOUS ") && l.includes("eicar.com"));
    assert.match(line ?? "", /AV: EICAR-Test-File/);
    const log = (await Deno.readTextFile(join(f.rep, "te-scan.log.jsonl"))).trim().split("\n")
      .map((l) => JSON.parse(l));
    const eicar = log.find((e) => e.event === "file" && e.file === "mail/eicar.com");
    assert.deepEqual(eicar.av, { code: 1001, status: "FOUND", signature: "EICAR-Test-File" });
  });
});

Deno.test("two --gateway values: one rotation, both preflighted, every file settled", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "a/one.txt": "one", "b/two.txt": "two", "c/three.txt": "three" });
  await withEmulator({ apiKey: "k-two" }, async (emulator) => {
    const keyFile = join(dir.path, "key");
    await Deno.writeTextFile(keyFile, "k-two\n");
    const { code, out, err } = await captureScan([
      ...sortFlags(f),
      "--gateway",
      `127.0.0.1:${emulator.port}`,
      "--gateway",
      `localhost:${emulator.port}`,
      "--report-port",
      String(emulator.port),
      "--api-key-file",
      keyFile,
      "--ca-cert",
      CA_FILE,
      "--poll-interval",
      "0.03",
      "--json",
    ]);
    assert.equal(code, 0, err.join("\n"));
    const start = JSON.parse(out[0]);
    assert.equal(
      start.appliance,
      `https://127.0.0.1:${emulator.port}, https://localhost:${emulator.port}`,
    );
    assert.deepEqual(await listFiles(f.out), ["a/one.txt", "b/two.txt", "c/three.txt"]);
    assert.equal(emulator.stats().tpapi_uploads, 3);
  });
});
