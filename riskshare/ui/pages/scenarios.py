"""Scenarios page: simulate many years' variances around the forecast (plus any shocks) and see,
for the current agreement, where each member ends up and how likely it is to miss its control
total, lose support or be worse off than on its own."""

from __future__ import annotations

import numpy as np
import streamlit as st

from riskshare.agreements.outcome import apply
from riskshare.agreements.risk import SYSTEM_ROW, risk_table, worse_off
from riskshare.core.cells import csv_text
from riskshare.core.errors import ValidationError
from riskshare.core.format import money_m
from riskshare.reports import charts
from riskshare.scenarios.shocks import shocked_variances
from riskshare.ui import cache, state
from riskshare.ui.scenario_controls import (
    chunk_for,
    result_or_stop,
    scenario_controls,
    store,
)
from riskshare.ui.tables import money_m_columns, show_validation_error
from riskshare.ui.text import md

RESULT = "rs_scenarios_result"
MONEY = {"mean_final": "mean final £m", "sd_final": "sd final £m",
         "mean_standalone": "mean alone £m", "sd_standalone": "sd alone £m",
         "var95": "VaR 95% £m", "cvar95": "CVaR 95% £m", "tail_contribution": "tail share £m"}
PCT = {"p_miss_control_total": "P(miss CT)", "p_lose_support": "P(lose support)",
       "p_worse_off": "P(worse off)"}

st.title("Scenarios")
st.markdown("Thousands of possible years: each member's variance is its forecast variance plus a "
            "random draw (its volatility, % of turnover, correlated across members), plus any "
            "shocks. See where each member ends up under the current agreement, against its "
            "control total and against standing alone. Money in £m.")
state.system_caption()
system = state.current_system()
agreement = state.agreement_caption()

settings = scenario_controls("scn", system)
inputs = (settings, system, agreement)


def run() -> dict:
    """Simulate, then the risk metrics (with progress) and the quantile bands."""
    bar = st.progress(0.0, text="Simulating…")
    scenarios = settings.simulate(system)
    chunk = chunk_for(settings.n)
    risk = risk_table(agreement, system, scenarios, chunk=chunk,
                      progress=lambda done, total: bar.progress(
                          0.8 * done / total, text=f"Applying the agreement: {done:,} of "
                                                   f"{total:,} scenarios"))
    finals, alones = [], []
    for start in range(0, scenarios.n, chunk):
        out = apply(agreement, system, scenarios.variances[start:start + chunk])
        finals.append(out["final"])
        alones.append(out["standalone"])
        bar.progress(0.8 + 0.2 * min(start + chunk, scenarios.n) / scenarios.n,
                     text="Distributions…")
    bands = charts.band_data(np.vstack(finals), np.vstack(alones), system)
    bar.empty()
    return {"risk": risk, "bands": bands, "describe": scenarios.describe()}


# Does the agreement fit this system?
try:
    cache.apply(agreement, system)
except ValidationError as exc:
    show_validation_error(exc, "The current agreement does not fit this system —")
    st.stop()

if st.button("Run", type="primary", icon=":material/play_arrow:", key="scn_run"):
    try:
        store(RESULT, inputs, run())
    except ValidationError as exc:
        show_validation_error(exc, "The scenarios were not run —")

# The deterministic shocked case: no randomness, just forecast + shocks.
shocked = cache.apply(agreement, system, shocked_variances(system, settings.shocks))
t = shocked.table
worse = shocked.worse_off
which = "With the shocks" if settings.shocks else "At the forecast (no shocks chosen)"
st.info(f"**{which}**, without random variation: the system ends "
        f"{money_m(float((t['final'] - t['control_total']).sum()), 1, sign=True)} against the "
        f"sum of control totals; "
        + (f"worse off than on their own: {md(', '.join(worse))}." if worse
           else "no member is worse off than on its own."), icon=":material/bolt:")

result = result_or_stop(RESULT, inputs, "Choose the settings and press **Run** to simulate.",
                        "The settings, system or agreement changed: press **Run** to simulate "
                        "again.")

risk = result["risk"]
st.caption(f"Results: {md(result['describe'])} — agreement “{md(agreement.name)}”.")

members = risk.drop(index=SYSTEM_ROW)
row = risk.loc[SYSTEM_ROW]
c1, c2, c3, c4 = st.columns(4)
c1.metric("System: mean final", money_m(row["mean_final"], 1),
          delta=money_m(row["mean_final"] - row["mean_standalone"], 1, sign=True) + " vs alone")
c2.metric("System: P(miss SCT)", f"{row['p_miss_control_total']:.0%}")
c3.metric("System: CVaR 95% vs ΣOCT", money_m(row["cvar95"], 1),
          help="Mean shortfall against the sum of control totals over the worst 5% of scenarios.")
c4.metric("Members more likely than not worse off",
          str(int(worse_off(members).sum())))

st.altair_chart(charts.distribution_bands(result["bands"]), width="stretch")
st.altair_chart(charts.probability_chart(risk, system), width="stretch")

st.subheader("Risk metrics")
shown = risk.drop(columns=["retention_gain", "retention_loss"])  # on the Agreement page
for c in MONEY:
    shown[c] = shown[c] / 1e6
for c in PCT:
    shown[c] = shown[c] * 100
config = money_m_columns(MONEY)
config.update({c: st.column_config.NumberColumn(label, format="%.1f%%")
               for c, label in PCT.items()})
config["org_id"] = st.column_config.TextColumn("member", help="org_id (names in the charts "
                                                              "above)")
st.dataframe(shown.reset_index(), hide_index=True, width="stretch", column_config=config)
st.caption("Positions are final − control total for VaR, CVaR (mean of the worst 5%) and tail "
           "share (the member's mean over the system's worst 5%, adding up to the system's "
           "CVaR). "
           "SYSTEM: P(miss CT) is P(system misses its SCT); P(lose support) is P(any member "
           "loses support).")
st.download_button("Download the risk metrics (.csv)",
                   csv_text(risk, index=True).encode("utf-8"),
                   file_name="scenario_risk_metrics.csv", mime="text/csv", key="dl_scn_csv",
                   on_click="ignore",
                   help="Every metric for every member and the system (£; probabilities as "
                        "fractions). " + md(risk.attrs.get("reference", "")) + ".")
