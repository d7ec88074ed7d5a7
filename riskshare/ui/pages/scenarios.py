"""Scenarios page: simulate many years' variances around the forecast (plus any shocks) and see,
for the current agreement, where each member ends up and how likely it is to miss its control
total, lose support or be worse off than on its own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from riskshare.agreements import describe as agreement_words
from riskshare.agreements.outcome import apply
from riskshare.agreements.risk import SYSTEM_ROW, risk_table, worse_off
from riskshare.core.cells import csv_text
from riskshare.core.errors import ValidationError
from riskshare.core.filenames import export_name
from riskshare.core.format import listed, millions, money_m
from riskshare.reports import charts
from riskshare.reports.workbooks import scenarios_workbook
from riskshare.scenarios.shocks import shocked_variances
from riskshare.ui import cache, state
from riskshare.ui.scenario_controls import chunk_for, last_result, page_summary, store
from riskshare.ui.tables import show_validation_error
from riskshare.ui.text import md

RESULT = "rs_scenarios_result"
NAMES = ("scenario settings", "system", "agreement")
# column: (label, help) — plain words in the labels, the technical term in the help
MONEY = {
    "mean_final": ("mean final £m", "The member's final position (support included), averaged "
                                    "over the scenarios."),
    "sd_final": ("spread £m", "Standard deviation (sd) of the final position."),
    "mean_standalone": ("mean alone £m", "The final position with no agreement, averaged."),
    "sd_standalone": ("spread alone £m", "Standard deviation (sd) of the position alone."),
    "var95": ("1-in-20 bad year £m", "VaR 95%: final − control total in the 5th-worst "
                                     "percentile of scenarios (negative: short)."),
    "cvar95": ("average of worst 5% £m", "CVaR 95% (expected shortfall): the mean of final − "
                                         "control total over the member's worst 5% of "
                                         "scenarios."),
    "tail_contribution": ("in the system's worst 5% £m",
                          "Tail share: the member's mean final − control total over the "
                          "system's worst 5% of scenarios; these add up to the system's "
                          "CVaR 95%."),
}
PCT = {
    "p_miss_control_total": ("chance of missing its control total",
                             "P(miss CT): the share of scenarios in which the member's outturn "
                             "(before support) is below its control total."),
    "p_lose_support": ("chance of losing support",
                       "P(lose support): the share of scenarios in which the member earns less "
                       "than all the support at stake for it (blank: none at stake)."),
    "p_worse_off": ("chance of being worse off than alone",
                    "P(worse off): the share of scenarios in which the member ends below where "
                    "it would be with no agreement."),
}

st.title("Scenarios")
st.markdown("Thousands of possible years: each member's variance is its forecast variance plus a "
            "random draw (its volatility, % of turnover, correlated across members), plus any "
            "shocks. See where each member ends up under the current agreement, against its "
            "control total and against standing alone. Money in £m.")
state.system_caption()
system = state.current_system()
agreement = state.agreement_caption()

settings = page_summary(system)
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
# The same system figures, with the same references, as the Agreement page's headline.
line = shocked.system
st.info(f"**{which}**, without random variation: system outturn (before support) "
        f"{money_m(line['system_outturn'])}, {money_m(line['sct_variance'], sign=True)} against "
        f"the SCT; after sharing and support "
        + (f"all {system.n} members, inside the SCT and outside it, end at " if system.has_outside
           else "the members end at ")
        + f"{money_m(float(t['final'].sum()))} together (as on the Fairness page), "
        f"{money_m(float((t['final'] - t['control_total']).sum()), sign=True)} against the sum "
        + ("of all their control totals. " if system.has_outside
           else "of their control totals (ΣOCT). ")
        + (f"Worse off than on their own: {listed(md(m) for m in worse)}." if worse
           else "No member is worse off than on its own."), icon=":material/bolt:")

result, (made_settings, made_system, made_agreement) = last_result(
    RESULT, inputs, NAMES,
    "Check the scenario settings (in the sidebar) and press **Run** to simulate.")

risk = result["risk"]
st.caption(f"Results: {md(result['describe'])} — agreement "
           f"“{md(agreement_words.title(made_agreement))}” on {md(made_system.label)}.")

members = risk.drop(index=SYSTEM_ROW)
row = risk.loc[SYSTEM_ROW]
c1, c2, c3, c4 = st.columns(4)
c1.metric("System final (with support)", money_m(row["mean_final"]),
          delta=money_m(row["mean_final"] - row["mean_standalone"], sign=True) + " vs alone",
          help="The system's final position (support included), averaged over the scenarios; "
               "the change is against every member standing alone.")
c2.metric("Chance system misses SCT", f"{row['p_miss_control_total']:.0%}",
          help="P(miss SCT): the share of scenarios in which the system's outturn is below the "
               "system control total (SCT), i.e. the system misses its control total.")
c3.metric("System worst 5% vs ΣOCT", money_m(row["cvar95"]),
          help="CVaR 95%: the average of the system's final position against the sum of the "
               "members' control totals (ΣOCT) over its worst 5% of scenarios.")
c4.metric("Members likely worse off",
          f"{int(worse_off(members).sum())} of {len(members)}",
          help="Members worse off than on their own in more than half of the scenarios.")

st.altair_chart(charts.distribution_bands(result["bands"]), width="stretch")
st.altair_chart(charts.probability_chart(risk, made_system), width="stretch")

st.subheader("Risk metrics for each member")
shown = members.drop(columns=["retention_gain", "retention_loss"])  # on the Agreement page
for c in MONEY:
    shown[c] = shown[c] / 1e6
for c in PCT:
    shown[c] = shown[c] * 100
# £m shown as the Styler writes them (the app's rounding rule), not by a column format
config = {c: st.column_config.NumberColumn(label, help=help_)
          for c, (label, help_) in MONEY.items()}
config.update({c: st.column_config.NumberColumn(label, format="%.1f%%", help=help_)
               for c, (label, help_) in PCT.items()})
config["org_id"] = st.column_config.TextColumn("member", help="org_id (names in the charts "
                                                              "above)")
# three tabs of a few columns each: eleven columns side by side are cut at 1280 px
GROUPS = {"Position": ["mean_final", "sd_final", "mean_standalone", "sd_standalone"],
          "Chances": list(PCT),
          "Bad years": ["var95", "cvar95", "tail_contribution"]}
for tab, columns in zip(st.tabs(list(GROUPS)), GROUPS.values(), strict=True):
    with tab:
        st.dataframe(shown.reset_index().style.format(millions, subset=list(MONEY)),
                     hide_index=True, width="stretch", placeholder="—",
                     column_order=["org_id", *columns], column_config=config)
st.caption("£m; chances in % of the scenarios. The 1-in-20 bad year and the average of the worst "
           "5% are final − control total (negative: short of it); “in the system's worst 5%” "
           "is the member's average in the system's worst 5% of years, and these add up to the "
           "system's figure below.")

# The system in its own table: its chances are of *any* member losing support or being worse
# off, and its money figures are against the sum of the members' control totals.
st.subheader("The whole system")
lose = row["p_lose_support"]
system_rows = [
    ("Mean final position", money_m(row["mean_final"], 2)),
    ("Mean against every member standing alone",
     money_m(row["mean_final"] - row["mean_standalone"], 2, sign=True)),
    ("Spread (standard deviation)", money_m(row["sd_final"], 2)),
    ("Chance the system misses its control total (SCT)", f"{row['p_miss_control_total']:.1%}"),
    ("Chance any member loses support", "—" if np.isnan(lose) else f"{lose:.1%}"),
    ("Chance any member is worse off than alone", f"{row['p_worse_off']:.1%}"),
    ("1-in-20 bad year, against ΣOCT (VaR 95%)", money_m(row["var95"], 2)),
    ("Average of the worst 5% of years, against ΣOCT (CVaR 95%)", money_m(row["cvar95"], 2)),
]
st.dataframe(pd.DataFrame(system_rows, columns=["measure", "value"]), hide_index=True,
             width="stretch", placeholder="—", column_config={
                 "measure": st.column_config.TextColumn("measure", width="large"),
                 "value": st.column_config.TextColumn("value", alignment="right")})
st.caption("Across the same scenarios. The system's chances are of the system missing the SCT, "
           "and of *any* member losing support or ending worse off than alone in a scenario — "
           "so they can be high while the system as a whole gains on average. ΣOCT: the sum of "
           "the members' control totals.")
d1, d2, _ = st.columns([1, 1, 2])
d1.download_button("Download the risk metrics (.csv)",
                   csv_text(members, index=True).encode("utf-8"),
                   file_name=export_name(made_system.label, "scenario-risk", "csv"),
                   mime="text/csv", key="dl_scn_csv", on_click="ignore",
                   help="Every metric for every member, one row each (£ to the penny; "
                        "probabilities as fractions). The whole system's figures are in the "
                        ".xlsx workbook, on a sheet of their own.")
d2.download_button("Download the risk metrics (.xlsx)",
                   # made only when asked for, from the settings that made these results
                   lambda: scenarios_workbook(risk, made_settings, made_agreement, made_system),
                   file_name=export_name(made_system.label, "scenario-risk", "xlsx"),
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   key="dl_scn_xlsx", on_click="ignore",
                   help="A workbook with a cover (system, agreement, scenario settings, date), "
                        "the risk table per member with readable headings, the whole system's "
                        "figures on a sheet of their own (any member; against ΣOCT), and the "
                        "settings.")
