"""The synthetic prober: HTTP(S), TCP/TLS and MQTT round-trip checks on a jittered schedule,
published on ``slastream/probe/{component}`` (or written as capture lines).

``slastream.config.probes`` validates the ``probes:`` and ``probe:`` sections into the values of
``slastream.model.probes``; ``checks`` runs one probe; ``scheduler`` decides when;
``sinks`` deliver; ``metrics`` and ``http`` expose the prober's own state; ``run`` is the
entry point.
"""
