"""Write tests/golden/sources/protobuf.json: ChirpStack messages in the Protobuf marshaler.

Each case is a message published in a public ChirpStack source (its ``note`` says where),
encoded with the official definitions (the ``chirpstack-api`` package) and stored as
``payload_b64``. The expected outcome and events are written here by hand from what the
source states (DevAddr, FCnt, ids, delays, statuses), never computed by slastream.

Regenerate with ``python tests/golden/make_protobuf_cases.py`` (the output is stable).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from chirpstack_api.gw import gw_pb2
from chirpstack_api.integration import integration_pb2
from google.protobuf import json_format
from google.protobuf.message import Message

OUT = Path(__file__).resolve().parent / "sources" / "protobuf.json"
AT = "2026-10-01T00:00:01.250Z"
T = 1790812801250  # AT in ms

BRIDGE_EVENTS = "chirpstack/chirpstack-docs src/chirpstack-gateway-bridge/payloads/events.md"
BRIDGE_COMMANDS = "chirpstack/chirpstack-docs src/chirpstack-gateway-bridge/payloads/commands.md"
FORWARDER_TEST = "chirpstack/chirpstack-mqtt-forwarder tests/semtech_udp_test.rs"
EVENTS_DOC = "chirpstack/chirpstack-docs src/chirpstack/integrations/events.md"

DOCS_GW = "0016c001f153a14c"
FWD_GW = "0102030405060708"
APP = "17c82e96-be03-4f38-aef3-f83d48582d97"
DEV = "0101010101010101"
TENANT = "52f14cd4-c6f1-4fbd-8f87-4025e1d49242"
DEVICE_INFO = {
    "tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242", "tenantName": "ChirpStack",
    "applicationId": APP, "applicationName": "Test application",
    "deviceProfileId": "14855bf7-d10d-4aee-b618-ebfcb64dc7ad",
    "deviceProfileName": "Test device-profile", "deviceName": "Test device", "devEui": DEV,
    "tags": {"key": "value"},
}

# --- the messages, in the JSON mapping their source prints ---------------------------------
DOCS_UP = {  # the 2022 example still has rxInfo.time, which gw.proto v4 calls gwTime
    "phyPayload": "gKb+agGABQABOIc6cwQ=",
    "txInfo": {"frequency": 867300000, "modulation": {"lora": {
        "bandwidth": 125000, "spreadingFactor": 7, "codeRate": "CR_4_5"}}},
    "rxInfo": {"gatewayId": DOCS_GW, "uplinkId": 7895, "gwTime": "2022-08-03T14:37:43.383634108Z",
               "rssi": -52, "snr": 13.75, "context": "xwx0GQ=="},
}
DOCS_ACK = {"gatewayId": DOCS_GW, "downlinkId": 894104280, "items": [{"status": "OK"}, {}]}


def _docs_down_item(frequency: int, power: int, sf: int, delay: str) -> dict[str, Any]:
    return {"phyPayload": "YKb+agGgAwCSzNbb", "txInfo": {
        "frequency": frequency, "power": power,
        "modulation": {"lora": {"bandwidth": 125000, "spreadingFactor": sf,
                                "codeRate": "CR_4_5", "polarizationInversion": True}},
        "timing": {"delay": {"delay": delay}}, "context": "xwx0GQ=="}}


DOCS_DOWN = {"downlinkId": 894104280, "gatewayId": DOCS_GW,
             "items": [_docs_down_item(867300000, 14, 7, "1s"),
                       _docs_down_item(869525000, 27, 12, "2s")]}
FWD_UP = {  # phy_payload vec![1, 2, 3], CRC OK, 868.1 MHz SF7, context [0, 0, 4, 210]
    "phyPayload": base64.b64encode(bytes([1, 2, 3])).decode(),
    "txInfo": {"frequency": 868100000, "modulation": {"lora": {
        "bandwidth": 125000, "spreadingFactor": 7, "codeRate": "CR_4_5"}}},
    "rxInfo": {"gatewayId": FWD_GW, "uplinkId": 1, "gwTime": "2022-09-10T12:30:15Z",
               "rssi": -35, "snr": 5.1, "channel": 2,
               "context": base64.b64encode(bytes([0, 0, 4, 210])).decode(),
               "crcStatus": "CRC_OK"},
}
FWD_DOWN = {"downlinkId": 1234, "gatewayId": FWD_GW, "items": [{
    "phyPayload": base64.b64encode(bytes([1, 2, 3])).decode(),
    "txInfo": {"frequency": 868300000, "power": 16,
               "modulation": {"lora": {"bandwidth": 125000, "spreadingFactor": 8,
                                       "codeRate": "CR_4_5"}},
               "timing": {"delay": {"delay": "1s"}},
               "context": base64.b64encode(bytes([0, 0, 4, 210])).decode()}}]}
FWD_ACK = {"gatewayId": FWD_GW, "downlinkId": 1234, "items": [{"status": "OK"}]}
FWD_STATS = {"gatewayId": FWD_GW, "time": "2022-09-10T12:30:15Z", "rxPacketsReceived": 1,
             "rxPacketsReceivedOk": 1, "txPacketsReceived": 1, "txPacketsEmitted": 1}
DOCS_INT_UP = {
    "deduplicationId": "3ac7e3c4-4401-4b8d-9386-a5c902f9202d",
    "time": "2022-07-18T09:34:15.775023242Z", "deviceInfo": DEVICE_INFO,
    "devAddr": "00189440", "dr": 1, "fPort": 1, "data": "qg==",
    "rxInfo": [{"gatewayId": DOCS_GW, "uplinkId": 4217106255, "rssi": -36, "snr": 10.5,
                "context": "E3OWOQ==",
                "metadata": {"region_name": "eu868", "region_common_name": "EU868"}}],
    "txInfo": {"frequency": 867100000, "modulation": {"lora": {
        "bandwidth": 125000, "spreadingFactor": 11, "codeRate": "CR_4_5"}}},
}
DOCS_INT_JOIN = {"deduplicationId": "c9dbe358-2578-4fb7-b295-66b44edc45a6",
                 "time": "2022-07-18T09:33:28.823500726Z", "deviceInfo": DEVICE_INFO,
                 "devAddr": "00189440"}
DOCS_INT_ACK = {"deduplicationId": "856a03e7-80f6-4c26-b971-9dcb34a59c2e",
                "time": "2022-07-18T09:38:49.235700766Z", "deviceInfo": DEVICE_INFO,
                "queueItemId": "1bbcab1d-6ec6-4136-b3f5-d63be1dc08de", "acknowledged": True,
                "fCntDown": 3}
DOCS_INT_TXACK = {
    "downlinkId": 3461958127, "time": "2022-07-18T09:37:48.929184085Z",
    "deviceInfo": DEVICE_INFO, "queueItemId": "42cb6459-a640-46ec-9623-bdff39dc4736",
    "fCntDown": 2, "gatewayId": DOCS_GW,
    "txInfo": {"frequency": 867900000, "power": 14,
               "modulation": {"lora": {"bandwidth": 125000, "spreadingFactor": 7,
                                       "codeRate": "CR_4_5", "polarizationInversion": True}},
               "timing": {"delay": {"delay": "1s"}}, "context": "ICYVGw=="},
}
DOCS_INT_LOG = {"time": "2022-07-18T09:39:57.311414029Z", "deviceInfo": DEVICE_INFO,
                "level": "ERROR", "code": "UPLINK_MIC",
                "description": "MIC of join-request is invalid, make sure keys are correct",
                "context": {"deduplication_id": "4e91db13-5ce3-4c8c-ab0f-dfc626cf0771"}}

DEVADDR_DOCS = 0x016AFEA6  # A6 FE 6A 01 little-endian in the docs' PHYPayloads
INT = f"application/{APP}/device/{DEV}/event"

# name, note, topic, message type, JSON, outcome, reason, events
CASES: list[tuple[str, str, str, type[Message], dict[str, Any], str, str, list[Any]]] = [
    ("pb_bridge_docs_up_unprefixed",
     f"{BRIDGE_EVENTS}: the up example (ConfirmedDataUp, DevAddr 016AFEA6, FCnt 5, FPort 1) "
     "in Protobuf on a topic without region prefix: region 'default'",
     f"gateway/{DOCS_GW}/event/up", gw_pb2.UplinkFrame, DOCS_UP, "ok", "",
     [["uplink_received", T, DEVADDR_DOCS, 5, DOCS_GW, "default", True, 1]]),
    ("pb_bridge_docs_up_prefixed",
     f"{BRIDGE_EVENTS}: the same up example in Protobuf on the eu868-prefixed topic",
     f"eu868/gateway/{DOCS_GW}/event/up", gw_pb2.UplinkFrame, DOCS_UP, "ok", "",
     [["uplink_received", T, DEVADDR_DOCS, 5, DOCS_GW, "eu868", True, 1]]),
    ("pb_bridge_docs_down_rx1_rx2",
     f"{BRIDGE_COMMANDS}: the Class-A down example (UnconfirmedDataDown to DevAddr 016AFEA6, "
     "id 894104280, RX1 1s + RX2 2s) in Protobuf, unprefixed topic",
     f"gateway/{DOCS_GW}/command/down", gw_pb2.DownlinkFrame, DOCS_DOWN, "ok", "",
     [["downlink_command", T, DOCS_GW, 894104280, DEVADDR_DOCS, [1000, 2000], False]]),
    ("pb_bridge_docs_ack",
     f"{BRIDGE_EVENTS}: the ack example (id 894104280, items OK and {{}} = IGNORED) in "
     "Protobuf, unprefixed topic",
     f"gateway/{DOCS_GW}/event/ack", gw_pb2.DownlinkTxAck, DOCS_ACK, "ok", "",
     [["downlink_ack", T, DOCS_GW, 894104280, ["OK", "IGNORED"]]]),
    ("pb_forwarder_test_up_not_lorawan",
     f"{FORWARDER_TEST}: the UplinkFrame the forwarder publishes for rxpk data AQID "
     "(phy_payload 01 02 03): MHDR 0x01 is MType 000, a join-request, not a data uplink",
     f"eu868/gateway/{FWD_GW}/event/up", gw_pb2.UplinkFrame, FWD_UP, "ignored",
     "not a data uplink", []),
    ("pb_forwarder_test_down_not_data",
     f"{FORWARDER_TEST}: the DownlinkFrame the test publishes (id 1234, phy_payload 01 02 03, "
     "delay 1s): no data-down frame",
     f"eu868/gateway/{FWD_GW}/command/down", gw_pb2.DownlinkFrame, FWD_DOWN, "ignored",
     "not a data-down or join-accept frame", []),
    ("pb_forwarder_test_ack_ok",
     f"{FORWARDER_TEST}: the DownlinkTxAck for TX_ACK of token 1234 (one item, OK), on the "
     "unprefixed topic",
     f"gateway/{FWD_GW}/event/ack", gw_pb2.DownlinkTxAck, FWD_ACK, "ok", "",
     [["downlink_ack", T, FWD_GW, 1234, ["OK"]]]),
    ("pb_forwarder_test_stats_not_understood",
     f"{FORWARDER_TEST}: GatewayStats (rx 1, tx 1) are not decoded",
     f"eu868/gateway/{FWD_GW}/event/stats", gw_pb2.GatewayStats, FWD_STATS, "ignored",
     "topic not understood", []),
    ("pb_integration_docs_up",
     f"{EVENTS_DOC}: the up example (devAddr 00189440, fCnt 0 omitted, fPort 1) as a "
     "Protobuf integration.UplinkEvent",
     f"{INT}/up", integration_pb2.UplinkEvent, DOCS_INT_UP, "ok", "",
     [["uplink_delivered", T, 0x00189440, 0, APP, DEV, TENANT]]),
    ("pb_integration_docs_join",
     f"{EVENTS_DOC}: the join example (devAddr 00189440) as integration.JoinEvent",
     f"{INT}/join", integration_pb2.JoinEvent, DOCS_INT_JOIN, "ok", "",
     [["device_joined", T, 0x00189440, APP, DEV, TENANT]]),
    ("pb_integration_docs_ack",
     f"{EVENTS_DOC}: the ack example (acknowledged, fCntDown 3) as integration.AckEvent",
     f"{INT}/ack", integration_pb2.AckEvent, DOCS_INT_ACK, "ignored",
     "confirmation is not an RX-window signal", []),
    ("pb_integration_docs_txack",
     f"{EVENTS_DOC}: the txack example (downlinkId 3461958127, delay 1s, no device class: "
     "Class A) as integration.TxAckEvent",
     f"{INT}/txack", integration_pb2.TxAckEvent, DOCS_INT_TXACK, "ok", "",
     [["downlink_outcome", T, DEV, True, "OK", "", -1]]),
    ("pb_integration_docs_log",
     f"{EVENTS_DOC}: the log example (ERROR UPLINK_MIC) as integration.LogEvent",
     f"{INT}/log", integration_pb2.LogEvent, DOCS_INT_LOG, "ignored", "log UPLINK_MIC", []),
]


def encode(cls: type[Message], doc: dict[str, Any]) -> str:
    msg = json_format.ParseDict(doc, cls())
    return base64.b64encode(msg.SerializeToString(deterministic=True)).decode()


def main() -> None:
    cases = [{"name": name, "note": note, "topic": topic, "received_at": AT,
              "payload_b64": encode(cls, doc), "outcome": outcome, "reason": reason,
              "events": events}
             for name, note, topic, cls, doc, outcome, reason, events in CASES]
    OUT.write_text(json.dumps({"decoder": "protobuf", "cases": cases}, indent=2) + "\n",
                   encoding="utf-8")


if __name__ == "__main__":
    main()
