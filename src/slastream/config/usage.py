"""Validation of a contract's ``usage`` mapping (request allowance) into ``UsageTerms``.

Every problem is reported through ``fail(key, what)`` with the full key (such as
``contracts[0].usage.bands.A.per_minute``), and checking goes on, so a config check lists
all problems at once. A band named as in the EVRYTHNG table (Trial, F, U, A, B) takes the
table's figures unless the mapping gives its own::

    usage:
      component: api
      bands:
        A: {clients: ["thng-a-*"]}
        F: {per_minute: 0.4, transfer_mb_per_1000: 512, clients: ["thng-f-*"]}
      mapping_file: adis.csv        # rows "client,band"; wins over the patterns
      intensive: {max_per_second: 1, max_minutes: 10}
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from slastream.config.checker import existing_file
from slastream.model.usage import EVRYTHNG_BANDS, MAX_BANDS, Band, BandLimits, Intensive, UsageTerms

Fail = Callable[[str, str], None]

_USAGE_KEYS = {"bands", "mapping_file", "component", "intensive", "top"}
_BAND_KEYS = {"per_minute", "transfer_mb_per_1000", "clients"}
_INTENSIVE_KEYS = {"max_per_second", "max_minutes"}


def _unknown(raw: dict[str, Any], path: str, allowed: set[str], fail: Fail) -> None:
    for key in raw:
        if key not in allowed:
            fail(f"{path}.{key}", "unknown key")


def _positive(raw: Any, key: str, fail: Fail) -> float | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not raw > 0:
        fail(key, f"must be a number above zero; got {raw!r}")
        return None
    return float(raw)


def _patterns(raw: Any, key: str, fail: Fail) -> tuple[str, ...] | None:
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(p, str) and p for p in raw):
        fail(key, "must be a list of client id patterns such as 'thng-a-*'")
        return None
    return tuple(raw)


def _band(name: str, raw: Any, path: str, fail: Fail) -> Band | None:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        fail(path, "must be a mapping with per_minute, transfer_mb_per_1000, clients")
        return None
    _unknown(raw, path, _BAND_KEYS, fail)
    known = EVRYTHNG_BANDS.get(name)
    per_minute = raw.get("per_minute", known.per_minute if known else None)
    if per_minute is None:
        fail(f"{path}.per_minute", "is required for a band not in the EVRYTHNG table")
        return None
    allowance = _positive(per_minute, f"{path}.per_minute", fail)
    transfer: float | None = known.transfer_mb_per_1000 if known else None
    if raw.get("transfer_mb_per_1000") is not None:
        transfer = _positive(raw["transfer_mb_per_1000"], f"{path}.transfer_mb_per_1000", fail)
        if transfer is None:
            return None
    clients = _patterns(raw.get("clients"), f"{path}.clients", fail)
    if allowance is None or clients is None:
        return None
    return Band(name, BandLimits(allowance, transfer), clients)


def _intensive(raw: Any, path: str, fail: Fail) -> Intensive | None:
    if raw is None:
        return Intensive()
    if not isinstance(raw, dict):
        fail(path, "must be a mapping with max_per_second and max_minutes")
        return None
    _unknown(raw, path, _INTENSIVE_KEYS, fail)
    rate = _positive(raw.get("max_per_second", 1.0), f"{path}.max_per_second", fail)
    minutes = _positive(raw.get("max_minutes", 10.0), f"{path}.max_minutes", fail)
    if rate is None or minutes is None:
        return None
    return Intensive(rate, minutes)



def parse_usage(raw: Any, path: str, fail: Fail, base_dir: Path | None = None
                ) -> UsageTerms | None:
    """A contract's ``usage`` mapping → ``UsageTerms``; ``None`` (after ``fail``) if bad.

    ``path`` is the key of the mapping itself, e.g. ``contracts[0].usage``; ``base_dir``,
    when given, is the config file's directory: the mapping file must exist there.
    """
    found: list[str] = []

    def report(key: str, what: str) -> None:
        found.append(key)
        fail(key, what)

    if not isinstance(raw, dict):
        report(path, "must be a mapping with bands")
        return None
    _unknown(raw, path, _USAGE_KEYS, report)
    bands_raw = raw.get("bands")
    if not isinstance(bands_raw, dict) or not bands_raw:
        report(f"{path}.bands", "must be a non-empty mapping of band names")
        bands_raw = {}
    if len(bands_raw) > MAX_BANDS:
        report(f"{path}.bands", f"at most {MAX_BANDS} bands")
    bands = [_band(str(name), value, f"{path}.bands.{name}", report)
             for name, value in bands_raw.items()]
    mapping = existing_file(raw.get("mapping_file"), f"{path}.mapping_file", base_dir, report)
    if (bands_raw and None not in bands and raw.get("mapping_file") is None
            and not any(b is not None and b.clients for b in bands)):
        report(f"{path}.bands", "no band has clients and there is no mapping_file: "
                                "no request could be given a band")
    component = raw.get("component")
    if component is not None and (not isinstance(component, str) or not component):
        report(f"{path}.component", f"must be a component name; got {component!r}")
    top = raw.get("top", 10)
    if isinstance(top, bool) or not isinstance(top, int) or top < 0:
        report(f"{path}.top", f"must be a whole number >= 0; got {top!r}")
    intensive = _intensive(raw.get("intensive"), f"{path}.intensive", report)
    if found or intensive is None:
        return None
    return UsageTerms(
        tuple(b for b in bands if b is not None),
        mapping,
        component if isinstance(component, str) else None,
        intensive,
        top,
    )


def usage_syntax(terms: UsageTerms) -> dict[str, Any]:
    """The ``usage`` mapping a config file writes for ``terms`` (``parse_usage`` of it gives
    ``terms`` back, the mapping file as the path it was resolved to)."""
    bands: dict[str, Any] = {}
    for band in terms.bands:
        entry: dict[str, Any] = {"per_minute": band.limits.per_minute,
                                 "transfer_mb_per_1000": band.limits.transfer_mb_per_1000}
        if band.clients:
            entry["clients"] = list(band.clients)
        bands[band.name] = entry
    out: dict[str, Any] = {"bands": bands, "top": terms.top,
                           "intensive": {"max_per_second": terms.intensive.max_per_second,
                                         "max_minutes": terms.intensive.max_minutes}}
    if terms.component is not None:
        out["component"] = terms.component
    if terms.mapping_file is not None:
        out["mapping_file"] = terms.mapping_file
    return out
