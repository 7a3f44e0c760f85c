"""Determinism, ordering and the capture format of generated traffic."""

from __future__ import annotations

import pytest

from slastream.simulate import (
    GroundTruth,
    Message,
    Scenario,
    Simulation,
    capture_lines,
    generate,
    ground_truth,
)
from slastream.sources.capture import BadLine, format_line, parse_line
from tests.simulate.conftest import DURATION_S
from tests.simulate.traffic import START_MS

SMALL = Scenario(devices=40)


def test_same_seed_same_bytes() -> None:
    a = list(capture_lines(Simulation(SMALL, START_MS, 900, seed=3)))
    b = list(capture_lines(Simulation(SMALL, START_MS, 900, seed=3)))
    assert len(a) > 1000
    assert a == b


def test_other_seed_other_traffic() -> None:
    a = list(capture_lines(Simulation(SMALL, START_MS, 300, seed=3)))
    b = list(capture_lines(Simulation(SMALL, START_MS, 300, seed=4)))
    assert a != b


def test_generate_matches_the_fast_path() -> None:
    """``generate`` (Messages) and the capture writer's lines are the same traffic."""
    messages = list(generate(SMALL, START_MS, 300, 5))
    lines = list(capture_lines(Simulation(SMALL, START_MS, 300, 5)))
    assert [format_line(m) for m in messages] == lines


def test_received_time_order_within_the_run(run: tuple[list[Message], GroundTruth]) -> None:
    times = [m.received_ms for m in run[0]]
    assert times == sorted(times)
    assert times[0] >= START_MS
    assert times[-1] < START_MS + DURATION_S * 1000


def test_every_line_is_a_valid_capture_line() -> None:
    """docs/interfaces.md#capture-files: each line parses back into the generated message."""
    sim = Simulation(SMALL, START_MS, 1200, 9)
    expected = [Message(ms, t, p) for ms, t, p in Simulation(SMALL, START_MS, 1200, 9).messages()]
    parsed = [parse_line(line, i) for i, line in enumerate(capture_lines(sim), 1)]
    assert not [p for p in parsed if isinstance(p, BadLine)]
    assert parsed == expected


def test_ground_truth_is_the_truth_of_the_same_run(truth: GroundTruth) -> None:
    from tests.simulate.conftest import SCENARIO, SEED

    again = ground_truth(SCENARIO, START_MS, DURATION_S, SEED)
    assert again.summary() == truth.summary()
    assert again.messages == truth.messages


def test_capture_starts_where_asked() -> None:
    start = START_MS + 86_400_000 * 30  # 2026-10-31
    first = next(generate(SMALL, start, 60, 1))
    assert start <= first.received_ms < start + 60_000


def test_a_run_without_end_is_lazy() -> None:
    import itertools

    first = list(itertools.islice(generate(SMALL, START_MS, None, 2), 500))
    assert len(first) == 500
    assert first[-1].received_ms < START_MS + 600_000
    with pytest.raises(ValueError, match="without end"):
        Simulation(SMALL, START_MS, None, 2).run_to_end()
