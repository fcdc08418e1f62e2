// A Security Gateway scan as a user runs it: the CLI as a subprocess with the three
// permissions, against the emulator process's TPAPI over HTTPS.
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { eicarText } from "../../lib/emulator/mod.ts";
import type { EmulatorStats } from "../../lib/emulator/mod.ts";
import { PARTIAL_PREFIX } from "../../lib/fs/move.ts";
import { CA_FILE, gatewayFastFlags as fastGatewayFlags, tempDir } from "../helpers.ts";
import { marked } from "../emulator/helpers.ts";
import { run, startEmulatorProcess } from "./cli.ts";

const KEY = "tpapi-key-7c4e2a91";

/** Every file under `root`, as paths relative to it. */
async function filesUnder(root: string): Promise<string[]> {
  const found: string[] = [];
  const visit = async (folder: string): Promise<void> => {
    for await (const entry of Deno.readDir(folder)) {
      const path = join(folder, entry.name);
      if (entry.isDirectory) await visit(path);
      else found.push(relative(root, path));
    }
  };
  await visit(root).catch(() => {});
  return found.sort();
}

async function stats(port: number): Promise<EmulatorStats> {
  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(CA_FILE)] });
  try {
    const res = await fetch(`https://127.0.0.1:${port}/__emulator/stats`, { client });
    return await res.json();
  } finally {
    client.close();
  }
}

/** The folders of one scan, and its command line up to the target. */
async function layout(root: string, key = KEY) {
  const f = {
    input: join(root, "in"),
    out: join(root, "ok"),
    jail: join(root, "q"),
    error: join(root, "err"),
    rep: join(root, "rep"),
    clean: join(root, "clean"),
    keyFile: join(root, "gateway.key"),
  };
  await Deno.mkdir(root, { recursive: true });
  await Deno.writeTextFile(f.keyFile, `${key}\n`);
  const sort = ["--in", f.input, "--out", f.out, "--jail", f.jail, "--error", f.error];
  return { ...f, sort: [...sort, "--rep", f.rep] };
}

function gatewayFastFlags(port: number, keyFile: string): string[] {
  return [...fastGatewayFlags(port, keyFile), "--features", "te,te_eb,av"];
}

async function writeTree(input: string, files: Record<string, string>): Promise<void> {
  for (const [rel, text] of Object.entries(files)) {
    await Deno.mkdir(join(input, rel, ".."), { recursive: true });
    await Deno.writeTextFile(join(input, rel), text);
  }
}

async function assertKeyNowhere(key: string, output: string, rep: string): Promise<void> {
  assert.ok(!output.includes(key), "the key is not in stdout or stderr");
  for (const rel of await filesUnder(rep)) {
    const bytes = await Deno.readFile(join(rep, rel));
    assert.ok(!new TextDecoder().decode(bytes).includes(key), `the key is not in rep/${rel}`);
  }
}

Deno.test("gateway scan with --extract clean: verdicts, quarantine with report, cleaned copies, exit 1", async () => {
  await using dir = await tempDir();
  const f = await layout(dir.path);
  await writeTree(f.input, {
    "docs/a/memo.docm": marked("ACTIVE-CONTENT", "memo"),
    "docs/b/report.v2.docx": marked("ACTIVE-CONTENT", "report"),
    "plain/notes.txt": "nothing to remove here",
    "downloads/eicar.com": eicarText(),
  });
  await using emulator = await startEmulatorProcess([
    "--api-key",
    KEY,
    "--emulation-ms",
    "50",
    "--early-ms",
    "10",
  ]);
  const scan = await run([
    ...f.sort,
    ...gatewayFastFlags(emulator.port, f.keyFile),
    "--extract",
    "clean",
    "--clean",
    f.clean,
  ]);
  const output = `${scan.out}\n${scan.err}`;
  assert.equal(scan.code, 1, output);
  assert.deepEqual(await filesUnder(f.out), [
    "docs/a/memo.docm",
    "docs/b/report.v2.docx",
    "plain/notes.txt",
  ]);
  assert.deepEqual(await filesUnder(f.jail), ["downloads/eicar.com"]);
  assert.deepEqual(await filesUnder(f.input), []);
  const report = await filesUnder(join(f.rep, "downloads", "eicar.com_report"));
  assert.ok(report.length > 0, "the EICAR file's report is extracted");
  // Cleaned copies at their relative folders, under the gateway's names; nothing half-written.
  assert.deepEqual(await filesUnder(f.clean), [
    "docs/a/memo.cleaned.docm",
    "docs/b/report.cleaned.v2.docx",
  ]);
  assert.equal(
    await Deno.readTextFile(join(f.clean, "docs/a/memo.cleaned.docm")),
    "unique memo\n[removed by te-scan emulator]\nend\n",
  );
  assert.ok(!(await filesUnder(f.clean)).some((p) => p.includes(PARTIAL_PREFIX)));
  assert.match(
    scan.out,
    /BENIGN\s+docs\/a\/memo\.docm -> .*extraction: OK -> .*memo\.cleaned\.docm/,
  );
  assert.doesNotMatch(scan.out, /notes\.txt -> .*extraction/, "nothing to clean is not said");
  assert.match(scan.out, /MALICIOUS\s+downloads\/eicar\.com -> .*anti-virus: EICAR-Test-File/);
  // The log and the response files name every scrub result and the AV result.
  const log = (await Deno.readTextFile(join(f.rep, "te-scan.log.jsonl"))).trim().split("\n")
    .map((line) => JSON.parse(line)).filter((event) => event.event === "file");
  const byFile = new Map(log.map((event) => [event.file, event]));
  assert.deepEqual(byFile.get("plain/notes.txt").extraction, {
    code: 4,
    result: "Skipped",
    message: "The file doesn't include cleanable parts",
    status: "skipped",
  });
  assert.equal(byFile.get("docs/a/memo.docm").extraction.result, "OK");
  assert.equal(byFile.get("downloads/eicar.com").av.signature, "EICAR-Test-File");
  const response = JSON.parse(
    await Deno.readTextFile(join(f.rep, "docs/a/memo.docm.response.json")),
  );
  assert.equal(response.scrub.scrub_result, 0);
  assert.equal(response.scrub.file_enc_data, undefined);
  await assertKeyNowhere(KEY, output, f.rep);
});

Deno.test("gateway scan with --extract pdf: every cleaned copy is a PDF", async () => {
  await using dir = await tempDir();
  const f = await layout(dir.path);
  await writeTree(f.input, {
    "a/memo.txt": "a memo",
    "b/sheet.v1.xlsx": "figures",
  });
  await using emulator = await startEmulatorProcess(["--api-key", KEY, "--emulation-ms", "50"]);
  const scan = await run([
    ...f.sort,
    ...gatewayFastFlags(emulator.port, f.keyFile),
    "--extract",
    "pdf",
    "--clean",
    f.clean,
  ]);
  assert.equal(scan.code, 0, `${scan.out}\n${scan.err}`);
  const cleaned = await filesUnder(f.clean);
  assert.deepEqual(cleaned, ["a/memo.cleaned.pdf", "b/sheet.cleaned.pdf"]);
  for (const rel of cleaned) {
    const head = (await Deno.readFile(join(f.clean, rel))).subarray(0, 5);
    assert.equal(new TextDecoder().decode(head), "%PDF-", rel);
  }
});

Deno.test("a file the gateway knows is not uploaded again, except with --extract for its cleaned copy", async () => {
  await using dir = await tempDir();
  const f = await layout(dir.path);
  const tree = { "a/one.docm": marked("ACTIVE-CONTENT", "one"), "b/two.txt": "two" };
  await writeTree(f.input, tree);
  await using emulator = await startEmulatorProcess(["--api-key", KEY, "--emulation-ms", "20"]);
  const flags = gatewayFastFlags(emulator.port, f.keyFile);
  const first = await run(["--in", f.input, "--rep", f.rep, ...flags]);
  assert.equal(first.code, 0, first.err);
  assert.equal((await stats(emulator.port)).tpapi_uploads, 2);
  const again = await run(["--in", f.input, "--rep", f.rep, ...flags]);
  assert.equal(again.code, 0, again.err);
  assert.equal((await stats(emulator.port)).tpapi_uploads, 2, "known files are not uploaded");
  const extract = await run([
    "--in",
    f.input,
    "--rep",
    f.rep,
    ...flags,
    "--extract",
    "clean",
    "--clean",
    f.clean,
  ]);
  assert.equal(extract.code, 0, extract.err);
  assert.equal((await stats(emulator.port)).tpapi_uploads, 4, "uploaded for the cleaned copy");
  assert.deepEqual(await filesUnder(f.clean), ["a/one.cleaned.docm"]);
});

Deno.test("a wrong or missing gateway key: one line on stderr, exit 3, nothing moved", async () => {
  await using dir = await tempDir();
  await using emulator = await startEmulatorProcess(["--api-key", KEY]);
  for (const key of ["wrong-key-0b9d", ""]) {
    const f = await layout(join(dir.path, key || "none"), key);
    await writeTree(f.input, { "a/doc.docx": "a document", "b.exe": eicarText() });
    const flags = gatewayFastFlags(emulator.port, f.keyFile);
    const argv = key
      ? flags
      : flags.filter((_, i) => flags[i] !== "--api-key-file" && flags[i - 1] !== "--api-key-file");
    const scan = await run([...f.sort, ...argv, "--extract", "clean", "--clean", f.clean]);
    assert.equal(scan.code, 3, `${scan.out}\n${scan.err}`);
    const lines = scan.err.trim().split("\n");
    assert.equal(lines.length, 1, scan.err);
    assert.match(lines[0], /refused the request \(1010 FORBIDDEN.*--api-key-file/);
    assert.equal(scan.out, "");
    assert.deepEqual(await filesUnder(f.input), ["a/doc.docx", "b.exe"], "nothing moved");
    for (const folder of [f.out, f.jail, f.error, f.clean]) {
      assert.deepEqual(await filesUnder(folder), [], folder);
    }
    if (key) await assertKeyNowhere(key, `${scan.out}\n${scan.err}`, f.rep);
  }
  assert.equal((await stats(emulator.port)).tpapi_uploads, 0);
});
