"""The status page in real headless Chromium (Debian ``chromium``, see scripts/bootstrap).

The HTTP app serves a LiveView holding September and October 2026 (tests/export/
test_status_page.py): October has an outage (3 October), an excused maintenance
(2 October) and a day without data (4 October). Chromium loads the page as a browser does;
the DOM it built is checked, and screenshots at phone and desktop size are left in the
test's tmp dir for a person to look at.
"""

from __future__ import annotations

import asyncio
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from slastream.export.http import serve
from slastream.export.metrics import build_registry
from tests.export.test_status_page import month_view

pytestmark = pytest.mark.integration

GUARD_S = 180  # a hung browser fails the test instead of blocking the run
PNG = b"\x89PNG\r\n\x1a\n"


def _chromium() -> str:
    path = shutil.which("chromium")
    assert path, "chromium is not installed (scripts/bootstrap installs it)"
    return path


async def _chromium_run(tmp: Path, *args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--hide-scrollbars", f"--user-data-dir={tmp / 'profile'}", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), GUARD_S)
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    return out.decode()


class _Text(HTMLParser):
    """The DOM's text and the titles of its SVG shapes, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.skip += tag in ("style", "script")

    def handle_endtag(self, tag: str) -> None:
        self.skip -= tag in ("style", "script")

    def handle_data(self, data: str) -> None:
        if not self.skip and data.strip():
            self.parts.append(" ".join(data.split()))


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == PNG
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


async def test_status_page_in_headless_chromium(tmp_path: Path) -> None:
    view = month_view()
    async with await serve(view, build_registry(view), "127.0.0.1", 0) as srv:
        url = f"{srv.url}/?month=2026-10"
        dom = await _chromium_run(tmp_path, "--dump-dom", url)
        shots = {"phone": (390, 2400), "desktop": (1280, 2000)}
        for name, (w, h) in shots.items():
            await _chromium_run(tmp_path, f"--screenshot={tmp_path / f'{name}.png'}",
                                f"--window-size={w},{h}", url)
        slo_dom = await _chromium_run(tmp_path, "--dump-dom",
                                      f"{srv.url}/slo/api-probe?month=2026-10")
    parser = _Text()
    parser.feed(dom)
    text = " | ".join(parser.parts)
    assert "slastream — 2026-10" in text
    assert "Outage in progress" in text  # the overall state, in words
    assert "State: | Outage" in text and "State: | Operational" in text
    assert "No data" in text  # rx2 never reported
    # the day bars' text alternatives
    assert "2026-10-03: below the target, availability 97.9167 %, downtime 30 min" in text
    assert "2026-10-02: excused maintenance, availability 100.0000 %, excused 30 min" in text
    assert "2026-10-04: no data" in text
    # the incidents table: the outage, and the maintenance excused
    assert "2026-10-03T10:00:00Z | 2026-10-03T10:30:00Z | 30 min | no" in text
    assert "2026-10-02T02:00:00Z | 2026-10-02T02:30:00Z | 30 min | yes (maintenance)" in text
    assert "mnt-oct | maintenance | api | 2026-10-20T01:00:00Z" in text  # upcoming
    assert "Error budget over the month" in slo_dom and "Burn rate" in slo_dom
    for name, (w, _) in shots.items():
        width, height = _png_size(tmp_path / f"{name}.png")
        assert width == w and height > 0
