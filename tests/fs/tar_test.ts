import assert from "node:assert/strict";
import { join } from "node:path";
import { extractTarGz, TarExtractError } from "../../lib/fs/tar.ts";
import { tar, type TarEntry, tarGz } from "../../lib/emulator/mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Runs `test` with a fresh temp root and `dest` as a subfolder of it, so that
 * anything escaping the destination shows up as an extra entry in the root.
 */
async function withTempRoot(test: (root: string, dest: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "tar_test_" });
  try {
    await test(root, join(root, "dest"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** Serves `bytes` lazily, like a network body, in chunks sized by `nextSize`. */
function chunked(bytes: Uint8Array, nextSize: () => number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      const size = nextSize();
      controller.enqueue(bytes.slice(offset, offset + size));
      offset += size;
    },
  });
}

function whole(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return chunked(bytes, () => bytes.length);
}

/** Deterministic pseudo-random numbers (mulberry32), so a failing run can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function randomBytes(length: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  return Uint8Array.from({ length }, () => Math.floor(random() * 256));
}

async function gzip(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return await new Response(new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip")))
    .bytes();
}

/** Every path under `dir` with its kind ("dest/a.txt file"), sorted; symlinks are not entered. */
async function listTree(dir: string): Promise<string[]> {
  const found: string[] = [];
  async function walk(relative: string): Promise<void> {
    for await (const entry of Deno.readDir(join(dir, relative))) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      const kind = entry.isSymlink ? "symlink" : entry.isDirectory ? "dir" : "file";
      found.push(`${path} ${kind}`);
      if (kind === "dir") await walk(path);
    }
  }
  await walk("");
  return found.sort();
}

function bytesOf(data: Uint8Array | string = ""): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

/** Header offsets of a {@linkcode tar} archive whose names all fit ustar (no pax headers). */
function headerOffsets(entries: TarEntry[]): number[] {
  let offset = 0;
  return entries.map((entry) => {
    const start = offset;
    const size = entry.type && entry.type !== "file" ? 0 : bytesOf(entry.data).length;
    offset += 512 + Math.ceil(size / 512) * 512;
    return start;
  });
}

/** Overwrites a header field and fixes the checksum, as a different tar writer would have. */
function patchHeader(archive: Uint8Array, header: number, field: number, text: string): void {
  archive.set(encoder.encode(text), header + field);
  const block = archive.subarray(header, header + 512);
  block.fill(0x20, 148, 156);
  const sum = block.reduce((total, byte) => total + byte, 0);
  block.set(encoder.encode(sum.toString(8).padStart(6, "0") + "\u0000 "), 148);
}

const TYPEFLAG = 156;
const MAGIC = 257;

async function assertExtractError(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof TarExtractError, `expected TarExtractError, got ${error}`);
    assert.match(error.message, pattern);
    assert.ok(!error.message.includes("\n"), "the message is one line");
    return true;
  });
}

Deno.test("round trip: nested folders, long names, empty and binary files come back", async () => {
  await withTempRoot(async (root, dest) => {
    const splittable = `report/${"p".repeat(60)}/${"q".repeat(60)}.txt`;
    const paxOnly = `report/${"r".repeat(140)}.txt`;
    const binary = Uint8Array.from({ length: 768 }, (_, i) => i % 256);
    const entries: TarEntry[] = [
      { name: "report/", type: "directory" },
      { name: "report/summary.html", data: "<h1>clean</h1>\n", mtime: new Date("2001-02-03Z") },
      { name: "report/images/shot-1.png", data: binary },
      { name: "report/empty.txt", data: "" },
      { name: splittable, data: "split into prefix and name" },
      { name: paxOnly, data: "only a pax header can hold this name" },
      { name: "report/résumé-日本.txt", data: "unicode name" },
    ];
    const text = decoder.decode(tar(entries));
    assert.ok(text.includes(` path=${paxOnly}\n`), "the 145-byte component needs a pax header");
    assert.ok(!text.includes(` path=${splittable}`), "the splittable name uses the ustar prefix");

    // 7-byte chunks split every header, gzip field and file body at odd places.
    const result = await extractTarGz(chunked(await tarGz(entries), () => 7), dest);

    const files = entries.filter((entry) => entry.type !== "directory");
    assert.deepEqual(result.files, files.map((entry) => entry.name));
    assert.deepEqual(result.refused, []);
    for (const entry of files) {
      assert.deepEqual(
        await Deno.readFile(join(dest, entry.name)),
        bytesOf(entry.data),
        entry.name,
      );
    }
    const expectedBytes = files.reduce((sum, e) => sum + bytesOf(e.data).length, 0);
    assert.equal(result.bytes, expectedBytes);
    const summary = await Deno.stat(join(dest, "report/summary.html"));
    assert.equal(summary.mtime?.toISOString(), "2001-02-03T00:00:00.000Z");
    assert.deepEqual(result.directories, [
      "report",
      "report/images",
      `report/${"p".repeat(60)}`,
    ]);
    assert.deepEqual(await listTree(root), [
      "dest dir",
      "dest/report dir",
      "dest/report/empty.txt file",
      "dest/report/images dir",
      "dest/report/images/shot-1.png file",
      `dest/report/${"p".repeat(60)} dir`,
      `dest/report/${"p".repeat(60)}/${"q".repeat(60)}.txt file`,
      `dest/report/${"r".repeat(140)}.txt file`,
      "dest/report/résumé-日本.txt file",
      "dest/report/summary.html file",
    ]);
  });
});

Deno.test("a 3 MiB file survives random chunk boundaries; the next member lines up", async () => {
  await withTempRoot(async (_root, dest) => {
    const big = randomBytes(3 * 2 ** 20, 1);
    const archive = await tarGz([
      { name: "big.bin", data: big },
      { name: "after.txt", data: "after the big one" },
    ]);
    const random = seededRandom(2);
    const result = await extractTarGz(
      chunked(archive, () => 1 + Math.floor(random() * 3000)),
      dest,
    );
    assert.deepEqual(result.files, ["big.bin", "after.txt"]);
    assert.equal(result.bytes, big.length + 17);
    assert.deepEqual(await Deno.readFile(join(dest, "big.bin")), big);
    assert.equal(await Deno.readTextFile(join(dest, "after.txt")), "after the big one");
  });
});

Deno.test("GNU long names and old GNU headers are read; global pax is ignored", async () => {
  await withTempRoot(async (_root, dest) => {
    const longName = `gnu/${"g".repeat(150)}.txt`;
    const longTarget = `/${"t".repeat(150)}`;
    const globalRecord = "24 path=global-evil.txt\n";
    const entries: TarEntry[] = [
      { name: "././@LongLink", data: `${longName}\u0000` },
      { name: "gnu-short", data: "gnu body" },
      { name: "././@LongLink", data: `${longTarget}\u0000` },
      { name: "gnu-link", type: "symlink", linkName: "short" },
      { name: "pax-global", data: globalRecord },
      { name: "after-global.txt", data: "keeps its own name" },
    ];
    const archive = tar(entries);
    const offsets = headerOffsets(entries);
    for (const offset of offsets) patchHeader(archive, offset, MAGIC, "ustar  \u0000");
    patchHeader(archive, offsets[0], TYPEFLAG, "L");
    patchHeader(archive, offsets[2], TYPEFLAG, "K");
    patchHeader(archive, offsets[4], TYPEFLAG, "g");

    const result = await extractTarGz(whole(await gzip(archive)), dest);

    assert.deepEqual(result.files, [longName, "after-global.txt"]);
    assert.equal(await Deno.readTextFile(join(dest, longName)), "gnu body");
    assert.equal(await Deno.readTextFile(join(dest, "after-global.txt")), "keeps its own name");
    assert.deepEqual(result.refused.map((r) => r.name), ["gnu-link"]);
    assert.ok(result.refused[0].reason.includes(longTarget), result.refused[0].reason);
  });
});

Deno.test("hostile members are refused one by one; nothing lands outside dest", async () => {
  await withTempRoot(async (root, dest) => {
    const absolute = join(root, "abs-evil.txt");
    const entries: TarEntry[] = [
      { name: "volume-label", data: "x".repeat(700) }, // typeflag patched below
      { name: "good-before.txt", data: "kept" },
      { name: "../evil.txt", data: "escaped" },
      { name: absolute, data: "escaped" },
      { name: "a/../../b-evil.txt", data: "escaped" },
      { name: "./../up.txt", data: "escaped" },
      { name: "dir\\..\\..\\win.txt", data: "escaped on Windows" },
      { name: "passwd-link", type: "symlink", linkName: "/etc/passwd" },
      { name: "link", type: "symlink", linkName: root },
      { name: "link/escaped.txt", data: "must stay inside dest" },
      { name: "hard", type: "hardlink", linkName: "/etc/passwd" },
      { name: "pipe", type: "fifo" },
      { name: "null-dev", type: "chardev" },
      { name: "disk", type: "blockdev" },
      { name: "nul\u0000name.txt", data: "NUL" },
      { name: "", data: "no name" },
      { name: "setuid.sh", data: "#!/bin/sh\n", mode: 0o6777 },
      { name: "locked.txt", data: "mode 000 in the archive", mode: 0o000 },
      { name: "good-after.txt", data: "also kept" },
    ];
    const archive = tar(entries);
    patchHeader(archive, 0, TYPEFLAG, "V");

    const result = await extractTarGz(whole(await gzip(archive)), dest);

    const expectedRefusals: [string, RegExp][] = [
      ["volume-label", /unsupported entry type "V"/],
      ["../evil.txt", /'\.\.'/],
      [absolute, /absolute/],
      ["a/../../b-evil.txt", /'\.\.'/],
      ["./../up.txt", /'\.\.'/],
      ["dir\\..\\..\\win.txt", /backslash/],
      ["passwd-link", /symbolic link to "\/etc\/passwd"/],
      ["link", /symbolic link/],
      ["hard", /hard link/],
      ["pipe", /FIFO/],
      ["null-dev", /character device/],
      ["disk", /block device/],
      ["nul\u0000name.txt", /NUL/],
      ["", /empty name/],
    ];
    assert.deepEqual(result.refused.map((r) => r.name), expectedRefusals.map(([name]) => name));
    result.refused.forEach(({ reason }, i) => assert.match(reason, expectedRefusals[i][1]));
    assert.deepEqual(result.files, [
      "good-before.txt",
      "link/escaped.txt",
      "setuid.sh",
      "locked.txt",
      "good-after.txt",
    ]);
    assert.deepEqual(await listTree(root), [
      "dest dir",
      "dest/good-after.txt file",
      "dest/good-before.txt file",
      "dest/link dir",
      "dest/link/escaped.txt file",
      "dest/locked.txt file",
      "dest/setuid.sh file",
    ]);
    assert.equal(await Deno.readTextFile(join(dest, "good-after.txt")), "also kept");
    const mode = (await Deno.stat(join(dest, "setuid.sh"))).mode ?? 0;
    assert.equal(mode & 0o7000, 0, "no setuid, setgid or sticky bit");
    assert.equal(mode & 0o022, 0, "not writable by group or others");
    assert.equal(mode & 0o100, 0o100, "still executable by its owner");
    const lockedMode = (await Deno.stat(join(dest, "locked.txt"))).mode ?? 0;
    assert.equal(lockedMode & 0o700, 0o600, "readable and writable by its owner, not executable");
  });
});

Deno.test("links and files already in dest are neither followed nor overwritten", async () => {
  await withTempRoot(async (root, dest) => {
    const outside = join(root, "outside");
    await Deno.mkdir(outside);
    await Deno.writeTextFile(join(outside, "target.txt"), "original");
    await Deno.mkdir(join(dest, "old-dir"), { recursive: true });
    await Deno.symlink(outside, join(dest, "planted"));
    await Deno.symlink(join(outside, "target.txt"), join(dest, "planted-file"));
    await Deno.symlink(join(outside, "new.txt"), join(dest, "dangling"));
    await Deno.writeTextFile(join(dest, "existing.txt"), "mine");
    const archive = await tarGz([
      { name: "planted/x.txt", data: "through the planted link" },
      { name: "planted-file", data: "overwrite the target" },
      { name: "dangling", data: "create through the link" },
      { name: "existing.txt", data: "theirs" },
      { name: "old-dir/y.txt", data: "into a folder we did not make" },
      { name: "fresh.txt", data: "new" },
    ]);

    const result = await extractTarGz(whole(archive), dest);

    assert.deepEqual(result.files, ["fresh.txt"]);
    const reasons = Object.fromEntries(result.refused.map((r) => [r.name, r.reason]));
    assert.match(reasons["planted/x.txt"], /symbolic link/);
    assert.match(reasons["planted-file"], /symbolic link/);
    assert.match(reasons["dangling"], /symbolic link/);
    assert.match(reasons["existing.txt"], /not overwritten/);
    assert.match(reasons["old-dir/y.txt"], /existed before/);
    assert.deepEqual(await listTree(outside), ["target.txt file"]);
    assert.equal(await Deno.readTextFile(join(outside, "target.txt")), "original");
    assert.equal(await Deno.readTextFile(join(dest, "existing.txt")), "mine");
    assert.deepEqual(await listTree(join(dest, "old-dir")), []);
  });
});

Deno.test("a duplicate member name is refused and the first copy is kept", async () => {
  await withTempRoot(async (_root, dest) => {
    const archive = await tarGz([
      { name: "dup.txt", data: "first" },
      { name: "dup.txt", data: "second, longer than the first" },
      { name: "./dup.txt", data: "third, spelled differently" },
      { name: "dup.txt/child", data: "under a file" },
      { name: "after.txt", data: "after" },
    ]);

    const result = await extractTarGz(whole(archive), dest);

    assert.deepEqual(result.files, ["dup.txt", "after.txt"]);
    assert.equal(await Deno.readTextFile(join(dest, "dup.txt")), "first");
    assert.equal(await Deno.readTextFile(join(dest, "after.txt")), "after");
    assert.deepEqual(result.refused.map((r) => r.name), ["dup.txt", "./dup.txt", "dup.txt/child"]);
    assert.match(result.refused[0].reason, /duplicate.*first copy was kept/);
    assert.match(result.refused[1].reason, /duplicate/);
    assert.match(result.refused[2].reason, /is a file/);
  });
});

Deno.test("a decompression bomb stops at maxTotalBytes; disk use stays bounded", async () => {
  await withTempRoot(async (_root, dest) => {
    const zeros = new Uint8Array(256 * 1024);
    const entries = Array.from({ length: 8 }, (_, i) => ({ name: `zeros-${i}.bin`, data: zeros }));
    const archive = await tarGz(entries);
    assert.ok(archive.length < 16 * 1024, "2 MiB of zeros compresses to a few KiB");
    const limit = 600 * 1024;

    await assertExtractError(
      extractTarGz(whole(archive), dest, { maxTotalBytes: limit }),
      /^report archive is too large: .*614400-byte limit/,
    );

    let used = 0;
    for await (const entry of Deno.readDir(dest)) {
      used += (await Deno.stat(join(dest, entry.name))).size;
    }
    assert.ok(used <= limit, `${used} bytes on disk`);
    assert.deepEqual(await listTree(dest), ["zeros-0.bin file", "zeros-1.bin file"]);
    assert.equal(used, 2 * zeros.length, "the files written before the limit are complete");
  });
});

Deno.test("maxEntryBytes and maxEntries stop extraction before the offending member", async () => {
  await withTempRoot(async (root) => {
    const huge = await tarGz([{ name: "huge.bin", data: new Uint8Array(4 * 2 ** 20) }]);
    const hugeDest = join(root, "huge");
    await assertExtractError(
      extractTarGz(whole(huge), hugeDest, { maxEntryBytes: 2 ** 20 }),
      /too large: entry 1 \("huge.bin"\) holds 4194304 bytes/,
    );
    assert.deepEqual(await listTree(hugeDest), []);

    const many = await tarGz(Array.from({ length: 5 }, (_, i) => ({ name: `f${i}`, data: "x" })));
    const manyDest = join(root, "many");
    await assertExtractError(
      extractTarGz(whole(many), manyDest, { maxEntries: 3 }),
      /too large: it has more than 3 entries/,
    );
    assert.deepEqual(await listTree(manyDest), ["f0 file", "f1 file", "f2 file"]);
  });
});

Deno.test("a truncated gzip stream is a clear error and leaves no half-written file", async () => {
  await withTempRoot(async (_root, dest) => {
    const first = randomBytes(64 * 1024, 3);
    const second = randomBytes(64 * 1024, 4);
    const archive = await tarGz([{ name: "a.bin", data: first }, { name: "b.bin", data: second }]);

    await assertExtractError(
      extractTarGz(whole(archive.subarray(0, Math.floor(archive.length * 0.7))), dest),
      /^report archive is truncated: /,
    );

    // Whether a.bin got out first depends on when the gzip error overtakes the
    // data; what must hold is that no half-written file is left behind.
    const left = await listTree(dest);
    assert.ok(!left.includes("b.bin file"), "the half-written b.bin was removed");
    for (const line of left) assert.equal(line, "a.bin file");
    if (left.length > 0) assert.deepEqual(await Deno.readFile(join(dest, "a.bin")), first);
  });
});

Deno.test("damage to the gzip stream after the end of the tar is still detected", async () => {
  await withTempRoot(async (root) => {
    const archive = await tarGz([{ name: "a.txt", data: "a" }]);
    const badCrc = archive.slice();
    badCrc[badCrc.length - 8] ^= 0xff; // first byte of the CRC-32 in gzip's trailer
    await assertExtractError(
      extractTarGz(whole(badCrc), join(root, "crc")),
      /^report archive is (corrupt|truncated): .*checksum/,
    );
    const trailing = new Uint8Array([...archive, ...encoder.encode("junk after the gzip stream")]);
    await assertExtractError(
      extractTarGz(whole(trailing), join(root, "trailing")),
      /^report archive is corrupt: unexpected data after the gzip stream$/,
    );
  });
});

Deno.test("a tar cut short inside a valid gzip names the entry that is incomplete", async () => {
  await withTempRoot(async (_root, dest) => {
    const archive = tar([{ name: "a.txt", data: "a" }, {
      name: "b.bin",
      data: randomBytes(4096, 5),
    }]);

    await assertExtractError(
      extractTarGz(whole(await gzip(archive.slice(0, 512 * 2 + 512 + 1000))), dest),
      /^report archive is truncated: entry 2 \("b.bin"\) ends after 1000 of 4096 bytes$/,
    );
    assert.deepEqual(await listTree(dest), ["a.txt file"]);
  });
});

Deno.test("input that is not gzip, or is empty, is a clear error and writes nothing", async () => {
  await withTempRoot(async (root) => {
    const zip = encoder.encode("PK\u0003\u0004 this is a zip file, not a tar.gz");
    await assertExtractError(
      extractTarGz(chunked(zip, () => 1), join(root, "zip")),
      /^report archive is not a gzip stream \(it starts with 50 4b "PK"\)$/,
    );
    await assertExtractError(
      extractTarGz(whole(new Uint8Array(0)), join(root, "empty")),
      /^report archive is empty/,
    );
    const html = await gzip(encoder.encode(`<html>${"an error page ".repeat(100)}</html>`));
    await assertExtractError(
      extractTarGz(whole(html), join(root, "html")),
      /^report archive is corrupt: bad tar header checksum at entry 1$/,
    );
    assert.deepEqual(await listTree(root), ["empty dir", "html dir", "zip dir"]);
  });
});

Deno.test("a header with a bad checksum stops extraction and names the entry", async () => {
  await withTempRoot(async (_root, dest) => {
    const entries = [
      { name: "one.txt", data: "1" },
      { name: "two.txt", data: "2" },
      { name: "three.txt", data: "3" },
    ];
    const archive = tar(entries);
    archive[headerOffsets(entries)[1]] = "T".charCodeAt(0); // "two.txt" becomes "Two.txt"

    await assertExtractError(
      extractTarGz(whole(await gzip(archive)), dest),
      /^report archive is corrupt: bad tar header checksum at entry 2$/,
    );
    assert.deepEqual(await listTree(dest), ["one.txt file"]);
  });
});

Deno.test("a source stream that fails midway is reported as unreadable", async () => {
  await withTempRoot(async (_root, dest) => {
    const archive = await tarGz([{ name: "a.bin", data: randomBytes(100_000, 6) }]);
    const failing = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(archive.slice(0, 50_000));
        controller.error(new Error("connection reset by peer"));
      },
    });

    await assertExtractError(
      extractTarGz(failing, dest),
      /^report archive could not be read: connection reset by peer$/,
    );
    assert.deepEqual(await listTree(dest), []);
  });
});
