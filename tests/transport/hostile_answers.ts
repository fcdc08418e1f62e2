/**
 * The answers of a hostile stand-in for a TE appliance, for the
 * randomized-answer test (issue 11): real Check Point sample shapes, led
 * through a plausible life (unknown, uploaded, pending, found) so that a
 * run can end well, then bent by a seeded generator: digests of other
 * files, mixed case, one right and one wrong, none; lies about the verdict;
 * mutated shapes; truncated, non-JSON and empty bodies; HTTP errors; closed
 * connections; slow and trickled answers.
 *
 * Every draw comes from the seed and what was asked (and how often it was
 * asked before), not from timing, so a seed gives the same answers to the
 * same requests. The server keeps the oracle: for every FOUND-benign answer
 * it sends, which files that answer could rightly be applied to.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { tarGz } from "../../lib/emulator/mod.ts";
import { readFixture } from "../helpers.ts";
import type { WirePlan, WireRequest } from "./hostile_wire.ts";
import {
  clone,
  isObject,
  type Json,
  type JsonObject,
  mutate,
  Rng,
  wireText,
} from "./hostile_mutate.ts";

/** A file of the scanned tree, with its real digests. */
export interface TreeFile {
  relPath: string;
  bytes: Uint8Array;
  sha1: string;
  md5: string;
  sha256: string;
  /** What an honest appliance would say: the content holds the malicious marker. */
  malicious: boolean;
}

const DIGESTS = ["sha1", "md5", "sha256"] as const;
type DigestName = typeof DIGESTS[number];

/** A tree file from its path and bytes. */
export function treeFile(relPath: string, bytes: Uint8Array): TreeFile {
  const hex = (algorithm: string) => createHash(algorithm).update(bytes).digest("hex");
  const malicious = new TextDecoder().decode(bytes).includes("TE-EMULATOR-MALICIOUS");
  return { relPath, bytes, sha1: hex("sha1"), md5: hex("md5"), sha256: hex("sha256"), malicious };
}

/** Where a file is in its life, as an honest appliance would answer it. */
type Stage = "notFound" | "pending" | "upload" | "benign" | "malicious";

/** The real samples the answers are made of. */
export interface Samples {
  notFound: JsonObject[];
  pending: JsonObject[];
  upload: JsonObject[];
  benign: JsonObject[];
  malicious: JsonObject[];
  /** Report bodies: a real summary archive, base64 as appliances send it, and a hostile one. */
  reports: Uint8Array[];
}

async function sampleItem(name: string): Promise<JsonObject> {
  const body = await readFixture(name) as JsonObject;
  const response = body.response;
  return (Array.isArray(response) ? response[0] : response) as JsonObject;
}

/** The benign sample turned malicious, with report ids (no malicious sample is kept). */
function maliciousFrom(benign: JsonObject): JsonObject {
  const item = clone(benign);
  const te = item.te as JsonObject;
  Object.assign(te, { combined_verdict: "malicious", severity: 4, confidence: 3, trust: 10 });
  te.summary_report = "summary-0001";
  for (const [i, image] of (te.images as JsonObject[]).entries()) {
    image.report = { verdict: "malicious", pdf_report: `pdf-${i}`, xml_report: `xml-${i}` };
  }
  return item;
}

/** Loads the samples from `tests/fixtures/checkpoint/`. */
export async function loadSamples(): Promise<Samples> {
  const benign = await sampleItem("benignResponseFound.json");
  const html = new TextEncoder().encode("<html><body>report</body></html>".repeat(300));
  const archive = await tarGz([{ name: "report.html", data: html }]);
  const hostile = await tarGz([
    { name: "../escape.html", data: html },
    { name: "link", type: "symlink", linkName: "/etc/passwd" },
  ]);
  return {
    notFound: [
      await sampleItem("responseNotFound.json"),
      await sampleItem("TEXResponseNotFound.json"),
    ],
    pending: [
      await sampleItem("responsePending.json"),
      await sampleItem("TEXResponsePending.json"),
    ],
    upload: [await sampleItem("uploadResponse.json"), await sampleItem("TEXUploadResponse.json")],
    benign: [benign],
    malicious: [maliciousFrom(benign)],
    reports: [
      new TextEncoder().encode(archive.toBase64()),
      archive,
      new TextEncoder().encode(hostile.toBase64()),
    ],
  };
}

/** Lowercased digests an answer item carries (empty and non-string values carry nothing). */
export function carriedDigests(item: JsonObject): Partial<Record<DigestName, string>> {
  const out: Partial<Record<DigestName, string>> = {};
  for (const key of DIGESTS) {
    const value = item[key];
    if (typeof value === "string" && value !== "") out[key] = value.toLowerCase();
  }
  return out;
}

/** Whether an item, as sent, says FOUND (or PARTIALLY_FOUND) with a benign te verdict. */
export function isFoundBenign(item: Json): boolean {
  if (!isObject(item) || !isObject(item.te)) return false;
  const te = item.te;
  if (!isObject(te.status) || (te.status.code !== 1001 && te.status.code !== 1006)) return false;
  const verdict = te.combined_verdict;
  return typeof verdict === "string" && verdict.trim().toLowerCase() === "benign";
}

/** What the server does to one item's digests. */
const DIGEST_MODES = {
  own: 30,
  ownUpper: 8,
  ownSha1: 6,
  ownMd5: 6,
  none: 5,
  other: 12,
  otherMd5: 6,
  ownSha1OtherMd5: 7,
  ownMd5OtherSha1: 5,
  otherSha256: 3,
  garbage: 4,
} as const;

/** How an HTTP answer is delivered. */
const DELIVERY = {
  ok: 62,
  truncatedText: 5,
  notJson: 6,
  httpError: 8,
  auth: 0.25,
  badFraming: 2,
  reset: 5,
  cutOnWire: 4,
  trickle: 4,
  slow: 6,
} as const;

/** How the list of items of an answer is bent. */
const LIST_SHAPES = {
  asIs: 66,
  reversed: 4,
  dropOne: 4,
  duplicate: 4,
  foreignBenign: 7,
  silentBenign: 3,
  empty: 3,
  objectNotArray: 3,
  oddBody: 6,
} as const;

/** Cookies for server affinity, well-formed and not: the client sends `te_cookie` back. */
const COOKIES = [
  "te_cookie=remember; Path=/",
  "te_cookie=; Path=/",
  `te_cookie=${"c".repeat(8_000)}`,
  "te_cookie=\u00e9\u20ac; Path=/",
  "te_cookie=a\u0001b",
  "other=1, te_cookie=z",
];

interface FileState {
  known: boolean;
  pendingLeft: number;
  asked: number;
  uploads: number;
}

/** Options of a {@linkcode HostileAnswers}. */
export interface HostileOptions {
  seed: number;
  files: TreeFile[];
  samples: Samples;
  /** The digests the client computes itself, so can check (sha1 and md5). */
  clientDigests: readonly DigestName[];
  /** The largest pause before an answer, well under the client's request timeout. */
  maxDelayMs: number;
}

/**
 * One seed's server: answers query, upload and download requests and
 * records the oracle.
 */
export class HostileAnswers {
  /** sha1 of a tree file → why it may be published as benign (one line per answer). */
  readonly grants = new Map<string, string[]>();
  /** One line per request and what it was answered, for a failing seed's message. */
  readonly transcript: string[] = [];
  readonly #states = new Map<string, FileState>();
  readonly #counts = new Map<string, number>();

  constructor(readonly options: HostileOptions) {
    for (const file of options.files) {
      const rng = Rng.of(options.seed, "init", file.sha1);
      const known = rng.chance(0.35);
      this.#states.set(file.sha1, { known, pendingLeft: rng.int(3), asked: 0, uploads: 0 });
    }
  }

  /** Answers one request. */
  async handle(request: WireRequest): Promise<WirePlan> {
    const op = request.target.split("?")[0].split("/").pop() ?? "";
    try {
      if (op === "query" && request.method === "POST") return this.#query(request.body);
      if (op === "upload" && request.method === "POST") return await this.#upload(request);
      if (op === "download") return this.#download(request.target);
    } catch (error) {
      this.transcript.push(`${op}: server could not read the request (${error})`);
      return { kind: "send", status: 400, body: new TextEncoder().encode("bad request") };
    }
    this.transcript.push(`${request.method} ${request.target}: 404`);
    return { kind: "send", status: 404, body: new Uint8Array(0) };
  }

  #count(key: string): number {
    const n = this.#counts.get(key) ?? 0;
    this.#counts.set(key, n + 1);
    return n;
  }

  #fileBy(digests: Partial<Record<DigestName, string>>): TreeFile | undefined {
    return this.options.files.find((file) =>
      DIGESTS.some((key) => digests[key] !== undefined && digests[key] === file[key])
    );
  }

  #other(file: TreeFile | undefined, rng: Rng): TreeFile {
    const others = this.options.files.filter((f) => f !== file);
    return rng.pick(others.length ? others : this.options.files);
  }

  #query(body: Uint8Array): WirePlan {
    const parsed = JSON.parse(new TextDecoder().decode(body)) as JsonObject;
    const asked =
      (Array.isArray(parsed.request) ? parsed.request : [parsed.request]) as JsonObject[];
    const files = asked.map((item) => this.#fileBy(carriedDigests(item)));
    const key = files.map((f) => f?.relPath ?? "?").sort().join(",");
    const rng = Rng.of(this.options.seed, "query", key, this.#count(`query ${key}`));
    const made = files.map((file, i) => this.#itemFor(file, asked[i], "query"));
    const { response, how } = this.#shapeList(made.map((m) => m.item), rng, true);
    const single = files.length === 1 ? files[0] : undefined;
    this.#record(response, single, `query [${key}]`);
    this.transcript.push(`query [${key}] → ${how}`, ...made.map((m) => m.note));
    return this.#deliver({ response }, rng, `query [${key}]`);
  }

  async #upload(request: WireRequest): Promise<WirePlan> {
    const form = await new Request("https://stand-in/", {
      method: "POST",
      headers: { "content-type": request.headers.get("content-type") ?? "" },
      body: request.body as Uint8Array<ArrayBuffer>,
    }).formData();
    const part = form.get("file");
    const bytes = part instanceof File
      ? new Uint8Array(await part.arrayBuffer())
      : new Uint8Array();
    const real = treeFile("upload", bytes);
    const file = this.#fileBy(real);
    const state = file && this.#states.get(file.sha1);
    const rng = Rng.of(this.options.seed, "upload", file?.relPath ?? "?", state?.uploads ?? 0);
    const found = rng.chance(0.3);
    if (state) {
      state.uploads++;
      state.known = !rng.chance(0.05);
      state.pendingLeft = found ? 0 : rng.int(4);
    }
    const { item, note } = this.#itemFor(file, {}, found ? "found" : "upload");
    const { response, how } = this.#shapeList([item], rng, false);
    this.#record(response, file, `upload ${file?.relPath ?? "(unknown bytes)"}`);
    this.transcript.push(`upload ${file?.relPath ?? "?"} → ${how}`, note);
    return this.#deliver({ response }, rng, `upload ${file?.relPath}`);
  }

  /** The honest stage of a file for this request, advancing its life. */
  #stage(file: TreeFile | undefined, kind: "query" | "upload" | "found"): Stage {
    if (kind === "upload") return "upload";
    const state = file && this.#states.get(file.sha1);
    if (!file || !state) return "notFound";
    if (kind === "query" && !state.known) return "notFound";
    if (kind === "query" && state.pendingLeft > 0) {
      state.pendingLeft--;
      return "pending";
    }
    return file.malicious ? "malicious" : "benign";
  }

  #itemFor(
    file: TreeFile | undefined,
    asked: JsonObject,
    kind: "query" | "upload" | "found",
  ): { item: JsonObject; note: string } {
    const state = file && this.#states.get(file.sha1);
    const n = state ? state.asked++ : 0;
    const rng = Rng.of(this.options.seed, "item", file?.relPath ?? "?", n);
    let stage = this.#stage(file, kind);
    // A lie about the verdict now and then: the client cannot know, and the oracle allows it.
    if ((stage === "benign" || stage === "malicious") && rng.chance(0.1)) {
      stage = stage === "benign" ? "malicious" : "benign";
    }
    const item = clone(rng.pick(this.options.samples[stage]));
    if (stage === "benign" || stage === "malicious") {
      const te = item.te as JsonObject;
      const verdict = te.combined_verdict as string;
      te.combined_verdict = rng.pick([
        verdict,
        verdict.toUpperCase(),
        ` ${verdict[0].toUpperCase()}${verdict.slice(1)}`,
      ]);
    }
    // An early malicious verdict: for the malicious file often, for the others now and then
    // (the final verdict then wins and takes the file out of quarantine).
    if (stage === "pending" && rng.chance(file?.malicious ? 0.5 : 0.1)) {
      item.te_eb = { status: { code: 1001, label: "FOUND" }, combined_verdict: "Malicious" };
    }
    // PARTIALLY_FOUND with every image settled is final too.
    if ((stage === "benign" || stage === "malicious") && rng.chance(0.1)) {
      const partial = { code: 1006, label: "PARTIALLY_FOUND", message: "Part of the request" };
      item.status = partial;
      (item.te as JsonObject).status = { ...partial };
    }
    const notes = [stage, this.#digests(item, file, asked, rng)];
    if (rng.chance(0.1)) notes.push(this.#foreignBenign(item, file, rng));
    if (rng.chance(0.4)) notes.push(...mutate(item, rng, 3));
    return { item, note: `  ${file?.relPath ?? "?"} #${n}: ${notes.join("; ")}` };
  }

  /** The key case: a FOUND benign answer naming another file. */
  #foreignBenign(item: JsonObject, file: TreeFile | undefined, rng: Rng): string {
    const other = this.#other(file, rng);
    for (const key of Object.keys(item)) delete item[key];
    Object.assign(item, clone(rng.pick(this.options.samples.benign)));
    // The sample's own md5 names a file of no tree: kept only for the `[]` draw.
    const keys = rng.pick([[], ["md5"], ["sha1"], ["sha1", "md5", "sha256"], ["sha256"]] as const);
    if (keys.length) delete item.md5;
    for (const key of keys) item[key] = other[key];
    const about = keys.length ? `${other.relPath} (${keys.join("+")})` : "the sample's md5";
    return `FOUND benign about ${about}`;
  }

  /** Sets the item's digests as the draw says; returns the mode. */
  #digests(item: JsonObject, file: TreeFile | undefined, asked: JsonObject, rng: Rng): string {
    for (const key of DIGESTS) delete item[key];
    const own = file ?? carriedDigests(asked) as Partial<TreeFile>;
    const other = this.#other(file, rng);
    const mode = rng.weighted(DIGEST_MODES);
    const set = (key: DigestName, from: Partial<TreeFile>) => {
      if (from[key]) item[key] = from[key] as string;
    };
    switch (mode) {
      case "own":
        for (const key of DIGESTS) set(key, own);
        break;
      case "ownUpper":
        for (const key of DIGESTS) {
          if (own[key]) {
            item[key] = own[key]!.replace(/[a-f]/g, (c) => rng.chance(0.5) ? c.toUpperCase() : c);
          }
        }
        break;
      case "ownSha1":
      case "ownMd5":
        set(mode === "ownSha1" ? "sha1" : "md5", own);
        break;
      case "other":
        for (const key of DIGESTS) set(key, other);
        break;
      case "otherMd5":
        set("md5", other);
        break;
      case "ownSha1OtherMd5":
        set("sha1", own);
        set("md5", other);
        break;
      case "ownMd5OtherSha1":
        set("md5", own);
        set("sha1", other);
        break;
      case "otherSha256":
        set("sha256", other);
        break;
      case "garbage":
        item.sha1 = rng.pick(["", "0".repeat(40), "not-a-digest", " " + (own.sha1 ?? "")]);
        item.md5 = rng.pick(["", "f".repeat(32)]);
        break;
    }
    return `digests ${mode}${
      mode.startsWith("other") || mode.includes("Other") ? ` (${other.relPath})` : ""
    }`;
  }

  /** Bends the list of items; returns the `response` value and what was done. */
  #shapeList(items: JsonObject[], rng: Rng, array: boolean): { response: Json; how: string } {
    const shape = rng.weighted(LIST_SHAPES);
    const list: Json[] = [...items];
    switch (shape) {
      case "reversed":
        list.reverse();
        break;
      case "dropOne":
        list.splice(rng.int(list.length), 1);
        break;
      case "duplicate":
        list.push(clone(rng.pick(items)));
        break;
      case "foreignBenign": {
        const extra = clone(rng.pick(this.options.samples.benign));
        this.#foreignBenign(extra, undefined, rng);
        list.splice(rng.int(list.length + 1), 0, extra);
        break;
      }
      case "silentBenign": {
        const silent = clone(rng.pick(this.options.samples.benign));
        for (const key of DIGESTS) delete silent[key];
        list.push(silent);
        break;
      }
      case "empty":
        return { response: [], how: "response []" };
      case "objectNotArray":
        return { response: list[0], how: "response an object" };
      case "oddBody":
        return this.#oddBody(list, rng);
    }
    const response = array || list.length !== 1 ? list : list[0];
    return { response, how: `${shape}, ${list.length} item(s)` };
  }

  #oddBody(list: Json[], rng: Rng): { response: Json; how: string } {
    const odd: Json[] = [null, "FOUND", 1001, {}, { response: list }, [[...list]], [null, ...list]];
    const i = rng.int(odd.length);
    return { response: odd[i], how: `odd response ${JSON.stringify(odd[i]).slice(0, 40)}` };
  }

  /** Records which files each FOUND-benign item sent could rightly be applied to. */
  #record(response: Json, single: TreeFile | undefined, what: string): void {
    const items = Array.isArray(response) ? response : [response];
    for (const item of items) {
      if (!isObject(item) || !isFoundBenign(item)) continue;
      const carried = carriedDigests(item);
      for (const file of this.options.files) {
        const names = DIGESTS.some((key) => carried[key] === file[key]);
        const contradicts = this.options.clientDigests.some((key) =>
          carried[key] !== undefined && carried[key] !== file[key]
        );
        if (names && !contradicts) this.#grant(file, `${what}: named by its digests`);
      }
      // One file asked, one item answered, no digest echoed: applied by position (match.ts).
      if (single && items.length === 1 && Object.keys(carried).length === 0) {
        this.#grant(single, `${what}: one silent item for one file`);
      }
    }
  }

  #grant(file: TreeFile, why: string): void {
    this.grants.set(file.sha1, [...(this.grants.get(file.sha1) ?? []), why]);
  }

  #download(target: string): WirePlan {
    const id = new URL(target, "https://stand-in").searchParams.get("id") ?? "";
    const rng = Rng.of(this.options.seed, "download", id, this.#count(`download ${id}`));
    const reports = this.options.samples.reports;
    const body = rng.pick([
      ...reports,
      rng.bytes(rng.int(2000)),
      new TextEncoder().encode("H4sI" + "A".repeat(rng.int(50))),
      reports[0].subarray(0, rng.int(reports[0].length)),
      reports[1].subarray(0, rng.int(reports[1].length)),
      new Uint8Array(0),
    ]);
    const name = rng.pick([
      'attachment; filename="report.tar.gz"',
      "attachment; filename=../../x",
      "",
    ]);
    this.transcript.push(`download ${id} → ${body.length} bytes`);
    // Slow more often than answers: a report download is where other requests overtake.
    const plan = this.#deliverBytes(200, body, rng, `download ${id}`, 0.5);
    if (plan.kind === "send" && name) {
      plan.headers = { ...plan.headers, "content-disposition": name };
    }
    return plan;
  }

  /** Delivers a JSON body, or something else in its place. */
  #deliver(body: Json, rng: Rng, what: string): WirePlan {
    return this.#deliverBytes(200, new TextEncoder().encode(wireText(body)), rng, what);
  }

  #deliverBytes(status: number, body: Uint8Array, rng: Rng, what: string, slow = 0.15): WirePlan {
    const plan = this.#planFor(status, body, rng, what, slow);
    if (plan.kind === "send" && rng.chance(0.1)) {
      const cookie = rng.pick(COOKIES);
      plan.headers = { ...plan.headers, "set-cookie": cookie };
      this.transcript.push(`  ${what} set-cookie: ${JSON.stringify(cookie.slice(0, 40))}`);
    }
    return plan;
  }

  #planFor(status: number, body: Uint8Array, rng: Rng, what: string, slow: number): WirePlan {
    const delivery = rng.weighted(DELIVERY);
    const delayMs = rng.chance(slow) ? rng.int(this.options.maxDelayMs) : 0;
    const json = { "content-type": "application/json" };
    const note = (text: string) => this.transcript.push(`  ${what} delivered: ${text}`);
    switch (delivery) {
      case "truncatedText": {
        const cut = rng.int(Math.max(1, body.length));
        note(`first ${cut} of ${body.length} bytes, honest length`);
        return { kind: "send", status, headers: json, body: body.subarray(0, cut), delayMs };
      }
      case "notJson": {
        const junk = rng.pick([
          "<html><body><h1>502 Bad Gateway</h1></body></html>",
          "",
          "null",
          "[]",
          '\uFEFF{"response":',
          String.fromCharCode(...rng.bytes(64)),
        ]);
        note(`not JSON: ${JSON.stringify(junk.slice(0, 30))}`);
        return {
          kind: "send",
          status,
          headers: { "content-type": "text/html" },
          body: new TextEncoder().encode(junk),
          delayMs,
        };
      }
      case "httpError":
      case "auth": {
        const code = delivery === "auth"
          ? rng.pick([401, 403])
          : rng.pick([400, 404, 429, 500, 502, 503, 204, 301, 418, 999]);
        note(`HTTP ${code}`);
        const errorBody = rng.chance(0.5) ? body : new TextEncoder().encode("<html>error</html>");
        return { kind: "send", status: code, body: errorBody, delayMs };
      }
      case "badFraming":
        note("chunked and a Content-Length at once");
        return {
          kind: "send",
          status,
          headers: { ...json, "transfer-encoding": "chunked" },
          body,
          delayMs,
        };
      case "reset":
        note("connection closed without an answer");
        return { kind: "reset", delayMs };
      case "cutOnWire": {
        const cut = rng.int(Math.max(1, body.length));
        note(`${cut} of ${body.length} promised bytes, then closed`);
        return { kind: "send", status, headers: json, body, cut, delayMs };
      }
      case "trickle":
        note("trickled");
        return { kind: "send", status, headers: json, body, trickle: true, delayMs };
      case "slow":
        note(`after ${this.options.maxDelayMs} ms`);
        return { kind: "send", status, headers: json, body, delayMs: this.options.maxDelayMs };
      default:
        return { kind: "send", status, headers: json, body, delayMs };
    }
  }
}
