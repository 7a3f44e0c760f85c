"""Validation of the ``zendesk:`` section (the receiver of ``slastream webhook``) into
``ZendeskSettings``.

Every problem is reported through ``fail(key, what)`` with the full key, and checking goes
on. A mapping must name a contract with support terms, and its severities must be that
contract's::

    zendesk:
      port: 9466                      # host 127.0.0.1 unless told otherwise
      secret_file: zendesk.secret     # or SLASTREAM_ZENDESK_SECRET; never the secret itself
      mappings:
        - contract: cumulocity
          organizations: ["360001234567"]
          severities: {urgent: Crisis, high: Critical, normal: Standard, low: Standard}
          severity_tags: {severity_crisis: Crisis}
          regions: {emea: EMEA, apj: APJ, us: US}
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from slastream.config.checker import existing_file
from slastream.model.spec import Contract
from slastream.model.zendesk import SECRET_ENV, ZendeskMapping, ZendeskSettings

Fail = Callable[[str, str], None]

_KEYS = {"host", "port", "path", "secret_file", "client_id", "publish_timeout_s", "mappings"}
_MAPPING_KEYS = {"contract", "organizations", "brands", "severities", "severity_tags",
                 "regions", "country_prefix", "plan_tag", "contact_tag"}
PRIORITIES = ("urgent", "high", "normal", "low", "none")  # "none": a ticket without one


class _Reader:
    def __init__(self, raw: dict[str, Any], path: str, fail: Fail) -> None:
        self.raw, self.path, self.fail, self.ok = raw, path, fail, True

    def bad(self, key: str, what: str) -> None:
        self.ok = False
        self.fail(f"{self.path}.{key}", what)

    def text(self, key: str, default: str) -> str:
        value = self.raw.get(key, default)
        if isinstance(value, str) and value:
            return value
        self.bad(key, f"must be a non-empty string, got {value!r}")
        return default

    def ids(self, key: str) -> tuple[str, ...]:
        value = self.raw.get(key) or []
        if isinstance(value, list) and all(
                isinstance(v, str | int) and not isinstance(v, bool) and str(v) for v in value):
            return tuple(str(v) for v in value)
        self.bad(key, "must be a list of Zendesk ids")
        return ()

    def pairs(self, key: str, keys: tuple[str, ...] | None, values: set[str] | None,
              what: str) -> tuple[tuple[str, str], ...]:
        value = self.raw.get(key) or {}
        if not isinstance(value, dict):
            self.bad(key, f"must be a mapping of {what}")
            return ()
        out = []
        for k, v in value.items():
            name = str(k).lower() if keys is not None else str(k)
            if keys is not None and name not in keys:
                self.bad(f"{key}.{k}", f"must be one of {', '.join(keys)}")
            elif not isinstance(v, str) or not v:
                self.bad(f"{key}.{k}", "must be a non-empty string")
            elif values is not None and v not in values:
                self.bad(f"{key}.{k}", f"{v!r} is not a severity of the contract "
                                       f"({', '.join(sorted(values))})")
            else:
                out.append((name, v))
        return tuple(out)


def _mapping(raw: Any, path: str, fail: Fail, contracts: dict[str, Contract]
             ) -> ZendeskMapping | None:
    if not isinstance(raw, dict):
        fail(path, "must be a mapping with contract and severities")
        return None
    r = _Reader(raw, path, fail)
    for key in raw:
        if key not in _MAPPING_KEYS:
            r.bad(str(key), "unknown key")
    name = r.text("contract", "")
    contract = contracts.get(name)
    terms = contract.support if contract is not None else None
    if name and terms is None:
        r.bad("contract", f"{name!r} is not a contract with support terms")
    severities = {s.name for s in terms.severities} if terms is not None else None
    mapping = ZendeskMapping(
        contract=name,
        severities=r.pairs("severities", PRIORITIES, severities, "priority: severity"),
        regions=r.pairs("regions", None, None, "tag: region"),
        country_prefix=r.text("country_prefix", "country_"),
        plan_tag=r.text("plan_tag", "resolution_plan"),
        contact_tag=r.text("contact_tag", "phone_contact"),
        organizations=r.ids("organizations"),
        brands=r.ids("brands"),
        severity_tags=r.pairs("severity_tags", None, severities, "tag: severity"),
    )
    if not mapping.severities and not mapping.severity_tags:
        r.bad("severities", "is required (or severity_tags): a ticket needs a severity")
    return mapping if r.ok else None



def parse_zendesk(raw: Any, path: str, fail: Fail, contracts: tuple[Contract, ...],
                  base_dir: Path | None = None) -> ZendeskSettings | None:
    """The ``zendesk:`` mapping (``raw`` None: no webhook receiver) → ``ZendeskSettings``;
    None (after ``fail``) when it is bad."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        fail(path, "must be a mapping with mappings")
        return None
    r = _Reader(raw, path, fail)
    for key in raw:
        if key == "secret":
            r.bad(key, f"the signing secret never goes in the config: set {SECRET_ENV} "
                       "or secret_file")
        elif key not in _KEYS:
            r.bad(str(key), "unknown key")
    port = raw.get("port", 9466)
    if type(port) is not int or not 0 <= port <= 65535:
        r.bad("port", f"must be a port number from 0 to 65535, got {port!r}")
    timeout = raw.get("publish_timeout_s", 10.0)
    if type(timeout) not in (int, float) or not 0 < timeout <= 300:
        r.bad("publish_timeout_s", f"must be a number of seconds up to 300, got {timeout!r}")
    route = r.text("path", "/zendesk")
    if not route.startswith("/"):
        r.bad("path", f"must start with /, got {route!r}")
    items = raw.get("mappings")
    if not isinstance(items, list) or not items:
        r.bad("mappings", "must be a non-empty list of contract mappings")
        items = []
    by_name = {c.name: c for c in contracts}
    mappings = [_mapping(m, f"{path}.mappings[{i}]", fail, by_name) for i, m in enumerate(items)]
    secret = existing_file(raw.get("secret_file"), f"{path}.secret_file", base_dir, fail)
    if not r.ok or None in mappings or (raw.get("secret_file") is not None and secret is None):
        return None
    return ZendeskSettings(
        tuple(m for m in mappings if m is not None), r.text("host", "127.0.0.1"), int(port),
        route, secret, r.text("client_id", "slastream-webhook"), float(timeout))
