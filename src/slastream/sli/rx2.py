"""RX2 reachability: could the server get each Class-A downlink to the gateway in time?

LORIOT's measurand: availability is lost when the RX2 window (RECEIVE_DELAY2 after the
uplink; 2 s with the LoRaWAN default RECEIVE_DELAY1 of 1 s, 6 s with The Things Stack's
default of 5 s) cannot be reached by the server for 10 minutes. Per downlink attempt:

* ``source: gateway`` (ChirpStack gateway topics): a ``command/down`` is linked to the
  uplink that opened the window (the latest copy of that DevAddr heard by the same gateway)
  and to the gateway's TX ack. Any item acknowledged OK reaches the device (RX1 success
  implies RX2 was reachable); every item rejected (TOO_LATE, TOO_EARLY - which a Semtech
  packet forwarder reports for a packet that is already late, COLLISION_*, ...) is a miss;
  no ack within ``ack_timeout_s`` is a miss (Basic Station gateways only report successes)
  unless ``missing_ack: ignore``. Join-accepts (5 s / 6 s) and Class-B/C downlinks
  ("immediately", GPS time) are not RX2 attempts and are left out.
* ``source: integration``: outcomes reported by the application side (ChirpStack
  ``txack`` / ``log DOWNLINK_GATEWAY``, The Things Stack ``down/sent`` / ``down/failed``).
  The Things Stack says nothing of the device class, so devices declared in
  ``lorawan.class_b_c`` are left out here (docs/semantics.md#the-things-stack).

Server latency is measured on one clock: the bridge's receive time of the uplink and of the
downlink command (gateway clocks drift; a real capture shows 42 s).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from slastream.model.events import (
    DownlinkAck,
    DownlinkCommand,
    DownlinkOutcome,
    Event,
    UplinkReceived,
)
from slastream.model.spec import SLO, Settings
from slastream.sli.base import SLI
from slastream.sli.rx2_recent import RecentUplinks
from slastream.sli.state import State, get_int, get_list
from slastream.sources.columns import UP_DEVADDR, UP_GATEWAY, UP_REGION, UP_TIME, Rows

_UPLINK_MEMORY_MS = 60_000
# uplinks remembered between two prunings, beyond a quarter of the entries (see _close):
# pruning a small table often costs no more than a larger one seldom, and a table that
# stays small keeps its lookups in the CPU's caches (on the replay benchmark's capture,
# 2,000 against 10,000: RecentUplinks.add_rows 0.12-0.14 s against 0.20, pruning the same)
PRUNE_AFTER = 2_000
# Failure statuses are names a gateway or a server writes: counted by name up to this many
# distinct ones, then as "other", so odd statuses cannot grow the counters
# (docs/interfaces.md#bounds). The slastream reasons and TxAckStatus names (gw.proto) always
# have their own.
MAX_REASONS = 32
OTHER_REASON = "other"
_KNOWN_REASONS = frozenset({
    "OK", "no ack", "no ack (ignored)", "no status", "IGNORED", "TOO_LATE", "TOO_EARLY",
    "COLLISION_PACKET", "COLLISION_BEACON", "TX_FREQ", "TX_POWER", "GPS_UNLOCKED",
    "QUEUE_FULL", "INTERNAL_ERROR", "DUTY_CYCLE_OVERFLOW", "UNKNOWN_ERROR", "ERROR",
    "UNKNOWN"})


class RX2SLI(SLI):
    def __init__(self, slo: SLO, settings: Settings) -> None:
        super().__init__(slo, settings)
        self.gateway_source = slo.source == "gateway"
        self.consumes = ((UplinkReceived, DownlinkCommand, DownlinkAck) if self.gateway_source
                         else (DownlinkOutcome,))
        self.rx2_ms = slo.rx2_delay_ms
        self.ack_timeout_ms = int(slo.ack_timeout_s * 1000)
        self.horizon_ms = self.ack_timeout_ms if self.gateway_source else 0
        self.by_region = slo.scope_by == "region"
        # recent uplinks per (gateway, DevAddr), newest last: the command is linked to the
        # newest one before it, whatever the order the two arrived in
        self._recent = RecentUplinks()
        self._commands: dict[tuple[str, int], DownlinkCommand] = {}
        self._acks: dict[tuple[str, int], DownlinkAck] = {}
        self._remembered = 0  # entries added since the last pruning
        self.excluded = 0
        self.reasons: dict[str, int] = {}
        self._lorawan = settings.lorawan
        self._class_b_c: dict[str, bool] = {}  # per device: declared Class B/C

    def add(self, events: Sequence[Event]) -> None:
        # Gateway copies of uplinks are most of a replay, commands and acks most of the
        # rest: SLI._seen is inlined (both of its tests: after a flush an event can be past
        # max_time_ms and late at once).
        remember = self._recent.add
        commands, acks = self._commands, self._acks
        max_t = self.max_time_ms
        watermark = self.watermark_ms
        late = remembered = 0
        for ev in events:
            if type(ev) is UplinkReceived:
                t, devaddr, _, gateway, region, _, _ = ev
                remember(t, devaddr, gateway, region)
                remembered += 1
            elif type(ev) is DownlinkAck:
                t, gateway, downlink_id, _ = ev
                acks[(gateway, downlink_id)] = ev
            elif type(ev) is DownlinkCommand:
                t, gateway, downlink_id, _, delays, join_accept = ev
                if join_accept or not delays or min(delays) < 0:
                    self.excluded += 1
                else:
                    commands[(gateway, downlink_id)] = ev
            else:
                self.max_time_ms, self.late_events = max_t, self.late_events + late
                late = 0
                self._add_other(ev)
                max_t = self.max_time_ms
                continue
            if t > max_t:
                max_t = t
            if t < watermark:
                late += 1
        self.max_time_ms = max_t
        self.late_events += late
        self._remembered += remembered

    def add_columns(self, cls: type, rows: Rows, names: list[str]) -> bool:
        """Gateway copies of uplinks as rows (``sources/columns.py``), with numpy: the
        watermark bookkeeping here, the recent uplinks in ``RecentUplinks.add_rows``."""
        if cls is not UplinkReceived:
            return False
        if not len(rows):
            return True
        times = rows[:, UP_TIME]
        self.max_time_ms = max(self.max_time_ms, int(times.max()))
        self.late_events += int(np.count_nonzero(times < self.watermark_ms))
        self._recent.add_rows(times, rows[:, UP_DEVADDR], rows[:, UP_GATEWAY],
                              rows[:, UP_REGION], names)
        self._remembered += len(rows)
        return True

    def _add_other(self, ev: Event) -> None:
        if isinstance(ev, UplinkReceived):
            self.add([ev])
        elif isinstance(ev, DownlinkCommand):
            self._seen(ev.time_ms)
            if ev.join_accept or not ev.delays_ms or min(ev.delays_ms) < 0:
                self.excluded += 1
                return
            self._commands[(ev.gateway, ev.downlink_id)] = ev
        elif isinstance(ev, DownlinkAck):
            self._seen(ev.time_ms)
            self._acks[(ev.gateway, ev.downlink_id)] = ev
        elif isinstance(ev, DownlinkOutcome):
            self._seen(ev.time_ms)
            if self._lorawan.class_b_c and self._declared_b_c(ev.device):
                self.excluded += 1
                return
            self._tally(ev.status if not ev.ok else "OK")
            self._count("network", ev.time_ms, ev.ok, float(ev.latency_ms))

    def _declared_b_c(self, device: str) -> bool:
        known = self._class_b_c.get(device)
        if known is None:
            if len(self._class_b_c) >= 100_000:
                self._class_b_c.clear()
            known = self._class_b_c[device] = self._lorawan.is_class_b_c(device)
        return known

    def _tally(self, reason: str) -> None:
        reasons = self.reasons
        if (reason not in reasons and len(reasons) >= MAX_REASONS
                and reason not in _KNOWN_REASONS):
            reason = OTHER_REASON
        reasons[reason] = reasons.get(reason, 0) + 1

    def _uplink_for(self, cmd: DownlinkCommand) -> tuple[int, str] | None:
        # the window-opening uplink precedes the command by at most RX2 delay plus slack
        uplink = self._recent.newest_at(cmd.gateway, cmd.devaddr, cmd.time_ms)
        return uplink if uplink and cmd.time_ms - uplink[0] <= self.rx2_ms + 5_000 else None

    def _close(self, watermark_ms: int) -> None:
        if not self.gateway_source:
            return
        limit = watermark_ms - self.ack_timeout_ms
        commands, acks, uplink_for = self._commands, self._acks, self._uplink_for
        for key in [k for k, c in commands.items() if c.time_ms < limit]:
            cmd = commands.pop(key)
            ack = acks.pop(key, None)
            uplink = uplink_for(cmd)
            latency = float(cmd.time_ms - uplink[0]) if uplink else -1.0
            scope = (self._lorawan.region_scope(uplink[1]) if (self.by_region and uplink)
                     else "network")
            if ack is not None:
                ok = "OK" in ack.statuses
                reason = "OK" if ok else self._rx2_status(cmd, ack)
            elif self.slo.missing_ack == "ignore":
                self._tally("no ack (ignored)")
                continue
            else:
                ok, reason = False, "no ack"
            self._tally(reason)
            self._count(scope, cmd.time_ms, ok, latency)
        # acks without a command (command lost or not ours) and old uplinks are dropped
        for key in [k for k, a in self._acks.items() if a.time_ms < limit - 60_000]:
            del self._acks[key]
        if self._remembered > PRUNE_AFTER + len(self._recent) // 4:
            # uplinks older than any command still to come (within lateness) can go;
            # pruning after a quarter as many uplinks as there are entries keeps the cost
            # constant per uplink and the entries within a third above what is kept. (A
            # large fleet heard by few gateways each makes a new (gateway, DevAddr) entry
            # for most uplinks: waiting for as many uplinks as entries never pruned.)
            self._recent.prune(limit - self.rx2_ms - _UPLINK_MEMORY_MS)
            self._remembered = 0

    def _rx2_status(self, cmd: DownlinkCommand, ack: DownlinkAck) -> str:
        """The status of the RX2 item (the one with the RX2 delay), else of the last item."""
        for delay, status in zip(cmd.delays_ms, ack.statuses, strict=False):
            if delay == self.rx2_ms:
                return status
        return ack.statuses[-1] if ack.statuses else "no status"

    # ---------------------------------------------------------------------- checkpoints
    def state(self) -> State:
        """Base state plus the recent uplinks as a keyed table (``RecentUplinks.columns``), the
        commands and acks waiting for each other as event rows, counters and reasons."""
        return {
            **super().state(),
            **self._recent.columns(),
            "commands": [[c.time_ms, c.gateway, c.downlink_id, c.devaddr, list(c.delays_ms),
                          c.join_accept] for c in self._commands.values()],
            "acks": [[a.time_ms, a.gateway, a.downlink_id, list(a.statuses)]
                     for a in self._acks.values()],
            "remembered": self._remembered,
            "excluded": self.excluded,
            "reasons": [[reason, n] for reason, n in self.reasons.items()],
        }

    def load_state(self, state: State) -> None:
        super().load_state(state)
        self._recent = RecentUplinks.from_state(state)
        commands = [_command(row) for row in get_list(state, "commands")]
        self._commands = {(c.gateway, c.downlink_id): c for c in commands}
        acks = [_ack(row) for row in get_list(state, "acks")]
        self._acks = {(a.gateway, a.downlink_id): a for a in acks}
        self._remembered = get_int(state, "remembered")
        self.excluded = get_int(state, "excluded")
        self.reasons = {str(reason): int(n) for reason, n in get_list(state, "reasons")}


def _command(row: Any) -> DownlinkCommand:
    t, gateway, downlink_id, devaddr, delays, join_accept = row
    return DownlinkCommand(int(t), str(gateway), int(downlink_id), int(devaddr),
                           tuple(int(d) for d in delays), bool(join_accept))


def _ack(row: Any) -> DownlinkAck:
    t, gateway, downlink_id, statuses = row
    return DownlinkAck(int(t), str(gateway), int(downlink_id),
                       tuple(str(s) for s in statuses))


