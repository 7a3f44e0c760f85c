"""``slastream replay``: a capture through the same decoders and SLI/SLO code, offline.

On a machine with several cores a large capture is decoded in parallel: split into byte
ranges at line starts, each range decoded into column batches (``sources/columns.py``) by
a worker process, and the main process feeds them to one engine in file order, cut again
at exactly the message counts where a single pass closes its batches
(``columns.rechunk``). So watermarks advance at the same points and the engine ends in
the same state as with one pass. Decoding is most of a replay's time, the engine's work
stays in one process (docs/architecture.md#performance).

The one piece of decoder state, the DevAddr of each The Things Stack device's session
(``router.Sessions``), is learned from earlier lines; a range after the first that decodes
any The Things Stack message could see it differently, so such a capture is replayed in
one pass instead.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
import stat
import sys
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from slastream.engine import Engine
from slastream.errors import CaptureError, SlastreamError
from slastream.model.ledger import ledger_json
from slastream.model.spec import Settings
from slastream.model.time import Month
from slastream.sources import fastpath, router
from slastream.sources.columns import ColumnBatch, Names, rechunk, renamed
from slastream.sources.decoder import CHUNK

# Ranges of about this size: large enough that a range's hand-over (a few arrays and the
# other events, pickled) is cheap next to decoding it, small enough that the workers and
# the engine overlap from the start.
RANGE_BYTES = 24 << 20
# Below this a capture is replayed in one pass: starting workers would cost more.
PARALLEL_MIN_BYTES = 4 * RANGE_BYTES
_STATEFUL_SOURCE = "tts"  # whose decoding depends on earlier lines (router.Sessions)
_Job = tuple[str, int, int]  # capture path, byte range


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a replay, then restore it.

    A replay allocates millions of event tuples and keeps large dicts of in-flight
    uplinks; the collector's periodic passes over them cost about a fifth of the replay's
    time and find nothing, because decoding and the SLIs create no reference cycles
    (reference counting frees everything). Measured with benchmarks/replay_paths.py.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def replay(settings: Settings, capture_path: str, workers: int | None = None) -> Engine:
    """Run a whole capture through a fresh engine and flush it.

    ``workers``: decoding processes (default: :func:`default_jobs` when the capture is
    large enough to pay for them; 1 decodes in this process). A capture that is not a
    regular file (a pipe) is read in one pass whatever ``workers`` says.
    """
    try:
        info = os.stat(capture_path)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError
        size = info.st_size if stat.S_ISREG(info.st_mode) else 0
        if workers is None:
            workers = default_jobs() if size >= PARALLEL_MIN_BYTES else 1
        with collector_paused():
            if workers > 1 and size:
                try:
                    return _parallel(settings, capture_path, size, workers)
                except (_StatefulCapture, _WorkerLost):
                    pass
            return _one_pass(settings, capture_path)
    except FileNotFoundError:
        raise CaptureError(f"{capture_path}: capture file not found") from None
    except IsADirectoryError:
        raise CaptureError(f"{capture_path}: is a directory, not a capture file") from None


def default_jobs() -> int:
    """Decoding processes worth starting: every usable core while the one-minute load
    average leaves at least half a core idle, else 1. Measured with benchmarks/replay.py
    on two cores: with one of them busy elsewhere, two workers took a 6-hour capture from
    9.8 s to 6.5 s; with both busy (load 4 to 5) they made it slower, 8 s instead of
    5.7 s for a third of it, since they cost about a quarter more CPU time than one pass
    (the hand-over, and caches shared with the main process)."""
    cores = len(os.sched_getaffinity(0))
    return cores if os.getloadavg()[0] <= cores - 0.5 else 1


def _one_pass(settings: Settings, capture_path: str) -> Engine:
    engine = Engine(settings)
    with open(capture_path, "rb", buffering=1 << 20) as fh:
        for batch in fastpath.column_batches(fh, CHUNK, router.for_settings(settings)):
            engine.feed_columns(batch)
            engine.advance()
        engine.flush()
    return engine


def _parallel(settings: Settings, capture_path: str, size: int, workers: int) -> Engine:
    engine = Engine(settings)
    ranges = byte_ranges(capture_path, size, max(workers, -(-size // RANGE_BYTES)))
    jobs = [(capture_path, start, end) for start, end in ranges]
    pool = ProcessPoolExecutor(workers, mp_context=_processes(), initializer=_start_worker,
                               initargs=(settings,))
    try:
        for batch in rechunk(_checked(_decoded(pool, jobs, 2 * workers)), CHUNK):
            engine.feed_columns(batch)
            engine.advance()
    except BrokenProcessPool:
        # a decoding process died (killed, out of memory): the range it held is lost, so
        # the capture is replayed again from its start in this process
        print("replay: a decoding process ended abruptly; replaying in one process",
              file=sys.stderr)
        raise _WorkerLost from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    engine.flush()
    return engine


def _decoded(pool: ProcessPoolExecutor, jobs: list[_Job], ahead: int
             ) -> Iterator[ColumnBatch]:
    """The ranges decoded, in file order, at most ``ahead`` of them under way or waiting
    (memory stays bounded when the workers outpace the engine), their names in one table.

    A worker names strings by its own table, kept across its ranges, and hands over only
    the names it added since its previous range (``_handed_over``); its ranges arrive here
    in the order it decoded them (the pool hands out jobs in order), so each worker's
    table is rebuilt here as a map to the engine's table, and a range's name columns are
    mapped through it. Each string is looked up here once per worker, not once per range
    (a range of a 10,000-device network names most devices)."""
    queue: deque[Future[_HandedOver]] = deque()
    todo = iter(jobs)
    for job in itertools.islice(todo, ahead):
        queue.append(pool.submit(_handed_over, job))
    names = Names()
    luts: dict[int, npt.NDArray[np.int64]] = {}  # by worker: its name index -> the engine's
    while queue:
        part, worker, known = queue.popleft().result()
        for job in itertools.islice(todo, 1):
            queue.append(pool.submit(_handed_over, job))
        lut = luts.get(worker, np.zeros(0, dtype=np.int64))
        assert len(lut) == known, "a worker's names handed over out of order"
        if part.names:
            lut = luts[worker] = np.concatenate(
                (lut, np.array(names.of_all(part.names), dtype=np.int64)))
        yield renamed(part, lut, names)._replace(
            events={cls: list(map(partial(tuple.__new__, cls), evs))
                    for cls, evs in part.events.items()})


# a range as a worker hands it over: the batch (its names: those new to the worker's table),
# the worker (its process id), how many names the worker had handed over before
_HandedOver = tuple[ColumnBatch, int, int]


def _handed_over(job: _Job) -> _HandedOver:
    """A range decoded in a worker, with the names its table gained since the worker's
    previous range, its events as plain tuples: a named tuple pickles through Python code
    of its own, over three times the cost (0.07 against 0.02 s for the events of 10
    ranges; measured), and ``_decoded`` makes them named again."""
    part = decode_range(job)
    worker = _worker
    assert worker is not None
    known = worker.sent
    worker.sent = len(part.names)
    plain: dict[type, list[Any]] = {cls: list(map(tuple, evs))
                                    for cls, evs in part.events.items()}
    return part._replace(events=plain, names=part.names[known:]), os.getpid(), known


def _processes() -> multiprocessing.context.BaseContext:
    """Fork while this is the only thread (the command line): workers start at once with
    the imports done. Fork copies only the calling thread, so a process running others
    (a report server, say) spawns fresh interpreters instead."""
    return multiprocessing.get_context("fork" if threading.active_count() == 1 else "spawn")


class _StatefulCapture(Exception):
    """A range after the first decoded a message whose decoding depends on earlier lines."""


class _WorkerLost(Exception):
    """A decoding process ended before handing its range over."""


def _checked(parts: Iterator[ColumnBatch]) -> Iterator[ColumnBatch]:
    for i, part in enumerate(parts):
        if i and any(source == _STATEFUL_SOURCE for source, _ in part.ingest):
            raise _StatefulCapture
        yield part


def byte_ranges(path: str, size: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` consecutive ranges covering the file, each starting at a line start."""
    bounds = [0]
    with open(path, "rb") as fh:
        for i in range(1, parts):
            at = size * i // parts
            if at <= bounds[-1]:
                continue
            fh.seek(at - 1)
            fh.readline()  # to the end of the line that byte at - 1 is in
            if fh.tell() >= size:
                break
            if fh.tell() > bounds[-1]:
                bounds.append(fh.tell())
    bounds.append(size)
    return list(itertools.pairwise(bounds))


class _Worker:
    """What a decoding process keeps from one range to the next: the router of the
    settings, the topics it has classified (a capture's topics repeat in every range), its
    table of names and how many of them it has handed over."""

    def __init__(self, settings: Settings) -> None:
        self.router = router.for_settings(settings)
        self.topics = fastpath.Topics()
        self.names = Names()
        self.sent = 0


_worker: _Worker | None = None


def _start_worker(settings: Settings) -> None:
    global _worker
    gc.disable()  # a worker lives for the replay only; see collector_paused
    _worker = _Worker(settings)


def decode_range(job: _Job, settings: Settings | None = None) -> ColumnBatch:
    """One byte range of a capture as one column batch (message ordinals from 0), as a
    worker process decodes it: with the process's router (``settings`` when there is
    none), its sessions fresh (``router.Sessions``: see the module's docstring), its
    names those of the process's table (every name of the ranges it decoded so far)."""
    path, start, end = job
    worker = _worker
    if worker is None:
        assert settings is not None, "decode_range outside a worker needs the settings"
        worker = _Worker(settings)
    worker.router.sessions = router.Sessions()
    with open(path, "rb") as fh:
        fh.seek(start)
        data = fh.read(end - start)
    # the range whole: split into lines as a file yields them (after each b"\n" only)
    (batch,) = fastpath.column_batches(data, sys.maxsize, worker.router, worker.topics,
                                       names=worker.names)
    return batch


def main(settings: Settings, capture_path: str, month: str | None,
         jobs: int | None = None) -> int:
    if month is not None:
        try:
            Month.parse(month, settings.timezone)
        except ValueError as exc:
            raise SlastreamError(f"--month: {exc}") from None
    engine = replay(settings, capture_path, jobs)
    ledger = ledger_json(engine.ledger(month))
    sys.stdout.buffer.write(orjson.dumps(ledger, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.flush()
    return 0
