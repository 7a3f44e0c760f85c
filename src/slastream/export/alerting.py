"""Alert plans: each SLO's validated alerting policy together with the SLO it applies to.

The loader (:mod:`slastream.config.alerting`) validates the ``alerting:`` block of every SLO
into ``SLO.alerting`` with the rest of the file; nothing is parsed here. The rule generators
(:mod:`slastream.export.rules`) read an :class:`AlertPlan`: the policy's fields, plus the
names and numbers derived from the SLO.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from slastream.model.alerting import DEFAULT_RUNBOOK_URL, AlertPolicy
from slastream.model.spec import SLO, Settings

__all__ = ["DEFAULT_RUNBOOK_URL", "AlertPlan", "plan_all", "plan_slo", "runbook_link"]


@dataclass(frozen=True)
class AlertPlan(AlertPolicy):
    """One SLO's alerting policy, bound to the SLO: everything the rule generators need."""

    slo: SLO

    @classmethod
    def of(cls, slo: SLO) -> AlertPlan:
        policy = slo.alerting
        return cls(slo=slo, **{f.name: getattr(policy, f.name) for f in fields(policy)})

    @property
    def sloth_id(self) -> str:
        return f"{self.service}-{self.slo.name}"

    @property
    def sloth_labels(self) -> dict[str, str]:
        """The labels Sloth puts on every recording of this SLO."""
        return {"sloth_id": self.sloth_id, "sloth_service": self.service,
                "sloth_slo": self.slo.name}

    @property
    def sloth_selector(self) -> str:
        """PromQL label matcher for this SLO's recordings."""
        return f'{{sloth_id="{self.sloth_id}"}}'

    @property
    def error_budget(self) -> float | None:
        """1 − objective, rounded so 0.999 gives 0.001 and not 0.0010000000000000009."""
        if self.slo.objective is None:
            return None
        return round(1.0 - self.slo.objective, 12)

    @property
    def scope(self) -> str | None:
        """The scope label when the SLO has exactly one: "network" or the component."""
        if self.slo.sli in ("probe", "response_time"):
            return self.slo.component
        return "network" if self.slo.scope_by == "network" else None

    def runbook(self, alert: str) -> str:
        """This SLO's runbook link for an alert name."""
        return runbook_link(self.runbook_url, alert, self.slo.name)


def runbook_link(template: str, alert: str, slo: str = "") -> str:
    """Fill ``{alert}`` (lower-cased, as a Markdown heading anchor) and ``{slo}``."""
    return template.replace("{alert}", alert.lower()).replace("{slo}", slo)


def plan_slo(settings: Settings, index: int) -> tuple[AlertPlan | None, list[str]]:
    """The plan of ``settings.slos[index]``, and no problems: the loader has reported them."""
    return AlertPlan.of(settings.slos[index]), []


def plan_all(settings: Settings) -> list[AlertPlan]:
    """The plan of every SLO, in the order of the config file."""
    return [AlertPlan.of(slo) for slo in settings.slos]
