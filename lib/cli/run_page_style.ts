/**
 * The run page's stylesheet, inlined into every `REP/index.html` so the page
 * needs nothing beside it (opened offline, mailed, copied with the reports
 * folder). Kept apart from run_page.ts, which is about what the page says.
 *
 * Colours follow the console's: green benign, red malicious, amber
 * unresolved, grey skipped. Long paths wrap anywhere rather than widen the
 * table. A light and a dark scheme follow the reader's system.
 *
 * @module
 */

/** The CSS of `REP/index.html`. */
export const RUN_PAGE_CSS = `
:root {
  color-scheme: light dark;
  --fg: #1b1b1b; --bg: #fff; --muted: #666; --line: #ddd; --head: #f4f4f4;
  --benign: #2e7d32; --malicious: #c62828; --error: #e65100; --skipped: #757575;
  --uploaded: #1565c0; --duplicates: #6a1b9a; --files: #37474f;
}
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6e6e6; --bg: #161616; --muted: #aaa; --line: #3a3a3a; --head: #222; }
}
body { font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg);
  margin: 0 auto; padding: 1rem 1.5rem 3rem; max-width: 80rem; }
h1 { font-size: 1.6rem; margin: 0.5rem 0; }
h2 { font-size: 1.2rem; margin: 2rem 0 0.6rem; border-bottom: 1px solid var(--line); }
h2 .n { color: var(--muted); font-weight: normal; }
.headline { font-size: 1.15rem; font-weight: 600; padding: 0.5rem 0.8rem; border-radius: 4px;
  border-left: 6px solid var(--files); background: var(--head); }
.headline.malicious { border-color: var(--malicious); }
.headline.uncontained { border-color: var(--malicious); background: #ffebee; font-weight: 700; }
.headline.error, .headline.stopped { border-color: var(--error); }
.headline.benign { border-color: var(--benign); }
.counts { display: flex; flex-wrap: wrap; gap: 0.6rem; margin: 0 0 1rem; }
.count { border: 1px solid var(--line); border-top: 4px solid var(--files); border-radius: 4px;
  padding: 0.4rem 0.9rem; min-width: 6.5rem; }
.count dt { color: var(--muted); font-size: 0.85rem; }
.count dd { margin: 0; font-size: 1.5rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.count.benign { border-top-color: var(--benign); }
.count.malicious { border-top-color: var(--malicious); }
.count.uncontained { border-top-color: var(--malicious); background: #ffebee; }
.count.error { border-top-color: var(--error); }
.count.skipped { border-top-color: var(--skipped); }
.count.uploaded { border-top-color: var(--uploaded); }
.count.duplicates { border-top-color: var(--duplicates); }
.chart { max-width: 100%; height: auto; font-size: 13px; }
.chart text { fill: var(--fg); }
.chart line { stroke: var(--line); }
.chart rect.benign { fill: var(--benign); }
.chart rect.malicious { fill: var(--malicious); }
.chart rect.error { fill: var(--error); }
.chart rect.skipped { fill: var(--skipped); }
.chart rect.uploaded { fill: var(--uploaded); }
.chart rect.duplicates { fill: var(--duplicates); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 0.3rem 0.6rem;
  border-bottom: 1px solid var(--line); }
thead th { background: var(--head); position: sticky; top: 0; }
.settings th { width: 11rem; color: var(--muted); font-weight: normal; }
.settings td, td.path { overflow-wrap: anywhere; font-family: ui-monospace, monospace;
  font-size: 0.9rem; }
tr[data-state="malicious"] td.outcome { color: var(--malicious); font-weight: 600; }
tr.uncontained { background: #ffebee; }
tr[data-state="error"] td.outcome { color: var(--error); }
tr[data-state="skipped"] td.outcome { color: var(--skipped); }
td.links { white-space: nowrap; }
.none, .more, footer { color: var(--muted); }
`;
