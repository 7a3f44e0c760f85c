"""The ``slastream`` command line (docs/interfaces.md#command-line). Errors: one line on stderr."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any

from slastream import __version__
from slastream.config import load_settings
from slastream.errors import ConfigError, SlastreamError
from slastream.model.spec import Settings


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="slastream", description=__doc__)
    p.add_argument("--version", action="version", version=f"slastream {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_config(name: str, help_text: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_text, description=help_text)
        sp.add_argument("-c", "--config", required=True, metavar="CONFIG", help="YAML config")
        return sp

    def with_brokers(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--mqtt", metavar="URL", help="MQTT broker, e.g. mqtt://127.0.0.1:1883")
        sp.add_argument("--kafka", metavar="BOOTSTRAP", help="Kafka bootstrap, e.g. 127.0.0.1:9092")
        sp.add_argument("--http", metavar="PORT", type=int, help="HTTP port for /metrics")

    sp = with_config("replay", "run a capture offline and print the month's ledger as JSON")
    sp.add_argument("capture", metavar="CAPTURE", help="capture file (JSON Lines)")
    sp.add_argument("--month", metavar="YYYY-MM", help="default: month of the first message")
    with_config("check", "validate a config: exit 0, or 2 with one line per problem")
    with_config("rules", "print Prometheus recording and alerting rules for every SLO")
    for name, text in (("run", "bridge and worker together"), ("bridge", "MQTT → Kafka bridge"),
                       ("worker", "Kafka → SLIs, SLOs, /metrics worker")):
        sp = with_config(name, text)
        with_brokers(sp)
        if name in ("run", "bridge"):
            sp.add_argument("--record", metavar="FILE", help="write every message to a capture")
    sp = sub.add_parser("demo", help="embedded demo on local brokers with simulated traffic")
    sp.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    sp.add_argument("--port", type=int, default=9464, metavar="P", help="HTTP port (9464)")
    sp.add_argument("-c", "--config", metavar="CONFIG", help="config (default: built-in demo)")
    with_brokers(sp)
    sp = sub.add_parser("simulate", help="publish simulated LoRaWAN, probe and request traffic")
    sp.add_argument("--mqtt", metavar="URL", default="mqtt://127.0.0.1:1883")
    sp.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    sp.add_argument("--rate", type=float, default=1.0, metavar="X", help="traffic multiplier")
    sp.add_argument("--capture", metavar="FILE", help="write a capture instead of publishing")
    sp.add_argument("--start", metavar="RFC3339", help="simulated start time (capture mode)")
    sp.add_argument("--seed", type=int, default=1)
    return p


def _load(args: argparse.Namespace) -> Settings:
    settings = load_settings(args.config)
    return settings.with_overrides(
        mqtt=getattr(args, "mqtt", None), kafka=getattr(args, "kafka", None),
        http=getattr(args, "http", None),
    )


def _call(module: str, func: str, *a: Any) -> int:
    fn: Callable[..., int] = getattr(importlib.import_module(module), func)
    return fn(*a)


def _dispatch(args: argparse.Namespace) -> int:
    cmd = args.command
    if cmd == "check":
        settings = load_settings(args.config)
        from slastream.export.alerting import plan_all

        plan_all(settings)  # the per-SLO `alerting:` blocks (raises ConfigError)
        print(f"{args.config}: ok ({len(settings.slos)} SLOs, {len(settings.contracts)} contracts)")
        return 0
    if cmd == "replay":
        return _call("slastream.replay", "main", _load(args), args.capture, args.month)
    if cmd == "rules":
        return _call("slastream.export.rules", "main", _load(args))
    if cmd == "bridge":
        return _call("slastream.ingest.bridge", "main", _load(args), args.record)
    if cmd == "worker":
        return _call("slastream.stream.worker", "main", _load(args))
    if cmd == "run":
        return _call("slastream.stream.run", "main", _load(args), args.record)
    if cmd == "demo":
        return _call("slastream.demo", "main", args)
    if cmd == "simulate":
        return _call("slastream.simulate", "main", args)
    raise AssertionError(cmd)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except ConfigError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        return 2
    except SlastreamError as exc:
        print(f"slastream {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:
        print(f"slastream {args.command}: {exc.strerror or exc}", file=sys.stderr)
        return 1
