// What the appliance says about a malicious file reaches the operator: severity and confidence on
// the file's line, the whole finding in the log and in response.json, severity on index.html.
import assert from "node:assert/strict";
import { join } from "node:path";
import { eicarText } from "../../lib/emulator/mod.ts";
import {
  captureScan,
  fastFlags,
  namesIn,
  readLog,
  scanFolders,
  sortFlags,
  tempDir,
  withEmulator,
  writeTree,
} from "../helpers.ts";

Deno.test("a malicious file's severity, confidence and threat name reach line, log, response and page", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, {
    "mail/invoice.docm": "Invoice TE-EMULATOR-MALICIOUS macro\n",
    "mail/eicar.com": eicarText(),
    "docs/ok.txt": "fine\n",
  });
  await withEmulator({}, async (emulator) => {
    const run = await captureScan([
      ...sortFlags(f),
      ...fastFlags(emulator.port),
      "--features",
      "te,av",
    ]);
    assert.equal(run.code, 1, run.err.join("\n"));

    const line = (rel: string) =>
      run.out.find((l) => l.startsWith("MALICIOUS ") && l.includes(rel));
    assert.match(line("mail/invoice.docm") ?? "", / {2}severity critical, confidence high( {2}|$)/);
    // AV's signature is named once on the line (by the detection's reason), not again as the
    // threat's name or as a separate "AV:" note.
    const eicarLine = line("mail/eicar.com") ?? "";
    assert.match(eicarLine, / {2}severity critical, confidence high {2}/);
    assert.equal(eicarLine.split("EICAR-Test-File").length - 1, 1, eicarLine);
    const benign = run.out.find((l) => l.includes("docs/ok.txt")) ?? "";
    assert.doesNotMatch(benign, /severity|confidence/);

    const files = (await readLog(f.rep)).filter((e) => e.event === "file");
    const eicar = files.find((e) => e.file === "mail/eicar.com")!;
    assert.deepEqual(eicar.threat, {
      source: "te",
      severity: 4,
      severityName: "critical",
      confidence: 3,
      confidenceName: "high",
      name: "EICAR-Test-File",
    });
    const invoice = files.find((e) => e.file === "mail/invoice.docm")!;
    assert.equal((invoice.threat as { confidence?: number }).confidence, 3);
    assert.equal(files.find((e) => e.file === "docs/ok.txt")!.threat, undefined);

    const response = JSON.parse(
      await Deno.readTextFile(join(f.rep, "mail/eicar.com.response.json")),
    );
    assert.equal(response.te.severity, 4);
    assert.equal(response.te.confidence, 3);
    assert.equal(response.av.malware_info.signature_name, "EICAR-Test-File");

    const html = await Deno.readTextFile(join(f.rep, "index.html"));
    const row = html.split("\n").find((l) => l.includes(">mail/eicar.com<")) ?? "";
    assert.match(
      row,
      /<td>severity critical, confidence high; anti-virus: EICAR-Test-File<\/td>/,
    );
    const invoiceRow = html.split("\n").find((l) => l.includes(">mail/invoice.docm<")) ?? "";
    assert.match(invoiceRow, /<td>severity critical, confidence high<\/td>/);
  });
});

Deno.test("a scan names each image's report with the image id, numbered with the file's others", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "b.docx": "TE-EMULATOR-MALICIOUS\n" });
  await withEmulator({}, async (emulator) => {
    const flags = [...sortFlags(f), ...fastFlags(emulator.port), "--reports", "summary,xml"];
    const run = await captureScan(flags);
    assert.equal(run.code, 1, run.err.join("\n"));
    const response = JSON.parse(await Deno.readTextFile(join(f.rep, "b.docx.response.json")));
    const images: string[] = response.te.images.map((image: { id: string }) => image.id);
    assert.ok(images.length >= 2, "the emulator answers with its default images");
    const names = (await namesIn(f.rep)).filter((name) => name.endsWith(".report.xml"));
    assert.deepEqual(names, images.map((id) => `b.docx.${id}.report.xml`).sort());

    // A second file of the same name takes the next number, its image reports too.
    await writeTree(f.input, { "b.docx": "TE-EMULATOR-MALICIOUS again\n" });
    const again = await captureScan(flags);
    assert.equal(again.code, 1, again.err.join("\n"));
    const numbered = (await namesIn(f.rep)).filter((name) => name.startsWith("b.1.docx."));
    assert.deepEqual(
      numbered,
      [
        ...images.map((id) => `b.1.docx.${id}.report.xml`),
        "b.1.docx.report.tar.gz",
        "b.1.docx.response.json",
      ].sort(),
    );
  });
});
