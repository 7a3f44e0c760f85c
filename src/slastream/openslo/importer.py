"""OpenSLO v1 documents as a slastream config (``slastream openslo import FILE…``).

What maps becomes config: ratio SLOs over slastream's own events and response-time
thresholds over its latency histogram, budgeted in one-minute time slices over calendar
months, their objectives and burn-rate alert conditions, and everything the export kept in
``slastream.io/`` annotations (the settings of the file on the DataSource, contracts on
Services). Every construct that does not map is one line ``FILE: KIND/NAME: what and why``
(docs/openslo.md#what-does-not-map). Exporting a config and importing the result gives the
same settings back.
"""

from __future__ import annotations

from typing import Any

import yaml

from slastream.config import parse_settings
from slastream.errors import ConfigError
from slastream.openslo import vocabulary as v
from slastream.openslo.documents import Doc, Documents, NoMap, mapping, read
from slastream.openslo.slo_import import calendar_zone, slo_entry


def _settings_source(docs: Documents) -> Doc | None:
    """slastream's DataSource; any other data source is reported (slastream reads none)."""
    ours = None
    for doc in docs.of_kind("DataSource"):
        if doc.name == v.DATASOURCE and doc.spec.get("type") == v.DATASOURCE_TYPE:
            ours = doc
        else:
            docs.fail(doc.where, f"a {doc.spec.get('type')} data source: slastream measures "
                                 "from telemetry it receives, not from other data sources")
    return ours


def _top(docs: Documents, source: Doc | None, zone: str | None) -> dict[str, Any]:
    """Time zone, lateness and the sections the export keeps on its DataSource."""
    out: dict[str, Any] = {}
    spelled = source.annotations.get(v.A_TIMEZONE) if source else None
    # The calendar's zone rules; the annotation gives back the config's own spelling of it
    # (UTC for the calendar's Etc/UTC).
    if isinstance(spelled, str) and (zone is None or v.openslo_zone(spelled) == zone):
        out["timezone"] = spelled
    elif zone is not None:
        out["timezone"] = zone
    if source is None:
        return out
    lateness = docs.number(source, v.A_LATENESS)
    if lateness is not None:
        out["lateness_s"] = lateness
    for key, annotation in v.A_SECTIONS.items():
        value = docs.json(source, annotation)
        if value is not None:
            out[key] = value
    return out


def _refer(slo: Doc, docs: Documents) -> None:
    """Mark what an SLO refers to as used, whether or not the SLO maps: an object is only
    reported on its own when nothing refers to it."""
    docs.get("SLI", slo.spec.get("indicatorRef"))
    policies = slo.spec.get("alertPolicies")
    for item in policies if isinstance(policies, list) else []:
        ref = item.get("alertPolicyRef") if isinstance(item, dict) else item
        policy = docs.get("AlertPolicy", ref)
        conditions = policy.spec.get("conditions") if policy else None
        for cond in conditions if isinstance(conditions, list) else []:
            docs.get("AlertCondition", mapping(cond).get("conditionRef"))


def _slos(docs: Documents) -> tuple[list[dict[str, Any]], str | None]:
    """Every SLO that maps, and the one calendar time zone they share."""
    out: list[dict[str, Any]] = []
    zone: str | None = None
    for doc in docs.of_kind("SLO"):
        _refer(doc, docs)
        found = calendar_zone(doc.spec)
        if isinstance(found, str) and zone is not None and found != zone:
            found = NoMap(f"its calendar is in {found}, the SLOs before it in {zone}: a "
                          "slastream config cuts every month in one time zone")
        entry = found if isinstance(found, NoMap) else slo_entry(doc, docs)
        if isinstance(entry, NoMap):
            docs.fail(doc.where, f"{entry.why}: not imported")
            continue
        if any(e["name"] == entry["name"] for e in out):
            docs.fail(doc.where, f"a second SLO over slastream SLO {entry['name']!r}: not "
                                 "imported")
            continue
        if found is None:
            docs.fail(doc.where, "no timeWindow: imported with slastream's calendar months")
        zone = found if isinstance(found, str) else zone
        out.append(entry)
    return out, zone


def _contracts(docs: Documents, names: set[str]) -> list[dict[str, Any]]:
    """Contracts the export kept on Services, when every SLO they name was imported."""
    out = []
    for doc in docs.of_kind("Service"):
        contract = docs.json(doc, v.A_CONTRACT)
        if contract is None:
            continue  # a plain Service only groups SLOs: their alerting service names it
        if not isinstance(contract, dict):
            docs.fail(doc.where, f"annotation {v.A_CONTRACT} is not a mapping: not imported")
            continue
        credit = mapping(contract.get("credit"))
        wanted = [*contract.get("slos", []), credit.get("uptime_slo"), credit.get("response_slo")]
        missing = sorted({str(s) for s in wanted if s is not None and s not in names})
        if missing:
            docs.fail(doc.where, f"contract names SLOs that were not imported "
                                 f"({', '.join(missing)}): not imported")
            continue
        out.append(contract)
    return out


def _unused(docs: Documents) -> None:
    """Objects no imported SLO refers to: on their own they say nothing slastream measures."""
    for doc in docs.order:
        if (doc.kind, doc.name) in docs.used:
            continue
        if doc.kind in ("SLI", "AlertPolicy", "AlertCondition"):
            docs.fail(doc.where, "no SLO of these files refers to it: not imported")
        elif doc.kind == "AlertNotificationTarget" and doc.spec.get("target") != v.TARGET:
            docs.fail(doc.where, "where alerts go is Alertmanager's routing on the severity "
                                 "label, not part of a slastream config: not imported")


def build(docs: Documents) -> dict[str, Any]:
    """The config mapping for the documents read; problems are added to ``docs``."""
    source = _settings_source(docs)
    slos, zone = _slos(docs)
    config = _top(docs, source, zone)
    config["slos"] = slos
    config["contracts"] = _contracts(docs, {s["name"] for s in slos})
    config |= {k: config.pop(k) for k in list(config) if k in v.A_SECTIONS}  # file order
    _unused(docs)
    return config


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def import_main(files: list[str]) -> tuple[str, list[str]]:
    """``slastream openslo import FILE…``: (config YAML text, one line per problem).

    The config is checked with the loader; should it still be refused, the loader's lines
    are among the problems.
    """
    docs = read(files)
    config = build(docs)
    header = (f"# slastream config imported from OpenSLO v1 documents ({', '.join(files)}) by "
              "`slastream openslo import`.\n")
    text = header + yaml.dump(config, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                              width=100)
    try:
        parse_settings(yaml.safe_load(text), "<imported config>")
    except ConfigError as exc:
        docs.problems.extend(exc.problems)
    return text, docs.problems
