/**
 * `deno task install [--root DIR]`: makes `te-scan` a command, so the
 * README's and `--help`'s `te-scan …` lines work as written from any folder.
 *
 * It runs `deno install -g` into `--root` (default: Deno's usual place,
 * `$DENO_INSTALL_ROOT` or `~/.deno`), which writes `ROOT/bin/te-scan`, a
 * small shell script running this checkout's main.ts with exactly the three
 * permissions and the V8 flag. Two fixes to what `deno install -g` does alone:
 *
 * - `--config` names this project's deno.json: a global install does not
 *   look for one, so an import map in it would be lost (deno-notes §7). And
 *   the script reads the checkout's deno.json itself, not the copy `deno
 *   install` keeps beside it, where relative entries would point elsewhere.
 * - The script runs the Deno that ran this task, by its full path, where
 *   `deno install` writes a bare `deno`: with Deno from `scripts/deno` (npm,
 *   `.tools/`) there is no `deno` on PATH for it to find.
 *
 * The command is run once (`--version`); the task then says where it is and,
 * when its folder is not on PATH, the line to add.
 *
 * @example
 * ```sh
 * ./scripts/deno task install
 * ./scripts/deno task install --root /opt/te-scan   # /opt/te-scan/bin/te-scan
 * ```
 * @module
 */

import { delimiter, join, resolve } from "node:path";
import {
  CONFIG,
  deno,
  fail,
  lastLine,
  MAIN,
  parseTaskArgs,
  RUN_FLAGS,
  shQuote,
  teScanVersion,
} from "./ship.ts";

/** Where `deno install -g` puts commands by default: `$DENO_INSTALL_ROOT`, else `~/.deno`. */
function defaultRoot(): string {
  const root = Deno.env.get("DENO_INSTALL_ROOT");
  if (root) return root;
  const home = Deno.env.get("HOME");
  if (!home) throw new Error("HOME is not set: name the install root with --root DIR");
  return join(home, ".deno");
}

/** Installs `root/bin/te-scan`; returns its path and what its `--version` printed. */
async function install(root: string): Promise<{ command: string; version: string }> {
  const installed = await deno([
    "install",
    "--global",
    "--force",
    "--root",
    root,
    "--name",
    "te-scan",
    ...RUN_FLAGS,
    "--config",
    CONFIG,
    MAIN,
  ]);
  if (!installed.ok) throw new Error(`deno install failed: ${lastLine(installed.stderr)}`);
  const command = join(root, "bin", "te-scan");
  const script = await Deno.readTextFile(command);
  const exec = /^exec deno (run .*) --config ('[^']*'|\S+) (.*)$/m.exec(script);
  if (!exec) throw new Error(`${command} does not start deno as expected: ${script}`);
  const line = `exec ${shQuote(Deno.execPath())} ${exec[1]} --config ${shQuote(CONFIG)} ${exec[3]}`;
  await Deno.writeTextFile(command, script.replace(exec[0], line));
  const version = await teScanVersion(
    command,
    [],
    (printed) => `${command} does not run: ${printed}`,
  );
  return { command, version };
}

/** Says where the command went, and the PATH line to add when its folder is not on PATH. */
function report(root: string, command: string, version: string): void {
  console.log(
    `install: ${version} is ${command} (this checkout's main.ts, run by ` +
      `${Deno.execPath()} with ${RUN_FLAGS.join(" ")})`,
  );
  const bin = join(root, "bin");
  const onPath = (Deno.env.get("PATH") ?? "").split(delimiter).some((dir) => resolve(dir) === bin);
  if (onPath) {
    console.log("install: te-scan is on your PATH; try: te-scan demo");
  } else {
    console.log(
      `install: ${bin} is not on your PATH; add it (e.g. in ~/.profile): ` +
        `export PATH="${bin}:$PATH"`,
    );
  }
}

if (import.meta.main) {
  const args = parseTaskArgs("install", ["root"]);
  try {
    const root = resolve(args.root ?? defaultRoot());
    const { command, version } = await install(root);
    report(root, command, version);
  } catch (error) {
    fail("install", error instanceof Error ? error.message : String(error));
  }
}
