"""The status pages' own inline SVG: the 90-day strip of bars and a line over days.

Every bar and point has a text title, every graphic a title and a description in words;
the same numbers are in tables next to them for readers that skip images.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from slastream.export.status.model import DAY_TEXT, DayBar

# A day's bar height says how it went, so colour is never the only cue.
_HEIGHT = {"ok": 1.0, "maintenance": 1.0, "downtime": 0.8, "below": 0.55, "no_data": 1.0}

DEFS = ('<svg width="0" height="0" aria-hidden="true" focusable="false" style="position:absolute">'
        '<defs><pattern id="stripes" width="3" height="3" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="3" height="3" fill="#e3eefa"/>'
        '<line x1="0" y1="0" x2="0" y2="3" stroke="#0b4f9c" stroke-width="2"/></pattern>'
        "</defs></svg>")


def pct4(value: float | None) -> str:
    return "no data" if value is None else f"{value * 100:.4f} %"


def bar_title(b: DayBar) -> str:
    text = f"{b.date}: {DAY_TEXT[b.kind]}"
    if b.availability is not None:
        text += f", availability {pct4(b.availability)}"
        if b.downtime_minutes:
            text += f", downtime {b.downtime_minutes:.0f} min"
        if b.excused_minutes:
            text += f", excused {b.excused_minutes:.0f} min"
    return text


def describe(name: str, bars: Sequence[DayBar]) -> str:
    counts = {k: sum(1 for b in bars if b.kind == k) for k in DAY_TEXT}
    parts = [f"{counts[k]} {text}" for k, text in DAY_TEXT.items() if counts[k]]
    span = f"{bars[0].date} to {bars[-1].date}" if bars else "no days"
    return f"{name}, {len(bars)} days from {span}: " + ", ".join(parts) + "."


def strip(name: str, bars: Sequence[DayBar], uid: str) -> str:
    """The daily bars, oldest left; ``uid`` makes the ids unique in the page."""
    n = max(len(bars), 1)
    step = 1000.0 / n
    rects = []
    for i, b in enumerate(bars):
        h = 40.0 * _HEIGHT[b.kind]
        rects.append(f'<rect x="{i * step + step * 0.1:.1f}" y="{40.0 - h:.1f}" '
                     f'width="{step * 0.8:.1f}" height="{h:.1f}" class="{b.kind}">'
                     f"<title>{escape(bar_title(b))}</title></rect>")
    return (f'<svg class="bars" viewBox="0 0 1000 40" preserveAspectRatio="none" role="img" '
            f'aria-labelledby="{uid}-t {uid}-d"><title id="{uid}-t">Daily availability of '
            f'{escape(name)}</title><desc id="{uid}-d">{escape(describe(name, bars))}</desc>'
            + "".join(rects) + "</svg>")


def line(title: str, desc: str, labels: Sequence[str], values: Sequence[float | None],
         unit: str, guide: float | None, uid: str) -> str:
    """A line over days (``None`` leaves a gap) with a dashed guide line at ``guide``."""
    w, h, left, right, top, bottom = 720.0, 220.0, 56.0, 12.0, 14.0, 26.0
    known = [v for v in values if v is not None] + ([guide] if guide is not None else [])
    lo, hi = min([*known, 0.0]), max([*known, 1.0])
    if hi - lo < 1e-9:
        hi = lo + 1.0
    n = max(len(values), 1)

    def x(i: int) -> float:
        return left + (w - left - right) * (i + 0.5) / n

    def y(v: float) -> float:
        return top + (h - top - bottom) * (1 - (v - lo) / (hi - lo))

    out = [f'<line x1="{left}" y1="{top}" x2="{left}" y2="{h - bottom}" class="axis"/>',
           f'<line x1="{left}" y1="{y(lo):.1f}" x2="{w - right}" y2="{y(lo):.1f}" class="axis"/>',
           f'<text x="{left - 4}" y="{y(hi) + 4:.1f}" class="tick">{hi:g}{unit}</text>',
           f'<text x="{left - 4}" y="{y(lo):.1f}" class="tick">{lo:g}{unit}</text>']
    if guide is not None:
        out.append(f'<line x1="{left}" y1="{y(guide):.1f}" x2="{w - right}" '
                   f'y2="{y(guide):.1f}" class="grid"/>'
                   f'<text x="{left - 4}" y="{y(guide) + 4:.1f}" class="tick">{guide:g}{unit}'
                   "</text>")
    path: list[str] = []
    points: list[str] = []
    for i, v in enumerate(values):
        if v is None:
            continue
        path.append(f"{'M' if not path or values[i - 1] is None else 'L'}"
                    f"{x(i):.1f},{y(v):.1f}")
        points.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" class="point">'
                      f"<title>{escape(labels[i])}: {v:.3f}{escape(unit)}</title></circle>")
    for i in (0, n - 1):
        if i < len(labels):
            out.append(f'<text x="{x(i):.1f}" y="{h - 8}" text-anchor="middle">'
                       f"{escape(labels[i])}</text>")
    if path:
        out.append(f'<path d="{" ".join(path)}" class="series"/>')
    return (f'<svg class="line" viewBox="0 0 {w:g} {h:g}" role="img" '
            f'aria-labelledby="{uid}-t {uid}-d"><title id="{uid}-t">{escape(title)}</title>'
            f'<desc id="{uid}-d">{escape(desc)}</desc>' + "".join(out + points) + "</svg>")
