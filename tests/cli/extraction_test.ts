// Threat Extraction outcomes on a gateway: counted, shown, retried, and in the exit code.
import assert from "node:assert/strict";
import { join } from "node:path";
import { eicarText } from "../../lib/emulator/mod.ts";
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
import { marked } from "../emulator/helpers.ts";

const KEY = "k-extraction";

/** The gateway flags of a fast scan with `--extract clean` against the emulator on `port`. */
async function extractFlags(port: number, root: string): Promise<string[]> {
  const keyFile = join(root, "key");
  await Deno.writeTextFile(keyFile, `${KEY}\n`);
  return [...gatewayFastFlags(port, keyFile), "--extract", "clean", "--clean", join(root, "clean")];
}

Deno.test("a cleaning that fails is counted, listed, shown on the page, and the run exits 2", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, {
    "docs/memo.docm": marked("ACTIVE-CONTENT", "memo"),
    "docs/locked.docx": marked("ENCRYPTED", "locked"),
    "plain/notes.txt": "nothing to remove here",
  });
  await withEmulator({ apiKey: KEY }, async (emulator) => {
    const flags = await extractFlags(emulator.port, dir.path);
    const { code, out, err } = await captureScan([...sortFlags(f), ...flags]);
    assert.equal(code, 2, [...out, ...err].join("\n"));
    // Every file is benign: the exit code says a cleaned copy is missing.
    assert.deepEqual(await listFiles(f.out), [
      "docs/locked.docx",
      "docs/memo.docm",
      "plain/notes.txt",
    ]);
    assert.deepEqual(await listFiles(join(dir.path, "clean")), ["docs/memo.cleaned.docm"]);
    const summary = JSON.parse(await Deno.readTextFile(join(f.rep, "summary.json")));
    assert.deepEqual(summary.counts.extraction, { cleaned: 1, failed: 1, skipped: 1 });
    assert.equal(summary.exit_code, 2);
    // The closing table names the failed cleaning; "Skipped" is not on every line.
    const table = out.slice(out.indexOf("  cleaned copies not made:"));
    assert.match(table[1] ?? "", /docs\/locked\.docx .*extraction failed: Password protected/);
    const notes = out.find((l) => l.includes("plain/notes.txt"));
    assert.ok(notes && !/extraction|Skipped/.test(notes), notes);
    const page = await Deno.readTextFile(join(f.rep, "index.html"));
    assert.match(page, /<a data-cleaned href="[^"]*memo\.cleaned\.docm">cleaned copy<\/a>/);
    assert.match(page, /extraction failed: Password protected/);
    assert.match(page, /data-setting="clean">[^<]*clean</);
  });
});

Deno.test("a transient scrub result (2 Timeout) is asked again: at most 4 sends in all (the file's one budget)", async () => {
  // Once: the second upload makes the cleaned copy. Always: the fourth upload's answer stands.
  for (
    const [times, exit, uploads, status] of [[1, 0, 2, "cleaned"], [9, 2, 4, "failed"]] as const
  ) {
    await using dir = await tempDir();
    const f = scanFolders(dir.path);
    await writeTree(f.input, { "memo.docm": marked("ACTIVE-CONTENT", "retry") });
    await withEmulator({ apiKey: KEY }, async (emulator) => {
      await injectFaults(`https://127.0.0.1:${emulator.port}`, [
        { kind: "scrub", path: "tpapi", times, code: 2 },
      ]);
      const flags = await extractFlags(emulator.port, dir.path);
      const { code, out, err } = await captureScan([...sortFlags(f), ...flags]);
      assert.equal(code, exit, [...out, ...err].join("\n"));
      assert.equal(emulator.stats().tpapi_uploads, uploads);
      assert.ok(
        err.some((l) => /memo\.docm: Threat Extraction answered Timeout/.test(l)),
        err.join("\n"),
      );
      const [file] = (await readLog(f.rep)).filter((e) => e.event === "file");
      assert.equal(file.uploaded, true);
      assert.equal((file.extraction as Record<string, unknown>).status, status);
      const cleaned = await listFiles(join(dir.path, "clean"));
      assert.deepEqual(cleaned, status === "cleaned" ? ["memo.cleaned.docm"] : []);
    });
  }
});

Deno.test("an EICAR line names its AV signature once", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "eicar.com": eicarText() });
  await withEmulator({ apiKey: KEY }, async (emulator) => {
    const flags = await extractFlags(emulator.port, dir.path);
    const { code, out } = await captureScan([...sortFlags(f), ...flags, "--features", "te,av"]);
    assert.equal(code, 1, out.join("\n"));
    const line = out.find((l) => l.startsWith("MALICIOUS ") && l.includes("eicar.com")) ?? "";
    assert.equal(line.split("EICAR-Test-File").length - 1, 1, line);
  });
});

Deno.test("--no-emulation: only Threat Extraction; originals byte-identical and in place, cleaned copies made", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  const tree = {
    "docs/a/memo.docm": marked("ACTIVE-CONTENT", "memo"),
    "docs/b/sheet.xlsm": marked("ACTIVE-CONTENT", "sheet"),
    "plain/notes.txt": "nothing to remove here",
  };
  await writeTree(f.input, tree);
  const before = await Promise.all(
    Object.keys(tree).map(async (rel) => {
      const path = join(f.input, rel);
      return { rel, bytes: await Deno.readFile(path), mtime: (await Deno.stat(path)).mtime };
    }),
  );
  await withEmulator({ apiKey: KEY }, async (emulator) => {
    const flags = await extractFlags(emulator.port, dir.path);
    const { code, out, err } = await captureScan([
      "--in",
      f.input,
      "--rep",
      f.rep,
      ...flags,
      "--no-emulation",
    ]);
    assert.equal(code, 0, [...out, ...err].join("\n"));
    for (const { rel, bytes, mtime } of before) {
      const path = join(f.input, rel);
      assert.deepEqual(await Deno.readFile(path), bytes, `${rel} unchanged`);
      assert.deepEqual((await Deno.stat(path)).mtime, mtime, `${rel} untouched`);
    }
    assert.deepEqual(await listFiles(join(dir.path, "clean")), [
      "docs/a/memo.cleaned.docm",
      "docs/b/sheet.cleaned.xlsm",
    ]);
    const stats = emulator.stats();
    assert.equal(stats.tpapi_uploads, 3);
    assert.equal(stats.scrubs, 3);
    const files = (await readLog(f.rep)).filter((e) => e.event === "file");
    assert.equal(files.length, 3);
    for (const file of files) {
      assert.equal(file.state, "skipped", JSON.stringify(file));
      assert.equal(file.verdict, undefined, "no verdict claimed");
      assert.match(String(file.reason), /not emulated/);
    }
    const response = JSON.parse(
      await Deno.readTextFile(join(f.rep, "docs/a/memo.docm.response.json")),
    );
    assert.equal(response.te, undefined, "nothing emulated");
    assert.equal(response.scrub.scrub_result, 0);
  });
});

Deno.test("--no-emulation refuses --out, --jail and --error, and needs --extract", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "a.docm": marked("ACTIVE-CONTENT", "a") });
  const target = ["--gateway", "127.0.0.1:1", "--no-emulation"];
  const extract = ["--extract", "clean", "--clean", join(dir.path, "clean")];
  const refused = await captureScan([...sortFlags(f), ...target, ...extract]);
  assert.equal(refused.code, 3);
  assert.match(
    refused.err.join("\n"),
    /Cannot sort files with --no-emulation: --out, --jail, --error/,
  );
  const alone = await captureScan(["--in", f.input, ...target]);
  assert.equal(alone.code, 3);
  assert.match(alone.err.join("\n"), /--no-emulation needs --extract/);
  assert.deepEqual(await listFiles(f.input), ["a.docm"]);
});

Deno.test("cloud --extract clean: the extraction feature, then the cleaned copy downloaded by its id", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "docs/memo.docx": "a memo", "eicar.com": eicarText() });
  await withEmulator({ mode: "cloud", apiKey: "k-cloud" }, async (emulator) => {
    const keyFile = join(dir.path, "key");
    await Deno.writeTextFile(keyFile, "k-cloud");
    const clean = join(dir.path, "clean");
    // The fast flags but --ip: the cloud is the target.
    const fast = fastFlags(emulator.port).slice(0, -2);
    const url = `https://127.0.0.1:${emulator.port}/tecloud/api/v1/file/`;
    const target = ["--url", url, "--api-key-file", keyFile];
    const extract = ["--extract", "clean", "--clean", clean];
    const { code, out, err } = await captureScan([...sortFlags(f), ...fast, ...target, ...extract]);
    assert.equal(code, 1, [...out, ...err].join("\n"));
    // The benign document's cleaned copy, under the service's name; none of the malicious file.
    assert.deepEqual(await listFiles(clean), ["docs/memo.cleaned.docx"]);
    assert.match(await Deno.readTextFile(join(clean, "docs/memo.cleaned.docx")), /Cleaned copy/);
    const memo = (await readLog(f.rep)).find((e) => e.file === "docs/memo.docx")!;
    assert.equal((memo.extraction as Record<string, unknown>).status, "cleaned");
    const summary = JSON.parse(await Deno.readTextFile(join(f.rep, "summary.json")));
    assert.equal(summary.counts.extraction.cleaned, 1);
  });
});
