"""Where a report's figures come from: a capture replayed offline, or a running worker.

Either way the result is a :class:`~slastream.report.content.Report`. From a capture the
slices are at hand, so the daily figures include the minutes without evidence; a worker
serves only its ledger (``GET /api/ledger?month=YYYY-MM``, docs/interfaces.md#ledger-json).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from slastream.errors import SlastreamError
from slastream.model.ledger import ledger_json
from slastream.model.ledger_read import ledger_from_json
from slastream.model.spec import Settings
from slastream.replay import replay
from slastream.report.build import build_report
from slastream.report.content import Report
from slastream.slo import tenants

TIMEOUT_S = 60.0
MAX_BYTES = 64 << 20  # a ledger is small; a larger answer is not one


def from_capture(settings: Settings, capture: str, month: str | None,
                 tenant: str | None = None) -> Report:
    """Replay ``capture`` and report ``month`` (default: the month of its first message),
    as ``tenant`` sees it when given (``slo/tenants.py``)."""
    engine = replay(settings, capture)
    ledger = engine.ledger(month)
    if tenant is not None:
        if tenant not in tenants.seen_tenants(settings, engine.store):
            raise SlastreamError(f"--tenant: no tenant named {tenant!r} in {capture}")
        ledger = tenants.for_tenant(settings, ledger, tenant)
    return build_report(settings, ledger, ledger_json(ledger), engine.store,
                        f"capture {capture}")


def ledger_url(worker: str, month: str | None, tenant: str | None = None) -> str:
    """``{worker}/api/ledger`` with ``?month=`` and ``tenant=`` when given;
    ``SlastreamError`` on a URL that is not http(s)."""
    parts = urllib.parse.urlsplit(worker)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SlastreamError(f"--worker: expected an http(s) URL, got {worker!r}")
    url = worker.rstrip("/") + "/api/ledger"
    query = {k: v for k, v in (("month", month), ("tenant", tenant)) if v}
    return url + "?" + urllib.parse.urlencode(query) if query else url


def fetch_ledger(url: str) -> Any:
    """The JSON a worker answers at ``url``; one-line ``SlastreamError`` otherwise."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as resp:
            body = resp.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise SlastreamError(f"{url}: HTTP {exc.code}{_error_text(exc)}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SlastreamError(f"{url}: cannot reach the worker: {reason}") from None
    if len(body) > MAX_BYTES:
        raise SlastreamError(f"{url}: answer larger than {MAX_BYTES} bytes, not a ledger")
    try:
        return json.loads(body)
    except ValueError:
        raise SlastreamError(f"{url}: the answer is not JSON") from None


def _error_text(exc: urllib.error.HTTPError) -> str:
    """The worker's ``{"error": ...}`` message, when it sent one."""
    try:
        doc = json.loads(exc.read(4096))
    except (ValueError, OSError):
        return ""
    message = doc.get("error") if isinstance(doc, dict) else None
    return f": {str(message).splitlines()[0]}" if message else ""


def from_worker(settings: Settings, worker: str, month: str | None,
                tenant: str | None = None) -> Report:
    """The ledger of ``month`` (default: the worker's current month) from a worker, as
    ``tenant`` sees it when given."""
    url = ledger_url(worker, month, tenant)
    doc = fetch_ledger(url)
    try:
        ledger = ledger_from_json(doc)
    except ValueError as exc:
        raise SlastreamError(f"{url}: not a ledger: {exc}") from None
    return build_report(settings, ledger, doc, None, f"worker {worker}")
