"""Support deadlines per ticket, as of a time: reaction, resolution, escalation ladder.

Rules where the contracts leave a choice (docs/semantics.md repeats them):

- The reaction clock starts at the opening. Where a severity ``starts:
  contact_on_non_business_days`` (Cumulocity: on non-business days the reaction time is
  measured from the customer reaching a support engineer by phone), a ``contact`` on a
  non-business day also starts a 24x7 clock for the reaction target; the earlier of the two
  deadlines applies, so phoning can only bring the obligation forward.
- A severity change re-targets a running deadline by clamping it into
  ``[opening + new target, change + new target]``: a raise counts the new (shorter) target
  from the change ("after receipt of Crisis incident"), never later than the deadline
  already running; a lowering counts the new target from the opening, as if the ticket had
  been classified so from the start. Changes after the stop event do not matter.
- The reaction is the first ``response``; a resolution plan or a resolution sent before any
  response is a reply too (it reaches the customer), so it stops the reaction clock.
- Resolution counts the final ``resolved`` (a reopening undoes the previous one); the
  Cumulocity crisis resolution plan is met by the first ``plan`` event.
- The escalation ladder of the current severity runs from when the ticket got that
  severity, is halted between ``resolved`` and ``reopened`` (the Management Assistance
  Process halts while the customer tests a potential resolution) and ends at the final
  resolution. A step's date is projected while the ticket is active.
- ``met`` is true when the stop event came at or before the deadline, false when it came
  later or has not come by a deadline already past, and null while it may still come.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from slastream.model.support import (
    ClockKind,
    Obligation,
    Region,
    SeverityTerms,
    SupportTerms,
    Target,
)
from slastream.support.calendar import ALWAYS_OPEN, Clock, calendar_for, supported_country
from slastream.support.tickets import TicketState

Pick = Callable[[SeverityTerms], Obligation | None]


@dataclass(frozen=True)
class DeadlineResult:
    """One obligation of a ticket. Times are epoch ms, -1 when absent."""

    due_ms: int
    done_ms: int
    met: bool | None
    clock: ClockKind


@dataclass(frozen=True)
class EscalationEntry:
    """One rung of the ladder: its projected date (-1: will not be reached as things stand)."""

    after: str
    to: str
    due_ms: int
    reached: bool


@dataclass(frozen=True)
class TicketResult:
    id: str
    severity: str
    region: str
    opened_ms: int
    reaction: DeadlineResult
    resolution: DeadlineResult | None
    resolution_stops: str
    escalation: tuple[EscalationEntry, ...]
    resolved_ms: int

    @property
    def is_open(self) -> bool:
        return self.resolved_ms < 0


def ticket_calendar(state: TicketState, region: Region) -> Clock:
    """The business calendar of a ticket: its region's hours, holidays of its country."""
    hours = region.hours
    country = state.country
    if (
        region.customer_holidays
        and country
        and country != hours.country
        and supported_country(country)
    ):
        hours = replace(hours, country=country, subdivision=None)
    return calendar_for(hours)


def _clock(target: Target, calendar: Clock) -> Clock:
    return calendar if target.clock == "business" else ALWAYS_OPEN


def due(start_ms: int, target: Target, calendar: Clock) -> int:
    """``target`` after ``start_ms`` on the target's clock."""
    clock = _clock(target, calendar)
    return clock.add_business(start_ms, target.to_ms(calendar.day_ms))


def _retargeted(
    state: TicketState, terms: SupportTerms, pick: Pick, stop_ms: int, calendar: Clock
) -> tuple[int, ClockKind] | None:
    """The deadline after all severity changes before the stop (see the module rules)."""
    deadline: tuple[int, ClockKind] | None = None
    for changed_ms, name in state.severities:
        if stop_ms >= 0 and changed_ms > stop_ms:
            break
        severity = terms.severity(name)
        if severity is None:
            continue
        obligation = pick(severity)
        if obligation is None:
            deadline = None
            continue
        target = obligation.within
        latest = due(changed_ms, target, calendar)
        earliest = due(state.opened_ms, target, calendar)
        running = latest if deadline is None else deadline[0]
        deadline = (max(earliest, min(running, latest)), target.clock)
    return deadline


def _contact_deadline(
    state: TicketState, terms: SupportTerms, calendar: Clock, stop_ms: int
) -> int:
    """The earliest 24x7 deadline started by a phone contact on a non-business day, or -1."""
    best = -1
    for contact_ms in state.contacts:
        if stop_ms >= 0 and contact_ms > stop_ms:
            break
        name = next((s for t, s in reversed(state.severities) if t <= contact_ms), None)
        severity = terms.severity(name or state.severities[0][1])
        if severity is None or severity.starts != "contact_on_non_business_days":
            continue
        if calendar.is_business_day(contact_ms):
            continue
        start = max(contact_ms, state.opened_ms)
        candidate = start + severity.reaction.within.to_ms(ALWAYS_OPEN.day_ms)
        if best < 0 or candidate < best:
            best = candidate
    return best


def _judge(due_ms: int, done_ms: int, as_of_ms: int, clock: ClockKind) -> DeadlineResult:
    if done_ms >= 0:
        met: bool | None = done_ms <= due_ms
    else:
        met = False if as_of_ms > due_ms else None
    return DeadlineResult(due_ms, done_ms, met, clock)


def reacted_ms(state: TicketState) -> int:
    """The first reply: a ``response``, or a plan or resolution sent before any (-1: none)."""
    first_resolution = state.pauses[0][0] if state.pauses else state.resolved_ms
    times = [t for t in (state.response_ms, state.plan_ms, first_resolution) if t >= 0]
    return min(times) if times else -1


def _reaction(
    state: TicketState, terms: SupportTerms, calendar: Clock, as_of_ms: int
) -> DeadlineResult | None:
    reacted = reacted_ms(state)
    deadline = _retargeted(state, terms, lambda s: s.reaction, reacted, calendar)
    if deadline is None:
        return None
    due_ms, clock = deadline
    by_contact = _contact_deadline(state, terms, calendar, reacted)
    if 0 <= by_contact < due_ms:
        due_ms, clock = by_contact, "24x7"
    return _judge(due_ms, reacted, as_of_ms, clock)


def _resolution(
    state: TicketState, terms: SupportTerms, calendar: Clock, as_of_ms: int
) -> tuple[DeadlineResult | None, str]:
    current = terms.severity(state.severities[-1][1])
    obligation = current.resolution if current else None
    if obligation is None:
        return None, ""
    done = state.plan_ms if obligation.stops == "plan" else state.resolved_ms
    deadline = _retargeted(state, terms, lambda s: s.resolution, done, calendar)
    if deadline is None:
        return None, ""
    return _judge(deadline[0], done, as_of_ms, deadline[1]), obligation.stops


def _active_spans(state: TicketState, since_ms: int) -> list[tuple[int, int]]:
    """Spans in which the escalation clock runs; -1 as an end means "still running"."""
    spans: list[tuple[int, int]] = []
    start = since_ms
    for paused, resumed in state.pauses:
        if resumed <= start:
            continue
        if paused > start:
            spans.append((start, paused))
        start = resumed
    if state.resolved_ms < 0:
        spans.append((start, -1))
    elif state.resolved_ms > start:
        spans.append((start, state.resolved_ms))
    return spans


def _escalation(
    state: TicketState, severity: SeverityTerms, calendar: Clock, as_of_ms: int
) -> tuple[EscalationEntry, ...]:
    since = state.severities[-1][0]
    spans = _active_spans(state, since)
    entries: list[EscalationEntry] = []
    for step in severity.escalation:
        clock = _clock(step.after, calendar)
        left = step.after.to_ms(calendar.day_ms)
        when = -1
        for start, end in spans:
            available = -1 if end < 0 else clock.business_between(start, end)
            if available < 0 or left <= available:
                when = clock.add_business(start, left)
                break
            left -= available
        entries.append(EscalationEntry(step.after.text, step.to, when, 0 <= when <= as_of_ms))
    return tuple(entries)


def evaluate_ticket(state: TicketState, terms: SupportTerms, as_of_ms: int) -> TicketResult | None:
    """A ticket's obligations as of ``as_of_ms``; ``None`` when its severity is not the
    contract's. ``state`` must be folded up to ``as_of_ms`` (see ``tickets.fold``)."""
    severity = terms.severity(state.severities[-1][1])
    region = terms.region(state.region or None)
    calendar = ticket_calendar(state, region)
    reaction = _reaction(state, terms, calendar, as_of_ms) if severity else None
    if severity is None or reaction is None:
        return None
    resolution, stops = _resolution(state, terms, calendar, as_of_ms)
    return TicketResult(
        state.id,
        severity.name,
        region.name,
        state.opened_ms,
        reaction,
        resolution,
        stops,
        _escalation(state, severity, calendar, as_of_ms),
        state.resolved_ms,
    )

