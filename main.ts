#!/usr/bin/env -S deno run --v8-flags=--max-semi-space-size=4 --allow-net --allow-read --allow-write
/**
 * te-scan: scan directory trees with Check Point Threat Emulation and sort
 * every file into benign, quarantine or error folders.
 *
 * This file only picks the subcommand and hands over its arguments; `scan`
 * is the default, so te_api's command lines (`-in … -ip …`) work unchanged.
 *
 * @example
 * ```sh
 * deno run --allow-net --allow-read --allow-write main.ts --in /drop --ip 10.1.1.5 --jail /q
 * ```
 * @module
 */

import { demoCommand } from "./lib/cli/demo.ts";
import { emulatorCommand } from "./lib/cli/emulator.ts";
import { queryCommand, quotaCommand } from "./lib/cli/lookup.ts";
import { scanCommand } from "./lib/cli/scan.ts";
import { trustCommand } from "./lib/cli/trust.ts";
import { SCAN_HELP } from "./lib/cli/args.ts";

const SUBCOMMANDS: Record<string, (args: string[], signal: AbortSignal) => Promise<number>> = {
  scan: (args, signal) => scanCommand(args, { signal }),
  emulator: (args) => emulatorCommand(args),
  demo: (args, signal) => demoCommand(args, signal),
  trust: (args) => trustCommand(args),
  query: (args) => queryCommand(args),
  quota: (args) => quotaCommand(args),
  help: () => {
    console.log(SCAN_HELP);
    return Promise.resolve(0);
  },
};

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  const command = first !== undefined ? SUBCOMMANDS[first] : undefined;
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    // First signal: stop cleanly (settled files stay settled, the rest stay in place).
    if (++interrupts > 1) Deno.exit(130);
    controller.abort(new Error("interrupted"));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    return command
      ? await command(rest, controller.signal)
      : await scanCommand(argv, { signal: controller.signal });
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
}

if (import.meta.main) {
  try {
    Deno.exitCode = await main(Deno.args);
  } catch (error) {
    console.error(`te-scan: internal error: ${error instanceof Error ? error.stack : error}`);
    Deno.exitCode = 70;
  }
}
