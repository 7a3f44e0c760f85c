"""Decoders: MQTT topic + payload → canonical events. Pure functions, no I/O.

Each decoder has the signature ``decode(parts, payload, received_ms, out) -> str | None``:
``parts`` is the topic split on ``/``, ``payload`` the parsed JSON value, ``received_ms``
the bridge's receive time. It appends zero or more canonical events to ``out`` and returns
``None`` when the message was used, or a short reason when it was valid but irrelevant
(``"ignored"`` outcome, e.g. a join-request or a status event). Malformed input raises
``slastream.errors.Rejected`` (or any ``ValueError``/``KeyError``/``TypeError``), which the
router turns into a counted rejection.
"""
