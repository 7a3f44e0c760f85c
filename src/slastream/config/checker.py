"""The one checker every section of a config file is validated with.

Each problem is one line ``FILE: KEY: what is wrong``; a check that fails records its line
and returns the default, so loading goes on and every problem is found in one pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from slastream.model.alerting import parse_duration_s

_L = TypeVar("_L", bound=str)


class Checker:
    """Collects the problem lines of one file while its sections are read."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    @property
    def base_dir(self) -> Path | None:
        """The config file's directory (relative paths in it start there), or None when
        the document did not come from a file."""
        path = Path(self.source)
        return path.parent if path.is_file() else None

    def fail(self, key: str, what: str) -> None:
        self.problems.append(f"{self.source}: {key}: {what}")

    def mapping(self, value: Any, key: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(key, f"must be a mapping, got {type(value).__name__}")
            return {}
        return value

    def unknown(self, data: dict[str, Any], key: str, allowed: set[str]) -> None:
        for k in data:
            if k not in allowed:
                self.fail(f"{key}.{k}" if key else str(k), "unknown key")

    def num(
        self, data: dict[str, Any], key: str, path: str, default: float | None,
        lo: float | None = None, hi: float | None = None, integer: bool = False,
    ) -> float | None:
        value = data.get(key, default)
        if value is None:
            return None
        full = f"{path}.{key}" if path else key
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(full, f"must be a number, got {value!r}")
            return default
        if integer and not float(value).is_integer():
            self.fail(full, f"must be a whole number, got {value!r}")
            return default
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            rng = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
            self.fail(full, f"must be {rng}, got {value!r}")
            return default
        return value

    def text(self, data: dict[str, Any], key: str, path: str, default: str | None,
             choices: tuple[str, ...] | None = None) -> str | None:
        if key not in data:
            return default
        value = data[key]
        if value is None:
            return None
        full = f"{path}.{key}" if path else key
        if not isinstance(value, str) or not value:
            self.fail(full, f"must be a non-empty string, got {value!r}")
            return default
        if choices and value not in choices:
            self.fail(full, f"must be one of {', '.join(choices)}; got {value!r}")
            return default
        return value

    def choice(self, data: dict[str, Any], key: str, path: str, default: _L,
               choices: tuple[_L, ...]) -> _L:
        """One of ``choices`` (the values of a ``Literal`` kind), or ``default``."""
        value = self.text(data, key, path, default, choices)
        return next((c for c in choices if c == value), default)

    def flag(self, data: dict[str, Any], key: str, path: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.fail(f"{path}.{key}" if path else key, f"must be true or false, got {value!r}")
            return default
        return value

    def duration(self, value: Any, key: str, default: int) -> int:
        """A Prometheus duration in seconds; ``None`` (absent) is ``default``."""
        if value is None:
            return default
        try:
            return parse_duration_s(value)
        except ValueError as exc:
            self.fail(key, str(exc))
            return default


_DAY_HOURS = re.compile(r"^\s*(\d\d):(\d\d)\s*-\s*(\d\d):(\d\d)\s*$")


def day_hours(raw: Any) -> tuple[int, int] | None:
    """``"08:00-17:00"`` as minutes after midnight ``(480, 1020)``, start before end, end at
    most ``24:00``; ``None`` for anything else (the caller says what is wrong)."""
    m = _DAY_HOURS.match(raw) if isinstance(raw, str) else None
    if m is None:
        return None
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if h1 > 23 or m1 > 59 or m2 > 59 or not start < end <= 1440:
        return None
    return start, end


def existing_file(raw: Any, key: str, base_dir: Path | None,
                  fail: Callable[[str, str], None]) -> str | None:
    """A file path the config names (``None`` when absent), relative to the config file like
    every path in it, checked to exist; the failure is reported under ``key``."""
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw:
        fail(key, f"must be a file path; got {raw!r}")
        return None
    if base_dir is None:
        return raw
    path = base_dir / raw
    if not path.is_file():
        fail(key, f"file not found: {path}")
        return None
    return str(path)
