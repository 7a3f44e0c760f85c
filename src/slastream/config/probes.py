"""Validation of the ``probes:`` list and the ``probe:`` mapping of a config file.

Every problem is reported through ``fail(key, what)`` (the config checker's own callback,
which adds the file name), and all of them are collected: a bad probe is left out of the
result, never raised.

Example::

    probe: {location: eu-west, concurrency: 8, http_port: 9465}
    probes:
      - name: api-health
        component: api
        http:
          url: https://api.example.com/health
          status: [200, 204]
          conditions: ["[BODY].status == UP", "[RESPONSE_TIME] < 2000"]
        interval_s: 30
        timeout_s: 10
      - {name: api-tls, component: api, tcp: {host: api.example.com, port: 443, tls: true,
                                              cert_expiry_days: 14}}
      - {name: mqtt-roundtrip, component: mqtt, mqtt: {url: "mqtt://broker:1883"}}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from slastream.model.probes import (
    PROBE_KINDS,
    Check,
    Condition,
    HttpCheck,
    MqttCheck,
    ProberSettings,
    ProbeSpec,
    TcpCheck,
)
from slastream.probe.conditions import parse_condition

Fail = Callable[[str, str], None]
_COMMON = {"name", "component", "interval_s", "timeout_s", "location", *PROBE_KINDS}
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class _Fields:
    """Typed reads from one mapping, each problem reported under ``path.key``."""

    def __init__(self, data: dict[str, Any], path: str, fail: Fail) -> None:
        self.data = data
        self.path = path
        self.fail = fail
        self.ok = True

    def bad(self, key: str, what: str) -> None:
        self.ok = False
        self.fail(f"{self.path}.{key}" if key else self.path, what)

    def unknown(self, allowed: set[str]) -> None:
        for k in self.data:
            if k not in allowed:
                self.bad(str(k), "unknown key")

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self.data.get(key, default)
        if value is None or (isinstance(value, str) and value):
            return value
        self.bad(key, f"must be a non-empty string, got {value!r}")
        return default

    def required(self, key: str) -> str:
        value = self.text(key)
        if value is None:
            self.bad(key, "is required")
            return ""
        return value

    def number(self, key: str, default: float | None, low: float, high: float) -> float | None:
        value = self.data.get(key, default)
        if value is None:
            return None
        if type(value) not in (int, float) or not low <= value <= high:
            self.bad(key, f"must be a number from {low:g} to {high:g}, got {value!r}")
            return default
        return float(value)

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self.data.get(key, default)
        if type(value) is not int or not low <= value <= high:
            self.bad(key, f"must be a whole number from {low} to {high}, got {value!r}")
            return default
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if type(value) is not bool:
            self.bad(key, f"must be true or false, got {value!r}")
            return default
        return value


def _http(f: _Fields) -> HttpCheck:
    f.unknown({"url", "method", "headers", "body", "status", "conditions", "verify_tls",
               "ca_file"})
    url = f.required("url")
    if url and urlsplit(url).scheme not in ("http", "https"):
        f.bad("url", f"must be an http:// or https:// URL, got {url!r}")
    method = (f.text("method", "GET") or "GET").upper()
    if method not in _METHODS:
        f.bad("method", f"must be one of {', '.join(_METHODS)}; got {method!r}")
    headers = f.data.get("headers", {})
    if not isinstance(headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        f.bad("headers", "must be a mapping of header names to strings")
        headers = {}
    raw_status = f.data.get("status", [200])
    statuses = raw_status if isinstance(raw_status, list) else [raw_status]
    if not statuses or not all(type(s) is int and 100 <= s <= 599 for s in statuses):
        f.bad("status", f"must be a status code or a list of them (100-599), got {raw_status!r}")
        statuses = [200]
    return HttpCheck(url=url, method=method, headers=tuple(headers.items()),
                     body=f.text("body"), statuses=tuple(statuses),
                     conditions=_conditions(f), verify_tls=f.flag("verify_tls", True),
                     ca_file=f.text("ca_file"))


def _conditions(f: _Fields) -> tuple[Condition, ...]:
    raw = f.data.get("conditions", [])
    if not isinstance(raw, list):
        f.bad("conditions", "must be a list like ['[STATUS] == 200', '[BODY].status == UP']")
        return ()
    out: list[Condition] = []
    for i, text in enumerate(raw):
        if not isinstance(text, str):
            f.bad(f"conditions[{i}]", f"must be a string, got {text!r}")
            continue
        try:
            out.append(parse_condition(text))
        except ValueError as exc:
            f.bad(f"conditions[{i}]", str(exc))
    return tuple(out)


def _tcp(f: _Fields) -> TcpCheck:
    f.unknown({"host", "port", "tls", "server_name", "verify_tls", "ca_file",
               "cert_expiry_days"})
    tls = f.flag("tls", False)
    verify = f.flag("verify_tls", True)
    expiry = f.number("cert_expiry_days", None, 0, 3650)
    if expiry is not None and not (tls and verify):
        f.bad("cert_expiry_days", "needs tls: true and verify_tls: true (the certificate's "
                                  "date is read from a verified handshake)")
    return TcpCheck(host=f.required("host"), port=f.integer("port", 0, 1, 65535), tls=tls,
                    server_name=f.text("server_name"), verify_tls=verify,
                    ca_file=f.text("ca_file"), cert_expiry_days=expiry)


def _mqtt(f: _Fields) -> MqttCheck:
    f.unknown({"url", "topic", "qos"})
    url = f.required("url")
    if url and urlsplit(url if "://" in url else f"mqtt://{url}").scheme not in (
            "mqtt", "tcp", "mqtts", "ssl"):
        f.bad("url", f"must look like mqtt://host:1883 or mqtts://host:8883, got {url!r}")
    topic = f.text("topic", MqttCheck.topic) or MqttCheck.topic
    if any(c in topic for c in "+#"):
        f.bad("topic", "must be a topic name, without the wildcards + and #")
    return MqttCheck(url=url, topic=topic, qos=f.integer("qos", 1, 0, 2))


_CHECKS: dict[str, Callable[[_Fields], Check]] = {"http": _http, "tcp": _tcp, "mqtt": _mqtt}


def _probe(raw: Any, path: str, fail: Fail) -> ProbeSpec | None:
    if not isinstance(raw, dict):
        fail(path, "must be a mapping with name, component and one of http, tcp, mqtt")
        return None
    f = _Fields(raw, path, fail)
    f.unknown(_COMMON)
    name, component = f.required("name"), f.required("component")
    if "/" in component or any(c in component for c in "+#"):
        f.bad("component", "must not contain /, + or # (it is a topic level)")
    kinds = [k for k in PROBE_KINDS if k in raw]
    if len(kinds) != 1:
        f.bad("", f"needs exactly one of {', '.join(PROBE_KINDS)}, got {len(kinds)}")
        return None
    kind = kinds[0]
    if not isinstance(raw[kind], dict):
        f.bad(kind, "must be a mapping")
        return None
    sub = _Fields(raw[kind], f"{path}.{kind}", fail)
    check = _CHECKS[kind](sub)
    interval = f.number("interval_s", 60.0, 1, 86_400) or 60.0
    timeout = f.number("timeout_s", min(10.0, interval), 0.1, 3_600) or 10.0
    if timeout > interval:
        f.bad("timeout_s", f"must not exceed interval_s ({interval:g}), so runs of one probe "
                           f"never overlap")
    if not (f.ok and sub.ok):
        return None
    return ProbeSpec(name=name, component=component, kind=kind, check=check,
                     interval_s=interval, timeout_s=timeout, location=f.text("location"))


def parse_probes(raw: Any, path: str, fail: Fail) -> tuple[ProbeSpec, ...]:
    """The ``probes:`` list (``raw`` None: no probes). Bad entries are reported and skipped."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        fail(path, "must be a list of probes")
        return ()
    probes = [p for i, r in enumerate(raw) if (p := _probe(r, f"{path}[{i}]", fail))]
    names = [p.name for p in probes]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        fail(path, f"duplicate probe name {dup!r}")
    return tuple(probes)


def parse_prober_settings(raw: Any, path: str, fail: Fail) -> ProberSettings:
    """The ``probe:`` mapping (``raw`` None: defaults)."""
    if raw is None:
        return ProberSettings()
    if not isinstance(raw, dict):
        fail(path, "must be a mapping")
        return ProberSettings()
    f = _Fields(raw, path, fail)
    f.unknown({"location", "concurrency", "jitter", "http_host", "http_port", "buffer",
               "client_id"})
    d = ProberSettings()
    port = raw.get("http_port", d.http_port)
    if port is not None:
        port = f.integer("http_port", 9465, 0, 65535)
    return ProberSettings(
        location=f.text("location", d.location) or d.location,
        concurrency=f.integer("concurrency", d.concurrency, 1, 10_000),
        jitter=f.number("jitter", d.jitter, 0, 0.5) or 0.0,
        http_host=f.text("http_host", d.http_host) or d.http_host,
        http_port=port,
        buffer=f.integer("buffer", d.buffer, 1, 10_000_000),
        client_id=f.text("client_id", d.client_id) or d.client_id,
    )
