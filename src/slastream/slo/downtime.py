"""Minute states and outage episodes from slices, per the contract's downtime rule.

A minute is *bad* when the SLI over the trailing window breaks the rule with enough
evidence, *good* when it holds, and *no data* when there is too little evidence. Bad
minutes form an episode until a good minute ends it; no-data minutes between bad ones
belong to the episode ("cannot be reached for 10 minutes" is not reset by a minute without
any downlink). An episode is downtime only when it lasts at least ``min_duration_s``
(5 minutes for LORIOT/MClimate probes, 10 for RX2, 1 for a per-minute rule).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from slastream.model.spec import DowntimeRule
from slastream.sli.slices import GOOD, LAT_COUNT, LAT_SUM, TOTAL, FloatArray

NO_DATA, UP, DOWN = 0, 1, 2
IntArray = npt.NDArray[np.int8]
BoolArray = npt.NDArray[np.bool_]


class Episode(NamedTuple):
    start: int  # index of the first bad minute
    end: int  # index after the last bad minute
    worst: float  # worst trailing SLI value seen in the episode


def _trailing(values: FloatArray, window: int) -> FloatArray:
    c = np.concatenate(([0.0], np.cumsum(values)))
    idx = np.arange(1, len(values) + 1)
    return c[idx] - c[np.maximum(idx - window, 0)]


def minute_states(matrix: FloatArray, rule: DowntimeRule) -> tuple[IntArray, FloatArray]:
    """States per minute of ``matrix`` (rows are minutes) and the trailing SLI value."""
    w = rule.window_min
    total = _trailing(matrix[:, TOTAL], w)
    enough = total >= rule.min_events
    with np.errstate(divide="ignore", invalid="ignore"):
        if rule.bad_above_ms is not None:
            count = _trailing(matrix[:, LAT_COUNT], w)
            value = np.where(count > 0, _trailing(matrix[:, LAT_SUM], w) / count, np.nan)
            bad = enough & (value > rule.bad_above_ms)
        else:
            value = np.where(total > 0, _trailing(matrix[:, GOOD], w) / total, np.nan)
            bad = enough & (value < rule.bad_below)
    states = np.where(enough, np.where(bad, DOWN, UP), NO_DATA).astype(np.int8)
    if rule.no_data == "downtime":
        states[states == NO_DATA] = DOWN
    return states, value


def evidence(matrix: FloatArray, rule: DowntimeRule, window_s: int | None) -> BoolArray:
    """Minutes with evidence (docs/semantics.md#coverage): the rule can judge them (at least
    ``min_events`` events in its trailing window), or, with an evidence window, the
    trailing ``window_s`` holds at least one event. Whether the rule counts missing data
    as downtime does not matter here: a minute counted so is still a minute without
    evidence."""
    total = matrix[:, TOTAL]
    judged = _trailing(total, rule.window_min) >= rule.min_events
    if window_s is None:
        return judged
    return judged | (_trailing(total, max(1, window_s // 60)) >= 1)


def episodes(states: IntArray, values: FloatArray, min_minutes: int,
             higher_is_worse: bool) -> list[Episode]:
    """Maximal bad spans (bridging no-data minutes) lasting at least ``min_minutes``."""
    bad = np.flatnonzero(states == DOWN)
    if bad.size == 0:
        return []
    ups_before = np.cumsum(states == UP)[bad]
    # a new episode starts where an UP minute lies between consecutive bad minutes
    breaks = np.flatnonzero(np.diff(ups_before) > 0) + 1
    out = []
    for chunk in np.split(bad, breaks):
        start, end = int(chunk[0]), int(chunk[-1]) + 1
        if end - start >= min_minutes:
            vals = values[chunk]
            vals = vals[~np.isnan(vals)]
            worst = (float(vals.max() if higher_is_worse else vals.min()) if vals.size
                     else float("nan"))
            out.append(Episode(start, end, worst))
    return out
