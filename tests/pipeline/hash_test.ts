import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { FileChangedError } from "../../lib/fs/identity.ts";
import { FileVanishedError, hashFile, hashStage } from "../../lib/pipeline/hash.ts";
import type { WalkItem } from "../../lib/pipeline/walk.ts";
import { withTempDir } from "../helpers.ts";

/** Deterministic bytes that differ across 1 MiB read boundaries. */
function patternedBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = 0x12345678;
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

Deno.test("hashes a small file to the published MD5 and SHA-1 of 'abc'", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "abc.txt");
    await Deno.writeTextFile(path, "abc");
    const { identity, ...digests } = await hashFile(path);
    assert.equal(identity.ino, (await Deno.stat(path)).ino, "the version hashed is recorded");
    assert.deepEqual(digests, {
      md5: "900150983cd24fb0d6963f7d28e17f72",
      sha1: "a9993e364706816aba3e25717850c26c9cd0d89d",
      size: 3,
    });
  });
});

Deno.test("hashes an empty file", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "empty");
    await Deno.writeFile(path, new Uint8Array());
    const { identity: _, ...digests } = await hashFile(path);
    assert.deepEqual(digests, {
      md5: "d41d8cd98f00b204e9800998ecf8427e",
      sha1: "da39a3ee5e6b4b0d3255bfef95601890afd80709",
      size: 0,
    });
  });
});

Deno.test("hashes a file spanning several reads like a whole-file digest", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "big.bin");
    await Deno.writeFile(path, patternedBytes(3 * (1 << 20) + 17));
    const whole = await Deno.readFile(path);
    const expected = {
      md5: createHash("md5").update(whole).digest("hex"),
      sha1: createHash("sha1").update(whole).digest("hex"),
      size: whole.length,
    };
    const info = await Deno.stat(path);
    const { identity: _, ...digests } = await hashFile(path, {
      expectedSize: info.size,
      expectedMtimeMs: info.mtime?.getTime(),
    });
    assert.deepEqual(digests, expected);
  });
});

Deno.test("a file whose size moved since the walk saw it is reported as changed", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "growing.log");
    await Deno.writeTextFile(path, "first line\n");
    await assert.rejects(
      hashFile(path, { expectedSize: 5 }),
      (error: unknown) =>
        error instanceof FileChangedError &&
        error.message === `changed while being hashed: ${path}`,
    );
  });
});

Deno.test("a file rewritten since the walk saw it (same size) is reported as changed", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "report.docx");
    await Deno.writeTextFile(path, "version 1");
    await Deno.utime(path, new Date("2024-01-01T00:00:00Z"), new Date("2024-01-01T00:00:00Z"));
    const seenMtimeMs = new Date("2023-06-01T00:00:00Z").getTime();
    await assert.rejects(
      hashFile(path, { expectedSize: 9, expectedMtimeMs: seenMtimeMs }),
      FileChangedError,
    );
  });
});

Deno.test("a missing file gives a one-line 'vanished before hashing' error", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "gone.docx");
    await assert.rejects(
      hashFile(path),
      (error: unknown) =>
        error instanceof FileVanishedError &&
        error.message === `vanished before hashing: ${path}`,
    );
  });
});

Deno.test("an unreadable path gives a one-line 'cannot read' error with the reason", async () => {
  await withTempDir(async (dir) => {
    // A folder is refused on every filesystem, even as root, before any read.
    await assert.rejects(hashFile(dir), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.equal(error.message, `cannot read: ${dir}: not a regular file (a folder)`);
      return true;
    });
  });
});

Deno.test("hash stage: a vanished file and a changing file are settled as errors, left in place", async () => {
  const root = await Deno.makeTempDir();
  try {
    const steady = join(root, "steady.txt");
    const growing = join(root, "growing.log");
    await Deno.writeTextFile(steady, "abc");
    await Deno.writeTextFile(growing, "now longer than the walk saw");
    const mtime = (path: string) => Deno.statSync(path).mtime?.getTime() ?? 0;
    const walked: WalkItem[] = [
      { kind: "file", path: steady, relPath: "steady.txt", size: 3, mtimeMs: mtime(steady) },
      { kind: "file", path: join(root, "gone.txt"), relPath: "gone.txt", size: 1, mtimeMs: 0 },
      // The walk saw 4 bytes; the file has grown since: still being written.
      { kind: "file", path: growing, relPath: "growing.log", size: 4, mtimeMs: mtime(growing) },
      { kind: "skipped", path: join(root, "fifo"), relPath: "fifo", reason: "FIFO" },
    ];
    const items = await Array.fromAsync(ReadableStream.from(walked).pipeThrough(hashStage(2)));
    const byPath = new Map(items.map((item) => [item.file.relPath, item]));
    const job = byPath.get("steady.txt");
    assert.ok(job?.kind === "job");
    assert.equal(job.file.sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
    const gone = byPath.get("gone.txt");
    assert.ok(gone?.kind === "settled");
    assert.equal(gone.outcome.state, "error");
    assert.match(gone.outcome.reason ?? "", /vanished before hashing/);
    const growingItem = byPath.get("growing.log");
    assert.ok(growingItem?.kind === "settled");
    assert.equal(growingItem.outcome.keepInPlace, true);
    assert.match(growingItem.outcome.reason ?? "", /changed while being hashed/);
    const fifo = byPath.get("fifo");
    assert.ok(fifo?.kind === "settled");
    assert.deepEqual([fifo.outcome.state, fifo.outcome.reason], ["skipped", "FIFO"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
