"""Topic layouts: templates that say where a source's fields sit in an MQTT topic.

Network servers let operators move their topics: ChirpStack prefixes gateway topics with
the region's ``topic_prefix`` only when one is set (``eu868/gateway/{id}/event/up`` as well
as ``gateway/{id}/event/up``), operators add their own prefixes
(``chrp-gateway/au16ch/{id}/event/up``), and The Things Stack writes the tenant into the
application id only on multi-tenant deployments (``v3/{app}@{tenant}/devices/{dev}/up``).

A template is a topic with named fields in braces, one per topic level or part of a level:
``{region}``, ``{gateway}``, ``{application}``, ``{tenant}``, ``{device}`` and ``{event}``
(which may span levels: ``event/up``, ``down/queued``). A matching topic is rewritten into
the *canonical* topic levels the decoders read (``{region}/gateway/{gateway}/event/up`` for
ChirpStack's gateway side, and so on), so decoders never see a layout. See
docs/interfaces.md#topic-layouts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

SourceKind = Literal["chirpstack_gateway", "chirpstack", "tts"]
SOURCE_KINDS: tuple[SourceKind, ...] = ("chirpstack_gateway", "chirpstack", "tts")
FIELDS = ("region", "gateway", "application", "tenant", "device", "event")

# The last topic levels slastream decodes per source: what ``{event}`` may stand for.
EVENTS: dict[SourceKind, tuple[str, ...]] = {
    "chirpstack_gateway": ("event/up", "event/ack", "command/down"),
    "chirpstack": ("up", "txack", "ack", "log", "join"),
    "tts": ("up", "join", "down/queued", "down/sent", "down/failed", "down/ack", "down/nack"),
}
# Fields each source needs from its topic (a template must name them).
REQUIRED: dict[SourceKind, tuple[str, ...]] = {
    "chirpstack_gateway": ("gateway", "event"),
    "chirpstack": ("application", "device", "event"),
    "tts": ("application", "device", "event"),
}
DEFAULT_LAYOUTS: dict[SourceKind, tuple[str, ...]] = {
    "chirpstack_gateway": ("{region}/gateway/{gateway}/{event}", "gateway/{gateway}/{event}"),
    "chirpstack": ("application/{application}/device/{device}/event/{event}",),
    "tts": ("v3/{application}@{tenant}/devices/{device}/{event}",
            "v3/{application}/devices/{device}/{event}"),
}
NO_REGION = "default"  # the region of a gateway topic whose layout names none

_FIELD = re.compile(r"\{([a-z_]+)\}")


class TemplateError(ValueError):
    """A template that cannot work; the message says why (for ``slastream check``)."""


@dataclass(frozen=True)
class Template:
    """One compiled layout of one source."""

    source: SourceKind
    text: str
    pattern: re.Pattern[str]
    filters: tuple[str, ...]  # MQTT subscription filters that cover exactly its topics

    def canonical(self, topic: str) -> list[str] | None:
        """The canonical topic levels of ``topic``, or ``None`` when it does not match."""
        m = self.pattern.fullmatch(topic)
        if m is None:
            return None
        f = m.groupdict()
        event = f["event"].split("/")
        if self.source == "chirpstack_gateway":
            return [f.get("region") or NO_REGION, "gateway", f["gateway"], *event]
        if self.source == "chirpstack":
            return ["application", f["application"], "device", f["device"], "event", *event]
        tenant = f.get("tenant")
        app = f"{f['application']}@{tenant}" if tenant else f["application"]
        return ["v3", app, "devices", f["device"], *event]


def compile_template(source: SourceKind, text: str) -> Template:
    """Compile one template. Raises ``TemplateError`` with a one-line reason."""
    names = _FIELD.findall(text)
    for name in names:
        if name not in FIELDS:
            raise TemplateError(f"unknown field {{{name}}}; known: {', '.join(FIELDS)}")
    for name in sorted({n for n in names if names.count(n) > 1}):
        raise TemplateError(f"field {{{name}}} appears twice")
    missing = [n for n in REQUIRED[source] if n not in names]
    if missing:
        raise TemplateError(f"must name {', '.join('{' + n + '}' for n in missing)}")
    if not text.endswith("{event}"):
        raise TemplateError("must end with {event}")
    if "+" in text or "#" in text or text.startswith("/") or "//" in text:
        raise TemplateError("must be a topic with {fields}, not an MQTT filter")
    events = "|".join(re.escape(e) for e in EVENTS[source])
    regex, filter_levels, pos = [], [], 0
    for m in _FIELD.finditer(text):
        regex.append(re.escape(text[pos:m.start()]))
        name = m.group(1)
        if name == "event":
            regex.append(f"(?P<event>{events})")
        else:
            # a field followed by "@" stops there: TTS writes "{application}@{tenant}"
            stop = "/@" if text[m.end():m.end() + 1] == "@" else "/"
            regex.append(f"(?P<{name}>[^{stop}]+)")
        pos = m.end()
    regex.append(re.escape(text[pos:]))
    prefix = text[: -len("{event}")]
    for level in prefix.split("/")[:-1]:
        filter_levels.append("+" if "{" in level else level)
    base = "/".join(filter_levels)
    filters = tuple(f"{base}/{e}" if base else e for e in EVENTS[source])
    return Template(source, text, re.compile("".join(regex)), filters)


class Layouts:
    """Every template of every source, tried in order (first match wins)."""

    def __init__(self, templates: Iterable[Template]) -> None:
        self.templates = tuple(templates)

    @classmethod
    def from_config(cls, layouts: Mapping[str, Sequence[str]] | None = None) -> Layouts:
        """Templates per source; a source not given keeps its defaults. Raises
        ``TemplateError`` (the loader has checked a config's templates already)."""
        given = layouts or {}
        return cls(compile_template(src, text) for src in SOURCE_KINDS
                   for text in given.get(src, DEFAULT_LAYOUTS[src]))

    def canonical(self, topic: str) -> list[str] | None:
        """The canonical levels of a network-server topic, ``None`` if no template matches."""
        for t in self.templates:
            levels = t.canonical(topic)
            if levels is not None:
                return levels
        return None

    def filters(self) -> tuple[str, ...]:
        """MQTT subscription filters covering every template (duplicates removed)."""
        out: dict[str, None] = {}
        for t in self.templates:
            out.update(dict.fromkeys(t.filters))
        return tuple(out)
