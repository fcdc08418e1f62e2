// An unreadable folder as an ordinary user sees it. Root reads any folder, so when the tests run
// as root (as CI does) the walk runs in a subprocess that first drops to nobody with setpriv,
// hence --allow-run here: the expectation is the same for every runner.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT, tempDir, within } from "../helpers.ts";
import { IS_ROOT } from "./cli.ts";

/** Nobody: an unprivileged user every Linux system has. */
const NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];

/** Walks `root` in a subprocess (as nobody when we are root): one `kind relPath: reason` a line. */
async function walkUnprivileged(root: string, denoDir: string): Promise<string[]> {
  const walkUrl = pathToFileURL(join(ROOT, "lib/pipeline/walk.ts")).href;
  const script = `import { walk } from ${JSON.stringify(walkUrl)};
for await (const i of walk({ root: ${JSON.stringify(root)} })) {
  console.log(i.kind === "file" ? \`file \${i.relPath}\` : \`skipped \${i.relPath}: \${i.reason}\`);
}`;
  const deno = [
    Deno.execPath(),
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
    env: { NO_COLOR: "1", DENO_DIR: denoDir },
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
  // Nobody must reach the tree: the temp folder is made private to its owner.
  await Deno.chmod(dir.path, 0o755);
  const root = join(dir.path, "root");
  for (const relPath of ["a.txt", "locked/secret.txt", "z.txt"]) {
    await Deno.mkdir(dirname(join(root, relPath)), { recursive: true });
    await Deno.writeTextFile(join(root, relPath), `content of ${relPath}`);
  }
  const locked = join(root, "locked");
  await Deno.chmod(locked, 0o000);
  try {
    assert.deepEqual(await walkUnprivileged(root, join(dir.path, "deno-dir")), [
      "file a.txt",
      "skipped locked: cannot read directory: Permission denied",
      "file z.txt",
    ]);
  } finally {
    await Deno.chmod(locked, 0o700);
  }
});
