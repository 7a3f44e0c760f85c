"""Types of ``_table.c``: its ``Table(width)`` makes the table ``table.Table`` describes."""

from typing import Any

from slastream.sli.table import Table as _Interface

def Table(width: int) -> _Interface[Any]: ...  # a class, typed as its constructor
