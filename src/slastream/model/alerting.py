"""An SLO's alerting policy as frozen values, and the Prometheus durations it is written in.

``slastream.config`` builds an :class:`AlertPolicy` from each SLO's ``alerting:`` block and
validates it with the rest of the file; ``slastream.export.rules`` turns it into rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Severity = Literal["page", "ticket"]
SEVERITIES: tuple[Severity, ...] = ("page", "ticket")

# Where an alert's runbook_url points unless the SLO says otherwise: the runbooks section of
# deploy/README.md, one anchor per alert name.
DEFAULT_RUNBOOK_URL = (
    "https://github.com/slastream/slastream/blob/main/deploy/README.md#runbook-{alert}"
)

_UNITS_S = {"y": 365 * 86400, "w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION = re.compile(r"^(?:\d+(?:y|w|d|h|ms|m|s))+$")
_PART = re.compile(r"(\d+)(y|w|d|h|ms|m|s)")


def parse_duration_s(text: object) -> int:
    """Parse a Prometheus duration (``5m``, ``1h30m``, ``30d``) into whole seconds.

    Raises ``ValueError`` for anything Prometheus would reject or below one second.
    """
    if not isinstance(text, str) or not _DURATION.match(text):
        raise ValueError(f"must be a duration like 5m, 1h or 30d, got {text!r}")
    total_ms = 0
    for number, unit in _PART.findall(text):
        total_ms += int(number) * (1 if unit == "ms" else _UNITS_S[unit] * 1000)
    if total_ms < 1000 or total_ms % 1000:
        raise ValueError(f"must be a whole number of seconds, at least 1s, got {text!r}")
    return total_ms // 1000


def format_duration(seconds: int) -> str:
    """Format seconds the way Prometheus prints durations (``30d``, ``4w``, ``1h30m``).

    Sloth names its recording rules with this format (``slo:sli_error:ratio_rate4w`` for 28 d),
    so the names match Sloth's for the same windows.
    """
    if seconds <= 0:
        return "0s"
    out = []
    for unit, size in _UNITS_S.items():
        # Like Prometheus, years and weeks only when exact: 30d reads better than 4w2d.
        if unit in "yw" and seconds % size:
            continue
        if seconds >= size:
            out.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(out)


@dataclass(frozen=True)
class BurnWindow:
    """One multiwindow burn-rate condition: both windows above ``factor`` × error budget."""

    severity: Severity
    tier: int  # 1 is the most urgent; a firing tier inhibits higher numbers (Alertmanager)
    long_s: int
    short_s: int
    factor: float
    for_s: int


@dataclass(frozen=True)
class Toggle:
    """An optional alert: its ``for`` duration, severity and (for no-data) window."""

    for_s: int
    severity: Severity
    window_s: int = 0


@dataclass(frozen=True)
class AlertPolicy:
    """The alerts of one SLO, validated, with every default filled in at load.

    An alert that is switched off (or does not apply to the SLO) is ``None``; an SLO without
    an objective has no burn-rate ``windows``.
    """

    service: str  # sloth_service: the first contract naming the SLO, else the file's name
    period_s: int
    windows: tuple[BurnWindow, ...]
    no_data: Toggle | None
    budget_exhausted: Toggle | None
    breach: Toggle | None
    response_time: Toggle | None
    runbook_url: str  # {alert} and {slo} are filled in per alert
    labels: tuple[tuple[str, str], ...]  # sorted by name
