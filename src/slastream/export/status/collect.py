"""A :class:`StatusPage` from the ledgers a source serves.

The 90 daily bars of an SLO reach back over up to three earlier months, each read as its
own ledger from the source (a live worker holds the months its slices topic holds); days
of a month the source cannot give are bars without data. Where the source keeps its
slices and config (an engine, a worker's live view), a day's minutes without evidence come
from them (report/daily.py); otherwise a month without any evidence is a month of days
without data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from slastream.export.metrics import MetricsSource
from slastream.export.status.model import (
    ContractStatus,
    DayBar,
    Incident,
    SloStatus,
    StatusPage,
    covers,
    day_kind,
    slo_state,
    worst,
)
from slastream.model.ledger import ExclusionEntry, Ledger, Period, SLOEntry
from slastream.model.spec import Settings
from slastream.model.time import Month
from slastream.report.daily import Day, daily, day_bounds, no_data_by_day
from slastream.report.text import month_key
from slastream.sli.slices import SliceStore

HISTORY_DAYS = 90
EARLIER_MONTHS = 3  # with the shown month's first day, always at least 90 days
OTHERS = "Objectives outside any contract"


def previous_month(label: str) -> str:
    year, month = int(label[:4]), int(label[5:7])
    return f"{year - (month == 1):04d}-{(month - 2) % 12 + 1:02d}"


def next_month(label: str) -> str:
    year, month = int(label[:4]), int(label[5:7])
    return f"{year + (month == 12):04d}-{month % 12 + 1:02d}"


def _try_ledger(source: MetricsSource, label: str) -> Ledger | None:
    """The ledger of ``label``, or None when the source cannot give that month."""
    try:
        led = source.ledger(label)
    except ValueError:
        return None
    return led if month_key(led.period) == label else None


def gather(source: MetricsSource, month: str | None) -> StatusPage:
    """The page of ``month`` (default: the source's current month). Raises ``ValueError``
    when the source cannot compute the month asked for."""
    now = source.ledger(None)
    current = month_key(now.period)
    ledger = now if month in (None, current) else source.ledger(month)
    label = month_key(ledger.period)
    earlier: list[Ledger | None] = []
    m = label
    for _ in range(EARLIER_MONTHS):
        m = previous_month(m)
        earlier.append(_try_ledger(source, m))
    later: list[ExclusionEntry] = []
    if label == current:
        nxt = _try_ledger(source, next_month(label))
        later = list(nxt.exclusions) if nxt is not None else []
    breaches = source.breaches() if label == current else {}
    store = getattr(source, "store", None)
    settings = getattr(source, "settings", None)
    return build_page(ledger, breaches, earlier[::-1], later, current,
                      settings if isinstance(settings, Settings) else None,
                      store if isinstance(store, SliceStore) else None)


def _month_days(led: Ledger, e: SLOEntry, settings: Settings | None,
                store: SliceStore | None) -> tuple[tuple[Day, ...], list[bool]]:
    """The month's days of ``e`` and, per day, whether it had no evidence at all."""
    no_data = None
    if settings is not None and store is not None:
        try:
            no_data = no_data_by_day(settings.slo(e.name), e.scope, store, led.period)
        except KeyError:  # an SLO the config does not declare
            no_data = None
    days = daily(led.period, e.episodes, no_data)
    blind = [d.final_minutes > 0 and (e.coverage <= 0 or d.no_data_minutes == d.final_minutes)
             for d in days]
    return days, blind


def _date(ms: int, tz: str) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=ZoneInfo(tz)).strftime("%Y-%m-%d")


def _bars(days: tuple[Day, ...], blind: list[bool], objective: float | None,
          tz: str) -> list[DayBar]:
    return [DayBar(_date(d.start_ms, tz), d.start_ms, None if nd else d.availability,
                   d.downtime_minutes, d.excused_minutes, d.no_data_minutes,
                   day_kind(d, objective, nd))
            for d, nd in zip(days, blind, strict=True)]


def _month_bars(led: Ledger | None, label: str, e: SLOEntry, tz: str,
                settings: Settings | None, store: SliceStore | None) -> list[DayBar]:
    """The days of an earlier month; all without data when the source has no ledger."""
    entry = None if led is None else next(
        (x for x in led.slos if (x.name, x.scope) == (e.name, e.scope)), None)
    if led is None or entry is None:
        m = Month.parse(label, tz)
        period = Period(m.start_ms, m.end_ms, tz, m.minutes, m.end_ms)
        return [DayBar(_date(a, tz), a, None, 0.0, 0.0, None, "no_data")
                for a, _ in day_bounds(period)]
    days, blind = _month_days(led, entry, settings, store)
    return _bars(days, blind, entry.objective, tz)


def _history(ledger: Ledger, earlier: Sequence[Ledger | None], e: SLOEntry,
             shown: list[DayBar], settings: Settings | None,
             store: SliceStore | None) -> tuple[DayBar, ...]:
    """The last 90 days up to the shown month's last judged day, oldest first."""
    tz = ledger.period.timezone
    labels = []
    label = month_key(ledger.period)
    for _ in earlier:
        label = previous_month(label)
        labels.append(label)
    bars: list[DayBar] = []
    for led, lab in zip(earlier, labels[::-1], strict=True):
        bars += _month_bars(led, lab, e, tz, settings, store)
    return tuple((bars + shown)[-HISTORY_DAYS:])


def build_page(ledger: Ledger, breaches: dict[tuple[str, str], bool],
               earlier: Sequence[Ledger | None], later: Sequence[ExclusionEntry],
               current: str, settings: Settings | None = None,
               store: SliceStore | None = None) -> StatusPage:
    """The page from the shown month's ledger, the ledgers of the months before it (oldest
    first, None where the source has none) and the exclusions of the month after it."""
    as_of = ledger.period.as_of_ms
    accepted = [x for x in (*ledger.exclusions, *later) if x.accepted]
    active = tuple(x for x in accepted if x.start_ms <= as_of < x.end_ms)
    upcoming = tuple(sorted({x.id: x for x in accepted if x.start_ms > as_of}.values(),
                            key=lambda x: (x.start_ms, x.id))) \
        if month_key(ledger.period) == current else ()
    open_now = {key for key, inside in breaches.items() if inside}
    slos = []
    for e in ledger.slos:
        days, blind = _month_days(ledger, e, settings, store)
        judged = [d for d in days if d.final_minutes > 0]
        last = judged[-1].start_ms if judged else ledger.period.start_ms
        shown = [b for b in _bars(days, blind, e.objective, ledger.period.timezone)
                 if b.start_ms <= last]
        state = slo_state(e, (e.name, e.scope) in open_now,
                          any(covers(x, e, settings) for x in active))
        slos.append(SloStatus(e, state, _history(ledger, earlier, e, shown, settings, store),
                              days))
    contracts = []
    covered: set[str] = set()
    for c in ledger.contracts:
        mine = tuple(s for s in slos if s.entry.name in c.slos)
        covered.update(c.slos)
        contracts.append(ContractStatus(c.name, worst(s.state for s in mine), c, mine))
    rest = tuple(s for s in slos if s.entry.name not in covered)
    if rest:
        contracts.append(ContractStatus(OTHERS, worst(s.state for s in rest), None, rest))
    incidents = sorted((Incident(e.name, e.scope, ep) for e in ledger.slos for ep in e.episodes),
                       key=lambda i: (not i.episode.open, -i.episode.start_ms))
    label = month_key(ledger.period)
    return StatusPage(label, label == current, previous_month(label),
                      next_month(label) if label < current else None, ledger,
                      tuple(sorted(open_now)), tuple(contracts), tuple(slos),
                      tuple(incidents), active, upcoming)
