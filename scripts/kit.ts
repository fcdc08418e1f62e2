/**
 * `deno task kit [--out DIR]`: writes `DIR/te-scan-offline.tar.gz` (default
 * `dist/`) and its `.sha256`, for air-gapped hosts with no Deno, Node or
 * network, where `deno compile` cannot build a binary (its runtime base comes
 * from dl.deno.land). The archive holds one folder, `te-scan-offline/`:
 *
 * - `te-scan.js`, the bundle (`scripts/bundle.ts`);
 * - `deno`, the native Deno executable running this task (~95 MB; not npm's
 *   node wrapper, which would need Node on the host);
 * - `te-scan`, the launcher (`scripts/kit-launcher.sh`), which runs the bundle
 *   with that Deno and exactly the three permissions and the V8 flag;
 * - `README.md` and `contrib/` (the systemd unit and a config file the README's
 *   service section uses).
 *
 * It also writes `DIR/te-scan`, the same kit as one file to carry: the sh
 * header `scripts/kit-single.sh` followed by the archive's bytes, which
 * unpacks itself once into a cache and runs the launcher (see that header).
 *
 * The kit is run once (`te-scan --version`) before it is packed. Packing uses
 * the system's `tar` and gzip (about 5 s, ~42 MB).
 *
 * @example
 * ```sh
 * ./scripts/deno task kit
 * # on the host: tar xzf te-scan-offline.tar.gz && cd te-scan-offline && ./te-scan demo
 * ```
 * @module
 */

import { createHash } from "node:crypto";
import { basename, join } from "node:path";
import { bundle } from "./bundle.ts";
import { fail, outDir, output, ROOT, RUN_FLAGS, shown, size, teScanVersion } from "./ship.ts";

/** The archive's file name, without `.tar.gz`, and its one top folder. */
export const KIT = "te-scan-offline";
const LAUNCHER = new URL("./kit-launcher.sh", import.meta.url);
const SINGLE_HEADER = new URL("./kit-single.sh", import.meta.url);
/** The single file's name in the output folder. */
export const SINGLE = "te-scan";

/** The native executable of the running Deno; throws when it is not an ELF file. */
async function nativeDeno(): Promise<string> {
  const path = await Deno.realPath(Deno.execPath());
  using file = await Deno.open(path);
  const head = new Uint8Array(4);
  await file.read(head);
  if (head.join() !== "127,69,76,70") {
    throw new Error(`${path} is not a native Deno executable; run this task with the deno binary`);
  }
  return path;
}

/** The launcher's text, checked to carry the shared flags. */
async function launcherText(): Promise<string> {
  const text = await Deno.readTextFile(LAUNCHER);
  const command = text.replaceAll("\\\n", " ").replace(/ +/g, " ");
  if (!command.includes(`run --no-config ${RUN_FLAGS.join(" ")} "$kit/te-scan.js"`)) {
    throw new Error(`scripts/kit-launcher.sh does not run te-scan.js with ${RUN_FLAGS.join(" ")}`);
  }
  return text;
}

/** Fills `stage/te-scan-offline/`, runs it once; returns what `--version` printed. */
async function stageKit(stage: string): Promise<string> {
  const dir = join(stage, KIT);
  await Deno.mkdir(dir);
  await Deno.symlink(await nativeDeno(), join(dir, "deno")); // tar -h stores the file itself
  await Deno.writeTextFile(join(dir, "te-scan"), await launcherText(), { mode: 0o755 });
  await Deno.chmod(join(dir, "te-scan"), 0o755);
  await bundle(join(dir, "te-scan.js"));
  // The service section of the README points at these: they travel with the kit.
  await Deno.copyFile(join(ROOT, "README.md"), join(dir, "README.md"));
  await Deno.mkdir(join(dir, "contrib"));
  for await (const entry of Deno.readDir(join(ROOT, "contrib"))) {
    if (entry.isFile) {
      await Deno.copyFile(join(ROOT, "contrib", entry.name), join(dir, "contrib", entry.name));
    }
  }
  return await teScanVersion(
    join(dir, "te-scan"),
    [],
    (printed) => `the kit's launcher does not run: ${printed}`,
    { env: { DENO_DIR: join(stage, "deno-dir") } }, // not inside the kit: it would be packed
  );
}

/** Packs `stage/te-scan-offline/` into `archive`, files owned by root. */
async function pack(stage: string, archive: string): Promise<void> {
  const packed = await output("tar", [
    "-czhf",
    archive,
    "--owner=0",
    "--group=0",
    "--numeric-owner",
    "-C",
    stage,
    KIT,
  ], { timeoutMs: 300_000 });
  if (!packed.ok) throw new Error(`tar failed: ${packed.stderr.trim()}`);
}

/** The SHA-256 of a file, in hex. */
async function sha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path);
  const buffer = new Uint8Array(1 << 20);
  for (let n; (n = await file.read(buffer)) !== null;) hash.update(buffer.subarray(0, n));
  return hash.digest("hex");
}

/**
 * Writes `path`: the single file's sh header, with the archive's SHA-256 and
 * the byte the archive starts at filled in, followed by the archive.
 */
async function writeSingle(archive: string, digest: string, path: string): Promise<void> {
  const template = await Deno.readTextFile(SINGLE_HEADER);
  // A fixed-width offset: filling it in does not move the byte it names.
  const placeholder = "0".repeat(10);
  const sized = template.replace("@PAYLOAD_SHA256@", digest).replace(
    "@PAYLOAD_OFFSET@",
    placeholder,
  );
  const header = new TextEncoder().encode(
    sized.replace(
      placeholder,
      String(new TextEncoder().encode(sized).length + 1).padStart(10, "0"),
    ),
  );
  // ~42 MB held once, at build time: simpler than streaming behind a header.
  const payload = await Deno.readFile(archive);
  const single = new Uint8Array(header.length + payload.length);
  single.set(header);
  single.set(payload, header.length);
  await Deno.writeFile(path, single, { createNew: true, mode: 0o755 });
  await Deno.chmod(path, 0o755);
}

/** Builds the kit into `out`; returns the archive's path, digest and te-scan's version. */
export async function makeKit(
  out: string,
): Promise<{ archive: string; digest: string; version: string }> {
  await Deno.mkdir(out, { recursive: true });
  const archive = join(out, `${KIT}.tar.gz`);
  const stage = await Deno.makeTempDir({ dir: out, prefix: `.${KIT}-` });
  try {
    const version = await stageKit(stage);
    await pack(stage, join(stage, "kit.tar.gz"));
    const digest = await sha256(join(stage, "kit.tar.gz"));
    await writeSingle(join(stage, "kit.tar.gz"), digest, join(stage, SINGLE));
    await Deno.rename(join(stage, SINGLE), join(out, SINGLE));
    await Deno.rename(join(stage, "kit.tar.gz"), archive);
    await Deno.writeTextFile(`${archive}.sha256`, `${digest}  ${basename(archive)}\n`);
    return { archive, digest, version };
  } finally {
    await Deno.remove(stage, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const out = outDir("kit");
  const kit = await makeKit(out).catch((error) => fail("kit", error.message));
  const { deno } = Deno.version;
  console.log(
    `kit: wrote ${shown(kit.archive)} (${size((await Deno.stat(kit.archive)).size)}; ` +
      `${kit.version} with Deno ${deno} for ${Deno.build.target}; sha256 ${kit.digest})`,
  );
  console.log(
    `kit: carry it and its .sha256 to the host; there: sha256sum -c ${KIT}.tar.gz.sha256 && ` +
      `tar xzf ${KIT}.tar.gz && cd ${KIT} && ./te-scan demo`,
  );
  console.log(
    `kit: or carry the one file ${shown(join(out, SINGLE))} (only sh, tar, gzip and coreutils ` +
      `needed there): ./te-scan demo`,
  );
}
