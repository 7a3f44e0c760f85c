"""The page of one SLO in one month: its state, the daily chart, the error budget left at
the end of each day and the burn rate of each day, with the same numbers as a table.

Budget left after day *d* is the ledger's formula over the month so far:
1 − downtime / ((1 − objective) × (minutes − excused minutes)), so the last day's value is
the ledger's ``error_budget_remaining``. A day's burn rate is its unavailability over the
allowed unavailability (1 − objective): 1 spends the budget exactly by the month's end.
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from slastream.export.status import tables
from slastream.export.status.model import SloStatus, StatusPage
from slastream.export.status.page import month_nav, shell, state_label
from slastream.export.status.svg import line
from slastream.report.chart import daily_chart
from slastream.report.daily import Day
from slastream.report.text import day_label

DAY_COLUMNS = ("day", "availability", "downtime (min)", "excused (min)", "no data (min)",
               "budget left", "burn rate")


def budget_and_burn(days: tuple[Day, ...], objective: float | None
                    ) -> list[tuple[float | None, float | None]]:
    """Per judged day: (budget left after it, its burn rate); None where undefined."""
    out: list[tuple[float | None, float | None]] = []
    counted = down = 0.0
    for d in days:
        if d.final_minutes <= 0:
            break
        denom = d.final_minutes - d.excused_minutes
        counted += denom
        down += d.downtime_minutes
        if objective is None or objective >= 1.0:
            out.append((None, None))
            continue
        allowed = 1.0 - objective
        budget = 1.0 - down / (allowed * counted) if counted > 0 else None
        burn = d.downtime_minutes / denom / allowed if denom > 0 else None
        out.append((budget, burn))
    return out


def _fmt(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _day_rows(s: SloStatus, page: StatusPage, figures: list[tuple[float | None, float | None]]
              ) -> str:
    rows = []
    for d, (budget, burn) in zip(s.days, figures, strict=False):
        nd = "—" if d.no_data_minutes is None else str(d.no_data_minutes)
        rows.append(
            f"<tr><th scope=\"row\">{escape(day_label(d.start_ms, page.ledger.period))}</th>"
            f'<td class="num">{tables.pct(d.availability, 4)}</td>'
            f'<td class="num">{d.downtime_minutes:.0f}</td>'
            f'<td class="num">{d.excused_minutes:.0f}</td><td class="num">{nd}</td>'
            f'<td class="num">{tables.pct(budget, 1)}</td>'
            f'<td class="num">{_fmt(burn, 2)}</td></tr>')
    return "".join(rows) or '<tr><td colspan="7" class="muted">no day judged yet</td></tr>'


def _section(s: SloStatus, page: StatusPage, n: int) -> str:
    e = s.entry
    period = page.ledger.period
    figures = budget_and_burn(s.days, e.objective)
    labels = [day_label(d.start_ms, period) for d in s.days[:len(figures)]]
    budgets = [None if b is None else b * 100 for b, _ in figures]
    burns = [r for _, r in figures]
    last_b = next((b for b in reversed(budgets) if b is not None), None)
    worst = max((r for r in burns if r is not None), default=None)
    budget_svg = line(f"Error budget left, {e.name} ({e.scope})",
                      f"Error budget left at the end of each day of {page.month}; "
                      f"{_fmt(last_b, 1)} % left after the last judged day.",
                      labels, budgets, " %", 0.0, f"b{n}")
    burn_svg = line(f"Burn rate per day, {e.name} ({e.scope})",
                    f"Burn rate of each day of {page.month} (1 spends the budget exactly "
                    f"by the month's end); highest {_fmt(worst, 2)}.",
                    labels, burns, "", 1.0, f"r{n}")
    return f"""<section aria-labelledby="s{n}">
<h2 id="s{n}">{escape(e.name)} <span class="muted">({escape(e.scope)})</span></h2>
<dl class="summary">
<dt>State</dt><dd>{state_label(s.state)}</dd>
<dt>SLI</dt><dd>{escape(e.sli)}</dd>
<dt>Availability</dt><dd>{tables.pct(e.availability, 4)}</dd>
<dt>Objective</dt><dd>{tables.pct(e.objective, 3)}</dd>
<dt>Verdict</dt><dd>{escape(e.status.replace("_", " "))}, evidence {tables.pct(e.coverage, 1)}</dd>
<dt>Downtime</dt><dd>{e.downtime_minutes:.0f} min counted, {e.excused_minutes:.0f} min excused</dd>
<dt>Error budget left</dt><dd>{tables.pct(e.error_budget_remaining, 1)}</dd>
</dl>
<h3>Daily availability</h3>
<figure>{daily_chart(f"{e.name} ({e.scope})", s.days, period, e.objective, f"d{n}")}</figure>
<h3>Error budget over the month</h3>
<figure>{budget_svg}</figure>
<h3>Burn rate</h3>
<figure>{burn_svg}</figure>
<details><summary>The days as a table</summary><div class="table-wrap"><table>
{tables.thead(*DAY_COLUMNS)}
<tbody>{_day_rows(s, page, figures)}</tbody></table></div></details>
</section>"""


def render_slo_page(page: StatusPage, name: str) -> str | None:
    """The page of SLO ``name`` (every scope of it); None when the month has no such SLO."""
    mine = [s for s in page.slos if s.entry.name == name]
    if not mine:
        return None
    incidents = tuple(i for i in page.incidents if i.slo == name)
    sections = "\n".join(_section(s, page, n) for n, s in enumerate(mine))
    body = f"""<header>
<h1>{escape(name)} — {escape(page.month)}</h1>
<p><a href="{page.root or "/"}?month={page.month}">← status page</a></p>
{month_nav(page, page.root + "/slo/" + quote(name, safe=""))}
</header>
<main>
{sections}
<h2>Incidents</h2>
<div class="table-wrap"><table>
{tables.thead(*tables.INCIDENT_COLUMNS)}
<tbody>{tables.incident_rows(incidents)}</tbody></table></div>
</main>"""
    return shell(f"{name} · {page.month}", body, page.current)
