import assert from "node:assert/strict";
import { decodeSummaryReport, ReportFormatError } from "../../lib/pipeline/reports.ts";
import { tarGz } from "../../lib/emulator/mod.ts";

Deno.test("summary reports: base64 text of a tar.gz, with line breaks, or the archive itself", async () => {
  const archive = await tarGz([{ name: "report.html", data: "<html></html>" }]);
  const base64 = archive.toBase64();
  assert.deepEqual(decodeSummaryReport(new TextEncoder().encode(base64)), archive);
  const wrapped = base64.match(/.{1,76}/g)!.join("\r\n") + "\n";
  assert.deepEqual(decodeSummaryReport(new TextEncoder().encode(wrapped)), archive);
  assert.deepEqual(decodeSummaryReport(archive), archive);
});

Deno.test("summary reports that are neither are refused with a clear error", () => {
  assert.throws(
    () => decodeSummaryReport(new TextEncoder().encode("<html>not found</html>")),
    (error) => error instanceof ReportFormatError && /neither gzip nor base64/.test(error.message),
  );
  assert.throws(
    () => decodeSummaryReport(new TextEncoder().encode(btoa("plain text, not gzip"))),
    /base64 but not gzip/,
  );
});
