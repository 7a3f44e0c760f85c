"""The one validated settings object, built from a YAML file at the entry point.

Every problem is reported as one line ``FILE: KEY: what is wrong`` and all problems are
collected before failing, so ``slastream check`` can list them at once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from slastream.errors import ConfigError, Rejected
from slastream.model import spec
from slastream.model.events import EXCLUSION_KINDS, Event, Exclusion
from slastream.model.spec import (
    DEFAULT_TOPICS,
    SLI_KINDS,
    SLO,
    Contract,
    Credit,
    CreditTier,
    DowntimeRule,
    ExclusionPolicy,
    HttpSettings,
    KafkaSettings,
    LoRaWAN,
    MqttSettings,
    Settings,
)
from slastream.sources.canonical import decode_exclusion

_L = TypeVar("_L", bound=str)

# --------------------------------------------------------------------------- validation


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def fail(self, key: str, what: str) -> None:
        self.problems.append(f"{self.source}: {key}: {what}")

    def mapping(self, value: Any, key: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(key, f"must be a mapping, got {type(value).__name__}")
            return {}
        return value

    def unknown(self, data: dict[str, Any], key: str, allowed: set[str]) -> None:
        for k in data:
            if k not in allowed:
                self.fail(f"{key}.{k}" if key else str(k), "unknown key")

    def num(
        self, data: dict[str, Any], key: str, path: str, default: float | None,
        lo: float | None = None, hi: float | None = None, integer: bool = False,
    ) -> float | None:
        value = data.get(key, default)
        if value is None:
            return None
        full = f"{path}.{key}" if path else key
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(full, f"must be a number, got {value!r}")
            return default
        if integer and not float(value).is_integer():
            self.fail(full, f"must be a whole number, got {value!r}")
            return default
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            rng = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
            self.fail(full, f"must be {rng}, got {value!r}")
            return default
        return value

    def text(self, data: dict[str, Any], key: str, path: str, default: str | None,
             choices: tuple[str, ...] | None = None) -> str | None:
        if key not in data:
            return default
        value = data[key]
        if value is None:
            return None
        full = f"{path}.{key}" if path else key
        if not isinstance(value, str) or not value:
            self.fail(full, f"must be a non-empty string, got {value!r}")
            return default
        if choices and value not in choices:
            self.fail(full, f"must be one of {', '.join(choices)}; got {value!r}")
            return default
        return value

    def choice(self, data: dict[str, Any], key: str, path: str, default: _L,
               choices: tuple[_L, ...]) -> _L:
        """One of ``choices`` (the values of a ``Literal`` kind), or ``default``."""
        value = self.text(data, key, path, default, choices)
        return next((c for c in choices if c == value), default)

    def flag(self, data: dict[str, Any], key: str, path: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.fail(f"{path}.{key}" if path else key, f"must be true or false, got {value!r}")
            return default
        return value


def _downtime(c: _Checker, raw: Any, path: str, sli: str) -> DowntimeRule:
    d = c.mapping(raw, path)
    c.unknown(d, path, {"bad_below", "bad_above_ms", "window_s", "min_events",
                        "min_duration_s", "no_data"})
    default_above = None
    return DowntimeRule(
        bad_below=float(c.num(d, "bad_below", path, 1.0, 0.0, 1.0) or 0.0),
        bad_above_ms=c.num(d, "bad_above_ms", path, default_above, 0.0),
        window_s=int(c.num(d, "window_s", path, 60, 60, 31 * 86400, integer=True) or 60),
        min_events=int(c.num(d, "min_events", path, 1, 1, integer=True) or 1),
        min_duration_s=int(c.num(d, "min_duration_s", path, 60, 60, integer=True) or 60),
        no_data=c.choice(d, "no_data", path, "ignore", get_args(spec.NoDataRule)),
    )


_SLO_KEYS = {"name", "sli", "objective", "downtime", "component", "description", "deadline_s",
             "scope_by", "source", "rx1_delay_s", "missing_ack", "ack_timeout_s", "target_ms",
             "block_requests", "alerting"}


def _slo(c: _Checker, raw: Any, i: int) -> SLO | None:
    path = f"slos[{i}]"
    d = c.mapping(raw, path)
    if not d:
        c.fail(path, "must be a mapping with at least name and sli")
        return None
    c.unknown(d, path, _SLO_KEYS)
    name = c.text(d, "name", path, None)
    if name is None:
        c.fail(f"{path}.name", "is required")
    sli = d.get("sli")
    if sli not in SLI_KINDS:
        c.fail(f"{path}.sli", f"unknown SLI kind {sli!r}; known: {', '.join(SLI_KINDS)}")
        return None
    objective = c.num(d, "objective", path, None, 0.0, 1.0)
    if objective is not None and not 0.0 < objective < 1.0:
        c.fail(f"{path}.objective", f"must be a ratio strictly between 0 and 1, got {objective!r}")
    if "objective" not in d and sli != "response_time":
        c.fail(f"{path}.objective", "is required for this SLI (a ratio like 0.999)")
    component = c.text(d, "component", path, None)
    if sli in ("probe", "response_time") and "component" not in d:
        c.fail(f"{path}.component", f"is required for sli {sli}")
    target = c.num(d, "target_ms", path, None, 0.0)
    if sli == "response_time" and "target_ms" not in d:
        c.fail(f"{path}.target_ms", "is required for sli response_time")
    downtime = _downtime(c, d.get("downtime"), f"{path}.downtime", sli)
    if sli == "response_time" and downtime.bad_above_ms is None and target is not None:
        downtime = replace(downtime, bad_above_ms=target)
    alerting = c.mapping(d.get("alerting"), f"{path}.alerting")
    return SLO(
        name=name or f"slo-{i}", sli=sli, objective=objective, downtime=downtime,
        component=component, description=c.text(d, "description", path, "") or "",
        deadline_s=float(c.num(d, "deadline_s", path, 30.0, 0.1, 3600) or 30.0),
        scope_by=c.choice(d, "scope_by", path, "network", get_args(spec.ScopeBy)),
        source=c.choice(d, "source", path, "gateway", get_args(spec.Rx2Source)),
        rx1_delay_s=float(c.num(d, "rx1_delay_s", path, 1.0, 1.0, 15.0) or 1.0),
        missing_ack=c.choice(d, "missing_ack", path, "miss", get_args(spec.MissingAck)),
        ack_timeout_s=float(c.num(d, "ack_timeout_s", path, 10.0, 1.0, 600.0) or 10.0),
        target_ms=target,
        block_requests=int(c.num(d, "block_requests", path, 1000, 1, integer=True) or 1000),
        alerting=alerting,
    )


def _credit(c: _Checker, raw: Any, path: str) -> Credit:
    d = c.mapping(raw, path)
    if not d:
        return Credit(kind="none")
    c.unknown(d, path, {"kind", "tiers", "basis", "uptime_slo", "response_slo", "target_uptime"})
    kind = c.choice(d, "kind", path, "tiers", get_args(spec.CreditKind))
    tiers: list[CreditTier] = []
    raw_tiers = d.get("tiers", [])
    if not isinstance(raw_tiers, list):
        c.fail(f"{path}.tiers", "must be a list")
        raw_tiers = []
    for j, t in enumerate(raw_tiers):
        tp = f"{path}.tiers[{j}]"
        td = c.mapping(t, tp)
        c.unknown(td, tp, {"over_minutes", "credit"})
        over = c.num(td, "over_minutes", tp, None, 0.0)
        credit = c.num(td, "credit", tp, None, 0.0, 1.0)
        if over is None or credit is None:
            c.fail(tp, "needs over_minutes and credit (a ratio of the fee)")
            continue
        tiers.append(CreditTier(float(over), float(credit)))
    if kind == "tiers" and not tiers:
        c.fail(f"{path}.tiers", "is required for kind tiers")
    if [t.over_minutes for t in tiers] != sorted(t.over_minutes for t in tiers):
        c.fail(f"{path}.tiers", "must be sorted by over_minutes")
    return Credit(
        kind=kind, tiers=tuple(tiers),
        basis=c.choice(d, "basis", path, "max_downtime", get_args(spec.CreditBasis)),
        uptime_slo=c.text(d, "uptime_slo", path, None),
        response_slo=c.text(d, "response_slo", path, None),
        target_uptime=float(c.num(d, "target_uptime", path, 0.999, 0.0, 1.0) or 0.999),
    )


def _contract(c: _Checker, raw: Any, i: int, slo_names: set[str]) -> Contract | None:
    path = f"contracts[{i}]"
    d = c.mapping(raw, path)
    c.unknown(d, path, {"name", "slos", "objective", "combine", "credit"})
    name = c.text(d, "name", path, None)
    if name is None:
        c.fail(f"{path}.name", "is required")
    slos = d.get("slos", [])
    if not isinstance(slos, list) or not slos or not all(isinstance(s, str) for s in slos):
        c.fail(f"{path}.slos", "must be a non-empty list of SLO names")
        slos = []
    for s in slos:
        if s not in slo_names:
            c.fail(f"{path}.slos", f"unknown SLO {s!r}")
    credit = _credit(c, d.get("credit"), f"{path}.credit")
    for key in ("uptime_slo", "response_slo"):
        ref = getattr(credit, key)
        if credit.kind == "evrythng" and ref not in slo_names:
            c.fail(f"{path}.credit.{key}", f"must name an SLO of this file, got {ref!r}")
    return Contract(
        name=name or f"contract-{i}", slos=tuple(slos),
        objective=c.num(d, "objective", path, None, 0.0, 1.0),
        combine=c.choice(d, "combine", path, "min", get_args(spec.Combine)),
        credit=credit,
    )


def _policies(c: _Checker, raw: Any) -> dict[str, ExclusionPolicy]:
    d = c.mapping(raw, "exclusion_policy")
    out: dict[str, ExclusionPolicy] = {}
    for kind, raw_policy in d.items():
        path = f"exclusion_policy.{kind}"
        if kind not in EXCLUSION_KINDS:
            c.fail(path, f"unknown exclusion kind; known: {', '.join(EXCLUSION_KINDS)}")
            continue
        s = c.mapping(raw_policy, path)
        c.unknown(s, path, {"excused", "notice_s", "cap_minutes", "evidence_required"})
        out[kind] = ExclusionPolicy(
            excused=c.flag(s, "excused", path, True),
            notice_s=int(c.num(s, "notice_s", path, 0, 0, integer=True) or 0),
            cap_minutes=c.num(s, "cap_minutes", path, None, 0.0),
            evidence_required=c.flag(s, "evidence_required", path, False),
        )
    return out


def _prefixes(c: _Checker, raw: Any) -> tuple[tuple[int, int], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        c.fail("lorawan.devaddr_prefixes", "must be a list like ['26000000/7']")
        return ()
    out = []
    for j, p in enumerate(raw):
        try:
            addr, bits = str(p).split("/")
            value, nbits = int(addr, 16), int(bits)
            if not (0 <= value < 2**32 and 1 <= nbits <= 32):
                raise ValueError
            out.append((value, nbits))
        except ValueError:
            c.fail(f"lorawan.devaddr_prefixes[{j}]",
                   f"must be HEX8/BITS like 26000000/7, got {p!r}")
    return tuple(out)


def _plain_times(item: dict[str, Any]) -> dict[str, Any]:
    """YAML reads an unquoted timestamp as a datetime: turn it back into RFC 3339."""
    out = {}
    for key, value in item.items():
        if isinstance(value, datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            value = value.isoformat()
        out[key] = value
    return out


def _exclusions(c: _Checker, raw: list[dict[str, Any]]) -> tuple[Exclusion, ...]:
    """Declared exclusions use the fields of the ``slastream/exclusion`` message."""
    out: list[Event] = []
    for i, item in enumerate(raw):
        try:
            decode_exclusion(["slastream", "exclusion"], item, 0, out)
        except Rejected as exc:
            c.fail(f"exclusions[{i}]", exc.reason)
    return tuple(e for e in out if isinstance(e, Exclusion))


def parse_settings(data: Any, source: str = "<config>") -> Settings:
    """Validate a parsed YAML document. Raises ``ConfigError`` listing every problem."""
    c = _Checker(source)
    if not isinstance(data, dict):
        raise ConfigError([f"{source}: (top level): must be a mapping, got {type(data).__name__}"])
    c.unknown(data, "", {"timezone", "lateness_s", "slos", "contracts", "exclusion_policy",
                         "exclusions", "lorawan", "mqtt", "kafka", "http"})
    tz = c.text(data, "timezone", "", "UTC") or "UTC"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        c.fail("timezone", f"unknown IANA time zone {tz!r}")
        tz = "UTC"
    raw_slos = data.get("slos")
    if not isinstance(raw_slos, list) or not raw_slos:
        c.fail("slos", "must be a non-empty list")
        raw_slos = []
    slos = [s for i, r in enumerate(raw_slos) if (s := _slo(c, r, i)) is not None]
    names = [s.name for s in slos]
    for n in sorted({n for n in names if names.count(n) > 1}):
        c.fail("slos", f"duplicate SLO name {n!r}")
    raw_contracts = data.get("contracts", [])
    if not isinstance(raw_contracts, list):
        c.fail("contracts", "must be a list")
        raw_contracts = []
    contracts = [k for i, r in enumerate(raw_contracts)
                 if (k := _contract(c, r, i, set(names))) is not None]
    raw_excl = data.get("exclusions", [])
    if not isinstance(raw_excl, list) or not all(isinstance(e, dict) for e in raw_excl):
        c.fail("exclusions", "must be a list of exclusion mappings")
        raw_excl = []
    exclusions = _exclusions(c, [_plain_times(e) for e in raw_excl])
    lw = c.mapping(data.get("lorawan"), "lorawan")
    c.unknown(lw, "lorawan", {"devaddr_prefixes", "count_mac_only"})
    mq = c.mapping(data.get("mqtt"), "mqtt")
    c.unknown(mq, "mqtt", {"url", "topics", "shared_group", "qos", "client_id", "queue_size"})
    topics = mq.get("topics", list(DEFAULT_TOPICS))
    if not isinstance(topics, list) or not all(isinstance(t, str) and t for t in topics):
        c.fail("mqtt.topics", "must be a list of topic filters")
        topics = list(DEFAULT_TOPICS)
    ka = c.mapping(data.get("kafka"), "kafka")
    c.unknown(ka, "kafka", {"bootstrap", "topic_prefix", "partitions", "app_id"})
    ht = c.mapping(data.get("http"), "http")
    c.unknown(ht, "http", {"host", "port"})
    settings = Settings(
        source=source,
        timezone=tz,
        lateness_s=int(c.num(data, "lateness_s", "", 120, 0, 86400, integer=True) or 0),
        slos=tuple(slos),
        contracts=tuple(contracts),
        exclusion_policy=_policies(c, data.get("exclusion_policy")),
        exclusions=exclusions,
        lorawan=LoRaWAN(
            devaddr_prefixes=_prefixes(c, lw.get("devaddr_prefixes")),
            count_mac_only=c.flag(lw, "count_mac_only", "lorawan", True),
        ),
        mqtt=MqttSettings(
            url=c.text(mq, "url", "mqtt", MqttSettings.url) or MqttSettings.url,
            topics=tuple(topics),
            shared_group=c.text(mq, "shared_group", "mqtt", None),
            qos=int(c.num(mq, "qos", "mqtt", 1, 0, 2, integer=True) or 0),
            client_id=c.text(mq, "client_id", "mqtt", "slastream-bridge") or "slastream-bridge",
            queue_size=int(c.num(mq, "queue_size", "mqtt", 100_000, 1, integer=True) or 1),
        ),
        kafka=KafkaSettings(
            bootstrap=c.text(ka, "bootstrap", "kafka", KafkaSettings.bootstrap)
            or KafkaSettings.bootstrap,
            topic_prefix=c.text(ka, "topic_prefix", "kafka", "slastream") or "slastream",
            partitions=int(c.num(ka, "partitions", "kafka", 4, 1, 1024, integer=True) or 4),
            app_id=c.text(ka, "app_id", "kafka", "slastream") or "slastream",
        ),
        http=HttpSettings(
            host=c.text(ht, "host", "http", "127.0.0.1") or "127.0.0.1",
            port=int(c.num(ht, "port", "http", 9464, 0, 65535, integer=True) or 0),
        ),
    )
    if c.problems:
        raise ConfigError(c.problems)
    return settings


def load_settings(path: str | Path) -> Settings:
    """Read and validate a YAML config file. Raises ``ConfigError``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{p}: (file): not found"]) from None
    except OSError as exc:
        raise ConfigError([f"{p}: (file): cannot read: {exc.strerror}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(yaml)"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError([f"{p}: {where}: invalid YAML: {problem}"]) from None
    return parse_settings(data, str(p))
