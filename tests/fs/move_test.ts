import assert from "node:assert/strict";
import { join } from "node:path";
import {
  copyNoClobber,
  exists,
  moveByCopy,
  moveNoClobber,
  numberedName,
  PARTIAL_PREFIX,
  writeFileNoClobber,
} from "../../lib/fs/move.ts";
import { confinementOf } from "../../lib/fs/confine.ts";
import { FileChangedError } from "../../lib/fs/identity.ts";
import { namesIn, withTempDir } from "../helpers.ts";

const OLD_TIME = new Date("2021-03-04T05:06:07.000Z");

/** A source file with a distinctive mode and an old modification time. */
async function makeSource(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(path, text);
  await Deno.chmod(path, 0o640);
  await Deno.utime(path, OLD_TIME, OLD_TIME);
}

async function assertKeptModeAndTime(path: string): Promise<void> {
  const info = await Deno.stat(path);
  assert.equal((info.mode ?? 0) & 0o7777, 0o640);
  assert.equal(info.mtime?.getTime(), OLD_TIME.getTime());
}

Deno.test("numberedName puts the number before the last extension", () => {
  assert.equal(numberedName("a/b.docx", 1), "a/b.1.docx");
  assert.equal(numberedName("a/README", 2), "a/README.2");
  assert.equal(numberedName(".bashrc", 1), ".bashrc.1");
  assert.equal(numberedName("x.tar.gz", 1), "x.tar.1.gz");
  assert.equal(numberedName("/q/a.b/notes", 3), "/q/a.b/notes.3");
  assert.equal(numberedName("/q/b.docx", 0), "/q/b.docx");
});

Deno.test("moveNoClobber moves a file within a folder", async () => {
  await withTempDir(async (dir) => {
    const src = join(dir, "in.docx");
    await Deno.writeTextFile(src, "payload");
    const placed = await moveNoClobber(src, join(dir, "out.docx"));
    assert.equal(placed, join(dir, "out.docx"));
    assert.equal(await Deno.readTextFile(placed), "payload");
    assert.equal(await exists(src), false);
  });
});

Deno.test("moveNoClobber numbers the name on each clash and keeps the existing files", async () => {
  await withTempDir(async (dir) => {
    const dest = join(dir, "out", "b.docx");
    await Deno.mkdir(join(dir, "out"));
    await Deno.writeTextFile(dest, "already there");
    for (const text of ["first", "second"]) {
      await Deno.writeTextFile(join(dir, `${text}.docx`), text);
    }
    assert.equal(await moveNoClobber(join(dir, "first.docx"), dest), join(dir, "out", "b.1.docx"));
    assert.equal(await moveNoClobber(join(dir, "second.docx"), dest), join(dir, "out", "b.2.docx"));
    assert.equal(await Deno.readTextFile(dest), "already there");
    assert.equal(await Deno.readTextFile(join(dir, "out", "b.1.docx")), "first");
    assert.equal(await Deno.readTextFile(join(dir, "out", "b.2.docx")), "second");
    assert.deepEqual(await namesIn(dir), ["out"]);
  });
});

Deno.test("moveNoClobber creates missing parent folders and keeps mode and mtime", async () => {
  await withTempDir(async (dir) => {
    const src = join(dir, "in.pdf");
    await makeSource(src, "pdf bytes");
    const dest = join(dir, "jail", "a", "b", "in.pdf");
    assert.equal(await moveNoClobber(src, dest), dest);
    assert.equal(await Deno.readTextFile(dest), "pdf bytes");
    await assertKeptModeAndTime(dest);
    assert.equal(await exists(src), false);
  });
});

Deno.test("moveNoClobber below a file fails in one line and keeps the source", async () => {
  await withTempDir(async (dir) => {
    const src = join(dir, "in.docx");
    await Deno.writeTextFile(src, "payload");
    await Deno.writeTextFile(join(dir, "blocker"), "a file, not a folder");
    const dest = join(dir, "blocker", "in.docx");
    await assert.rejects(moveNoClobber(src, dest), {
      message: `cannot move ${src} to ${dest}: cannot create folder ${
        join(dir, "blocker")
      }: a file is in the way`,
    });
    assert.equal(await Deno.readTextFile(src), "payload");
  });
});

Deno.test("moveNoClobber of a missing source names the file and the reason", async () => {
  await withTempDir(async (dir) => {
    const src = join(dir, "gone.docx");
    const dest = join(dir, "out", "gone.docx");
    await assert.rejects(moveNoClobber(src, dest), {
      message: `cannot move ${src} to ${dest}: No such file or directory`,
    });
    assert.equal(await exists(dest), false);
  });
});

Deno.test("moveByCopy (the cross-filesystem path) moves, keeping mode and mtime", async () => {
  await withTempDir(async (dir) => {
    const src = join(dir, "in", "big.bin");
    await Deno.mkdir(join(dir, "in"));
    const content = new Uint8Array(2 * (1 << 20) + 5).map((_, i) => (i * 7) & 0xff);
    await Deno.writeFile(src, content);
    await Deno.chmod(src, 0o640);
    await Deno.utime(src, OLD_TIME, OLD_TIME);
    const dest = join(dir, "out", "sub", "big.bin");
    assert.equal((await moveByCopy(src, dest)).path, dest);
    assert.deepEqual(await Deno.readFile(dest), content);
    await assertKeptModeAndTime(dest);
    assert.equal(await exists(src), false);
    assert.deepEqual(await namesIn(join(dir, "out", "sub")), ["big.bin"]);
  });
});

Deno.test("moveByCopy numbers the name on a clash and leaves no partial file", async () => {
  await withTempDir(async (dir) => {
    const dest = join(dir, "README");
    await Deno.writeTextFile(dest, "kept");
    const src = join(dir, "incoming");
    await Deno.writeTextFile(src, "new");
    assert.equal((await moveByCopy(src, dest)).path, join(dir, "README.1"));
    assert.equal(await Deno.readTextFile(dest), "kept");
    assert.equal(await Deno.readTextFile(join(dir, "README.1")), "new");
    assert.deepEqual(await namesIn(dir), ["README", "README.1"]);
  });
});

Deno.test("moveByCopy failing late removes the partial file and keeps the source", async () => {
  await withTempDir(async (dir) => {
    const src = join(dir, "in.docx");
    await Deno.writeTextFile(src, "payload");
    await Deno.mkdir(join(dir, "out"));
    // The copy is written under a short partial name; only the final name is too long.
    const dest = join(dir, "out", `${"x".repeat(300)}.docx`);
    await assert.rejects(moveByCopy(src, dest), {
      message: `cannot move ${src} to ${dest}: File name too long`,
    });
    assert.equal(await Deno.readTextFile(src), "payload");
    assert.deepEqual(await namesIfAny(join(dir, "out")), [], "nothing placed");
  });
});

Deno.test("moveByCopy refuses a folder without touching it", async () => {
  await withTempDir(async (dir) => {
    const src = join(dir, "folder");
    await Deno.mkdir(src);
    await Deno.writeTextFile(join(src, "inside.txt"), "x");
    const dest = join(dir, "out", "folder");
    // Only a regular file is ever moved: anything else in its place is a changed file.
    await assert.rejects(moveByCopy(src, dest), FileChangedError, "not a regular file");
    assert.deepEqual(await namesIn(src), ["inside.txt"]);
    // Folders are made only when a file goes into them.
    assert.equal(await exists(join(dir, "out")), false);
  });
});

Deno.test("moveByCopy below a file fails in one line and keeps the source", async () => {
  await withTempDir(async (dir) => {
    const src = join(dir, "in.docx");
    await Deno.writeTextFile(src, "payload");
    await Deno.writeTextFile(join(dir, "blocker"), "");
    const dest = join(dir, "blocker", "deeper", "in.docx");
    await assert.rejects(moveByCopy(src, dest), {
      message: `cannot move ${src} to ${dest}: cannot create folder ${
        join(dir, "blocker", "deeper")
      }: Not a directory`,
    });
    assert.equal(await Deno.readTextFile(src), "payload");
  });
});

Deno.test("copyNoClobber leaves the source and makes an independent copy", async () => {
  await withTempDir(async (dir) => {
    const src = join(dir, "in.xlsx");
    await makeSource(src, "sheet");
    const dest = join(dir, "benign", "in.xlsx");
    assert.equal(await copyNoClobber(src, dest), dest);
    assert.equal(await copyNoClobber(src, dest), join(dir, "benign", "in.1.xlsx"));
    await assertKeptModeAndTime(dest);
    // Writing to the copy must not reach the original, as it would through a hard link.
    await Deno.writeTextFile(dest, "changed copy");
    assert.equal(await Deno.readTextFile(src), "sheet");
    await assertKeptModeAndTime(src);
    assert.deepEqual(await namesIn(join(dir, "benign")), ["in.1.xlsx", "in.xlsx"]);
  });
});

Deno.test("writeFileNoClobber writes text or bytes and never replaces a file", async () => {
  await withTempDir(async (dir) => {
    const dest = join(dir, "rep", "a", "b.docx.response.json");
    assert.equal(await writeFileNoClobber(dest, '{"first":true}'), dest);
    const second = await writeFileNoClobber(dest, new TextEncoder().encode('{"second":true}'));
    assert.equal(second, join(dir, "rep", "a", "b.docx.response.1.json"));
    assert.equal(await Deno.readTextFile(dest), '{"first":true}');
    assert.equal(await Deno.readTextFile(second), '{"second":true}');
    const names = await namesIn(join(dir, "rep", "a"));
    assert.deepEqual(names, ["b.docx.response.1.json", "b.docx.response.json"]);
    assert.ok(names.every((name) => !name.startsWith(PARTIAL_PREFIX)));
  });
});

Deno.test("writeFileNoClobber under a file fails in one line naming the destination", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "rep"), "");
    const dest = join(dir, "rep", "summary.json");
    await assert.rejects(writeFileNoClobber(dest, "{}"), {
      message: `cannot write ${dest}: cannot create folder ${
        join(dir, "rep")
      }: a file is in the way`,
    });
  });
});

Deno.test("a link in a file's place is never moved, copied or published", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "secret"), "outside");
    const link = join(dir, "in.txt");
    await Deno.symlink(join(dir, "secret"), link);
    for (const place of [moveNoClobber, moveByCopy, copyNoClobber]) {
      await assert.rejects(place(link, join(dir, "out", "in.txt")), FileChangedError);
    }
    assert.ok((await Deno.lstat(link)).isSymlink, "the link stays");
    assert.equal(await Deno.readTextFile(join(dir, "secret")), "outside");
    assert.deepEqual(await namesIfAny(join(dir, "out")), [], "nothing placed");
  });
});

Deno.test("a move confined to --in refuses a folder on the way swapped for a link", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "in", "sub"), { recursive: true });
    await Deno.mkdir(join(dir, "elsewhere"), { recursive: true });
    await Deno.writeTextFile(join(dir, "elsewhere", "a.txt"), "outside");
    await Deno.writeTextFile(join(dir, "in", "sub", "a.txt"), "inside");
    const confine = confinementOf(join(dir, "in"));
    await Deno.rename(join(dir, "in", "sub"), join(dir, "in", "sub.orig"));
    await Deno.symlink(join(dir, "elsewhere"), join(dir, "in", "sub"));
    const src = join(dir, "in", "sub", "a.txt");
    for (const place of [moveNoClobber, moveByCopy, copyNoClobber]) {
      await assert.rejects(place(src, join(dir, "out", "a.txt"), { confine }), FileChangedError);
    }
    assert.equal(await Deno.readTextFile(join(dir, "elsewhere", "a.txt")), "outside");
    assert.deepEqual(await namesIfAny(join(dir, "out")), [], "nothing placed");
  });
});

Deno.test("a destination folder removed after a move is created again for the next one", async () => {
  await withTempDir(async (dir) => {
    const jail = join(dir, "jail");
    for (const name of ["a", "b", "c", "d"]) await Deno.writeTextFile(join(dir, name), name);
    await moveNoClobber(join(dir, "a"), join(jail, "mail", "a"));
    await Deno.remove(join(jail, "mail"), { recursive: true });
    // Each way into a folder: a link, a copy (other filesystems), a new file.
    assert.equal(
      await moveNoClobber(join(dir, "b"), join(jail, "mail", "b")),
      join(jail, "mail", "b"),
    );
    await Deno.remove(jail, { recursive: true });
    assert.equal(
      (await moveByCopy(join(dir, "c"), join(jail, "mail", "c"))).path,
      join(jail, "mail", "c"),
    );
    await Deno.remove(join(jail, "mail"), { recursive: true });
    assert.equal(
      await copyNoClobber(join(dir, "d"), join(jail, "mail", "d")),
      join(jail, "mail", "d"),
    );
    await Deno.remove(join(jail, "mail"), { recursive: true });
    assert.equal(await writeFileNoClobber(join(jail, "mail", "e"), "e"), join(jail, "mail", "e"));
    assert.deepEqual(await namesIn(join(jail, "mail")), ["e"]);
    assert.equal(await Deno.readTextFile(join(dir, "d")), "d");
  });
});

Deno.test("moves racing into one missing folder all arrive (each makes it or finds it made)", async () => {
  await withTempDir(async (dir) => {
    const names = Array.from({ length: 32 }, (_, i) => `f${String(i).padStart(2, "0")}`);
    for (const name of names) await Deno.writeTextFile(join(dir, name), name);
    await Promise.all(
      names.map((name) => moveNoClobber(join(dir, name), join(dir, "q/new", name))),
    );
    assert.deepEqual(await namesIn(join(dir, "q/new")), names);
  });
});

/** The names in a folder, or none if a refused move never made it. */
async function namesIfAny(dir: string): Promise<string[]> {
  try {
    return await namesIn(dir);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}
