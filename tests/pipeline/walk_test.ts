import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { walk, type WalkItem, type WalkOptions } from "../../lib/pipeline/walk.ts";
import { withTempDir } from "../helpers.ts";

/** Creates files (given by relative path) with short text content, folders included. */
async function makeFiles(root: string, relPaths: string[]): Promise<void> {
  for (const relPath of relPaths) {
    await Deno.mkdir(dirname(join(root, relPath)), { recursive: true });
    await Deno.writeTextFile(join(root, relPath), `content of ${relPath}`);
  }
}

/** One line per item, easy to compare: `file a/b.txt` or `skipped a/c: reason`. */
function describe(item: WalkItem): string {
  return item.kind === "file" ? `file ${item.relPath}` : `skipped ${item.relPath}: ${item.reason}`;
}

async function walked(options: WalkOptions): Promise<string[]> {
  return (await Array.fromAsync(walk(options))).map(describe);
}

Deno.test("walks depth-first in name order with absolute paths, sizes and mtimes", async () => {
  await withTempDir(async (root) => {
    await makeFiles(root, ["b.txt", "a/z.txt", "a/m/1.txt", "C.txt", "a1.txt", "a/b.txt"]);
    const items = await Array.fromAsync(walk({ root }));
    assert.deepEqual(items.map(describe), [
      "file C.txt",
      "file a/b.txt",
      "file a/m/1.txt",
      "file a/z.txt",
      "file a1.txt",
      "file b.txt",
    ]);
    const first = items[1];
    assert.equal(first.kind, "file");
    if (first.kind !== "file") return;
    const info = await Deno.stat(join(root, "a", "b.txt"));
    assert.equal(first.path, join(root, "a", "b.txt"));
    assert.equal(first.size, "content of a/b.txt".length);
    assert.equal(first.mtimeMs, info.mtime?.getTime());
  });
});

Deno.test("the walk is lazy: it reads a folder only when the reader gets there", async () => {
  await withTempDir(async (root) => {
    await makeFiles(root, ["a/1.txt", "a/2.txt", "a/3.txt", "b/1.txt"]);
    const reader = walk({ root }).getReader();
    assert.equal(describe((await reader.read()).value!), "file a/1.txt");
    // Changes made after the first item must show: nothing was listed ahead of time.
    await Deno.remove(join(root, "a", "2.txt"));
    await makeFiles(root, ["b/0.txt"]);
    const rest: string[] = [];
    for (let result = await reader.read(); !result.done; result = await reader.read()) {
      rest.push(describe(result.value));
    }
    assert.deepEqual(rest, [
      "skipped a/2.txt: vanished during walk",
      "file a/3.txt",
      "file b/0.txt",
      "file b/1.txt",
    ]);
  });
});

Deno.test("with recursive false only the root's own files are walked", async () => {
  await withTempDir(async (root) => {
    await makeFiles(root, ["top.txt", "sub/deep.txt"]);
    await Deno.symlink(join(root, "sub"), join(root, "link-to-sub"));
    assert.deepEqual(await walked({ root, recursive: false, followSymlinks: true }), [
      "file top.txt",
    ]);
  });
});

Deno.test("include keeps only matching files but still descends into every folder", async () => {
  await withTempDir(async (root) => {
    await makeFiles(root, ["a.docx", "a.txt", "x/b.docx", "x/y/c.pdf", "x/y/d.docx"]);
    assert.deepEqual(await walked({ root, include: ["*.docx", "x/y/*.pdf"] }), [
      "file a.docx",
      "file x/b.docx",
      "file x/y/c.pdf",
      "file x/y/d.docx",
    ]);
  });
});

Deno.test("excluded files and folders yield nothing; excluded folders stay unread", async () => {
  await withTempDir(async (root) => {
    await makeFiles(root, ["keep.txt", "x.tmp", "cache/a.txt", "src/cache/b.txt", "src/c.txt"]);
    // Entering the excluded folder would report this loop.
    await Deno.symlink(root, join(root, "cache", "loop"));
    const options = { root, followSymlinks: true, exclude: ["*.tmp", "cache"] };
    assert.deepEqual(await walked(options), ["file keep.txt", "file src/c.txt"]);
    assert.deepEqual(await walked({ root, exclude: ["/cache"] }), [
      "file keep.txt",
      "file src/c.txt",
      "file src/cache/b.txt",
      "file x.tmp",
    ]);
  });
});

Deno.test("skipDirs keeps the walk out of output folders, even through a link", async () => {
  await withTempDir(async (root) => {
    await makeFiles(root, ["in.txt", "out/benign.txt", "rep/log.json"]);
    await Deno.symlink(join(root, "out"), join(root, "also-out"));
    const skipDirs = [join(root, "out"), join(root, "rep"), join(root, "not-created-yet")];
    assert.deepEqual(await walked({ root, skipDirs, followSymlinks: true }), ["file in.txt"]);
  });
});

Deno.test("files above maxSize are skipped with both sizes in the reason", async () => {
  await withTempDir(async (root) => {
    const mib = 1 << 20;
    await makeFiles(root, ["small.txt"]);
    // Sparse files: the sizes are real but no disk space is used.
    await Deno.writeFile(join(root, "big.iso"), new Uint8Array());
    await Deno.truncate(join(root, "big.iso"), 12 * mib);
    await Deno.writeFile(join(root, "exact.bin"), new Uint8Array());
    await Deno.truncate(join(root, "exact.bin"), 10 * mib);
    await Deno.writeFile(join(root, "just-over.bin"), new Uint8Array());
    await Deno.truncate(join(root, "just-over.bin"), 10 * mib + 1);
    assert.deepEqual(await walked({ root, maxSize: 10 * mib }), [
      "skipped big.iso: larger than --max-size (12.0 MiB > 10.0 MiB)",
      "file exact.bin",
      "skipped just-over.bin: larger than --max-size (10485761 B > 10485760 B)",
      "file small.txt",
    ]);
  });
});

Deno.test("symbolic links are skipped with a hint unless followed", async () => {
  await withTempDir(async (root) => {
    await makeFiles(root, ["real/doc.txt"]);
    await Deno.symlink(join(root, "real", "doc.txt"), join(root, "file-link"));
    await Deno.symlink(join(root, "real"), join(root, "folder-link"));
    await Deno.symlink(join(root, "missing"), join(root, "dangling"));
    assert.deepEqual(await walked({ root }), [
      "skipped dangling: symbolic link (use --follow-symlinks)",
      "skipped file-link: symbolic link (use --follow-symlinks)",
      "skipped folder-link: symbolic link (use --follow-symlinks)",
      "file real/doc.txt",
    ]);
  });
});

Deno.test("followed links yield files under the link's own path; dangling ones skip", async () => {
  await withTempDir(async (root) => {
    await makeFiles(root, ["elsewhere/doc.txt"]);
    const inside = join(root, "in");
    await Deno.mkdir(inside);
    await Deno.symlink(join(root, "elsewhere", "doc.txt"), join(inside, "file-link"));
    await Deno.symlink(join(root, "elsewhere"), join(inside, "folder-link"));
    await Deno.symlink(join(root, "missing"), join(inside, "dangling"));
    const items = await Array.fromAsync(walk({ root: inside, followSymlinks: true }));
    assert.deepEqual(items.map(describe), [
      "skipped dangling: dangling symbolic link",
      "file file-link",
      "file folder-link/doc.txt",
    ]);
    assert.equal(items[1].path, join(inside, "file-link"));
    assert.equal(items[1].kind === "file" && items[1].size, "content of elsewhere/doc.txt".length);
    // Reached through a link, so never to be moved: each carries where its bytes really are.
    const real = await Deno.realPath(join(root, "elsewhere", "doc.txt"));
    for (const item of items.slice(1)) {
      assert.deepEqual(item.kind === "file" && item.target, { path: real }, item.relPath);
    }
  });
});

Deno.test("a link back to a folder on the current path is a symlink loop", async () => {
  await withTempDir(async (root) => {
    await makeFiles(root, ["a/b/file.txt"]);
    await Deno.symlink(root, join(root, "a", "b", "to-root"));
    await Deno.symlink(join(root, "a"), join(root, "a", "to-a"));
    await Deno.symlink("self", join(root, "self"));
    assert.deepEqual(await walked({ root, followSymlinks: true }), [
      "file a/b/file.txt",
      "skipped a/b/to-root: symlink loop",
      "skipped a/to-a: symlink loop",
      "skipped self: symlink loop",
    ]);
  });
});

Deno.test("a folder reached twice through links is walked once", async () => {
  await withTempDir(async (root) => {
    await makeFiles(root, ["z/doc.txt"]);
    await Deno.symlink(join(root, "z"), join(root, "a-link"));
    assert.deepEqual(await walked({ root, followSymlinks: true }), [
      "file a-link/doc.txt",
      "skipped z: folder already scanned as a-link",
    ]);
  });
});

Deno.test("sockets are skipped with their kind", async () => {
  await withTempDir(async (root) => {
    await makeFiles(root, ["plain.txt"]);
    // A unix socket file needs --allow-net to create (Deno checks "unix:<path>").
    const listener = Deno.listen({ transport: "unix", path: join(root, "app.sock") });
    try {
      assert.deepEqual(await walked({ root }), ["skipped app.sock: socket", "file plain.txt"]);
      assert.deepEqual(await walked({ root, include: ["*.txt"] }), ["file plain.txt"]);
    } finally {
      listener.close();
    }
  });
});

Deno.test("devices are skipped with their kind", async () => {
  await withTempDir(async (root) => {
    await makeFiles(root, ["plain.txt"]);
    // /dev itself needs --allow-all, but a link to /dev/null in the tree does not.
    await Deno.symlink("/dev/null", join(root, "null-device"));
    assert.deepEqual(await walked({ root, followSymlinks: true }), [
      "skipped null-device: device",
      "file plain.txt",
    ]);
  });
});

Deno.test("a missing root errors the stream with a one-line message", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "nope");
    await assert.rejects(Array.fromAsync(walk({ root })), {
      message: `Cannot scan ${root}: no such file or folder`,
    });
  });
});

Deno.test("a root that is a file is walked as that one file", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "file.txt");
    await Deno.writeTextFile(root, "x");
    const items = await Array.fromAsync(walk({ root }));
    assert.deepEqual(items.map((i) => [i.kind, i.path, i.relPath]), [["file", root, "file.txt"]]);
  });
});

Deno.test("an empty root yields nothing", async () => {
  await withTempDir(async (root) => {
    assert.deepEqual(await walked({ root }), []);
  });
});
