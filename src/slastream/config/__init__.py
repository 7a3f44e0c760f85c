"""The one validated settings object, built from a YAML file at the entry point.

Every problem, in any section including the SLOs' ``alerting`` blocks, is reported as one
line ``FILE: KEY: what is wrong``, and all problems are collected before failing, so
``slastream check`` lists them at once. One module per section; :mod:`.checker` holds the
checks they share.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from slastream.config import sections
from slastream.config.alerting import with_services
from slastream.config.checker import Checker
from slastream.config.contracts import contracts
from slastream.config.probes import parse_prober_settings, parse_probes
from slastream.config.slos import slos
from slastream.config.tenants import tenants
from slastream.config.zendesk import parse_zendesk
from slastream.errors import ConfigError
from slastream.model.spec import MAX_PAYLOAD_BYTES, Settings

__all__ = ["load_settings", "parse_settings"]

_TOP_KEYS = {"timezone", "lateness_s", "slos", "contracts", "exclusion_policy", "exclusions",
             "lorawan", "mqtt", "kafka", "http", "probes", "probe", "topic_layouts",
             "zendesk", "max_payload_bytes", "tenants"}


def parse_settings(data: Any, source: str = "<config>") -> Settings:
    """Validate a parsed YAML document. Raises ``ConfigError`` listing every problem."""
    if not isinstance(data, dict):
        raise ConfigError([f"{source}: (top level): must be a mapping, got {type(data).__name__}"])
    c = Checker(source)
    c.unknown(data, "", _TOP_KEYS)
    timezone = sections.timezone(c, data)
    lateness_s = int(c.num(data, "lateness_s", "", 120, 0, 86400, integer=True) or 0)
    declared = slos(c, data.get("slos"))
    agreed = contracts(c, data.get("contracts", []), {s.name for s in declared})
    layouts = sections.topic_layouts(c, data.get("topic_layouts"))
    # 256 MiB - 1 is the largest MQTT packet (MQTT 5.0 §1.5.5, a four-byte Variable Byte
    # Integer): a larger limit would never apply
    max_payload = c.num(data, "max_payload_bytes", "", MAX_PAYLOAD_BYTES, 1024, 268_435_455,
                        integer=True)
    settings = Settings(
        source=source,
        timezone=timezone,
        lateness_s=lateness_s,
        slos=with_services(declared, agreed, source),
        contracts=agreed,
        exclusion_policy=sections.policies(c, data.get("exclusion_policy")),
        exclusions=sections.exclusions(c, data.get("exclusions", [])),
        lorawan=sections.lorawan(c, data.get("lorawan")),
        mqtt=sections.mqtt(c, data.get("mqtt"), layouts),
        kafka=sections.kafka(c, data.get("kafka")),
        http=sections.http(c, data.get("http")),
        topic_layouts=layouts,
        probes=parse_probes(data.get("probes"), "probes", c.fail),
        prober=parse_prober_settings(data.get("probe"), "probe", c.fail),
        zendesk=parse_zendesk(data.get("zendesk"), "zendesk", c.fail, agreed, c.base_dir),
        max_payload_bytes=int(max_payload or MAX_PAYLOAD_BYTES),
        tenants=tenants(c, data.get("tenants")),
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
