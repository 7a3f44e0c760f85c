"""The inverse of :func:`slastream.model.ledger.ledger_json`: the interface's JSON back into a
typed :class:`~slastream.model.ledger.Ledger` (docs/interfaces.md#ledger-json).

Used where a ledger arrives as JSON (``GET /api/ledger`` of a running worker). Fields the
typed ledger has no place for are ignored here, and so are the contracts' ``support`` and
``usage`` sections (typed only where they are computed); a reader that needs them reads
the JSON.
A document that is not a ledger raises ``ValueError`` with one line naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

from slastream.model.ledger import (
    Blocks,
    ContractEntry,
    Counts,
    Episode,
    EventCounts,
    ExclusionEntry,
    Inputs,
    Ledger,
    Period,
    ResponseTime,
    SLOEntry,
)
from slastream.model.spec import Combine, SliKind
from slastream.model.time import parse_rfc3339_ms

_SLI_KINDS: tuple[str, ...] = get_args(SliKind)
_COMBINE: tuple[str, ...] = get_args(Combine)


def ledger_from_json(doc: Any) -> Ledger:
    """A typed ledger from the interface's JSON value; ``ValueError`` if it is not one."""
    d = _obj(doc, "ledger")
    p = _obj(d.get("period"), "period")
    start = _time(p, "start", "period")
    period = Period(start, _time(p, "end", "period"), _str(p, "timezone", "period"),
                    _int(p, "minutes", "period"),
                    _time(p, "as_of", "period") if "as_of" in p else _time(p, "end", "period"))
    return Ledger(
        period,
        tuple(_slo(x, i) for i, x in enumerate(_list(d, "slos", "ledger"))),
        tuple(_contract(x, i) for i, x in enumerate(_list(d, "contracts", "ledger"))),
        tuple(_exclusion(x, i) for i, x in enumerate(d.get("exclusions") or [])),
        _inputs(d.get("inputs") or {}),
    )


# ------------------------------------------------------------------------- entries
def _episode(x: Any, where: str) -> Episode:
    e = _obj(x, where)
    return Episode(_time(e, "start", where), _time(e, "end", where),
                   _num(e, "minutes", where), _bool(e, "excused", where),
                   _str(e, "reason", where), bool(e.get("open", False)))


def _slo(x: Any, i: int) -> SLOEntry:
    where = f"slos[{i}]"
    e = _obj(x, where)
    sli = _str(e, "sli", where)
    if sli not in _SLI_KINDS:
        raise ValueError(f"{where}.sli: unknown SLI {sli!r}")
    events = _obj(e.get("events") or {"good": 0, "total": 0}, f"{where}.events")
    return SLOEntry(
        _str(e, "name", where), sli, _str(e, "scope", where),  # type: ignore[arg-type]
        _opt_num(e, "objective", where), _int(e, "total_minutes", where),
        _num(e, "excused_minutes", where), _num(e, "downtime_minutes", where),
        _num(e, "availability", where), _opt_bool(e, "met", where),
        _opt_num(e, "error_budget_remaining", where), _opt_num(e, "sli_value", where),
        tuple(_episode(ep, f"{where}.episodes[{j}]")
              for j, ep in enumerate(_list(e, "episodes", where))),
        int(e.get("no_data_minutes") or 0),
        EventCounts(_int(events, "good", where), _int(events, "total", where)),
        _response_time(e, where),
        float(e.get("coverage", 1.0)), float(e.get("min_coverage", 0.0)),
    )


def _response_time(e: Mapping[str, Any], where: str) -> ResponseTime | None:
    if "blocks" not in e:
        return None
    b = _obj(e["blocks"], f"{where}.blocks")
    return ResponseTime(_opt_num(e, "target_ms", where), Blocks(
        _int(b, "size", where), _int(b, "count", where), _int(b, "over_target", where),
        _opt_num(b, "worst_mean_ms", where)))


def _contract(x: Any, i: int) -> ContractEntry:
    where = f"contracts[{i}]"
    c = _obj(x, where)
    combine = str(c.get("combine", "min"))
    if combine not in _COMBINE:
        raise ValueError(f"{where}.combine: unknown {combine!r}")
    return ContractEntry(
        _str(c, "name", where), _num(c, "availability", where),
        combine,  # type: ignore[arg-type]
        _opt_num(c, "objective", where), _opt_bool(c, "met", where),
        _opt_num(c, "credit", where), _str(c, "credit_basis", where),
        tuple(str(s) for s in c.get("slos") or ()), float(c.get("coverage", 1.0)),
        _time(c, "claim_deadline", where) if c.get("claim_deadline") else None,
        tenant=_opt_str(c, "tenant"), monthly_fee=_opt_num(c, "monthly_fee", where),
        credit_amount=_opt_num(c, "credit_amount", where), timezone=_opt_str(c, "timezone"))


def _opt_str(c: Mapping[str, Any], key: str) -> str | None:
    value = c.get(key)
    return None if value is None else str(value)


def _exclusion(x: Any, i: int) -> ExclusionEntry:
    where = f"exclusions[{i}]"
    e = _obj(x, where)
    return ExclusionEntry(_str(e, "id", where), _str(e, "kind", where), _str(e, "scope", where),
                          _time(e, "start", where), _time(e, "end", where),
                          _bool(e, "accepted", where), _str(e, "reason", where))


def _counts(x: Any, where: str) -> Counts | None:
    if x is None:
        return None
    return tuple((str(k), int(v)) for k, v in _obj(x, where).items())


def _inputs(x: Any) -> Inputs:
    i = _obj(x, "inputs")
    partitions = i.get("partitions")
    return Inputs(int(i.get("messages", 0)), int(i.get("rejected", 0)), int(i.get("late", 0)),
                  int(i.get("ignored", 0)),
                  _counts(i.get("rejected_reasons"), "inputs.rejected_reasons"),
                  _counts(i.get("lorawan"), "inputs.lorawan"),
                  None if partitions is None else int(partitions),
                  _counts(i.get("ignored_reasons"), "inputs.ignored_reasons"))


# -------------------------------------------------------------------------- fields
def _obj(x: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(x, Mapping):
        raise ValueError(f"{where}: expected an object")
    return x


def _list(d: Mapping[str, Any], key: str, where: str) -> list[Any]:
    x = d.get(key)
    if not isinstance(x, list):
        raise ValueError(f"{where}.{key}: expected a list")
    return x


def _str(d: Mapping[str, Any], key: str, where: str) -> str:
    x = d.get(key)
    if not isinstance(x, str):
        raise ValueError(f"{where}.{key}: expected a string")
    return x


def _num(d: Mapping[str, Any], key: str, where: str) -> float:
    x = d.get(key)
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise ValueError(f"{where}.{key}: expected a number")
    return float(x)


def _opt_num(d: Mapping[str, Any], key: str, where: str) -> float | None:
    return None if d.get(key) is None else _num(d, key, where)


def _int(d: Mapping[str, Any], key: str, where: str) -> int:
    return int(_num(d, key, where))


def _opt_bool(d: Mapping[str, Any], key: str, where: str) -> bool | None:
    """``met``: null where the evidence is too thin to judge."""
    return None if d.get(key) is None else _bool(d, key, where)


def _bool(d: Mapping[str, Any], key: str, where: str) -> bool:
    x = d.get(key)
    if not isinstance(x, bool):
        raise ValueError(f"{where}.{key}: expected true or false")
    return x


def _time(d: Mapping[str, Any], key: str, where: str) -> int:
    try:
        return parse_rfc3339_ms(_str(d, key, where))
    except ValueError:
        raise ValueError(f"{where}.{key}: expected an RFC 3339 time") from None
