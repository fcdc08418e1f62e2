import assert from "node:assert/strict";
import { globToRegExp, matchesAnyGlob } from "../../lib/pipeline/glob.ts";

function assertMatches(glob: string, matching: string[], notMatching: string[]) {
  const regExp = globToRegExp(glob);
  for (const relPath of matching) {
    assert.ok(regExp.test(relPath), `${glob} should match ${relPath}`);
  }
  for (const relPath of notMatching) {
    assert.ok(!regExp.test(relPath), `${glob} should not match ${relPath}`);
  }
}

Deno.test("a pattern without a slash matches the base name at any depth", () => {
  assertMatches("*.tmp", ["x.tmp", "a/x.tmp", "a/b/x.tmp", ".tmp"], [
    "x.tmp.docx",
    "x.tmp/y.docx",
    "xtmp",
  ]);
  assertMatches("Thumbs.db", ["Thumbs.db", "photos/2024/Thumbs.db"], ["photos/Thumbs.db.bak"]);
});

Deno.test("a pattern with a slash matches the whole relative path", () => {
  assertMatches("src/*.ts", ["src/a.ts"], ["a.ts", "lib/src/a.ts", "src/deep/a.ts"]);
  assertMatches("/x.tmp", ["x.tmp"], ["a/x.tmp"]);
});

Deno.test("a trailing slash is ignored, so a folder name matches at any depth", () => {
  assertMatches("node_modules/", ["node_modules", "web/node_modules"], ["node_modules_old"]);
});

Deno.test("a single star never crosses a folder separator", () => {
  assertMatches("a/*", ["a/x", "a/.hidden"], ["a/x/y", "a"]);
  assertMatches("a/*/c", ["a/b/c"], ["a/c", "a/b/b/c"]);
});

Deno.test("a double star crosses folders and its slash may match no folder", () => {
  assertMatches("**/*.exe", ["x.exe", "a/x.exe", "a/b/c/x.exe"], ["x.exe.txt"]);
  assertMatches("a/**/x.exe", ["a/x.exe", "a/b/x.exe", "a/b/c/x.exe"], ["b/x.exe", "ax.exe"]);
  assertMatches("build/**", ["build/x", "build/a/b"], ["build", "src/build/x", "buildx/y"]);
  assertMatches("a**z", ["az", "a/b/z", "abz"], ["za"]);
});

Deno.test("a question mark is exactly one character other than a slash", () => {
  assertMatches("file?.txt", ["file1.txt", "d/fileA.txt"], ["file.txt", "file12.txt"]);
  assertMatches("a?b", ["axb"], ["a/b"]);
});

Deno.test("character classes, ranges and negated classes", () => {
  assertMatches("[abc].doc", ["a.doc", "c.doc"], ["d.doc", "ab.doc"]);
  assertMatches("report-[0-9].pdf", ["report-7.pdf"], ["report-x.pdf"]);
  assertMatches("[!a-y]*.log", ["z1.log", "Z.log"], ["a.log", "m.log"]);
  assertMatches("[^a-y]*.log", ["z1.log"], ["b.log"]);
  assertMatches("x[]]y", ["x]y"], ["xy"]);
  assertMatches("a[!b]c", ["axc"], ["a/c", "abc"]);
  // An unclosed bracket is a literal character, not an error.
  assertMatches("a[b", ["a[b"], ["ab"]);
});

Deno.test("brace alternatives, nested, with wildcards inside", () => {
  assertMatches("*.{doc,docx,xls}", ["a.doc", "b/a.docx", "a.xls"], ["a.pdf", "a.do"]);
  assertMatches("{src,lib}/**/*.ts", ["src/a.ts", "lib/x/y.ts"], ["test/a.ts"]);
  assertMatches("x.{a,b{c,d}}", ["x.a", "x.bc", "x.bd"], ["x.b", "x.ab"]);
  assertMatches("a{b", ["a{b"], ["ab"]);
});

Deno.test("regular-expression characters in a pattern are literals", () => {
  assertMatches("a+b (1).$x^", ["a+b (1).$x^"], ["aab (1).$x^", "a+b 1.$x^"]);
  assertMatches("x.txt", ["x.txt"], ["xytxt"]);
  assertMatches("\\*.txt", ["*.txt"], ["a.txt"]);
  assertMatches("a|b", ["a|b"], ["a", "b"]);
});

Deno.test("matching is case-sensitive", () => {
  assertMatches("*.EXE", ["A.EXE"], ["a.exe", "a.Exe"]);
});

Deno.test("an empty pattern matches nothing", () => {
  assertMatches("", [], ["", "a", "a/b"]);
  assertMatches("/", [], ["a"]);
});

Deno.test("matchesAnyGlob is true when any one pattern matches", () => {
  assert.equal(matchesAnyGlob("a/b/x.tmp", ["*.log", "*.tmp"]), true);
  assert.equal(matchesAnyGlob("a/b/x.docx", ["*.log", "*.tmp"]), false);
  assert.equal(matchesAnyGlob("a/b/x.docx", []), false);
  // Cached compilation must not leak between patterns: ask twice in both orders.
  assert.equal(matchesAnyGlob("x.log", ["*.log"]), true);
  assert.equal(matchesAnyGlob("x.log", ["*.tmp"]), false);
});
