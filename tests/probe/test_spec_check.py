"""``parse_probes`` / ``parse_prober_settings``: values out of a config, every problem told."""

from __future__ import annotations

from typing import Any

import yaml

from slastream.config.probes import parse_prober_settings, parse_probes
from slastream.model.probes import HttpCheck, MqttCheck, ProberSettings, TcpCheck

GOOD = yaml.safe_load("""
probes:
  - name: api-health
    component: api
    http:
      url: https://api.example.com/health
      method: post
      headers: {Authorization: Bearer x}
      body: '{"ping": 1}'
      status: [200, 204]
      conditions: ["[BODY].status == UP", "[RESPONSE_TIME] < 2000"]
    interval_s: 30
    timeout_s: 5
    location: eu-west
  - {name: api-tls, component: api,
     tcp: {host: api.example.com, port: 443, tls: true, cert_expiry_days: 14}}
  - {name: mqtt-rt, component: mqtt, mqtt: {url: "mqtt://broker:1883", topic: probe/rt}}
probe: {location: lab, concurrency: 4, http_port: null}
""")


def collect(raw: Any) -> tuple[Any, list[str]]:
    problems: list[str] = []
    specs = parse_probes(raw, "probes", lambda k, w: problems.append(f"{k}: {w}"))
    return specs, problems


def test_a_good_config_gives_frozen_specs() -> None:
    specs, problems = collect(GOOD["probes"])
    assert problems == []
    http, tcp, mqtt = specs
    assert http.kind == "http" and http.location == "eu-west" and http.interval_s == 30
    assert isinstance(http.check, HttpCheck)
    assert http.check.method == "POST" and http.check.statuses == (200, 204)
    assert http.check.headers == (("Authorization", "Bearer x"),)
    assert [c.text for c in http.check.conditions] == ["[BODY].status == UP",
                                                      "[RESPONSE_TIME] < 2000"]
    assert tcp.check == TcpCheck("api.example.com", 443, tls=True, cert_expiry_days=14.0)
    assert tcp.timeout_s == 10.0 and tcp.interval_s == 60.0 and tcp.location is None
    assert mqtt.check == MqttCheck("mqtt://broker:1883", "probe/rt")
    problems2: list[str] = []
    settings = parse_prober_settings(GOOD["probe"], "probe",
                                     lambda k, w: problems2.append(f"{k}: {w}"))
    assert problems2 == []
    assert settings == ProberSettings(location="lab", concurrency=4, http_port=None)


def test_every_problem_is_reported_with_its_key() -> None:
    specs, problems = collect([
        {"name": "a", "component": "api", "http": {"url": "ftp://x", "status": 99,
                                                   "conditions": ["[STATUS] 200"]}},
        {"name": "b", "component": "a/b", "tcp": {"host": "h", "port": 70000, "tls": False,
                                                  "cert_expiry_days": 3}},
        {"name": "c", "component": "mqtt", "mqtt": {"url": "mqtt://h", "topic": "a/#"},
         "interval_s": 10, "timeout_s": 20},
        {"name": "d", "component": "x", "http": {"url": "http://x"}, "tcp": {}},
        {"name": "e", "component": "x", "http": {"url": "http://x", "colour": 1}},
        "nonsense",
    ])
    assert specs == ()
    assert problems == [
        "probes[0].http.url: must be an http:// or https:// URL, got 'ftp://x'",
        "probes[0].http.status: must be a status code or a list of them (100-599), got 99",
        "probes[0].http.conditions[0]: condition '[STATUS] 200' must look like SUBJECT OP "
        "VALUE, with OP one of == != <= >= < > between spaces",
        "probes[1].component: must not contain /, + or # (it is a topic level)",
        "probes[1].tcp.cert_expiry_days: needs tls: true and verify_tls: true (the "
        "certificate's date is read from a verified handshake)",
        "probes[1].tcp.port: must be a whole number from 1 to 65535, got 70000",
        "probes[2].mqtt.topic: must be a topic name, without the wildcards + and #",
        "probes[2].timeout_s: must not exceed interval_s (10), so runs of one probe never "
        "overlap",
        "probes[3]: needs exactly one of http, tcp, mqtt, got 2",
        "probes[4].http.colour: unknown key",
        "probes[5]: must be a mapping with name, component and one of http, tcp, mqtt",
    ]


def test_duplicate_names_and_missing_fields() -> None:
    specs, problems = collect([
        {"name": "a", "component": "api", "http": {"url": "http://x"}},
        {"name": "a", "component": "api", "http": {"url": "http://y"}},
        {"component": "api", "http": {}},
    ])
    assert len(specs) == 2
    assert problems == ["probes[2].name: is required", "probes[2].http.url: is required",
                        "probes: duplicate probe name 'a'"]
    assert collect(None) == ((), [])
    assert collect({"a": 1}) == ((), ["probes: must be a list of probes"])


def test_prober_settings_problems() -> None:
    problems: list[str] = []
    parse_prober_settings({"concurrency": 0, "jitter": 2, "port": 1}, "probe",
                          lambda k, w: problems.append(f"{k}: {w}"))
    assert problems == ["probe.port: unknown key",
                        "probe.concurrency: must be a whole number from 1 to 10000, got 0",
                        "probe.jitter: must be a number from 0 to 0.5, got 2"]
