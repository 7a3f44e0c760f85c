"""A multi-tenant LoRaWAN capture built by hand, and the numbers its construction implies.

200 tenants of 100 devices each (20,000 devices, two applications per tenant), every device
sending one uplink every 15 minutes for 150 minutes (10 uplinks), heard by one gateway and
delivered one second later. Within a tenant, device ``j`` sends at ``j * 9`` seconds past
each quarter hour, so every minute carries six or seven uplinks of every tenant.

* Rejoins: every device with ``j % 10 == 7`` joins again before its sixth uplink and gets a
  new DevAddr (its frame counter starts again at 0). The join is the only thing that tells
  whose the new DevAddr is before it is first delivered.
* The broken tenant (``tenant-042``) loses the uplinks ``(j + k) % 10 < 3`` (``k`` the
  uplink's number) heard in the hour from 00:45 to 01:45: 30 % of its deliveries, evenly
  spread, so every trailing 5-minute window inside the hour is below 75 %. Among the lost
  are the first uplinks after the rejoin (``j % 10 == 7``, ``k == 5``), charged to the
  tenant by the join alone.
* Five stray DevAddrs of the network that no delivery or join ever names send three uplinks
  each: 15 uplinks, none delivered, in the ``unattributed`` scope.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tests.capture_builder import Capture, utc

TENANTS = 200
PER_TENANT = 100
UPLINKS = 10
BROKEN = 42
START = utc(2026, 10, 1)
LOSS = (START + timedelta(minutes=45), START + timedelta(minutes=105))


def tenant_id(t: int) -> str:
    return f"tenant-{t:03d}"


def devaddr(d: int, session: int) -> int:
    return 0x26000000 | (session << 16) | d


def build(tmp: Path, tenants: int = TENANTS) -> tuple[Path, dict[str, Any]]:
    """The capture and ``{"events": {tenant: (good, total)}, "broken_minutes": {minute
    offset: (good, total)}, "unattributed": total}``."""
    cap = Capture()
    events: dict[str, list[int]] = {}
    broken: Counter[tuple[int, bool]] = Counter()
    for d in range(tenants * PER_TENANT):
        t, j = divmod(d, PER_TENANT)
        tenant, app, eui = tenant_id(t), f"app-{t:03d}-{j % 2}", f"70b3d57ed0{d:06x}"
        counts = events.setdefault(tenant, [0, 0])
        for k in range(UPLINKS):
            when = START + timedelta(seconds=j * 9, minutes=15 * k)
            session = 1 if j % 10 == 7 and k >= 5 else 0
            fcnt = k - 5 if session else k
            if session and k == 5:
                cap.app_join(when - timedelta(seconds=20), devaddr(d, 1), eui, app, tenant)
            cap.gw_up(when, f"gw-{d % 50:04d}", devaddr(d, session), fcnt)
            lost = t == BROKEN and LOSS[0] <= when < LOSS[1] and (j + k) % 10 < 3
            if not lost:
                cap.app_up(when + timedelta(seconds=1), devaddr(d, session), fcnt, eui, app,
                           tenant)
            counts[0] += not lost
            counts[1] += 1
            if t == BROKEN:
                broken[(int((when - START).total_seconds()) // 60, not lost)] += 1
    for i in range(5):
        for k in range(3):
            cap.gw_up(START + timedelta(minutes=20 + 15 * k, seconds=i), "gw-0000",
                      0x27000000 + i, k)
    minutes = {m for m, _ in broken}
    return cap.write(tmp / "tenants.jsonl"), {
        "events": {k: tuple(v) for k, v in events.items()},
        "broken_minutes": {m: (broken[(m, True)], broken[(m, True)] + broken[(m, False)])
                           for m in sorted(minutes)},
        "unattributed": 15,
    }


def downtime_minutes(per_minute: dict[int, tuple[int, int]], window: int = 5,
                     min_events: int = 20, bad_below: float = 0.75) -> int:
    """The rule of the test config on the per-minute counts: a minute is bad when its
    trailing ``window`` minutes hold at least ``min_events`` uplinks and deliver fewer than
    ``bad_below`` of them; every bad minute is downtime (a one-minute minimum)."""
    last = max(per_minute)
    bad = 0
    for m in range(last + window):
        good = sum(per_minute.get(x, (0, 0))[0] for x in range(m - window + 1, m + 1))
        total = sum(per_minute.get(x, (0, 0))[1] for x in range(m - window + 1, m + 1))
        bad += total >= min_events and good / total < bad_below
    return bad


CONFIG: dict[str, Any] = {
    "timezone": "UTC",
    "lateness_s": 120,
    "lorawan": {"devaddr_prefixes": ["26000000/7"]},
    "tenants": {"gateway_diagnostics": True, "gateways_top": 5},
    "slos": [{"name": "lorawan-delivery", "sli": "delivery", "objective": 0.999,
              "deadline_s": 30, "scope_by": "tenant",
              "downtime": {"bad_below": 0.75, "window_s": 300, "min_events": 20,
                           "min_duration_s": 60}}],
    # one contract per tenant; tenant-007 pays more and has its own tiers
    "contracts": [{"name": "lns", "slos": ["lorawan-delivery"], "objective": 0.999,
                   "tenants": "all", "monthly_fee": 100.0,
                   "credit": {"kind": "tiers", "tiers": [{"over_minutes": 43, "credit": 0.15},
                                                         {"over_minutes": 480,
                                                          "credit": 0.25}]},
                   "overrides": {"tenant-007": {"monthly_fee": 2500.0, "credit": {
                       "kind": "tiers", "tiers": [{"over_minutes": 10, "credit": 0.5}]}}}}],
}


def when(minute: int) -> datetime:
    return START + timedelta(minutes=minute)
