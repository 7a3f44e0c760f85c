"""Per-tenant contracts: instances of a template, their overrides and support tickets
(docs/semantics.md#tenant-contracts)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from slastream.config import parse_settings
from slastream.engine import Engine
from slastream.errors import ConfigError
from slastream.model.events import Event, UplinkDelivered, UplinkReceived
from slastream.model.ledger import ledger_json
from slastream.sources.decoder import group
from tests.support.contracts import CUMULOCITY, ev, utc

T0 = utc("2026-10-05T10:00:00Z")


def _config(**contract: Any) -> dict[str, Any]:
    return {"slos": [{"name": "d", "sli": "delivery", "objective": 0.99, "scope_by": "tenant",
                      "coverage": {"min_ratio": 0}}],
            "tenants": {"known": [{"id": "acme"}, {"id": "globex"}, {"id": "initech"}]},
            "contracts": [{"name": "lns", "slos": ["d"], "objective": 0.99,
                           "credit": {"kind": "tiers",
                                      "tiers": [{"over_minutes": 0, "credit": 0.1}]},
                           **contract}]}


def _ledger(config: dict[str, Any], tickets: Sequence[Event] = ()) -> dict[str, Any]:
    engine = Engine(parse_settings(config))
    events: list[Event] = [UplinkReceived(T0, 0x26000001, 1, "gw", "eu868", False, 1),
                           UplinkDelivered(T0 + 500, 0x26000001, 1, "app", "dev", "acme"),
                           *tickets]
    for e in events:
        engine.feed(group([e]))
    engine.flush()
    return ledger_json(engine.ledger("2026-10"))


def test_every_known_tenant_or_the_listed_ones_get_a_contract() -> None:
    every = _ledger(_config(tenants="all"))
    assert [c["name"] for c in every["contracts"]] == ["lns@acme", "lns@globex", "lns@initech"]
    listed = _ledger(_config(tenants=["globex"]))
    assert [(c["name"], c["tenant"]) for c in listed["contracts"]] == [("lns@globex", "globex")]
    plain = _ledger(_config())
    assert [c["name"] for c in plain["contracts"]] == ["lns"]
    assert "tenant" not in plain["contracts"][0]  # the JSON of a plain contract is unchanged


def test_overrides_change_one_tenants_terms() -> None:
    got = _ledger(_config(tenants="all", monthly_fee=50, overrides={
        "globex": {"objective": 0.5, "monthly_fee": 900, "timezone": "Asia/Tokyo"}}))
    by = {c["tenant"]: c for c in got["contracts"]}
    assert (by["acme"]["objective"], by["acme"]["monthly_fee"]) == (0.99, 50)
    assert (by["globex"]["objective"], by["globex"]["monthly_fee"],
            by["globex"]["timezone"]) == (0.5, 900, "Asia/Tokyo")
    assert "timezone" not in by["acme"]


def test_support_tickets_name_the_instance_and_follow_its_terms() -> None:
    tickets = [ev("opened", T0, "Crisis", "T-1", contract="lns@acme"),
               ev("opened", T0, "Crisis", "T-2", contract="lns@globex")]
    got = _ledger(_config(tenants="all", overrides={"acme": {"support": CUMULOCITY}}),
                  tickets)
    by = {c["tenant"]: c for c in got["contracts"]}
    assert [t["id"] for t in by["acme"]["support"]["tickets"]] == ["T-1"]
    assert "support" not in by["globex"]  # no terms: its ticket is not judged


def test_overrides_need_a_template() -> None:
    with pytest.raises(ConfigError, match="overrides"):
        parse_settings(_config(overrides={"acme": {"objective": 0.5}}))
