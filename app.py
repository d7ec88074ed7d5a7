"""riskshare app: a thin Streamlit entry point routing to the pages in riskshare/ui/pages/.

Run with `make app` (or `streamlit run app.py`).
"""

import streamlit as st

from riskshare.ui import state
from riskshare.ui.text import md

st.set_page_config(page_title="riskshare", page_icon=":material/account_balance:",
                   layout="wide")

PAGES = [
    st.Page("riskshare/ui/pages/system.py", title="System", icon=":material/groups:",
            url_path="system", default=True),
    st.Page("riskshare/ui/pages/reconcile.py", title="Reconcile", icon=":material/balance:",
            url_path="reconcile"),
    st.Page("riskshare/ui/pages/agreement.py", title="Agreement", icon=":material/handshake:",
            url_path="agreement"),
    st.Page("riskshare/ui/pages/scenarios.py", title="Scenarios", icon=":material/casino:",
            url_path="scenarios"),
    st.Page("riskshare/ui/pages/compare.py", title="Compare", icon=":material/compare_arrows:",
            url_path="compare"),
    st.Page("riskshare/ui/pages/optimise.py", title="Optimise", icon=":material/tune:",
            url_path="optimise"),
    st.Page("riskshare/ui/pages/fairness.py", title="Fairness", icon=":material/diversity_3:",
            url_path="fairness"),
    st.Page("riskshare/ui/pages/workshop.py", title="Workshop", icon=":material/co_present:",
            url_path="workshop"),
]

page = st.navigation(PAGES)
with st.sidebar:
    st.markdown("### riskshare")
    system = state.current_system()
    st.caption(f"{md(system.label)} · {system.n} members")
    st.caption(f"Agreement: {md(state.current_agreement().name)}")
page.run()
