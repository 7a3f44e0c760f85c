"""How every ``slastream`` command runs: logging, stop signals, exceptions → exit codes.

A command is a plain function returning its exit code (0); it reports a failure by
raising ``SlastreamError`` (or ``ConfigError``), never by printing. ``run_command`` turns
what it raises into one line on stderr and an exit code; long-running commands take a
``stop`` event from ``run_until_stopped`` and shut down gracefully once it is set.

Exit codes: 0 ok (also when stdout was closed by the reader: a broken pipe), 1 a
slastream or OS error, 2 an invalid configuration (one line per problem), 130
interrupted (128 + SIGINT, the shell's convention).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from slastream.errors import ConfigError, SlastreamError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130

LOG_LEVEL_ENV = "SLASTREAM_LOG_LEVEL"
LOG_FORMAT = "slastream %(levelname)s %(name)s: %(message)s"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

if TYPE_CHECKING:  # asyncio is imported by the long-running commands only (start-up time)
    import asyncio

    StopFunction = Callable[[asyncio.Event], Coroutine[Any, Any, int]]


# ---------------------------------------------------------------------- logging


class _OneLine(logging.Formatter):
    """Log records as one line each: the message, never a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return super().format(record).splitlines()[0]


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is when a record comes (like logging's last
    resort handler), so a stream replaced later (a test's capture) is still right."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = sys.stderr
            stream.write(self.format(record) + "\n")
            stream.flush()
        except Exception:  # logging's contract: a failing handler reports, never raises
            self.handleError(record)


def log_level(environ: Mapping[str, str], default: int) -> int:
    """The level named by ``SLASTREAM_LOG_LEVEL`` (a name like ``INFO``), else ``default``.

    Read once, at the entry point. Raises ``SlastreamError`` on an unknown name.
    """
    name = environ.get(LOG_LEVEL_ENV, "").strip().upper()
    if not name:
        return default
    if name not in LOG_LEVELS:
        raise SlastreamError(f"{LOG_LEVEL_ENV}={name!r}: must be one of {', '.join(LOG_LEVELS)}")
    return logging.getLevelNamesMapping()[name]


def configure_logging(level: int = logging.WARNING) -> None:
    """One-line log records on stderr, at ``level``.

    faust and mode are chatty below ERROR; aiokafka logs an ERROR per failed connection
    attempt while a broker is away, which the bridge and the worker report themselves,
    once, as a ``BrokerError``.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(old)
    handler = _StderrHandler()
    handler.setFormatter(_OneLine(LOG_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("faust", "mode"):
        logging.getLogger(noisy).setLevel(max(level, logging.ERROR))
    logging.getLogger("aiokafka").setLevel(max(level, logging.CRITICAL))


# ---------------------------------------------------------------------- signals


def install_stop_signals(stop: asyncio.Event) -> None:
    """SIGINT and SIGTERM set ``stop``; a second one gets the default handling (SIGINT:
    ``KeyboardInterrupt``, exit 130), so a shutdown that hangs can still be interrupted."""
    import asyncio

    loop = asyncio.get_running_loop()

    def first(sig: signal.Signals) -> None:
        stop.set()
        loop.remove_signal_handler(sig)

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, first, sig)


def run_until_stopped(main: StopFunction) -> int:
    """Run ``main(stop)`` on a new event loop; SIGINT or SIGTERM set ``stop``.

    ``main`` stops its tasks once ``stop`` is set and returns the exit code.
    """

    import asyncio

    async def guarded() -> int:
        stop = asyncio.Event()
        install_stop_signals(stop)
        return await main(stop)

    return asyncio.run(guarded())


# ---------------------------------------------------------------------- errors


def first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error to report from a task group: a slastream error first, else the first."""
    leaves: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                walk(inner)
        else:
            leaves.append(exc)

    walk(group)
    for exc in leaves:
        if isinstance(exc, SlastreamError):
            return exc
    return leaves[0]


def run_command(command: str, handler: Callable[[], int]) -> int:
    """Call ``handler`` and map what it raises to an exit code, printing at most one line
    per problem on stderr (``slastream COMMAND: message``); never a traceback."""
    try:
        code = handler()
        sys.stdout.flush()  # here, not at exit, so a reader gone away is a broken pipe below
        return code
    except ConfigError as exc:
        for line in exc.problems:
            _error(line)
        return EXIT_CONFIG
    except SlastreamError as exc:
        _error(f"slastream {command}: {exc}")
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_OK
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        _error(f"slastream {command}: {where}{exc.strerror or exc}")
        return EXIT_FAILURE


def _error(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _discard_stdout() -> None:
    """The reader of stdout has gone (``slastream replay ... | head``): point stdout at
    /dev/null, so the interpreter's final flush does not fail a second time."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
