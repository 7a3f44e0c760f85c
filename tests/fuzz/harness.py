"""Run fuzzed messages through every entry point above the MQTT layer and check the
invariants (docs/interfaces.md#rejected-messages):

* no exception escapes: ``router.decode``, the bridge's decode step, both capture paths;
* every message is counted once, as ok, ignored or rejected, with a reason when it is not
  ok, and a message that is not ok adds no events;
* the replay fast path and the plain path give the same events and the same counters for
  every capture line;
* the reason classes that become counter keys stay a small set, whatever the input.

A run is deterministic in ``(target, n, seed)``; a failure names the index of the message.
"""

from __future__ import annotations

import base64
import json
import random
import reprlib
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from prometheus_client import generate_latest

from slastream.config import load_settings
from slastream.engine import Engine
from slastream.export.metrics import build_registry
from slastream.ingest.connection import Segment
from slastream.ingest.decoder import Decoder
from slastream.model.events import Event
from slastream.model.ledger import ledger_json
from slastream.model.time import format_rfc3339_ms
from slastream.sources import router
from slastream.sources.decoder import Batch, capture_batches

from .corpus import generator
from .mutate import mutate_bytes

START_MS = 1_790_812_801_250  # 2026-10-01T00:00:01.250Z
ROOT = Path(__file__).resolve().parents[2]
# every SLI kind (delivery by network and by region, RX2, probe, response time), support
# terms (tickets) and request allowances
SETTINGS = [load_settings(ROOT / path) for path in (
    "tests/export/fixture.yaml", "examples/contracts/cumulocity.yaml",
    "examples/contracts/evrythng.yaml")]
OUTCOMES = (router.OK, router.IGNORED, router.REJECTED)
# a low payload limit, so that the long strings and lists of the mutations reach it
LIMIT = 16_384


def _router() -> router.Router:
    return router.Router(max_payload_bytes=LIMIT)


@dataclass
class Report:
    target: str
    messages: int = 0
    lines: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)  # router.decode, direct
    bridge: Counter[str] = field(default_factory=Counter)  # the bridge's decode step
    events: int = 0
    oversize: int = 0  # rejected by the bridge as oversize
    failures: list[str] = field(default_factory=list)  # crashes and broken invariants
    rejection_keys: set[str] = field(default_factory=set)
    ignored_keys: set[tuple[str, str]] = field(default_factory=set)

    def fail(self, what: str) -> None:
        if len(self.failures) < 50:
            self.failures.append(what[:2000])

    def summary(self) -> str:
        return (f"{self.target}: {self.messages} messages, {self.lines} capture lines, "
                f"outcomes {dict(self.outcomes)}, bridge {dict(self.bridge)}, "
                f"{self.events} events, {self.oversize} oversize, "
                f"{len(self.rejection_keys)} rejection reasons, "
                f"{len(self.ignored_keys)} ignored classes, {len(self.failures)} failures")


_repr = reprlib.Repr()
_repr.maxlevel, _repr.maxstring, _repr.maxother = 6, 80, 80


def _short(payload: Any) -> str:
    return _repr.repr(payload)[:300]


def raw_bytes(payload: Any, rng: random.Random) -> bytes:
    """The payload as an MQTT message body: JSON text (even what orjson would not write:
    integers past 64 bits, NaN, lone surrogates as invalid UTF-8), or the bytes."""
    if type(payload) is bytes:
        return payload
    try:
        return orjson.dumps(payload)
    except (TypeError, orjson.JSONEncodeError):
        pass
    try:
        return json.dumps(payload, ensure_ascii=rng.random() < 0.5).encode(
            "utf-8", "surrogatepass")
    except (RecursionError, ValueError):
        return b"[" * 2000 + b"]" * 2000


def capture_line(received_ms: int, topic: str, body: bytes) -> bytes:
    """A capture line as the bridge records it: the parsed JSON payload, else base64."""
    stamp = format_rfc3339_ms(received_ms)
    head = b'{"received_at":' + orjson.dumps(stamp) + b',"topic":'
    try:
        head += orjson.dumps(topic)
    except orjson.JSONEncodeError:
        head += json.dumps(topic).encode()
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        return head + b',"payload_b64":"' + base64.b64encode(body) + b'"}'
    return head + b',"payload":' + body + b"}"


def damage_line(rng: random.Random, line: bytes) -> bytes:
    """Capture-level damage: bytes, fields, time stamps, blank and partial lines."""
    r = rng.random()
    if r < 0.4:
        return mutate_bytes(rng, line)
    if r < 0.5:
        return rng.choice((b"", b"   ", b"\t", b"\r"))
    if r < 0.6:
        return line[: rng.randrange(len(line) + 1)]
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return mutate_bytes(rng, line)
    key = rng.choice(("received_at", "topic", "payload", "payload_b64"))
    if r < 0.7:
        obj.pop(key, None)
    else:
        obj[key] = rng.choice((None, 1, "", "x", [], {}, "2026-10-01T00:00:01Z",
                               "2026-10-01T02:00:01.250+02:00", "2026-10-01T00:00:01.25Z",
                               "2026-10-01 00:00:01.250Z", "2026-10-01T00:00:01.250z",
                               "AAAA", "****", "2026-10-01T00:00:60.000Z"))
    try:
        return orjson.dumps(obj)
    except orjson.JSONEncodeError:  # nested deeper than orjson writes
        return line[:-1]


def _check_direct(rt: router.Router, topic: str, payload: Any, ms: int, report: Report,
                  where: str) -> None:
    out: list[Event] = []
    try:
        source, outcome, reason = rt.decode(topic, payload, ms, out)
    except Exception:
        report.fail(f"{where}: router.decode raised\n{traceback.format_exc()}")
        return
    report.outcomes[outcome] += 1
    report.events += len(out)
    if outcome not in OUTCOMES or not isinstance(source, str):
        report.fail(f"{where}: outcome {outcome!r} source {source!r}")
    elif (outcome == router.OK) != (reason == "") or not isinstance(reason, str):
        report.fail(f"{where}: outcome {outcome} with reason {reason!r}")
    elif outcome != router.OK and out:
        report.fail(f"{where}: {outcome} ({reason}) but {len(out)} events")


def _check_bridge(dec: Decoder, plain: Decoder, topic: str, body: bytes, ms: int,
                  report: Report, where: str) -> None:
    """``dec`` (with the probe fast path) and ``plain`` (without) must agree."""
    before = dict(dec.totals)
    events: list[Event] = []
    try:
        dead = dec.decode([Segment(None, ms, [topic], [body], [])], events, None)
    except Exception:
        report.fail(f"{where}: the bridge's decode raised\n{traceback.format_exc()}")
        dec.totals = before
        return
    plain_events: list[Event] = []
    plain_dead = plain.decode([Segment(None, ms, [topic], [body], [])], plain_events, None)
    if (repr(events), dead, dec.totals, dec.ignored) != (
            repr(plain_events), plain_dead, plain.totals, plain.ignored):
        report.fail(f"{where}: the fast path gave {events} {dead}, the router "
                    f"{plain_events} {plain_dead}")
    added = {key: n - before.get(key, 0) for key, n in dec.totals.items()
             if n != before.get(key, 0)}
    if list(added.values()) != [1]:
        report.fail(f"{where}: the bridge counted {added}")
    elif len(dead) != (next(iter(added))[1] == router.REJECTED):
        report.fail(f"{where}: {added} with {len(dead)} dead letters")
    report.bridge[next(iter(added))[1] if added else "?"] += 1
    if dead and orjson.loads(dead[0][1])["reason"] == router.OVERSIZE:
        report.oversize += 1


def _batch_view(batch: Batch) -> tuple[Any, ...]:
    return (batch.messages, dict(batch.ingest), dict(batch.rejections), batch.bad_lines,
            batch.first_time_ms, dict(batch.ignored),
            [(cls.__name__, list(evs)) for cls, evs in batch.events.items()])


def _engine_output(batches: list[Batch]) -> bytes:
    """The batches through an engine of every SLI kind: the ledger and /metrics."""
    out = b""
    for settings in SETTINGS:
        engine = Engine(settings)
        for batch in batches:
            engine.feed(batch)
            engine.advance()
        engine.flush()
        out += orjson.dumps(ledger_json(engine.ledger("2026-10")))
        out += generate_latest(build_registry(engine))
    return out


def compare_paths(lines: list[bytes], report: Report, chunk: int = 257) -> None:
    """The fast and the plain capture paths over ``lines``: same batches, every line once,
    and the same ledger and metrics from an engine fed each."""
    views: list[list[tuple[Any, ...]]] = []
    outputs: list[bytes] = []
    for fast in (True, False):
        try:
            batches = list(capture_batches(lines, fast=fast, chunk=chunk, rt=_router()))
        except Exception:
            report.fail(f"capture (fast={fast}) raised\n{traceback.format_exc()}")
            return
        views.append([_batch_view(b) for b in batches])
        _check_counts(lines, batches, report, fast)
        try:
            outputs.append(_engine_output(batches))
        except Exception:
            report.fail(f"the engine (fast={fast}) raised\n{traceback.format_exc()}")
            return
    if outputs[0] != outputs[1]:
        report.fail("the engine's ledger or metrics differ between the capture paths")
    if views[0] != views[1]:
        for i, (a, b) in enumerate(zip(*views, strict=False)):
            if a != b:
                report.fail(f"capture paths differ in batch {i}:\nfast  {a!r:.1500}\n"
                            f"plain {b!r:.1500}")
                break
        else:
            report.fail(f"capture paths give {len(views[0])} and {len(views[1])} batches")


def _check_counts(lines: list[bytes], batches: list[Batch], report: Report, fast: bool) -> None:
    ingest: Counter[tuple[str, str]] = Counter()
    rejections: Counter[str] = Counter()
    ignored: Counter[tuple[str, str]] = Counter()
    for b in batches:
        ingest.update(b.ingest)
        rejections.update(b.rejections)
        ignored.update(b.ignored)
    present = sum(1 for line in lines if line.strip())
    where = f"capture (fast={fast})"
    if sum(ingest.values()) != present:
        report.fail(f"{where}: {present} lines, {sum(ingest.values())} counted")
    if sum(b.messages + b.bad_lines for b in batches) != present:
        report.fail(f"{where}: messages and bad lines do not add up to {present}")
    if sum(rejections.values()) != sum(n for (_, o), n in ingest.items() if o == "rejected"):
        report.fail(f"{where}: rejection reasons do not add up")
    if sum(ignored.values()) != sum(n for (_, o), n in ingest.items() if o == "ignored"):
        report.fail(f"{where}: ignored classes do not add up")
    report.rejection_keys.update(rejections)
    report.ignored_keys.update(ignored)


def run(target: str, n: int, seed: int = 1, lines_per_check: int = 4096) -> Report:
    """``n`` fuzzed messages of ``target`` through every entry point."""
    rng = random.Random(f"{target}/{seed}")
    make = generator(target)
    report = Report(target)
    rt, bridge, plain = _router(), Decoder(_router()), Decoder(_router(), fast=False)
    lines: list[bytes] = []
    damage = 0.5 if target == "capture" else 0.05
    for i in range(n):
        topic, payload = make(rng)
        ms = START_MS + i * rng.choice((0, 1, 7, 250, 1000, 61_000))
        where = f"{target} seed {seed} message {i} topic {topic!r:.80} payload {_short(payload)}"
        report.messages += 1
        _check_direct(rt, topic, payload, ms, report, where)
        body = raw_bytes(payload, rng)
        _check_bridge(bridge, plain, topic, body, ms, report, where)
        line = capture_line(ms, topic, body)
        lines.append(damage_line(rng, line) if rng.random() < damage else line)
        if len(lines) >= lines_per_check or i == n - 1:
            report.lines += len(lines)
            compare_paths(lines, report)
            lines = []
    return report
