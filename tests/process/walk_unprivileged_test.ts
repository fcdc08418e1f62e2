// An unreadable folder as an ordinary user sees it. Root reads any folder, so when the tests run
// as root (as CI does) the walk runs in a subprocess that first drops to nobody with setpriv,
// hence --allow-run here: the expectation is the same for every runner.
import assert from "node:assert/strict";
import { cp } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT, tempDir, within } from "../helpers.ts";
import { IS_ROOT } from "./cli.ts";

/** Nobody: an unprivileged user every Linux system has. */
const NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];

/** A Deno that nobody may run: this one, or a copy in `scratch` if its folder is private. */
async function denoForNobody(scratch: string): Promise<string> {
  const probe = await new Deno.Command(NOBODY[0], {
    args: [...NOBODY.slice(1), "test", "-x", Deno.execPath()],
  }).output();
  if (probe.success) return Deno.execPath();
  const copy = join(scratch, "deno");
  await Deno.copyFile(Deno.execPath(), copy);
  await Deno.chmod(copy, 0o755);
  return copy;
}

/**
 * Walks `root` in a subprocess (as nobody when we are root): one `kind relPath: reason` a line.
 * The walk runs from a copy of lib/ in `scratch`, which nobody can read wherever the checkout is
 * (a checkout under /root is private to root).
 */
async function walkUnprivileged(root: string, scratch: string): Promise<string[]> {
  await cp(join(ROOT, "lib"), join(scratch, "lib"), { recursive: true });
  const walkUrl = pathToFileURL(join(scratch, "lib/pipeline/walk.ts")).href;
  const script = `import { walk } from ${JSON.stringify(walkUrl)};
for await (const i of walk({ root: ${JSON.stringify(root)} })) {
  console.log(i.kind === "file" ? \`file \${i.relPath}\` : \`skipped \${i.relPath}: \${i.reason}\`);
}`;
  const deno = [
    IS_ROOT ? await denoForNobody(scratch) : Deno.execPath(),
    "run",
    "--no-prompt",
    "--no-config",
    "--allow-read",
    "--ext=ts",
    "-",
  ];
  const [command, ...args] = IS_ROOT ? [...NOBODY, ...deno] : deno;
  const child = new Deno.Command(command, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", DENO_DIR: join(scratch, "deno-dir") },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const { code, stdout, stderr } = await within(60, child.output());
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  assert.equal(code, 0, text(stderr));
  return text(stdout).trimEnd().split("\n");
}

Deno.test("an unreadable folder is reported and the walk goes on", async () => {
  await using dir = await tempDir();
  // Nobody must reach the tree and the copy of lib/: the temp folder is made private to its owner.
  await Deno.chmod(dir.path, 0o755);
  const root = join(dir.path, "root");
  for (const relPath of ["a.txt", "locked/secret.txt", "z.txt"]) {
    await Deno.mkdir(dirname(join(root, relPath)), { recursive: true });
    await Deno.writeTextFile(join(root, relPath), `content of ${relPath}`);
  }
  const locked = join(root, "locked");
  await Deno.chmod(locked, 0o000);
  try {
    assert.deepEqual(await walkUnprivileged(root, dir.path), [
      "file a.txt",
      "skipped locked: cannot read directory: Permission denied",
      "file z.txt",
    ]);
  } finally {
    await Deno.chmod(locked, 0o700);
  }
});
