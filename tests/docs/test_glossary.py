"""docs/glossary.md and the app's Glossary page say the same thing: the page renders the
library's list (`riskshare.core.glossary.TERMS`), and the Glossary section of the docs page must
hold exactly those entries, in the same order (line breaks aside). The jargon the app's pages
use without explaining it inline must have an entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from riskshare.core import glossary

DOCS = Path(__file__).resolve().parents[2] / "docs"


def docs_entries() -> list[str]:
    text = (DOCS / "glossary.md").read_text(encoding="utf-8")
    section = text.split("\n## Glossary\n", 1)[1]
    paragraphs = [" ".join(p.split()) for p in section.split("\n\n") if p.strip()]
    return [p for p in paragraphs if p.startswith("**")]


def test_the_docs_glossary_is_the_library_glossary():
    entries = [t.entry for t in glossary.TERMS]
    assert docs_entries() == entries, (
        "docs/glossary.md's Glossary differs from riskshare/core/glossary.py: "
        + ", ".join(sorted(set(docs_entries()) ^ set(entries)))[:2000])


@pytest.mark.parametrize("word", ["ΣOCT", "SCT", "OCT", "P(miss SCT)", "VaR", "CVaR",
                                  "tail share", "MILP", "LP", "shadow price", "ε", "taper",
                                  "cliff edge", "counterparty", "exempt"])
def test_the_jargon_of_the_pages_is_defined(word):
    assert any(word in f"{t.term} ({t.aside})" for t in glossary.TERMS), word


def test_terms_are_unique_and_find_looks_in_words_too():
    terms = [t.term for t in glossary.TERMS]
    assert len(terms) == len(set(terms))
    # "cvar" in any case: the CVaR entry itself, and tail contribution's definition
    assert [t.term for t in glossary.find("cvar")] == ["CVaR", "tail contribution"]
    assert glossary.find("") == glossary.TERMS
    assert glossary.find("no such word at all") == ()


def test_links_become_file_names_for_the_app():
    assert glossary.plain_links("see [agreements.md](agreements.md) and "
                                "[games.md](games.md#the-certificate).") == \
        "see docs/agreements.md and docs/games.md."
