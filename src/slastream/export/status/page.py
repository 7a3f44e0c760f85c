"""The status page of a month: states, 90 daily bars per SLO, incidents, maintenance.

Server-rendered HTML, no script and no external asset; every text from the ledger is
escaped (SLO, scope and exclusion texts come from config files and operators' messages).
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from slastream.export.status import tables
from slastream.export.status.model import STATE_TEXT, SloStatus, State, StatusPage
from slastream.export.status.style import CSS
from slastream.export.status.svg import DEFS, strip
from slastream.model.ledger import ExclusionEntry, Ledger
from slastream.model.time import format_rfc3339_s

OVERALL: dict[State, str] = {
    "operational": "All objectives operational", "degraded": "Some objectives degraded",
    "outage": "Outage in progress", "maintenance": "Maintenance in progress",
    "no_data": "No data yet", "insufficient_data": "Too little evidence to tell"}


def state_label(state: State) -> str:
    """The state as a word in a labelled box (the colour only repeats the word)."""
    return f'<span class="state state-{state}">{STATE_TEXT[state]}</span>'


def shell(title: str, body: str, refresh: bool) -> str:
    """A whole HTML document around ``body``."""
    meta = '<meta http-equiv="refresh" content="30">\n' if refresh else ""
    return ("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"{meta}<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"{DEFS}\n{body}\n</body>\n</html>\n")


def slo_href(name: str, month: str, root: str = "") -> str:
    return f"{root}/slo/{quote(name, safe='')}?month={month}"


def month_nav(page: StatusPage, base: str) -> str:
    links = [f'<a href="{base}?month={page.previous}" rel="prev">← {page.previous}</a>']
    if page.next is not None:
        links.append(f'<a href="{base}?month={page.next}" rel="next">{page.next} →</a>')
    if not page.current:
        links.append(f'<a href="{base}">current month</a>')
    return f'<nav class="months" aria-label="Months">{"".join(links)}</nav>'


def _uptime(s: SloStatus) -> str:
    judged = [b for b in s.history if b.availability is not None]
    if not judged:
        return "no data"
    avail = sum(b.availability or 0.0 for b in judged) / len(judged)
    return f"{avail * 100:.3f} % (mean of {len(judged)} days with data)"


def _component(s: SloStatus, month: str, uid: str, root: str = "") -> str:
    e = s.entry
    first = s.history[0].date if s.history else ""
    last = s.history[-1].date if s.history else ""
    return (
        f'<article class="component" aria-labelledby="{uid}-h"><header>'
        f'<h4 id="{uid}-h"><a href="{slo_href(e.name, month, root)}">{escape(e.name)}</a> '
        f'<span class="muted">({escape(e.scope)})</span></h4>'
        f"<span>State: {state_label(s.state)}</span></header>"
        f"{strip(f'{e.name} ({e.scope})', s.history, uid)}"
        f'<div class="uptime"><span>{escape(first)}</span>'
        f"<span>{len(s.history)} days: {escape(_uptime(s))}</span>"
        f"<span>{escape(last)}</span></div></article>")


def _states(page: StatusPage) -> str:
    out = [f'<p class="overall state-{page.state}" role="status">'
           f"{OVERALL[page.state]}</p>"]
    n = 0
    for c in page.contracts:
        out.append(f"<h3>{escape(c.name)} — {state_label(c.state)}</h3>")
        for s in c.slos:
            n += 1
            out.append(_component(s, page.month, f"c{n}", page.root))
    if not page.slos:
        out.append('<p class="muted">no objectives in the config</p>')
    return "\n".join(out)


def _exclusions(items: tuple[ExclusionEntry, ...], empty: str) -> str:
    if not items:
        return f'<p class="muted">{empty}</p>'
    rows = "".join(
        f"<tr><td>{escape(x.id)}</td><td>{escape(x.kind)}</td><td>{escape(x.scope)}</td>"
        f"<td>{format_rfc3339_s(x.start_ms)}</td><td>{format_rfc3339_s(x.end_ms)}</td>"
        f"<td>{escape(x.reason)}</td></tr>" for x in items)
    head = tables.thead("id", "kind", "scope", "start", "end", "verdict")
    return f'<div class="table-wrap"><table>{head}<tbody>{rows}</tbody></table></div>'


def _legend() -> str:
    return ('<details><summary>How to read the bars</summary><p>One bar per day, oldest '
            "left. A full green bar: no downtime. A shorter amber bar: downtime, still within "
            "the target. The shortest, red bar: below the target. A striped bar: excused "
            "maintenance. An empty dashed outline: no data for that day. Every bar has a "
            "tooltip with the day's figures; each objective's page has them as a table."
            "</p></details>")


def _support(led: Ledger) -> str:
    html = tables.support_section(led)
    return f"<h2>Support</h2>\n{html}\n" if html else ""


def render_page(page: StatusPage) -> str:
    """The status page of ``page.month``."""
    led = page.ledger
    p = led.period
    when = "now" if page.current else "at the end of the month"
    period_line = (f"{format_rfc3339_s(p.start_ms)} – {format_rfc3339_s(p.end_ms)} "
                   f"({p.timezone}), final up to {format_rfc3339_s(p.as_of_ms)}")
    if page.breaches:
        items = "".join(f'<li class="bad">{escape(slo)} ({escape(str(scope))})</li>'
                        for slo, scope in page.breaches)
        breach_html = f"<ul>{items}</ul>"
    else:
        breach_html = '<p class="ok">none</p>'
    body = f"""<header>
<h1>slastream — {escape(page.month)}</h1>
<p class="muted">{escape(period_line)}</p>
{month_nav(page, page.root or "/")}
</header>
<main>
<h2>State {when}</h2>
{_legend()}
{_states(page)}
<h2>Open outages</h2>
{breach_html}
<h2>Upcoming maintenance</h2>
{_exclusions(page.upcoming, "none announced")}
<h2>Maintenance in progress</h2>
{_exclusions(page.active, "none")}
<h2>Incidents in {escape(page.month)}</h2>
<div class="table-wrap"><table>
{tables.thead(*tables.INCIDENT_COLUMNS)}
<tbody>
{tables.incident_rows(page.incidents)}
</tbody>
</table></div>
{_support(led)}<h2>Contracts</h2>
<div class="table-wrap"><table>
{tables.thead(*tables.CONTRACT_COLUMNS)}
<tbody>
{tables.contract_rows(led)}
</tbody>
</table></div>
<h2>SLOs</h2>
<div class="table-wrap"><table>
{tables.thead(*tables.SLO_COLUMNS)}
<tbody>
{tables.slo_rows(led, page.breaches)}
</tbody>
</table></div>
</main>
<footer>JSON: <a href="/api/status?{page.api_query}month={page.month}">status</a> ·
<a href="/api/ledger?{page.api_query}month={page.month}">ledger</a> ·
<a href="/metrics">metrics</a></footer>"""
    return shell(f"slastream · {page.month}", body, page.current)
