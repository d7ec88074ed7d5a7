"""Optimise page: let a linear (or whole-number) programme choose how the pool is shared between
members, for an objective and within conditions the user sets; see why (binding conditions,
shadow prices), ask for near-optimal alternatives, and read an impossible request in words."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from riskshare.core.cells import csv_text
from riskshare.core.constants import HALF_PENNY
from riskshare.core.errors import InfeasibleError, ValidationError, problem, raise_if_errors
from riskshare.core.filenames import export_name
from riskshare.core.format import listed, money_m, pct
from riskshare.optimisation.optimise import (
    NO_AGREEMENT,
    OBJECTIVES,
    Constraints,
    SolverError,
    optimise,
)
from riskshare.optimisation.spec import setting_text
from riskshare.reconciliation.ringfence import ring_fenced
from riskshare.reports import charts
from riskshare.reports.workbooks import allocation_workbook
from riskshare.ui import cache, state
from riskshare.ui.scenario_controls import last_result, store, stored
from riskshare.ui.tables import (
    money_m_columns,
    show_infeasible,
    show_validation_error,
    styled_money,
    warn_worse_off,
)
from riskshare.ui.text import md, md_lines

RESULT, ALTERNATIVES = "rs_optimise_result", "rs_optimise_alternatives"
WITH, WITHOUT = "agreement", "none"
START_LABELS = {WITH: "Start from the current agreement's pooled amounts",
                WITHOUT: "No agreement: pure transfers between members"}
SOLVER_LABELS = {"highs": "HiGHS (the default)", "cbc": "CBC (an alternative solver)"}
SOLVER_NAMES = {"highs": "HiGHS", "cbc": "CBC"}
MEMBER_MONEY = {"control_total": "OCT", "variance": "variance", "pooled": "pooled",
                "retained": "retained", "received": "from the pool",
                "net_transfer": "net transfer",
                "outturn": "outturn", "support_earned": "support", "final": "final",
                "standalone": "alone", "vs_standalone": "vs alone"}
NAMES = ("choice of what is shared", "objective", "conditions", "solver", "system",
         "agreement")
TIME_LIMIT = 60.0  # seconds per solve
#: Alternatives within this % of the optimum unless the user says otherwise: the library's
#: and the CLI's default (`Allocation.alternatives(slack=0.05)`, `--slack 0.05`).
DEFAULT_SLACK_PCT = 5.0
CHANGED = "#E8F1FB"  # alternatives: a member's transfer differs from the optimum

st.title("Optimise")
st.markdown(
    "Instead of a fixed rule for sharing the pool, let an optimiser choose how much each "
    "member receives or pays, to meet a goal you pick — for example, leaving the worst-placed "
    "member as well placed as possible — within conditions you set, such as a cap on any "
    "member's charge or no member worse off than on its own. If the conditions cannot all "
    "hold, the page says which of them conflict and the smallest change that would fix it. "
    "Money in £m.")
state.system_caption()
st.caption("The optimiser works at the forecast — one year, each member at its forecast "
           "variance — so the scenario settings in the sidebar are not used on this page.")
system = state.current_system()
agreement = state.current_agreement()
members = list(system.members)


def objective_label(key: str, scale: str) -> str:
    return OBJECTIVES[key].label_for(scale)


# -- the request --------------------------------------------------------------------------------
with st.container(border=True):
    left, right = st.columns(2, gap="large")
    start = left.radio("What is shared", [WITH, WITHOUT], format_func=START_LABELS.get,
                       key="opt_start",
                       help="With the agreement, each member first pools part of its variance "
                            "as the agreement says, and the optimiser shares out the net "
                            "pool. With none, each member keeps its own variance and the "
                            "optimiser chooses transfers between members that sum to zero.")
    chosen = agreement if start == WITH else None
    scale = agreement.scale if start == WITH else NO_AGREEMENT.scale
    internal = None
    if start == WITH:
        left.caption(f"Agreement: **{md(agreement.name)}** — change it on the Agreement page.")
        try:
            line = cache.apply(agreement, system).system
            internal = float(line["pool"] + line["reserve_used"])   # the net pool
        except ValidationError:
            internal = None  # reported when Optimise is pressed
    else:
        left.caption("Every member keeps its own variance; the transfers sum to zero unless "
                     "you set a pool.")
    objective = right.selectbox("Objective", list(OBJECTIVES),
                                format_func=lambda key: objective_label(key, scale),
                                key="opt_objective")
    right.caption(md(OBJECTIVES[objective].help_for(scale)))

    st.markdown("**Conditions** — all optional: leave a box blank or unticked for none.")
    c1, c2, c3 = st.columns([1, 1, 1.25], gap="large")
    default_pool = ("the agreement's net pool" if start == WITH else "0: transfers only")
    pool_words = (f"the agreement's net pool, {money_m(internal, 2)}" if internal is not None
                  else default_pool)
    pool = c1.number_input("Pool the transfers add up to (£)", value=None, step=100_000.0,
                           format="%.2f", placeholder=default_pool, key="opt_pool",
                           help="Positive: money put in from outside the members (e.g. "
                                "system support); negative: a net charge on the members. "
                                "Leave blank for " + pool_words + ".")
    c1.caption(f"= {money_m(pool, 2)}" if pool is not None else f"Blank: {pool_words}.")
    floor = c1.number_input(f"Floor (% of {md(scale)})", value=None, step=0.1, format="%.2f",
                            placeholder="no floor", key="opt_floor",
                            help="Every member's final position (support included) ends at "
                                 "least this far above its control total: -1.0 lets each end "
                                 "up to 1% short, 0 asks every member to meet its control "
                                 "total.")
    c1.caption("Each member ends no further below its control total than this (e.g. -1.0).")

    def cap_placeholder(which: str) -> str:
        cap = getattr(agreement.pool, which)
        if start == WITH and cap is not None:
            return f"agreement: {pct(cap, 2)}"
        return "no cap"

    def cap_words(which: str) -> str:
        cap = getattr(agreement.pool, which)
        if start == WITH and cap is not None:
            return f"the agreement's own cap, {pct(cap, 2)} of {md(scale)}"
        return "no cap"

    max_charge = c2.number_input(f"Cap on any charge (% of {md(scale)})", value=None,
                                 min_value=0.0, step=0.1, format="%.2f",
                                 placeholder=cap_placeholder("max_charge"), key="opt_max_charge",
                                 help="The most any one member pays. Leave blank for "
                                      f"{cap_words('max_charge')}.")
    max_award = c2.number_input(f"Cap on any award (% of {md(scale)})", value=None,
                                min_value=0.0, step=0.1, format="%.2f",
                                placeholder=cap_placeholder("max_award"), key="opt_max_award",
                                help="The most any one member receives. Leave blank for "
                                     f"{cap_words('max_award')}.")
    retention_on = c3.checkbox("Members keep part of their gains", key="opt_retention_on",
                               help="Each member keeps at least this share of its favourable "
                                    "variance, so it pays out at most the rest of it: it keeps "
                                    "an incentive to save.")
    retention = c3.slider("Share of its favourable variance each member keeps (0–1)", 0.0,
                          1.0, 0.5, 0.05, key="opt_retention", disabled=not retention_on)
    standalone = c3.checkbox("No member worse off than on its own", key="opt_standalone",
                             help="Every member ends at least as well off as it would be with "
                                  "no agreement (including support it would earn alone).")
    outside = system.outside_members
    system_ct = c3.checkbox("The system meets its control total", key="opt_system_ct",
                            help="The system's outturn reaches the system control total "
                                 f"({money_m(system.control_total, 2)})"
                                 + (f": the members inside it. Members outside the SCT "
                                    f"({md(', '.join(outside))}) may be charged to lift them; cap "
                                    "their charges if the deal does not allow that."
                                    if outside else "."))
    fenced = ring_fenced(system)
    ring_growth = (c3.number_input(
        "Mental health ring fence: growth on last year (%)", value=None, step=0.1, format="%.1f",
        placeholder="no ring fence", key="opt_ring_fence",
        help=f"{', '.join(fenced)}: mh_spend stays at least mh_spend_last_year × (1 + growth). "
             "A net charge falls on the member's spending pro rata to mh_spend / turnover.")
        if fenced else None)

    e1, e2 = st.columns([3, 2], gap="large")
    with e1.expander("Fix some members' transfers (£)"):
        st.caption("A member listed here receives exactly this amount from the pool (negative: "
                   "pays it in); the optimiser shares out the rest.")
        fixed_key = f"opt_fixed_{state.version()}"
        fixed_frame = st.data_editor(
            pd.DataFrame({"org_id": pd.Series([], dtype="object"),
                          "amount": pd.Series([], dtype="float64")}),
            key=fixed_key, num_rows="dynamic", hide_index=True, width="stretch",
            column_config={
                "org_id": st.column_config.SelectboxColumn("member", options=members,
                                                           required=True),
                "amount": st.column_config.NumberColumn("from the pool (£; − = pays in)",
                                                        format="%,.0f", required=True)})
    with e2.expander("Solver"):
        solver = st.radio("Solver", list(SOLVER_LABELS), format_func=SOLVER_LABELS.get,
                          key="opt_solver", label_visibility="collapsed",
                          help="Both give the same optimum; CBC is a cross-check.")
        st.caption(f"Each solve stops after {TIME_LIMIT:.0f} seconds at most.")


def fixed_transfers(frame: pd.DataFrame) -> dict | None:
    """The fixed-transfer rows as {org_id: £}; blank rows are dropped, problems raised."""
    problems, fixed = [], {}
    for i, (org, amount) in enumerate(zip(frame["org_id"], frame["amount"], strict=True), start=1):
        org_blank = org is None or (isinstance(org, float) and np.isnan(org)) or org == ""
        if org_blank and pd.isna(amount):
            continue
        if org_blank:
            problems.append(problem("has an amount but no member", row=i, column="member"))
        elif pd.isna(amount):
            problems.append(problem("has no amount", row=i, member=str(org),
                                    column="from the pool"))
        elif org in fixed:
            problems.append(problem("is fixed twice: keep one row per member", row=i,
                                    member=str(org), column="member"))
        else:
            fixed[str(org)] = float(amount)
    raise_if_errors(problems, "the fixed transfers")
    return fixed or None


constraints = None
try:
    constraints = Constraints.from_dict({
        "pool": pool, "max_charge": max_charge, "max_award": max_award, "floor": floor,
        "min_retention": float(retention) if retention_on else None,
        "no_worse_than_standalone": bool(standalone),
        "system_meets_control_total": bool(system_ct),
        "fixed": fixed_transfers(fixed_frame),
        "ring_fence": ({m: float(ring_growth) for m in fenced} if ring_growth is not None
                       else None)}, source="the conditions")
except ValidationError as exc:
    show_validation_error(exc, "These conditions cannot be used yet —")

inputs = (start, objective, constraints, solver, system, chosen)
pressed = st.button("Optimise", type="primary", icon=":material/tune:", key="opt_run",
                    disabled=constraints is None)
if pressed and constraints is not None:
    solved: dict[str, Any]
    with st.spinner("Optimising…"):
        try:
            allocation = optimise(system, chosen, objective, constraints, solver,
                                  time_limit=TIME_LIMIT)
        except InfeasibleError as exc:
            solved = {"infeasible": exc}
        except ValidationError as exc:
            solved = {"invalid": exc}
        except SolverError as exc:
            solved = {"solver_error": str(exc)}
        else:
            solved = {"allocation": allocation}
    store(RESULT, inputs, solved)
    st.session_state.pop(ALTERNATIVES, None)

result, made_from = last_result(RESULT, inputs, NAMES,
                                "Choose what is shared, the objective and any conditions, then "
                                "press **Optimise**.", button="Optimise", icon=":material/tune:")
# a result kept from earlier settings is shown as it was made
inputs = made_from
start, objective, constraints, solver, system, chosen = made_from
agreement = chosen if chosen is not None else agreement
scale = chosen.scale if chosen is not None else NO_AGREEMENT.scale
members = list(system.members)
if "infeasible" in result:
    show_infeasible(result["infeasible"])
    if any(c.family == "pool" for c in result["infeasible"].conflicts):
        st.caption("“The transfers sum to …” is the pool being shared out: the agreement's "
                   "net pool (or 0 with no agreement) unless you set one above.")
    st.stop()
if "invalid" in result:
    show_validation_error(result["invalid"], "The optimiser was not run —")
    st.stop()
if "solver_error" in result:
    st.error(f"**The solver did not find an answer.** {md(result['solver_error'])} Try the other "
             "solver (under Solver above) or fewer conditions.", icon=":material/error:")
    st.stop()

# -- the answer -----------------------------------------------------------------------------------
allocation = result["allocation"]
obj = OBJECTIVES[allocation.objective]
table = allocation.table
outcome = allocation.outcome
worse = outcome.worse_off
moved = allocation.money_moved

st.header("The optimised allocation", anchor="result")
status = allocation.status
finished = status.words
st.markdown(f"**Result:** {md(allocation.value_text())}.")
took = (f"in {allocation.seconds:.2f} s" if allocation.seconds >= 0.01
        else "in under a hundredth of a second")
st.caption(f"Objective: {md(objective_label(allocation.objective, scale))}. Solved by "
           f"{SOLVER_NAMES.get(status.solver, status.solver)}: {finished}, {took}.")


m = st.columns(4)
m[0].metric(obj.short + (f" (% of {md(scale)})" if obj.unit == "pct" else ""),
            allocation.short_value(),
            help=md(allocation.value_text()[:1].upper() + allocation.value_text()[1:] + "."))
m[1].metric("Money moved between members", money_m(moved, 2),
            help="Half the sum of every member's net transfer in or out.")
m[2].metric("Worse off than on their own", f"{len(worse)} of {system.n}",
            help="Members whose final position is below what they would have with no "
                 "agreement.")
m[3].metric("Pool shared out", money_m(float(allocation.received.sum()), 2),
            help="What the transfers add up to (negative: a net charge on the members).")
warn_worse_off(outcome, "Tick “No member worse off than on its own” to rule this out.")
if start == WITH:
    # support the agreement's own sharing earns, lost under the optimised transfers: a cost the
    # objective does not see unless it is "most support earned"
    before = cache.apply(agreement, system).table["support_earned"]
    after = table["support_earned"].reindex(before.index)
    losing = [m for m in before.index if after[m] < before[m] - HALF_PENNY]
    if losing:
        st.warning(md(f"Support earned falls from {money_m(float(before.sum()), 2)} under the "
                      f"agreement's own sharing to {money_m(float(after.sum()), 2)} under these "
                      f"transfers: {listed(losing)} earn less. Choose “Most support funding earned” "
                      "as the objective, or add a condition, to keep it."),
                   icon=":material/money_off:")

st.altair_chart(charts.allocation_chart(allocation), width="stretch")

st.subheader("Members")
st.caption("£m. From the pool: the member's share of the pool chosen by the optimiser "
           "(negative: charged); " + ("net transfer = from the pool − pooled, what the member "
                                      "gains or loses by the agreement's pooling and sharing; "
                                      "outturn = control total + retained + from the pool; "
                                      if start == WITH else
                                      "net transfer = from the pool (nothing is pooled); "
                                      "outturn = control total + variance + net transfer; ")
           + f"final = outturn + support earned; shortfall: how far outturn falls short of the "
             f"control total, % of {md(scale)} (negative: ahead); support: support earned; alone: "
             f"its final position with no agreement. Rows of members worse off than on their "
             f"own are shaded.")
shown_money = dict(MEMBER_MONEY)
if start == WITHOUT:  # nothing is pooled: retained is the variance
    for column in ("pooled", "retained"):
        shown_money.pop(column)
members_table = table.reset_index()
st.dataframe(styled_money(members_table, list(shown_money),
                          highlight=members_table["org_id"].isin(worse)).format(
                 lambda v: f"{v + 0.0:.2f}%", subset=["shortfall_pct"]),
             hide_index=True, width="stretch", placeholder="—",
             # the objective's own measure beside the member, never off the edge at 1280 px
             column_order=["org_id", "shortfall_pct", *shown_money],
             column_config={**money_m_columns(shown_money),
                            "org_id": st.column_config.TextColumn("org_id", pinned=True),
                            "shortfall_pct": st.column_config.TextColumn(
                                f"shortfall % {scale}", alignment="right")})

# -- why ----------------------------------------------------------------------------------------
st.subheader("What holds the answer back")
why_left, why_right = st.columns(2, gap="large")
with why_left:
    st.markdown("**Conditions with no room to spare**")
    if allocation.binding:
        st.markdown(md_lines(allocation.binding_sentences()))
    else:
        st.markdown("None: every condition has room to spare.")
with why_right:
    st.markdown("**What relaxing them would be worth**")
    if allocation.shadow_prices:
        st.markdown(md_lines(p.sentence for p in allocation.shadow_prices))
    elif allocation.note:
        st.info(md(allocation.note), icon=":material/info:")
    else:
        st.markdown("Relaxing a condition by a small step would not improve the answer.")
if allocation.note and allocation.shadow_prices:
    st.info(md(allocation.note), icon=":material/info:")
if allocation.boundary_warning:
    st.warning(md(allocation.boundary_warning), icon=":material/fence:")

# -- alternatives ---------------------------------------------------------------------------------
st.subheader("Alternatives")
st.caption("Other allocations nearly as good as the optimum but materially different — who "
           "pays and who receives changes — to put side by side in a discussion. Each still "
           "moves as little money as it can.")
a1, a2, a3 = st.columns([1, 1, 2], vertical_alignment="bottom")
k = a1.number_input("How many", min_value=1, max_value=5, value=3, step=1, key="opt_alt_k")
slack = a2.number_input("Within (% of the optimum)", min_value=0.0, max_value=100.0,
                        value=DEFAULT_SLACK_PCT, step=1.0, format="%.0f", key="opt_alt_slack",
                        help="How much worse than the optimum an alternative may be: 5 means "
                             "within 5% of the optimal value.")
if a3.button("Find alternatives", icon=":material/alt_route:", key="opt_alt_run"):
    with st.spinner("Looking for alternatives…"):
        try:
            found = allocation.alternatives(k=int(k), slack=float(slack) / 100.0)
        except ValidationError as exc:
            show_validation_error(exc, "No alternatives were looked for —")
        else:
            store(ALTERNATIVES, inputs, {"k": int(k), "slack": float(slack), "found": found})
alts = stored(ALTERNATIVES, inputs)
if alts is not None:
    found = alts["found"]
    if not found:
        st.info(f"No materially different allocation is within {alts['slack']:g}% of the "
                "optimum: the optimum is close to the only good answer. Allow more room to see "
                "others.", icon=":material/info:")
    else:
        lines = [f"- **Optimum:** {md(allocation.value_text())}; moves {md(money_m(moved, 2))}; "
                 f"{len(worse)} worse off than on their own."]
        for i, alt in enumerate(found, start=1):
            lines.append(f"- **Alternative {i}:** {md(alt.value_text())}; moves "
                         f"{md(money_m(alt.money_moved, 2))}; {len(alt.outcome.worse_off)} worse off than "
                         f"on their own.")
        st.markdown(f"Found {len(found)} of the {alts['k']} asked for within "
                    f"{alts['slack']:g}% of the optimum.\n\n" + "\n".join(lines))
        compare = pd.DataFrame({"member": [system.orgs.loc[o, "name"] for o in members],
                                "optimum": allocation.received.to_numpy()}, index=members)
        for i, alt in enumerate(found, start=1):
            compare[f"alternative {i}"] = alt.received.reindex(members).to_numpy()
        compare.index.name = "org_id"
        money_columns = [c for c in compare.columns if c != "member"]
        st.caption("What each member receives from the pool (£m; negative: pays into it), at "
                   "the optimum and in each alternative. Shaded: different from the optimum by "
                   "£0.01m or more.")
        changed = compare.reset_index()
        styler = styled_money(changed, money_columns).apply(
            lambda col: [f"background-color: {CHANGED}" if col.name.startswith("alternative")
                         and abs(changed.loc[i, col.name] - changed.loc[i, "optimum"]) >= 5e3
                         else "" for i in col.index], axis=0)
        st.dataframe(styler, hide_index=True,
                     width="stretch", placeholder="—",
                     column_config={"member": st.column_config.TextColumn("member",
                                                                          width="large"),
                                    **money_m_columns({c: f"{c} £m" for c in money_columns})})


# -- downloads ------------------------------------------------------------------------------------
st.subheader("Download")
found = alts["found"] if alts is not None else []
st.caption("The member table as CSV (£); or a workbook with the members, the binding "
           "conditions and shadow prices, the system lines, what you asked for"
           + (" and the alternatives found." if found else "."))


assert constraints is not None   # a stored result is only ever made from valid conditions
request = pd.DataFrame({
    "setting": ["system", "what is shared", "objective", "solver",
                *constraints.to_dict().keys()],
    "value": [system.label, START_LABELS[start] + (f" ({agreement.name})" if start == WITH
                                                   else ""),
              objective_label(allocation.objective, scale), status.solver,
              *[setting_text(k, v, scale) for k, v in constraints.to_dict().items()]]})
d1, d2, _ = st.columns([1, 1, 2])
d1.download_button("Download the members (.csv)", csv_text(table, index=True).encode("utf-8"),
                   file_name=export_name(system.label, "optimised-allocation", "csv"),
                   mime="text/csv", key="dl_opt_csv", on_click="ignore")
d2.download_button("Download the results (.xlsx)",
                   # made only when asked for (a workbook takes a moment to write)
                   lambda: allocation_workbook(allocation, found, request),
                   file_name=export_name(system.label, "optimised-allocation", "xlsx"),
                   key="dl_opt_xlsx", on_click="ignore",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
