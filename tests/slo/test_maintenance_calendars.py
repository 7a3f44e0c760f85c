"""Maintenance calendars (docs/semantics.md#maintenance-calendars): allowed windows, blackouts.

The policy is EVRYTHNG's, read from examples/contracts/evrythng.yaml: two days' notice, at most
an hour a month, Saturday or Sunday 05:00-09:00 GMT, never from 11 December to 4 January nor
from the 4th Monday of November through the 12 days after it. A maintenance that is partly
outside the window, or touches a blackout, is refused as a whole.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from slastream.config import load_settings
from slastream.model.events import Exclusion
from slastream.model.maintenance import Blackout, MaintenanceWindow, NthWeekday
from slastream.model.spec import ExclusionPolicy
from slastream.slo.exclusions import excused_mask, judge
from tests.capture_builder import Capture, utc

ROOT = Path(__file__).resolve().parents[2]
EVRYTHNG = ROOT / "examples" / "contracts" / "evrythng.yaml"
POLICY = load_settings(EVRYTHNG).exclusion_policy
WINDOW = "outside the allowed maintenance window (Sat, Sun 05:00-09:00 Etc/GMT)"
M = timedelta(minutes=1)
H = timedelta(hours=1)


def ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def maintenance(start: datetime, end: datetime, ex_id: str = "m") -> Exclusion:
    """A maintenance announced three days ahead (the notice is never the issue here)."""
    return Exclusion(ex_id, "api", ms(start), ms(end), ms(start - timedelta(days=3)),
                     "maintenance", "")


def verdict(start: datetime, end: datetime,
            policy: dict[str, ExclusionPolicy] = POLICY) -> tuple[bool, str]:
    v = judge(maintenance(start, end), policy)
    return v.accepted, v.reason


# --- allowed windows -----------------------------------------------------------------

def test_inside_the_saturday_and_sunday_windows_is_excused() -> None:
    assert verdict(utc(2026, 10, 3, 5), utc(2026, 10, 3, 9)) == (True, "accepted")  # Sat
    assert verdict(utc(2026, 10, 4, 8, 30), utc(2026, 10, 4, 9)) == (True, "accepted")  # Sun


@pytest.mark.parametrize(("start", "end"), [
    (utc(2026, 10, 7, 5), utc(2026, 10, 7, 6)),         # a Wednesday
    (utc(2026, 10, 3, 4, 59), utc(2026, 10, 3, 6)),     # starts a minute early
    (utc(2026, 10, 3, 8, 30), utc(2026, 10, 3, 9, 30)), # overruns by 30 minutes
    (utc(2026, 10, 3, 5), utc(2026, 10, 4, 9)),         # Saturday's window to Sunday's
])
def test_partly_or_wholly_outside_the_window_is_refused_whole(
        start: datetime, end: datetime) -> None:
    assert verdict(start, end) == (False, WINDOW)


def test_the_notice_is_judged_before_the_calendar() -> None:
    late = Exclusion("m", "api", ms(utc(2026, 10, 7, 5)), ms(utc(2026, 10, 7, 6)),
                     ms(utc(2026, 10, 7, 4)), "maintenance", "")
    assert judge(late, POLICY).reason == "notice 1.0 h < required 48 h"


def test_windows_that_touch_cover_the_span_across_midnight() -> None:
    policy = {"maintenance": ExclusionPolicy(True, windows=(
        MaintenanceWindow(("Sat",), "22:00-24:00"), MaintenanceWindow(("Sun",), "00:00-02:00")))}
    assert verdict(utc(2026, 10, 3, 23), utc(2026, 10, 4, 1), policy) == (True, "accepted")
    assert verdict(utc(2026, 10, 3, 23), utc(2026, 10, 4, 3), policy)[0] is False


# --- DST: Etc/GMT has none; a window in UK time moves with the clocks ----------------

def test_a_gmt_window_is_05_to_09_utc_in_summer_too() -> None:
    assert verdict(utc(2026, 7, 4, 5), utc(2026, 7, 4, 9)) == (True, "accepted")
    assert verdict(utc(2026, 7, 4, 4), utc(2026, 7, 4, 5))[0] is False


LONDON = {"maintenance": ExclusionPolicy(True, windows=(
    MaintenanceWindow(("Sun",), "05:00-09:00", "Europe/London"),))}


def test_a_uk_time_window_follows_the_clocks() -> None:
    # Sunday 22 March 2026 is GMT; Sunday 29 March is the first BST day (05:00 BST = 04:00 UTC)
    assert verdict(utc(2026, 3, 22, 5), utc(2026, 3, 22, 9), LONDON) == (True, "accepted")
    assert verdict(utc(2026, 3, 29, 4), utc(2026, 3, 29, 8), LONDON) == (True, "accepted")
    assert verdict(utc(2026, 3, 29, 5), utc(2026, 3, 29, 9), LONDON)[0] is False
    # back to GMT on Sunday 25 October
    assert verdict(utc(2026, 10, 25, 5), utc(2026, 10, 25, 9), LONDON) == (True, "accepted")


def test_a_window_over_the_change_of_the_clocks_is_wall_clock_time() -> None:
    night = {"maintenance": ExclusionPolicy(True, windows=(
        MaintenanceWindow(("Sun",), "01:00-03:00", "Europe/London"),))}
    # clocks back at 02:00 BST (01:00 UTC) on 25 October: 01:00 BST to 03:00 GMT is 3 hours
    assert verdict(utc(2026, 10, 25, 0), utc(2026, 10, 25, 3), night) == (True, "accepted")
    # clocks forward at 01:00 GMT on 29 March: 01:00 (skipped) to 03:00 BST is 1 hour
    assert verdict(utc(2026, 3, 29, 1), utc(2026, 3, 29, 2), night) == (True, "accepted")
    assert verdict(utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 2), night)[0] is False
    assert verdict(utc(2026, 3, 29, 1), utc(2026, 3, 29, 2, 30), night)[0] is False


# --- blackouts ------------------------------------------------------------------------

@pytest.mark.parametrize(("start", "reason"), [
    # 4th Monday of November 2026 is the 23rd: the blackout runs to Saturday 5 December
    (utc(2026, 11, 28, 5), "in the high-demand blackout 2026-11-23 to 2026-12-05"),
    (utc(2026, 12, 5, 5), "in the high-demand blackout 2026-11-23 to 2026-12-05"),
    # 2027: 1 November is a Monday, so the 4th is the 22nd, the last day Saturday 4 December
    (utc(2027, 11, 27, 5), "in the high-demand blackout 2027-11-22 to 2027-12-04"),
    (utc(2027, 12, 4, 5), "in the high-demand blackout 2027-11-22 to 2027-12-04"),
    # 11 December to 4 January, across the year end, in both years it touches
    (utc(2026, 12, 12, 5), "in the high-demand blackout 2026-12-11 to 2027-01-04"),
    (utc(2027, 1, 2, 5), "in the high-demand blackout 2026-12-11 to 2027-01-04"),
    (utc(2027, 12, 11, 5), "in the high-demand blackout 2027-12-11 to 2028-01-04"),
])
def test_maintenance_in_a_high_demand_period_is_refused(start: datetime, reason: str) -> None:
    assert verdict(start, start + H) == (False, reason)


@pytest.mark.parametrize("start", [
    utc(2026, 11, 22, 5),   # the Sunday before the 4th Monday
    utc(2026, 12, 6, 5),    # the Sunday after the 13 days
    utc(2027, 11, 21, 5),
    utc(2027, 12, 5, 5),
    utc(2027, 1, 9, 5),     # the first Saturday after 4 January
])
def test_the_days_around_a_blackout_are_open(start: datetime) -> None:
    assert verdict(start, start + H) == (True, "accepted")


def test_a_blackout_is_whole_days_in_its_zone() -> None:
    berlin = {"maintenance": ExclusionPolicy(True, blackouts=(
        Blackout("freeze", "2026-06-01", "2026-06-01", timezone="Europe/Berlin"),))}
    # 1 June in Berlin is 31 May 22:00 UTC to 1 June 22:00 UTC
    assert verdict(utc(2026, 5, 31, 21), utc(2026, 5, 31, 22), berlin) == (True, "accepted")
    assert verdict(utc(2026, 5, 31, 21), utc(2026, 5, 31, 22, 1), berlin) == (
        False, "in the freeze blackout 2026-06-01 to 2026-06-01")
    assert verdict(utc(2026, 6, 1, 22), utc(2026, 6, 1, 23), berlin) == (True, "accepted")


def test_nth_weekday() -> None:
    fourth_monday = NthWeekday(4, "Mon", 11)
    assert [fourth_monday.in_year(y) for y in (2026, 2027, 2028)] == [
        date(2026, 11, 23), date(2027, 11, 22), date(2028, 11, 27)]
    for year in range(2000, 2100):
        day = fourth_monday.in_year(year)
        assert day is not None and day.weekday() == 0 and 22 <= day.day <= 28
    assert NthWeekday(-1, "Mon", 5).in_year(2026) == date(2026, 5, 25)  # UK spring bank holiday
    assert NthWeekday(-1, "Sun", 12).in_year(2026) == date(2026, 12, 27)
    assert NthWeekday(5, "Mon", 11).in_year(2026) == date(2026, 11, 30)
    assert NthWeekday(5, "Mon", 11).in_year(2027) == date(2027, 11, 29)
    assert NthWeekday(5, "Tue", 11).in_year(2026) is None


def test_a_refused_maintenance_excuses_no_minute() -> None:
    slo = load_settings(EVRYTHNG).slo("uptime")
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    base = ms(t0) // 60_000
    inside = maintenance(utc(2026, 11, 7, 5), utc(2026, 11, 7, 5, 30), "in")
    outside = maintenance(utc(2026, 11, 11, 10), utc(2026, 11, 11, 10, 20), "out")
    mask = excused_mask([inside, outside], POLICY, slo, "api", base, base + 43200,
                        base, base + 43200)
    assert int(mask.sum()) == 30
    assert mask[ms(utc(2026, 11, 7, 5)) // 60_000 - base]


# --- the ledger, through `slastream replay` -----------------------------------------

def november_capture(tmp: Path) -> Path:
    """November 2026: the API probe (once a minute) fails during three maintenances, each
    announced three days ahead: Saturday 7th 05:00-05:30 GMT (in the window: excused),
    Wednesday 11th 10:00-10:20 (outside the window: 20 minutes of downtime), Saturday 28th
    05:00-05:15 (in the window but in the high-demand blackout: 15 minutes of downtime).
    The probe succeeds in the hour around each."""
    cap = Capture()
    plan = [("sat-window", utc(2026, 11, 7, 5), 30), ("wed", utc(2026, 11, 11, 10), 20),
            ("high-demand", utc(2026, 11, 28, 5), 15)]
    for ex_id, start, minutes in plan:
        cap.exclusion(start - timedelta(days=3), ex_id, "api", start, start + minutes * M,
                      announced=start - timedelta(days=3))
        for m in range(-10, minutes + 10):
            cap.probe(start + m * M, "api", ok=not 0 <= m < minutes)
    return cap.write(tmp / "evrythng-november.jsonl")


def replay(config: Path, capture: Path, month: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "slastream", "replay", "-c", str(config), str(capture),
         "--month", month], capture_output=True, text=True, check=False, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    ledger: dict[str, Any] = json.loads(proc.stdout)
    return ledger


def test_replay_writes_the_verdicts_in_the_ledger(tmp_path: Path) -> None:
    ledger = replay(EVRYTHNG, november_capture(tmp_path), "2026-11")
    verdicts = [(e["id"], e["accepted"], e["reason"]) for e in ledger["exclusions"]]
    assert verdicts == [
        ("sat-window", True, "accepted"),
        ("wed", False, WINDOW),
        ("high-demand", False, "in the high-demand blackout 2026-11-23 to 2026-12-05"),
    ]
    (uptime,) = [e for e in ledger["slos"] if e["name"] == "uptime"]
    assert uptime["excused_minutes"] == 30.0
    assert uptime["downtime_minutes"] == 35.0
    assert [(ep["excused"], ep["minutes"]) for ep in uptime["episodes"]] == [
        (True, 30.0), (False, 20.0), (False, 15.0)]
    assert uptime["episodes"][1]["reason"].endswith(f"maintenance wed not excused: {WINDOW}")
