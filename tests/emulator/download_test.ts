import assert from "node:assert/strict";
import type { ResponseItem } from "../../lib/transport/protocol.ts";
import type { EmulatorOptions } from "../../lib/emulator/server.ts";
import { gunzip, type Harness, listTar, marked, withEmulator } from "./helpers.ts";

const REPORTS = { reports: ["summary", "pdf", "xml", "tar"] };
const DISPOSITION = /^attachment; filename="([^"]+)"$/;

/** Uploads a malicious file and returns its FOUND answer (emulation time 0). */
async function foundMalicious(h: Harness, unique: string): Promise<ResponseItem> {
  const up = await h.upload(marked("MALICIOUS", unique), {
    file_name: `${unique}.exe`,
    te: REPORTS,
  });
  const item = await h.query({ md5: up.md5, te: REPORTS });
  assert.equal(item.status.code, 1001);
  return item;
}

async function summaryArchive(options: Partial<EmulatorOptions>) {
  let archive = new Uint8Array();
  let text = "";
  await withEmulator({ emulationMs: 0, ...options }, async (h) => {
    const item = await foundMalicious(h, "style");
    const r = await h.download(item.te!.summary_report!);
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-disposition") ?? "", DISPOSITION);
    text = r.text;
    if (options.reportStyle !== "invalid") archive = Uint8Array.fromBase64(r.text);
  });
  return { archive, text };
}

Deno.test("summary report: base64 text of a tar.gz with a report.html over 8 KiB", async () => {
  await withEmulator({ emulationMs: 0 }, async (h) => {
    const item = await foundMalicious(h, "summary");
    const r = await h.download(item.te!.summary_report!);
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-disposition") ?? "", DISPOSITION);
    assert.match(r.text, /^[A-Za-z0-9+/]+=*$/, "the body is base64 text");
    const archive = Uint8Array.fromBase64(r.text);
    assert.ok(
      archive.length > 8 * 1024,
      `archive is ${archive.length} bytes; te_api needs > 8 KiB`,
    );
    const members = listTar(await gunzip(archive));
    const html = members.find((m) => m.name === "report.html");
    assert.ok(html, `members: ${members.map((m) => m.name)}`);
    assert.ok(html.data.length > 8 * 1024);
    const page = new TextDecoder().decode(html.data);
    for (
      const expected of [
        "summary.exe",
        item.sha1!,
        item.md5!,
        item.sha256!,
        "Malicious",
        "Critical",
      ]
    ) {
      assert.ok(page.includes(expected), `report.html lacks ${expected}`);
    }
    assert.ok(page.includes("e50e99f3-5963-4573-af9e-e3f4750b55e2"), "images table");
    assert.ok(members.some((m) => m.name === "images/report.css"));
    const again = await h.download(item.te!.summary_report!);
    assert.equal(again.text, r.text, "the same report every time");
    assert.equal((await h.stats()).downloads, 2);
  });
});

Deno.test("report ids are stable per sample across queries", async () => {
  await withEmulator({ emulationMs: 0 }, async (h) => {
    const first = await foundMalicious(h, "stable");
    const second = await h.query({ sha256: first.sha256, te: REPORTS });
    assert.equal(second.te?.summary_report, first.te?.summary_report);
    assert.deepEqual(second.te?.images, first.te?.images);
    const [a, b] = first.te!.images!;
    assert.equal(a.report?.pdf_report, b.report?.pdf_report, "one pdf for all images");
    assert.notEqual(a.report?.xml_report, b.report?.xml_report, "an xml per image");
  });
});

Deno.test("pdf, xml and tar reports download raw with Content-Disposition", async () => {
  await withEmulator({ emulationMs: 0 }, async (h) => {
    const item = await foundMalicious(h, "raw");
    const image = item.te!.images![0].report!;
    const pdf = await h.download(image.pdf_report!);
    assert.equal(pdf.status, 200);
    assert.equal(pdf.headers.get("content-type"), "application/pdf");
    assert.match(pdf.headers.get("content-disposition") ?? "", /^attachment; filename=".+\.pdf"$/);
    assert.equal(pdf.text.slice(0, 5), "%PDF-");
    assert.match(pdf.text, /%%EOF\s*$/);
    const xml = await h.download(image.xml_report!);
    assert.match(xml.headers.get("content-disposition") ?? "", /^attachment; filename=".+\.xml"$/);
    assert.match(xml.text, /^<\?xml version="1.0"/);
    assert.ok(xml.text.includes(`sha1="${item.sha1}"`));
    const tar = await h.download(image.tar_report!);
    assert.equal(tar.bytes[0], 0x1f, "tar_report is raw gzip, not base64");
    const members = listTar(await gunzip(tar.bytes));
    assert.ok(members.some((m) => m.name === "report.html"));
  });
});

Deno.test("unknown and missing download ids answer 404 JSON", async () => {
  await withEmulator({}, async (h) => {
    const unknown = await h.download("00000000-0000-0000-0000-000000000000");
    assert.equal(unknown.status, 404);
    assert.equal(
      (unknown.json as { response: { status: { code: number } } }).response.status.code,
      1004,
    );
    const missing = await h.fetch("/tecloud/api/v1/file/download");
    assert.equal(missing.status, 404);
    const post = await h.fetch("/tecloud/api/v1/file/download?id=nope", { method: "POST" });
    assert.equal(post.status, 404, "POST is accepted like GET");
    assert.equal((await h.stats()).downloads, 0);
  });
});

Deno.test("benign files get reports only with te.benign_reports", async () => {
  await withEmulator({ emulationMs: 0 }, async (h) => {
    const up = await h.upload("benign with reports");
    const without = await h.query({ md5: up.md5, te: REPORTS });
    assert.equal("summary_report" in without.te!, false, "no summary report, no key");
    const withReports = await h.query({ md5: up.md5, te: { ...REPORTS, benign_reports: true } });
    const id = withReports.te?.summary_report;
    assert.ok(id);
    const r = await h.download(id);
    const members = listTar(await gunzip(Uint8Array.fromBase64(r.text)));
    const page = new TextDecoder().decode(members.find((m) => m.name === "report.html")!.data);
    assert.ok(page.includes("Benign"));
    assert.ok(page.includes("No malicious activity"));
  });
});

Deno.test("reportStyle tiny makes an archive under 8 KiB", async () => {
  const { archive } = await summaryArchive({ reportStyle: "tiny" });
  assert.ok(archive.length < 8 * 1024, `${archive.length} bytes`);
  const members = listTar(await gunzip(archive));
  assert.deepEqual(members.map((m) => m.name), ["report.html"]);
});

Deno.test("reportStyle hostile adds traversal, absolute and link members", async () => {
  const { archive } = await summaryArchive({ reportStyle: "hostile" });
  const members = listTar(await gunzip(archive));
  const byName = new Map(members.map((m) => [m.name, m]));
  assert.ok(byName.has("report.html"));
  assert.ok(byName.has("../escaped.html"));
  assert.ok(byName.has("/abs.html"));
  assert.equal(byName.get("evil")?.type, "2");
  assert.equal(byName.get("evil")?.linkName, "/etc/passwd");
  assert.equal(byName.get("hard")?.type, "1");
});

Deno.test("reportStyle invalid answers text that is neither base64 nor gzip", async () => {
  const { text } = await summaryArchive({ reportStyle: "invalid" });
  assert.throws(() => Uint8Array.fromBase64(text));
});

Deno.test("the extracted file downloads raw under its output name", async () => {
  await withEmulator({ mode: "cloud", emulationMs: 0 }, async (h) => {
    for (const method of ["pdf", "clean"] as const) {
      const request = {
        file_name: "deck.pptx",
        features: ["extraction"],
        extraction: { method },
      };
      const up = await h.upload(`slides ${method}`, request);
      const item = await h.query({ md5: up.md5, ...request });
      const r = await h.download(item.extraction!.extracted_file_download_id!);
      assert.equal(r.status, 200);
      assert.equal(
        r.headers.get("content-disposition"),
        `attachment; filename="${item.extraction!.output_file_name}"`,
      );
      if (method === "pdf") assert.equal(r.text.slice(0, 5), "%PDF-");
      else assert.match(r.text, /Cleaned copy of deck\.pptx/);
    }
  });
});

Deno.test("Content-Disposition file names are sanitised", async () => {
  await withEmulator({ mode: "cloud", emulationMs: 0 }, async (h) => {
    const request = { file_name: 'we"ird\\näme.docx', features: ["extraction"] };
    const up = await h.upload("odd name", request);
    const item = await h.query({ md5: up.md5, ...request });
    const r = await h.download(item.extraction!.extracted_file_download_id!);
    assert.equal(
      r.headers.get("content-disposition"),
      'attachment; filename="we_ird_n_me.cleaned.docx.pdf"',
    );
  });
});

Deno.test("every download kind carries Content-Disposition: attachment; filename", async () => {
  await withEmulator({ emulationMs: 0 }, async (h) => {
    const te = { reports: ["summary", "pdf", "xml", "tar", "full_report"] };
    const up = await h.upload(marked("MALICIOUS", "every-kind"), { file_name: "kinds.exe", te });
    const item = await h.query({ md5: up.md5, te });
    const report = item.te!.images![0].report!;
    const ids: Record<string, string> = {
      summary: item.te!.summary_report!,
      pdf: report.pdf_report!,
      xml: report.xml_report!,
      tar: report.tar_report!,
      full_report: report.full_report!,
    };
    for (const method of ["pdf", "clean"] as const) {
      const request = { file_name: "deck.pptx", features: ["extraction"], extraction: { method } };
      const cleaned = await h.upload(`kinds ${method}`, request);
      const found = await h.query({ md5: cleaned.md5, ...request });
      ids[`extracted (${method})`] = found.extraction!.extracted_file_download_id!;
    }
    const names = new Set<string>();
    for (const [kind, id] of Object.entries(ids)) {
      assert.ok(id, `${kind} has an id`);
      const r = await h.download(id);
      assert.equal(r.status, 200, kind);
      const match = DISPOSITION.exec(r.headers.get("content-disposition") ?? "");
      assert.ok(match, `${kind}: ${r.headers.get("content-disposition")}`);
      names.add(match[1]);
    }
    assert.equal(names.size, 7, `a distinct file name per download: ${[...names]}`);
  });
});

Deno.test("a truncate fault cuts a summary report download short, once", async () => {
  await withEmulator({ emulationMs: 0 }, async (h) => {
    const item = await foundMalicious(h, "truncated");
    const id = item.te!.summary_report!;
    await h.faults([{ kind: "truncate", path: "download" }]);
    const cut = await h.download(id);
    const whole = await h.download(id);
    assert.equal(cut.status, 200);
    assert.match(cut.headers.get("content-disposition") ?? "", DISPOSITION);
    assert.equal(cut.bytes.length, Math.floor(whole.bytes.length / 2));
    assert.ok(whole.text.startsWith(cut.text), "a prefix of the real report");
    await assert.rejects(async () => {
      await gunzip(Uint8Array.fromBase64(cut.text.slice(0, cut.text.length & ~3)));
    }, "what arrived is not a whole archive");
    const members = listTar(await gunzip(Uint8Array.fromBase64(whole.text)));
    assert.ok(members.some((m) => m.name === "report.html"), "the retry gets it whole");
    const stats = await h.stats();
    assert.equal(stats.faults_injected, 1);
  });
});
