"""ChirpStack v4 integration events: golden cases plus the rules a user would notice."""

from __future__ import annotations

from typing import Any

import pytest

from slastream.model.events import DownlinkOutcome, Event, UplinkDelivered
from slastream.sources import router

from .golden import load_cases, run_case

CASES = load_cases("chirpstack")
APP = "a3e3c6d2-8f2b-4bd9-9a51-2d6f0e7c1b10"
EUI = "70b3d57ed0051a2b"


def topic(event: str) -> str:
    return f"application/{APP}/device/{EUI}/event/{event}"


def decode(event: str, payload: Any, received_ms: int = 7_000) -> tuple[str, str, list[Event]]:
    out: list[Event] = []
    _, outcome, reason = router.decode(topic(event), payload, received_ms, out)
    return outcome, reason, out


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_golden(case: dict[str, Any]) -> None:
    run_case(case)


def test_v40_up_without_fcnt_is_fcnt_zero_not_a_rejection() -> None:
    # v4.0 omitted zero values: the first uplink of a session has no fCnt at all.
    outcome, _, out = decode("up", {"devAddr": "00189440", "fPort": 1, "data": "qg=="})
    assert outcome == "ok"
    assert out == [UplinkDelivered(7_000, 0x00189440, 0, APP, EUI)]


def test_up_event_time_is_ignored_in_favour_of_the_bridge_clock() -> None:
    payload = {"time": "2024-08-25T07:10:47.758298+00:00", "devAddr": "0061ebd4", "fCnt": 8264}
    _, _, out = decode("up", payload, received_ms=1_790_812_801_250)
    assert out == [UplinkDelivered(1_790_812_801_250, 0x0061EBD4, 8264, APP, EUI)]


def test_gateway_failure_and_success_of_class_a_downlinks() -> None:
    device = {"devEui": EUI, "deviceClassEnabled": "CLASS_A"}
    ok = decode("txack", {"deviceInfo": device, "txInfo": {"timing": {"delay": {"delay": "2s"}}}})
    failed = decode(
        "log",
        {
            "deviceInfo": device,
            "level": "ERROR",
            "code": "DOWNLINK_GATEWAY",
            "description": "TOO_EARLY",
        },
        8_000,
    )
    assert ok[2] == [DownlinkOutcome(7_000, EUI, True, "OK", "", -1)]
    assert failed[2] == [DownlinkOutcome(8_000, EUI, False, "TOO_EARLY", "", -1)]


@pytest.mark.parametrize("device_class", ["CLASS_B", "CLASS_C"])
def test_class_b_and_c_downlinks_are_never_outcomes(device_class: str) -> None:
    device = {"devEui": EUI, "deviceClassEnabled": device_class}
    timing = {"timing": {"delay": {"delay": "1s"}}}
    assert decode("txack", {"deviceInfo": device, "txInfo": timing})[:2] == (
        "ignored",
        "not a Class-A downlink",
    )
    log = {
        "deviceInfo": device,
        "level": "ERROR",
        "code": "DOWNLINK_GATEWAY",
        "description": "TOO_LATE",
    }
    assert decode("log", log)[:2] == ("ignored", "not a Class-A downlink")


def test_confirmed_downlink_ack_or_timeout_is_not_an_outcome() -> None:
    for acknowledged in (True, False):
        outcome, reason, out = decode("ack", {"acknowledged": acknowledged, "fCntDown": 3})
        assert (outcome, out) == ("ignored", [])
        assert reason == "confirmation is not an RX-window signal"


def test_downlink_gateway_log_without_description_is_still_a_failure() -> None:
    _, _, out = decode("log", {"level": "ERROR", "code": "DOWNLINK_GATEWAY"})
    assert out == [DownlinkOutcome(7_000, EUI, False, "UNKNOWN", "", -1)]


@pytest.mark.parametrize(
    "devaddr",
    ["+260b1c2", "-260b1c2", "260b_c2d", " 260b1c2", "0X260b1c", "260b1c2g", "２６0b1c2d"],
)
def test_devaddr_must_be_plain_hex(devaddr: str) -> None:
    # int(x, 16) would accept most of these; a wrong DevAddr silently breaks matching.
    assert decode("up", {"devAddr": devaddr, "fCnt": 1}) == (
        "rejected",
        "devAddr must be 8 hex digits",
        [],
    )
