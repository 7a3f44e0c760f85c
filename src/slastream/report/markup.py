"""Small HTML builders for the report. Every text is escaped here, because SLO names,
scopes, exclusion ids and reasons come from config files and operators' messages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

Cell = str | tuple[str, str]  # text, or (text, class)


def cell(tag: str, c: Cell) -> str:
    text, cls = (c, "") if isinstance(c, str) else c
    attr = f' class="{cls}"' if cls else ""
    scope = ' scope="col"' if tag == "th" else ""
    return f"<{tag}{attr}{scope}>{escape(text)}</{tag}>"


def table(caption: str, headers: Sequence[Cell], rows: Iterable[Sequence[Cell]]) -> str:
    head = "".join(cell("th", h) for h in headers)
    body = "".join("<tr>" + "".join(cell("td", c) for c in row) + "</tr>" for row in rows)
    return (f"<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>")


def num(text: str) -> tuple[str, str]:
    return (text, "num")


def when(text: str) -> tuple[str, str]:
    """A time cell: never broken across lines."""
    return (text, "time")


def verdict(text: str) -> tuple[str, str]:
    """A verdict cell: the words carry the meaning, the class only adds colour."""
    good = text in ("met", "accepted", "excused")
    bad = text in ("not met", "insufficient data", "missed") or text.startswith("not ")
    return (text, "verdict good" if good else "verdict bad" if bad else "verdict")


def para(text: str, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<p{attr}>{escape(text)}</p>"


def summary(items: Iterable[tuple[str, str]]) -> str:
    body = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in items)
    return f'<dl class="summary">{body}</dl>'
