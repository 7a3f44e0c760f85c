"""Per-gateway diagnostics of a delivery SLO (docs/semantics.md#gateway-diagnostics).

For operators: which gateways heard the uplinks a tenant lost. Each logical uplink belongs
to the gateway of its earliest copy; when the delivery SLI finalises it (delivered or not,
charged to its scope), this SLI counts it for ``{scope}|{gateway}``. The counts are slices
of the pseudo-SLO ``{slo}#gateways`` at the first minute of the uplink's calendar month in
UTC: one vector per scope and gateway per month, whatever the traffic, so they travel
through the slices topic like any slice and the ledger (which knows only configured SLOs)
never sees them.

State: one dict entry ``uplink key -> gateway index`` per uplink in flight (about 80 bytes,
only with ``tenants.gateway_diagnostics``), dropped when the uplink is finalised, or once
it is past its deadline when the delivery SLI left it out (foreign, MAC-only, a bridge
outage). Late corrections of the delivery SLI are not reflected here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np

from slastream.model.events import Event, UplinkReceived
from slastream.model.spec import SLO, Settings
from slastream.model.time import MINUTE_MS
from slastream.sli.base import SLI
from slastream.sli.state import State, columns_to_groups, get_array, get_strs, groups_to_columns

SUFFIX = "#gateways"
_BUCKET_MS = 1000


def pseudo_slo(name: str) -> str:
    return name + SUFFIX


def split_scope(scope: str) -> tuple[str, str]:
    """``{scope}|{gateway}`` → (scope, gateway)."""
    head, _, gateway = scope.rpartition("|")
    return head, gateway


def month_minute(time_ms: int) -> int:
    """The first minute of the UTC calendar month of ``time_ms``."""
    d = datetime.fromtimestamp(time_ms / 1000, tz=UTC)
    return int(datetime(d.year, d.month, 1, tzinfo=UTC).timestamp()) * 1000 // MINUTE_MS


class GatewaySLI(SLI):
    """Fed the uplink copies; told by the delivery SLI what became of each uplink."""

    consumes = (UplinkReceived,)

    def __init__(self, slo: SLO, settings: Settings) -> None:
        super().__init__(replace(slo, name=pseudo_slo(slo.name)), settings)
        self.deadline_ms = int(slo.deadline_s * 1000)
        self.horizon_ms = self.deadline_ms
        self._lorawan = settings.lorawan
        self._first: dict[int, int] = {}  # uplink key → (ns_ms << 20 | gateway index)
        self._buckets: dict[int, list[int]] = {}
        self._gateways: list[str] = []
        self._gateway_idx: dict[str, int] = {}

    def _gateway(self, name: str) -> int:
        idx = self._gateway_idx.get(name)
        if idx is None:
            idx = self._gateway_idx[name] = len(self._gateways)
            self._gateways.append(name)
        return idx

    def add(self, events: Sequence[Event]) -> None:
        first = self._first
        for ev in events:
            if type(ev) is not UplinkReceived:
                continue
            self._seen(ev.time_ms)
            if not self._lorawan.is_ours(ev.devaddr):
                continue
            key = (ev.devaddr << 16) | ev.fcnt16
            v = first.get(key)
            if v is None or ev.time_ms < v >> 20:
                first[key] = ev.time_ms << 20 | self._gateway(ev.gateway)
                self._buckets.setdefault(ev.time_ms // _BUCKET_MS, []).append(key)

    def final(self, key: int, ns_ms: int, scope: str, delivered: bool) -> None:
        """The delivery SLI finalised the uplink ``key`` first heard at ``ns_ms``."""
        v = self._first.pop(key, None)
        if v is not None:
            self._count(f"{scope}|{self._gateways[v & 0xFFFFF]}",
                        month_minute(ns_ms) * MINUTE_MS, delivered)

    def _close(self, watermark_ms: int) -> None:
        # whatever the delivery SLI has not finalised by now it left out
        cutoff_s = (watermark_ms - self.deadline_ms) // _BUCKET_MS - 1
        for second in [s for s in self._buckets if s < cutoff_s]:
            for key in self._buckets.pop(second):
                v = self._first.get(key)
                if v is not None and v >> 20 < (second + 1) * _BUCKET_MS:
                    del self._first[key]

    def state(self) -> State:
        keys = list(self._first.items())
        return {**super().state(),
                "keys": np.array([k for k, _ in keys], dtype=np.int64),
                "first": np.array([v for _, v in keys], dtype=np.int64),
                "buckets": groups_to_columns(self._buckets),
                "gateways": list(self._gateways)}

    def load_state(self, state: State) -> None:
        super().load_state(state)
        self._gateways = get_strs(state, "gateways")
        self._gateway_idx = {g: i for i, g in enumerate(self._gateways)}
        keys = get_array(state, "keys", np.int64).tolist()
        first = get_array(state, "first", np.int64).tolist()
        if len(keys) != len(first) or any(v & 0xFFFFF >= len(self._gateways) for v in first):
            raise ValueError("state of gateway diagnostics: malformed columns")
        self._first = dict(zip(keys, first, strict=True))
        self._buckets = columns_to_groups(state, "buckets")

    @property
    def gateways(self) -> int:
        return len(self._gateways)
