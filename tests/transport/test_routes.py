"""One routing table: every event has a stream, every SLO runs on the one stream all the
events it joins reach, and the table agrees with what the SLIs consume."""

from __future__ import annotations

from dataclasses import replace

from slastream.engine import Engine
from slastream.model.events import EVENT_TYPES, BridgeOutage, UplinkReceived
from slastream.transport import routes
from tests.stream.helpers import settings


def test_every_event_type_has_a_route() -> None:
    assert set(routes.EVENT_ROUTES) == set(EVENT_TYPES.values())
    uplink = UplinkReceived(1, 0x26000001, 7, "gw-1", "eu", False)
    assert routes.routes(uplink) == [(routes.LORAWAN, "26000001"), (routes.GATEWAY, "gw-1")]


def test_each_sli_runs_where_all_its_inputs_meet() -> None:
    assert routes.SLI_STREAMS == {
        ("delivery", ""): routes.LORAWAN, ("rx2", "gateway"): routes.GATEWAY,
        ("rx2", "integration"): routes.LORAWAN, ("probe", ""): routes.SERVICE,
        ("response_time", ""): routes.SERVICE}


def test_the_table_names_what_each_sli_consumes() -> None:
    s = settings()
    rx2 = next(slo for slo in s.slos if slo.sli == "rx2")
    s = replace(s, slos=(*s.slos, replace(rx2, name="rx2-app", source="integration")))
    engine = Engine(s)
    assert {routes.sli_kind(sli.slo) for sli in engine.slis} == set(routes.SLI_INPUTS)
    for sli in engine.slis:
        # bridge outages reach every partition as injected markers, not by routing
        consumed = set(sli.consumes) - {BridgeOutage}
        assert consumed == set(routes.SLI_INPUTS[routes.sli_kind(sli.slo)]), sli.slo.name
