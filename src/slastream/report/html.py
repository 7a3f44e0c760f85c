"""The report as one self-contained HTML page: inline CSS and SVG, no script, no external
asset, every number as text. The PDF is this page printed (``report/pdf.py``)."""

from __future__ import annotations

from html import escape

from slastream import __version__
from slastream.model.ledger import Period
from slastream.report import sections, terms
from slastream.report.chart import daily_chart
from slastream.report.content import ContractReport, Report, SloReport
from slastream.report.markup import Cell, num, para, summary, table, verdict, when
from slastream.report.style import CSS
from slastream.report.text import (
    DASH,
    day_label,
    local,
    local_rfc3339,
    met_text,
    minutes,
    month_label,
    pct2,
    pct4,
)

SLI_NAMES = {"delivery": "uplink delivery ratio", "rx2": "RX2 reach ratio",
             "probe": "probe success ratio", "response_time": "mean response time"}


def _sli_value(s: SloReport) -> str:
    v = s.entry.sli_value
    if v is None:
        return DASH
    return f"{v:.0f} ms" if s.entry.sli == "response_time" else pct4(v)


def _measurands(c: ContractReport) -> str:
    rows: list[list[Cell]] = []
    for s in c.slos:
        e = s.entry
        rows.append([e.name, e.scope, num(pct4(e.objective)), num(pct4(e.availability)),
                     num(minutes(e.downtime_minutes)), num(minutes(e.excused_minutes)),
                     num(str(len(e.episodes))), verdict(met_text(e.met, s.extra.status))])
    return table("Measurands", ["Measurand", "Scope", num("Target"), num("Achieved"),
                                num("Downtime"), num("Excused"), num("Episodes"), "Verdict"],
                 rows)


def _days(s: SloReport, period: Period) -> str:
    notable = [d for d in s.days if d.downtime_minutes > 0 or d.excused_minutes > 0]
    parts = []
    if notable:
        parts.append(table(
            f"Days with downtime or excused minutes, {s.entry.name}",
            ["Day", num("Availability"), num("Downtime"), num("Excused"),
             num("Without evidence")],
            [[day_label(d.start_ms, period), num(pct4(d.availability)),
              num(minutes(d.downtime_minutes)), num(minutes(d.excused_minutes)),
              num(DASH if d.no_data_minutes is None else minutes(d.no_data_minutes))]
             for d in notable]))
    else:
        parts.append(para("Every judged day at 100 %: no downtime and no excused minutes."))
    pending = sum(1 for d in s.days if d.availability is None)
    if pending:
        parts.append(para(f"{pending} days of the period are not judged yet.", "note"))
    return "".join(parts)


def _episodes(s: SloReport, period: Period) -> str:
    if not s.entry.episodes:
        return para("No downtime episodes.")
    rows: list[list[Cell]] = [
        [when(local(ep.start_ms, period)),
         when("ongoing" if ep.open else local(ep.end_ms, period)),
         num(minutes(ep.minutes)), verdict("excused" if ep.excused else "downtime"),
         ep.reason] for ep in s.entry.episodes]
    return table(f"Episodes, {s.entry.name}",
                 ["Start", "End", num("Minutes"), "Counted as", "Reason"], rows)


def _slo_detail(s: SloReport, period: Period, uid: str) -> str:
    e = s.entry
    head = f"{e.name} ({e.scope})"
    facts = summary([
        ("Indicator", f"{SLI_NAMES.get(e.sli, e.sli)}: {_sli_value(s)}"),
        ("Target", pct4(e.objective)), ("Achieved", pct4(e.availability)),
        ("Downtime", minutes(e.downtime_minutes)), ("Excused", minutes(e.excused_minutes)),
        ("Error budget left", pct2(e.error_budget_remaining)),
        ("Verdict", met_text(e.met, s.extra.status))])
    target = f" ({pct4(e.objective)})" if e.objective is not None else ""
    caption = ("Bars: availability per day, on a scale from the lower label to 100 %; "
               f"dashed line: the target{target}; hatched bars: below the target; "
               "E: excused minutes that day; N: minutes without evidence; grey dotted box: "
               "no evidence all day; dashed outline: not judged yet.")
    figure = (f"<figure>{daily_chart(head, s.days, period, e.objective, uid)}"
              f"<figcaption>{escape(caption)}</figcaption></figure>")
    return (f'<div class="slo-head"><h3>{escape(head)}</h3>{facts}{figure}</div>'
            f"{_days(s, period)}{_episodes(s, period)}")


def _contract_summary(c: ContractReport, period: Period) -> str:
    e = c.entry
    if e is None:
        return para("These measurands belong to no contract: no credit applies.")
    how = "the worst measurand" if e.combine == "min" else "the mean of the measurands"
    items = [("Availability", f"{pct4(e.availability)} ({how})"),
             ("Target", pct4(e.objective)),
             ("Verdict", met_text(e.met, c.extra.status)),
             ("Service credit", f"{pct2(e.credit)} of the monthly fee"),
             ("Credit basis", e.credit_basis)]
    if c.extra.claim_deadline:
        items.append(("Claim deadline",
                      f"{local_rfc3339(c.extra.claim_deadline, period)} ({period.timezone})"))
    if c.extra.coverage is not None:
        items.append(("Data coverage", pct2(c.extra.coverage)))
    return summary(items)


def contract_section(report: Report, c: ContractReport, index: int) -> str:
    period = report.period
    details = "".join(_slo_detail(s, period, f"c{index}s{i}") for i, s in enumerate(c.slos))
    return (
        f'<section class="contract"><h2>{escape(c.name)}</h2>'
        f"{_contract_summary(c, period)}{_measurands(c)}"
        f"{terms.credit_section(c, period)}"
        f"{terms.exclusions_section(c, report.policy, period)}"
        f"{sections.support_section(c.extra.support, period)}"
        f"{sections.usage_section(c.extra.usage, period)}"
        f"<h3>Measurands in detail</h3>{details}"
        f"{sections.coverage_section(c, report.inputs, report.days_have_evidence)}"
        "</section>")


def _period_text(period: Period) -> str:
    text = (f"Period: {local(period.start_ms, period)} to {local(period.end_ms, period)} "
            f"({period.minutes} minutes), time zone {period.timezone}.")
    if period.as_of_ms < period.end_ms:
        text += (f" Provisional: figures final up to {local(period.as_of_ms, period)}; "
                 "later minutes are not judged yet.")
    return text


def render_html(report: Report) -> str:
    """The whole page."""
    period = report.period
    title = f"Service level report, {month_label(period)}"
    names = ", ".join(c.name for c in report.contracts if c.entry is not None)
    body = "".join(contract_section(report, c, i) for i, c in enumerate(report.contracts))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}{escape(' — ' + names if names else '')}</title>"
        f"<style>{CSS}</style></head><body>"
        f"<header><h1>{escape(title)}</h1>"
        f'<p class="meta">{escape("Contracts: " + names) if names else ""}</p>'
        f'<p class="meta">{escape(_period_text(period))}</p>'
        '<p class="meta">Availability is shown as a percentage with four decimals; '
        "minutes are whole minutes of the period.</p></header>"
        f"<main>{body}</main>"
        f"<footer>Computed by slastream {escape(__version__)} from "
        f"{escape(report.source)}.</footer></body></html>\n")
