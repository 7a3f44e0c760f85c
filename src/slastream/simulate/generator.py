"""The deterministic core: one seeded RNG, one time-ordered heap, messages out in order.

Every action (a device's uplink, a probe check, a request batch) runs at its simulated time
and pushes the messages it causes, each at the time the bridge would receive it, which is
never before the action. So popping the heap yields messages in received-time order, and
the same seed yields the same messages, byte for byte.
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import itertools
import random
from collections.abc import Callable, Iterator
from typing import Any

from slastream.simulate import lorawan, services
from slastream.simulate.scenario import Scenario, Window
from slastream.simulate.timefmt import sub_ms_digits
from slastream.simulate.truth import GroundTruth, OutageWindow
from slastream.simulate.world import World

Action = Callable[[int], None]

# No uplink starts in the last seconds of a bounded run, so that everything it causes
# (gateway copies, delivery, a retransmission ~4 s later, the downlink and its acks) lands
# before the end and the ground truth counts only what was written. (Runs under 80 s get
# a quarter of their length as tail, too short for the slowest chains.)
LORAWAN_TAIL_MS = 20_000
_NEVER = 1 << 62


class Simulation:
    """One run of a scenario from ``start_ms`` for ``duration_s`` (None: without end)."""

    def __init__(self, scenario: Scenario, start_ms: int, duration_s: float | None,
                 seed: int, world: World | None = None) -> None:
        """``world``, when given, is ``World(scenario, random.Random(seed))`` built ahead
        of time (a live run builds it before it reads the clock)."""
        if scenario.app_server not in ("chirpstack", "tts"):
            raise ValueError(f"app_server must be chirpstack or tts, got {scenario.app_server!r}")
        self.scenario = scenario
        self.start_ms = start_ms
        self.end_ms: int | None = (
            None if duration_s is None else start_ms + round(duration_s * 1000))
        # Plain ints on the hot path: "no end" is a time no run reaches.
        self.limit_ms = _NEVER if self.end_ms is None else self.end_ms
        self.lorawan_limit_ms = self.limit_ms - min(
            LORAWAN_TAIL_MS, (self.limit_ms - start_ms) // 4)
        if world is None:
            world = World(scenario, random.Random(seed))
        elif world.in_use or world.scenario != scenario:
            raise ValueError("a world serves one simulation of its own scenario")
        world.in_use = True
        self.world = world
        self.rng = world.rng
        self.truth = GroundTruth(start_ms=start_ms, end_ms=self.end_ms or -1)
        self._heap: list[tuple[int, int, str | None, Any]] = []
        self._seq = itertools.count()
        self.heard_cdf: list[float] = []  # set by lorawan.start
        self._windows: dict[str, list[tuple[int, int, str]]] = {}
        self._record_outages()
        lorawan.start(self)
        services.start(self)

    # ------------------------------------------------------------------ used by actions

    def emit(self, ms: int, topic: str, payload: Any) -> bool:
        """Queue a message received at ``ms``; False (and nothing queued) past the end."""
        if ms >= self.limit_ms:
            return False
        heapq.heappush(self._heap, (ms, next(self._seq), topic, payload))
        return True

    def schedule(self, ms: int, action: Action) -> None:
        """Run ``action(ms)`` when simulated time reaches ``ms`` (never past the end)."""
        if ms < self.limit_ms:
            heapq.heappush(self._heap, (ms, next(self._seq), None, action))

    def active(self, kind: str, ms: int, scope: str = "") -> bool:
        """Whether ``ms`` falls in an outage of ``kind`` (of ``scope``, when given)."""
        for start, end, w_scope in self._windows[kind]:
            if start <= ms < end and (not scope or w_scope in (scope, "*")):
                return True
        return False

    def between(self, lo: int, hi: int) -> int:
        """A uniform integer in ``[lo, hi]`` (``random.randint`` is three times slower)."""
        return lo + int(self.rng.random() * (hi - lo + 1))

    def ns_digits(self) -> str:
        """Six random digits below the millisecond, for nanosecond timestamps."""
        return sub_ms_digits(self.rng.getrandbits(20))

    def absolute(self, window: Window) -> tuple[int, int]:
        return (self.start_ms + int(window.start_s * 1000),
                self.start_ms + int(window.end_s * 1000))

    # ------------------------------------------------------------------ output

    def messages(self) -> Iterator[tuple[int, str, Any]]:
        """``(received_ms, topic, payload)`` in received-time order, running every action.

        Payloads may share immutable parts (device info, modulation): do not mutate them.
        """
        heap = self._heap
        pop = heapq.heappop
        truth = self.truth
        while heap:
            ms, _, topic, obj = pop(heap)
            if topic is None:
                obj(ms)
            else:
                truth.messages += 1
                yield ms, topic, obj

    def run_to_end(self) -> GroundTruth:
        """Generate everything without keeping it; return the ground truth."""
        if self.end_ms is None:
            raise ValueError("a run without end has no final ground truth")
        for _ in self.messages():
            pass
        return self.truth

    def _record_outages(self) -> None:
        out = self.scenario.outages
        kinds: list[tuple[str, tuple[Window, ...]]] = [
            ("delivery", out.delivery), ("downlink", out.downlink), ("probe", out.probe),
            ("slow", out.slow),
            ("maintenance", (out.maintenance,) if out.maintenance is not None else ()),
        ]
        for kind, windows in kinds:
            spans = self._windows[kind] = []
            for w in windows:
                start, end = self.absolute(w)
                spans.append((start, end, w.scope))
                if start >= self.limit_ms:
                    continue
                self.truth.outages.append(
                    OutageWindow(kind, w.scope, start, min(end, self.limit_ms)))


@contextlib.contextmanager
def relaxed_gc() -> Iterator[None]:
    """Collect garbage less often while a large run is built or written.

    A big world is hundreds of thousands of long-lived objects, and every default
    generation-0 threshold (700 allocations) ends up rescanning them: a quarter of the
    time of a generated day. Payloads are freed by reference counting; nothing here needs
    the cycle collector urgently. The previous thresholds come back afterwards.
    """
    before = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)
