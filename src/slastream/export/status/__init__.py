"""The status pages and their JSON API, from a :class:`~slastream.export.metrics.MetricsSource`.

``gather(source, month)`` reads the ledgers (collect.py) into a typed ``StatusPage``
(model.py); ``render_page``, ``render_slo_page`` and ``status_json`` turn it into the page
``/``, the page ``/slo/{name}`` and ``/api/status`` (docs/interfaces.md#http-endpoints).
"""

from __future__ import annotations

from slastream.export.status.api import status_json
from slastream.export.status.collect import build_page, gather
from slastream.export.status.model import StatusPage
from slastream.export.status.page import render_page
from slastream.export.status.slo_page import render_slo_page
from slastream.model.ledger import Ledger
from slastream.report.text import month_key


def render_status(ledger: Ledger, breaches: dict[tuple[str, str], bool]) -> str:
    """The page of one ledger alone (no earlier months: their days show no data)."""
    label = month_key(ledger.period)
    return render_page(build_page(ledger, breaches, [None] * 3, (), label))


__all__ = ["StatusPage", "build_page", "gather", "render_page", "render_slo_page",
           "render_status", "status_json"]
