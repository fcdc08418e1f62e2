import assert from "node:assert/strict";
import { join } from "node:path";
import { ReportFiles } from "../../lib/pipeline/report_files.ts";
import { tarGz } from "../../lib/emulator/mod.ts";
import { namesIn, withTempDir } from "../helpers.ts";

const status = { code: 1001, label: "FOUND" };

Deno.test("reruns number the response file, the archive and the report folder alike", async () => {
  await withTempDir(async (rep) => {
    const files = new ReportFiles(rep);
    const archive = await tarGz([{ name: "report.html", data: "<html>summary</html>" }]);
    const summary = { format: "summary" as const, id: "r1", bytes: archive };
    // A cache hit (response only), a malicious rerun (with its report), another cache hit.
    const hit = await files.write("a/b.docx", { status }, []);
    const malicious = await files.write("a/b.docx", { status }, [summary]);
    const again = await files.write("a/b.docx", { status }, []);
    assert.equal(hit.responseFile, join(rep, "a", "b.docx.response.json"));
    assert.equal(malicious.responseFile, join(rep, "a", "b.1.docx.response.json"));
    assert.deepEqual(malicious.reportFiles, [join(rep, "a", "b.1.docx.report.tar.gz")]);
    assert.equal(malicious.reportDir, join(rep, "a", "b.1.docx_report"));
    assert.equal(again.responseFile, join(rep, "a", "b.2.docx.response.json"));
    assert.deepEqual(await namesIn(join(rep, "a")), [
      "b.1.docx.report.tar.gz",
      "b.1.docx.response.json",
      "b.1.docx_report",
      "b.2.docx.response.json",
      "b.docx.response.json",
    ]);
    const html = await Deno.readTextFile(join(rep, "a", "b.1.docx_report", "report.html"));
    assert.equal(html, "<html>summary</html>");
  });
});

Deno.test("a report folder left by an earlier run moves the whole set to the next number", async () => {
  await withTempDir(async (rep) => {
    await Deno.mkdir(join(rep, "x.exe_report"));
    const files = new ReportFiles(rep);
    const pdf = { format: "pdf" as const, id: "r2", bytes: new TextEncoder().encode("%PDF-") };
    const written = await files.write("x.exe", { status }, [pdf]);
    assert.equal(written.responseFile, join(rep, "x.1.exe.response.json"));
    assert.deepEqual(written.reportFiles, [join(rep, "x.1.exe.report.pdf")]);
    assert.equal(await Deno.readTextFile(join(rep, "x.1.exe.report.pdf")), "%PDF-");
  });
});

Deno.test("per-image reports carry the image id, in the one numbering scheme", async () => {
  await withTempDir(async (rep) => {
    const files = new ReportFiles(rep);
    const xp = "e50e99f3-5963-4573-af9e-e3f4750b55e2";
    const win7 = "5e5de275-a103-4f67-b55b-47532918fa59";
    const xml = (id: string, imageId: string) => ({
      format: "xml" as const,
      id,
      imageId,
      bytes: new TextEncoder().encode(`<report image="${imageId}"/>`),
    });
    const reports = [xml("x1", xp), xml("x2", win7)];
    const first = await files.write("a/b.docx", { status }, reports);
    const second = await files.write("a/b.docx", { status }, reports);
    assert.deepEqual(first.reportFiles, [
      join(rep, "a", `b.docx.${xp}.report.xml`),
      join(rep, "a", `b.docx.${win7}.report.xml`),
    ]);
    assert.deepEqual(second.reportFiles, [
      join(rep, "a", `b.1.docx.${xp}.report.xml`),
      join(rep, "a", `b.1.docx.${win7}.report.xml`),
    ]);
    assert.equal(second.responseFile, join(rep, "a", "b.1.docx.response.json"));
    const text = await Deno.readTextFile(join(rep, "a", `b.docx.${win7}.report.xml`));
    assert.equal(text, `<report image="${win7}"/>`);
  });
});

Deno.test("an image id that is not a plain id never becomes part of a path", async () => {
  await withTempDir(async (rep) => {
    const files = new ReportFiles(rep);
    const bytes = new TextEncoder().encode("<x/>");
    const written = await files.write("b.docx", { status }, [
      { format: "xml", id: "x1", imageId: "../../escape", bytes },
      { format: "xml", id: "x2", imageId: "a.b", bytes },
    ]);
    // Named like a report without an image; the second takes the next number.
    assert.deepEqual(written.reportFiles, [
      join(rep, "b.docx.report.xml"),
      join(rep, "b.1.docx.report.xml"),
    ]);
    assert.deepEqual(await namesIn(rep), [
      "b.1.docx.report.xml",
      "b.docx.report.xml",
      "b.docx.response.json",
    ]);
  });
});

Deno.test("a rerun over the same file (same path, same SHA-1) replaces its own files; other content numbers", async () => {
  await withTempDir(async (rep) => {
    const files = new ReportFiles(rep);
    const sha1 = "a".repeat(40);
    const archive = (text: string) => tarGz([{ name: "report.html", data: text }]);
    const summary = async (text: string) => ({
      format: "summary" as const,
      id: "r1",
      bytes: await archive(text),
    });
    await files.write("b.doc", { status, sha1 }, [await summary("first")], sha1);
    const again = await files.write("b.doc", { status, sha1 }, [await summary("second")], sha1);
    assert.equal(again.responseFile, join(rep, "b.doc.response.json"), "replaced, not numbered");
    assert.equal(again.reportDir, join(rep, "b.doc_report"));
    assert.equal(await Deno.readTextFile(join(rep, "b.doc_report", "report.html")), "second");
    const other = "b".repeat(40);
    const changed = await files.write("b.doc", { status, sha1: other }, [], other);
    assert.equal(changed.responseFile, join(rep, "b.1.doc.response.json"), "new content numbers");
    const back = await files.write("b.doc", { status, sha1: other }, [], other.toUpperCase());
    assert.equal(back.responseFile, join(rep, "b.1.doc.response.json"), "found at its number");
    assert.deepEqual(await namesIn(rep), [
      "b.1.doc.response.json",
      "b.doc.report.tar.gz",
      "b.doc.response.json",
      "b.doc_report",
    ]);
  });
});
