"""Glossary page: the words the other pages use (ΣOCT, VaR, CVaR, ε, shadow price, ...), from
the library's one list (`riskshare.core.glossary`), with a filter."""

from __future__ import annotations

import streamlit as st

from riskshare.core.glossary import TERMS, app_links, find
from riskshare.ui.text import md

st.title("Glossary")
st.markdown("What the words, abbreviations and symbols on the other pages mean. Money is in £ "
            "(shown in £m); a surplus or a favourable variance is positive (+), a deficit or an "
            "adverse variance negative (−); variance = forecast − control total. Percentages in "
            "an agreement are % of its scale column (turnover unless it names another); shares "
            "are fractions (0.5 = half).")

query = st.text_input("Find a word", key="glossary_find", placeholder="e.g. CVaR, taper, ε",
                      help="Shows the entries whose word or definition contains this text.")
terms = find(query) if query.strip() else TERMS
if not terms:
    st.info(f"No entry mentions “{md(query.strip())}”. Clear the box to see every entry.")
else:
    if query.strip():
        st.caption(f"{len(terms)} of {len(TERMS)} entries mention “{md(query.strip())}”.")
    # the library's own Markdown (no user text), links written as the app page they concern
    st.markdown("\n\n".join(app_links(t.entry) for t in terms))
