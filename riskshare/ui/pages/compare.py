"""Compare page: two to four agreements on the same scenarios — each member's risk and reward
side by side, who would be better off on its own, and the trade-off between incentive and risk
reduction."""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from riskshare.agreements.presets import list_presets, load_preset
from riskshare.agreements.risk import compare, worse_off
from riskshare.core.cells import csv_text
from riskshare.core.errors import ValidationError
from riskshare.reports import charts
from riskshare.ui import cache, state
from riskshare.ui.scenario_controls import result_or_stop, scenario_controls, store
from riskshare.ui.tables import HIGHLIGHT, show_validation_error
from riskshare.ui.text import md

RESULT = "rs_compare_result"
CURRENT = "__current__"
LETTERS = "ABCD"
# metric: (column label, kind) — money in £m, probabilities in %
SHOWN = {"mean_final": ("mean £m", "money"), "vs_alone": ("vs alone £m", "money"),
         "sd_final": ("sd £m", "money"), "p_worse_off": ("P(worse)", "pct"),
         "p_miss_control_total": ("P(miss CT)", "pct"), "cvar95": ("CVaR £m", "money")}
DEFAULT_SHOWN = ["mean_final", "vs_alone", "p_worse_off", "cvar95"]

st.title("Compare")
st.markdown("Run two to four agreements on the same scenarios and compare, member by member, "
            "the expected position, the risk and the chance of being worse off than standing "
            "alone. Money in £m.")
state.system_caption()
system = state.current_system()
current = state.current_agreement()

presets = list_presets()
preset_names = {p: load_preset(p).name for p in presets}
options = [CURRENT] + presets


def option_label(option: str) -> str:
    if option == CURRENT:
        return f"Current agreement (Agreement page): {current.name}"
    return preset_names[option]


chosen = st.multiselect("Agreements to compare (2–4)", options,
                        default=[CURRENT, "full_pooling_turnover"], max_selections=4,
                        format_func=option_label, key="cmp_agreements",
                        help="Presets by name, and the agreement as set on the Agreement page.")

agreements = []
for option in chosen:
    a = current if option == CURRENT else load_preset(option)
    if option == CURRENT and any(preset_names[o] == a.name for o in chosen if o != CURRENT):
        a = dataclasses.replace(a, name=f"{a.name} (current)")
    try:
        cache.apply(a, system)
    except ValidationError as exc:
        show_validation_error(exc, f"“{a.name}” does not fit this system and is left out —")
    else:
        agreements.append(a)

settings = scenario_controls("cmp", system)
inputs = (settings, system, tuple(agreements))

if len(agreements) < 2:
    st.info("Choose at least two agreements that fit this system.",
            icon=":material/compare_arrows:")
    st.stop()

if st.button("Run", type="primary", icon=":material/play_arrow:", key="cmp_run"):
    bar = st.progress(0.0, text="Simulating…")
    try:
        scenarios = settings.simulate(system)
        table = compare(agreements, system, scenarios,
                        progress=lambda done, total: bar.progress(
                            done / total, text=f"Applying the agreements: {done:,} of "
                                               f"{total:,} scenario runs"))
    except ValidationError as exc:
        bar.empty()
        show_validation_error(exc, "The scenarios were not run —")
    else:
        bar.empty()
        store(RESULT, inputs, {"table": table, "describe": scenarios.describe()})

result = result_or_stop(RESULT, inputs, "Choose the agreements and settings and press **Run**.",
                        "The agreements, settings or system changed: press **Run** to compare "
                        "again.")

table = result["table"]
names = [a.name for a in agreements]
letter = {n: LETTERS[i] for i, n in enumerate(names)}
st.caption(f"Results: {md(result['describe'])}.")
st.markdown("  \n".join(f"**{letter[n]}** — {md(n)}" for n in names))

# -- the pivot ------------------------------------------------------------------------------------
metrics = st.multiselect("Metrics shown", list(SHOWN), default=DEFAULT_SHOWN,
                         format_func=lambda m: SHOWN[m][0], key="cmp_metrics")
t = table.assign(vs_alone=table["mean_final"] - table["mean_standalone"])
t["worse"] = worse_off(t)
rows = list(dict.fromkeys(t["org_id"]))
pivot = pd.DataFrame({"member": [system.orgs.loc[m, "name"] if m in system.orgs.index
                                 else "Whole system" for m in rows]}, index=rows)
pivot.index.name = "org_id"
flags = pd.DataFrame(index=rows)
formats = {}
for n in names:
    part = t[t["agreement"] == n].set_index("org_id").reindex(rows)
    for m in metrics:
        label, kind = SHOWN[m]
        column = f"{letter[n]} {label}"
        pivot[column] = part[m] / 1e6 if kind == "money" else part[m] * 100
        formats[column] = (lambda v: "" if pd.isna(v) else f"{round(v, 2) + 0.0:,.2f}") \
            if kind == "money" else (lambda v: "" if pd.isna(v) else f"{v:.0f}%")
        flags[column] = part["worse"].to_numpy()
styler = pivot.style.format(formats).apply(
    lambda col: [f"background-color: {HIGHLIGHT}" if col.name in flags and flags.loc[i, col.name]
                 else "" for i in col.index], axis=0)
st.dataframe(styler, width="stretch", column_config={
    "member": st.column_config.TextColumn("member", width="medium")})
worse = {n: list(t[(t["agreement"] == n) & t["worse"]]["org_id"]) for n in names}
st.caption("Shaded: the member is more likely than not worse off than on its own under that "
           "agreement (the 'vs alone' column shows the average). " + " ".join(
               f"{letter[n]}: {md(', '.join(w)) if w else 'none'}." for n, w in worse.items())
           + " CVaR: mean of final − control total over the worst 5% of scenarios (for the "
             "whole system: against the sum of the members' control totals, ΣOCT).")

# -- incentive against risk reduction ---------------------------------------------------------------
st.subheader("Incentive against risk reduction, per member")
st.caption("Top right is best: the member keeps its incentive (share of the next £1 of gain) "
           "and its risk falls (the standard deviation of its position, against standing "
           "alone). Left of the line: the agreement makes its position more volatile.")
labelled = table.assign(agreement=table["agreement"].map(lambda n: f"{letter[n]}: {n}"))
st.altair_chart(charts.incentive_risk_chart(labelled, [f"{letter[n]}: {n}" for n in names]),
                width="stretch")

st.download_button("Download the comparison (.csv)", csv_text(table).encode("utf-8"),
                   file_name="comparison.csv", mime="text/csv", key="dl_cmp_csv",
                   on_click="ignore",
                   help="Every metric for every agreement and member (£; probabilities as "
                        "fractions). " + md(table.attrs.get("reference", "")) + ".")
