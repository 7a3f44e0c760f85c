"""The Things Stack variant of the application side (``app_server="tts"``)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from slastream.simulate import Scenario, Simulation, generate
from slastream.simulate.scenario import TTS_RX1_DELAY_S
from tests.simulate.traffic import START_MS, Traffic, kind


@pytest.fixture(scope="module")
def tts() -> Traffic:
    # Half the devices rejoin, so some uplinks carry FCnt 0, which TTS leaves out.
    scenario = Scenario(devices=60, app_server="tts", rx1_delay_s=TTS_RX1_DELAY_S,
                        rejoin_device_share=0.5)
    return Traffic(list(generate(scenario, START_MS, 3000, 11)))


def test_topics(tts: Traffic) -> None:
    kinds = {kind(m.topic) for m in tts.messages}
    assert {"tts/up", "tts/join", "tts/down/sent", "gateway/up", "gateway/down"} <= kinds
    assert not any(k.startswith("app/") for k in kinds)
    up = tts["tts/up"][0]
    assert up.topic.startswith("v3/fleet-")
    app_tenant, _, device_id, _ = up.topic.split("/")[1:]
    assert app_tenant.endswith("@ttn")
    assert device_id == "eui-" + up.payload["end_device_ids"]["dev_eui"].lower()


def test_zero_values_are_omitted(tts: Traffic) -> None:
    messages = [m.payload["uplink_message"] for m in tts["tts/up"]]
    assert all(isinstance(um.get("f_cnt", 1), int) and um.get("f_cnt", 1) > 0 for um in messages)
    assert any("f_cnt" not in um for um in messages)  # FCnt 0 after a rejoin
    assert any("confirmed" not in um for um in messages)
    assert all(um["confirmed"] is True for um in messages if "confirmed" in um)
    assert all(isinstance(um["settings"]["frequency"], str) for um in messages)  # uint64


def test_session_key_changes_on_rejoin(tts: Traffic) -> None:
    keys: dict[str, set[str]] = {}
    for m in tts["tts/up"]:
        dev = m.payload["end_device_ids"]["device_id"]
        keys.setdefault(dev, set()).add(m.payload["uplink_message"]["session_key_id"])
    assert any(len(v) == 2 for v in keys.values())


def test_rx1_delay_is_configuration(tts: Traffic) -> None:
    """TTS defaults RX1 to 5 s, so RX2 is at 6 s, like a join-accept's windows."""
    delays = {tuple(i["txInfo"]["timing"]["delay"]["delay"] for i in m.payload["items"])
              for m in tts["gateway/down"]}
    assert delays == {("5s", "6s")}


def test_failed_downlinks_report_the_gateway_result() -> None:
    scenario = replace(Scenario(devices=60, app_server="tts"), downlink_share=0.5)
    sim = Simulation(scenario, START_MS, 2700, 3)
    failed = [p for _, t, p in sim.messages() if t.endswith("/down/failed")]
    assert failed
    assert {p["downlink_failed"]["error"]["attributes"]["result"] for p in failed} == {
        "TOO_LATE"}
