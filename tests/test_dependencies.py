"""Every third-party package slastream imports is declared in pyproject.toml."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import pkgutil
import re
import sys
import tomllib
from pathlib import Path

import slastream

ROOT = Path(__file__).resolve().parents[1]


def canonical(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_distributions() -> set[str]:
    """Names in ``dependencies`` and every optional extra of pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    names = set()
    for requirement in requirements:
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
        assert match, requirement
        names.add(canonical(match[0]))
    return names


def imported_packages(path: Path) -> set[str]:
    """Top-level names of every absolute import in a source file (lazy ones too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return names


def third_party_imports() -> dict[str, set[str]]:
    """Third-party top-level import name → the modules of slastream importing it.

    Imports each module first, so a module that cannot be imported fails here.
    """
    found: dict[str, set[str]] = {}
    for info in pkgutil.walk_packages(slastream.__path__, "slastream."):
        if info.name.rpartition(".")[2] == "__main__":
            continue  # importing it runs the command line
        module = importlib.import_module(info.name)
        assert module.__file__ is not None
        if not module.__file__.endswith(".py"):
            continue  # a compiled extension (sources/_scan.c: Python's C API only)
        for name in imported_packages(Path(module.__file__)):
            if name != "slastream" and name not in sys.stdlib_module_names:
                found.setdefault(name, set()).add(info.name)
    return found


def test_imported_packages_are_declared() -> None:
    imports = third_party_imports()
    assert {"aiohttp", "faust", "yaml"} <= imports.keys()  # the scan finds known imports
    # import name → distribution(s), from the installed packages' metadata (yaml → PyYAML)
    providers = importlib.metadata.packages_distributions()
    declared = declared_distributions()
    undeclared = {
        name: sorted(modules) for name, modules in imports.items()
        if not {canonical(d) for d in providers.get(name, [])} & declared
    }
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"


def test_declared_names_are_canonical() -> None:
    assert canonical("PyYAML") == "pyyaml"
    assert canonical("faust_streaming") == canonical("Faust.Streaming") == "faust-streaming"
