"""Live runs started ahead of their tests, together, so that their waits overlap.

Most of a live test's time is spent waiting for the wall clock: workers joining their
group, a watermark passing the minute after the last message, a simulated run playing out
in real time. A run that shares nothing another test can disturb (its own topics and
application, its own MQTT broker if it has one, processes of its own) is registered with
``@ahead("test_name")``; the first test that asks for the ``ahead`` fixture starts every
registered run whose test is selected, each in a thread of its own, and each test then
takes its run's result (``ahead.result(run)``) and asserts on it as it would have on a run
of its own. A run's exception is raised in its test.

Only runs that keep their brokers' clients, bridges and workers in processes or on event
loops of their own belong here: the tests that run the pipeline in this process
(``live.live_pipeline``) run one at a time, in the main thread, while these proceed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.brokers import KafkaBroker

T = TypeVar("T")
Run = Callable[[KafkaBroker, Path], Any]

_REGISTERED: dict[tuple[str, str], Run] = {}
JOIN_S = 600.0  # each run bounds its own waits; this only stops a hung one hanging the suite


def ahead(test: str) -> Callable[[Callable[[KafkaBroker, Path], T]],
                                 Callable[[KafkaBroker, Path], T]]:
    """Register the decorated run for ``test``, a test function of the same module."""
    def register(run: Callable[[KafkaBroker, Path], T]) -> Callable[[KafkaBroker, Path], T]:
        _REGISTERED[(run.__module__, test)] = run
        return run
    return register


class _Started:
    def __init__(self, name: str, run: Run, kafka: KafkaBroker, tmp: Path) -> None:
        self.outcome: list[Any] = []  # [value], or [None, exception]
        self.thread = threading.Thread(target=self._call, args=(run, kafka, tmp),
                                       daemon=True, name=f"ahead-{name}")

    def _call(self, run: Run, kafka: KafkaBroker, tmp: Path) -> None:
        try:
            self.outcome.append(run(kafka, tmp))
        except BaseException as exc:  # handed to the test, which raises it
            self.outcome.extend((None, exc))


class Ahead:
    """The runs started for this session's selected tests."""

    def __init__(self, runs: list[tuple[str, Run]], kafka: KafkaBroker,
                 factory: pytest.TempPathFactory) -> None:
        self._started = {run: _Started(name, run, kafka, factory.mktemp(name))
                         for name, run in runs}
        for started in self._started.values():
            started.thread.start()

    def result(self, run: Callable[[KafkaBroker, Path], T]) -> T:
        """What ``run`` returned (waiting for it), or its exception raised here."""
        started = self._started[run]
        started.thread.join(JOIN_S)
        assert not started.thread.is_alive(), f"{run.__name__} still running after {JOIN_S} s"
        if len(started.outcome) == 2:
            raise started.outcome[1]
        value: T = started.outcome[0]
        return value

    def join(self) -> None:
        for started in self._started.values():
            started.thread.join(JOIN_S)


@pytest.fixture(scope="session")
def ahead_runs(request: pytest.FixtureRequest, tansu: KafkaBroker,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ahead]:
    selected = set()
    for item in request.session.items:
        module = getattr(item, "module", None)
        if module is not None:
            selected.add((module.__name__, item.name))
    runs = [(test, run) for (module, test), run in _REGISTERED.items()
            if (module, test) in selected]
    started = Ahead(runs, tansu, tmp_path_factory)
    try:
        yield started
    finally:
        started.join()
