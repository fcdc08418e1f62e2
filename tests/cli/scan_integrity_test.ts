// Integrity of a scan, in-process: a verdict belongs to the bytes that were scanned, one run
// at a time, reports published only whole, followed links handled by their content.
import assert from "node:assert/strict";
import { join } from "node:path";
import { RunLock } from "../../lib/fs/lock.ts";
import { verifyTarGz } from "../../lib/fs/tar.ts";
import {
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

Deno.test("a file appended to while in emulation never reaches the benign folder", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "growing.log": "line 1 ok\n" });
  await withEmulator({ emulationMs: 1500 }, async (emulator) => {
    const path = join(f.input, "growing.log");
    // Once the scanned version is uploaded, the writer goes on: its third line is malicious.
    const writer = (async () => {
      await eventually(30, "the first upload", () => emulator.stats().uploads >= 1);
      for (const line of ["line 2\n", "line 3\n", "TE-EMULATOR-MALICIOUS\n"]) {
        Deno.writeTextFileSync(path, line, { append: true });
        await sleep(20);
      }
    })();
    const run = await captureScan([...sortFlags(f), ...fastFlags(emulator.port)]);
    await writer;
    assert.ok(run.code === 1 || run.code === 2, `exit ${run.code}`);
    assert.deepEqual(await listFiles(f.out), [], "nothing published as benign");
    assert.deepEqual(await listFiles(f.input), ["growing.log"], "left where it was");
    const [event] = (await readLog(f.rep)).filter((e) => e.event === "file");
    assert.equal(event.state, "error");
    assert.match(String(event.reason), /changed while being scanned/);
  });
});

Deno.test("a second run while the first holds the lock exits 3 naming it, touching nothing", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "a.txt": "one" });
  await Deno.mkdir(join(f.rep, ".te-scan"), { recursive: true });
  await withEmulator({}, async (emulator) => {
    using _held = await RunLock.acquire(f.input, join(f.rep, ".te-scan", "lock"));
    const run = await captureScan([...sortFlags(f), ...fastFlags(emulator.port)]);
    assert.equal(run.code, 3);
    assert.match(
      run.err.join("\n"),
      new RegExp(`another te-scan \\(pid ${Deno.pid}, started [0-9T:.-]+Z\\) is scanning`),
    );
    assert.deepEqual(await listFiles(f.input), ["a.txt"]);
    assert.equal(emulator.stats().http_requests <= 1, true, "at most the preflight was sent");
    await assert.rejects(Deno.stat(join(f.rep, "te-scan.log.jsonl")), Deno.errors.NotFound);
  });
});

Deno.test("a report download cut short is fetched again; only a whole archive is published", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "evil.docm": "TE-EMULATOR-MALICIOUS\n" });
  await withEmulator({}, async (emulator) => {
    await injectFaults(emulator.url, [{ kind: "truncate", path: "download" }]);
    const run = await captureScan([...sortFlags(f), ...fastFlags(emulator.port)]);
    assert.equal(run.code, 1, run.err.join("\n"));
    assert.equal(emulator.stats().downloads, 2, "the cut answer was followed by a whole one");
    const archive = await Deno.readFile(join(f.rep, "evil.docm.report.tar.gz"));
    assert.ok(await verifyTarGz(archive) >= 1, "the published archive reads back whole");
    assert.ok((await Deno.stat(join(f.rep, "evil.docm_report"))).isDirectory);
    assert.deepEqual(
      await listFiles(join(f.rep, ".te-scan", "tmp")),
      [],
      "nothing left under a temporary name",
    );
  });
});

/**
 * A `--follow-symlinks` scan expected to find malware reached through a link: its output and its
 * file events. Such a file is reported in place, never moved, so it is not contained: exit 4.
 */
async function scanFollowing(f: ReturnType<typeof scanFolders>, port: number) {
  const run = await captureScan([...sortFlags(f), ...fastFlags(port), "--follow-symlinks"]);
  assert.equal(run.code, 4, run.err.join("\n"));
  return { run, events: (await readLog(f.rep)).filter((e) => e.event === "file") };
}

Deno.test("--follow-symlinks: a link is scanned and reported in place, never moved", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "real/evil.docm": "TE-EMULATOR-MALICIOUS inside\n" });
  await writeTree(join(dir.path, "elsewhere"), { "outside.docm": "TE-EMULATOR-MALICIOUS far\n" });
  await Deno.symlink(join(f.input, "real", "evil.docm"), join(f.input, "link-in.docm"));
  await Deno.symlink(join(dir.path, "elsewhere", "outside.docm"), join(f.input, "link-out.docm"));
  await withEmulator({}, async (emulator) => {
    const { run, events } = await scanFollowing(f, emulator.port);
    assert.deepEqual(await listFiles(f.jail), ["real/evil.docm"], "by its own entry, not the link");
    assert.deepEqual(await listFiles(f.input), ["link-in.docm", "link-out.docm"], "links stay");
    assert.ok((await Deno.lstat(join(f.input, "link-out.docm"))).isSymlink);
    assert.ok((await Deno.stat(join(dir.path, "elsewhere", "outside.docm"))).isFile);
    const outside = events.find((e) => e.file === "link-out.docm")!;
    assert.equal(outside.state, "malicious");
    assert.equal(outside.disposition, "left");
    assert.match(
      String(outside.reason),
      new RegExp(`not quarantined: the malicious bytes are at ${join(dir.path, "elsewhere")}`),
    );
    assert.equal(run.out.filter((l) => l.startsWith("MALICIOUS")).length >= 2, true);
  });
});

Deno.test("--follow-symlinks to a folder outside --in moves and copies nothing from it", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  const elsewhere = join(dir.path, "elsewhere");
  const outside = { "fine.txt": "benign far away\n", "sub/evil.docm": "TE-EMULATOR-MALICIOUS\n" };
  await writeTree(elsewhere, outside);
  await writeTree(f.input, { "own.txt": "benign\n" });
  await Deno.symlink(elsewhere, join(f.input, "linked"));
  await withEmulator({}, async (emulator) => {
    const { events } = await scanFollowing(f, emulator.port);
    assert.deepEqual(await listFiles(elsewhere), ["fine.txt", "sub/evil.docm"], "all still there");
    assert.deepEqual(await listFiles(f.out), ["own.txt"]);
    assert.deepEqual(await listFiles(f.jail), []);
    const evil = events.find((e) => e.file === "linked/sub/evil.docm")!;
    assert.equal(evil.state, "malicious", "the verdict is in the log");
    assert.match(String(evil.reason), /not quarantined/);
    assert.equal(events.find((e) => e.file === "linked/fine.txt")!.disposition, "left");
  });
});
