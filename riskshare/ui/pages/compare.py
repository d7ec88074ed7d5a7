"""Compare page: two to four agreements on the same scenarios — each member's risk and reward
side by side, who would be better off on its own, and the trade-off between incentive and risk
reduction."""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from riskshare.agreements import describe as agreement_words
from riskshare.agreements.presets import list_presets, load_preset
from riskshare.agreements.risk import SYSTEM_ROW, compare, worse_off
from riskshare.core.cells import csv_text
from riskshare.core.errors import ValidationError
from riskshare.core.filenames import export_name
from riskshare.core.format import MISSING, listed, millions, share
from riskshare.reports import charts
from riskshare.reports.workbooks import compare_workbook
from riskshare.ui import cache, state
from riskshare.ui.scenario_controls import last_result, page_summary, store
from riskshare.ui.tables import HIGHLIGHT, show_validation_error
from riskshare.ui.text import md

RESULT = "rs_compare_result"
CURRENT = "__current__"
LETTERS = "ABCD"
NAMES = ("scenario settings", "system", "agreements")
# metric: (column label, kind, help) — money in £m, probabilities in %; plain words in the
# labels, the technical term in the help
SHOWN = {"mean_final": ("mean £m", "money", "The final position (support included), averaged "
                                            "over the scenarios."),
         "vs_alone": ("vs alone £m", "money", "Mean final position − mean position with no "
                                              "agreement (negative: worse off on average)."),
         "sd_final": ("spread £m", "money", "Standard deviation (sd) of the final position."),
         "p_worse_off": ("chance worse off", "pct", "P(worse off): the share of scenarios in "
                                                    "which the member ends below where it "
                                                    "would be alone."),
         "p_miss_control_total": ("chance of missing CT", "pct",
                                  "P(miss CT): the share of scenarios in which the outturn "
                                  "(before support) is below the control total."),
         "cvar95": ("worst 5% average £m", "money",
                    "CVaR 95%: the mean of final − control total over the worst 5% of "
                    "scenarios.")}

st.title("Compare")
st.markdown("Run two to four agreements on the same scenarios and compare, member by member, "
            "the expected position, the risk and the chance of being worse off than standing "
            "alone. Money in £m.")
state.system_caption()
system = state.current_system()
current = state.current_agreement()

settings = page_summary(system)

presets = list_presets()
preset_names = {p: load_preset(p).name for p in presets}
options = [CURRENT] + presets
# the Agreement page's fit check and mark: a preset naming members or columns this system lacks
unfit = {p for p, why in cache.preset_fit(system).items() if why}
UNFIT = " — does not fit this system"


def option_label(option: str) -> str:
    if option == CURRENT:
        return (f"Current agreement (Agreement page): {agreement_words.title(current)}"
                + (UNFIT if current.check(system) else ""))
    return preset_names[option] + (UNFIT if option in unfit else "")


# the chips' labels change with the fit and the current agreement: set the choice again when
# they do, or the browser keeps showing the old labels (streamlit/streamlit#13788)
labels_sig = "|".join(option_label(o) for o in options)
if st.session_state.get("rs_cmp_labels") != labels_sig:
    if st.session_state.get("rs_cmp_labels") is not None and "cmp_agreements" in st.session_state:
        st.session_state["cmp_agreements"] = list(st.session_state["cmp_agreements"])
    st.session_state["rs_cmp_labels"] = labels_sig
chosen = st.multiselect("Agreements to compare (2–4)", options,
                        default=[CURRENT, "full_pooling_turnover"], max_selections=4,
                        format_func=option_label, key="cmp_agreements",
                        help="Presets by name, and the agreement as set on the Agreement page. "
                             "Presets marked “does not fit this system” name members or "
                             "columns the current system lacks, and are left out if chosen.")

agreements = []
for option in chosen:
    a = current if option == CURRENT else load_preset(option)
    if option == CURRENT and agreement_words.edited(a):
        # named as everywhere else: its parameters are no longer the preset's
        a = dataclasses.replace(a, name=agreement_words.title(a))
    elif option == CURRENT and any(preset_names[o] == a.name for o in chosen if o != CURRENT):
        a = dataclasses.replace(a, name=f"{a.name} (current)")
    try:
        cache.apply(a, system)
    except ValidationError as exc:
        show_validation_error(exc, f"“{a.name}” does not fit this system and is left out —")
    else:
        agreements.append(a)

inputs = (settings, system, tuple(agreements))

enough = len(agreements) >= 2
if not enough:
    st.info("Choose at least two agreements that fit this system.",
            icon=":material/compare_arrows:")

if st.button("Run", type="primary", icon=":material/play_arrow:", key="cmp_run",
             disabled=not enough):
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

result, (made_settings, made_system, made_agreements) = last_result(
    RESULT, inputs, NAMES,
    "Choose the agreements, check the scenario settings (in the sidebar) and press **Run**.")

table = result["table"]
names = list(dict.fromkeys(table["agreement"]))
letter = {n: LETTERS[i] for i, n in enumerate(names)}
st.caption(f"Results: {md(result['describe'])} on {md(made_system.label)}.")
st.markdown("  \n".join(f"**{letter[n]}** — {md(n)}" for n in names))

# -- one table per measure: members down, agreements across (fits 1280 px for four agreements) ----
t = table.assign(vs_alone=table["mean_final"] - table["mean_standalone"])
t["worse"] = worse_off(t)
rows = [r for r in dict.fromkeys(t["org_id"]) if r != SYSTEM_ROW]
orgs = made_system.orgs
member_names = [orgs.loc[m, "name"] if m in orgs.index else m for m in rows]
worse_flags = {n: t[t["agreement"] == n].set_index("org_id")["worse"].reindex(rows).to_numpy()
               for n in names}
for tab, m in zip(st.tabs([SHOWN[m][0] for m in SHOWN]), SHOWN, strict=True):
    label, kind, help_ = SHOWN[m]
    pivot = pd.DataFrame({"member": member_names}, index=pd.Index(rows, name="org_id"))
    formats, config, flags = {}, {}, pd.DataFrame(index=rows)
    for n in names:
        part = t[t["agreement"] == n].set_index("org_id")
        column = f"{letter[n]} {label}"
        values = part[m].reindex(rows)
        pivot[column] = values / 1e6 if kind == "money" else values * 100
        formats[column] = millions \
            if kind == "money" else (lambda v: MISSING if pd.isna(v) else f"{v:.0f}%")
        flags[column] = worse_flags[n]
        config[column] = st.column_config.Column(column, help=f"{md(n)}: {help_}")
    styler = pivot.style.format(formats).apply(
        lambda col, flags=flags: [f"background-color: {HIGHLIGHT}"
                                  if col.name in flags and flags.loc[i, col.name] else ""
                                  for i in col.index], axis=0)
    with tab:
        st.caption(help_)
        st.dataframe(styler, width="stretch", placeholder="—", column_config={
            "member": st.column_config.TextColumn("member", width="large"), **config})
worse = {n: list(t[(t["agreement"] == n) & t["worse"]]["org_id"]) for n in names}
st.caption("£m; chances in % of the scenarios. One tab per measure. Shaded: the member is more "
           "likely than not worse off than on its own under that agreement (the 'vs alone' tab "
           "shows the average). "
           + " ".join(f"{letter[n]}: {listed(md(m) for m in w) if w else 'none'}."
                      for n, w in worse.items())
           + " Worst 5% average: the mean of final − control total over the worst 5% of "
             "scenarios (CVaR 95%).")

# -- the whole system, in its own table -------------------------------------------------------------
st.subheader("The whole system")
sys_rows = t[t["org_id"] == SYSTEM_ROW].set_index("agreement").reindex(names)
lose = sys_rows["p_lose_support"]
# The letter only (the names are listed above) and short headings, with the long words in
# each column's help: the table fits 1280 px without cutting a name or a column.
SYSTEM_COLUMNS = {  # column: help
    "mean final £m": "The system's final position (support included), averaged over the "
                     "scenarios.",
    "vs all alone £m": "Mean final position − mean position with every member on its own.",
    "spread £m": "Standard deviation (sd) of the system's final position.",
    "misses SCT": "Chance the system misses its control total (SCT).",
    "any loses support": "Chance any member loses support funding.",
    "any worse off": "Chance any member ends worse off than on its own.",
    "worst 5% £m": "CVaR 95%: the mean of final − ΣOCT over the worst 5% of scenarios.",
}
system_table = pd.DataFrame({
    "agreement": [letter[n] for n in names],
    "mean final £m": (sys_rows["mean_final"] / 1e6).to_numpy(),
    "vs all alone £m": (sys_rows["vs_alone"] / 1e6).to_numpy(),
    "spread £m": (sys_rows["sd_final"] / 1e6).to_numpy(),
    "misses SCT": [share(v) for v in sys_rows["p_miss_control_total"]],
    "any loses support": [share(v) for v in lose],
    "any worse off": [share(v) for v in sys_rows["p_worse_off"]],
    "worst 5% £m": (sys_rows["cvar95"] / 1e6).to_numpy()})
system_money = ["mean final £m", "vs all alone £m", "spread £m", "worst 5% £m"]
st.dataframe(system_table.style.format(millions, subset=system_money),
             hide_index=True, width="stretch", placeholder="—",
             column_config={
                 "agreement": st.column_config.TextColumn(
                     "agreement", help="The letter of the agreement, as listed above the "
                                       "member tables."),
                 **{c: (st.column_config.Column(c, help=h) if c in system_money else
                        st.column_config.TextColumn(c, help=h, alignment="right"))
                    for c, h in SYSTEM_COLUMNS.items()}})
st.caption("Across the same scenarios. The system's chances are of the system missing its "
           "control total (SCT) and of *any* member losing support or ending worse off than "
           "alone in a scenario — so they can be high while the system gains on average. Worst "
           "5% average: against the sum of the members' control totals (ΣOCT), CVaR 95%.")

# -- incentive against risk reduction ---------------------------------------------------------------
st.subheader("Incentive against risk reduction, per member")
st.caption("Top right is best: the member keeps its incentive (share of the next £1 of gain) "
           "and its risk falls (the standard deviation of its position, against standing "
           "alone). Left of the line: the agreement makes its position more volatile.")
labelled = table.assign(agreement=table["agreement"].map(lambda n: f"{letter[n]}: {n}"))
st.altair_chart(charts.incentive_risk_chart(labelled, [f"{letter[n]}: {n}" for n in names]),
                width="stretch")

d1, d2, _ = st.columns([1, 1, 2])
d1.download_button("Download the comparison (.csv)",
                   csv_text(table[table["org_id"] != SYSTEM_ROW]).encode("utf-8"),
                   file_name=export_name(made_system.label, "comparison", "csv"),
                   mime="text/csv", key="dl_cmp_csv", on_click="ignore",
                   help="Every metric for every agreement and member, one row each (£ to the "
                        "penny; probabilities as fractions). The whole system's figures are in "
                        "the .xlsx workbook, on a sheet of their own.")
d2.download_button("Download the comparison (.xlsx)",
                   # made only when asked for, from the settings that made these results
                   lambda: compare_workbook(table, made_settings, made_system),
                   file_name=export_name(made_system.label, "comparison", "xlsx"),
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   key="dl_cmp_xlsx", on_click="ignore",
                   help="A workbook with a cover (system, agreements, scenario settings, date), "
                        "every metric per member with readable headings, the whole system's "
                        "figures on a sheet of their own (any member; against ΣOCT), and the "
                        "scenario settings.")
