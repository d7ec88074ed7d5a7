"""Reconcile page: the statement from ΣOCT to the SCT, unrealistic targets, a rebalancing."""

from __future__ import annotations

import streamlit as st

from riskshare.core.basis import bases
from riskshare.core.errors import InfeasibleError, ValidationError
from riskshare.core.filenames import export_name
from riskshare.core.format import listed, money, money_m, named
from riskshare.reconciliation.rebalance import METHOD_WORDS, METHODS
from riskshare.reconciliation.reconcile import DEFAULT_UNREALISTIC_PCT
from riskshare.reconciliation.ringfence import ring_fenced
from riskshare.reports import charts
from riskshare.reports.workbooks import reconciliation_workbook
from riskshare.ui import cache, state
from riskshare.ui.tables import (
    money_m_columns,
    show_infeasible,
    show_validation_error,
    styled_money,
)
from riskshare.ui.text import md, md_lines
from riskshare.years.underlying import underlying

st.title("Reconcile")
st.markdown("How the members' organisational control totals (OCTs) add up against the system "
            "control total (SCT), which targets look unrealistic against the forecasts, and a "
            "rebalanced set of OCTs that adds up exactly.")
state.show_flash()
state.system_caption()
system = state.current_system()

threshold = st.slider("Flag an OCT as unrealistic when the forecast is adverse by more than "
                      "(% of turnover)", 0.0, 5.0, DEFAULT_UNREALISTIC_PCT, 0.1,
                      key="unrealistic_pct")
rec = cache.reconcile(system, threshold)
outside = system.outside_members
if outside:
    st.info(f"**System boundary.** {md(named(outside))} "
               f"{'is' if len(outside) == 1 else 'are'} outside the system control total: "
               "listed below with their own figures, but left out of ΣOCT, the gap, the "
               "system forecast and the rebalancing (their OCTs never change). Set the "
               "boundary with the **in SCT** column on the System page.",
            icon=":material/fence:")

m1, m2, m3, m4, m5 = st.columns(5)
# short labels in plain words (they fit a fifth of the page), the abbreviation in brackets
m1.metric("Members' totals (ΣOCT)", money_m(rec.amount("sum_oct")),
          help="The sum of the members' organisational control totals (OCTs): the surplus (+) "
               "or deficit (−) each member has agreed to deliver"
               + (", over the members inside the SCT." if outside else "."))
m2.metric("System total (SCT)", money_m(rec.amount("sct")),
          help="The system control total: the target for the system as a whole.")
m3.metric("Gap (SCT − ΣOCT)", money_m(rec.gap),
          help="The system total less the sum of the members' totals: positive when the "
               "members' targets add up to less than the system is asked for.")
m4.metric("Forecast against SCT", money_m(rec.amount("variance_vs_sct")),
          help="The system's forecast outturn against the system control total (negative: "
               "short of it).")
m5.metric("Unrealistic targets", f"{len(rec.unrealistic)} of {system.n}",
          help="Members whose forecast is adverse to their control total by more than the "
               "threshold above (% of turnover).")

left, right = st.columns([1, 1], gap="large")
with left:
    st.subheader("Statement: from the members' totals to the system's")
    statement = styled_money(rec.statement.reset_index(drop=True), ["amount"])
    # the line wide enough for its longest label at 1280 px, the amount beside it (never cut)
    st.dataframe(statement, hide_index=True, width="stretch", placeholder="—",
                 column_config={"label": st.column_config.TextColumn("line", width=310),
                                **money_m_columns({"amount": "£m"})})
with right:
    st.subheader("What stands out")
    with st.container(border=True):
        for sentence in rec.flags:
            st.markdown(f"- {md(sentence)}")

st.altair_chart(charts.waterfall(rec), width="stretch")

st.subheader("Members")
st.altair_chart(charts.variance_chart(rec), width="stretch")
member_money = {"turnover": "turnover £m", "control_total": "OCT £m", "forecast": "forecast £m",
         "support": "support £m", "variance": "variance £m", "gap_share": "share of gap £m"}
members = styled_money(rec.orgs.reset_index(), list(member_money))
st.dataframe(members, hide_index=True, width="stretch", placeholder="—",
             # no "kind" (it is on the System page): every column fits 1280 px uncut
             column_order=["org_id", "name", *(["in_sct"] if outside else []), "turnover",
                           "control_total", "forecast", "variance", "variance_pct",
                           "unrealistic", "support", "gap_share"],
             column_config={**money_m_columns(member_money, {"variance_pct": "variance % turnover"}),
                            "name": st.column_config.TextColumn("name", width="medium"),
                            "in_sct": st.column_config.CheckboxColumn(
                                "in SCT", help="Inside the system control total"),
                            "unrealistic": st.column_config.CheckboxColumn("unrealistic?")})

# -- reported and underlying (when members have one-offs) -----------------------------------------
if (system.orgs["non_recurrent"] > 0).any():
    under = underlying(system)
    st.subheader("Reported and underlying")
    with st.container(border=True):
        st.markdown(md_lines(under.sentences()))
    under_money = {"control_total": "OCT £m", "forecast": "reported £m",
                   "non_recurrent": "one-offs £m", **{c: f"{c} £m" for c in under.lines},
                   "underlying": "underlying £m",
                   "forecast_vs_control_total": "reported vs OCT £m",
                   "underlying_vs_control_total": "underlying vs OCT £m"}
    shown = under.table.reset_index()
    st.dataframe(styled_money(shown, list(under_money),
                              highlight=shown["one_offs_only"].to_numpy()),
                 hide_index=True, width="stretch", placeholder="—",
                 # the flag beside the member, so it is never cut at 1280 px
                 column_order=["org_id", "one_offs_only", *list(under_money)],
                 column_config={**money_m_columns(under_money),
                                "org_id": st.column_config.TextColumn(
                                    "member", help="SYSTEM: the members inside the SCT, "
                                                   "against the SCT"),
                                "one_offs_only": st.column_config.CheckboxColumn(
                                    "one-offs only",
                                    help="Meets its control total as reported, but not "
                                         "underlying: only through one-offs.")})
    st.caption("£m. Underlying: the reported forecast less its non-recurrent benefit "
               "(non_recurrent and its nr_ lines, in the organisations table). Shaded: meets "
               "its control total only through one-offs.")

st.subheader("Rebalancing proposal")
st.markdown("Revised OCTs that share the gap between members, in whole pennies, so they add up "
            "exactly to the SCT: pro rata to a basis, or chosen by optimisation so that no "
            "control total moves too far (or every member is asked for the same stretch "
            "against its forecast).")
r1, r2, r3 = st.columns([3, 3, 1.6], gap="medium")
method = r1.selectbox("How to share the gap", list(METHODS),
                      format_func=lambda m: METHOD_WORDS[m][:1].upper() + METHOD_WORDS[m][1:],
                      key="rebalance_method")
if method == "basis":
    sizes = bases(system)
    basis = r2.selectbox("Share the gap pro rata to", [*sizes[:1], "equal", *sizes[1:]],
                         key="rebalance_basis")
    how = f"on {basis}"
    request: dict[str, object] = {"basis": basis}
else:
    # the conditions go in together: each change would otherwise solve the LP again
    with st.form("rebalance_conditions", border=False):
        f1, f2, f3 = st.columns([3, 1.6, 1.2], gap="medium", vertical_alignment="bottom")
        keep = f1.multiselect("Keep these members' OCTs",
                              [m for m in system.members if m not in outside],
                              format_func=lambda m: f"{m} · {system.orgs.loc[m, 'name']}",
                              key=f"rebalance_keep_{state.version()}",
                              placeholder="none: every OCT may change",
                              help="Their control totals stay exactly as they are; the others "
                                   "share the whole gap.")
        max_change = f2.number_input("Cap on any change (%)", value=None, min_value=0.0,
                                     step=0.1, format="%.2f", placeholder="no cap",
                                     key="rebalance_max_change",
                                     help="No OCT moves by more than this % of the member's "
                                          "turnover. Leave blank for no cap.")
        fenced = ring_fenced(system)
        growth = (st.number_input(
            "Mental health ring fence: growth on last year (%)", value=None, step=0.1,
            format="%.1f", placeholder="no ring fence", key="rebalance_ring_fence",
            help=f"{listed(fenced)}: mh_spend stays at least mh_spend_last_year × (1 + growth). "
                 "A higher OCT falls on the member's spending pro rata to mh_spend / turnover.")
            if fenced else None)
        f3.form_submit_button("Rebalance", icon=":material/balance:", key="rebalance_submit")
    how = f"by {METHOD_WORDS[method].split(':')[0]}"
    request = {"keep": keep, "max_change": max_change}
    if growth is not None:
        request["ring_fence"] = {m: float(growth) for m in fenced}
reb = None
try:
    reb = cache.rebalance(system, method, **request)
except InfeasibleError as exc:
    show_infeasible(exc)
except ValidationError as exc:
    show_validation_error(exc, "Cannot rebalance this way:")
else:
    st.caption(md(reb.describe()))
if reb is not None:
    # the table full width (six columns are cut at 1280 px beside the chart); the chart below
    with st.container():
        money_r = {"turnover": "turnover £m", "control_total": "OCT £m", "revised": "revised £m",
                   "change": "change £m", "forecast": "forecast £m",
                   "variance_revised": "variance vs revised £m"}
        st.dataframe(styled_money(reb.table.reset_index(), list(money_r)), hide_index=True,
                     width="stretch", placeholder="—",
                     column_order=["org_id", *(["in_sct"] if outside else []),
                                   "control_total", "revised", "change", "change_pct",
                                   "variance_revised"],
                     column_config={**money_m_columns(money_r),
                                    "in_sct": st.column_config.CheckboxColumn("in SCT"),
                                    # 3 dp: optimised changes are quoted to 0.001% (describe)
                                    "change_pct": st.column_config.NumberColumn(
                                        "change % turnover", format="%.3f%%")})
        st.caption(f"Revised OCTs {'inside the SCT ' if outside else ''}sum to "
                   f"{money(reb.total, 2)}; the SCT is {money(system.control_total, 2)}."
                   + (f" {named(outside)} {'keeps its OCT' if len(outside) == 1 else 'keep their OCTs'}"
                      " (outside the SCT)." if outside
                      else ""))
        if st.button("Use the revised OCTs", key="adopt_rebalance",
                     help="Replace the members' control totals with the revised ones."):
            state.load(reb.apply(), f"{state.source()} · rebalanced {how}",
                       f"The revised OCTs (rebalanced {how}) are now the members' control "
                       "totals.")
            st.rerun()
    st.altair_chart(charts.rebalance_chart(reb.table), width="stretch")

def reconciliation_download() -> bytes:
    """The workbook, made only when the button is clicked (it takes a moment to write)."""
    return reconciliation_workbook(rec, reb) if reb is not None else b""


st.download_button("Download the reconciliation (.xlsx)",
                   # made only when asked for (a workbook takes a moment to write)
                   reconciliation_download if reb is not None else b"",
                   file_name=export_name(system.label, "reconciliation", "xlsx"),
                   key="dl_reconciliation",
                   disabled=reb is None,
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
