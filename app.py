"""riskshare app: a thin Streamlit entry point routing to the pages in riskshare/ui/pages/.

Run with `make app` (or `streamlit run app.py`).
"""

import streamlit as st

from riskshare.agreements import describe as agreement_words
from riskshare.ui import scenario_controls, state
from riskshare.ui.text import md

st.set_page_config(page_title="riskshare", page_icon=":material/account_balance:",
                   layout="wide")
# Narrower side margins than Streamlit's 5rem, so tables fit a 1280 px projector uncut.
# Below 1500 px, metric figures a little smaller (six to a row are never cut: "-£24.1…") and a
# narrower sidebar, so the members table fits uncut.
st.html("<style>[data-testid='stMainBlockContainer']"
        "{padding-left:2rem;padding-right:2rem;max-width:1800px}"
        "@media (max-width:1500px){[data-testid='stMetricValue']{font-size:1.7rem}"
        "section[data-testid='stSidebar']{width:250px !important;min-width:250px !important}}"
        "</style>")

# The System page is the app's root ("/"). A default page still reserves a pathname, so it
# reserves "home", and "/system" (the name a user types) is a hidden page that leads there.
SYSTEM_PAGE = st.Page("riskshare/ui/pages/system.py", title="System", icon=":material/groups:",
                      url_path="home", default=True)


def _system_by_name() -> None:
    """/system leads to the System page."""
    st.switch_page(SYSTEM_PAGE)


PAGES = [
    SYSTEM_PAGE,
    st.Page("riskshare/ui/pages/reconcile.py", title="Reconcile", icon=":material/balance:",
            url_path="reconcile"),
    st.Page("riskshare/ui/pages/agreement.py", title="Agreement", icon=":material/handshake:",
            url_path="agreement"),
    st.Page("riskshare/ui/pages/scenarios.py", title="Scenarios", icon=":material/casino:",
            url_path="scenarios"),
    st.Page("riskshare/ui/pages/in_year.py", title="In year", icon=":material/calendar_month:",
            url_path="in-year"),
    st.Page("riskshare/ui/pages/risks.py", title="Risks", icon=":material/report:",
            url_path="risks"),
    st.Page("riskshare/ui/pages/years.py", title="Years ahead", icon=":material/timeline:",
            url_path="years-ahead"),
    st.Page("riskshare/ui/pages/compare.py", title="Compare", icon=":material/compare_arrows:",
            url_path="compare"),
    st.Page("riskshare/ui/pages/optimise.py", title="Optimise", icon=":material/tune:",
            url_path="optimise"),
    st.Page("riskshare/ui/pages/fairness.py", title="Fairness", icon=":material/diversity_3:",
            url_path="fairness"),
    st.Page("riskshare/ui/pages/workshop.py", title="Workshop", icon=":material/co_present:",
            url_path="workshop"),
    st.Page("riskshare/ui/pages/presenter.py", title="Presenter view",
            icon=":material/speaker_notes:", url_path="presenter", visibility="hidden"),
    st.Page("riskshare/ui/pages/glossary.py", title="Glossary", icon=":material/menu_book:",
            url_path="glossary"),
]

page = st.navigation([*PAGES, st.Page(_system_by_name, title="System", url_path="system",
                                      visibility="hidden")])
with st.sidebar:
    st.markdown("### riskshare")
    system = state.current_system()
    st.caption(f"System: **{md(system.label)}** · {system.n} members · {md(state.source())}")
    state.return_button()
    agreement_slot = st.empty()   # said again after the page runs: it may edit the agreement
    state.return_agreement_button()
    scenario_controls.sidebar()


def _agreement_caption() -> None:
    agreement = state.current_agreement()  # named, then said from its parameters in force
    agreement_slot.caption(f"Agreement: **{md(agreement_words.title(agreement))}** · "
                           f"{md(agreement_words.headline(agreement))}")


state.keep_choices()       # a page's choices are still there when the user comes back
_agreement_caption()       # kept when a page stops early (st.stop ends the run's output)
try:
    page.run()
finally:
    _agreement_caption()
