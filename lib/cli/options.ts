/**
 * Options as data: one table entry per option (its names, the spellings of
 * te_api and Check Point's other scripts, its value type, default, help
 * text and `--config` key) from which the parser, `--help`'s option lines
 * and the `--config` check are all made. A default is written once, and
 * adding an option is adding one entry.
 *
 * @example A table of two options, parsed and documented
 * ```ts
 * import { flag, helpOf, number, readCommandLine, readValues } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * const table = {
 *   concurrency: number({
 *     name: "concurrency",
 *     short: "n",
 *     meta: "N",
 *     default: "4",
 *     help: "files at once",
 *     section: "run",
 *   }, { min: 1, integer: true }),
 *   copy: flag({ name: "copy", help: "copy instead of move", section: "run" }),
 * };
 * const { values } = readCommandLine(table, ["--copy"]);
 * assert.deepEqual(readValues(table, values), { concurrency: 4, copy: true });
 * assert.match(helpOf(table, "run"), /-n, --concurrency N +files at once \(default 4\)/);
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import { parseSize } from "../fs/size.ts";
import { UsageError } from "./exit.ts";
import { closestOption, usageErrorOf } from "./suggest.ts";

/** A value as the parser or a config file gives it. */
export type RawValue = string | boolean | string[];

/** Raw values by long option name, as typed or as a config file holds them. */
export type RawValues = Record<string, RawValue | undefined>;

/** What one option is, apart from how its value is read. */
export interface OptionSpec {
  /** The long name, typed after `--`. */
  name: string;
  /** A one-letter name, typed after `-`. */
  short?: string;
  /** Other scripts' spellings of it, by script: `{ te_api: ["-in", "--input_directory"] }`. */
  aliases?: Readonly<Record<string, readonly string[]>>;
  /** The value's placeholder in `--help` (`DIR`); none for a flag. */
  meta?: string;
  /** The default as a user would type it: it is parsed like a typed value. */
  default?: string | boolean;
  /** How `--help` names a default that is not a typed value ("the appliance's"). */
  shownDefault?: string;
  /** The `--help` text, wrapped, with the default and the aliases appended. */
  help: string;
  /** The `--help` section that lists it. */
  section: string;
  /** Its key in a `--config` file: the long name unless given; `false`: not allowed there. */
  config?: string | false;
  /** The part of the settings it belongs to, for the types derived from the table. */
  part?: "connection" | "ask";
}

/** What reading a value knows: the option's name for messages, and the other values. */
export interface ReadContext {
  option: string;
  values: RawValues;
}

/** An option: its spec, and how its raw value becomes a setting. */
export interface Option<T> extends OptionSpec {
  type: "string" | "boolean";
  multiple?: boolean;
  read(raw: RawValue | undefined, context: ReadContext): T;
}

/** A table of options, keyed by the setting each one fills. */
export type OptionTable = Record<string, Option<unknown>>;

type ValueOf<O> = O extends Option<infer T> ? T : never;
type Maybe<T> = { [K in keyof T as undefined extends ValueOf<T[K]> ? K : never]?: ValueOf<T[K]> };
type Sure<T> = { [K in keyof T as undefined extends ValueOf<T[K]> ? never : K]: ValueOf<T[K]> };

/** The settings a table fills: an option without a default is optional. */
export type OptionValues<T> = Maybe<T> & Sure<T>;

/** The table's options of one part (`connection`, `ask`). */
export type PartOf<T, P extends OptionSpec["part"]> = {
  [K in keyof T as T[K] extends { part: P } ? K : never]: T[K];
};

type Valued<S, T> = S & Option<S extends { default: string } ? T : T | undefined>;

/**
 * An option with a value, read by `parse` (the default too); absent with no default.
 *
 * @example A value read by its own parser, the default too
 * ```ts
 * import { valued } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * const upper = valued({ name: "tag", default: "x", help: "", section: "" }, (t) => t.toUpperCase());
 * assert.equal(upper.read(undefined, { option: "--tag", values: {} }), "X");
 * assert.equal(upper.read("ab", { option: "--tag", values: {} }), "AB");
 * ```
 */
export function valued<const S extends OptionSpec, T>(
  spec: S,
  parse: (text: string, context: ReadContext) => T,
): Valued<S, T> {
  return {
    ...spec,
    type: "string",
    read: (raw: RawValue | undefined, context: ReadContext) => {
      const text = raw === undefined ? spec.default : raw;
      return typeof text === "string" ? parse(text, context) : undefined;
    },
  } as Valued<S, T>;
}

/**
 * An option whose value is kept as typed.
 *
 * @example Absent without a default
 * ```ts
 * import { text } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * const out = text({ name: "out", help: "", section: "" });
 * assert.equal(out.read(undefined, { option: "--out", values: {} }), undefined);
 * assert.equal(out.read("/ok", { option: "--out", values: {} }), "/ok");
 * ```
 */
export function text<const S extends OptionSpec>(spec: S): Valued<S, string> {
  return valued(spec, (value) => value);
}

/**
 * A repeatable option: every value, in order (none: empty).
 *
 * @example Repeated values
 * ```ts
 * import { texts } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * const ip = texts({ name: "ip", help: "", section: "" });
 * assert.deepEqual(ip.read(["a", "b"], { option: "--ip", values: {} }), ["a", "b"]);
 * assert.deepEqual(ip.read(undefined, { option: "--ip", values: {} }), []);
 * ```
 */
export function texts<const S extends OptionSpec>(spec: S): S & Option<string[]> {
  return {
    ...spec,
    type: "string",
    multiple: true,
    read: (raw: RawValue | undefined) => Array.isArray(raw) ? raw : [],
  };
}

/**
 * A flag: `--name` or `--no-name`, else its default (false unless given).
 *
 * @example A flag on by default
 * ```ts
 * import { flag } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * const recursive = flag({ name: "recursive", default: true, help: "", section: "" });
 * assert.equal(recursive.read(undefined, { option: "--recursive", values: {} }), true);
 * assert.equal(recursive.read(false, { option: "--recursive", values: {} }), false);
 * ```
 */
export function flag<const S extends OptionSpec>(spec: S): S & Option<boolean> {
  return {
    ...spec,
    type: "boolean",
    read: (raw: RawValue | undefined) => typeof raw === "boolean" ? raw : spec.default === true,
  };
}

/** Bounds of a number option, and the factor its value is stored in (1000: seconds as ms). */
export interface NumberLimits {
  min: number;
  max?: number;
  /** Said after "at most N" ("items per query"). */
  maxNote?: string;
  integer?: boolean;
  scale?: number;
}

/**
 * A number option, checked against its limits.
 *
 * @example Seconds stored as milliseconds, and a bound
 * ```ts
 * import { number } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * const grace = number({ name: "grace", default: "120", help: "", section: "" }, {
 *   min: 0,
 *   max: 600,
 *   scale: 1000,
 * });
 * assert.equal(grace.read(undefined, { option: "--grace", values: {} }), 120_000);
 * assert.throws(() => grace.read("900", { option: "--grace", values: {} }), /--grace: at most 600/);
 * ```
 */
export function number<const S extends OptionSpec>(
  spec: S,
  limits: NumberLimits,
): Valued<S, number> {
  return valued(spec, (value, { option }) => parseNumber(value, option, limits));
}

function parseNumber(text: string, option: string, limits: NumberLimits): number {
  const { min, max, integer } = limits;
  const value = Number(text);
  if (
    !text.trim() || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))
  ) {
    const kind = integer ? "a whole number" : "a number";
    throw new UsageError(`${option}: expected ${kind} >= ${min}, got ${JSON.stringify(text)}`);
  }
  if (max !== undefined && value > max) {
    throw new UsageError(`${option}: at most ${max}${limits.maxNote ? ` ${limits.maxNote}` : ""}`);
  }
  return value * (limits.scale ?? 1);
}

/**
 * A comma-separated list, of the allowed words only when they are given, without repeats.
 *
 * @example Known words only
 * ```ts
 * import { choices } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * const features = choices({ name: "features", help: "", section: "" }, ["te", "av"]);
 * assert.deepEqual(features.read("te, av,te", { option: "--features", values: {} }), ["te", "av"]);
 * assert.throws(() => features.read("zip", { option: "--features", values: {} }), /unknown value/);
 * ```
 */
export function choices<const S extends OptionSpec, T extends string = string>(
  spec: S,
  allowed?: readonly T[],
): Valued<S, T[]> {
  return valued(spec, (value, { option }) => {
    const items = value.split(",").map((s) => s.trim()).filter(Boolean);
    for (const item of items) {
      if (allowed && !allowed.includes(item as T)) {
        throw new UsageError(
          `${option}: unknown value ${JSON.stringify(item)} (one of: ${allowed.join(", ")})`,
        );
      }
    }
    return [...new Set(items)] as T[];
  });
}

/**
 * A size in bytes, with units (`100M`).
 *
 * @example Units, and a size that is none
 * ```ts
 * import { size } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * const maxSize = size({ name: "max-size", help: "", section: "" });
 * assert.equal(maxSize.read("2k", { option: "--max-size", values: {} }), 2048);
 * assert.throws(() => maxSize.read("lots", { option: "--max-size", values: {} }), /--max-size:/);
 * ```
 */
export function size<const S extends OptionSpec>(spec: S): Valued<S, number> {
  return valued(spec, (value, { option }) => {
    try {
      return parseSize(value);
    } catch (error) {
      if (error instanceof RangeError) throw new UsageError(`${option}: ${error.message}`);
      throw error;
    }
  });
}

/** Every alias spelling, as the `--name` it stands for. */
function aliasesOf(table: OptionTable): Map<string, string> {
  const aliases = new Map<string, string>();
  for (const option of Object.values(table)) {
    for (const spellings of Object.values(option.aliases ?? {})) {
      for (const spelling of spellings) aliases.set(spelling, `--${option.name}`);
    }
  }
  return aliases;
}

/**
 * Rewrites other scripts' spellings to the table's long names (`-in X`,
 * `--input_directory=X` → `--in X`); nothing after `--`.
 *
 * @example te_api's flags become te-scan's
 * ```ts
 * import { rewriteWith, text } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * const table = { input: text({ name: "in", aliases: { te_api: ["-in"] }, help: "", section: "" }) };
 * assert.deepEqual(rewriteWith(table, ["-in=/d", "--", "-in"]), ["--in=/d", "--", "-in"]);
 * ```
 */
export function rewriteWith(table: OptionTable, argv: string[]): string[] {
  const aliases = aliasesOf(table);
  const out: string[] = [];
  for (const [i, arg] of argv.entries()) {
    if (arg === "--") return [...out, ...argv.slice(i)];
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const target = aliases.get(name);
    out.push(target ? target + (eq > 0 ? arg.slice(eq) : "") : arg);
  }
  return out;
}

/** The long names a typo is compared with: the options' and their long aliases'. */
function longNames(table: OptionTable): string[] {
  const aliases = [...aliasesOf(table).keys()].filter((a) => a.startsWith("--"));
  return [...Object.values(table).map((o) => o.name), ...aliases.map((a) => a.slice(2))];
}

/**
 * The command line's raw values by long name, and its positionals; an
 * unknown option gets a did-you-mean.
 *
 * @example Aliases, repeats and a typo
 * ```ts
 * import { readCommandLine, text, texts } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * const table = {
 *   jail: text({ name: "jail", aliases: { te_api: ["-jail"] }, help: "", section: "" }),
 *   ip: texts({ name: "ip", help: "", section: "" }),
 * };
 * const { values } = readCommandLine(table, ["-jail", "/q", "--ip", "a", "--ip", "b"]);
 * assert.deepEqual({ ...values }, { jail: "/q", ip: ["a", "b"] });
 * assert.throws(() => readCommandLine(table, ["--jial", "/q"]), /did you mean --jail\?/);
 * ```
 */
export function readCommandLine(
  table: OptionTable,
  argv: string[],
): { values: RawValues; positionals: string[] } {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: true }> =
    {};
  for (const { name, type, short, multiple } of Object.values(table)) {
    options[name] = { type, ...(short ? { short } : {}), ...(multiple ? { multiple } : {}) };
  }
  try {
    const { values, positionals } = parseArgs({
      args: rewriteWith(table, argv),
      options,
      allowPositionals: true,
      allowNegative: true,
      strict: true,
    });
    return { values: values as RawValues, positionals };
  } catch (error) {
    throw usageErrorOf(error, longNames(table));
  }
}

/**
 * The keys a config file may hold: each option's, and its long aliases without dashes.
 *
 * @example An option's key and te_api's
 * ```ts
 * import { configKeys, text } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * const aliases = { te_api: ["-jail", "--quarantine_directory"] };
 * const table = { quarantine: text({ name: "jail", aliases, help: "", section: "" }) };
 * assert.deepEqual([...configKeys(table).keys()], ["jail", "quarantine_directory"]);
 * ```
 */
export function configKeys(table: OptionTable): Map<string, Option<unknown>> {
  const keys = new Map<string, Option<unknown>>();
  for (const option of Object.values(table)) {
    if (option.config === false) continue;
    keys.set(option.config ?? option.name, option);
    for (const spellings of Object.values(option.aliases ?? {})) {
      for (const s of spellings) if (s.startsWith("--")) keys.set(s.slice(2), option);
    }
  }
  return keys;
}

function readConfigObject(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    throw new UsageError(
      `--config: cannot read ${path}: ${(error as Error).message.split("\n")[0]}`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new UsageError(`--config: ${path} is not valid JSON`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new UsageError(`--config: ${path} must hold a JSON object of option names`);
  }
  return data as Record<string, unknown>;
}

function configValue(option: Option<unknown>, key: string, value: unknown, path: string) {
  if (option.type === "boolean") {
    if (typeof value !== "boolean") {
      throw new UsageError(`--config: ${key} must be true or false in ${path}`);
    }
    return value;
  }
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((v) => typeof v === "string" || typeof v === "number")) {
    throw new UsageError(`--config: ${key} must be a string in ${path}`);
  }
  const strings = list.map(String);
  return option.multiple ? strings : strings.join(",");
}

/**
 * A `--config` JSON file's raw values by long name; an unknown key gets a
 * did-you-mean.
 *
 * @example A typo in a config file
 * ```ts
 * import { readConfigFile, text } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * const table = { quarantine: text({ name: "jail", help: "", section: "" }) };
 * const path = await Deno.makeTempFile({ suffix: ".json" });
 * await Deno.writeTextFile(path, JSON.stringify({ jial: "/q" }));
 * assert.throws(() => readConfigFile(table, path), /unknown option "jial" .*did you mean "jail"/);
 * await Deno.remove(path);
 * ```
 */
export function readConfigFile(table: OptionTable, path: string): RawValues {
  const keys = configKeys(table);
  const values: RawValues = {};
  for (const [key, value] of Object.entries(readConfigObject(path))) {
    const option = keys.get(key);
    if (!option) {
      const near = closestOption(key, [...keys.keys()]);
      const hint = near ? ` (did you mean ${JSON.stringify(near)}?)` : "";
      throw new UsageError(`--config: unknown option ${JSON.stringify(key)} in ${path}${hint}`);
    }
    values[option.name] = configValue(option, key, value, path);
  }
  return values;
}

/**
 * The settings of raw values, by the table's fields; defaults fill what is absent.
 *
 * @example Raw values become settings
 * ```ts
 * import { number, readValues, text } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * const table = {
 *   reportsDir: text({ name: "rep", default: "te-reports", help: "", section: "" }),
 *   timeoutMs: number({ name: "timeout", default: "900", help: "", section: "" }, {
 *     min: 0.1,
 *     scale: 1000,
 *   }),
 * };
 * assert.deepEqual(readValues(table, { timeout: "60" }), {
 *   reportsDir: "te-reports",
 *   timeoutMs: 60_000,
 * });
 * ```
 */
export function readValues<T extends OptionTable>(table: T, values: RawValues): OptionValues<T> {
  const settings: Record<string, unknown> = {};
  for (const [field, option] of Object.entries(table)) {
    settings[field] = option.read(values[option.name], { option: `--${option.name}`, values });
  }
  return settings as OptionValues<T>;
}

const HELP_WIDTH = 96;
/** Keeps "default N" on one line when wrapped. */
const NBSP = "\u00a0";
const HELP_COLUMN = 24;

/** Splits text into lines of at most `width` characters, at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/[ \n]+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

/**
 * How `--help` names an option: `-n, --concurrency N`; a flag on by default by its `--no-` form.
 *
 * @example A short name, and a flag that is on
 * ```ts
 * import { flag, helpName } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(helpName({ name: "concurrency", short: "n", meta: "N", help: "", section: "" }), "-n, --concurrency N");
 * assert.equal(helpName(flag({ name: "recursive", default: true, help: "", section: "" })), "--no-recursive");
 * ```
 */
export function helpName(option: OptionSpec & { type?: string }): string {
  const negated = option.type === "boolean" && option.default === true;
  const long = `--${negated ? "no-" : ""}${option.name}${option.meta ? ` ${option.meta}` : ""}`;
  return option.short ? `-${option.short}, ${long}` : long;
}

/**
 * What `--help` says of an option's default, if it has one.
 *
 * @example A typed default, a described one, and none
 * ```ts
 * import { helpDefault } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(helpDefault({ name: "n", default: "4", help: "", section: "" }), "default 4");
 * assert.equal(
 *   helpDefault({ name: "images", shownDefault: "the appliance's", help: "", section: "" }),
 *   "default: the appliance's",
 * );
 * assert.equal(helpDefault({ name: "out", help: "", section: "" }), undefined);
 * ```
 */
export function helpDefault(option: OptionSpec): string | undefined {
  if (option.shownDefault !== undefined) return `default: ${option.shownDefault}`;
  return typeof option.default === "string" ? `default ${option.default}` : undefined;
}

/** An option's `--help` paragraph: name, text, default and aliases. */
function helpLines(option: Option<unknown>): string {
  const aliases = Object.entries(option.aliases ?? {}).map(([script, spellings]) =>
    `${script}: ${spellings.join(", ")}`
  );
  const notes = [helpDefault(option)?.replace(" ", NBSP), ...aliases].filter(Boolean);
  const text = notes.length ? `${option.help} (${notes.join("; ")})` : option.help;
  const [first, ...rest] = wrap(text, HELP_WIDTH - HELP_COLUMN);
  const name = `  ${helpName(option)}`;
  const indent = " ".repeat(HELP_COLUMN);
  const head = name.length < HELP_COLUMN
    ? name.padEnd(HELP_COLUMN) + first
    : `${name}\n${indent}${first}`;
  return [head, ...rest.map((line) => indent + line)].join("\n").replaceAll(NBSP, " ");
}

/**
 * The `--help` lines of a section's options, in the table's order.
 *
 * @example A section's lines, with defaults and aliases
 * ```ts
 * import { helpOf, text } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * const table = {
 *   reportsDir: text({
 *     name: "rep",
 *     meta: "DIR",
 *     default: "te-reports",
 *     aliases: { te_api: ["-rep"] },
 *     help: "reports",
 *     section: "files",
 *   }),
 * };
 * assert.equal(helpOf(table, "files"), "  --rep DIR             reports (default te-reports; te_api: -rep)");
 * ```
 */
export function helpOf(table: OptionTable, section: string): string {
  return Object.values(table).filter((o) => o.section === section).map(helpLines).join("\n");
}
