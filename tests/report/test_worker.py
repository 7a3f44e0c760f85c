"""``--worker URL``: the report from a running worker's ``/api/ledger`` (the real HTTP app,
served on a free loopback port with the replayed engine as its source)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from slastream.errors import SlastreamError
from slastream.export.http import HttpServer, serve
from slastream.export.metrics import build_registry
from slastream.model.ledger import ledger_json
from slastream.report.command import render
from slastream.report.html import render_html
from slastream.report.source import from_capture, from_worker, ledger_url
from tests.report.seeds import Seed


@pytest.fixture
async def worker(mclimate: Seed) -> AsyncIterator[HttpServer]:
    engine = mclimate.engine
    async with await serve(engine, build_registry(engine), "127.0.0.1", 0) as srv:
        yield srv


async def test_worker_report_equals_the_capture_report(mclimate: Seed,
                                                       worker: HttpServer) -> None:
    remote = await asyncio.to_thread(from_worker, mclimate.settings, worker.url + "/",
                                     mclimate.month)
    local = from_capture(mclimate.settings, str(mclimate.capture), mclimate.month)
    assert json.loads(render(remote, "json")) == json.loads(json.dumps(
        ledger_json(mclimate.ledger)))
    assert [s.entry for c in remote.contracts for s in c.slos] == list(mclimate.ledger.slos)
    # the same days, less what only the slices know (minutes without evidence)
    for r, c in zip(remote.contracts[0].slos, local.contracts[0].slos, strict=True):
        assert [(d.downtime_minutes, d.excused_minutes, d.availability) for d in r.days] == [
            (d.downtime_minutes, d.excused_minutes, d.availability) for d in c.days]
        assert {d.no_data_minutes for d in r.days} == {None}
    rows = list(csv.DictReader(io.StringIO(render(remote, "csv").decode())))
    assert [r["availability"] for r in rows] == [str(e.availability)
                                                 for e in mclimate.ledger.slos]
    page = render_html(remote)
    assert f"worker {worker.url}/" in page and "no per-day evidence" in page


async def test_a_month_the_worker_refuses_is_one_line(mclimate: Seed,
                                                      worker: HttpServer) -> None:
    url = worker.url + "/api/ledger?month=2026-13"
    with pytest.raises(SlastreamError) as info:
        await asyncio.to_thread(from_worker, mclimate.settings, worker.url, "2026-13")
    assert str(info.value).startswith(f"{url}: HTTP 400: month must be YYYY-MM")


class _Canned(BaseHTTPRequestHandler):
    """Answers ``/not-json/...`` with text and anything else with JSON that is no ledger."""

    def do_GET(self) -> None:
        body = b"hello" if self.path.startswith("/not-json/") else b'{"slos": []}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def canned() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Canned)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_an_answer_that_is_not_a_ledger(mclimate: Seed, canned: str) -> None:
    with pytest.raises(SlastreamError, match=r"/not-json/api/ledger: the answer is not JSON"):
        from_worker(mclimate.settings, canned + "/not-json", None)
    with pytest.raises(SlastreamError, match=r"/api/ledger: not a ledger: period: expected"):
        from_worker(mclimate.settings, canned, None)


async def test_a_path_without_a_ledger_is_one_line(mclimate: Seed,
                                                   worker: HttpServer) -> None:
    with pytest.raises(SlastreamError, match=r"/metrics/api/ledger: HTTP 404"):
        await asyncio.to_thread(from_worker, mclimate.settings, worker.url + "/metrics", None)


def test_an_unreachable_worker(mclimate: Seed) -> None:
    with pytest.raises(SlastreamError, match="cannot reach the worker"):
        from_worker(mclimate.settings, "http://127.0.0.1:9", "2026-09")


def test_ledger_url() -> None:
    assert ledger_url("http://h:9464", "2026-09") == "http://h:9464/api/ledger?month=2026-09"
    assert ledger_url("https://h/x/", None) == "https://h/x/api/ledger"
