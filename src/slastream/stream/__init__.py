"""The faust worker: thin adapters that run the engine per Kafka partition.

``app``        create_app(settings) and the runtime (agent, checkpoints, ticker, follower)
``partition``  one partition's engine, offsets and ticks (pure)
``records``    the records the worker writes: markers, slice batches, checkpoints, breaches
``view``       all partitions' slices merged: the ledger and metrics on every worker
``breaches``   outage episode start/end events
``profile``    Kafka client settings: production, and the embedded (Tansu) profile
``worker``     ``slastream worker``; ``run``: bridge and worker in one process
"""

from slastream.stream.app import StreamWorker, create_app

__all__ = ["StreamWorker", "create_app"]
