"""`slastream replay` with ``lorawan.count_mac_only`` true and false on one capture."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.capture_builder import Capture, utc
from tests.sources import phy

ROOT = Path(__file__).resolve().parents[2]
LORIOT = ROOT / "examples" / "contracts" / "loriot.yaml"
GATEWAYS = ("0016c001f153a14c", "50303541b0344750")


def _capture(path: Path) -> Path:
    """Ten minutes: 60 uplinks with application data, all delivered, and 20 MAC-only ones
    (10 on FPort 0, 10 without FPort), which the application never sees."""
    cap = Capture()
    start = utc(2026, 10, 1, 8, 0, 0)
    for i in range(80):
        when = start + timedelta(seconds=7.5 * i)
        devaddr, fcnt = 0x26010000 + i % 8, 100 + i
        if i % 8 == 1:
            frame = phy.data_frame(phy.UNCONF_UP, devaddr, fcnt, fport=0, payload=b"\x02")
        elif i % 8 == 5:
            frame = phy.data_frame(phy.UNCONF_UP, devaddr, fcnt, fctrl=0x80, fopts=b"\x02")
        else:
            frame = phy.data_frame(phy.UNCONF_UP, devaddr, fcnt, fport=1, payload=b"\x17")
            cap.app_up(when + timedelta(milliseconds=350), devaddr, fcnt)
        for n, gw in enumerate(GATEWAYS):
            cap.msg(when + timedelta(milliseconds=20 * n), f"eu868/gateway/{gw}/event/up", {
                "phyPayload": phy.b64(frame), "txInfo": {"frequency": 868100000},
                "rxInfo": {"gatewayId": gw, "crcStatus": "CRC_OK", "rssi": -90}})
    return cap.write(path)


def _delivery(tmp: Path, capture: Path, count_mac_only: bool) -> dict[str, Any]:
    config = tmp / f"loriot-{count_mac_only}.yaml"
    text = LORIOT.read_text(encoding="utf-8")
    prefixes = '  devaddr_prefixes: ["26000000/7"]\n'
    assert prefixes in text
    config.write_text(text.replace(
        prefixes, f"{prefixes}  count_mac_only: {str(count_mac_only).lower()}\n"),
        encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "slastream", "replay", "-c", str(config), str(capture),
         "--month", "2026-10"], capture_output=True, text=True, check=False, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    (entry,) = [e for e in json.loads(proc.stdout)["slos"] if e["name"] == "lorawan-delivery"]
    return {"sli_value": entry["sli_value"], "events": entry["events"]}


def test_mac_only_uplinks_leave_the_delivery_ratio_only_when_configured(tmp_path: Path) -> None:
    capture = _capture(tmp_path / "capture.jsonl")
    assert _delivery(tmp_path, capture, True) == {
        "sli_value": 0.75, "events": {"good": 60, "total": 80}}
    assert _delivery(tmp_path, capture, False) == {
        "sli_value": 1.0, "events": {"good": 60, "total": 60}}
