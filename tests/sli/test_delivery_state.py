"""The delivery SLI's memory under churn: uplinks come and go, the tables holding them
(``sli/table.py``) stay sized to the uplinks they hold."""

from __future__ import annotations

from slastream.config import parse_settings
from slastream.engine import Engine
from slastream.model.events import UplinkDelivered, UplinkReceived
from slastream.sli.delivery import DeliverySLI
from slastream.sources.decoder import group

T0 = 1_790_000_000_000 // 60_000 * 60_000
CONFIG = {"timezone": "UTC", "lateness_s": 10,
          "lorawan": {"devaddr_prefixes": ["26000000/7"]},
          "slos": [{"name": "delivery", "sli": "delivery", "objective": 0.999,
                    "deadline_s": 5}]}


def test_the_uplink_tables_stay_right_sized_under_churn() -> None:
    engine = Engine(parse_settings(CONFIG, "test.yaml"))
    sli = engine.slis[0]
    assert isinstance(sli, DeliverySLI)
    worst = 0.0  # slots a held uplink takes, at the worst moment of the steady state
    sizes: list[int] = []
    for second in range(400):  # 400 uplinks a second, each held about 80 s
        t = T0 + second * 1000
        events = [UplinkReceived(t + i, 0x26000000 + i, second & 0xFFFF, "gw", "eu868",
                                 False, 1) for i in range(400)]
        events += [UplinkDelivered(t + i + 300, 0x26000000 + i, second, "app", "d")
                   for i in range(0, 400, 2)]
        engine.feed(group(events))
        engine.advance()
        if second > 150:  # steady state
            for table in (sli._pending, sli._done):
                slot = 8 * (1 + table.width)
                worst = max(worst, table.nbytes / slot / len(table))
            sizes.append(sli._pending.nbytes + sli._done.nbytes)
    assert len(sli._done) > 10_000 and sli.tracked > 1000
    assert worst <= 4.0  # never less than a quarter full
    assert max(sizes) == max(sizes[:100])  # no growth after the first 100 s of it
