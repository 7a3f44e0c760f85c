"""The Things Stack feeds end to end (router -> engine -> ledger), with payloads shaped like
the stack's own (docs "Data Formats", lorawan-stack test data): deliveries without
``dev_addr`` join their uplinks, and declared Class B/C devices are no RX2 attempts."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from slastream.config import load_settings, parse_settings
from slastream.engine import Engine
from slastream.errors import ConfigError
from slastream.model.events import DownlinkOutcome, Event, UplinkDelivered, UplinkReceived
from slastream.model.ledger import ledger_json
from slastream.model.spec import LoRaWAN, Settings
from slastream.sources import router
from slastream.sources.decoder import group

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_790_000_000_000 // 60_000 * 60_000
APP, DEV = "app1", "dev1"
DEVADDR = "00BCB929"

# TTS docs "Data Formats", uplink message example (dev_addr 00BCB929)
UP: dict[str, Any] = {
    "end_device_ids": {"device_id": DEV, "application_ids": {"application_id": APP},
                       "dev_eui": "0004A30B001C0530", "join_eui": "800000000000000C",
                       "dev_addr": DEVADDR},
    "correlation_ids": ["as:up:01E0WZGT6Y7657CPFPE5WEYDSQ"],
    "received_at": "2020-02-12T15:15:46.014773143Z",
    "uplink_message": {"session_key_id": "AXA50tHUGUucuzS/bCGMNw==", "f_cnt": 1,
                       "frm_payload": "gkHe",
                       "rx_metadata": [{"gateway_ids": {"gateway_id": "gtw1",
                                                        "eui": "9C5C8E00001A05C4"},
                                        "timestamp": 2463457000, "rssi": -35}],
                       "received_at": "2020-02-12T15:15:45.789585559Z"},
}
# TTS docs "Data Formats", downlink sent shape (downlink_sent as downlink_ack of the example)
SENT: dict[str, Any] = {
    "end_device_ids": {"device_id": DEV, "application_ids": {"application_id": APP},
                       "dev_addr": "00C30DFA"},
    "correlation_ids": ["as:downlink:01E19B99501X84X6CV471TVSZ1"],
    "downlink_sent": {"session_key_id": "AXBSp8v2brG0jqkri+sIkw==", "f_port": 15, "f_cnt": 1,
                      "frm_payload": "vu8=", "priority": "NORMAL",
                      "correlation_ids": ["as:downlink:01E19B99501X84X6CV471TVSZ1"]},
}


def _up(fcnt: int, with_devaddr: bool) -> dict[str, Any]:
    msg = copy.deepcopy(UP)
    msg["uplink_message"]["f_cnt"] = fcnt
    if not with_devaddr:
        del msg["end_device_ids"]["dev_addr"]
    return msg


@pytest.fixture(autouse=True)
def _no_sessions_from_other_tests() -> None:
    router.DEFAULT.sessions = router.Sessions()


def _decode(topic: str, payload: Any, t: int) -> list[Event]:
    out: list[Event] = []
    _, outcome, reason = router.decode(topic, payload, t, out)
    assert outcome in ("ok", "ignored"), reason
    return out


def _delivery_run(messages: list[tuple[int, dict[str, Any]]], fcnts: range,
                  settings: Settings | None = None) -> tuple[dict[str, int], Engine]:
    """Gateway copies of ``fcnts`` one a minute, and the TTS ups given."""
    eng = Engine(settings or _settings())
    events: list[Event] = [UplinkReceived(T0 + f * 60_000, int(DEVADDR, 16), f, "gw", "eu868",
                                          False, 1) for f in fcnts]
    for t, msg in messages:
        events += _decode(f"v3/{APP}/devices/{DEV}/up", msg, t)
    eng.feed(group(sorted(events, key=lambda e: e.time_ms)))
    eng.flush()
    (entry,) = [e for e in ledger_json(eng.ledger(None))["slos"]
                if e["name"] == "lorawan-delivery"]
    return dict(entry["events"]), eng


def _settings(**lorawan: Any) -> Settings:
    s = load_settings(ROOT / "examples/contracts/loriot.yaml")
    return replace(s, lorawan=replace(s.lorawan, devaddr_prefixes=(), **lorawan))


def test_an_up_without_dev_addr_joins_its_uplink_by_the_session_of_its_device() -> None:
    # FCnt 1 says its DevAddr; 2..9 do not, and still match their gateway copies
    msgs = [(T0 + f * 60_000 + 700, _up(f, with_devaddr=f == 1)) for f in range(1, 10)]
    events, eng = _delivery_run(msgs, range(1, 10))
    assert events == {"good": 9, "total": 9}
    assert dict(eng.inputs().lorawan or ())["unmatched_deliveries"] == 0


def test_without_any_dev_addr_of_the_device_the_delivery_is_unmatched_not_guessed() -> None:
    msgs = [(T0 + f * 60_000 + 700, _up(f, with_devaddr=False)) for f in range(1, 4)]
    events, eng = _delivery_run(msgs, range(1, 4))
    assert events == {"good": 0, "total": 3}
    assert dict(eng.inputs().lorawan or ())["unmatched_deliveries"] == 3


def test_a_delivery_below_the_session_start_is_from_an_earlier_session() -> None:
    # the session is learned at FCnt 5; FCnt 3 without a DevAddr may be an older session
    msgs = [(T0 + 5 * 60_000 + 700, _up(5, True)), (T0 + 6 * 60_000 + 700, _up(3, False))]
    events, eng = _delivery_run(msgs, range(5, 6))
    assert events == {"good": 1, "total": 1}
    assert dict(eng.inputs().lorawan or ())["unmatched_deliveries"] == 1


def test_a_rejoin_moves_the_device_to_its_new_devaddr() -> None:
    new = "00BCB930"
    rejoined = _up(0, True)
    rejoined["end_device_ids"]["dev_addr"] = new
    later = _up(1, False)
    eng = Engine(_settings())
    events = [*_decode(f"v3/{APP}/devices/{DEV}/up", _up(40, True), T0 + 700),
              *_decode(f"v3/{APP}/devices/{DEV}/up", rejoined, T0 + 60_700),
              *_decode(f"v3/{APP}/devices/{DEV}/up", later, T0 + 120_700),
              UplinkReceived(T0, int(DEVADDR, 16), 40, "gw", "eu868", False, 1),
              UplinkReceived(T0 + 60_000, int(new, 16), 0, "gw", "eu868", False, 1),
              UplinkReceived(T0 + 120_000, int(new, 16), 1, "gw", "eu868", False, 1)]
    eng.feed(group(sorted(events, key=lambda e: e.time_ms)))
    eng.flush()
    (entry,) = [e for e in ledger_json(eng.ledger(None))["slos"]
                if e["name"] == "lorawan-delivery"]
    assert entry["events"] == {"good": 3, "total": 3}


def test_the_session_table_is_the_routers_and_bounded() -> None:
    """A restarted bridge (a new router) knows no session until the device says its
    DevAddr again; the table forgets its oldest device past its limit."""
    learned = router.Router()
    out: list[Event] = []
    learned.decode(f"v3/{APP}/devices/{DEV}/up", _up(1, True), T0, out)
    learned.decode(f"v3/{APP}/devices/{DEV}/up", _up(2, False), T0 + 1000, out)
    assert [e.devaddr for e in out] == [int(DEVADDR, 16)] * 2  # type: ignore[union-attr]
    fresh: list[Event] = []
    router.Router().decode(f"v3/{APP}/devices/{DEV}/up", _up(3, False), T0 + 2000, fresh)
    assert [e.devaddr for e in fresh] == [-1]  # type: ignore[union-attr]
    small = router.Sessions(limit=1)
    first = [UplinkDelivered(T0, 1, 5, "a", "d1"), UplinkDelivered(T0, 2, 5, "a", "d2")]
    small.complete(first, 0)  # d2 pushes d1 out
    later: list[Event] = [UplinkDelivered(T0, -1, 6, "a", "d1"),
                          UplinkDelivered(T0, -1, 6, "a", "d2")]
    small.complete(later, 0)
    assert [e.devaddr for e in later] == [-1, 2]  # type: ignore[union-attr]

def _rx2_integration(lorawan: LoRaWAN) -> Settings:
    s = load_settings(ROOT / "examples/contracts/loriot.yaml")
    rx2 = replace(s.slo("rx2-reach"), source="integration")
    return replace(s, slos=(rx2,), contracts=(), lorawan=lorawan)


def _rx2_events(settings: Settings, downs: list[tuple[str, str, dict[str, Any]]]
                ) -> tuple[dict[str, int], dict[str, int]]:
    eng = Engine(settings)
    events: list[Event] = []
    for i, (app, dev, msg) in enumerate(downs):
        events += _decode(f"v3/{app}/devices/{dev}/down/sent", msg, T0 + i * 1000)
    assert all(isinstance(e, DownlinkOutcome) for e in events)
    eng.feed(group(events))
    eng.flush()
    (entry,) = ledger_json(eng.ledger(None))["slos"]
    return dict(entry["events"]), dict(eng.inputs().lorawan or ())


def test_declared_class_b_c_devices_are_no_rx2_attempts() -> None:
    downs = [("app1@ttn", "dev1", SENT), ("app1@ttn", "eui-70b3d57ed0051a2b", SENT),
             ("app1@ttn", "eui-70b3d57ed0051a2c", SENT)]
    as_class_a, _ = _rx2_events(_rx2_integration(LoRaWAN()), downs)
    assert as_class_a == {"good": 3, "total": 3}  # no class known: Class A, as before
    declared, inputs = _rx2_events(_rx2_integration(LoRaWAN(class_b_c=("eui-70b3*",))), downs)
    assert declared == {"good": 1, "total": 1}
    assert inputs["downlinks_not_rx2_attempts"] == 2


def test_a_sent_downlink_with_class_b_c_is_never_a_class_a_attempt() -> None:
    scheduled = copy.deepcopy(SENT)
    scheduled["downlink_sent"]["class_b_c"] = {
        "gateways": [{"gateway_ids": {"gateway_id": "gtw1"}}],
        "absolute_time": "2020-02-17T10:32:30Z"}
    out: list[Event] = []
    assert router.decode(f"v3/{APP}/devices/{DEV}/down/sent", scheduled, T0, out)[1:] == (
        "ignored", "not a Class-A downlink")
    assert out == []


@pytest.mark.parametrize(("patterns", "error"), [
    (["app-streetlights/*", "eui-70b3*"], None),
    ("eui-70b3*", "must be a list"),
    (["a/b/c"], "application/device"),
    ([""], "application/device"),
    (["/dev"], "application/device"),
    ([3], "application/device"),
])
def test_class_b_c_patterns_are_checked(patterns: Any, error: str | None) -> None:
    doc = yaml.safe_load((ROOT / "examples/contracts/loriot.yaml").read_text())
    doc["lorawan"]["class_b_c"] = patterns
    if error is None:
        assert parse_settings(doc).lorawan.class_b_c == tuple(patterns)
    else:
        with pytest.raises(ConfigError, match=error):
            parse_settings(doc)


def test_application_patterns_match_with_and_without_the_tenant() -> None:
    lw = LoRaWAN(class_b_c=("app-streetlights/*", "eui-70b3*"))
    assert lw.is_class_b_c("lamp-1", "app-streetlights@ttn")
    assert lw.is_class_b_c("lamp-1", "app-streetlights")
    assert not lw.is_class_b_c("lamp-1", "app-meters")
    assert lw.is_class_b_c("eui-70b3d57ed0051a2b")
    assert not lw.is_class_b_c("eui-a840")
