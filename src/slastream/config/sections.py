"""The smaller sections of a config file: time zone, exclusions and their policy, LoRaWAN,
MQTT, Kafka and HTTP settings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slastream.config import maintenance, security
from slastream.config.checker import Checker
from slastream.config.tenants import devaddr_ranges
from slastream.errors import Rejected
from slastream.model.events import EXCLUSION_KINDS, Event, Exclusion
from slastream.model.spec import (
    DEFAULT_MAX_PACKET_BYTES,
    DEFAULT_TOPICS,
    HTTP_AREAS,
    OTHER_REGION,
    ExclusionPolicy,
    HttpArea,
    HttpSettings,
    KafkaSettings,
    LoRaWAN,
    MqttSettings,
)
from slastream.sources.canonical import decode_exclusion
from slastream.sources.topics import SOURCE_KINDS, Layouts, TemplateError, compile_template


def timezone(c: Checker, data: dict[str, Any]) -> str:
    """The IANA time zone calendar months are cut in."""
    tz = c.text(data, "timezone", "", "UTC") or "UTC"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        c.fail("timezone", f"unknown IANA time zone {tz!r}")
        tz = "UTC"
    return tz


def policies(c: Checker, raw: Any) -> dict[str, ExclusionPolicy]:
    """``exclusion_policy``: per exclusion kind, whether and how it excuses downtime, and the
    maintenance calendar it must keep to (``config/maintenance.py``)."""
    d = c.mapping(raw, "exclusion_policy")
    out: dict[str, ExclusionPolicy] = {}
    for kind, raw_policy in d.items():
        path = f"exclusion_policy.{kind}"
        if kind not in EXCLUSION_KINDS:
            c.fail(path, f"unknown exclusion kind; known: {', '.join(EXCLUSION_KINDS)}")
            continue
        s = c.mapping(raw_policy, path)
        c.unknown(s, path, {"excused", "notice_s", "cap_minutes", "evidence_required",
                            "windows", "blackouts"})
        out[kind] = ExclusionPolicy(
            excused=c.flag(s, "excused", path, True),
            notice_s=int(c.num(s, "notice_s", path, 0, 0, integer=True) or 0),
            cap_minutes=c.num(s, "cap_minutes", path, None, 0.0),
            evidence_required=c.flag(s, "evidence_required", path, False),
            windows=maintenance.windows(c, s.get("windows"), f"{path}.windows"),
            blackouts=maintenance.blackouts(c, s.get("blackouts"), f"{path}.blackouts"),
        )
    return out


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


def exclusions(c: Checker, raw: Any) -> tuple[Exclusion, ...]:
    """Declared exclusions use the fields of the ``slastream/exclusion`` message."""
    if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
        c.fail("exclusions", "must be a list of exclusion mappings")
        raw = []
    out: list[Event] = []
    for i, item in enumerate(raw):
        try:
            decode_exclusion(["slastream", "exclusion"], _plain_times(item), 0, out)
        except Rejected as exc:
            c.fail(f"exclusions[{i}]", exc.reason)
    return tuple(e for e in out if isinstance(e, Exclusion))


def _prefixes(c: Checker, raw: Any) -> tuple[tuple[int, int], ...]:
    return devaddr_ranges(c, raw, "lorawan.devaddr_prefixes")


def _class_b_c(c: Checker, raw: Any) -> tuple[str, ...]:
    """Patterns of device ids, or of ``{application}/{device}`` (one ``/``, both sides
    named)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        c.fail("lorawan.class_b_c", "must be a list like ['app-streetlights/*', 'eui-70b3*']")
        return ()
    out = []
    for j, p in enumerate(raw):
        parts = p.split("/") if isinstance(p, str) else []
        if not parts or len(parts) > 2 or not all(parts) or any(ch.isspace() for ch in p):
            c.fail(f"lorawan.class_b_c[{j}]",
                   f"must be a device id pattern or 'application/device' pattern, got {p!r}")
            continue
        out.append(p)
    return tuple(out)


def lorawan(c: Checker, raw: Any) -> LoRaWAN:
    """``lorawan``: which DevAddrs are ours, whether MAC-only uplinks count, and which
    devices are Class B/C."""
    lw = c.mapping(raw, "lorawan")
    c.unknown(lw, "lorawan", {"devaddr_prefixes", "count_mac_only", "class_b_c", "regions"})
    return LoRaWAN(
        devaddr_prefixes=_prefixes(c, lw.get("devaddr_prefixes")),
        count_mac_only=c.flag(lw, "count_mac_only", "lorawan", True),
        class_b_c=_class_b_c(c, lw.get("class_b_c")),
        regions=_regions(c, lw.get("regions")),
    )


def _regions(c: Checker, raw: Any) -> tuple[str, ...]:
    """Region names, the scopes of SLOs scoped by region (``other`` is the rest)."""
    if raw is None:
        return ()
    if (not isinstance(raw, list) or not all(isinstance(r, str) and r for r in raw)
            or OTHER_REGION in raw or len(set(raw)) != len(raw) or len(raw) > 254):
        c.fail("lorawan.regions", "must be a list of distinct region names like "
               f"['eu868', 'us915'] (not {OTHER_REGION!r}, at most 254)")
        return ()
    return tuple(raw)


def topic_layouts(c: Checker, raw: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``topic_layouts``: templates per network-server source (``sources/topics.py``)."""
    d = c.mapping(raw, "topic_layouts")
    out = []
    for source, templates in d.items():
        path = f"topic_layouts.{source}"
        if source not in SOURCE_KINDS:
            c.fail(path, f"unknown source; known: {', '.join(SOURCE_KINDS)}")
            continue
        if not isinstance(templates, list) or not templates:
            c.fail(path, "must be a non-empty list of topic templates")
            continue
        for i, text in enumerate(templates):
            try:
                compile_template(source, text if isinstance(text, str) else "")
            except TemplateError as exc:
                c.fail(f"{path}[{i}]", f"{exc} (got {text!r})")
        out.append((source, tuple(str(t) for t in templates)))
    return tuple(out)


def mqtt(c: Checker, raw: Any,
         layouts: tuple[tuple[str, tuple[str, ...]], ...] = ()) -> MqttSettings:
    """``mqtt``: the broker the bridge subscribes to. By default it subscribes to exactly
    the topics of the topic layouts, plus ``slastream/#``."""
    mq = c.mapping(raw, "mqtt")
    c.unknown(mq, "mqtt", {"url", "topics", "shared_group", "qos", "client_id", "queue_size",
                           "username", "tls", "protocol", "max_packet_size",
                           *security.secret_keys("password")})
    try:
        default = [*Layouts.from_config(dict(layouts)).filters(), "slastream/#"]
    except TemplateError:  # already reported by topic_layouts()
        default = list(DEFAULT_TOPICS)
    topics = mq.get("topics", default)
    if not isinstance(topics, list) or not all(isinstance(t, str) and t for t in topics):
        c.fail("mqtt.topics", "must be a list of topic filters")
        topics = default
    return MqttSettings(
        url=c.text(mq, "url", "mqtt", MqttSettings.url) or MqttSettings.url,
        topics=tuple(topics),
        shared_group=c.text(mq, "shared_group", "mqtt", None),
        qos=int(c.num(mq, "qos", "mqtt", 1, 0, 2, integer=True) or 0),
        client_id=c.text(mq, "client_id", "mqtt", "slastream-bridge") or "slastream-bridge",
        queue_size=int(c.num(mq, "queue_size", "mqtt", 100_000, 1, integer=True) or 1),
        username=c.text(mq, "username", "mqtt", None),
        password=security.secret(c, mq, "password", "mqtt"),
        tls=security.tls(c, mq.get("tls"), "mqtt.tls"),
        protocol=_protocol(c, mq),
        # §3.1.2.11.4: 0 is a protocol error; 268,435,460 is the largest MQTT packet
        max_packet_size=int(c.num(mq, "max_packet_size", "mqtt", DEFAULT_MAX_PACKET_BYTES,
                                  128, 268_435_460, integer=True) or DEFAULT_MAX_PACKET_BYTES),
    )


def _protocol(c: Checker, mq: dict[str, Any]) -> Literal["auto", "5", "3.1.1"]:
    """``mqtt.protocol``: YAML reads an unquoted 5 as a number and 3.1.1 as a string."""
    raw = mq.get("protocol", "auto")
    text = str(raw) if isinstance(raw, int | str) and not isinstance(raw, bool) else ""
    if text not in ("auto", "5", "3.1.1"):
        c.fail("mqtt.protocol", f"must be one of auto, 5, 3.1.1; got {raw!r}")
        return "auto"
    return cast(Literal["auto", "5", "3.1.1"], text)


def kafka(c: Checker, raw: Any) -> KafkaSettings:
    """``kafka``: the cluster between the bridge and the workers."""
    ka = c.mapping(raw, "kafka")
    c.unknown(ka, "kafka", {"bootstrap", "topic_prefix", "partitions", "app_id", "tls", "sasl"})
    return KafkaSettings(
        bootstrap=c.text(ka, "bootstrap", "kafka", KafkaSettings.bootstrap)
        or KafkaSettings.bootstrap,
        topic_prefix=c.text(ka, "topic_prefix", "kafka", "slastream") or "slastream",
        partitions=int(c.num(ka, "partitions", "kafka", 4, 1, 1024, integer=True) or 4),
        app_id=c.text(ka, "app_id", "kafka", "slastream") or "slastream",
        tls=security.tls(c, ka.get("tls"), "kafka.tls"),
        sasl=security.sasl(c, ka.get("sasl"), "kafka.sasl"),
    )


def http(c: Checker, raw: Any) -> HttpSettings:
    """``http``: where the metrics and status endpoint listens, and which of its areas
    need the token (``/healthz`` never does)."""
    ht = c.mapping(raw, "http")
    c.unknown(ht, "http", {"host", "port", "protect", *security.secret_keys("token")})
    protect = ht.get("protect", ["api"])
    if not isinstance(protect, list) or not all(p in HTTP_AREAS for p in protect):
        c.fail("http.protect", f"must be a list of {', '.join(HTTP_AREAS)}; got {protect!r}")
        protect = ["api"]
    token = security.secret(c, ht, "token", "http")
    if "protect" in ht and token is None:
        c.fail("http.protect", "needs token_env or token_file")
    return HttpSettings(
        host=c.text(ht, "host", "http", "127.0.0.1") or "127.0.0.1",
        port=int(c.num(ht, "port", "http", 9464, 0, 65535, integer=True) or 0),
        token=token,
        protect=tuple(cast(list[HttpArea], protect)),
    )
