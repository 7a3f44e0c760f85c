"""The daily availability chart of one SLO: an inline SVG, no script, no external asset.

Accessible without colour: days below the target are hatched as well as darker, markers
in text say which days had excused minutes (E) or minutes without evidence (N), every bar
has a text title, and the chart has a title and a description in words. The numbers are
also in the report as text (the table of notable days), for readers that skip images.
"""

from __future__ import annotations

from html import escape

from slastream.model.ledger import Period
from slastream.report.daily import Day
from slastream.report.text import day_label, pct4

WIDTH, HEIGHT = 720.0, 210.0
LEFT, RIGHT, TOP, BOTTOM = 62.0, 12.0, 22.0, 26.0
FLOORS = (0.99, 0.95, 0.9, 0.5, 0.0)  # the lower end of the scale: the first below everything


def scale_floor(days: tuple[Day, ...], objective: float | None) -> float:
    """The highest floor strictly below every day's availability and the target, so every
    bar and the target line are visible and near-100 % months stay readable."""
    values = [d.availability for d in days if d.availability is not None]
    if objective is not None:
        values.append(objective)
    low = min(values, default=1.0)
    return next((f for f in FLOORS if f < low), 0.0)


def describe(name: str, days: tuple[Day, ...], period: Period,
             objective: float | None) -> str:
    """The chart in one sentence."""
    judged = [d for d in days if d.availability is not None]
    if not judged:
        return f"Daily availability of {name}: no day judged yet."
    blind = sum(1 for d in judged if d.no_data_minutes == d.final_minutes)
    full = sum(1 for d in judged if d.availability == 1.0)
    worst = min(judged, key=lambda d: (d.availability or 0.0, d.start_ms))
    below = (sum(1 for d in judged if (d.availability or 0.0) < objective)
             if objective is not None else 0)
    text = (f"Daily availability of {name}: {len(judged)} days judged, {full} at 100 %, "
            f"lowest {pct4(worst.availability)} on {day_label(worst.start_ms, period)}")
    if objective is not None:
        text += f"; {below} days below the target of {pct4(objective)}"
    if blind:
        text += f"; {blind} days without any evidence"
    return text + "."


def _y(value: float, floor: float) -> float:
    plot = HEIGHT - TOP - BOTTOM
    return TOP + plot * (1.0 - (value - floor) / (1.0 - floor))


def _bar(i: int, step: float, day: Day, period: Period, floor: float,
         objective: float | None, uid: str) -> str:
    x = LEFT + i * step + step * 0.15
    w = step * 0.7
    label = day_label(day.start_ms, period)
    base = HEIGHT - BOTTOM
    marks = ("E" if day.excused_minutes > 0 else "") + ("N" if day.no_data_minutes else "")
    out = []
    if day.availability is None or day.no_data_minutes == day.final_minutes:
        what = "not judged yet" if day.availability is None else "no evidence all day"
        cls = "pending" if day.availability is None else "nodata"
        out.append(f'<rect x="{x:.1f}" y="{TOP:.1f}" width="{w:.1f}" height="{base - TOP:.1f}" '
                   f'class="{cls}"><title>{escape(label)}: {what}</title></rect>')
    else:
        y = _y(day.availability, floor)
        below = objective is not None and day.availability < objective
        fill = f' fill="url(#{uid}-hatch)"' if below else ""
        cls = "below" if below else "bar"
        title = (f"{label}: {pct4(day.availability)}, downtime {day.downtime_minutes:.0f} min, "
                 f"excused {day.excused_minutes:.0f} min")
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" '
                   f'height="{max(base - y, 0.8):.1f}" class="{cls}"{fill}>'
                   f"<title>{escape(title)}</title></rect>")
    if marks:
        out.append(f'<text x="{x + w / 2:.1f}" y="{TOP - 6:.1f}" class="mark">{marks}</text>')
    day_no = label.split()[1]
    out.append(f'<text x="{x + w / 2:.1f}" y="{HEIGHT - BOTTOM + 12:.1f}" '
               f'class="day">{day_no}</text>')
    return "".join(out)


def _axes(floor: float, objective: float | None) -> str:
    base, right = HEIGHT - BOTTOM, WIDTH - RIGHT
    out = [f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}" class="axis"/>',
           f'<line x1="{LEFT}" y1="{base}" x2="{right}" y2="{base}" class="axis"/>',
           f'<text x="{LEFT - 4}" y="{TOP + 4}" class="tick">100 %</text>',
           f'<text x="{LEFT - 4}" y="{base}" class="tick">{floor * 100:g} %</text>']
    if objective is not None:
        y = _y(objective, floor)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" class="target"/>')
    return "".join(out)


def daily_chart(name: str, days: tuple[Day, ...], period: Period, objective: float | None,
                uid: str) -> str:
    """The SVG element (``uid`` makes its ids unique in the page)."""
    floor = scale_floor(days, objective)
    step = (WIDTH - LEFT - RIGHT) / max(len(days), 1)
    bars = "".join(_bar(i, step, d, period, floor, objective, uid) for i, d in enumerate(days))
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH:g} {HEIGHT:g}" role="img" '
        f'aria-labelledby="{uid}-t {uid}-d">'
        f'<title id="{uid}-t">Daily availability, {escape(name)}</title>'
        f'<desc id="{uid}-d">{escape(describe(name, days, period, objective))}</desc>'
        f'<defs><pattern id="{uid}-hatch" width="5" height="5" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="5" height="5" class="hatch-bg"/>'
        f'<line x1="0" y1="0" x2="0" y2="5" class="hatch"/></pattern></defs>'
        f"{_axes(floor, objective)}{bars}</svg>")
