"""Calendar months, credit tables, the EVRYTHNG formula and exclusion rules."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slastream.model.events import Exclusion
from slastream.model.spec import Credit, CreditTier, ExclusionPolicy
from slastream.model.time import Month, parse_rfc3339_ms
from slastream.slo.credits import evrythng_credit, tier_credit
from slastream.slo.exclusions import judge


@pytest.mark.parametrize(("label", "tz", "minutes"), [
    ("2026-09", "UTC", 30 * 1440),
    ("2026-10", "UTC", 31 * 1440),
    ("2026-02", "UTC", 28 * 1440),
    ("2028-02", "UTC", 29 * 1440),
    ("2026-10", "Europe/Berlin", 31 * 1440 + 60),  # clocks go back on 25 October
    ("2026-03", "Europe/Berlin", 31 * 1440 - 60),  # and forward on 29 March
    ("2026-10", "Asia/Kuala_Lumpur", 31 * 1440),
])
def test_month_lengths(label: str, tz: str, minutes: int) -> None:
    assert Month.parse(label, tz).minutes == minutes


def test_month_starts_at_local_midnight() -> None:
    m = Month.parse("2026-10", "America/Denver")
    assert m.start_ms == parse_rfc3339_ms("2026-10-01T06:00:00Z")


@given(st.integers(min_value=0, max_value=4_000_000_000_000))
def test_months_tile_time(ms: int) -> None:
    m = Month.containing(ms, "Europe/Berlin")
    assert m.start_ms <= ms < m.end_ms
    assert m.next().start_ms == m.end_ms


TIERS = Credit(kind="tiers", tiers=(CreditTier(43, 0.15), CreditTier(480, 0.25),
                                    CreditTier(1440, 0.32), CreditTier(4320, 0.40)))


@pytest.mark.parametrize(("downtime", "credit"), [
    (0, 0.0), (43, 0.0), (44, 0.15), (480, 0.15), (481, 0.25), (1440, 0.25), (1441, 0.32),
    (4320, 0.32), (4321, 0.40), (44640, 0.40),
])
def test_tier_table_after_43_min_to_8_h(downtime: float, credit: float) -> None:
    assert tier_credit(TIERS, [1.0, downtime]).credit == credit


def test_total_downtime_basis() -> None:
    total = Credit(kind="tiers", tiers=TIERS.tiers, basis="total_downtime")
    assert tier_credit(total, [30, 30]).credit == 0.15
    assert tier_credit(TIERS, [30, 30]).credit == 0.0


def test_evrythng_worked_example() -> None:
    res = evrythng_credit(0.999, 0.995, 1000.0)
    assert res.credit == pytest.approx(1 / (1 + math.exp(4)))
    assert round(res.credit * 100, 1) == 1.8


def test_evrythng_credit_needs_uptime_below_target() -> None:
    assert evrythng_credit(0.999, 0.9995, 9000.0).credit == 0.0
    assert evrythng_credit(0.999, 0.99, 100.0).credit == pytest.approx(0.009)


def _ex(kind: str, notice_h: float | None, evidence: str = "") -> Exclusion:
    start = 10 * 86_400_000
    announced = -1 if notice_h is None else int(start - notice_h * 3_600_000)
    return Exclusion("x", "*", start, start + 3_600_000, announced, kind, evidence)


POLICY = {"maintenance": ExclusionPolicy(True, notice_s=172_800, cap_minutes=60),
          "third_party": ExclusionPolicy(True, evidence_required=True),
          "emergency": ExclusionPolicy(False)}


@pytest.mark.parametrize(("ex", "accepted"), [
    (_ex("maintenance", 48), True),
    (_ex("maintenance", 47.99), False),
    (_ex("maintenance", None), False),
    (_ex("third_party", None, "provider incident 1234"), True),
    (_ex("third_party", None), False),
    (_ex("emergency", 100), False),
    (_ex("force_majeure", 100), False),  # not in this contract's policy
])
def test_exclusion_verdicts(ex: Exclusion, accepted: bool) -> None:
    assert judge(ex, POLICY).accepted is accepted
