"""Well-formed messages with random ids: gateways, devices, DevAddrs, applications,
tenants, regions, components, clients, ticket and exclusion ids, failure statuses and
topics nobody subscribes to. Each is a valid message of its kind: what a flood of them can
grow is what the export must keep bounded (docs/interfaces.md#bounds)."""

from __future__ import annotations

import base64
import random
import struct
from collections.abc import Callable, Sequence
from typing import Any

from slastream.model.time import format_rfc3339_ms

Make = Callable[[random.Random, int], tuple[str, Any]]


def _hex(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(4 * digits):0{digits}x}"


def _word(rng: random.Random) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789-_") for _ in range(10))


def stamp(ms: int) -> str:
    return format_rfc3339_ms(ms)


def _phy(rng: random.Random) -> str:
    mhdr = rng.choice((0x40, 0x80))
    frame = struct.pack("<BIBH", mhdr, rng.getrandbits(32), 0, rng.getrandbits(16))
    return base64.b64encode(frame + bytes([1]) + rng.randbytes(6)).decode()


def gateway_up(rng: random.Random, ms: int) -> tuple[str, Any]:
    return (f"{_word(rng)}/gateway/{_hex(rng, 16)}/event/up",
            {"phyPayload": _phy(rng), "rxInfo": {"gatewayId": _hex(rng, 16)}})


def gateway_downlink(rng: random.Random, ms: int) -> list[tuple[str, Any]]:
    """A downlink command and its gateway's ack, both items failed with odd statuses."""
    gw, ident = _hex(rng, 16), rng.getrandbits(32)
    down = struct.pack("<BIBH", 0x60, rng.getrandbits(32), 0, 1) + rng.randbytes(4)
    phy = base64.b64encode(down).decode()
    command = {"downlinkId": ident, "items": [
        {"phyPayload": phy, "txInfo": {"timing": {"delay": {"delay": "1s"}}}},
        {"phyPayload": phy, "txInfo": {"timing": {"delay": {"delay": "2s"}}}}]}
    ack = {"downlinkId": ident, "items": [{"status": _word(rng).upper()},
                                          {"status": _word(rng).upper()}]}
    return [(f"eu868/gateway/{gw}/command/down", command), (f"eu868/gateway/{gw}/event/ack", ack)]


def integration(rng: random.Random, ms: int) -> tuple[str, Any]:
    app, dev = _word(rng), _hex(rng, 16)
    kind = rng.randrange(4)
    if kind == 0:
        return (f"application/{app}/device/{dev}/event/up",
                {"devAddr": _hex(rng, 8), "fCnt": rng.getrandbits(16)})
    if kind == 1:
        return (f"application/{app}/device/{dev}/event/log",
                {"code": "DOWNLINK_GATEWAY", "level": "ERROR", "description": _word(rng)})
    if kind == 2:
        return (f"application/{app}/device/{dev}/event/log",
                {"code": _word(rng).upper(), "level": _word(rng)})
    return f"application/{app}/device/{dev}/event/txack", {"txInfo": {}}


def tts(rng: random.Random, ms: int) -> tuple[str, Any]:
    app = f"{_word(rng)}@{_word(rng)}" if rng.random() < 0.5 else _word(rng)
    dev = _word(rng)
    if rng.random() < 0.5:
        return (f"v3/{app}/devices/{dev}/up",
                {"end_device_ids": {"dev_addr": _hex(rng, 8).upper()},
                 "uplink_message": {"f_cnt": rng.getrandbits(16)}})
    return (f"v3/{app}/devices/{dev}/down/failed",
            {"downlink_failed": {"error": {"name": rng.choice(("transmission", _word(rng))),
                                           "attributes": {"result": _word(rng)}}}})


def service(rng: random.Random, ms: int, components: Sequence[str] = ()) -> tuple[str, Any]:
    component = rng.choice((*components, _word(rng))) if components else _word(rng)
    if rng.random() < 0.5:
        return (f"slastream/probe/{component}",
                {"time": stamp(ms), "ok": rng.random() < 0.5, "status": 200,
                 "latency_ms": rng.uniform(1, 900), "location": _word(rng)})
    return (f"slastream/request/{component}",
            {"time": stamp(ms), "duration_ms": rng.uniform(1, 900), "status": 200,
             # the prefixes of the example allowance bands, or none
             "client": rng.choice(("", "a-", "b-", "f-", "u-", "trial-")) + _word(rng)})


def control(rng: random.Random, ms: int, contracts: Sequence[str] = ()) -> tuple[str, Any]:
    kind = rng.randrange(4)
    if kind == 0:
        return ("slastream/ticket",
                {"id": _word(rng), "event": "opened", "time": stamp(ms),
                 "severity": _word(rng), "contract": rng.choice((*contracts, _word(rng))),
                 "region": _word(rng), "country": rng.choice(("DE", "US", "ZZ", "QQ")),
                 "channel": "email"})
    if kind == 1:
        return ("slastream/exclusion",
                {"id": _word(rng), "scope": _word(rng), "kind": "emergency",
                 "start": stamp(ms), "end": stamp(ms + 60_000), "evidence": _word(rng)})
    if kind == 2:
        return ("slastream/uplink/received",
                {"time": stamp(ms), "devaddr": _hex(rng, 8), "fcnt": rng.getrandbits(16),
                 "gateway": _word(rng), "region": _word(rng)})
    return ("slastream/downlink",
            {"time": stamp(ms), "device": _word(rng), "ok": False, "status": _word(rng),
             "window": "rx2"})


def unknown(rng: random.Random, ms: int) -> tuple[str, Any]:
    return "/".join(_word(rng) for _ in range(rng.randrange(1, 6))), {"x": _word(rng)}


def messages(rng: random.Random, n: int, start_ms: int, components: Sequence[str],
             contracts: Sequence[str]) -> list[tuple[int, str, Any]]:
    """``n`` flood messages, received over the ``n`` seconds from ``start_ms``."""
    out: list[tuple[int, str, Any]] = []
    i = 0
    while len(out) < n:
        ms = start_ms + i * 1000
        i += 1
        r = rng.random()
        if r < 0.1:
            out += [(ms, topic, payload) for topic, payload in gateway_downlink(rng, ms)]
            continue
        if r < 0.35:
            topic, payload = gateway_up(rng, ms)
        elif r < 0.5:
            topic, payload = integration(rng, ms)
        elif r < 0.6:
            topic, payload = tts(rng, ms)
        elif r < 0.75:
            topic, payload = service(rng, ms, components)
        elif r < 0.95:
            topic, payload = control(rng, ms, contracts)
        else:
            topic, payload = unknown(rng, ms)
        out.append((ms, topic, payload))
    return out[:n]
