// An unwritable destination is found before anything is uploaded, by a user who cannot write
// there. CI runs as root, who can write anywhere, so the scan runs as nobody (setpriv), hence
// --allow-run; a destination on another file system (a tmpfs mount) is only a note.
import assert from "node:assert/strict";
import { join } from "node:path";
import { captureScan, fastFlags, listFiles, tempDir, withEmulator, writeTree } from "../helpers.ts";
import { IS_ROOT, MAIN, mountTmpfs, PERMISSIONS, teScan, unmount } from "./cli.ts";

const NOBODY = 65534;

/** Runs te-scan as an unprivileged user: nobody when this is root, else this user. */
async function scanAsUser(home: string, args: string[]) {
  const command = IS_ROOT
    ? new Deno.Command("setpriv", {
      args: [
        ...[`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups"],
        // Deno's cache must be one nobody can write.
        ...["env", `DENO_DIR=${join(home, ".deno")}`, `HOME=${home}`, "NO_COLOR=1"],
        ...[Deno.execPath(), "run", ...PERMISSIONS, MAIN, ...args],
      ],
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    })
    : teScan(args);
  const result = await command.output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: result.code, out: decode(result.stdout), err: decode(result.stderr) };
}

/** A tree the unprivileged user owns, but for `locked`, which it may only read. */
async function setUp(root: string): Promise<void> {
  await writeTree(join(root, "in"), { "a.txt": "fine", "evil.docm": "TE-EMULATOR-MALICIOUS" });
  await Deno.mkdir(join(root, "locked"));
  if (IS_ROOT) {
    for (
      const path of [
        root,
        ...["", "a.txt", "evil.docm"].map((name) => join(root, "in", name)),
      ]
    ) {
      await Deno.chown(path, NOBODY, NOBODY);
    }
    await Deno.chmod(root, 0o755);
    await Deno.chmod(join(root, "locked"), 0o755);
  } else {
    await Deno.chmod(join(root, "locked"), 0o555);
  }
}

const CASES: [string, (root: string) => string[], (root: string) => RegExp][] = [
  [
    "an existing --jail",
    (root) => ["--jail", join(root, "locked")],
    (root) => new RegExp(`Cannot write to --jail ${root}/locked: Permission denied`),
  ],
  [
    "an --out to be created in a folder it cannot write",
    (root) => ["--out", join(root, "locked", "out")],
    (root) =>
      new RegExp(
        `Cannot write to --out ${root}/locked/out \\(it would be created in ${root}/locked\\): ` +
          "Permission denied",
      ),
  ],
];

for (const [name, flags, line] of CASES) {
  Deno.test(`an unwritable destination stops the run before any upload: ${name}`, async () => {
    await using dir = await tempDir();
    const root = await Deno.realPath(dir.path);
    await setUp(root);
    await withEmulator({}, async (emulator) => {
      const args = ["--in", join(root, "in"), ...flags(root), "--rep", join(root, "rep")];
      const run = await scanAsUser(root, [...args, ...fastFlags(emulator.port)]);
      assert.equal(run.code, 3, run.out + run.err);
      assert.match(run.err, line(root));
      assert.equal(run.err.trim().split("\n").length, 1, run.err);
      assert.equal(emulator.stats().uploads, 0);
      assert.equal(emulator.stats().queries, 0);
    });
    assert.deepEqual(await listFiles(join(root, "in")), ["a.txt", "evil.docm"]);
    assert.deepEqual(await listFiles(join(root, "locked")), [], "nothing left in it");
  });
}

Deno.test("a destination on another file system is named once, as information, and used", async () => {
  await using dir = await tempDir();
  const root = await Deno.realPath(dir.path);
  await writeTree(join(root, "in"), { "evil.docm": "TE-EMULATOR-MALICIOUS" });
  const jail = join(root, "jail");
  await Deno.mkdir(jail);
  // A tmpfs of its own: another device than the input's (mounting needs root; CI runs as root).
  await mountTmpfs(jail, "1m");
  try {
    await withEmulator({}, async (emulator) => {
      const flags = ["--in", join(root, "in"), "--jail", jail, "--rep", join(root, "rep")];
      const run = await captureScan([...flags, ...fastFlags(emulator.port)]);
      assert.equal(run.code, 1, run.err.join("\n"));
      assert.deepEqual(run.err, [
        `te-scan: warning: --jail ${jail} is on another file system than the input: ` +
        "each file is copied there, flushed, then removed from the input",
      ]);
      assert.deepEqual(await listFiles(jail), ["evil.docm"]);
    });
  } finally {
    await unmount(jail);
  }
});
