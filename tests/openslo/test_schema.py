"""Exported documents are valid OpenSLO v1 (the specification's JSON schema)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from slastream.config import load_settings
from slastream.openslo import export_main
from tests.openslo.openslo_schema import errors
from tests.openslo.test_roundtrip import CONFIGS


def _documents(path: Path) -> list[dict[str, Any]]:
    return list(yaml.safe_load_all(export_main(load_settings(path))))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_exported_document_validates(path: Path) -> None:
    docs = _documents(path)
    kinds = {d["kind"] for d in docs}
    assert kinds == {"DataSource", "AlertNotificationTarget", "Service", "SLI", "SLO",
                     "AlertCondition", "AlertPolicy"}
    for doc in docs:
        assert errors(doc) == [], f"{doc['kind']}/{doc['metadata']['name']}"


def _slo(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return copy.deepcopy(next(d for d in docs if d["kind"] == "SLO"))


def _condition(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return copy.deepcopy(next(d for d in docs if d["kind"] == "AlertCondition"))


def test_the_schema_refuses_what_the_export_works_around() -> None:
    # The validator is not vacuous: the spellings the export avoids are refused.
    docs = _documents(CONFIGS[0])
    slo = _slo(docs)
    slo["spec"]["timeWindow"][0]["calendar"]["timeZone"] = "UTC"
    assert any("timeZone" in e for e in errors(slo))
    cond = _condition(docs)
    cond["spec"]["condition"]["alertAfter"] = "0m"
    assert any("alertAfter" in e for e in errors(cond))
    cond["spec"]["condition"]["alertAfter"] = "30s"
    assert errors(cond)


@pytest.mark.parametrize(("where", "value"), [
    (("spec", "budgetingMethod"), "Minutes"),
    (("spec", "objectives", 0, "target"), 1.0),
    (("spec", "objectives", 0, "timeSliceTarget"), 0),
    (("metadata", "name"), "Not_A_Name"),
    (("apiVersion",), "openslo/v2alpha"),
])
def test_the_schema_refuses_a_broken_slo(where: tuple[Any, ...], value: Any) -> None:
    slo = _slo(_documents(CONFIGS[0]))
    node = slo
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    assert errors(slo)
