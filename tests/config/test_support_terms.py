"""Support terms in a contract: parsed by the one config checker, problems one line each."""

from __future__ import annotations

from pathlib import Path

import pytest

from slastream.config import load_settings, parse_settings
from slastream.errors import ConfigError
from tests.support.contracts import CUMULOCITY, EVRYTHNG, terms

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("name", "written"), [("cumulocity", CUMULOCITY),
                                               ("evrythng", EVRYTHNG)])
def test_shipped_contracts_carry_their_support_terms(name: str, written: dict[str, object]) -> None:
    settings = load_settings(ROOT / f"examples/contracts/{name}.yaml")
    assert settings.contracts[0].support == terms(written)


def test_a_contract_without_support_terms_has_none() -> None:
    assert load_settings(ROOT / "examples/contracts/loriot.yaml").contracts[0].support is None


def test_support_problems_are_config_problems() -> None:
    doc = {
        "slos": [{"name": "api", "sli": "probe", "component": "api", "objective": 0.999}],
        "contracts": [{"name": "c", "slos": ["api"], "support": {
            "severities": {"Crisis": {"clock": "sometimes", "reaction": "30 minutes"}}}}],
    }
    with pytest.raises(ConfigError) as err:
        parse_settings(doc, "c.yaml")
    assert err.value.problems
    assert all(p.startswith("c.yaml: contracts[0].support.") for p in err.value.problems)
    assert any("clock" in p for p in err.value.problems)


@pytest.mark.parametrize("written", [CUMULOCITY, EVRYTHNG])
def test_support_terms_written_back_read_the_same(written: dict[str, object]) -> None:
    from slastream.config.support import parse_support, support_syntax

    parsed = terms(written)
    problems: list[str] = []
    again = parse_support(support_syntax(parsed), "support", lambda k, w: problems.append(k))
    assert (again, problems) == (parsed, [])
