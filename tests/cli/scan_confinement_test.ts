// Confinement, in-process: te-scan acts only on the file it hashed, reached through real folders
// inside --in. Each attack changes the input after the upload and before the answers, which the
// emulator holds until the test advances its clock (early verdicts first, then the final ones).
import assert from "node:assert/strict";
import { join } from "node:path";
import { startEmulator } from "../../lib/emulator/mod.ts";
import { sleep } from "../../lib/util/sleep.ts";
import {
  type CapturedRun,
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

const EARLY_MS = 300_000;

type Emulator = Awaited<ReturnType<typeof startEmulator>>;
type Folders = ReturnType<typeof scanFolders>;

/** Waits, within a bound, until `holds` is true. */
async function until(what: string, holds: () => Promise<boolean> | boolean): Promise<void> {
  await within(
    20,
    (async () => {
      while (!(await holds())) await sleep(5);
    })(),
  ).catch((error) => {
    throw new Error(`waiting for ${what}: ${error.message}`);
  });
}

/** Whether the run log (flushed as it goes) has an early event for every one of `files`. */
async function earlyLogged(rep: string, files: string[]): Promise<boolean> {
  const events = await readLog(rep).catch(() => []);
  return files.every((file) => events.some((e) => e.event === "early" && e.file === file));
}

/**
 * Scans `f` while the emulator holds its answers: once `uploads` files are uploaded (so
 * hashed), `attack` changes the input; then the early verdicts of `early` files are released
 * and logged, then the final ones.
 */
async function scanWithAttack(
  f: Folders,
  options: { uploads: number; early: string[]; attack: () => Promise<void>; flags?: string[] },
): Promise<CapturedRun> {
  const emulator: Emulator = await startEmulator({
    port: 0,
    emulationMs: 2 * EARLY_MS,
    earlyMs: EARLY_MS,
  });
  try {
    const run = captureScan([...sortFlags(f), ...fastFlags(emulator.port), ...options.flags ?? []]);
    await until("the uploads", () => emulator.stats().uploads >= options.uploads);
    await options.attack();
    emulator.advanceClock(EARLY_MS);
    await until("the early verdicts", () => earlyLogged(f.rep, options.early));
    emulator.advanceClock(EARLY_MS);
    return await within(30, run);
  } finally {
    await emulator.close();
  }
}

/** Every file under the destinations, with its content; none may be a link. */
async function destinationContents(f: Folders): Promise<string[]> {
  const contents: string[] = [];
  for (const folder of [f.out, f.jail, f.error]) {
    for (const rel of await listFiles(folder)) {
      const info = await Deno.lstat(join(folder, rel));
      assert.ok(info.isFile, `${folder}/${rel} is a regular file, not a link`);
      contents.push(await Deno.readTextFile(join(folder, rel)));
    }
  }
  return contents;
}

async function fileEvents(rep: string): Promise<Record<string, unknown>[]> {
  return (await readLog(rep)).filter((e) => e.event === "file");
}

Deno.test("bytes written after hashing never reach --out through the early quarantine", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, {
    "appended.doc": "TE-EMULATOR-EARLY-MALICIOUS appended to\n",
    "replaced.doc": "TE-EMULATOR-EARLY-MALICIOUS replaced\n",
  });
  const run = await scanWithAttack(f, {
    uploads: 2,
    early: ["appended.doc", "replaced.doc"],
    attack: async () => {
      await Deno.writeTextFile(join(f.input, "appended.doc"), "NEW BYTES\n", { append: true });
      await Deno.writeTextFile(join(f.input, "replacement"), "NEW BYTES, a new file\n");
      await Deno.rename(join(f.input, "replacement"), join(f.input, "replaced.doc"));
    },
  });
  assert.notEqual(run.code, 0, run.out.join("\n"));
  assert.deepEqual(await listFiles(f.out), [], "nothing published as benign");
  const contents = await destinationContents(f);
  assert.ok(!contents.some((c) => c.includes("NEW BYTES")), "the new bytes are nowhere");
  assert.deepEqual(await listFiles(f.input), ["appended.doc", "replaced.doc"], "left in place");
  for (const event of await fileEvents(f.rep)) {
    assert.equal(event.state, "error", `${event.file}: ${event.reason}`);
    assert.equal(event.disposition, "left");
  }
});

for (const flags of [[], ["--copy"]]) {
  const name = `a folder swapped for a link after upload${flags.map((x) => ` (${x})`).join("")}`;
  Deno.test(`${name}: nothing outside is moved, copied or published`, async () => {
    await using dir = await tempDir();
    const f = scanFolders(dir.path);
    const elsewhere = join(dir.path, "elsewhere");
    const names = ["benign.txt", "evil.doc", "early.doc"];
    await writeTree(f.input, {
      "dir/benign.txt": "scanned and benign\n",
      "dir/evil.doc": "TE-EMULATOR-MALICIOUS scanned\n",
      "dir/early.doc": "TE-EMULATOR-EARLY-MALICIOUS scanned\n",
    });
    const victims = Object.fromEntries(names.map((n) => [n, `OUTSIDE victim ${n}\n`]));
    await writeTree(elsewhere, victims);
    const run = await scanWithAttack(f, {
      uploads: 3,
      early: ["dir/early.doc"],
      flags,
      attack: async () => {
        await Deno.rename(join(f.input, "dir"), join(f.input, "dir.orig"));
        await Deno.symlink(elsewhere, join(f.input, "dir"));
      },
    });
    assert.equal(run.code, 4, "the malicious verdict stands, and the file was not contained");
    for (const name of names) {
      assert.equal(await Deno.readTextFile(join(elsewhere, name)), victims[name], `${name} stays`);
    }
    assert.ok(
      !(await destinationContents(f)).some((c) => c.includes("OUTSIDE")),
      "no outside bytes",
    );
    assert.deepEqual(
      await listFiles(join(f.input, "dir.orig")),
      names.sort(),
      "scanned files stay",
    );
    const events = await fileEvents(f.rep);
    const evil = events.find((e) => e.file === "dir/evil.doc")!;
    assert.equal(evil.state, "malicious");
    assert.match(String(evil.reason), /not quarantined/);
    assert.equal(events.find((e) => e.file === "dir/benign.txt")!.state, "error");
  });
}

Deno.test("a file swapped for a link is never published, as a link or otherwise", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  const secret = join(dir.path, "secret.txt");
  await Deno.writeTextFile(secret, "OUTSIDE secret\n");
  await writeTree(f.input, {
    "plain.txt": "benign\n",
    "early.doc": "TE-EMULATOR-EARLY-MALICIOUS\n",
  });
  await scanWithAttack(f, {
    uploads: 2,
    early: ["early.doc"],
    attack: async () => {
      for (const name of ["plain.txt", "early.doc"]) {
        await Deno.remove(join(f.input, name));
        await Deno.symlink(secret, join(f.input, name));
      }
    },
  });
  assert.ok(!(await destinationContents(f)).some((c) => c.includes("OUTSIDE")), "nothing out");
  assert.equal(await Deno.readTextFile(secret), "OUTSIDE secret\n");
  for (const name of ["plain.txt", "early.doc"]) {
    assert.ok((await Deno.lstat(join(f.input, name))).isSymlink, `${name}: the link stays`);
  }
});

Deno.test("quarantine is inert: jail and error files lose exec, setuid and setgid bits", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, {
    "evil.doc": "TE-EMULATOR-MALICIOUS\n",
    "odd.bin": "TE-EMULATOR-UNSUPPORTED\n",
    "run.sh": "TE-EMULATOR-EARLY-MALICIOUS, benign in the end\n",
  });
  await Deno.chmod(join(f.input, "evil.doc"), 0o4755);
  await Deno.chmod(join(f.input, "odd.bin"), 0o2775);
  await Deno.chmod(join(f.input, "run.sh"), 0o755);
  await withEmulator({}, async (emulator) => {
    const run = await captureScan([...sortFlags(f), ...fastFlags(emulator.port)]);
    assert.equal(run.code, 1, run.out.join("\n"));
  });
  const placed = { "evil.doc": join(f.jail, "evil.doc"), "odd.bin": join(f.error, "odd.bin") };
  const original = { "evil.doc": "4755", "odd.bin": "2775" };
  const events = await fileEvents(f.rep);
  for (const [name, path] of Object.entries(placed)) {
    const mode = (await Deno.stat(path)).mode! & 0o7777;
    assert.equal(mode & 0o6111, 0, `${name}: ${mode.toString(8)} has no exec, setuid or setgid`);
    const event = events.find((e) => e.file === name)!;
    assert.equal(event.originalMode, original[name as keyof typeof original], "in the log");
    const response = JSON.parse(await Deno.readTextFile(String(event.responseFile)));
    assert.equal(response.original_mode, original[name as keyof typeof original], "in the file");
  }
  const released = (await Deno.stat(join(f.out, "run.sh"))).mode! & 0o7777;
  assert.equal(released.toString(8), "755", "a file released from quarantine keeps its mode");
});
