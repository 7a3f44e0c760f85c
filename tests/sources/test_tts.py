"""The Things Stack v3: golden cases plus the rules a user would notice."""

from __future__ import annotations

from typing import Any

import pytest

from slastream.errors import Rejected
from slastream.model.events import DownlinkOutcome, Event, UplinkDelivered
from slastream.sources import router, tts

from .golden import load_cases, run_case

CASES = load_cases("tts")
APP = "meters@acme"
DEV = "eui-70b3d57ed0051a2b"
IDS = {"device_id": DEV, "application_ids": {"application_id": "meters"}, "dev_addr": "27000B1C"}


def decode(event: str, payload: Any, received_ms: int = 9_000) -> tuple[str, str, list[Event]]:
    out: list[Event] = []
    _, outcome, reason = router.decode(f"v3/{APP}/devices/{DEV}/{event}", payload, received_ms, out)
    return outcome, reason, out


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_golden(case: dict[str, Any]) -> None:
    run_case(case)


def test_up_without_f_cnt_is_fcnt_zero() -> None:
    # TTS omits zero values: the first uplink of a session carries no f_cnt.
    payload = {"end_device_ids": IDS, "uplink_message": {"f_port": 1, "frm_payload": "AQ=="}}
    assert decode("up", payload)[2] == [UplinkDelivered(9_000, 0x27000B1C, 0, APP, DEV, "acme")]


def test_simulated_uplink_is_not_delivery() -> None:
    payload = {"end_device_ids": IDS, "simulated": True, "uplink_message": {"f_cnt": 5}}
    assert decode("up", payload) == ("ignored", "simulated uplink", [])


@pytest.mark.parametrize(
    ("result", "status"),
    [
        ("TOO_LATE", "TOO_LATE"),
        ("COLLISION_PACKET", "COLLISION_PACKET"),
        (2, "TOO_LATE"),
        (8, "GPS_UNLOCKED"),
    ],
)
def test_transmission_failure_carries_the_gateway_result(result: Any, status: str) -> None:
    payload = {
        "end_device_ids": IDS,
        "downlink_failed": {
            "downlink": {},
            "error": {"name": "transmission", "attributes": {"result": result}},
        },
    }
    assert decode("down/failed", payload)[2] == [DownlinkOutcome(9_000, DEV, False, status, "", -1)]


@pytest.mark.parametrize("result", [0, 99, True, [], ""])
def test_transmission_failure_with_a_nonsense_result_is_rejected(result: Any) -> None:
    payload = {
        "downlink_failed": {"error": {"name": "transmission", "attributes": {"result": result}}}
    }
    assert decode("down/failed", payload)[0] == "rejected"


@pytest.mark.parametrize("name", ["application_downlink_too_long", "f_cnt_too_low", "conflict"])
def test_non_transmission_failures_are_not_rx_signals(name: str) -> None:
    payload = {"downlink_failed": {"error": {"name": name}}}
    assert decode("down/failed", payload) == ("ignored", f"downlink failed: {name}", [])


def test_decode_down_called_with_an_unrouted_suffix_rejects() -> None:
    with pytest.raises(Rejected):
        tts.decode_down(["v3", APP, "devices", DEV, "down", "push"], {}, 0, [])
