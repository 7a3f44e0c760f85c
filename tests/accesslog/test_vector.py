"""The Vector path: what deploy/vector/vector.yaml publishes decodes to the same ledger.

Vector is not run here (not installable in the test environment); the test checks the
config's sink and the fields its remap sets, and replays messages of that exact shape.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests.accesslog.traffic import (
    comparable,
    direct_capture,
    requests,
    response_time_config,
)
from tests.capture_builder import Capture
from tests.probe.replaying import replay_ledger

VECTOR = Path(__file__).resolve().parents[2] / "deploy" / "vector" / "vector.yaml"


def test_the_vector_config_publishes_the_request_payload_at_qos_1() -> None:
    config = yaml.safe_load(VECTOR.read_text())
    sink = config["sinks"]["slastream"]
    assert sink["type"] == "mqtt" and sink["topic"] == "slastream/request/api"
    assert sink["quality_of_service"] == "atleastonce"
    assert sink["encoding"] == {"codec": "json"}
    remap = config["transforms"]["slastream_requests"]
    assert remap["type"] == "remap" and remap["drop_on_error"] is True
    assert sink["inputs"] == ["slastream_requests"]
    assert remap["inputs"] == list(config["sources"])
    assert ". = {}" in remap["source"]  # the event is replaced, nothing else goes along
    set_fields = re.findall(r"^\.(\w+) = ", remap["source"], flags=re.M)
    assert set_fields == ["time", "duration_ms", "status", "client"]


def test_messages_of_that_shape_give_the_same_ledger(tmp_path: Path) -> None:
    reqs = requests()
    cap = Capture()
    for r in reqs:  # one message per event, as Vector's MQTT sink publishes them
        cap.msg(r.when, "slastream/request/api", {
            "time": r.when.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            "duration_ms": float(r.duration_ms), "status": r.status, "client": r.client})
    via_vector = cap.write(tmp_path / "vector.jsonl")
    config = response_time_config("api")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    direct = replay_ledger(config, direct_capture(reqs, "api", tmp_path / "d.jsonl"),
                           tmp_path / "a")
    vector = replay_ledger(config, via_vector, tmp_path / "b")
    assert comparable(vector) == comparable(direct)
    assert vector["inputs"] == direct["inputs"]
    assert vector["slos"][0]["downtime_minutes"] > 0
