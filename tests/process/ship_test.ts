// te-scan as a command and as something to carry: the shipping tasks in deno.json, each run as
// a user does, and what they make run from another folder with the fewest tools on PATH.
// Everything is built in, and removed with, a temporary folder.
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT, tempDir, within } from "../helpers.ts";
import { RUN_FLAGS } from "../../scripts/ship.ts";

interface Ran {
  code: number;
  out: string;
  err: string;
}

/** Runs `command` in `cwd`; with `clearEnv`, in only the environment given (NO_COLOR added). */
async function runIn(
  cwd: string,
  command: string,
  args: string[],
  env: Record<string, string>,
  clearEnv = true,
): Promise<Ran> {
  const result = await within(
    600,
    new Deno.Command(command, {
      args,
      cwd,
      clearEnv,
      env: { NO_COLOR: "1", ...env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output(),
  );
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: result.code, out: decode(result.stdout), err: decode(result.stderr) };
}

/** `deno task NAME ARGS…` in the project, as the README says to run it. */
function task(name: string, args: string[], env: Record<string, string> = {}): Promise<Ran> {
  return runIn(ROOT, Deno.execPath(), ["task", name, ...args], env, false);
}

/** A folder of links to exactly `tools` (name → target), to use as the whole PATH. */
async function toolsDir(dir: string, tools: Record<string, string>): Promise<string> {
  const bin = join(dir, "tools");
  await Deno.mkdir(bin);
  for (const [name, target] of Object.entries(tools)) await Deno.symlink(target, join(bin, name));
  for (const name of ["deno", "node", "nodejs", "npm"]) {
    if (!(name in tools)) await assert.rejects(Deno.lstat(join(bin, name)));
  }
  return bin;
}

/** The full path of a system tool (the tests have no access to the environment's PATH). */
function which(name: string): string {
  for (const dir of ["/usr/bin", "/bin", "/usr/local/bin"]) {
    try {
      if (Deno.statSync(join(dir, name)).isFile) return join(dir, name);
    } catch { /* not here */ }
  }
  throw new Error(`no ${name} in /usr/bin, /bin or /usr/local/bin`);
}

/** `text` runs te-scan with exactly the three permissions and the V8 flag. */
function assertRunFlags(text: string): void {
  assert.deepEqual([...new Set(text.match(/--allow-[a-z-]+/g))].sort(), RUN_FLAGS.slice(1));
  assert.ok(text.includes(RUN_FLAGS[0]), `no ${RUN_FLAGS[0]} in ${text}`);
  assert.doesNotMatch(text, /(^|\s)(-A|--unstable\S*)(\s|$)/);
}

/** The demo sorted its tree into `dir`, and said so. */
async function assertDemo(ran: Ran, dir: string): Promise<void> {
  assert.equal(ran.code, 0, ran.err);
  assert.match(ran.out, /^MALICIOUS\s+hr\/payroll-macro\.docm -> .*report:/m);
  assert.match(ran.out, /Where everything went:/);
  assert.ok((await Deno.stat(join(dir, "quarantine", "hr", "payroll-macro.docm"))).isFile);
  assert.ok((await Deno.stat(join(dir, "benign", "hr", "onboarding.txt"))).isFile);
  assert.ok((await Deno.stat(join(dir, "error", "downloads", "firmware.bin"))).isFile);
}

Deno.test("every way of running te-scan carries exactly the three permissions and the V8 flags", async () => {
  const flags = RUN_FLAGS.join(" ");
  const read = (path: string) => Deno.readTextFile(join(ROOT, path));
  const tasks = JSON.parse(await read("deno.json")).tasks;
  for (const name of ["demo", "scan", "emulator"]) {
    assert.ok(tasks[name].startsWith(`deno run ${flags} main.ts`), `deno.json task ${name}`);
  }
  assert.equal((await read("main.ts")).split("\n")[0], `#!/usr/bin/env -S deno run ${flags}`);
  const launcher = (await read("scripts/kit-launcher.sh")).replace(/\\\n\s*/g, "");
  assert.ok(launcher.includes(`run --no-config ${flags} `), "the kit's launcher");
  // The README's own copy-paste lines, wherever it spells the flags out.
  const readme = await read("README.md");
  for (const line of readme.split("\n").filter((l) => l.includes("--v8-flags"))) {
    assert.ok(line.includes(RUN_FLAGS[0]), `README: ${line}`);
  }
});

Deno.test("deno task install: te-scan runs from any folder, with no deno on PATH", async () => {
  await using dir = await tempDir("te-scan-ship-test-");
  const root = join(dir.path, "root");
  const tools = await toolsDir(dir.path, { sh: which("sh") });
  const installed = await task("install", ["--root", root], { PATH: tools });
  assert.equal(installed.code, 0, installed.err);
  const command = join(root, "bin", "te-scan");
  assert.ok(installed.out.includes(`is ${command} `), installed.out);
  assert.ok(installed.out.includes(`export PATH="${join(root, "bin")}:$PATH"`), installed.out);
  assertRunFlags(await Deno.readTextFile(command));

  const version = await runIn(dir.path, command, ["--version"], { PATH: tools });
  assert.equal(version.code, 0, version.err);
  assert.match(version.out, /^te-scan \d+\.\d+\.\d+/);
  const demo = join(dir.path, "demo");
  const ran = await runIn(dir.path, "te-scan", ["demo", "--dir", demo], {
    PATH: `${join(root, "bin")}:${tools}`,
  });
  await assertDemo(ran, demo);
});

Deno.test("deno task bundle: one file that runs the demo by its shebang from elsewhere", async () => {
  await using dir = await tempDir("te-scan-ship-test-");
  // A broken deno.json above the bundle must not stop it (the shebang has --no-config).
  await Deno.writeTextFile(join(dir.path, "deno.json"), "{ not json");
  const out = join(dir.path, "dist");
  const built = await task("bundle", ["--out", out]);
  assert.equal(built.code, 0, built.err);
  const file = join(out, "te-scan.js");
  assert.match(built.out, /wrote .*te-scan\.js \(\d+ KB, te-scan \d/);
  assert.deepEqual((await Array.fromAsync(Deno.readDir(out))).map((e) => e.name), ["te-scan.js"]);
  const text = await Deno.readTextFile(file);
  const shebang = text.slice(0, text.indexOf("\n"));
  assert.match(shebang, /^#!\/usr\/bin\/env -S deno run --no-config /);
  assertRunFlags(shebang);
  const imports = [...text.matchAll(/^\s*(?:import|export)\b[^;"]*?\bfrom\s+"([^"]+)"/gm)];
  assert.ok(imports.length > 0);
  assert.deepEqual(imports.map((m) => m[1]).filter((s) => !s.startsWith("node:")), []);
  assert.ok(((await Deno.stat(file)).mode ?? 0) & 0o100, "not executable");

  const tools = await toolsDir(dir.path, { deno: Deno.execPath() });
  const demo = join(dir.path, "demo");
  await assertDemo(await runIn(dir.path, file, ["demo", "--dir", demo], { PATH: tools }), demo);
});

Deno.test("deno task kit: unpacked anywhere, ./te-scan runs the demo without deno, node or npm", async () => {
  await using dir = await tempDir("te-scan-ship-test-");
  const out = join(dir.path, "dist");
  const built = await task("kit", ["--out", out]);
  assert.equal(built.code, 0, built.err);
  assert.match(
    built.out,
    /wrote .*te-scan-offline\.tar\.gz \([\d.]+ MB; te-scan \d.*sha256 [0-9a-f]{64}/,
  );
  const tar = which("tar");
  const checked = await runIn(out, which("sha256sum"), ["-c", "te-scan-offline.tar.gz.sha256"], {});
  assert.equal(checked.code, 0, checked.out + checked.err);

  const host = join(dir.path, "host");
  await Deno.mkdir(host);
  const unpacked = await runIn(host, tar, ["xzf", join(out, "te-scan-offline.tar.gz")], {});
  assert.equal(unpacked.code, 0, unpacked.err);
  const kit = join(host, "te-scan-offline");
  const names = (await Array.fromAsync(Deno.readDir(kit))).map((e) => e.name).sort();
  assert.deepEqual(names, ["README.md", "contrib", "deno", "te-scan", "te-scan.js"]);
  assert.deepEqual(
    (await Array.fromAsync(Deno.readDir(join(kit, "contrib")))).map((e) => e.name).sort(),
    (await Array.fromAsync(Deno.readDir(join(ROOT, "contrib")))).map((e) => e.name).sort(),
  );
  const deno = await Deno.readFile(join(kit, "deno"));
  assert.deepEqual([...deno.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46], "deno is not an ELF file");
  assert.equal(deno.length, (await Deno.stat(Deno.execPath())).size);
  const launcher = await Deno.readTextFile(join(kit, "te-scan"));
  assertRunFlags(launcher);
  assert.match(launcher, /DENO_NO_UPDATE_CHECK=1 DENO_NO_PROMPT=1/);

  // No deno, node or npm, no HOME: only what the launcher itself calls.
  const tools = await toolsDir(dir.path, { sh: which("sh"), readlink: which("readlink") });
  const demo = join(dir.path, "demo");
  await assertDemo(await runIn(kit, "./te-scan", ["demo", "--dir", demo], { PATH: tools }), demo);
  // Linked onto PATH, it still finds the kit.
  await Deno.symlink(join(kit, "te-scan"), join(tools, "te-scan"));
  const version = await runIn(dir.path, "te-scan", ["--version"], { PATH: tools });
  assert.equal(version.code, 0, version.err);
  assert.match(version.out, /^te-scan \d/);
  await assertSingleFile(dir.path, join(out, "te-scan"));
});

/** Coreutils the single file may use: it must need nothing beyond sh, tar, gzip and these. */
const COREUTILS = [
  "basename",
  "cat",
  "chmod",
  "cp",
  "cut",
  "dirname",
  "env",
  "head",
  "id",
  "ln",
  "ls",
  "mkdir",
  "mktemp",
  "mv",
  "readlink",
  "rm",
  "sha256sum",
  "sort",
  "stat",
  "tail",
  "touch",
  "tr",
  "uname",
  "wc",
];

/** dist/te-scan, copied alone to a host with only sh, tar, gzip and coreutils, runs the demo. */
async function assertSingleFile(root: string, single: string): Promise<void> {
  const links: Record<string, string> = { sh: which("sh"), tar: which("tar"), gzip: which("gzip") };
  for (const name of COREUTILS) links[name] = which(name);
  const bin = await toolsDir(await Deno.makeTempDir({ dir: root }), links);
  const host = join(root, "single-host");
  await Deno.mkdir(host);
  await Deno.copyFile(single, join(host, "te-scan"));
  const demo = join(root, "single-demo");
  await assertDemo(await runIn(host, "./te-scan", ["demo", "--dir", demo], { PATH: bin }), demo);
  const cached = (await Array.fromAsync(Deno.readDir(host))).map((e) => e.name).sort();
  assert.equal(cached.length, 2, `the file and one cache beside it: ${cached}`);
  assert.match(cached[0], /^\.te-scan-[0-9a-f]{16}$/);
  // Two copies started at once, in a fresh folder: both unpack, one rename wins, both run.
  const twins = join(root, "twins");
  await Deno.mkdir(twins);
  await Deno.copyFile(single, join(twins, "te-scan"));
  const both = await Promise.all(
    [1, 2].map(() => runIn(twins, "./te-scan", ["--version"], { PATH: bin })),
  );
  for (const ran of both) {
    assert.equal(ran.code, 0, ran.err);
    assert.match(ran.out, /^te-scan \d/);
  }
  const left = (await Array.fromAsync(Deno.readDir(twins))).map((e) => e.name);
  assert.equal(left.length, 2, `no temporary folder left behind: ${left}`);
}

/** The one line `deno task compile` prints when it has no runtime base (deno's "Task" line aside). */
function reasonLine(ran: Ran): string {
  const lines = ran.err.split("\n").filter((line) => line.trim() && !/^Task compile /.test(line));
  assert.equal(lines.length, 1, ran.err);
  assert.equal(ran.out, "");
  return lines[0];
}

Deno.test("deno task compile: a binary that runs the demo, or one line naming DENORT_BIN", async () => {
  await using dir = await tempDir("te-scan-ship-test-");
  const out = join(dir.path, "dist");
  const built = await task("compile", ["--out", out]);
  if (built.code === 0) {
    const binary = join(out, "te-scan");
    assert.match(built.out, /wrote .*te-scan \([\d.]+ MB, te-scan \d/);
    const demo = join(dir.path, "demo");
    await assertDemo(await runIn(dir.path, binary, ["demo", "--dir", demo], { PATH: "" }), demo);
    return;
  }
  assert.equal(built.code, 1, built.err);
  const line = reasonLine(built);
  assert.match(
    line,
    /^compile: cannot build .*te-scan: .*; set DENORT_BIN to a denort runtime base/,
  );
  assert.ok(line.includes(`Deno ${Deno.version.deno}`), line);
  assert.match(line, /the full deno binary does not work as one/);
  assert.deepEqual(await Array.fromAsync(Deno.readDir(out)).catch(() => []), []);
});

Deno.test("deno task compile refuses a full deno as DENORT_BIN, in one line", async () => {
  await using dir = await tempDir("te-scan-ship-test-");
  const out = join(dir.path, "dist");
  const built = await task("compile", ["--out", out], { DENORT_BIN: Deno.execPath() });
  assert.equal(built.code, 1, built.err);
  assert.match(reasonLine(built), /printed "deno \d+\.\d+\.\d+ .*", not te-scan; set DENORT_BIN/);
  assert.deepEqual((await Array.fromAsync(Deno.readDir(out))).map((e) => e.name), []);
});
