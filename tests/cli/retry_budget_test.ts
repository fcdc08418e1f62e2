// Issue 17: one retry budget per file, and targets that do not wait on each other. Every send
// of a file streams all of it, so a file whose uploads all fail is sent at most UPLOAD_SENDS
// times in all (once 3 uploads × 6 HTTP tries = 18); and a target that stops answering
// mid-run holds back only its own files, never the verdicts of files on a healthy target.
import assert from "node:assert/strict";
import { UPLOAD_SENDS } from "../../lib/pipeline/upload_poll.ts";
import { startEmulator } from "../../lib/emulator/mod.ts";
import {
  CA_FILE,
  captureScan,
  eventually,
  fastFlags,
  injectFaults,
  listFiles,
  scanFolders,
  sortFlags,
  tempDir,
  withEmulator,
  within,
  writeTree,
} from "../helpers.ts";

Deno.test("a file whose every upload is answered 500 is sent at most 4 times, then errors", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "a.txt": "never accepted" });
  await withEmulator({}, async (emulator) => {
    await injectFaults(emulator.url, [{ kind: "http500", path: "upload", times: 100 }]);
    const run = await captureScan([...sortFlags(f), ...fastFlags(emulator.port)]);
    const said = [...run.out, ...run.err].join("\n");
    assert.equal(run.code, 2, said);
    assert.equal(UPLOAD_SENDS, 4);
    // Only uploads meet the faults: each one consumed is one send of the file.
    assert.equal(emulator.stats().faults_injected, UPLOAD_SENDS, said);
    assert.equal(emulator.stats().uploads, 0);
    assert.deepEqual(await listFiles(f.error), ["a.txt"]);
    assert.match(said, /ERROR\s+a\.txt .*upload failed: .*HTTP 500/);
  });
});

/** A TCP relay to `port` that can stop passing bytes (a target that stops answering) and resume. */
class FreezableRelay {
  readonly #listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  readonly #conns = new Set<Deno.Conn>();
  readonly #tasks = new Set<Promise<void>>();
  #gate?: PromiseWithResolvers<void>;

  constructor(readonly target: number) {
    this.#tasks.add(this.#accept());
  }

  get port(): number {
    return this.#listener.addr.port;
  }

  freeze(): void {
    this.#gate ??= Promise.withResolvers<void>();
  }

  release(): void {
    this.#gate?.resolve();
    this.#gate = undefined;
  }

  async #accept(): Promise<void> {
    for await (const conn of this.#listener) {
      const upstream = await Deno.connect({ hostname: "127.0.0.1", port: this.target });
      this.#conns.add(conn).add(upstream);
      this.#tasks.add(this.#pipe(conn, upstream)).add(this.#pipe(upstream, conn));
    }
  }

  async #pipe(from: Deno.Conn, to: Deno.Conn): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    try {
      for (let n; (n = await from.read(buffer)) !== null;) {
        while (this.#gate) await this.#gate.promise;
        for (let at = 0; at < n;) at += await to.write(buffer.subarray(at, n));
      }
    } catch { /* either side went away */ }
    for (const conn of [from, to]) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  }

  async close(): Promise<void> {
    this.release();
    this.#listener.close();
    for (const conn of this.#conns) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
    await Promise.all(this.#tasks);
  }
}

Deno.test("a target that stops answering mid-run does not hold back the other's verdicts", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  const tree: Record<string, string> = {};
  for (let i = 0; i < 6; i++) tree[`f${i}.txt`] = `file number ${i}\n`;
  await writeTree(f.input, tree);
  // Verdicts take a while on the healthy target, so its files are pending when the other
  // stops; on that one they come only when the test moves its clock, after the release.
  const healthy = await startEmulator({ port: 0, emulationMs: 1500, earlyMs: 10 });
  const stopping = await startEmulator({ port: 0, emulationMs: 3_600_000, earlyMs: 10 });
  const relay = new FreezableRelay(stopping.port);
  try {
    const argv = [
      ...sortFlags(f),
      ...["--ip", `127.0.0.1:${healthy.port}`, "--ip", `127.0.0.1:${relay.port}`],
      ...["--ca-cert", CA_FILE, "--poll-interval", "0.05", "--timeout", "120"],
      // The hung target's requests wait, not time out, while the other's files settle.
      ...["--request-timeout", "120"],
    ];
    const run = captureScan(argv);
    // Frozen once a file of its own was polled (after the preflight's and the cache query's
    // queries): its poll answers stop coming, and its files are polled again while it hangs.
    await eventually(60, "files uploaded to both targets and polled on the stopping one", () => {
      const total = healthy.stats().uploads + stopping.stats().uploads;
      return total === 6 && healthy.stats().uploads > 0 && stopping.stats().queries >= 3;
    });
    relay.freeze();
    const onHealthy = healthy.stats().uploads;
    await eventually(60, "the healthy target's files settled", async () => {
      return (await listFiles(f.out)).length === onHealthy;
    });
    stopping.advanceClock(3_600_000);
    relay.release();
    const { code, out, err } = await within(120, run);
    assert.equal(code, 0, [...out, ...err].join("\n"));
    assert.deepEqual(await listFiles(f.out), Object.keys(tree).sort());
    assert.deepEqual(await listFiles(f.input), []);
  } finally {
    await relay.close();
    await healthy.close();
    await stopping.close();
  }
});
