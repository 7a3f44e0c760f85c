"""``slastream report``: the monthly SLA report per contract, from a capture or a worker."""

from __future__ import annotations

import sys
from collections.abc import Callable

from slastream.errors import SlastreamError
from slastream.model.spec import Settings
from slastream.model.time import Month
from slastream.report.content import Report
from slastream.report.html import render_html
from slastream.report.pdf import render_pdf
from slastream.report.source import from_capture, from_worker
from slastream.report.tables import render_csv, render_json

FORMATS: dict[str, Callable[[Report], bytes]] = {
    "html": lambda r: render_html(r).encode("utf-8"),
    "pdf": lambda r: render_pdf(render_html(r)),
    "csv": render_csv,
    "json": render_json,
}


def render(report: Report, fmt: str) -> bytes:
    """The report in ``fmt`` (html, pdf, csv or json)."""
    try:
        renderer = FORMATS[fmt]
    except KeyError:
        raise SlastreamError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}") \
            from None
    return renderer(report)


def write_output(data: bytes, output: str | None) -> None:
    """To ``output``, or to stdout."""
    if not output:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        with open(output, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        raise SlastreamError(f"{output}: cannot write the report: {exc.strerror}") from None


def main(settings: Settings, month: str | None, capture: str | None, worker: str | None,
         fmt: str, output: str | None, tenant: str | None = None) -> int:
    """Render the report of ``month`` (``YYYY-MM``) from exactly one of ``capture`` and
    ``worker`` in ``fmt``, to ``output`` or stdout; of one tenant's contracts with
    ``tenant``. Failures raise ``SlastreamError``."""
    if (capture is None) == (worker is None):
        raise SlastreamError("report takes exactly one of --capture FILE and --worker URL")
    if fmt not in FORMATS:
        raise SlastreamError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if month is not None:
        try:
            Month.parse(month, settings.timezone)
        except ValueError as exc:
            raise SlastreamError(f"--month: {exc}") from None
    report = (from_capture(settings, capture, month, tenant) if capture is not None
              else from_worker(settings, str(worker), month, tenant))
    write_output(render(report, fmt), output)
    return 0
