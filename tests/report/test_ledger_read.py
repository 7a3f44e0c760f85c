"""``ledger_from_json`` is the inverse of ``ledger_json`` (docs/interfaces.md#ledger-json)."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import replace
from typing import Any

import pytest

from slastream.model.ledger import ledger_json
from slastream.model.ledger_read import ledger_from_json
from tests.report.seeds import Seed


def test_round_trip_of_every_seed_ledger(seed: Seed) -> None:
    ledger = seed.ledger
    doc = json.loads(json.dumps(ledger_json(ledger)))  # through text, as a worker serves it
    # the support and usage sections stay JSON: the report renders them from the document
    bare = replace(ledger, contracts=tuple(replace(c, support=None, usage=None)
                                           for c in ledger.contracts))
    assert ledger_from_json(doc) == bare
    for contract in doc["contracts"]:
        contract.pop("support", None)
        contract.pop("usage", None)
    assert ledger_json(ledger_from_json(doc)) == doc


def test_extra_fields_are_ignored_and_met_null_reads_as_unknown(seed: Seed) -> None:
    doc: dict[str, Any] = copy.deepcopy(ledger_json(seed.ledger))
    doc["slos"][0].update(met=None, status="insufficient_data", coverage=0.1)
    doc["contracts"][0]["claim_deadline"] = "2026-12-01T00:00:00Z"
    doc["something_new"] = [1, 2]
    back = ledger_from_json(doc)
    assert (back.slos[0].met, back.slos[0].coverage) == (None, 0.1)
    assert back.slos[1:] == seed.ledger.slos[1:]
    assert back.contracts[0].claim_deadline_ms == 1_796_083_200_000
    assert back.contracts[1:] == seed.ledger.contracts[1:]


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.pop("period"), "period: expected an object"),
    (lambda d: d["period"].update(start="yesterday"), "period.start: expected an RFC 3339"),
    (lambda d: d["slos"][0].update(sli="telepathy"), "slos[0].sli: unknown SLI"),
    (lambda d: d["slos"][0].update(availability="high"), "slos[0].availability: expected a"),
    (lambda d: d["slos"][0]["episodes"].append(7), "slos[0].episodes[1]: expected an object"),
    (lambda d: d["contracts"][0].update(combine="max"), "contracts[0].combine: unknown"),
    (lambda d: d.update(slos={}), "ledger.slos: expected a list"),
])
def test_a_document_that_is_not_a_ledger_is_refused_with_the_field(
        mclimate: Seed, change: Any, message: str) -> None:
    doc = copy.deepcopy(ledger_json(mclimate.ledger))
    change(doc)
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        ledger_from_json(doc)


def test_not_an_object() -> None:
    with pytest.raises(ValueError, match="ledger: expected an object"):
        ledger_from_json([1])
