"""The condition language of HTTP probes (documented in ``slastream.model.probes``)."""

from __future__ import annotations

import math
from typing import Any

import orjson

from slastream.model.probes import COMPARE_OPS, CompareOp, Condition, JsonScalar, Subject

_SUBJECTS: dict[str, Subject] = {
    "[STATUS]": "status",
    "[RESPONSE_TIME]": "response_time",
    "[BODY]": "body",
}
_MISSING = object()


def parse_condition(text: str) -> Condition:
    """``"[BODY].status == UP"`` → ``Condition``; ``ValueError`` with a one-line reason."""
    for op in COMPARE_OPS:
        left, sep, right = text.partition(f" {op} ")
        if sep:
            return _build(left.strip(), op, right.strip(), text.strip())
    raise ValueError(f"condition {text!r} must look like SUBJECT OP VALUE, with OP one of "
                     f"{' '.join(COMPARE_OPS)} between spaces")


def _build(left: str, op: CompareOp, right: str, text: str) -> Condition:
    head, dot, rest = left.partition(".")
    subject = _SUBJECTS.get(head)
    if subject is None:
        raise ValueError(f"condition {text!r}: subject must be [STATUS], [RESPONSE_TIME], "
                         f"[BODY] or [BODY].path")
    path = tuple(rest.split(".")) if dot else ()
    if path and (subject != "body" or not all(path)):
        raise ValueError(f"condition {text!r}: only [BODY] takes a dotted path, without "
                         f"empty parts")
    if not right:
        raise ValueError(f"condition {text!r}: missing value")
    value = _literal(right)
    if op not in ("==", "!=") and not _is_number(value):
        raise ValueError(f"condition {text!r}: {op} needs a number")
    if subject != "body" and not _is_number(value):
        raise ValueError(f"condition {text!r}: {head} is a number")
    return Condition(subject, path, op, value, text)


def _literal(text: str) -> JsonScalar:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    if text in ("true", "false", "null"):
        return {"true": True, "false": False, "null": None}[text]
    try:
        number = float(text)
    except ValueError:
        return text
    if not math.isfinite(number):
        return text
    return int(number) if number.is_integer() and "." not in text else number


def _is_number(value: object) -> bool:
    return type(value) in (int, float)


def parse_body(body: bytes) -> Any:
    """The body as JSON, or ``_MISSING`` when it is not JSON (conditions on it then fail)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return _MISSING


def _lookup(body: Any, path: tuple[str, ...]) -> Any:
    value = body
    for part in path:
        if isinstance(value, dict):
            value = value.get(part, _MISSING)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
        if value is _MISSING:
            break
    return value


def _compare(actual: Any, op: CompareOp, expected: JsonScalar) -> bool:
    if op in ("==", "!="):
        if _is_number(actual) and _is_number(expected):
            equal = float(actual) == float(expected)  # type: ignore[arg-type]
        else:
            equal = type(actual) is type(expected) and actual == expected
        return equal if op == "==" else not equal
    if not (_is_number(actual) and _is_number(expected)):
        return False
    a, e = float(actual), float(expected)  # type: ignore[arg-type]
    return {"<": a < e, "<=": a <= e, ">": a > e, ">=": a >= e}[op]


def evaluate(condition: Condition, status: int, response_ms: float, body: Any) -> str | None:
    """None when the condition holds, else the reason (``body`` from :func:`parse_body`)."""
    if condition.subject == "status":
        actual: Any = status
    elif condition.subject == "response_time":
        actual = round(response_ms, 1)
    elif body is _MISSING:
        return f"condition {condition.text} failed: body is not JSON"
    else:
        actual = _lookup(body, condition.path)
        if actual is _MISSING:
            return f"condition {condition.text} failed: {'.'.join(condition.path)} not in body"
    if _compare(actual, condition.op, condition.value):
        return None
    shown = orjson.dumps(actual).decode()[:80]
    return f"condition {condition.text} failed: got {shown}"
