"""Zendesk ticket-event webhooks → ticket events.

Zendesk sends one JSON object per event to a webhook subscribed to ticket events: the
top-level ``type`` (``zen:event-type:ticket.created``, ...), ``time``, ``subject``
(``zen:ticket:35436``), ``detail`` (the ticket: ``id`` as a string, ``priority``, ``status``,
``via.channel``, ``tags``, ``created_at``) and ``event`` (what changed). Mapping:

- ``ticket.created`` → ``opened`` with the severity of its severity tag (the option of a
  drop-down custom field) or else of its priority; created through the ``voice`` channel
  (a phone call) it is also the customer's ``contact``;
- ``ticket.priority_changed`` (``event.current``) → ``severity``, unless a severity tag
  decides the ticket's severity;
- ``ticket.comment_added`` with a public comment by staff (``event.comment.is_public``,
  ``event.comment.author.is_staff``) → ``response``, the first call-back or reply;
- ``ticket.status_changed`` to solved → ``resolved``; from solved or closed back to an
  open status → ``reopened``;
- ``ticket.tags_changed`` adding the plan tag → ``plan``, the contact tag → ``contact``
  (Zendesk has no field for either; agents or a trigger add the tag), a severity tag →
  ``severity`` (a drop-down field set to another option swaps its tag).

Region and country come from the ticket's tags. Other event types are ignored. Which
contract a ticket belongs to is decided by its organisation or brand
(``ZendeskSettings.mapping_for``, ``decode_webhook``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from slastream.errors import Rejected
from slastream.model.events import TicketEvent
from slastream.model.zendesk import ZendeskMapping, ZendeskSettings
from slastream.sources._fields import need_object, sub_object, text, timestamp_ms

PREFIX = "zen:event-type:ticket."
PHONE_CHANNELS = frozenset({"voice"})
EMAIL_CHANNELS = frozenset({"email"})
PORTAL_CHANNELS = frozenset({"web", "web_form", "web_widget", "api", "mobile", "help_center"})
OPEN_STATUSES = frozenset({"new", "open", "pending", "hold"})
DONE_STATUSES = frozenset({"solved", "closed"})


__all__ = ["ZendeskMapping", "decode_webhook", "decode_zendesk", "decoder"]


class _Sink(Protocol):
    def append(self, item: TicketEvent, /) -> None: ...


def _channel(detail: dict[str, Any]) -> str:
    via = sub_object(detail, "via", "detail.")
    channel = text(via, "channel", "detail.via.", default="").lower() if via else ""
    if channel in PHONE_CHANNELS:
        return "phone"
    if channel in EMAIL_CHANNELS:
        return "email"
    return "portal" if channel in PORTAL_CHANNELS else ""


def _ticket_id(detail: dict[str, Any]) -> str:
    value = detail.get("id")
    if type(value) is int or (type(value) is str and value):
        return str(value)
    raise Rejected("detail.id must be a ticket id")


def _tags(detail: dict[str, Any]) -> list[str]:
    tags = detail.get("tags")
    return [t for t in tags if type(t) is str] if type(tags) is list else []


def _where(tags: list[str], mapping: ZendeskMapping) -> tuple[str, str]:
    region = next((r for tag, r in mapping.regions if tag in tags), "")
    country = ""
    for tag in tags:
        code = tag[len(mapping.country_prefix):]
        if tag.startswith(mapping.country_prefix) and len(code) == 2 and code.isalpha():
            country = code.upper()
    return region, country


def _changes(kind: str, obj: dict[str, Any], detail: dict[str, Any],
             mapping: ZendeskMapping) -> list[tuple[str, str]]:
    """(ticket event kind, severity) pairs for one Zendesk event."""
    change = sub_object(obj, "event", "") or {}
    if kind == "priority_changed":
        if mapping.tagged_severity(_tags(detail)) is not None:
            return []  # the severity field decides, not the priority
        return [("severity", mapping.severity(text(change, "current", "event.")))]
    if kind == "comment_added":
        comment = sub_object(change, "comment", "event.") or {}
        author = sub_object(comment, "author", "event.comment.") or {}
        public = comment.get("is_public") is True and author.get("is_staff") is True
        return [("response", "")] if public else []
    if kind == "status_changed":
        current = text(change, "current", "event.").lower()
        previous = text(change, "previous", "event.", default="").lower()
        if current == "solved" and previous != "solved":
            return [("resolved", "")]
        return [("reopened", "")] if previous in DONE_STATUSES and current in OPEN_STATUSES else []
    if kind == "tags_changed":
        added = change.get("tags_added")
        added = [t for t in added if type(t) is str] if type(added) is list else []
        out = [(event, "") for event, tag in (("plan", mapping.plan_tag),
                                               ("contact", mapping.contact_tag)) if tag in added]
        severity = mapping.tagged_severity(added)
        return out + ([("severity", severity)] if severity is not None else [])
    return []


def decode_zendesk(payload: Any, mapping: ZendeskMapping, out: _Sink) -> str | None:
    """One Zendesk webhook request body → ticket events; a reason string when ignored."""
    obj = need_object(payload)
    event_type = text(obj, "type")
    if not event_type.startswith(PREFIX):
        return "not a ticket event"
    kind = event_type[len(PREFIX):]
    detail = sub_object(obj, "detail", "")
    if detail is None:
        raise Rejected("missing detail")
    ident = _ticket_id(detail)
    region, country = _where(_tags(detail), mapping)
    channel = _channel(detail)
    if kind == "created":
        when = timestamp_ms(detail, "created_at", "detail.", default=timestamp_ms(obj, "time"))
        severity = mapping.tagged_severity(_tags(detail)) or mapping.severity(
            text(detail, "priority", "detail.", default="") or "none")
        changes = [("opened", severity)] + ([("contact", "")] if channel == "phone" else [])
    else:
        when = timestamp_ms(obj, "time")
        changes = _changes(kind, obj, detail, mapping)
    if not changes:
        return f"ignored {kind}"
    for event, severity in changes:
        how = channel if event == "opened" else "phone" if event == "contact" else ""
        out.append(TicketEvent(ident, event, when, severity, mapping.contract, region, country,
                               how))
    return None


def decoder(
    mapping: ZendeskMapping,
) -> Callable[[list[str], Any, int, _Sink], str | None]:
    """A router-shaped decoder ``(parts, payload, received_ms, out)`` for one account."""

    def decode(parts: list[str], payload: Any, received_ms: int, out: _Sink) -> str | None:
        return decode_zendesk(payload, mapping, out)

    return decode


def _id_text(detail: dict[str, Any], key: str) -> str:
    """An id Zendesk sends as a string (or a number); "" when absent, null or 0."""
    value = detail.get(key)
    if type(value) is int:
        value = str(value)
    return value if type(value) is str and value not in ("", "0") else ""


def decode_webhook(payload: Any, settings: ZendeskSettings, out: _Sink) -> str | None:
    """One webhook request body → ticket events of the contract its organisation or brand
    belongs to; a reason string when ignored; ``Rejected`` when no mapping claims it."""
    obj = need_object(payload)
    if not text(obj, "type").startswith(PREFIX):
        return "not a ticket event"
    detail = sub_object(obj, "detail", "")
    if detail is None:
        raise Rejected("missing detail")
    organization, brand = _id_text(detail, "organization_id"), _id_text(detail, "brand_id")
    mapping = settings.mapping_for(organization, brand)
    if mapping is None:
        raise Rejected(f"no contract for organization {organization or '-'} "
                       f"and brand {brand or '-'}")
    return decode_zendesk(obj, mapping, out)
