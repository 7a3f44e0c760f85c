"""An SLO's ``environments``: one objective per environment, one SLO each after loading.

::

    - name: api-services
      sli: probe
      component: api
      environments: {production: 0.999, pre-production: 0.95}

becomes ``api-services`` on component ``api`` (objective 0.999) in the SLO's place, and
``api-services@pre-production`` on component ``api@pre-production`` (0.95) after every SLO
of the file. The environment named ``production`` keeps the plain names, so its ledger
entries, metrics and topics are those of an SLO declared without environments; every other
environment is a separate instance with its own probes and request logs, published under its
own component (``slastream/probe/api@pre-production``). See docs/semantics.md#environments.
"""

from __future__ import annotations

import re
from typing import Any

from slastream.config.checker import Checker

PRODUCTION = "production"
SEPARATOR = "@"
# One MQTT topic level without wildcards; also a Prometheus label value and a Kafka key.
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_WITH_COMPONENT = ("probe", "response_time")


def _objectives(c: Checker, item: dict[str, Any], path: str) -> list[tuple[str, float]]:
    raw = item["environments"]
    if not isinstance(raw, dict) or not raw:
        c.fail(path, "must be a mapping of environment name to objective, like "
                     "{production: 0.999, pre-production: 0.95}")
        return []
    out = []
    for env, objective in raw.items():
        key = f"{path}.{env}"
        if not isinstance(env, str) or not _NAME.match(env):
            c.fail(key, "an environment name is lower-case letters, digits, '-' and '_'")
        elif (isinstance(objective, bool) or not isinstance(objective, int | float)
              or not 0.0 < objective < 1.0):
            c.fail(key, f"must be a ratio strictly between 0 and 1, got {objective!r}")
        else:
            out.append((env, float(objective)))
    return out


def _checked(c: Checker, item: dict[str, Any], path: str) -> list[tuple[str, float]]:
    """The item's valid ``(environment, objective)`` pairs; each problem reported once."""
    found = _objectives(c, item, f"{path}.environments")
    if "objective" in item:
        c.fail(f"{path}.objective", "give objective or environments, not both")
    if item.get("sli") not in _WITH_COMPONENT:
        c.fail(f"{path}.environments", "needs an SLI with a component (probe, "
                                       "response_time): other SLIs have no per-instance input")
        return []
    for key in ("name", "component"):
        if SEPARATOR in str(item.get(key, "")):
            c.fail(f"{path}.{key}", f"must not contain {SEPARATOR!r} with environments: it "
                                    "separates the environment")
            return []
    return found


def _one(item: dict[str, Any], env: str, objective: float) -> dict[str, Any]:
    out = {k: v for k, v in item.items() if k != "environments"}
    out["objective"] = objective
    if env != PRODUCTION:
        for key in ("name", "component"):
            if isinstance(out.get(key), str):
                out[key] = f"{out[key]}{SEPARATOR}{env}"
    return out


def expand(c: Checker, raw: list[Any]) -> list[tuple[int, Any]]:
    """The ``slos`` items with ``environments`` expanded, each with its index in the file.

    Production (and every SLO without environments) stays in place; the other environments
    follow all SLOs of the file, in the order declared. An item whose ``environments`` is
    wrong is still checked once, without an objective, so its other problems are listed too.
    """
    here: list[tuple[int, Any]] = []
    after: list[tuple[int, Any]] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or "environments" not in item:
            here.append((i, item))
            continue
        pairs = _checked(c, item, f"slos[{i}]")
        if not pairs:
            here.append((i, {**_one(item, PRODUCTION, 0.0), "objective": None}))
        for env, objective in pairs:
            (here if env == PRODUCTION else after).append((i, _one(item, env, objective)))
    return here + after
