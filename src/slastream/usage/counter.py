"""The request-allowance counter: requests in, per-band day totals and episodes out.

Fed batches of requests in any order within the lateness (like the SLIs), it holds them
until the watermark passes, then takes them in time order: each counts for its device's
local day (``usage/days.py``) and extends the device's intensive-communication run
(``usage/runs.py``). A day closes when the watermark passes its end: its operational ADIs
(devices with at least one request that day) and the ADIs over the allowance are counted
per band, and its per-device counts are reset.

A request later than the watermark still counts for the day that is open, but no longer
for intensive runs (their order is gone); one for a day already closed is rejected as
``late``. Requests whose client is empty (``no_client``) or in no band (``no_band``) are
rejected, counted.

Per device the counter keeps about 40 bytes of columns plus the id's bytes and 12 bytes of
index (``usage/devices.py``), whatever its traffic: ``benchmarks/usage_state.py`` measures it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from slastream.model.events import RequestLog
from slastream.model.time import Month
from slastream.model.usage import UsageTerms
from slastream.sli.state import State, get_array, get_int, get_strs, same_length
from slastream.usage import runs
from slastream.usage.bands import NO_BAND, BandMatcher, MappingRow
from slastream.usage.days import (
    ADIS,
    BYTES,
    OVER,
    REQUESTS,
    SIZED,
    WIDTH,
    DayTotals,
    day_of,
)
from slastream.usage.devices import DeviceTable
from slastream.usage.offenders import Offender, merge_offenders

I64 = npt.NDArray[np.int64]

# per-device flags for the month of the days being counted
OPERATIONAL = 1  # operational on at least one closed day of the month
OVER_ALLOWANCE = 2  # over the allowance on at least one closed day of the month


class UsageRequest(NamedTuple):
    """A request as the allowance counts it (the fields of a ``RequestLog`` it reads)."""

    time_ms: int
    component: str
    client: str
    bytes: int = -1  # bytes transferred (request and response bodies); -1: unknown


class UsageCounter:
    """Request-allowance state of one contract (pure: no I/O, no clock)."""

    def __init__(self, terms: UsageTerms, timezone: str, lateness_s: int) -> None:
        self.terms = terms
        self.timezone = timezone
        self.lateness_ms = lateness_s * 1000
        self.bands = len(terms.bands)
        self._num = np.array([b.allowance.numerator for b in terms.bands], np.int64)
        self._den = np.array([b.allowance.denominator for b in terms.bands], np.int64)
        self._matcher = BandMatcher(terms)
        self.devices = DeviceTable({
            "band": (np.uint8, NO_BAND),
            "flags": (np.uint8, 0),
            "count": (np.uint32, 0),  # requests in the open day
            "last": (np.int64, runs.NEVER),  # time of the last request in time order
            "start": (np.int64, runs.NEVER),  # start of the current run
        })
        self.max_time_ms = -1
        self.watermark_ms = -1
        self.rejected: Counter[str] = Counter()
        self.pending: list[tuple[I64, I64, I64]] = []  # (device, time, bytes) not yet taken
        self.day: DayTotals | None = None
        self.closed: list[DayTotals] = []
        self.month: str | None = None  # label of the month the device flags are about
        self.month_adis: dict[str, tuple[I64, I64]] = {}  # earlier months: (adis, over)
        self.offenders: dict[str, tuple[tuple[Offender, ...], ...]] = {}  # month → per band
        self.episodes: list[tuple[int, int, int]] = []  # (device, start_ms, end_ms)

    # ---------------------------------------------------------------------------- input
    def load_mapping(self, rows: Iterable[MappingRow]) -> None:
        """Give listed ADIs their band (``usage/bands.py``); they win over the patterns."""
        clients: list[str] = []
        bands: list[int] = []
        for row in rows:
            if row.problem:
                self.rejected[row.problem] += 1
            else:
                clients.append(row.client)
                bands.append(row.band)
        devices, _ = self.devices.resolve(clients)
        self.devices.col["band"][devices] = np.array(bands, np.uint8)

    def feed(self, requests: Iterable[RequestLog | UsageRequest]) -> None:
        """Count a batch of requests (of any component: others are skipped)."""
        component = self.terms.component
        times: list[int] = []
        clients: list[str] = []
        sizes: list[int] = []
        for r in requests:
            if component is not None and r.component != component:
                continue
            if not r.client:
                self.rejected["no_client"] += 1
                continue
            times.append(r.time_ms)
            clients.append(r.client)
            sizes.append(r.bytes)
        if not clients:
            return
        first = self.devices.size
        devices, new = self.devices.resolve(clients)
        if new:
            band = self.devices.col["band"]
            band[first:first + len(new)] = [self._matcher.band(c) for c in new]
        banded = self.devices.col["band"][devices] != NO_BAND
        unbanded = len(devices) - int(np.count_nonzero(banded))
        if unbanded:
            self.rejected["no_band"] += unbanded
        t = np.array(times, np.int64)[banded]
        devices, size = devices[banded], np.array(sizes, np.int64)[banded]
        if len(t):
            self.max_time_ms = max(self.max_time_ms, int(t.max()))
        late = t < self.watermark_ms
        if late.any():
            self._late(devices[late], t[late], size[late])
        self.pending.append((devices[~late], t[~late], size[~late]))

    def _late(self, devices: I64, times: I64, sizes: I64) -> None:
        if self.day is None:
            start, end = day_of(self.watermark_ms, self.timezone)
            if times.max() >= start:
                self.day = DayTotals.empty(start, end, self.bands)
        fits = np.zeros(len(times), bool)
        if self.day is not None:
            fits = (times >= self.day.start_ms) & (times < self.day.end_ms)
        dropped = len(times) - int(np.count_nonzero(fits))
        if dropped:
            self.rejected["late"] += dropped
        self._count(devices[fits], sizes[fits])

    # ------------------------------------------------------------------------ progress
    def advance(self, watermark_ms: int | None = None) -> None:
        """Take the requests before the watermark (default: newest time − lateness) and
        close the day it has passed."""
        wm = self.max_time_ms - self.lateness_ms if watermark_ms is None else watermark_ms
        if wm <= self.watermark_ms:
            return
        self._take(wm)
        self.watermark_ms = wm
        if self.day is not None and wm >= self.day.end_ms:
            self._close_day()

    def flush(self) -> None:
        """End of input: take everything, close the open day, end every run."""
        self.advance(max(self.max_time_ms + 1, self.watermark_ms + 1))
        if self.day is not None:
            self._close_day()
        last, start = self.devices.col["last"], self.devices.col["start"]
        ended = runs.open_episodes(last, start, self.devices.size, self.terms.intensive.max_ms)
        self._episodes(ended)
        start[ended.devices] = last[ended.devices]

    def _take(self, wm: int) -> None:
        if not self.pending:
            return
        devices, times, sizes = (np.concatenate(c) for c in zip(*self.pending, strict=True))
        ready = times < wm
        self.pending = [(devices[~ready], times[~ready], sizes[~ready])] if not ready.all() \
            else []
        order = np.argsort(times[ready], kind="stable")
        devices, times, sizes = devices[ready][order], times[ready][order], sizes[ready][order]
        while len(times):
            if self.day is None:
                self.day = DayTotals.empty(*day_of(int(times[0]), self.timezone), self.bands)
            elif times[0] >= self.day.end_ms:
                self._close_day()
                continue
            cut = int(np.searchsorted(times, self.day.end_ms))
            self._count(devices[:cut], sizes[:cut])
            self._run(devices[:cut], times[:cut])
            devices, times, sizes = devices[cut:], times[cut:], sizes[cut:]

    def _count(self, devices: I64, sizes: I64) -> None:
        assert self.day is not None
        if not len(devices):
            return
        uniq, counts = np.unique(devices, return_counts=True)
        self.devices.col["count"][uniq] += counts.astype(np.uint32)
        bands = self.devices.col["band"][devices].astype(np.int64)
        stats = self.day.stats
        stats[:, REQUESTS] += np.bincount(bands, minlength=self.bands)
        sized = sizes >= 0
        stats[:, SIZED] += np.bincount(bands[sized], minlength=self.bands)
        np.add.at(stats[:, BYTES], bands[sized], sizes[sized])

    def _run(self, devices: I64, times: I64) -> None:
        order = np.lexsort((times, devices))
        col = self.devices.col
        terms = self.terms.intensive
        self._episodes(runs.advance(devices[order], times[order], col["last"], col["start"],
                                    terms.gap_ms, terms.max_ms))

    def _episodes(self, ended: runs.Runs) -> None:
        self.episodes.extend(zip(ended.devices.tolist(), ended.starts.tolist(),
                                 ended.ends.tolist(), strict=True))

    def _close_day(self) -> None:
        day = self.day
        assert day is not None
        active, bands, counts, over = self._judge(day)
        day.stats[:, ADIS] = np.bincount(bands, minlength=self.bands)
        day.stats[:, OVER] = np.bincount(bands[over], minlength=self.bands)
        month = Month.containing(day.start_ms, self.timezone).label
        self._switch_month(month)
        col = self.devices.col
        col["flags"][active] |= OPERATIONAL
        col["flags"][active[over]] |= OVER_ALLOWANCE
        self.offenders[month] = merge_offenders(
            self.offenders.get(month), self.devices, active[over], counts[over],
            bands[over], day, self.bands, self.terms.top)
        col["count"][active] = 0
        self.closed.append(day)
        self.day = None

    def _judge(self, day: DayTotals) -> tuple[I64, I64, I64, npt.NDArray[np.bool_]]:
        """The devices with requests in ``day``, their bands and counts, and whether each
        is over the allowance for the whole day."""
        col, size = self.devices.col, self.devices.size
        active = np.flatnonzero(col["count"][:size]).astype(np.int64)
        bands = col["band"][active].astype(np.int64)
        counts = col["count"][active].astype(np.int64)
        # over when counts / minutes > num / den, in integers: "at the allowance" is not over
        over = counts * self._den[bands] > self._num[bands] * day.minutes
        return active, bands, counts, over

    def open_day_totals(self) -> I64:
        """The open day's totals so far, ADIs included; the ADIs "over" are those already
        past the whole day's allowance (certain to be over whatever comes next)."""
        assert self.day is not None
        _, bands, _, over = self._judge(self.day)
        stats = self.day.stats.copy()
        stats[:, ADIS] = np.bincount(bands, minlength=self.bands)
        stats[:, OVER] = np.bincount(bands[over], minlength=self.bands)
        return stats

    def _switch_month(self, month: str) -> None:
        if self.month is not None and month != self.month:
            self.month_adis[self.month] = self.month_counts()
            self.devices.col["flags"][:self.devices.size] = 0
        self.month = month

    def month_counts(self) -> tuple[I64, I64]:
        """Per band: the ADIs operational, and over the allowance, on some closed day of
        the month being counted."""
        col, size = self.devices.col, self.devices.size
        flags, bands = col["flags"][:size], col["band"][:size].astype(np.int64)
        operational = np.bincount(bands[(flags & OPERATIONAL) != 0], minlength=self.bands)
        over = np.bincount(bands[(flags & OVER_ALLOWANCE) != 0], minlength=self.bands)
        return operational[:self.bands].astype(np.int64), over[:self.bands].astype(np.int64)

    # ---------------------------------------------------------------------- checkpoints
    def state(self) -> State:
        """Everything in flight as named plain data and arrays (see ``sli/state.py``); the
        terms are not part of it: ``load_state`` runs on a counter built from the config."""
        pending = [np.concatenate(c) for c in zip(*self.pending, strict=True)] \
            if self.pending else [np.zeros(0, np.int64)] * 3
        days = [*self.closed, *([self.day] if self.day is not None else [])]
        months = sorted(self.month_adis)
        offenders = [(m, b, o) for m, per_band in sorted(self.offenders.items())
                     for b, band in enumerate(per_band) for o in band]
        ep = self.episodes
        return {
            **{f"device_{k}": v for k, v in self.devices.state().items()},
            "max_time_ms": self.max_time_ms,
            "watermark_ms": self.watermark_ms,
            "rejected_reasons": list(self.rejected),
            "rejected_counts": np.array(list(self.rejected.values()), np.int64),
            "pending_devices": pending[0], "pending_times": pending[1],
            "pending_bytes": pending[2],
            "day_bounds": np.array([(d.start_ms, d.end_ms) for d in days],
                                   np.int64).reshape(len(days), 2),
            "day_stats": np.array([d.stats for d in days], np.int64).reshape(
                len(days), self.bands, WIDTH),
            "day_open": int(self.day is not None),
            "month": self.month or "",
            "month_labels": months,
            "month_adis": np.array([np.stack(self.month_adis[m]) for m in months],
                                   np.int64).reshape(len(months), 2, self.bands),
            "offender_months": [m for m, _, _ in offenders],
            "offender_clients": [o.client for _, _, o in offenders],
            "offender_values": np.array([(b, o.day_ms, o.requests, o.minutes)
                                         for _, b, o in offenders],
                                        np.int64).reshape(len(offenders), 4),
            "episodes": np.array(ep, np.int64).reshape(len(ep), 3),
        }

    def load_state(self, state: State) -> None:
        """Take over ``state()`` of a counter of the same terms; ``ValueError`` if malformed."""
        nb = self.bands
        self.devices.load_state({k[7:]: v for k, v in state.items() if k.startswith("device_")})
        self.max_time_ms = get_int(state, "max_time_ms")
        self.watermark_ms = get_int(state, "watermark_ms")
        reasons = get_strs(state, "rejected_reasons")
        counts = get_array(state, "rejected_counts", np.int64).tolist()
        same_length("rejections", reasons, counts)
        self.rejected = Counter(dict(zip(reasons, counts, strict=True)))
        pending = [get_array(state, f"pending_{k}", np.int64) for k in ("devices", "times",
                                                                         "bytes")]
        same_length("pending", *pending)
        _check_devices(pending[0], self.devices.size)
        self.pending = [(pending[0], pending[1], pending[2])] if len(pending[0]) else []
        bounds = get_array(state, "day_bounds", np.int64, (None, 2))
        stats = get_array(state, "day_stats", np.int64, (len(bounds), nb, WIDTH))
        days = [DayTotals(int(s), int(e), st.copy())
                for (s, e), st in zip(bounds.tolist(), stats, strict=True)]
        self.day = days.pop() if get_int(state, "day_open") and days else None
        self.closed = days
        month = state.get("month")
        self.month = month if isinstance(month, str) and month else None
        labels = get_strs(state, "month_labels")
        adis = get_array(state, "month_adis", np.int64, (len(labels), 2, nb))
        self.month_adis = {m: (a[0].copy(), a[1].copy())
                           for m, a in zip(labels, adis, strict=True)}
        self._load_offenders(state)
        episodes = get_array(state, "episodes", np.int64, (None, 3))
        _check_devices(episodes[:, 0], self.devices.size)
        self.episodes = [(d, s, e) for d, s, e in episodes.tolist()]

    def _load_offenders(self, state: State) -> None:
        months = get_strs(state, "offender_months")
        clients = get_strs(state, "offender_clients")
        values = get_array(state, "offender_values", np.int64, (len(months), 4))
        same_length("offenders", months, clients)
        found: dict[str, list[list[Offender]]] = {}
        for m, client, (band, day, requests, minutes) in zip(months, clients, values.tolist(),
                                                              strict=True):
            if not 0 <= band < self.bands or minutes <= 0:
                raise ValueError("state field 'offender_values': bad band or day")
            per_band = found.setdefault(m, [[] for _ in range(self.bands)])
            per_band[band].append(Offender(client, day, requests, minutes))
        self.offenders = {m: tuple(tuple(b) for b in per_band) for m, per_band in found.items()}


def _check_devices(devices: I64, size: int) -> None:
    if len(devices) and (devices.min() < 0 or devices.max() >= size):
        raise ValueError("state: a device number outside the device table")
