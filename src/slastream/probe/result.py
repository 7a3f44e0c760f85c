"""What one probe run found, and the ``slastream/probe/{component}`` payload made from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from slastream.model.time import format_rfc3339_ms

# Why a run failed, as a small fixed set: the ``reason`` label of the failure counter (the
# full text goes into the published result, never into a label).
Cause = Literal["", "timeout", "dns", "refused", "connect", "tls", "certificate_expiry",
                "status", "condition", "mqtt", "error"]


@dataclass(frozen=True)
class Outcome:
    """The check's verdict. ``status`` None: no HTTP status (not HTTP, or no response)."""

    ok: bool
    status: int | None
    latency_ms: float | None
    reason: str = ""
    cause: Cause = ""

    @classmethod
    def failed(cls, cause: Cause, reason: str, latency_ms: float | None = None,
               status: int | None = None) -> Outcome:
        return cls(False, status, latency_ms, reason, cause)


@dataclass(frozen=True)
class ProbeReport:
    """An outcome stamped with when, where and for which probe."""

    time_ms: int
    probe: str
    component: str
    location: str
    outcome: Outcome

    @property
    def topic(self) -> str:
        return f"slastream/probe/{self.component}"

    def payload(self) -> dict[str, Any]:
        """The published JSON object: the decoder's fields, then ``reason``, ``location``
        and ``probe`` (extra fields, ignored by the decoder)."""
        o = self.outcome
        latency = None if o.latency_ms is None else round(o.latency_ms, 3)
        return {"time": format_rfc3339_ms(self.time_ms), "ok": o.ok, "status": o.status,
                "latency_ms": latency, "reason": o.reason, "location": self.location,
                "probe": self.probe}
