"""The PDF: the report's HTML page printed by headless Chromium (Debian's ``chromium``).

The page is written to a private temporary directory and printed from a ``file://`` URL
with a throw-away profile; the flags keep Chromium from reaching the network for updates,
sync or first-run pages, so printing works offline and leaves nothing behind
(docs/report.md#pdf-renderer explains the choice of renderer).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from slastream.errors import SlastreamError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S = 180.0


def find_browser() -> str:
    """The path of a Chromium on PATH; ``SlastreamError`` saying how to get one."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    raise SlastreamError("--format pdf needs headless Chromium: install Debian's chromium "
                         "(apt-get install chromium), or use --format html")


def chromium_command(browser: str, html: Path, pdf: Path, profile: Path) -> list[str]:
    return [
        browser, "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--no-default-browser-check", "--disable-extensions",
        f"--user-data-dir={profile}",
        # no date, title or URL in the page margins: the page says what it is itself
        "--no-pdf-header-footer", "--print-to-pdf-no-header",
        f"--print-to-pdf={pdf}", html.as_uri(),
    ]


def render_pdf(html: str) -> bytes:
    """The PDF bytes of ``html`` (a self-contained page)."""
    browser = find_browser()
    with tempfile.TemporaryDirectory(prefix="slastream-report-") as tmp:
        root = Path(tmp)
        page, out, profile = root / "report.html", root / "report.pdf", root / "profile"
        page.write_text(html, encoding="utf-8")
        try:
            proc = subprocess.run(chromium_command(browser, page, out, profile),
                                  capture_output=True, text=True, timeout=TIMEOUT_S,
                                  check=False, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise SlastreamError(f"chromium did not print the report in {TIMEOUT_S:.0f} s") \
                from None
        except OSError as exc:
            raise SlastreamError(f"cannot start {browser}: {exc}") from None
        if not out.exists() or out.stat().st_size == 0:
            detail = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
            raise SlastreamError(f"chromium printed no PDF: {detail}")
        return out.read_bytes()
