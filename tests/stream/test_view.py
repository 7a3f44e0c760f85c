"""LiveView: first write wins per partition, per-stream progress, the same ledger."""

from __future__ import annotations

from slastream.model.events import BridgeOutage, Exclusion
from slastream.model.ledger import ledger_json
from slastream.model.time import Month
from slastream.sli.slices import SliceDelta, SliceStore
from slastream.slo.ledger import build_ledger
from slastream.stream.records import SliceBatch
from slastream.stream.view import LiveView
from tests.stream.helpers import START_MS, settings

M0 = START_MS // 60_000


def vec(good: float, total: float) -> tuple[float, ...]:
    return (good, total) + (0.0,) * 15


def batch(stream: str, partition: int, offset: int, as_of: int,
          slices: tuple[SliceDelta, ...] = ()) -> SliceBatch:
    return SliceBatch(stream, partition, offset, as_of, as_of * 60_000, as_of * 60_000, 0,
                      slices)


def test_a_replayed_batch_is_dropped() -> None:
    view = LiveView(settings())
    first = batch("service", 0, 5, M0 + 1, (("api-probe", "api", M0, vec(1, 2)),))
    assert view.apply(first)
    assert not view.apply(first)  # the replay after a crash
    assert not view.apply(batch("service", 0, 4, M0 + 1, (("api-probe", "api", M0, vec(9, 9)),)))
    assert view.store.as_dict()[("api-probe", "api", M0)][:2] == (1.0, 2.0)
    assert view.apply(batch("service", 0, 6, M0 + 2, (("api-probe", "api", M0, vec(1, 1)),)))
    assert view.store.as_dict()[("api-probe", "api", M0)][:2] == (2.0, 3.0)
    assert view.sli_event_totals()[("api-probe", "api", "bad")] == 1


def test_each_stream_holds_back_only_its_own_slos() -> None:
    view = LiveView(settings())
    view.apply(batch("service", 0, 1, M0 + 2))
    view.apply(batch("service", 1, 1, M0 + 5))
    view.apply(batch("lorawan", 0, 1, M0 + 9))
    assert view.stream_as_of("service") == M0 + 2
    assert view.stream_as_of("lorawan") == M0 + 9
    assert view.stream_as_of("gateway") == M0 + 2  # no data: follows the others
    led = view.ledger(Month.containing(START_MS, "UTC").label)
    totals = {e["name"]: e["total_minutes"] for e in ledger_json(led)["slos"]}
    month_start = Month.containing(START_MS, "UTC").start_minute
    assert totals["delivery"] == M0 + 9 - month_start
    assert totals["api-probe"] == M0 + 2 - month_start


def test_ledger_matches_build_ledger_when_streams_agree() -> None:
    s = settings()
    view = LiveView(s)
    slices = (("api-probe", "api", M0, vec(0, 4)), ("api-probe", "api", M0 + 1, vec(4, 4)))
    view.apply(batch("service", 0, 1, M0 + 3, slices))
    view.apply(batch("lorawan", 0, 1, M0 + 3, (("delivery", "network", M0, vec(9, 10)),)))
    view.apply(batch("gateway", 0, 1, M0 + 3))
    excl = Exclusion("m1", "api", START_MS, START_MS + 60_000, START_MS - 10**9,
                     "maintenance", "mail")
    view.add_control([excl, BridgeOutage(1, 2, "b")])
    store = SliceStore()
    for slo, scope, minute, values in slices:
        store.add(slo, scope, minute, values)
    store.add("delivery", "network", M0, vec(9, 10))
    month = Month.containing(START_MS, "UTC")
    want = build_ledger(s, store, [excl], month, M0 + 3, view.inputs())
    assert view.ledger(month.label) == want
    assert len(view.outages) == 1


def test_breaches_follow_open_episodes() -> None:
    view = LiveView(settings())
    view.apply(batch("service", 0, 1, M0 + 1, (("api-probe", "api", M0, vec(0, 4)),)))
    assert view.breaches()[("api-probe", "api")] is True
    view.apply(batch("service", 0, 2, M0 + 2, (("api-probe", "api", M0 + 1, vec(4, 4)),)))
    assert view.breaches()[("api-probe", "api")] is False


def test_ignored_messages_by_reason_come_from_the_bridge_when_it_counts_them() -> None:
    counts = {("chirpstack", "log"): 2, ("tts", "downlink queued"): 5}
    view = LiveView(settings(), lambda: {("tts", "ignored"): 7}, ignored=lambda: counts)
    assert view.ignored_totals() == counts
    inputs = ledger_json(view.ledger("2026-09"))["inputs"]
    assert inputs["ignored_reasons"] == {"tts: downlink queued": 5, "chirpstack: log": 2}
    assert list(inputs["ignored_reasons"]) == ["tts: downlink queued", "chirpstack: log"]
    assert "ignored_reasons" not in ledger_json(LiveView(settings()).ledger("2026-09"))["inputs"]
    assert LiveView(settings()).ignored_totals() == {}
