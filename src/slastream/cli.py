"""The ``slastream`` command line: one table of commands, each with its arguments and handler.

Handlers import the heavy modules (faust, aiokafka, numpy) themselves, so ``check`` and
``rules`` start fast. Every handler runs through ``slastream.runtime.run_command``: one
line on stderr per error, the exit codes listed there, never a traceback. The environment
is read here and nowhere else (``SLASTREAM_LOG_LEVEL``, ``SLASTREAM_KAFKA_PROFILE``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from slastream import __version__, runtime
from slastream.config import load_settings
from slastream.errors import SlastreamError
from slastream.model.spec import Settings

# Shown by ``slastream --help`` (docs/interfaces.md#command-line).
DESCRIPTION = ("slastream: IoT service-level agreements from live telemetry. Every error is "
               "one line on stderr.")

Handler = Callable[[argparse.Namespace, Mapping[str, str]], int]


@dataclass(frozen=True)
class Argument:
    """One ``add_argument`` call: its flags (or positional name) and keyword options."""

    flags: tuple[str, ...]
    options: Mapping[str, Any] = field(default_factory=dict)


def arg(*flags: str, **options: Any) -> Argument:
    return Argument(flags, options)


@dataclass(frozen=True)
class Command:
    """A subcommand: its name, help, arguments in ``--help`` order, and handler.

    ``description`` defaults to nothing (argparse then shows no description);
    ``log_level`` is the default level of its log records (``SLASTREAM_LOG_LEVEL`` wins).
    """

    name: str
    help: str
    arguments: tuple[Argument, ...]
    handler: Handler
    description: str | None = None
    log_level: int = logging.WARNING


CONFIG = arg("-c", "--config", required=True, metavar="CONFIG", help="YAML config")
BROKERS = (
    arg("--mqtt", metavar="URL", help="MQTT broker, e.g. mqtt://127.0.0.1:1883"),
    arg("--kafka", metavar="BOOTSTRAP", help="Kafka bootstrap, e.g. 127.0.0.1:9092"),
    arg("--http", metavar="PORT", type=int, help="HTTP port for /metrics"),
)
RECORD = arg("--record", metavar="FILE", help="write every message to a capture")


def _settings(args: argparse.Namespace) -> Settings:
    """CONFIG with the broker options of the command line applied."""
    return load_settings(args.config).with_overrides(
        mqtt=getattr(args, "mqtt", None), kafka=getattr(args, "kafka", None),
        http=getattr(args, "http", None),
    )


# ---------------------------------------------------------------------- handlers


def _check(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    settings = load_settings(args.config)
    from slastream.export.alerting import plan_all

    plan_all(settings)  # the per-SLO `alerting:` blocks (raises ConfigError)
    print(f"{args.config}: ok ({len(settings.slos)} SLOs, {len(settings.contracts)} contracts)")
    return runtime.EXIT_OK


def _replay(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from slastream import replay

    if args.jobs is not None and args.jobs < 1:
        raise SlastreamError("--jobs: at least 1")
    return replay.main(_settings(args), args.capture, args.month, args.jobs)


def _rules(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from slastream.export import rules

    return rules.main(_settings(args))


def _run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from slastream.stream import run
    from slastream.stream.profile import profile_from_env

    settings, profile = _settings(args), profile_from_env(env)
    return runtime.run_until_stopped(
        lambda stop: run.command(settings, stop, args.record, profile))


def _bridge(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from slastream.ingest import command as bridge

    settings = _settings(args)
    return runtime.run_until_stopped(
        lambda stop: bridge.command(settings, stop, args.record, args.http))


def _worker(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from slastream.stream import worker
    from slastream.stream.profile import profile_from_env

    settings, profile = _settings(args), profile_from_env(env)
    return runtime.run_until_stopped(lambda stop: worker.command(settings, stop, profile))


def _demo(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from slastream import demo

    options = demo.DemoOptions(duration_s=args.duration, port=args.port, config=args.config,
                               mqtt=args.mqtt, kafka=args.kafka, http=args.http)
    return runtime.run_until_stopped(lambda stop: demo.command(options, stop))


def _simulate(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from slastream import simulate

    return simulate.main(args)


def _probe(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from slastream.probe import run

    settings = _settings(args)
    return runtime.run_until_stopped(lambda stop: run.command(settings, stop, args.capture))


def _accesslog(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from slastream.accesslog import reader

    fields = dict(_field(text) for text in args.field or ())
    fmt = reader.reader_format(args.format, fields)
    return runtime.run_until_stopped(lambda stop: reader.command(
        args.source, args.component, fmt, stop, mqtt=args.mqtt, capture=args.capture,
        from_start=args.from_start, follow=not args.once))


def _webhook(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from dataclasses import replace

    from slastream.support import webhook

    settings = _settings(args)
    if settings.zendesk is None:
        raise SlastreamError(f"{settings.source}: zendesk: no webhook receiver configured")
    zendesk = settings.zendesk if args.port is None else replace(settings.zendesk,
                                                                 port=args.port)
    secret = webhook.signing_secret(env, zendesk)
    return runtime.run_until_stopped(
        lambda stop: webhook.command(zendesk, settings.mqtt.url, secret, stop))


def _field(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise SlastreamError(f"--field must be NAME=VALUE, got {text!r}")
    return name, value


def _openslo(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from slastream import openslo

    if args.action == "export":
        if not args.config or args.files:
            raise SlastreamError("openslo export takes -c CONFIG and no files")
        _write(openslo.export_main(load_settings(args.config)), args.output)
        return runtime.EXIT_OK
    if not args.files:
        raise SlastreamError("openslo import takes one or more OpenSLO files")
    text, problems = openslo.import_main(list(args.files))
    for line in problems:
        print(line, file=sys.stderr)
    _write(text, args.output)
    # constructs that do not map are reported and left out; an invalid result is an error
    invalid = any(line.startswith("<imported config>:") for line in problems)
    return runtime.EXIT_CONFIG if invalid else runtime.EXIT_OK


def _write(text: str, output: str | None) -> None:
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)


def _report(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from slastream.report.command import main as report_main

    return report_main(_settings(args), args.month, args.capture, args.worker, args.format,
                       args.output, args.tenant)


def _with_config(name: str, help_text: str, handler: Handler, *arguments: Argument,
                 log_level: int = logging.WARNING) -> Command:
    return Command(name, help_text, (CONFIG, *arguments), handler, description=help_text,
                   log_level=log_level)


COMMANDS: tuple[Command, ...] = (
    _with_config("replay", "run a capture offline and print the month's ledger as JSON",
                 _replay,
                 arg("capture", metavar="CAPTURE", help="capture file (JSON Lines)"),
                 arg("--month", metavar="YYYY-MM", help="default: month of the first message"),
                 arg("--jobs", metavar="N", type=int,
                     help="decoding processes (default: one per core for a large "
                          "capture on a machine with an idle core); the ledger is the "
                          "same")),
    _with_config("check", "validate a config: exit 0, or 2 with one line per problem", _check),
    _with_config("rules", "print Prometheus recording and alerting rules for every SLO",
                 _rules),
    _with_config("run", "bridge and worker together", _run, *BROKERS, RECORD),
    # INFO: the bridge says when it subscribed and what it forwarded when it stops
    _with_config("bridge", "MQTT → Kafka bridge", _bridge, *BROKERS, RECORD,
                 log_level=logging.INFO),
    _with_config("worker", "Kafka → SLIs, SLOs, /metrics worker", _worker, *BROKERS),
    Command("demo", "embedded demo on local brokers with simulated traffic", (
        arg("--duration", type=float, metavar="S", help="stop after S seconds"),
        arg("--port", type=int, default=9464, metavar="P", help="HTTP port (9464)"),
        arg("-c", "--config", metavar="CONFIG", help="config (default: built-in demo)"),
        *BROKERS), _demo),
    Command("simulate", "publish simulated LoRaWAN, probe and request traffic", (
        arg("--mqtt", metavar="URL", default="mqtt://127.0.0.1:1883"),
        arg("--duration", type=float, metavar="S", help="stop after S seconds"),
        arg("--rate", type=float, default=1.0, metavar="X", help="traffic multiplier"),
        arg("--capture", metavar="FILE", help="write a capture instead of publishing"),
        arg("--start", metavar="RFC3339", help="simulated start time (capture mode)"),
        arg("--seed", type=int, default=1)), _simulate),
    _with_config("report", "the monthly SLA report per contract (html, pdf, csv or json)",
                 _report,
                 arg("--month", metavar="YYYY-MM",
                     help="default: the capture's first month, or the worker's current one"),
                 arg("--capture", metavar="FILE", help="replay this capture"),
                 arg("--worker", metavar="URL", help="read the ledger of a running worker"),
                 arg("--format", choices=("html", "pdf", "csv", "json"), default="html",
                     help="html (default), pdf, csv or json"),
                 arg("-o", "--output", metavar="FILE", help="write here instead of stdout"),
                 arg("--tenant", metavar="ID",
                     help="one tenant's report: its SLO scopes and its contracts")),
    _with_config("probe", "run the synthetic probes of CONFIG and publish their results",
                 _probe, arg("--mqtt", metavar="URL", help="MQTT broker for the results"),
                 arg("--capture", metavar="FILE", help="write capture lines instead")),
    Command("accesslog", "follow an access log and publish its requests of a component", (
        arg("source", metavar="LOG", help="access log file, or - for stdin"),
        arg("--component", required=True, metavar="C", help="component the requests serve"),
        arg("--format", default="combined", metavar="F",
            help="combined (default), json, nginx-json or envoy-json"),
        arg("--field", action="append", metavar="NAME=VALUE",
            help="JSON field names: time_field, duration_field, duration_unit, "
                 "status_field, client_field, bytes_field"),
        arg("--from-start", action="store_true", help="read the file from its start"),
        arg("--once", action="store_true", help="stop at the end of the file"),
        arg("--mqtt", metavar="URL", help="MQTT broker (default mqtt://127.0.0.1:1883)"),
        arg("--capture", metavar="FILE", help="write capture lines instead")), _accesslog),
    Command("openslo", "OpenSLO v1 documents out of a CONFIG, or a CONFIG out of them", (
        arg("action", choices=("export", "import"), help="export or import"),
        arg("files", nargs="*", metavar="FILE", help="OpenSLO documents (import)"),
        arg("-c", "--config", metavar="CONFIG", help="config to export"),
        arg("-o", "--output", metavar="FILE", help="write here instead of stdout")), _openslo),
    _with_config("webhook", "receive Zendesk ticket webhooks and publish them on "
                 "slastream/ticket", _webhook,
                 arg("--mqtt", metavar="URL", help="MQTT broker for the tickets"),
                 arg("--port", type=int, metavar="P", help="HTTP port (zendesk.port: 9466)"),
                 log_level=logging.INFO),
)


def parser(commands: Sequence[Command] = COMMANDS) -> argparse.ArgumentParser:
    """The argument parser of ``commands``; each subparser knows its ``Command``."""
    p = argparse.ArgumentParser(prog="slastream", description=DESCRIPTION)
    p.add_argument("--version", action="version", version=f"slastream {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in commands:
        sp = sub.add_parser(command.name, help=command.help, description=command.description)
        for argument in command.arguments:
            sp.add_argument(*argument.flags, **argument.options)
        sp.set_defaults(spec=command)
    return p


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """``slastream COMMAND ...``: parse, set up logging, run the command; the exit code."""
    args = parser().parse_args(argv)
    command: Command = args.spec
    env = os.environ if environ is None else environ

    def handle() -> int:
        runtime.configure_logging(runtime.log_level(env, command.log_level))
        return command.handler(args, env)

    return runtime.run_command(command.name, handle)
