"""Who owns a DevAddr's uplinks: learned from deliveries and joins, seeded by configured
DevAddr blocks, resolved when an uplink's deadline passes (docs/semantics.md#tenants)."""

from __future__ import annotations

import tracemalloc
from typing import Any

from slastream.config import parse_settings
from slastream.engine import Engine
from slastream.model.events import DeviceJoined, Event, UplinkDelivered, UplinkReceived
from slastream.model.spec import Settings
from slastream.sli.attribution import UNATTRIBUTED, Attribution
from slastream.sli.delivery import DeliverySLI
from slastream.sources.decoder import group

T0 = 1_790_000_000_000 // 60_000 * 60_000
A, B = 0x26000001, 0x26000002


def _settings(scope_by: str = "tenant", tenants: Any = None) -> Settings:
    data: dict[str, Any] = {"slos": [{"name": "d", "sli": "delivery", "objective": 0.99,
                                      "scope_by": scope_by}]}
    if tenants is not None:
        data["tenants"] = tenants
    return parse_settings(data)


def _run(events: list[Event], settings: Settings | None = None) -> dict[str, tuple[int, int]]:
    """Each event in its own batch, in the order given (a batch is grouped by type)."""
    eng = Engine(settings or _settings())
    for ev in events:
        eng.feed(group([ev]))
    eng.flush()
    return {e.scope: (e.events.good, e.events.total) for e in eng.ledger(None).slos}


def _up(t: int, devaddr: int, fcnt: int) -> UplinkReceived:
    return UplinkReceived(T0 + t, devaddr, fcnt, "gw", "eu868", False, 1)


def test_a_lost_uplink_counts_against_the_tenant_its_devaddr_was_delivered_for() -> None:
    got = _run([_up(0, A, 1), UplinkDelivered(T0 + 500, A, 1, "app", "dev", "acme"),
                _up(60_000, A, 2)])  # never delivered
    assert got == {"acme": (1, 2)}


def test_a_delivery_after_the_lost_uplink_still_attributes_it_within_the_deadline() -> None:
    # the first uplink is lost; the second, 10 s later, is delivered and names the owner
    got = _run([_up(0, A, 1), _up(10_000, A, 2),
                UplinkDelivered(T0 + 10_500, A, 2, "app", "dev", "acme")])
    assert got == {"acme": (1, 2)}


def test_a_join_attributes_the_new_devaddr_before_any_delivery() -> None:
    got = _run([UplinkDelivered(T0 - 60_000, A, 9, "app", "dev", "acme"),
                _up(-60_500, A, 9),
                DeviceJoined(T0, B, "app", "dev", "acme"), _up(1000, B, 0)])
    assert got == {"acme": (1, 2)}


def test_a_session_change_moves_the_devaddr_to_its_new_owner() -> None:
    # the DevAddr goes to another device before the first owner's uplinks are final: each
    # uplink keeps the owner known when it was heard (or named by its own delivery)
    got = _run([_up(0, A, 1), UplinkDelivered(T0 + 500, A, 1, "app-1", "d1", "acme"),
                _up(60_000, A, 2),  # lost, heard while acme held the DevAddr
                DeviceJoined(T0 + 120_000, A, "app-2", "d2", "globex"),
                _up(121_000, A, 0)])
    assert got == {"acme": (1, 2), "globex": (0, 1)}


def test_unknown_owners_are_counted_as_unattributed_never_dropped() -> None:
    assert _run([_up(0, A, 1), _up(1000, B, 1)]) == {UNATTRIBUTED: (0, 2)}


def test_configured_blocks_and_applications_give_the_tenant() -> None:
    settings = _settings(tenants={"known": [
        {"id": "acme", "devaddr_ranges": ["26000000/31"]},  # A (…01), not B (…02)
        {"id": "globex", "applications": ["meters"]}]})
    got = _run([_up(0, A, 1), _up(0, B, 1),
                UplinkDelivered(T0 + 500, B, 1, "meters", "dev", "")], settings)
    assert got == {"acme": (0, 1), "globex": (1, 1)}


def test_scope_by_application_names_tenant_and_application() -> None:
    got = _run([_up(0, A, 1), UplinkDelivered(T0 + 500, A, 1, "meters", "dev", "acme"),
                _up(0, B, 1)], _settings("application"))
    assert got == {"acme/meters": (1, 1), UNATTRIBUTED: (0, 1)}


def test_a_late_delivery_corrects_the_scope_the_uplink_was_charged_to() -> None:
    s = _settings()
    sli = DeliverySLI(s.slos[0], s)
    sli.add([UplinkDelivered(T0, A, 7, "app", "dev", "acme"), _up(-100, A, 7),
             _up(0, A, 8)])
    deltas = sli.advance(T0 + 40_000)  # the second uplink is finalised as lost
    sli.add([UplinkDelivered(T0 + 20_000, A, 8, "app", "dev", "acme")])  # late, in time
    deltas += sli.flush()
    assert [(scope, v[0], v[1]) for _, scope, _, v in deltas] == [("acme", 1.0, 1.0),
                                                                  ("acme", 1.0, 1.0)]


def test_the_attribution_survives_a_checkpoint() -> None:
    s = _settings()
    sli = DeliverySLI(s.slos[0], s)
    sli.add([UplinkDelivered(T0, A, 7, "app", "dev", "acme"),
             DeviceJoined(T0, B, "app", "dev2", "globex"), _up(1000, B, 0)])
    other = DeliverySLI(s.slos[0], s)
    other.load_state(sli.state())
    assert other.state().keys() == sli.state().keys()
    deltas = other.flush()
    assert [(scope, v[1]) for _, scope, _, v in deltas] == [("globex", 1.0)]
    assert other.attribution is not None and other.attribution.owner(A) == ("acme", "app")


def test_owners_not_refreshed_for_two_generations_are_forgotten() -> None:
    s = _settings(tenants={"attribution_ttl_s": 3600})
    attr = Attribution(s.tenants)
    attr.rotate(0)
    attr.learn(A, "acme", "app")
    attr.learn(B, "acme", "app")
    attr.rotate(3_600_000)
    assert attr.owner(A) == ("acme", "app")  # looked up: kept for another generation
    attr.rotate(7_200_000)
    assert attr.owner(A) == ("acme", "app") and attr.owner(B) == ("", "")
    assert len(attr) == 1


def test_state_per_attributed_device_is_small() -> None:
    """The attribution adds one dict entry per DevAddr: the owner ints are shared."""
    s = _settings()
    attr = Attribution(s.tenants)
    n = 100_000
    owners = [(f"tenant-{i % 200}", f"app-{i % 400}") for i in range(n)]
    for tenant, app in set(owners):
        attr.owner_index(tenant, app)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i, (tenant, app) in enumerate(owners):
        attr.learn(0x26000000 + i, tenant, app)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(attr) == n
    assert (after - before) / n <= 150


def test_state_per_tracked_device_with_its_attribution_is_small() -> None:
    """A device with one uplink in flight and its DevAddr attributed (by a join): within
    the 150 bytes of docs/architecture.md#performance, the attribution included."""
    s = _settings()
    sli = DeliverySLI(s.slos[0], s)
    n = 200_000
    joins: list[Event] = [DeviceJoined(T0 + i, 0x26000000 + i, "app", "dev", f"t{i % 200}")
                          for i in range(n)]
    ups: list[Event] = [_up(i, 0x26000000 + i, 1) for i in range(n)]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    sli.add(joins)
    sli.add(ups)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert sli.tracked == n and sli.attribution is not None and len(sli.attribution) == n
    assert (after - before) / n <= 150


def test_state_per_tracked_uplink_stays_small_when_scoped_by_tenant() -> None:
    """docs/architecture.md#performance: the 20-bit scope index keeps a pending uplink
    within 150 bytes."""
    s = _settings()
    sli = DeliverySLI(s.slos[0], s)
    n = 200_000
    events = [_up(i, 0x26000000 + i, i & 0xFFFF) for i in range(n)]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    sli.add(events)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert sli.tracked == n
    assert (after - before) / n <= 150


def test_a_delivery_state_of_the_earlier_layout_still_loads() -> None:
    """Checkpoints written before scopes were generic name them regions (uint8 columns)."""
    s = _settings("region")
    sli = DeliverySLI(s.slos[0], s)
    sli.add([UplinkReceived(T0, A, 1, "gw", "eu868", False, 1),
             UplinkReceived(T0 + 10, B, 1, "gw", "us915", False, 1),
             UplinkDelivered(T0 + 500, A, 1, "app", "dev", "")])
    sli.advance(T0 + 60_000)
    sli.add([UplinkReceived(T0 + 70_000, B, 2, "gw", "us915", False, 1)])
    new = sli.state()
    old = {k: v for k, v in new.items() if k not in ("scopes", "pending_scope", "done_scope")}
    old["regions"] = new["scopes"]
    old["pending_region"] = new["pending_scope"].astype("uint8")
    old["done_region"] = new["done_scope"].astype("uint8")
    other = DeliverySLI(s.slos[0], s)
    other.load_state(old)
    assert {k: str(v) for k, v in other.state().items()} == {k: str(v) for k, v in new.items()}
    assert other.flush() == sli.flush()
