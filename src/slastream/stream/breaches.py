"""Outage episode start/end events for ``{prefix}.breaches``, from successive ledgers.

Every worker evaluates the same merged ledger; one of them (the owner of lorawan[0])
publishes, so a topic consumer sees each transition once in normal operation. On a
leader change the new leader re-announces the episodes open at that moment: events are
keyed by ``slo/scope/episode start``, so a consumer can drop a repeated start.
"""

from __future__ import annotations

from typing import Any

from slastream.stream.records import encode_breach

OpenEpisodes = dict[tuple[str, str], str]  # (slo, scope) → start of the open episode


def _episode_end(ledger: dict[str, Any], slo: str, scope: str, start: str) -> str | None:
    for entry in ledger.get("slos", []):
        if entry["name"] == slo and entry["scope"] == scope:
            for ep in entry.get("episodes", []):
                if ep["start"] <= start < ep["end"] or ep["start"] == start:
                    return str(ep["end"])
    return None


class BreachTracker:
    """Remembers the open episodes last announced and turns changes into events."""

    def __init__(self, app_id: str) -> None:
        self.app_id = app_id
        self.announced: OpenEpisodes | None = None  # None: not the publisher

    def update(self, now_open: OpenEpisodes, ledger: dict[str, Any],
               leader: bool) -> list[tuple[bytes, bytes]]:
        """Events to publish for the episodes open now (none unless ``leader``);
        ``ledger`` (the same evaluation) supplies the end of episodes that closed."""
        if not leader:
            self.announced = None
            return []
        before = self.announced if self.announced is not None else {}
        as_of = str(ledger.get("period", {}).get("as_of", ""))
        events = []
        for (slo, scope), start in sorted(before.items()):
            if now_open.get((slo, scope)) != start:
                end = _episode_end(ledger, slo, scope, start) or as_of
                events.append(encode_breach(self.app_id, slo, scope, "end", start, end, as_of))
        for (slo, scope), start in sorted(now_open.items()):
            if before.get((slo, scope)) != start:
                events.append(encode_breach(self.app_id, slo, scope, "start", start, None,
                                            as_of))
        self.announced = now_open
        return events
