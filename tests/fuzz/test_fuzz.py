"""Fuzzed payloads for every source the router reaches, and for capture lines.

A short run per source by default; ``SLASTREAM_FUZZ_MESSAGES=100000`` runs the full one
(``SLASTREAM_FUZZ_SEED`` picks another deterministic seed)::

    SLASTREAM_FUZZ_MESSAGES=100000 pytest -q tests/fuzz -s
"""

from __future__ import annotations

import os

import pytest

from .corpus import TARGETS
from .harness import run

MESSAGES = int(os.environ.get("SLASTREAM_FUZZ_MESSAGES", "2000"))
SEED = int(os.environ.get("SLASTREAM_FUZZ_SEED", "1"))
# every decoder result is a counter key: their classes must stay a small set
MAX_REASON_KEYS = 200


@pytest.mark.parametrize("target", TARGETS)
def test_fuzzed_messages_are_counted_and_never_crash(target: str) -> None:
    report = run(target, MESSAGES, SEED)
    print(report.summary())
    assert report.failures == [], "\n\n".join(report.failures[:5])
    assert report.messages == MESSAGES and sum(report.outcomes.values()) == MESSAGES
    assert len(report.rejection_keys) <= MAX_REASON_KEYS, sorted(report.rejection_keys)
    assert len(report.ignored_keys) <= MAX_REASON_KEYS, sorted(report.ignored_keys)
