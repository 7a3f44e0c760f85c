"""The report's stylesheet, inlined into the page (the report is one self-contained file).

Colours keep at least 4.5:1 against their background for text and 3:1 for the chart's
shapes; nothing is told by colour alone (verdicts are words, days below the target are
also hatched). The print rules lay the page out on A4, one contract per page group.
"""

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #1b1b1b;
  background: #fff; margin: 0 auto; max-width: 60rem; padding: 1.5rem; font-size: 0.95rem;
  line-height: 1.4; }
h1 { font-size: 1.5rem; margin: 0 0 0.25rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 0.5rem; border-bottom: 2px solid #1b1b1b; }
h3 { font-size: 1.05rem; margin: 1.25rem 0 0.4rem; }
p.meta { margin: 0.2rem 0; color: #3b3b3b; }
table { border-collapse: collapse; width: 100%; margin: 0.4rem 0 0.8rem; font-size: 0.85rem; }
caption { text-align: left; font-weight: bold; padding: 0.2rem 0; }
th, td { border: 1px solid #8c8c8c; padding: 0.2rem 0.35rem; text-align: left;
  vertical-align: top; }
th { background: #e8e8e8; }
td.time { white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.verdict { font-weight: bold; white-space: nowrap; }
.verdict.bad { color: #8a1c4b; }
.verdict.good { color: #1d5e2f; }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 1rem;
  margin: 0.5rem 0; }
dl.summary dt { font-weight: bold; }
dl.summary dd { margin: 0; }
.note { font-size: 0.85rem; color: #3b3b3b; }
figure { margin: 0.5rem 0 0.8rem; }
figcaption { font-size: 0.8rem; color: #3b3b3b; }
svg.chart { width: 100%; height: auto; display: block; }
svg .axis { stroke: #1b1b1b; stroke-width: 1; }
svg .bar { fill: #2f5d9e; }
svg .below { stroke: #8a1c4b; stroke-width: 1; }
svg .hatch-bg { fill: #f3d5e3; }
svg .hatch { stroke: #8a1c4b; stroke-width: 2.5; }
svg .nodata { fill: #ececec; stroke: #6b6b6b; stroke-dasharray: 1 2; }
svg .pending { fill: none; stroke: #6b6b6b; stroke-dasharray: 3 2; }
svg .target { stroke: #1b1b1b; stroke-width: 1; stroke-dasharray: 5 3; }
svg text { font-family: inherit; fill: #1b1b1b; }
svg .tick { font-size: 9px; text-anchor: end; }
svg .day { font-size: 8px; text-anchor: middle; }
svg .mark { font-size: 8px; text-anchor: middle; font-weight: bold; }
footer { margin-top: 2rem; font-size: 0.8rem; color: #3b3b3b; }
@media print {
  @page { size: A4; margin: 14mm 12mm 16mm; }
  body { max-width: none; padding: 0; font-size: 9.5pt; }
  section.contract + section.contract { break-before: page; }
  h2, h3 { break-after: avoid; }
  tr, figure, dl.summary, .slo-head { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""
