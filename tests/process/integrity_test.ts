// Integrity the hard way: kill -9 at random instants with a rerun after each, a kill right after
// an early quarantine, names that are not UTF-8. These drive the CLI as a subprocess (--allow-run)
// and mount a tmpfs for the cross-filesystem case (root only; CI runs as root).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { seededRandom, startEmulator } from "../../lib/emulator/mod.ts";
import { PARTIAL_PREFIX } from "../../lib/fs/move.ts";
import { CA_FILE, captureScan, eventually, listFiles, tempDir, within } from "../helpers.ts";
import { mountTmpfs, teScan, unmount } from "./cli.ts";
import { sleep } from "../../lib/util/sleep.ts";

/** sha1 → how many files hold it, over every file under the given folders. */
async function contentCounts(folders: string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const folder of folders) {
    for (const rel of await listFiles(folder)) {
      const sha1 = createHash("sha1").update(await Deno.readFile(join(folder, rel))).digest("hex");
      counts.set(sha1, (counts.get(sha1) ?? 0) + 1);
    }
  }
  return counts;
}

async function namesUnder(folders: string[]): Promise<string[]> {
  const names: string[] = [];
  for (const folder of folders) {
    names.push(...(await listFiles(folder)).map((r) => join(folder, r)));
  }
  return names;
}

/** 2,000 files in 40 folders: mostly distinct, some copies, some malicious, some unsupported. */
async function writeKillTree(input: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    const folder = join(input, `d${i % 40}`);
    await Deno.mkdir(folder, { recursive: true });
    let text = `file ${i % 1900} of the kill-loop tree\n`;
    if (i % 97 === 0) text += "TE-EMULATOR-MALICIOUS\n";
    if (i % 251 === 0) text = `TE-EMULATOR-UNSUPPORTED ${i}\n`;
    await Deno.writeTextFile(join(folder, `f${String(i).padStart(5, "0")}.bin`), text);
  }
}

function scanArgs(port: number, folders: Record<string, string>, extra: string[] = []): string[] {
  return [
    "--in",
    folders.input,
    "--out",
    folders.out,
    "--jail",
    folders.jail,
    "--error",
    folders.error,
    "--rep",
    folders.rep,
    "--ip",
    `127.0.0.1:${port}`,
    "--ca-cert",
    CA_FILE,
    "--poll-interval",
    "0.05",
    "-n",
    "16",
    ...extra,
  ];
}

/** Waits until a file has left `input` (which held `count`), or 5 s. */
async function firstMove(input: string, count: number): Promise<void> {
  const start = Date.now();
  while ((await listFiles(input)).length === count && Date.now() - start < 5_000) await sleep(5);
}

async function killLoop(root: string, destRoot: string, seed: number): Promise<void> {
  const folders = {
    input: join(root, "in"),
    out: join(destRoot, "out"),
    jail: join(destRoot, "jail"),
    error: join(destRoot, "error"),
    rep: join(root, "rep"),
  };
  await writeKillTree(folders.input);
  const before = await contentCounts([folders.input]);
  const emulator = await startEmulator({ port: 0, emulationMs: 5, earlyMs: 1 });
  try {
    // Teach the emulator every content first (a copy run), so the loop below uploads nothing.
    const seeding = await within(
      300,
      teScan(
        scanArgs(emulator.port, { ...folders, out: join(root, "seed-out") }, [
          "--copy",
          "--rep",
          join(root, "seed-rep"),
          "--jail",
          join(root, "seed-jail"),
          "--error",
          join(root, "seed-error"),
        ]),
      ).output(),
    );
    assert.equal(seeding.code, 1, new TextDecoder().decode(seeding.stderr));
    const uploadsAfterSeeding = emulator.stats().uploads;
    const random = seededRandom(seed);
    const midMove: string[] = [];
    for (let kill = 0; kill < 10; kill++) {
      const inputBefore = (await listFiles(folders.input)).length;
      const child = teScan(scanArgs(emulator.port, folders)).spawn();
      // Every third kill lands at a random instant of start-up, walk and hashing; the others
      // at a random instant after the first move, so most land among the moves.
      if (kill % 3 === 0) await sleep(Math.floor(random() * 400));
      else {
        await firstMove(folders.input, inputBefore);
        await sleep(Math.floor(random() * 60));
      }
      try {
        child.kill("SIGKILL");
      } catch { /* it had already finished */ }
      const status = await within(30, child.status);
      await child.stdout.cancel();
      await child.stderr.cancel();
      const inputAfter = (await listFiles(folders.input)).length;
      if (status.signal === "SIGKILL" && inputAfter < inputBefore && inputAfter > 0) {
        midMove.push(`${inputBefore}→${inputAfter}`);
      }
    }
    // The kills must land among the moves, not on runs that had nothing left to do.
    assert.ok(midMove.length >= 4, `seed ${seed}: kills mid-move: ${midMove}`);
    const output = await within(300, teScan(scanArgs(emulator.port, folders)).output());
    const last = { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
    // What is left for the last run decides its code; it must only have finished normally.
    assert.ok([0, 1, 2].includes(last.code), `seed ${seed}: exit ${last.code}: ${last.stderr}`);
    const places = [folders.input, folders.out, folders.jail, folders.error];
    const after = await contentCounts(places);
    assert.deepEqual(
      [...after].sort(),
      [...before].sort(),
      `seed ${seed}: every content as many times as before`,
    );
    const names = await namesUnder([...places, folders.rep]);
    assert.deepEqual(names.filter((n) => n.includes(PARTIAL_PREFIX)), [], `seed ${seed}`);
    assert.deepEqual(await listFiles(join(folders.rep, ".te-scan", "tmp")), []);
    assert.equal(
      (await Deno.readTextFile(join(folders.rep, ".te-scan", "journal.jsonl"))).trim(),
      "",
      `seed ${seed}: the journal is compacted once everything in it is done`,
    );
    assert.equal(emulator.stats().uploads, uploadsAfterSeeding, "no content uploaded twice");
  } finally {
    await emulator.close();
  }
}

const SEED = Number(new Date().getUTCDate() * 7919 + new Date().getUTCHours());

Deno.test(`kill -9 at 10 random instants, same filesystem (seed ${SEED})`, async () => {
  await using dir = await tempDir();
  await killLoop(dir.path, dir.path, SEED);
});

Deno.test({
  name: `kill -9 at 10 random instants, destinations on a tmpfs (seed ${SEED + 1})`,
  async fn() {
    await using dir = await tempDir();
    const dest = join(dir.path, "dest");
    await Deno.mkdir(dest);
    await mountTmpfs(dest, "64m");
    try {
      await killLoop(dir.path, dest, SEED + 1);
    } finally {
      await unmount(dest);
    }
  },
});

Deno.test("a kill right after an early quarantine: the rerun applies the final verdict", async () => {
  await using dir = await tempDir();
  const folders = {
    input: join(dir.path, "in"),
    out: join(dir.path, "out"),
    jail: join(dir.path, "jail"),
    error: join(dir.path, "error"),
    rep: join(dir.path, "rep"),
  };
  await Deno.mkdir(folders.input);
  await Deno.writeTextFile(
    join(folders.input, "false-alarm.docm"),
    "TE-EMULATOR-EARLY-MALICIOUS\n",
  );
  await Deno.writeTextFile(join(folders.input, "evil.docm"), "TE-EMULATOR-MALICIOUS\n");
  const emulator = await startEmulator({ port: 0, emulationMs: 600_000, earlyMs: 10 });
  try {
    const child = teScan(scanArgs(emulator.port, folders)).spawn();
    await eventually(60, "both files early-quarantined", async () => {
      return (await listFiles(folders.jail)).length >= 2;
    });
    child.kill("SIGKILL");
    await within(30, child.status);
    await child.stdout.cancel();
    await child.stderr.cancel();
    emulator.advanceClock(600_000);
    const rerun = await within(120, teScan(scanArgs(emulator.port, folders)).output());
    assert.equal(rerun.code, 1, new TextDecoder().decode(rerun.stderr));
    assert.deepEqual(await listFiles(folders.out), ["false-alarm.docm"], "the final benign wins");
    assert.deepEqual(await listFiles(folders.jail), ["evil.docm"]);
    assert.deepEqual(await listFiles(folders.input), []);
    const reports = await listFiles(folders.rep);
    for (const name of ["evil.docm.response.json", "false-alarm.docm.response.json"]) {
      assert.ok(reports.includes(name), `${name} in ${reports.join(", ")}`);
    }
    assert.ok(reports.some((r) => r.startsWith("evil.docm_report/")), "the report was extracted");
    assert.equal(emulator.stats().uploads, 2, "the rerun asked by hash, without uploading again");
  } finally {
    await emulator.close();
  }
});

/** A file name as raw bytes: text parts in UTF-8, numbers as single bytes. */
function raw(...parts: (string | number)[]): string {
  const bytes = parts.flatMap((p) =>
    typeof p === "number" ? [p] : [...new TextEncoder().encode(p)]
  );
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Creates files whose names are raw bytes (Deno's file APIs take only strings), with python3. */
async function writeRawNames(root: string, files: [string, string][]): Promise<void> {
  const script = "import os,sys,json\n" +
    "root=sys.argv[1].encode()\n" +
    "for name,content in json.loads(sys.argv[2]):\n" +
    "  path=root+b'/'+bytes.fromhex(name)\n" +
    "  os.makedirs(os.path.dirname(path),exist_ok=True)\n" +
    "  open(path,'wb').write(content.encode())\n";
  const made = await new Deno.Command("python3", {
    args: ["-c", script, root, JSON.stringify(files)],
  }).output();
  assert.equal(made.code, 0, new TextDecoder().decode(made.stderr));
}

/** Every file under `root` as the hex of its raw path. */
async function rawNames(root: string): Promise<string[]> {
  const script = "import os,sys\n" +
    "for d,_,fs in os.walk(sys.argv[1].encode()):\n" +
    " for f in fs: print(os.path.join(d,f).hex())";
  const listed = await new Deno.Command("python3", { args: ["-c", script, root] }).output();
  return new TextDecoder().decode(listed.stdout).trim().split("\n").filter(Boolean).sort();
}

Deno.test("names that are not UTF-8 are unresolved, never credited, and stay where they were", async () => {
  await using dir = await tempDir();
  const input = join(dir.path, "in");
  const malicious = "TE-EMULATOR-MALICIOUS\n";
  await writeRawNames(input, [
    [raw("invoice", 0xff, ".exe"), malicious],
    [raw("sub", 0xfe, "/ok.exe"), malicious],
    [raw("bad\ufffd.txt"), "a real U+FFFD name, benign\n"],
    [raw("bad", 0xff, ".txt"), malicious],
  ]);
  const before = await rawNames(input);
  const emulator = await startEmulator({ port: 0, emulationMs: 20, earlyMs: 5 });
  try {
    const out = join(dir.path, "out");
    const run = await captureScan([
      "--in",
      input,
      "--out",
      out,
      "--jail",
      join(dir.path, "jail"),
      "--rep",
      join(dir.path, "rep"),
      "--ip",
      `127.0.0.1:${emulator.port}`,
      "--ca-cert",
      CA_FILE,
      "--poll-interval",
      "0.03",
    ]);
    assert.equal(run.code, 2, run.out.join("\n"));
    assert.deepEqual(await listFiles(out), ["bad\ufffd.txt"], "only the real name was scanned");
    assert.equal(run.out.filter((l) => /same content as/.test(l)).length, 0, "nothing credited");
    const unresolved = run.out.filter((l) => l.startsWith("ERROR") && /not valid UTF-8/.test(l));
    assert.equal(unresolved.length, 3, run.out.join("\n"));
    // Deno cannot give the bytes of such a name: the line says how to see them.
    assert.ok(unresolved.every((l) => l.includes(`; ls -b '${input}`)), unresolved.join("\n"));
    const left = before.filter((hex) => !hex.endsWith(raw("bad\ufffd.txt")));
    assert.deepEqual(await rawNames(input), left, "the others are where they were");
  } finally {
    await emulator.close();
  }
});

Deno.test("--files-from -0 acts only on the exact bytes listed: a name that is not UTF-8 is unresolved, its U+FFFD twin untouched", async () => {
  await using dir = await tempDir();
  const input = join(dir.path, "in");
  const malicious = "TE-EMULATOR-MALICIOUS\n";
  await writeRawNames(input, [
    [raw("twin", 0xff, ".txt"), "the listed file\n"],
    [raw("twin\ufffd.txt"), malicious],
    [raw("ok.txt"), "listed too\n"],
  ]);
  const before = await rawNames(input);
  const list = join(dir.path, "list");
  const bytes = (...parts: (string | number)[]) =>
    Uint8Array.from(raw(...parts).match(/../g)!, (h) => parseInt(h, 16));
  await Deno.writeFile(
    list,
    new Uint8Array([
      ...bytes(`${input}/twin`, 0xff, ".txt", 0),
      ...bytes(`${input}/ok.txt`, 0),
    ]),
  );
  const emulator = await startEmulator({ port: 0, emulationMs: 20, earlyMs: 5 });
  try {
    const jail = join(dir.path, "jail");
    const run = await captureScan([
      ...["--in", input, "--files-from", list, "-0"],
      ...["--out", join(dir.path, "out"), "--jail", jail],
      ...["--rep", join(dir.path, "rep"), "--ip", `127.0.0.1:${emulator.port}`],
      ...["--ca-cert", CA_FILE, "--poll-interval", "0.03"],
    ]);
    assert.equal(run.code, 2, run.out.join("\n"));
    assert.deepEqual(await listFiles(jail), [], "the twin was never scanned nor quarantined");
    const unresolved = run.out.filter((l) => l.startsWith("ERROR") && /not valid UTF-8/.test(l));
    assert.equal(unresolved.length, 1, run.out.join("\n"));
    const okMoved = before.filter((hex) => !hex.endsWith(raw("/ok.txt")));
    assert.deepEqual(await rawNames(input), okMoved, "both twins are where they were");
  } finally {
    await emulator.close();
  }
});
