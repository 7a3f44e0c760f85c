"""Types of the C loop in ``_scan.c`` (see there and ``fastpath.py``)."""

from collections.abc import Callable, Iterable, Iterator
from typing import Any

def setup(read: Callable[[bytes], Any], types: dict[str, type], unset: object,
          log_key: tuple[str, str]) -> None: ...
TOPICS_MAX: int

class Topics:
    def __init__(self, kinds: dict[str, tuple[int, str, str]]) -> None: ...
    def __len__(self) -> int: ...

def skip(lines: Iterator[bytes] | bytes, topics: Topics,
         classify: Callable[[str], tuple[int, str, str]], names: list[str],
         index: dict[str, int], received: bytearray, delivered: bytearray,
         others: dict[type, list[Any]], others_at: dict[type, list[int]], order: list[type],
         ok: list[int], n: int, chunk: int, first: int | None, max_line: int, pos: int,
         ignored: dict[tuple[str, str], int],
         ) -> tuple[bytes | None, Any, int, int | None, int]: ...
def scan(lines: Iterable[bytes]) -> int: ...
def messages(payloads: list[bytes], infos: list[str | tuple[int, str, str] | None],
             limit: int, received_ms: int,
             classes: tuple[type[Any], type[Any], type[Any]]) -> tuple[list[Any], int, int]: ...
