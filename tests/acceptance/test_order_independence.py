"""Same input, same ledger, whatever the batching and arrival order
(docs/semantics.md#determinism)."""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slastream.config import load_settings
from slastream.engine import Engine
from slastream.model.ledger import ledger_json
from slastream.sources.capture import Message, read_capture
from slastream.sources.decoder import group, message_batches
from tests.acceptance import scenarios

ROOT = Path(__file__).resolve().parents[2]


def _messages(tmp: Path) -> list[Message]:
    path, _ = scenarios.loriot(tmp)
    return [m for m in read_capture(str(path)) if isinstance(m, Message)]


def _ledger(messages: list[Message], cuts: list[int], advance: bool) -> dict[str, Any]:
    settings = load_settings(ROOT / "examples/contracts/loriot.yaml")
    engine = Engine(settings)
    bounds = [0, *sorted(cuts), len(messages)]
    for a, b in itertools.pairwise(bounds):
        for batch in message_batches(messages[a:b]):
            engine.feed(batch)
            engine.advance()
        if advance:
            engine.advance()
    engine.flush()
    ledger = ledger_json(engine.ledger("2026-10"))
    ledger.pop("inputs")
    return ledger


_CACHE: dict[str, Any] = {}


def _base(tmp: Path) -> tuple[list[Message], dict[str, Any]]:
    if "base" not in _CACHE:
        msgs = _messages(tmp)
        _CACHE["base"] = (msgs, _ledger(msgs, [], False))
    return _CACHE["base"]  # type: ignore[no-any-return]


_FIXTURE_OK = [HealthCheck.function_scoped_fixture]


@settings(max_examples=8, deadline=None, suppress_health_check=_FIXTURE_OK)
@given(cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=12), adv=st.booleans())
def test_any_batch_split_gives_the_same_ledger(tmp_path: Path, cuts: list[int], adv: bool) -> None:
    msgs, expected = _base(tmp_path)
    assert _ledger(msgs, [c % len(msgs) for c in cuts], adv) == expected


@settings(max_examples=5, deadline=None, suppress_health_check=_FIXTURE_OK)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_shuffle_within_lateness_gives_the_same_ledger(tmp_path: Path, seed: int) -> None:
    msgs, expected = _base(tmp_path)
    rng = random.Random(seed)
    lateness_ms = 120_000
    # every message may arrive up to 90 % of the allowed lateness after its neighbours
    shuffled = sorted(msgs, key=lambda m: m.received_ms + rng.uniform(0, 0.9 * lateness_ms))
    assert shuffled != msgs
    assert _ledger(shuffled, [len(msgs) // 3], True) == expected


def test_partitions_sum_to_the_whole(tmp_path: Path) -> None:
    """Split by the Kafka keys (DevAddr / gateway / component) into 3 engines; the merged
    slices give the same ledger as one engine."""
    from slastream.sli.slices import SliceStore
    from slastream.slo.ledger import build_ledger
    from slastream.sources import router
    from slastream.transport.codec import routes

    msgs, expected = _base(tmp_path)
    settings_ = load_settings(ROOT / "examples/contracts/loriot.yaml")
    parts = {(stream, i): Engine(settings_) for stream in ("lorawan", "gateway", "service",
                                                           "control") for i in range(3)}
    for msg in msgs:
        out: list[Any] = []
        router.decode(msg.topic, msg.payload, msg.received_ms, out)
        for ev in out:
            for stream, key in routes(ev):
                parts[(stream, hash(key) % 3)].feed(group([ev]))
    store = SliceStore()
    exclusions = []
    for (stream, _), eng in parts.items():
        eng.flush()
        # each stream's SLIs: only the ones whose input lives on that stream
        wanted = {"lorawan": {"lorawan-delivery"}, "gateway": {"rx2-reach"},
                  "service": {"api-availability", "dashboard-availability"},
                  "control": set()}[stream]
        for (slo, scope, minute), vec in eng.store.items():
            if slo in wanted:
                store.add(slo, scope, minute, vec)
        exclusions.extend(eng.exclusions)
    from slastream.model.time import Month

    ledger = ledger_json(build_ledger(settings_, store, exclusions,
                                      Month.parse("2026-10", "UTC"), 2**40))
    ledger.pop("inputs")
    assert ledger == expected
