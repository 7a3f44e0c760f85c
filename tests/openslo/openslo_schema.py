"""The OpenSLO v1 JSON schema (tests/openslo/schema/README.md) as a validator."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator
from referencing import Registry, Resource

SCHEMA_DIR = Path(__file__).parent / "schema"


@cache
def validator() -> Draft7Validator:
    """openslo.schema.json, with every part resolved from the files here by its ``$id``."""
    resources = []
    for path in sorted(SCHEMA_DIR.rglob("*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resources.append((schema["$id"], Resource.from_contents(schema)))
    registry: Registry = Registry().with_resources(resources)
    root = json.loads((SCHEMA_DIR / "openslo.schema.json").read_text(encoding="utf-8"))
    Draft7Validator.check_schema(root)
    return Draft7Validator(root, registry=registry)


def errors(document: Any) -> list[str]:
    """Every schema violation of one document, as ``path: message``."""
    found = validator().iter_errors(document)
    return sorted(f"{'/'.join(map(str, e.absolute_path)) or '(document)'}: {e.message}"
                  for e in found)
