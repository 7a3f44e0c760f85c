"""Hand-built captures for the four seed contracts. Each returns the capture and the numbers
its construction implies (worked out in the comments), which the tests compare against."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tests.capture_builder import Capture, utc

MS = timedelta(milliseconds=1)
S = timedelta(seconds=1)
M = timedelta(minutes=1)


def probes(cap: Capture, start: datetime, n_minutes: int, component: str,
           down: set[int], every_s: int = 30) -> None:
    """Checks every ``every_s`` seconds; minutes in ``down`` fail all their checks."""
    for m in range(n_minutes):
        for s in range(0, 60, every_s):
            cap.probe(start + m * M + s * S, component, ok=m not in down)


def mclimate(tmp: Path) -> tuple[Path, dict[str, Any]]:
    """September 2026 (30 days = 43,200 minutes), one day of probes every 30 s.

    * enterprise: down 12:00-12:05, exactly 5 minutes → 5 min downtime (rule: 5 min runs).
    * api: down 10:00-10:04, 4 minutes → just under the rule, no downtime; down 16:00-16:20
      inside a maintenance announced 47 h ahead (2 days needed) → 20 min downtime.
    * home-app: down 18:00-19:30 inside a maintenance announced 3 days ahead: the monthly
      cap excuses 60 min, the other 30 are downtime; down again 20:00-20:20 → 20 more.
      Downtime 50 > 43 min → 15 % credit (worst measurand).
    * 3 garbage lines and one message on a topic nobody understands.
    """
    cap = Capture()
    day = utc(2026, 9, 1)
    probes(cap, day, 1440, "enterprise", set(range(720, 725)))
    probes(cap, day, 1440, "api", set(range(600, 604)) | set(range(960, 980)))
    probes(cap, day, 1440, "home-app", set(range(1080, 1170)) | set(range(1200, 1220)))
    cap.exclusion(day, "mnt-api", "api", day + 960 * M, day + 980 * M,
                  announced=day + 960 * M - timedelta(hours=47))
    cap.exclusion(day, "mnt-home", "home-app", day + 1080 * M, day + 1170 * M,
                  announced=day + 1080 * M - timedelta(days=3))
    cap.raw(day + 5 * M, b"{not json")
    cap.raw(day + 6 * M, b'{"received_at": "yesterday", "topic": "x", "payload": {}}')
    cap.raw(day + 7 * M, b'["an array"]')
    cap.msg(day + 8 * M, "some/other/topic", {"hello": 1})
    expected = {
        "minutes": 43200,
        "downtime": {"enterprise-availability": 5.0, "api-availability": 20.0,
                     "home-app-availability": 50.0},
        "excused": {"enterprise-availability": 0.0, "api-availability": 0.0,
                    "home-app-availability": 60.0},
        "credit": 0.15,
        "rejected": 3,
    }
    return cap.write(tmp / "mclimate.jsonl"), expected


def loriot(tmp: Path) -> tuple[Path, dict[str, Any]]:
    """A LoRaWAN morning, 1 October 2026 (31-day month = 44,640 minutes), 00:00-02:00.

    25 devices (DevAddr 0x26000100 + i, inside 26000000/7) send one uplink a minute, at
    second i of the minute; each is heard by 1-3 gateways (copies 0-60 ms apart); gateway
    gw-skew reports a gwTime 42 s behind (must not matter: we use the bridge clock).
    Device 0 starts at FCnt 65,530: the frame's 16-bit counter wraps to 0 while the
    application reports 65,536+. Device 1 sends confirmed uplinks retransmitted 2 s later
    (same FCnt, heard again). A foreign device (DevAddr 0x48000001) is heard every minute
    and never delivered. Deliveries arrive 300 ms after the first copy, except:
    * minutes 10-24: 19 of 25 delivered (76 %, above 75 %): no downtime;
    * minutes 60-74: 18 of 25 delivered (72 %). Over the trailing 5 minutes the ratio is
      (4·25+18)/125 = .944, .888, .832, .776 at minutes 60-63, then .72 from minute 64;
      after the dip, minute 75 sees (4·18+25)/125 = .776 again. Bad minutes 64-74 → 11.
    Unique valid uplinks: 25 × 120 = 3,000; delivered 3,000 − 15·6 − 15·7 = 2,805.

    RX2 (gateway gw-a, one Class-A downlink a minute to device 2, 300 ms after its uplink):
    acks OK, except minutes 80-88 (9 minutes, [TOO_LATE, TOO_LATE]: under the 10-minute rule)
    and 100-109 (10 minutes, [TOO_LATE, TOO_EARLY]) → 10 min downtime. Minute 50: the
    downlink gets no ack at all (a miss, a single bad minute). Join-accepts and Class-C
    ("immediately") downlinks every minute are not RX2 attempts.

    Probes every 30 s: api down minutes 20-24 (exactly 5) → 5; api down 60-69 inside a
    maintenance announced 8 days ahead (7 needed) → 10 excused; dashboard down 90-99 inside
    a maintenance announced 6 days ahead → 10 min downtime.
    """
    cap = Capture()
    t0 = utc(2026, 10, 1)
    n_dev, n_min = 25, 120
    gateways = ["gw-a", "gw-b", "gw-skew"]
    for m in range(n_min):
        for i in range(n_dev):
            devaddr = 0x26000100 + i
            t = t0 + m * M + i * S
            fcnt = (65530 + m) if i == 0 else m
            heard_by = gateways[: 1 + (i + m) % 3]
            for g, gw in enumerate(heard_by):
                cap.gw_up(t + g * 30 * MS, gw, devaddr, fcnt & 0xFFFF, confirmed=(i == 1),
                          gw_clock_skew_s=-42.0 if gw == "gw-skew" else 0.0)
            if i == 1:  # confirmed retransmission: same FCnt again
                cap.gw_up(t + 2 * S, "gw-b", devaddr, fcnt, confirmed=True)
            lost = (10 <= m < 25 and i >= 19) or (60 <= m < 75 and i >= 18)
            if not lost:
                cap.app_up(t + 300 * MS, devaddr, fcnt, dev_eui=f"{devaddr:016x}")
        # a foreign network's device heard by our gateways
        cap.gw_up(t0 + m * M + 40 * S, "gw-a", 0x48000001, m)
        # one Class-A downlink per minute to device 2, via gw-a (which hears it each minute)
        dl = 1000 + m
        up2 = t0 + m * M + 2 * S
        cap.gw_down(up2 + 300 * MS, "gw-a", dl, 0x26000102)
        if m == 50:
            pass  # no ack at all
        elif 80 <= m < 89:
            cap.gw_ack(up2 + 400 * MS, "gw-a", dl, ("TOO_LATE", "TOO_LATE"))
        elif 100 <= m < 110:
            cap.gw_ack(up2 + 400 * MS, "gw-a", dl, ("TOO_LATE", "TOO_EARLY"))
        else:
            cap.gw_ack(up2 + 400 * MS, "gw-a", dl, ("OK", "IGNORED"))
        # not RX2 attempts: a join-accept (5 s / 6 s) and a Class-C downlink, never acked
        cap.gw_down(up2 + 5 * S, "gw-a", 5000 + m, -1, ("5s", "6s"), join_accept=True)
        cap.gw_down(up2 + 7 * S, "gw-a", 9000 + m, 0x26000103, ("immediately",))
    probes(cap, t0, n_min, "api", set(range(20, 25)) | set(range(60, 70)))
    probes(cap, t0, n_min, "dashboard", set(range(90, 100)))
    cap.exclusion(t0, "upd-api", "api", t0 + 60 * M, t0 + 70 * M,
                  announced=t0 + 60 * M - timedelta(days=8))
    cap.exclusion(t0, "upd-dash", "dashboard", t0 + 90 * M, t0 + 100 * M,
                  announced=t0 + 90 * M - timedelta(days=6))
    cap.raw(t0 + 3 * M, b"garbage\x00")
    cap.msg(t0 + 4 * M, "eu868/gateway/gw-a/event/up", {"phyPayload": "!!notbase64"})
    expected = {
        "minutes": 44640,
        "downtime": {"lorawan-delivery": 11.0, "rx2-reach": 10.0, "api-availability": 5.0,
                     "dashboard-availability": 10.0},
        "excused": {"lorawan-delivery": 0.0, "rx2-reach": 0.0, "api-availability": 10.0,
                    "dashboard-availability": 0.0},
        "delivery_ratio": 2805 / 3000,
        "rx2_total": n_min,
        "rx2_good": n_min - 1 - 9 - 10,
        "credit": 0.0,
        "rejected": 2,
    }
    return cap.write(tmp / "loriot.jsonl"), expected


def evrythng(tmp: Path) -> tuple[Path, dict[str, Any]]:
    """The seed's worked example: AU 99.5 %, AR 1000 ms → C = 1.8 % of the fee.

    September 2026 (43,200 minutes): the API probe (once a minute) fails for 216 minutes
    (0.5 % of the month) on 2 September; 10 requests a minute of exactly 1,000 ms for the
    first 12 hours of 1 September (7,200 requests, 7 blocks of 1,000 all at 1,000 ms).
    A = 99.9 % − 99.5 % = 0.4 %; B = 1/(1+e^(−0.001·(1000−5000))) = 1.799 %; C = max = 1.799 %.
    """
    cap = Capture()
    d1, d2 = utc(2026, 9, 1), utc(2026, 9, 2)
    for m in range(216 + 60):
        cap.probe(d2 + m * M, "api", ok=m >= 216)
    for m in range(720):
        cap.requests(d1 + m * M, "api", [1000.0] * 10)
    expected = {"minutes": 43200, "availability": 0.995, "response_ms": 1000.0,
                "credit": 1 / (1 + 2.718281828459045 ** 4)}
    return cap.write(tmp / "evrythng.jsonl"), expected


def cumulocity(tmp: Path, start: datetime | None = None) -> tuple[Path, dict[str, Any]]:
    """October 2026 (31 days): REST API down 60 minutes; MQTT down 30 minutes during an
    emergency maintenance (no notice; Cumulocity excludes emergency maintenance) and 12
    more minutes outside it. Overall = mean of the two components' availability."""
    cap = Capture()
    t0 = start or utc(2026, 10, 5)
    probes(cap, t0, 240, "api", set(range(30, 90)), every_s=60)
    probes(cap, t0, 240, "mqtt", set(range(100, 130)) | set(range(200, 212)), every_s=60)
    cap.exclusion(t0 + 100 * M, "emg-1", "mqtt", t0 + 100 * M, t0 + 130 * M,
                  announced=None, kind="emergency")
    total = 44640
    api = (total - 60) / total
    mqtt = (total - 30 - 12) / (total - 30)
    expected = {"minutes": total, "api": api, "mqtt": mqtt, "overall": (api + mqtt) / 2,
                "downtime": {"api-services": 60.0, "mqtt-services": 12.0},
                "excused": {"api-services": 0.0, "mqtt-services": 30.0}}
    return cap.write(tmp / "cumulocity.jsonl"), expected
