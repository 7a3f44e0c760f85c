"""OpenSLO files read into documents by kind and name, and the problem lines of an import.

Every problem is one line ``FILE: KIND/NAME: what does not map and why``; reading goes on
past each one, so an import lists them all at once (the way ``slastream check`` does).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from slastream.openslo.vocabulary import API_VERSION

KINDS = ("DataSource", "Service", "SLI", "SLO", "AlertPolicy", "AlertCondition",
         "AlertNotificationTarget")


@dataclass(frozen=True)
class NoMap:
    """Why an object does not map: the end of its problem line."""

    why: str


@dataclass(frozen=True)
class Doc:
    """One OpenSLO object: where it was read, its kind and name, its metadata and spec."""

    file: str
    kind: str
    name: str
    metadata: dict[str, Any]
    spec: dict[str, Any]

    @property
    def where(self) -> str:
        return f"{self.file}: {self.kind}/{self.name}"

    @property
    def annotations(self) -> dict[str, Any]:
        value = self.metadata.get("annotations")
        return value if isinstance(value, dict) else {}


@dataclass
class Documents:
    """The documents of all files by (kind, name), with the problem lines found so far."""

    by_key: dict[tuple[str, str], Doc] = field(default_factory=dict)
    order: list[Doc] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    used: set[tuple[str, str]] = field(default_factory=set)

    def fail(self, where: str, what: str) -> None:
        self.problems.append(f"{where}: {what}")

    def of_kind(self, kind: str) -> Iterator[Doc]:
        return (d for d in self.order if d.kind == kind)

    def get(self, kind: str, name: object) -> Doc | None:
        """The named document, marked as used by whoever asks for it."""
        doc = self.by_key.get((kind, name)) if isinstance(name, str) else None
        if doc is not None:
            self.used.add((kind, doc.name))
        return doc

    def json(self, doc: Doc, key: str) -> Any:
        """A JSON annotation's value; ``None`` (and a problem line) when it is not JSON."""
        raw = doc.annotations.get(key)
        if raw is None:
            return None
        try:
            return json.loads(str(raw))
        except ValueError:
            self.fail(doc.where, f"annotation {key} is not JSON: ignored")
            return None

    def number(self, doc: Doc, key: str, integer: bool = True) -> float | None:
        """A numeric annotation, ``None`` when absent (or, with a problem line, not a number)."""
        raw = doc.annotations.get(key)
        if raw is None:
            return None
        try:
            value = float(str(raw))
        except ValueError:
            self.fail(doc.where, f"annotation {key} is not a number ({raw!r}): ignored")
            return None
        if integer and not value.is_integer():
            self.fail(doc.where, f"annotation {key} is not a whole number ({raw!r}): ignored")
            return None
        return int(value) if integer else value


def mapping(value: Any) -> dict[str, Any]:
    """``value`` when it is a mapping, else an empty one."""
    return value if isinstance(value, dict) else {}


def _load(path: str, docs: Documents) -> list[Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        docs.fail(f"{path}: (file)", "not found")
        return []
    except OSError as exc:
        docs.fail(f"{path}: (file)", f"cannot read: {exc.strerror}")
        return []
    try:
        loaded = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(yaml)"
        docs.fail(f"{path}: {where}", f"invalid YAML: {getattr(exc, 'problem', None) or exc}")
        return []
    out: list[Any] = []
    for item in loaded:
        # The OpenSLO SDK writes a file of several objects as one YAML list.
        out.extend(item if isinstance(item, list) else [item])
    return [item for item in out if item is not None]


def _doc(path: str, i: int, raw: Any, docs: Documents) -> Doc | None:
    if not isinstance(raw, dict):
        docs.fail(f"{path}: document {i + 1}", "not a mapping: not an OpenSLO object")
        return None
    kind = raw.get("kind")
    meta = mapping(raw.get("metadata"))
    name = meta.get("name")
    where = f"{path}: {kind if isinstance(kind, str) else '?'}/{name or '?'}"
    if raw.get("apiVersion") != API_VERSION:
        docs.fail(where, f"apiVersion {raw.get('apiVersion')!r} is not {API_VERSION}: "
                         "only OpenSLO v1 is read")
        return None
    if kind not in KINDS:
        docs.fail(where, f"unknown kind: OpenSLO v1 kinds are {', '.join(KINDS)}")
        return None
    spec = raw.get("spec")
    if not isinstance(name, str) or not name or not isinstance(spec, dict):
        docs.fail(where, "needs metadata.name and a spec mapping")
        return None
    return Doc(path, kind, name, meta, spec)


def read(files: list[str]) -> Documents:
    """Every document of ``files``; a name used twice for one kind keeps the first."""
    docs = Documents()
    for path in files:
        for i, raw in enumerate(_load(path, docs)):
            doc = _doc(path, i, raw, docs)
            if doc is None:
                continue
            if (doc.kind, doc.name) in docs.by_key:
                docs.fail(doc.where, "defined twice: the first definition is used")
                continue
            docs.by_key[(doc.kind, doc.name)] = doc
            docs.order.append(doc)
    return docs


def inline(raw: Any, kind: str, where: str) -> Doc | None:
    """An object written inline (an SLI in an SLO, a condition in a policy) as a document."""
    if not isinstance(raw, dict) or not isinstance(raw.get("spec"), dict):
        return None
    meta = mapping(raw.get("metadata"))
    name = meta.get("name")
    name = name if isinstance(name, str) else "(inline)"
    return Doc(where.split(": ")[0], kind, name, meta, raw["spec"])
