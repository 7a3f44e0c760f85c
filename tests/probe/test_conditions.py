"""The condition language of HTTP probes."""

from __future__ import annotations

import pytest

from slastream.model.probes import Condition
from slastream.probe.conditions import evaluate, parse_body, parse_condition


def test_parse_body_path_and_bare_string() -> None:
    assert parse_condition("[BODY].status == UP") == Condition(
        "body", ("status",), "==", "UP", "[BODY].status == UP")
    assert parse_condition("[STATUS] <= 299").value == 299
    assert parse_condition("[RESPONSE_TIME] < 250.5").value == 250.5
    assert parse_condition('[BODY].name != "a b"').value == "a b"
    assert parse_condition("[BODY].ready == true").value is True
    assert parse_condition("[BODY] == null").path == ()


@pytest.mark.parametrize("text", [
    "[STATUS] 200",             # no operator
    "[HEADERS].x == 1",         # unknown subject
    "[STATUS].x == 1",          # path on a number
    "[BODY]..a == 1",           # empty path part
    "[BODY].a < UP",            # ordering needs a number
    "[STATUS] == UP",           # status is a number
    "[BODY].a ==  ",            # missing value
])
def test_malformed_conditions_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_condition(text)


BODY = parse_body(b'{"status": "UP", "n": 3, "items": [{"id": 7}], "ok": true, "s": "3"}')


@pytest.mark.parametrize(("text", "holds"), [
    ("[BODY].status == UP", True),
    ("[BODY].status != UP", False),
    ("[BODY].n == 3", True),
    ("[BODY].n == 3.0", True),
    ("[BODY].s == 3", False),          # a JSON string is not the number 3
    ('[BODY].s == "3"', True),
    ("[BODY].n >= 3", True),
    ("[BODY].n > 3", False),
    ("[BODY].status > 1", False),      # not a number: the comparison fails
    ("[BODY].items.0.id == 7", True),
    ("[BODY].items.1.id == 7", False),  # out of range
    ("[BODY].ok == true", True),
    ("[STATUS] == 200", True),
    ("[STATUS] < 300", True),
    ("[RESPONSE_TIME] < 100", True),
    ("[RESPONSE_TIME] < 10", False),
])
def test_evaluate(text: str, holds: bool) -> None:
    assert (evaluate(parse_condition(text), 200, 42.0, BODY) is None) is holds


def test_reasons_name_the_condition_and_what_was_found() -> None:
    assert evaluate(parse_condition("[BODY].status == UP"), 200, 1.0, parse_body(
        b'{"status": "DOWN"}')) == 'condition [BODY].status == UP failed: got "DOWN"'
    assert evaluate(parse_condition("[BODY].a.b == 1"), 200, 1.0, parse_body(b"{}")) == (
        "condition [BODY].a.b == 1 failed: a.b not in body")
    assert evaluate(parse_condition("[BODY].a == 1"), 200, 1.0, parse_body(b"<html>")) == (
        "condition [BODY].a == 1 failed: body is not JSON")
