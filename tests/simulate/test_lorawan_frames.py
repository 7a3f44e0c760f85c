"""The LoRaWAN traps of docs/semantics.md#lorawan are in generated traffic, in real frames."""

from __future__ import annotations

import base64
from collections import Counter, defaultdict

from slastream.simulate import GroundTruth
from tests.simulate.traffic import Traffic, ms_of, up_key


def test_gateway_frames_decode(traffic: Traffic) -> None:
    frames = traffic.gateway_frames()
    assert frames
    mtypes = Counter(phy.mhdr for _, phy in frames)
    # unconfirmed (0x40) and confirmed (0x80) data uplinks, and join-requests (0x00)
    assert mtypes[0x40] > mtypes[0x80] > 0
    assert mtypes[0x00] > 0
    assert set(mtypes) <= {0x00, 0x40, 0x80}
    for msg, phy in frames:
        assert len(phy.mic) == 4
        rx = msg.payload["rxInfo"]
        assert msg.topic == f"eu868/gateway/{rx['gatewayId']}/event/up"
        assert "nsTime" not in rx  # set by the network server, not by the gateway bridge
        assert len(base64.b64decode(rx["context"])) == 4  # Semtech UDP tmst


def test_application_up_matches_a_gateway_frame(traffic: Traffic) -> None:
    """DevAddr little-endian, FCnt low 16 bits, FPort, payload length and the confirmed
    flag on the air agree with what the application is told."""
    heard = {}
    for _, phy in traffic.gateway_frames():
        if phy.devaddr >= 0:
            heard[(phy.devaddr, phy.fcnt16)] = phy
    ups = traffic["app/up"]
    assert ups
    for msg in ups:
        p = msg.payload
        phy = heard[up_key(p)]
        assert phy.mhdr == (0x80 if p["confirmed"] else 0x40)
        assert (phy.fport or 0) == p["fPort"]
        assert len(phy.frm_payload) == len(base64.b64decode(p["data"]))
        assert p["deviceInfo"]["deviceClassEnabled"] == "CLASS_A"
        assert msg.topic == (f"application/{p['deviceInfo']['applicationId']}/device/"
                             f"{p['deviceInfo']['devEui']}/event/up")


def test_delivery_follows_the_first_copy_by_200_to_400_ms(traffic: Traffic) -> None:
    first: dict[tuple[int, int], int] = {}
    for msg, phy in traffic.gateway_frames():
        key = (phy.devaddr, phy.fcnt16)
        first.setdefault(key, msg.received_ms)
    delays = [m.received_ms - first[up_key(m.payload)] for m in traffic["app/up"]]
    assert min(delays) >= 200
    assert max(delays) <= 400


def test_many_gateways_hear_one_uplink(traffic: Traffic) -> None:
    copies = Counter((phy.devaddr, phy.fcnt16, phy.mic) for _, phy in traffic.gateway_frames()
                     if phy.ours)
    spread = Counter(copies.values())
    assert spread[1] and spread[2] and spread[3]
    assert max(spread) >= 4
    # ChirpStack puts every copy of the dedup window in rxInfo, each with an nsTime
    multi = [m for m in traffic["app/up"] if len(m.payload["rxInfo"]) > 1]
    assert multi
    assert all("nsTime" in rx for m in multi for rx in m.payload["rxInfo"])


def test_fcnt_wraps_on_the_air_but_not_in_the_application(traffic: Traffic) -> None:
    big = [m.payload for m in traffic["app/up"] if m.payload["fCnt"] > 0xFFFF]
    assert big, "no device above 65,535"
    # A device crossing the wrap: 65535 then 0 on the air, 65535 then 65536 for the app.
    by_dev = defaultdict(set)
    for m in traffic["app/up"]:
        by_dev[m.payload["devAddr"]].add(m.payload["fCnt"])
    assert any({0xFFFF, 0x10000} <= fcnts for fcnts in by_dev.values())
    heard = {(phy.devaddr, phy.fcnt16) for _, phy in traffic.gateway_frames()}
    for p in big:
        assert (int(p["devAddr"], 16), p["fCnt"] - (p["fCnt"] >> 16 << 16)) in heard


def test_foreign_frames_are_heard_but_never_delivered(traffic: Traffic,
                                                      truth: GroundTruth) -> None:
    foreign = {phy.devaddr for _, phy in traffic.gateway_frames()
               if phy.devaddr >= 0 and not phy.ours}
    assert len(foreign) == truth.foreign_frames > 10
    delivered = {int(m.payload["devAddr"], 16) for m in traffic["app/up"]}
    assert not foreign & delivered


def test_confirmed_retransmission_reuses_the_frame(traffic: Traffic) -> None:
    """Same DevAddr, FCnt and MIC heard again seconds later; the application gets one up."""
    times = defaultdict(list)
    for msg, phy in traffic.gateway_frames():
        if phy.mhdr == 0x80:
            times[(phy.devaddr, phy.fcnt16, phy.mic)].append(msg.received_ms)
    again = [k for k, ts in times.items() if max(ts) - min(ts) > 2000]
    assert again
    ups = Counter(up_key(m.payload) for m in traffic["app/up"])
    assert all(ups[(k[0], k[1])] <= 1 for k in again)
    logs = Counter(m.payload["code"] for m in traffic["app/log"])
    assert logs["UPLINK_F_CNT_RETRANSMISSION"] >= len(again) // 2


def test_rejoin_gives_a_new_devaddr_and_fcnt_zero(traffic: Traffic) -> None:
    joins = traffic["app/join"]
    assert joins
    join_requests = [m for m, phy in traffic.gateway_frames() if phy.mhdr == 0x00]
    for join in joins:
        dev_eui = join.payload["deviceInfo"]["devEui"]
        new_addr = int(join.payload["devAddr"], 16)
        # the join-request carries the DevEUI (little-endian, after MHDR and JoinEUI)
        requests = [m for m in join_requests
                    if base64.b64decode(m.payload["phyPayload"])[9:17][::-1].hex() == dev_eui]
        assert requests and requests[0].received_ms < join.received_ms
        on_air = [phy for _, phy in traffic.gateway_frames() if phy.devaddr == new_addr]
        assert on_air and on_air[0].fcnt16 == 0
        ups = [m.payload for m in traffic["app/up"] if int(m.payload["devAddr"], 16) == new_addr]
        assert ups and ups[0]["fCnt"] == 0
        assert ups[0]["deviceInfo"]["devEui"] == dev_eui


def test_skewed_gateway_clocks(traffic: Traffic) -> None:
    skews: set[int | None] = set()
    for msg in traffic["gateway/up"]:
        rx = msg.payload["rxInfo"]
        if "gwTime" in rx:
            skews.add(round((ms_of(rx["gwTime"]) - msg.received_ms) / 1000))
        else:
            skews.add(None)
    assert None in skews  # gateways without a clock
    assert any(s is not None and abs(s) >= 30 for s in skews)  # beyond ChirpStack's 30 s
    assert 0 in skews
