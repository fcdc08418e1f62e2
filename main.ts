#!/usr/bin/env -S deno run --v8-flags=--max-semi-space-size=4,--optimize-for-size --allow-net --allow-read --allow-write
/**
 * te-scan: scan directory trees with Check Point Threat Emulation and sort
 * every file into benign, quarantine or error folders.
 *
 * This file only picks the subcommand and hands over its arguments; `scan`
 * is the default, so te_api's command lines (`-in … -ip …`) work unchanged.
 *
 * @example Scan a folder on an appliance
 * ```sh
 * deno run --allow-net --allow-read --allow-write main.ts --in /drop --ip 10.1.1.5 --jail /q
 * ```
 * @module
 */

import { scanCommand } from "./lib/cli/scan.ts";
import { SCAN_HELP } from "./lib/cli/args.ts";
import { Exit } from "./lib/cli/exit.ts";
import { processTerminal, type Terminal } from "./lib/cli/terminal.ts";

type Subcommand = (args: string[], signal: AbortSignal, terminal: Terminal) => Promise<number>;

const SUBCOMMANDS: Record<string, Subcommand> = {
  scan: (args, signal, terminal) => scanCommand(args, { signal, terminal }),
  emulator: async (args, _signal, terminal) =>
    (await import("./lib/cli/emulator.ts")).emulatorCommand(args, terminal),
  demo: async (args, signal, terminal) =>
    (await import("./lib/cli/demo.ts")).demoCommand(args, signal, terminal),
  trust: async (args, _signal, terminal) =>
    (await import("./lib/cli/trust.ts")).trustCommand(args, terminal),
  query: async (args, _signal, terminal) =>
    (await import("./lib/cli/lookup.ts")).queryCommand(args, terminal),
  quota: async (args, _signal, terminal) =>
    (await import("./lib/cli/lookup.ts")).quotaCommand(args, terminal),
  doctor: async (args, _signal, terminal) =>
    (await import("./lib/cli/doctor.ts")).doctorCommand(args, terminal),
  restore: async (args, _signal, terminal) =>
    (await import("./lib/cli/restore.ts")).restoreCommand(args, terminal),
  help: (_args, _signal, terminal) => {
    terminal.out(SCAN_HELP);
    return Promise.resolve(0);
  },
};

async function main(argv: string[], terminal: Terminal): Promise<number> {
  const [first, ...rest] = argv;
  const command = first !== undefined ? SUBCOMMANDS[first] : undefined;
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    // First signal: stop cleanly (settled files stay settled, the rest stay in place).
    if (++interrupts > 1) {
      terminal.stop(); // take the live line off the screen before leaving
      Deno.exit(130);
    }
    controller.abort(new Error("interrupted"));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    return command
      ? await command(rest, controller.signal, terminal)
      : await scanCommand(argv, { signal: controller.signal, terminal });
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
}

if (import.meta.main) {
  const terminal = processTerminal();
  try {
    Deno.exitCode = await main(Deno.args, terminal);
  } catch (error) {
    // A bug, not a condition the user can fix: one line, the stack only when asked for.
    terminal.stop();
    const debug = Deno.args.includes("--debug");
    const text = error instanceof Error ? (debug ? error.stack : error.message) : String(error);
    terminal.err(
      `te-scan: internal error (exit ${Exit.INTERNAL}): ${text}` +
        (debug ? "" : " (run with --debug for the stack; please report it)"),
    );
    Deno.exitCode = Exit.INTERNAL;
  }
}
