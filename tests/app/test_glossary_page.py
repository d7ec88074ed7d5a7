"""App tests (Streamlit AppTest) for the Glossary page: reachable from every page through the
navigation, it shows the library's entries (riskshare.core.glossary), filters them, and shows
what a user typed as text."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from riskshare.core.glossary import TERMS

APP = str(Path(__file__).resolve().parents[2] / "app.py")
GLOSSARY = "riskshare/ui/pages/glossary.py"
PAGES = ["system", "reconcile", "agreement", "scenarios", "compare", "optimise", "fairness",
         "workshop"]


def open_glossary() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(GLOSSARY).run()
    assert not at.exception, at.exception
    return at


def shown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_the_glossary_shows_every_entry_with_the_jargon_explained():
    at = open_glossary()
    assert at.title[0].value == "Glossary"
    assert not at.error
    text = shown(at)
    for term in TERMS:
        assert f"**{term.term}**" in text, term.term
    assert "**ΣOCT**: the sum of the members' organisational control totals." in text
    assert "**VaR** (value at risk, `var95`): the 1-in-20 bad year" in text
    assert "**shadow price**: how much the optimiser's objective would improve" in text
    # the reference pages are named as the app page where their subject is at work: a finance
    # director has no repository beside the app
    assert "](metrics.md)" not in text and "docs/" not in text and "models/" not in text
    assert "**rebalancing**: proposing revised OCTs that add up exactly to the SCT; see the " \
           "Reconcile page." in text
    # the words the pages use are defined here too
    assert "**walk-away margin** (the least-core ε at the best split): " in text
    assert "**prenucleolus**: the nucleolus without the requirement" in text
    assert "**imputation set**: the splits of the system's total" in text
    assert "**cooperative gain**: what pooling under the agreement adds" in text
    assert "**spread** (sd): the standard deviation of a position" in text


def test_finding_a_word_keeps_only_its_entries():
    at = open_glossary()
    at.text_input(key="glossary_find").input("cvar").run()
    text = shown(at)
    assert "**CVaR**" in text and "**tail contribution**" in text
    assert "**taper**" not in text
    assert "2 of " in "\n".join(c.value for c in at.caption)


def test_a_word_with_no_entry_is_shown_as_typed():
    at = open_glossary()
    at.text_input(key="glossary_find").input("**bold** [link](x)").run()
    assert not at.exception
    assert "No entry mentions “**bold** [link](x)”" in at.info[0].value


@pytest.mark.parametrize("page", PAGES)
def test_the_glossary_opens_from_every_page(page):
    at = AppTest.from_file(APP, default_timeout=60).run()
    if page != "system":
        at.switch_page(f"riskshare/ui/pages/{page}.py").run()
    assert not at.exception, at.exception
    # switch_page refuses a page that st.navigation does not register
    at.switch_page(GLOSSARY).run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Glossary"
