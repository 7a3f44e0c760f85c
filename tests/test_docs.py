"""The repository explains itself: comments cite docs/ sections that exist, nothing outside.

Code comments cite ``docs/<name>.md#<anchor>``; an anchor is the GitHub slug of a heading of that
document. Renaming a heading without its citations, or citing a document that is not in
the repository, fails here.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CODE_DIRS = ("src", "tests", "benchmarks")

SECTION_SIGN = chr(0xA7)


def _spell(*parts: str) -> str:
    """Join at run time: neither this file nor its bytecode holds the words it looks for."""
    return "".join(parts)


# Citations of planning documents that are not part of the repository.
FOREIGN_CITATION = re.compile(_spell("BRI", "EF|CONTRACT ", SECTION_SIGN, "|pitfall [0-9]"))
DOC_LINK = re.compile(r"docs/([A-Za-z0-9_-]+\.md)#([A-Za-z0-9_-]+)")
MD_LINK = re.compile(r"\]\(([A-Za-z0-9_./-]*\.md)?#([A-Za-z0-9_-]+)\)")
FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`([^`]*)`", r"\1", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


@cache
def anchors(doc: Path) -> frozenset[str]:
    """Anchors of every heading of a Markdown file (fenced code blocks skipped)."""
    seen: dict[str, int] = {}
    out = set()
    fenced = False
    for line in doc.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        m = None if fenced else HEADING.match(line)
        if m is None:
            continue
        base = slug(m.group(2))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return frozenset(out)


def code_files() -> list[Path]:
    return sorted(p for d in CODE_DIRS for p in (ROOT / d).rglob("*.py")
                  if "__pycache__" not in p.parts)


def citations(files: list[Path]) -> list[tuple[str, str, str]]:
    """``(where, document, anchor)`` for every ``docs/<name>.md#<anchor>`` in ``files``."""
    out = []
    for path in files:
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for m in DOC_LINK.finditer(line):
                out.append((f"{path.relative_to(ROOT)}:{no}", m.group(1), m.group(2)))
    return out


def dangling(cited: list[tuple[str, str, str]]) -> list[str]:
    problems = []
    for where, name, anchor in cited:
        doc = DOCS / name
        if not doc.is_file():
            problems.append(f"{where}: docs/{name} does not exist")
        elif anchor not in anchors(doc):
            problems.append(f"{where}: docs/{name} has no heading with anchor #{anchor}")
    return problems


@pytest.mark.parametrize(("heading", "anchor"), [
    ("Bridge outages", "bridge-outages"),
    ("NS ingress and application side", "ns-ingress-and-application-side"),
    ("MAC-only uplinks", "mac-only-uplinks"),
    ("State and recovery", "state-and-recovery"),
    ("`slastream check`: exit codes", "slastream-check-exit-codes"),
])
def test_slug_follows_github(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def test_no_citation_of_documents_outside_the_repository() -> None:
    hits = [f"{path.relative_to(ROOT)}:{no}: {line.strip()}"
            for path in code_files()
            for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if FOREIGN_CITATION.search(line)]
    assert hits == []


def test_foreign_citation_pattern_catches_each_form() -> None:
    for text in (_spell("see BRI", "EF ", SECTION_SIGN, "3"),
                 _spell("(CONTRACT ", SECTION_SIGN, "4)"), _spell("(pit", "fall 13)")):
        assert FOREIGN_CITATION.search(text), text
    assert not FOREIGN_CITATION.search("docs/semantics.md#bridge-outages")


def test_src_cites_docs() -> None:
    """The citations exist (an empty list would make the next test vacuous)."""
    cited = {name for _, name, _ in citations(code_files())}
    assert {"architecture.md", "semantics.md", "interfaces.md"} <= cited


def test_every_cited_anchor_is_a_heading() -> None:
    assert dangling(citations(code_files())) == []


def test_a_missing_anchor_is_reported() -> None:
    cited = [("x.py:1", "semantics.md", "no-such-section"), ("x.py:2", "nowhere.md", "a")]
    assert dangling(cited) == [
        "x.py:1: docs/semantics.md has no heading with anchor #no-such-section",
        "x.py:2: docs/nowhere.md does not exist",
    ]


@pytest.mark.parametrize("doc", [*sorted(DOCS.glob("*.md")), ROOT / "README.md"],
                         ids=lambda p: p.name)
def test_links_between_documents_resolve(doc: Path) -> None:
    """``[text](other.md#anchor)`` and ``[text](#anchor)`` in docs/ and the README."""
    problems = []
    for no, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
        for m in MD_LINK.finditer(line):
            target = (doc.parent / m.group(1)) if m.group(1) else doc
            if not target.is_file():
                problems.append(f"{doc.name}:{no}: {m.group(1)} does not exist")
            elif m.group(2) not in anchors(target):
                problems.append(f"{doc.name}:{no}: {target.name} has no anchor #{m.group(2)}")
    assert problems == []
