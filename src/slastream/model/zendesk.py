"""How Zendesk tickets map onto contracts, and where the webhook receiver listens, as frozen
values. Built by ``slastream.config.zendesk`` from the config's ``zendesk:`` section and read
by ``slastream.support.zendesk`` (decoding) and ``slastream.support.webhook`` (the server).
"""

from __future__ import annotations

from dataclasses import dataclass

from slastream.errors import Rejected

# The environment variable holding the webhook's signing secret (docs/interfaces.md).
SECRET_ENV = "SLASTREAM_ZENDESK_SECRET"


@dataclass(frozen=True)
class ZendeskMapping:
    """How one Zendesk account's tickets (or those of some organisations or brands of it)
    map onto a contract's terms.

    ``severities``: Zendesk priority (urgent, high, normal, low) → the contract's severity
    name. ``severity_tags``: ticket tag → severity; the options of a drop-down custom field
    each add a tag of their own, so a "Severity" field is read through its tags, and a
    ticket carrying one has that severity whatever its priority. ``regions``: ticket tag →
    support region. A tag ``{country_prefix}de`` gives the customer's country.
    ``organizations`` / ``brands``: the Zendesk ids (as strings) whose tickets belong to the
    contract; a mapping with neither takes the tickets no other mapping claims.
    """

    contract: str
    severities: tuple[tuple[str, str], ...]
    regions: tuple[tuple[str, str], ...] = ()
    country_prefix: str = "country_"
    plan_tag: str = "resolution_plan"
    contact_tag: str = "phone_contact"
    organizations: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    severity_tags: tuple[tuple[str, str], ...] = ()

    def severity(self, priority: str) -> str:
        for name, severity in self.severities:
            if name == priority.lower():
                return severity
        raise Rejected(f"priority {priority!r} has no severity in the mapping")

    def tagged_severity(self, tags: list[str]) -> str | None:
        """The severity of the first ``severity_tags`` entry whose tag the ticket carries."""
        return next((severity for tag, severity in self.severity_tags if tag in tags), None)


@dataclass(frozen=True)
class ZendeskSettings:
    """The ``zendesk:`` section: the receiver of `slastream webhook` and its mappings.

    ``secret_file``: a file holding the signing secret, when the environment variable
    ``SLASTREAM_ZENDESK_SECRET`` does not (the secret itself never sits in the config).
    """

    mappings: tuple[ZendeskMapping, ...]
    host: str = "127.0.0.1"
    port: int = 9466
    path: str = "/zendesk"
    secret_file: str | None = None
    client_id: str = "slastream-webhook"
    publish_timeout_s: float = 10.0

    def mapping_for(self, organization: str, brand: str) -> ZendeskMapping | None:
        """The mapping of a ticket's organisation, else of its brand, else the catch-all."""
        for m in self.mappings:
            if organization and organization in m.organizations:
                return m
        for m in self.mappings:
            if brand and brand in m.brands:
                return m
        return next((m for m in self.mappings if not m.organizations and not m.brands), None)
