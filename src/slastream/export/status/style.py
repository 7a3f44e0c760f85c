"""The status pages' stylesheet, inlined (the pages load nothing else).

Text colours keep at least 4.5:1 against their background and shapes 3:1; a state is
always a word as well as a colour, and the day bars differ in height and pattern too (a
day below the target is shorter, a day without data is an empty dashed outline, an
excused maintenance day is striped). The layout is one column on a phone.
"""

from slastream.report.style import CSS as REPORT_CSS

# The daily chart of the SLO page is the report's (report/chart.py): its rules come along.
CHART_CSS = "\n".join(line for line in REPORT_CSS.splitlines() if line.startswith("svg "))

CSS = """
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1d2125; background: #fafbfc; margin: 0 auto; max-width: 64rem; padding: 1rem; }
h1 { font-size: 1.45rem; margin: 0 0 .2rem; }
h2 { font-size: 1.2rem; margin: 1.8rem 0 .5rem; border-bottom: 2px solid #1d2125; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
h4 { font-size: 1rem; margin: 0; }
a { color: #0b4f9c; }
nav.months { display: flex; flex-wrap: wrap; gap: .4rem 1rem; margin: .6rem 0; }
.muted { color: #505a63; }
.overall { padding: .7rem 1rem; border-radius: 4px; font-weight: 600; border: 2px solid; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; background: #fff; font-size: .9rem; }
caption { text-align: left; font-weight: 600; padding: .2rem 0; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #d0d5da;
  vertical-align: top; }
thead th { background: #eef1f4; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.ok { color: #1a6b32; font-weight: 600; }
.bad { color: #b3141f; font-weight: 600; }
.warn { color: #7d5300; font-weight: 600; }
.state { display: inline-block; padding: .05rem .5rem; border-radius: 3px;
  font-weight: 600; font-size: .85rem; border: 1px solid; white-space: nowrap; }
.state-operational { color: #1a6b32; background: #e6f4ea; }
.state-degraded { color: #7d5300; background: #fff4d6; }
.state-outage { color: #fff; background: #b3141f; border-color: #b3141f; }
.state-maintenance { color: #0b4f9c; background: #e3eefa; }
.state-no_data, .state-insufficient_data { color: #3d454d; background: #eceff1; }
.component { background: #fff; border: 1px solid #d0d5da; border-radius: 4px;
  padding: .6rem .8rem; margin: .5rem 0; }
.component header { display: flex; flex-wrap: wrap; justify-content: space-between;
  gap: .3rem; align-items: baseline; }
.uptime { display: flex; justify-content: space-between; font-size: .8rem; color: #505a63; }
svg.bars { width: 100%; height: 2.2rem; display: block; margin: .4rem 0 .1rem; }
svg.bars .ok { fill: #2b8a3e; }
svg.bars .downtime { fill: #b86e00; }
svg.bars .below { fill: #b3141f; }
svg.bars .maintenance { fill: url(#stripes); }
svg.bars .no_data { fill: #fff; stroke: #6b7580; stroke-width: .6; stroke-dasharray: 1 1; }
svg.line { width: 100%; height: auto; display: block; background: #fff; }
svg.line .axis { stroke: #1d2125; stroke-width: 1; }
svg.line .grid { stroke: #8c959f; stroke-width: 1; stroke-dasharray: 4 3; }
svg.line .series { fill: none; stroke: #0b4f9c; stroke-width: 2; }
svg.line .point { fill: #0b4f9c; }
svg.line text { font-size: 10px; fill: #1d2125; }
svg.line .tick { text-anchor: end; }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; }
dl.summary dt { font-weight: 600; }
dl.summary dd { margin: 0; }
details { margin: .3rem 0; }
footer { margin-top: 2rem; font-size: .85rem; color: #505a63; }
@media (max-width: 40rem) {
  body { padding: .6rem; font-size: 14px; }
  th, td { padding: .3rem .35rem; }
  dl.summary { grid-template-columns: 1fr; }
}
""" + CHART_CSS
