"""Outage episode start/end events for ``{prefix}.breaches``, from successive ledgers.

Every worker evaluates the same merged ledger; one of them (the owner of lorawan[0])
publishes. Events come from the ledger's episode list, not from sampling the breach
gauge: an episode that opened and closed between two evaluations (a backlog read in a
second) still gets its start and its end. Events are keyed ``slo/scope/episode start``;
a new publisher (a restart, a rebalance) announces the month's episodes again, so a
consumer keeps the first event per key and state.
"""

from __future__ import annotations

from slastream.model.ledger import Episode, Ledger
from slastream.model.time import format_rfc3339_s
from slastream.stream.records import encode_breach

EpisodeKey = tuple[str, str, str]  # (slo, scope, episode start)


def episodes(ledger: Ledger) -> dict[EpisodeKey, Episode]:
    """Episodes of the ledger that are outages (not excused), by key."""
    return {(entry.name, entry.scope, format_rfc3339_s(ep.start_ms)): ep
            for entry in ledger.slos for ep in entry.episodes if not ep.excused}


class BreachTracker:
    """Remembers which episodes were announced open or closed; turns changes into events."""

    def __init__(self, app_id: str) -> None:
        self.app_id = app_id
        self.announced: dict[EpisodeKey, bool] | None = None  # key → open; None: not leader

    def update(self, ledger: Ledger, leader: bool) -> list[tuple[bytes, bytes]]:
        """Events to publish for ``ledger`` (none unless ``leader``)."""
        if not leader:
            self.announced = None
            return []
        announced = self.announced if self.announced is not None else {}
        as_of = format_rfc3339_s(ledger.period.as_of_ms)
        now = episodes(ledger)
        events = []
        for key in sorted(now):
            ep = now[key]
            was_open = announced.get(key)
            if was_open is None:
                events.append(self._event(key, "start", None, as_of))
            if not ep.open and was_open is not False:
                events.append(self._event(key, "end", format_rfc3339_s(ep.end_ms), as_of))
            announced[key] = ep.open
        for key in sorted(k for k in announced if k not in now):
            if announced.pop(key):  # gone while open (merged, or recomputed away): close it
                events.append(self._event(key, "end", as_of, as_of))
        self.announced = announced
        return events

    def _event(self, key: EpisodeKey, state: str, end: str | None,
               as_of: str) -> tuple[bytes, bytes]:
        slo, scope, start = key
        return encode_breach(self.app_id, slo, scope, state, start, end, as_of)
