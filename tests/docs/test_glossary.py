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


ROOT = DOCS.parent
PAGES = ROOT / "riskshare" / "ui" / "pages"
#: Words a page shows in a heading, label, metric or sentence (the file that shows it: a page,
#: or the library module whose sentences a page shows), and the entry that defines each.
PAGE_JARGON = {
    "prenucleolus": (PAGES / "fairness.py", "prenucleolus"),
    "imputation set is empty": (ROOT / "riskshare" / "games" / "certificate.py",
                                "imputation set"),
    "Walk-away margin": (PAGES / "fairness.py", "walk-away margin"),
    "Cooperative gain": (PAGES / "fairness.py", "cooperative gain"),
    "fair shares": (PAGES / "fairness.py", "fair share"),
    "Shapley": (PAGES / "fairness.py", "Shapley value"),
    "least core": (PAGES / "fairness.py", "least core"),
    "nucleolus": (PAGES / "fairness.py", "nucleolus"),
    "(λ)": (PAGES / "fairness.py", "λ"),
    "spread £m": (PAGES / "compare.py", "spread"),
    "chance worse off": (PAGES / "compare.py", "P(worse off)"),
    "worst 5% average": (PAGES / "compare.py", "CVaR"),
    "vs alone": (PAGES / "compare.py", "standalone"),
    "Net pool": (PAGES / "agreement.py", "net pool"),
    "Unallocated": (PAGES / "agreement.py", "unallocated"),
    '"retained"': (PAGES / "agreement.py", "retained"),
    '"net transfer"': (PAGES / "agreement.py", "net transfer"),
    '"standalone"': (PAGES / "agreement.py", "standalone"),
    "Binding: ": (ROOT / "riskshare" / "optimisation" / "result.py", "binding"),
    "shortfall": (PAGES / "fairness.py", "shortfall"),
}


@pytest.mark.parametrize("shown", list(PAGE_JARGON))
def test_every_word_a_page_shows_has_an_entry(shown):
    source, word = PAGE_JARGON[shown]
    # the page (or the sentence builder it shows) still uses the word, so the list stays true
    assert shown.casefold() in source.read_text(encoding="utf-8").casefold(), (shown, source)
    words = {t.term.casefold() for t in glossary.TERMS} | {
        a.strip().casefold() for t in glossary.TERMS for a in t.aside.split(",")}
    assert word.casefold() in words, word


def test_the_app_names_its_own_pages_not_files_a_reader_does_not_have():
    shown = "\n".join(glossary.app_links(t.entry) for t in glossary.TERMS)
    for path in ("docs/", ".md", "models/", "riskshare/"):
        assert path not in shown, path
    assert ("**Shapley value**: each member's average contribution: how much it adds to a group "
            "when it joins, averaged over every order in which the members could join. Above 16 "
            "members it is estimated from random orders of joining, with a standard error. See "
            "the Fairness page.") in shown
    assert "see the Reconcile page." in shown          # rebalancing
    # the docs page keeps its links to the reference pages beside it
    assert "[games.md](games.md)" in "\n".join(t.entry for t in glossary.TERMS)


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
