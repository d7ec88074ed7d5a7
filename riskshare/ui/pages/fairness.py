"""Fairness page: is the current agreement attractive to every member and every group of members,
or would some do better in a smaller deal of their own? The participation certificate
(`rs.games.certificate`) at the forecast or across scenarios, beside the fair shares of
cooperative game theory (Shapley value, nucleolus, least core)."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from riskshare.core.cells import csv_text
from riskshare.core.errors import BudgetError, RiskshareError, ValidationError
from riskshare.core.filenames import export_name
from riskshare.core.format import money_m
from riskshare.games import MAX_EXACT, certificate, estimate_seconds, time_budget
from riskshare.games.certificate import describe_group
from riskshare.games.pooling import duration
from riskshare.reports import charts
from riskshare.reports.workbooks import fairness_workbook
from riskshare.ui import cache, state
from riskshare.ui.scenario_controls import last_result, page_summary, store, stored
from riskshare.ui.tables import money_m_columns, show_validation_error, styled_money
from riskshare.ui.text import md

RESULT_FORECAST, RESULT_SCENARIOS = "rs_fairness_forecast", "rs_fairness_scenarios"
FORECAST, SCENARIOS = "forecast", "scenarios"
JUDGE_LABELS = {FORECAST: "the forecast", SCENARIOS: "across scenarios"}
NAMES = ("judging", "scenario settings", "weight of bad years (λ)", "system", "agreement")
SHOWN_VIOLATIONS = 20
EPSILON_LABEL = "Walk-away margin"   # at the best split: the least-core ε, in words
SLOW_WORK = 5_000_000  # coalition × scenario evaluations above which a run may take a while

st.title("Fairness")
st.markdown(
    "Is the agreement worth joining for **every** member — strong, middling and weak — and "
    "would any group of members do better in a smaller deal of its own? For each group the "
    "page works out what it would secure by pooling under the same agreement on its own, and "
    "checks that the agreement gives the group at least that much. Beside what the agreement "
    "gives each member it shows two *fair shares* from cooperative game theory, as a yardstick. "
    "Money in £m.")
with st.expander("The terms used on this page"):
    st.markdown(
        "- **Alone**: what a member would end the year with outside any agreement (its control "
        "total, its variance and any support it would earn on its own).\n"
        "- **What a group secures on its own**, v(S): the group's members pool among "
        "themselves under the same agreement, without anyone else, and add up where they end.\n"
        "- **Cooperative gain**: what pooling under the agreement adds for the whole system "
        "over every member standing alone (negative: it costs the members in total).\n"
        "- **Shapley value**: each member's average contribution — how much it adds to a group "
        "when it joins, averaged over every order in which members could join.\n"
        "- **Nucleolus**: the split that makes the worst-treated group as well off as "
        "possible, then the next worst, and so on. When pooling loses money in total it cannot "
        "also leave every member at least as well off as alone; the *prenucleolus* drops that "
        "requirement and is shown instead.\n"
        "- **Walk-away margin at the best split** (the *least-core ε*): the smallest amount "
        "such that some split leaves no group more than ε better off on its own than with the agreement. ε of zero or below means a split "
        "exists that every group accepts (the *core* is not empty); above zero, whatever the "
        "split, some group would be at least ε better off on its own.\n\n"
        "Every word is also in the **Glossary** (in the navigation), with the rest of the "
        "app's vocabulary.")
state.system_caption()
system = state.current_system()
agreement = state.agreement_caption()

# Does the agreement fit this system?
try:
    cache.apply(agreement, system)
except ValidationError as exc:
    show_validation_error(exc, "The current agreement does not fit this system —")
    st.stop()


def members_within(budget: float, scenarios: int = 1) -> int:
    """The most members whose fairness judgement over `scenarios` riskshare estimates within
    `budget` seconds (at least 1)."""
    low, high = 1, 10_000_000
    while low < high:                       # the estimate grows with the number of members
        mid = (low + high + 1) // 2
        low, high = (mid, high) if estimate_seconds(mid, scenarios) <= budget else (low, mid - 1)
    return low


def too_long_at_forecast(seconds: float, budget: float) -> str:
    """Why the page does not judge this system at the forecast, and what to do instead: in a
    finance director's words (the library's message speaks to Python and the command line)."""
    return (f"**Checking {system.n:,} members and the groups they form would take "
            f"{duration(seconds)}**, longer than the {duration(budget, about=False)} this page "
            f"runs without asking. This page checks every group exactly for systems of up to "
            f"{MAX_EXACT} members, and each member and each group of all but one up to "
            f"{members_within(budget):,} members. For this system, use the **Compare** or "
            "**Scenarios** page (who is worse off than on their own, and how often), or judge "
            "fairness on the command line with `riskshare fairness … --allow-long`.")


def judge(scenarios=None, risk_aversion: float = 0.5, max_seconds=None) -> dict:
    """The certificate, or what went wrong, to store."""
    try:
        return {"cert": certificate(system, agreement, scenarios, risk_aversion,
                                    max_seconds=max_seconds)}
    except ValidationError as exc:
        return {"invalid": exc}
    except BudgetError:
        # the page checks the estimate first; this is the budget changing in between
        n = 1 if scenarios is None else len(scenarios.variances)
        return {"error": f"It would take {duration(estimate_seconds(system.n, n))}, longer "
                         f"than the {duration(time_budget(), about=False)} this page runs "
                         "without asking."}
    except RiskshareError as exc:
        return {"error": str(exc)}


mode = st.radio("Judge at", [FORECAST, SCENARIOS], format_func=JUDGE_LABELS.get,
                horizontal=True, key="fair_mode",
                help="The forecast: one year, every member at its forecast variance. Across "
                     "scenarios: thousands of possible years, each member valuing its position "
                     "by how it fares on average and in bad years.")
groups = (1 << system.n) - 1 if system.n <= MAX_EXACT else 2 * system.n
if mode == FORECAST:
    inputs: tuple = (FORECAST, system, agreement)
    at_forecast, budget = estimate_seconds(system.n, 1), time_budget()
    if at_forecast > budget:
        st.warning(too_long_at_forecast(at_forecast, budget), icon=":material/hourglass_top:")
        st.stop()
    if stored(RESULT_FORECAST, inputs) is None:
        with st.spinner(f"Checking {groups:,} members and groups…"):
            store(RESULT_FORECAST, inputs, judge())
    result = stored(RESULT_FORECAST, inputs)
    cert_lambda = 0.5
else:
    settings = page_summary(system, note="Every member and group is judged on these same "
                                          "scenarios, so at λ = 0 the figures here are the "
                                          "averages the Compare page shows.")
    with st.container(border=True):
        left, right = st.columns([1, 1], gap="large")
        risk_aversion = left.slider(
            "How much bad years weigh (λ)", 0.0, 1.0, 0.5, 0.05, key="fair_lambda",
            help="Each member values its position across the scenarios as its average less λ "
                 "times how far its worst 5% of years fall below that average.")
        right.markdown(f"**λ = {risk_aversion:g}**: 0 = judge each member by its average "
                       "year, 1 = by its worst 1-in-20 years; in between, a blend.")
        seconds, budget = estimate_seconds(system.n, settings.n), time_budget()
        right.caption(f"Every group of members is checked in every scenario: {groups:,} "
                      f"groups × {settings.n:,} scenarios: {duration(seconds)} by "
                      "riskshare's estimate.")
    long_run = False
    if seconds > budget:
        one = estimate_seconds(system.n, 1)
        fewer = (f"Use at most {int(budget // one):,} scenarios (under Scenario settings in "
                 "the sidebar)" if one <= budget else
                 f"Fewer scenarios will not help: even one year takes {duration(one)} with "
                 f"{system.n:,} members. Use the **Compare** or **Scenarios** page for this "
                 "system")
        st.warning(f"**This run would take {duration(seconds)}**, longer than the "
                   f"{duration(budget, about=False)} riskshare runs without asking. {fewer}, "
                   "or confirm below to run it anyway (the page waits until it finishes).",
                   icon=":material/hourglass_top:")
        long_run = st.checkbox(f"Run it anyway ({duration(seconds)})", key="fair_long")
    cert_lambda = float(risk_aversion)
    inputs = (SCENARIOS, settings, cert_lambda, system, agreement)
    if st.button("Run", type="primary", icon=":material/play_arrow:", key="fair_run",
                 disabled=seconds > budget and not long_run):
        with st.spinner(f"Simulating {settings.n:,} years and checking {groups:,} members and "
                        "groups in each…"):
            try:
                scenarios = settings.simulate(system)
            except ValidationError as exc:
                run = {"invalid": exc}
            else:
                run = judge(scenarios, cert_lambda, math.inf if long_run else None)
        store(RESULT_SCENARIOS, inputs, run)
    result, made_from = last_result(RESULT_SCENARIOS, inputs, NAMES,
                                    "Check the scenario settings (in the sidebar) and "
                                    "press **Run** to judge the agreement across them.")
    # a result kept from earlier settings is shown as it was made
    _, _, cert_lambda, system, agreement = made_from

if "invalid" in result:
    show_validation_error(result["invalid"], "The agreement could not be judged —")
    st.stop()
if "error" in result:
    st.error(f"**The agreement could not be judged.** {md(result['error'])}",
             icon=":material/error:")
    st.stop()

# -- the verdict ----------------------------------------------------------------------------------
cert = result["cert"]
table = cert.table
fair = cert.fair
members_worse = list(p[0] for p in cert.members_worse_off["players"])
n_groups_worse = len(cert.groups_worse_off)


sentences = cert.summary(notes=False)
findings = sentences[1:]                      # the notes are shown below
verdict = md(sentences[0])
# A verdict is a finding, not a fault: error boxes are kept for what went wrong.
if cert.passes:
    st.success(f"**{verdict}**", icon=":material/verified:")
else:
    st.warning(f"**{verdict}**", icon=":material/block:" if members_worse
               else ":material/warning:")
st.markdown("\n".join(f"- {md(s)}" for s in findings))

if not cert.exhaustive:
    total = (1 << system.n) - 1
    st.warning(f"**With {system.n} members — more than the {MAX_EXACT} this page checks in "
               f"full — the check is partial.** Only {cert.checked:,} of the {total:,} groups "
               "were checked: each member alone and each group of all but one member. The "
               "Shapley value is *estimated* from random orders of arrival (its standard error "
               "is in the table), and the nucleolus and least core are not computed. A smaller "
               "group that would walk away may have been missed.", icon=":material/warning:")
for note in cert.notes:
    st.info(md(note), icon=":material/info:")

m = st.columns(4)
m[0].metric("Cooperative gain", money_m(cert.gain, 2),
            help="What pooling under the agreement adds for all members together, over each "
                 "standing alone (negative: pooling costs them in total).")
m[1].metric(EPSILON_LABEL, "—" if cert.epsilon is None else money_m(cert.epsilon, 2),
            help="At the best split (the least-core ε): the most some group would still gain by leaving, under the "
                 "split that makes that gain smallest. Zero or below: some split leaves every group at least as well off as on its "
                 "own. Above zero: whatever the split, some group would be at least this much "
                 "better off on its own." + (" Not computed above "
                                             f"{MAX_EXACT} members." if cert.epsilon is None
                                             else ""))
m[2].metric("Members better off alone", f"{len(members_worse)} of {system.n}",
            help="Members the agreement leaves worse off than standing alone.")
m[3].metric("Groups better off apart", f"{n_groups_worse:,}",
            help=f"Groups of two or more members (of the {cert.checked - system.n:,} checked) "
                 "that would secure more by pooling on their own than the agreement gives "
                 "them together.")

st.altair_chart(charts.fairness_chart(cert), width="stretch")

# -- the members ----------------------------------------------------------------------------------
st.subheader("Each member: alone, under the agreement and by the fair shares")
money = {"alone": "alone £m", "agreement": "agreement £m", "shapley": "Shapley £m"}
if fair:
    money[fair] = f"{fair} £m"
if "least_core" in table.columns:
    money["least_core"] = "least core £m"
money["gain_agreement"] = "vs alone £m"
money_help = {
    "alone": "What the member would end with outside any agreement.",
    "agreement": "What the agreement gives the member.",
    "shapley": "The member's average contribution to the groups it could join.",
    fair: "The split that leaves the worst-treated group as well off as possible"
          + (" (without requiring every member to do as well as alone)."
             if fair == "prenucleolus" else "."),
    "least_core": "The split nearest the Shapley value that leaves no group more than ε "
                  "better off on its own.",
    "gain_agreement": "Agreement − alone: how much better (negative: worse) off the agreement "
                      "leaves the member than standing alone.",
}
share_labels = {"share_agreement": "agreement's share",
                "share_shapley": "Shapley share"}
if fair:
    share_labels[f"share_{fair}"] = f"{fair} share"
shares = {c: label for c, label in share_labels.items()
          if c in table.columns and table[c].notna().any()}
shown = table.rename_axis("org_id").reset_index()
sampled = ["shapley_se"] if "shapley_se" in table.columns else []  # pounds: far below £0.01m
shown = shown[["org_id", *money, *sampled, *shares]]
styler = styled_money(shown, list(money), highlight=shown["org_id"].isin(members_worse))
if shares:
    styler = styler.format(lambda v: f"{v:.1%}", subset=list(shares), na_rep="—")
where = ("at the forecast" if mode == FORECAST else
         f"across the scenarios, each valued at its average less λ = {cert_lambda:g} times how "
         "far its worst 5% of years fall below it"
         + (" (at λ = 0, the plain averages the Compare page shows for the same settings)"
            if cert_lambda == 0 else " (so not the plain averages the Compare page shows: "
                                     "those are these figures at λ = 0)"))
st.caption(
    f"£m, each member's position {where}. Alone: outside any agreement. Agreement: what the "
    "agreement gives it. The fair shares split the same system total differently. Vs alone: "
    "agreement − alone." + (" Shapley ±: the estimate's standard error, in £." if sampled
                            else "") + " Rows of members worse off than alone are shaded."
    + (" Shares: how much of the cooperative gain of "
       f"{money_m(cert.gain, 2)} each split gives the member." if shares else
       " Shares of the gain are not shown: pooling under this agreement creates no gain to "
       "share."))
# no column format: the Styler's text (the app's rounding rule) is what shows
config = {c: st.column_config.NumberColumn(label, help=money_help.get(c))
          for c, label in money.items()}
config.update({c: st.column_config.TextColumn(label, alignment="right",
                                              help="Of the cooperative gain, the part this "
                                                   "split gives the member.")
               for c, label in shares.items()})
if sampled:
    config["shapley_se"] = st.column_config.NumberColumn(
        "Shapley ± £", format="%,.0f",
        help="The standard error of the estimated Shapley value, in pounds.")
config["org_id"] = st.column_config.TextColumn("member", pinned=True,
                                               help="org_id (names in the chart above)")
st.dataframe(styler, hide_index=True, width="stretch", placeholder="—", column_config=config)

# -- who would walk away --------------------------------------------------------------------------
st.subheader("Who would walk away")
violations = cert.violations
if violations.empty:
    st.success("No member and no group of members would do better in a smaller deal of its "
               "own" + ("." if cert.exhaustive else " (of those checked)."),
               icon=":material/check_circle:")
else:
    everyone = list(system.members)

    top = violations.head(SHOWN_VIOLATIONS)
    walk = pd.DataFrame({"group": [describe_group(p, everyone) for p in top["players"]],
                         "size": top["size"].to_numpy(),
                         "value": top["value"].to_numpy(),
                         "allocation": top["allocation"].to_numpy(),
                         "shortfall": top["shortfall"].to_numpy()})
    count = len(violations)
    st.caption(
        f"{count:,} {'member or group' if count == 1 else 'members and groups'} would do "
        "better on {their} own{shown}, worst first. £m. On their own: what the group secures by "
        "pooling under the agreement without the others; under the agreement: what the "
        "agreement gives its members together; shortfall: the difference.".format(
            their="its" if count == 1 else "their",
            shown=f" (the {len(top)} largest shortfalls are shown)" if count > len(top)
            else ""))
    walk_money = {"value": "on their own £m", "allocation": "under the agreement £m",
                  "shortfall": "shortfall £m"}
    st.dataframe(styled_money(walk, list(walk_money)), hide_index=True, width="stretch", placeholder="—",
                 height=35 * (len(walk) + 1) + 3,  # every row shown, no inner scrolling
                 column_config={**money_m_columns(walk_money),
                                "group": st.column_config.TextColumn("group", width="large"),
                                "size": st.column_config.NumberColumn("members",
                                                                      format="%d")})

# -- downloads ------------------------------------------------------------------------------------
st.subheader("Download")
st.caption("The member table as CSV (£, shares as fractions); or a workbook with the "
           "certificate in sentences, the members and every member or group that would do "
           "better on its own.")
d1, d2, _ = st.columns([1, 1, 2])
d1.download_button("Download the members (.csv)",
                   csv_text(table.rename_axis("org_id"), index=True).encode("utf-8"),
                   file_name=export_name(system.label, "fairness-members", "csv"),
                   mime="text/csv",
                   key="dl_fair_csv", on_click="ignore")
d2.download_button("Download the certificate (.xlsx)", lambda: fairness_workbook(cert),
                   file_name=export_name(system.label, "fairness-certificate", "xlsx"),
                   key="dl_fair_xlsx", on_click="ignore",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
