// Folder layouts that could mix verdicts, loop or lose data are refused on their real paths,
// before anything is uploaded or moved.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  captureScan,
  fastFlags,
  listFiles,
  scanFolders,
  tempDir,
  withEmulator,
  writeTree,
} from "../helpers.ts";

type Folders = ReturnType<typeof scanFolders>;

/** A refused layout: the flags it adds to `--in`, and what its one line must say. */
interface Refused {
  name: string;
  setUp?: (root: string, f: Folders) => Promise<void>;
  flags: (root: string, f: Folders) => string[];
  line: (root: string, f: Folders) => RegExp;
}

const esc = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

const REFUSED: Refused[] = [
  {
    name: "--jail inside --out",
    flags: (r) => ["--out", `${r}/clean`, "--jail", `${r}/clean/q`, "--rep", `${r}/rep`],
    line: (r) =>
      new RegExp(`--jail ${esc(`${r}/clean/q`)}: it is inside --out ${esc(`${r}/clean`)}`),
  },
  {
    name: "--jail a symlink to --out",
    setUp: (r) => Deno.mkdir(`${r}/clean`).then(() => Deno.symlink(`${r}/clean`, `${r}/jail`)),
    flags: (r) => ["--out", `${r}/clean`, "--jail", `${r}/jail`, "--rep", `${r}/rep`],
    line: (r) =>
      new RegExp(
        `--out and --jail: they are the same folder: --out ${esc(`${r}/clean`)}, ` +
          `--jail ${esc(`${r}/jail`)} \\(real path ${esc(`${r}/clean`)}\\)`,
      ),
  },
  {
    name: "--error inside --out, not created yet",
    flags: (r) => ["--out", `${r}/clean`, "--error", `${r}/clean/err`, "--rep", `${r}/rep`],
    line: (r) => new RegExp(`--error ${esc(`${r}/clean/err`)}: it is inside --out`),
  },
  {
    name: "--jail inside --rep",
    flags: (r) => ["--jail", `${r}/rep/q`, "--rep", `${r}/rep`],
    line: (r) => new RegExp(`--jail ${esc(`${r}/rep/q`)}: it is inside --rep ${esc(`${r}/rep`)}`),
  },
  {
    name: "--out a symlink pointing into --in",
    setUp: (r, f) => Deno.symlink(join(f.input, "docs"), `${r}/clean`),
    flags: (r) => ["--out", `${r}/clean/new`, "--rep", `${r}/rep`],
    line: (r, f) =>
      new RegExp(
        `--out ${esc(`${r}/clean/new`)} \\(real path ${esc(`${f.input}/docs/new`)}\\): ` +
          `it is inside the input folder ${esc(f.input)}; move it out or add --exclude '/docs/new'`,
      ),
  },
  {
    name: "--rep equal to --out",
    flags: (r) => ["--out", `${r}/clean`, "--rep", `${r}/clean`],
    line: () => /--out and --rep: they are the same folder/,
  },
  {
    name: "--rep inside --out",
    flags: (r) => ["--out", `${r}/clean`, "--rep", `${r}/clean/rep`],
    line: (r) => new RegExp(`--rep ${esc(`${r}/clean/rep`)}: it is inside --out`),
  },
  {
    name: "--rep inside --jail, through a symlink",
    setUp: (r) => Deno.mkdir(`${r}/q`).then(() => Deno.symlink(`${r}/q`, `${r}/link`)),
    flags: (r) => ["--jail", `${r}/q`, "--rep", `${r}/link/rep`],
    line: (r) =>
      new RegExp(
        `--rep ${esc(`${r}/link/rep`)} \\(real path ${esc(`${r}/q/rep`)}\\): ` +
          `it is inside --jail ${esc(`${r}/q`)}`,
      ),
  },
  {
    name: "--in inside --out",
    flags: (_r, f) => ["--out", join(f.input, ".."), "--rep", `${f.input}/../../rep`],
    line: () => /: the input folder .* is inside it/,
  },
];

for (const refused of REFUSED) {
  Deno.test(`refused layout, exit 3, nothing uploaded or moved: ${refused.name}`, async () => {
    await using dir = await tempDir();
    const root = await Deno.realPath(dir.path);
    const f = scanFolders(root);
    await writeTree(f.input, { "docs/a.txt": "fine", "evil.docm": "TE-EMULATOR-MALICIOUS" });
    await refused.setUp?.(root, f);
    const before = await listFiles(root);
    await withEmulator({}, async (emulator) => {
      const argv = ["--in", f.input, ...refused.flags(root, f), ...fastFlags(emulator.port)];
      const run = await captureScan(argv);
      assert.equal(run.code, 3, run.err.join("\n"));
      assert.equal(run.err.length, 1, run.err.join("\n"));
      assert.match(run.err[0], refused.line(root, f));
      assert.equal(emulator.stats().uploads, 0);
      assert.equal(emulator.stats().queries, 0);
    });
    assert.deepEqual(await listFiles(root), before, "nothing moved, nothing created");
  });
}

Deno.test("the --exclude a refusal suggests keeps out only that folder, and the run then goes", async () => {
  await using dir = await tempDir();
  const root = await Deno.realPath(dir.path);
  const f = scanFolders(root);
  await writeTree(f.input, { "clean/old.txt": "already sorted", "mail/clean/new.txt": "new" });
  await withEmulator({}, async (emulator) => {
    const flags = ["--in", f.input, "--out", join(f.input, "clean"), "--rep", f.rep];
    const refused = await captureScan([...flags, ...fastFlags(emulator.port)]);
    assert.equal(refused.code, 3);
    const suggested = refused.err.join("\n").match(/--exclude '([^']+)'/)?.[1];
    assert.equal(suggested, "/clean");
    const run = await captureScan([...flags, "--exclude", suggested!, ...fastFlags(emulator.port)]);
    assert.equal(run.code, 0, run.err.join("\n"));
    // The other folder named clean was scanned and sorted; the excluded one was left alone.
    assert.deepEqual(await listFiles(f.input), ["clean/mail/clean/new.txt", "clean/old.txt"]);
  });
});

Deno.test("--dry-run creates no destination folder", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "a.txt": "fine" });
  await withEmulator({}, async (emulator) => {
    const run = await captureScan([
      ...["--in", f.input, "--out", f.out, "--jail", f.jail, "--error", f.error],
      ...["--rep", f.rep, "--dry-run", ...fastFlags(emulator.port)],
    ]);
    assert.equal(run.code, 0, run.err.join("\n"));
  });
  for (const folder of [f.out, f.jail, f.error]) {
    await assert.rejects(Deno.stat(folder), Deno.errors.NotFound, folder);
  }
});
