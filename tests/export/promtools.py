"""Real Prometheus tools for the tests: promtool, prometheus, alertmanager, amtool.

CI installs them (scripts/bootstrap: Debian packages ``prometheus`` and
``prometheus-alertmanager``). A test that needs one and does not find it fails; it never
skips, so a missing binary cannot pass as green.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


def binary(*names: str) -> str:
    """Path of the first of ``names`` on PATH; fails the test when none is installed."""
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    pytest.fail(f"{' or '.join(names)} not found on PATH: run scripts/bootstrap "
                "(Debian packages prometheus, prometheus-alertmanager)")


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120,
                          check=False)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@dataclass
class Service:
    """A started binary listening on ``url``; its log is in ``log_path``."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


@contextlib.contextmanager
def _started(args: list[str], url: str, ready_path: str, log_path: Path) -> Iterator[Service]:
    with log_path.open("wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    service = Service(process, url, log_path)
    try:
        deadline = time.monotonic() + 30
        while not _ready(url + ready_path):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{args[0]} did not start:\n{service.log()}")
            time.sleep(0.1)
        yield service
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def prometheus(workdir: Path, scrape_targets: list[str], rule_files: list[Path],
               alertmanager_url: str | None = None, interval: str = "1s") -> Iterator[Service]:
    """A real Prometheus on a free port with a temporary data directory."""
    exe = binary("prometheus")
    port = free_port()
    config: dict[str, Any] = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": [str(p) for p in rule_files],
        "scrape_configs": [{"job_name": "slastream",
                            "static_configs": [{"targets": scrape_targets}]}],
    }
    if alertmanager_url:
        target = urllib.parse.urlsplit(alertmanager_url).netloc
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [target]}]}]}
    config_path = workdir / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config))
    args = [exe, f"--config.file={config_path}", f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}", "--rules.alert.resend-delay=1s",
            "--log.level=warn"]
    with _started(args, f"http://127.0.0.1:{port}", "/-/ready", workdir / "prometheus.log") as s:
        yield s


@contextlib.contextmanager
def alertmanager(workdir: Path, webhook_url: str | None = None,
                 config_path: Path | None = None) -> Iterator[Service]:
    """A real Alertmanager on a free port, clustering off.

    With ``webhook_url``: everything goes to that webhook within a second. With
    ``config_path``: that configuration file as it is.
    """
    exe = binary("prometheus-alertmanager", "alertmanager")
    port = free_port()
    if config_path is None:
        assert webhook_url is not None
        config = {
            "route": {"receiver": "test", "group_by": ["alertname", "slo", "scope", "tier"],
                      "group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"},
            "receivers": [{"name": "test", "webhook_configs": [
                {"url": webhook_url, "send_resolved": True}]}],
        }
        config_path = workdir / "alertmanager.yml"
        config_path.write_text(yaml.safe_dump(config))
    args = [exe, f"--config.file={config_path}", f"--storage.path={workdir / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
            "--log.level=warn"]
    with _started(args, f"http://127.0.0.1:{port}", "/-/ready", workdir / "am.log") as s:
        yield s
