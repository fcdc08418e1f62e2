/**
 * Driving the CLI as a user does: a subprocess with exactly the three
 * permissions, and the emulator as a process of its own.
 *
 * @module
 */

import { join } from "node:path";
import { ROOT, within } from "../helpers.ts";

export const MAIN = join(ROOT, "main.ts");
export const PERMISSIONS = ["--no-prompt", "--allow-net", "--allow-read", "--allow-write"];

export function teScan(args: string[]): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMISSIONS, MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env: { NO_COLOR: "1" },
  });
}

export async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const result = await within(300, teScan(args).output());
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: result.code, out: decode(result.stdout), err: decode(result.stderr) };
}

/** Reads stdout until a line matching `pattern` appears (at most 120 s). */
export async function waitForLine(
  stream: ReadableStream<Uint8Array>,
  pattern: RegExp,
): Promise<{ line: string; rest: ReadableStreamDefaultReader<string> }> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const found = async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended before ${pattern}: ${buffer}`);
      buffer += value;
      const line = buffer.split("\n").find((l) => pattern.test(l));
      if (line) return { line, rest: reader };
    }
  };
  return await within(120, found());
}

export async function* readAll(
  reader: ReadableStreamDefaultReader<string>,
): AsyncGenerator<string> {
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    yield value;
  }
}

/** `te-scan emulator` as a process; disposing of it stops it with SIGTERM. */
export async function startEmulatorProcess(extra: string[] = []) {
  const child = teScan(["emulator", "--host", "127.0.0.1", "--port", "0", ...extra]).spawn();
  const { line, rest } = await waitForLine(child.stdout, /listening on/);
  return {
    child,
    line,
    rest,
    port: Number(/:(\d+)$/.exec(line)![1]),
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await within(30, child.status);
      await rest.cancel();
      await child.stderr.cancel();
    },
  };
}

/** Whether the tests run as root (CI does): tests that need an ordinary user then drop to one. */
export const IS_ROOT = new TextDecoder().decode(
  (await new Deno.Command("id", { args: ["-u"] }).output()).stdout,
).trim() === "0";

/** Mounts a tmpfs of `size` (e.g. "64m") at `path`; needs root, and throws without it. */
export async function mountTmpfs(path: string, size: string): Promise<void> {
  const mounted = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", path],
  }).output();
  if (!mounted.success) {
    throw new Error(
      `cannot mount a tmpfs at ${path} (run the tests as root, as CI does): ${
        new TextDecoder().decode(mounted.stderr)
      }`,
    );
  }
}

/** Unmounts what `mountTmpfs` mounted. */
export async function unmount(path: string): Promise<void> {
  await new Deno.Command("umount", { args: [path] }).output();
}
