"""One root exception; every failure a user can see is a subclass of it."""


class SlastreamError(Exception):
    """Root of all slastream errors. Its message is one line, fit for stderr."""


class ConfigError(SlastreamError):
    """The configuration is invalid. ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems[0] if problems else "invalid configuration")
        self.problems = problems


class CaptureError(SlastreamError):
    """A capture file cannot be opened or read at all (bad lines are counted, not raised)."""


class BrokerError(SlastreamError):
    """A broker (MQTT or Kafka) cannot be reached or refused us."""


class Rejected(SlastreamError):
    """A message is malformed. Raised inside decoders, caught at the router, counted."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
