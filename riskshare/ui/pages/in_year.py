"""In year page: the year month by month for a board paper — each member's actuals to date
against its plan to date, the forecast outturn, support earned quarter by quarter under the
current agreement, and where the year will land.

The monthly table is held beside the system (`state.current_monthly`): a sample brings its own,
a system workbook its `monthly` sheet; here it can be uploaded, edited, or made by phasing the
control totals. Every figure names its reference (plan to date, the OCT or the SCT), the month
and the forecast method. The library's results are cached (`cache.in_year`, `cache.landing`) on
the system's, table's and agreement's fingerprints, the month, method and scenario settings, so
moving the month back and forth redraws without recomputing; while the page is read, the other
months are worked out in the background (`riskshare.ui.prefetch`), so a month not yet shown
redraws from the caches too.
"""

from __future__ import annotations

import functools
import time

import numpy as np
import pandas as pd
import streamlit as st

from riskshare.agreements import describe as agreement_words
from riskshare.core.cells import csv_text
from riskshare.core.constants import HALF_PENNY
from riskshare.core.errors import InputFileError, ValidationError
from riskshare.core.filenames import export_name
from riskshare.core.forecast import FORECAST_METHODS, METHOD_WORDS, QUARTERS, year_path
from riskshare.core.format import money_m, named
from riskshare.core.monthly import (
    MONTH_NAMES,
    PHASINGS,
    Monthly,
    monthly_from_bytes,
    monthly_from_frame,
)
from riskshare.core.write import MONTHLY_COLUMNS, MONTHLY_MONEY, monthly_frame
from riskshare.inyear.position import SYSTEM_ROW, month_name
from riskshare.reports.workbooks import in_year_workbook
from riskshare.ui import cache, prefetch, scenario_controls, state
from riskshare.ui.tables import (
    HIGHLIGHT,
    money_m_columns,
    pounds_cell,
    show_load_error,
    show_validation_error,
    styled_money,
)
from riskshare.ui.text import md, money_lines

#: How the forecast methods are offered (the library's METHOD_WORDS say them in full).
METHOD_LABELS = {"plan": "plan: to date + the remaining plan",
                 "run_rate": "run rate: to date × 12 ÷ months closed",
                 "submitted": "submitted forecast: to date + the forecast submitted"}
PROFILE_LABELS = {"even": "evenly (a twelfth a month)",
                  "winter_acute": "winter acute (more of the year's position in the winter)",
                  "winter_for_acute": "winter acute for acute trusts, evenly for the others"}
PHASED_HOW = {"even": "evenly, a twelfth a month",
              "winter_acute": "by the winter acute profile",
              "winter_for_acute": "by the winter acute profile for acute trusts and evenly "
                                  "for the others"}
N_CHOICES = (1_000, 2_000, 5_000, 10_000, 20_000, 50_000)
DEFAULT_N = 10_000
SYSTEM_LABEL = "System (inside the SCT)"
MEMBER_CHART_HEIGHT = 262       # beside the system's chart, under the member picker


def _short_month(m: int) -> str:
    return "0 · none closed" if m == 0 else f"{m} · {MONTH_NAMES[m - 1]}"


def _editor_frame(monthly) -> pd.DataFrame:
    """The monthly table as the editor shows it: one row per member and month, money as text
    (read by the library's money reader, as the System page's members table), phased plans
    blank (phased again from the control total)."""
    frame = monthly.table.reset_index()
    frame.loc[frame["org_id"].isin(monthly.phased), "plan"] = np.nan
    out = frame[list(MONTHLY_COLUMNS)].copy()
    out["month"] = out["month"].astype(int)
    for c in MONTHLY_MONEY:
        out[c] = pd.Series([pounds_cell(v) for v in out[c]], index=out.index, dtype=object)
    return out


@st.cache_resource
def _reruns() -> dict[str, float]:
    """When a rerun of this page (in any session) last started and ended (time.monotonic)."""
    return {"started": 0.0, "ended": 0.0}


QUIET = 0.3        # s without a rerun of the page before a month is worked out in the background


def _when_quiet(reruns: dict[str, float], patience: float = 5.0) -> None:
    """Wait (at most `patience` s) until no rerun of the page has run for `QUIET` s: work in the
    background never slows the rerun a user is waiting for. A rerun stopped before its end
    (another click) counts as ended a second after it started."""
    give_up = time.monotonic() + patience
    while time.monotonic() < give_up:
        started, ended = reruns["started"], reruns["ended"]
        last = ended if ended >= started else started + 1.0
        if time.monotonic() - last >= QUIET:
            return
        time.sleep(0.05)


def _work_out_month(reruns: dict[str, float], system, monthly, agreement, month: int,
                    method: str, fan_args, member: str) -> None:
    """Month `month`'s results and charts, as the page shows them, into the caches (`cache`),
    once the page is quiet: pure library and chart work, no Streamlit element, so it can run
    in the background (`riskshare.ui.prefetch`). An agreement or settings that do not fit raise
    here unseen; the page says so when the month is shown."""
    _when_quiet(reruns)
    cache.in_year(system, monthly, month, method)
    if agreement is not None:
        cache.in_year_outcome(agreement, system, monthly, month, method)
    if fan_args is not None:
        cache.landing(system, monthly, agreement, month, method, *fan_args)
    cache.cumulative_chart(system, monthly, agreement, month, method, fan_args, SYSTEM_ROW,
                           SYSTEM_LABEL)
    cache.cumulative_chart(system, monthly, agreement, month, method, fan_args, member, member,
                           height=MEMBER_CHART_HEIGHT)


def _editor_changed(key: str) -> bool:
    """Whether the editor under `key` holds edits (a table with none is not read again)."""
    edits = st.session_state.get(key)
    if not edits:
        return False
    return any(edits.get(k) for k in ("edited_rows", "added_rows", "deleted_rows"))


def monthly_section(system) -> None:
    """Where the monthly table comes from: upload, phase the control totals, edit it."""
    held = state.held_monthly()
    monthly = state.current_monthly()
    v = state.monthly_version()
    # The heading and the editor's data are the table as last set (not as edited since), so
    # neither changes while the user edits: a changed heading folds the panel, and a data editor
    # whose data changes starts afresh, losing the edit in progress. The edits themselves stay
    # in the editor, on top of that table.
    as_set = state.monthly_as_set()
    base = held if as_set is None else as_set[0]
    if monthly is not None and as_set is not None:
        closed = month_name(as_set[0].month)
        label = (f"Monthly table — {as_set[1]} · closed to {closed} for every member"
                 + (" (some members are further on)" if as_set[0].uneven() else ""))
    elif held is not None:
        label = "Monthly table — does not fit the system as edited"
    else:
        label = "Monthly table — none yet: upload one or phase the control totals"
    with st.expander(md(label), expanded=monthly is None, icon=":material/calendar_month:"):
        st.caption("One row per member and month: `org_id`, `month` (1 is April, 12 is March), "
                   "`plan`, `actual` (blank until the month closes) and optionally `forecast` "
                   "(a submitted forecast for a month still to come), in-month £, surplus "
                   "positive and deficit negative. A member with no plan has its control total "
                   "phased over the year.")
        up, phase = st.columns([3, 2], gap="large")
        with up:
            upload = st.file_uploader("Upload a monthly table (.csv or .xlsx)",
                                      type=["csv", "xlsx"], key=f"iy_upload_{v}",
                                      help="A .csv file, or a workbook with a 'monthly' sheet "
                                           "(a system workbook from the System page, or the "
                                           "template filled in).")
            if upload is not None and st.session_state.get("rs_iy_upload_seen") != \
                    upload.file_id:
                try:
                    table = monthly_from_bytes(upload.getvalue(), upload.name, system)
                except (ValidationError, InputFileError) as exc:
                    show_load_error(exc, upload.name)
                    st.caption("The monthly table in use is unchanged.")
                else:
                    st.session_state["rs_iy_upload_seen"] = upload.file_id
                    state.set_monthly(table, f"upload: {upload.name}",
                                      f"Loaded the monthly table {upload.name}: closed to "
                                      f"{month_name(table.month)} for every member."
                                      + (f" {table.uneven()}" if table.uneven() else ""))
                    st.rerun()
        with phase:
            profile = st.radio("Phase the control totals", list(PHASINGS),
                               format_func=lambda p: PROFILE_LABELS.get(p, p), key="iy_profile",
                               help="A plan for every member from its control total, no "
                                    "actuals yet: a starting point to fill in month by month.")
            if st.button("Phase the control totals", key="iy_phase",
                         icon=":material/calendar_view_month:",
                         help="Replaces the monthly table with every member's control total "
                              "phased this way, and no actuals." if held is not None else
                              "Every member's control total phased this way, no actuals."):
                table = monthly_from_frame(pd.DataFrame(columns=["org_id", "month"]), system,
                                           profile)
                state.set_monthly(table, f"the control totals phased ({profile})",
                                  f"Phased every member's control total "
                                  f"{PHASED_HOW.get(profile, f'by the {profile} profile')}. "
                                  "No month has closed yet: add actuals in the table as "
                                  "months close.")
                st.rerun()
        if held is None or base is None:
            return
        if held.phased:
            st.caption(md(f"Plans phased from the control total ({held.profile}): "
                          f"{named(held.phased)} (their plan cells are blank)."))
        if held is not base:
            st.caption(md(f"Edited here since it was loaded: now closed to "
                          f"{month_name(held.month)} for every member "
                          f"({state.monthly_source()})."))
        key = f"iy_editor_{v}"
        edited = st.data_editor(
            _editor_frame(base), key=key, num_rows="dynamic", hide_index=True,
            width="stretch", height=280, placeholder="",
            column_config={
                "org_id": st.column_config.TextColumn("org_id", required=True, pinned=True),
                "month": st.column_config.NumberColumn("month", min_value=1, max_value=12,
                                                       step=1, required=True,
                                                       help="1 is April, 12 is March"),
                **{c: st.column_config.TextColumn(
                    f"{c} (£)", alignment="right",
                    help="In-month £: surplus positive, deficit negative; -9,000 or (9,000).")
                   for c in MONTHLY_MONEY}})
        if _editor_changed(key):
            try:
                table = monthly_from_frame(edited, system, held.profile,
                                           "the monthly table (your edits)")
            except ValidationError as exc:
                show_validation_error(exc, "Your edits are not applied yet —")
                st.caption("The page keeps using the last valid monthly table until these are "
                           "fixed.")
            else:
                state.update_monthly(table)


reruns = _reruns()
reruns["started"] = time.monotonic()
st.title("In year")
st.markdown("Where the system stands at a month of the year (April is month 1): each member's "
            "actuals to date against its plan to date, the forecast outturn against the control "
            "totals, support earned quarter by quarter under the current agreement, and where "
            "the year is likely to land. Money in £m.")
state.show_flash()
state.system_caption()
system = state.current_system()
agreement = state.agreement_caption()
monthly_section(system)

monthly = state.current_monthly()
misfit = state.monthly_misfit()
if monthly is None:
    if misfit is not None:
        show_validation_error(misfit, "The monthly table does not fit the system as edited on "
                                      "the System page —")
        st.caption("Undo the edit on the System page, correct the table above, upload another "
                   "or phase the control totals.")
    else:
        st.info("No monthly table for this system yet: upload one, or phase the control totals "
                "to start one (above).", icon=":material/calendar_month:")
    reruns["ended"] = time.monotonic()
    st.stop()

# -- controls -------------------------------------------------------------------------------------
latest = monthly.month
months = list(range(latest + 1))
if st.session_state.get("iy_month") not in months:
    st.session_state.pop("iy_month", None)
c1, c2, c3 = st.columns([3, 4, 1.6], gap="medium")
with c1:
    if latest:
        month = c1.select_slider("Month closed (April is month 1)", months, value=latest,
                                 format_func=_short_month, key="iy_month",
                                 help=f"Look back at any month up to {month_name(latest)}, the "
                                      "latest closed for every member.")
    else:
        month = 0
        st.caption("No month has closed for every member yet: the forecast is the plan.")
if monthly.uneven():
    st.warning(md(monthly.uneven()), icon=":material/event_busy:")


def _unavailable(table: Monthly, month: int, method: str) -> str:
    """Why `method` cannot forecast from `month` ("" when it can)."""
    try:
        year_path(table, month, method)
    except ValidationError as exc:
        return exc.problems[0].rule if exc.problems else str(exc)
    return ""


why_not = {m: _unavailable(monthly, month, m) for m in FORECAST_METHODS}
methods = [m for m in FORECAST_METHODS if not why_not[m]]
if st.session_state.get("iy_method") not in methods:
    st.session_state.pop("iy_method", None)
method = c2.radio("Forecast the months to come by", methods, format_func=METHOD_LABELS.get,
                  key="iy_method", horizontal=False)
unavailable = [f"{METHOD_LABELS[m].split(':')[0]} — {why_not[m]}" for m in FORECAST_METHODS
               if why_not[m]]
if unavailable and month > 0:          # at month 0 the caption beside says why
    c2.caption(md("Not available at " + month_name(month) + ": " + "; ".join(unavailable)))
n = c3.selectbox("Scenarios", N_CHOICES, index=N_CHOICES.index(DEFAULT_N),
                 format_func=lambda k: f"{k:,}", key="iy_n",
                 help="Scenarios of the months to come, for the fan and the chances: this "
                      "page's own number, drawn afresh at every change, so the page keeps "
                      "up with the month. The seed, correlation, shocks and volatility are "
                      "the Scenario settings in the sidebar.")
settings, _ = scenario_controls.for_system(scenario_controls.current(), system)

# -- results (cached) -----------------------------------------------------------------------------
iy = cache.in_year(system, monthly, month, method)
outcome = None
try:
    outcome = cache.in_year_outcome(agreement, system, monthly, month, method)
except ValidationError as exc:
    show_validation_error(exc, "The current agreement does not fit this system — shown without "
                               "it:")
land = None
# the risk register drawn in the fan when the scenario settings say so (and there is one)
risks = state.current_register() if settings.uses_register() else None
landing_settings = (settings.seed, settings.correlation, settings.shocks,
                    settings.volatility_scale, risks,
                    settings.register if risks is not None else "add",
                    settings.event_correlation if risks is not None else 0.0)
try:
    land = cache.landing(system, monthly, agreement if outcome is not None else None, month,
                         method, n, *landing_settings)
except ValidationError as exc:
    show_validation_error(exc, "The scenarios of the months to come were not drawn —")

t = iy.table
s = t.loc[SYSTEM_ROW]
where = month_name(month)
how = METHOD_WORDS[method]
title = agreement_words.title(agreement)
st.caption(md(f"At {where} · forecast: {how} · agreement: {title}"
              + (f" · {n:,} scenarios of the months to come (seed {settings.seed}, correlation "
                 f"{settings.correlation:.2f}"
                 + (f", shocks: {', '.join(scenario_controls.shock_title(x) for x in settings.shocks)}"
                    if settings.shocks else "")
                 + (f", the risk register's {len(risks.table)} items "
                    + ("on top" if settings.register == "add" else "alone")
                    if risks is not None else "") + ")" if land is not None else "")))

# -- headline -------------------------------------------------------------------------------------
m1, m2, m3, m4 = st.columns(4)
m1.metric("System to date vs plan to date", money_m(s["ytd_variance"], sign=True),
          help=f"At {where}: year to date {money_m(s['ytd_actual'])} against a plan to date of "
               f"{money_m(s['ytd_plan'])} — the members' plans inside the SCT, with any gap "
               "between the SCT and their OCTs spread evenly over the year.")
m2.metric("System forecast vs SCT", money_m(s["forecast_variance"], sign=True),
          help=f"Forecast outturn {money_m(s['forecast'])} ({how}) against the system control "
               f"total (SCT) of {money_m(system.control_total)}.")
if land is not None:
    m3.metric("Chance the system meets the SCT",
              f"{land.table.loc[SYSTEM_ROW, 'p_meet']:.0%}",
              help=f"P(system meets SCT): the share of {n:,} scenarios of the months to come, "
                   f"from {where}, in which the system's outturn (inside the SCT, before "
                   "support) is at or above the SCT.")
if outcome is not None:
    support = outcome.table["support"]
    earned = outcome.table["support_earned"]
    m4.metric("Support earned at the forecast", money_m(float(earned.sum())),
              delta=f"of {money_m(float(support.sum()))} at stake", delta_color="off",
              delta_arrow="off",
              help=f"Support earned under “{title}” if the year ends at the forecast "
                   f"({how}), out of all the support at stake.")

# -- for the board paper --------------------------------------------------------------------------
sentences = list(iy.sentences())
if land is not None:
    row = land.table.loc[SYSTEM_ROW]
    sentences.append(
        f"Across {n:,} scenarios of the months to come, the system meets the SCT in "
        f"{row['p_meet']:.0%} of them; under “{title}” the members inside the SCT end the year "
        f"between {money_m(row['p5'])} and {money_m(row['p95'])} together in nine scenarios "
        f"out of ten (final positions, after the agreement and support).")
if outcome is not None and not outcome.quarters.empty:
    q = outcome.quarters
    done = q["judged_on"] != "forecast"
    at_stake, on_course = (float(q.loc[~done, c].sum()) for c in ("at_stake", "earned"))
    to_come = ("; no quarter is still to be decided" if not (~done).any() else
               f"; {money_m(at_stake)} still at stake, "
               + (f"of which {money_m(on_course)} is earned" if on_course >= HALF_PENNY
                  else "none of it earned") + " if the year goes as forecast")
    sentences.append(
        f"Support by quarter under “{title}”: {money_m(float(q.loc[done, 'earned'].sum()))} "
        f"earned and {money_m(float(q.loc[done, 'lost'].sum()))} lost in the quarters decided "
        f"by {where}{to_come}.")
with st.container(border=True):
    st.markdown(f"**For the board paper** — at {md(where)}")
    # a minus sign kept with its figure when a line wraps (the copied text is as written)
    st.markdown(money_lines(sentences))
    with st.expander("Copy the text"):
        st.code("\n".join(sentences), language=None, wrap_lines=True)

# -- year to date ---------------------------------------------------------------------------------
st.subheader(f"Year to date at {where}")
behind = (t["ytd_variance"] <= -HALF_PENNY).to_numpy()
ytd_money = {"control_total": "OCT (SCT) £m", "ytd_plan": "plan to date £m",
             "ytd_actual": "actual to date £m", "ytd_variance": "vs plan to date £m",
             "forecast_plan": "forecast, plan £m", "forecast_run_rate": "forecast, run rate £m",
             "forecast_submitted": "forecast, submitted £m", "forecast": "forecast £m",
             "forecast_variance": "forecast vs OCT (SCT) £m",
             "movement_month": f"moved since month {max(month - 1, 0)} £m",
             "movement_m6": "moved since month 6 £m"}
ytd_frame = t.reset_index()
config = {**money_m_columns(ytd_money, {"ytd_variance_pct": "vs plan to date %"}),
          "org_id": st.column_config.TextColumn("member", pinned=True,
                                                help="org_id; SYSTEM: the members inside the "
                                                     "SCT, against the SCT"),
          "name": st.column_config.TextColumn("name", width="medium"),
          "in_sct": st.column_config.CheckboxColumn("in SCT"),
          "flags": st.column_config.TextColumn("what stands out", width="large")}
outside = system.outside_members
GROUPS = {"Year to date": ["ytd_plan", "ytd_actual", "ytd_variance", "ytd_variance_pct",
                           "flags"],
          "Forecast outturn": ["control_total", "forecast", "forecast_variance",
                               "forecast_plan", "forecast_run_rate", "forecast_submitted",
                               "movement_month", "movement_m6"]}
for tab, columns in zip(st.tabs(list(GROUPS)), GROUPS.values(), strict=True):
    with tab:
        # each tab styles only its own columns (a table styled is sent whole, every rerun)
        order = ["org_id", *(["in_sct"] if outside else []), *columns]
        st.dataframe(styled_money(ytd_frame[order], [c for c in columns if c in ytd_money],
                                  highlight=behind),
                     hide_index=True, width="stretch", placeholder="—", column_config=config)
st.caption(md(f"£m. Plan to date and actual to date: months 1 to {month}; vs plan to date: "
              "actual − plan (+ ahead of plan), and as % of the plan to date (— where the plan "
              "to date is under 0.5% of the turnover to date: near breakeven a percentage says "
              "little). Forecast: "
              f"{how}; against each member's OCT (the SYSTEM row: against the SCT). Shaded: "
              "behind plan to date.")
           + (f" {md(named(outside))} {'is' if len(outside) == 1 else 'are'} outside the SCT: "
              "shown, not counted in SYSTEM." if outside else ""))

# -- cumulative chart -----------------------------------------------------------------------------
st.subheader("Plan against actual, month by month")
options = [*system.members]
labels = {m: f"{m} · {system.orgs.loc[m, 'name']}" for m in options}
if st.session_state.get("iy_member") not in options:
    st.session_state.pop("iy_member", None)
fan_args = None if land is None else (n, *landing_settings)
fan_agreement = agreement if outcome is not None else None
left, right = st.columns(2, gap="large")
with left:
    # charts.cumulative_chart, built once per month and method (cache)
    st.vega_lite_chart(cache.cumulative_chart(
        system, monthly, fan_agreement, month, method, fan_args, SYSTEM_ROW, SYSTEM_LABEL),
        width="stretch")
with right:
    member = st.selectbox("Member", options, format_func=lambda m: labels[m], key="iy_member",
                          label_visibility="collapsed")
    st.vega_lite_chart(cache.cumulative_chart(
        system, monthly, fan_agreement, month, method, fan_args, member, member,
        height=MEMBER_CHART_HEIGHT), width="stretch")
st.caption(md(f"Forecast after {where}: {how}. The system's plan is the SCT phased (the "
              "members' plans inside the SCT, with any gap to the SCT spread evenly); the fan is "
              "the outturn before the agreement and support."))

# -- support by quarter ---------------------------------------------------------------------------
st.subheader("Support quarter by quarter")
if outcome is None:
    st.caption("Not shown: the current agreement does not fit this system.")
elif outcome.quarters.empty:
    st.info(md(f"“{title}” tests support once, on the year-end position. To pay it quarter by "
               "quarter, on the year to date at each quarter's end, the agreement needs "
               "[support] period = \"quarter\" (as the presets for 2018/19 support funding and "
               "2025/26 deficit support revenue have) — set it on the Agreement page."),
            icon=":material/event_repeat:")
else:
    q = outcome.quarters
    sup = agreement.support
    rows = []
    for org_id in system.members:
        part = q.loc[org_id]
        if float(part["at_stake"].sum()) < HALF_PENNY:
            continue
        row = {"org_id": org_id}
        for quarter in QUARTERS:
            r = part.loc[quarter]
            if r["judged_on"] == "forecast":
                p = np.nan if land is None else land.table.loc[org_id, f"p_{quarter.lower()}"]
                odds = "" if pd.isna(p) else f" · {p:.0%}"
                row[quarter] = ("on course" if r["earned"] >= HALF_PENNY else "short") + odds
            elif r["judged_on"] == "plan":
                row[quarter] = "paid on the plan"
            else:
                row[quarter] = "earned" if r["earned"] >= HALF_PENNY else "lost"
                if HALF_PENNY <= r["earned"] < r["at_stake"] - HALF_PENNY:
                    row[quarter] = "part earned"
        decided = part["judged_on"] != "forecast"
        row["earned"] = float(part.loc[decided, "earned"].sum())
        row["lost"] = float(part.loc[decided, "lost"].sum())
        row["at_risk"] = float(part.loc[~decided, "at_stake"].sum())
        row["year"] = float(part["at_stake"].sum())
        rows.append(row)
    grid = pd.DataFrame(rows)
    q_money = {"earned": "earned £m", "lost": "lost £m", "at_risk": "at risk £m",
               "year": "the year's support £m"}
    # quarters lost, or short on the forecast, shaded as the members behind plan are above
    behind_q = styled_money(grid, list(q_money)).map(
        lambda v: f"background-color: {HIGHLIGHT}" if str(v).startswith(("lost", "short"))
        else "", subset=list(QUARTERS))
    st.dataframe(behind_q, hide_index=True, width="stretch", placeholder="—", column_config={
        **money_m_columns(q_money),
        "org_id": st.column_config.TextColumn("member", pinned=True),
        **{quarter: st.column_config.TextColumn(quarter, width="small") for quarter in QUARTERS}})
    timing = ("in advance: each quarter on the year to date at the end of the quarter before "
              "(Q1 on the agreed plan)" if str(sup.timing) == "advance" else
              "in arrears: each quarter on the year to date at its own end")
    test = ("the system's position inside the SCT against the SCT phased" if
            str(sup.test) == "system" else "each member's position against its own plan")
    st.caption(md(f"Judged {timing}; the test: {test}. Quarters decided by {where} are judged "
                  "on actuals (earned or lost); the others are at risk, judged on the forecast "
                  f"({how}): on course or short, with the chance (%) of earning the quarter's "
                  "support across the scenarios. Shaded: lost, or short on the forecast."
                  + (" Missed quarters are paid if the year-end test passes (catch-up)."
                     if sup.catch_up else "")))

# -- where the year will land ---------------------------------------------------------------------
st.subheader("Where the year will land")
if land is None:
    st.caption("Not shown: the scenarios were not drawn.")
else:
    lt = land.table.reset_index()
    land_money = {"p5": "1-in-20 low £m", "p25": "lower quartile £m", "p50": "median £m",
                  "p75": "upper quartile £m", "p95": "1-in-20 high £m",
                  "mean_final": "mean final £m", "mean_support": "mean support £m",
                  "mean_net_transfer": "mean net transfer £m"}
    lt["p_meet"] = lt["p_meet"] * 100
    if outcome is not None:
        # the year ending exactly at the forecast, beside the scenarios around it
        final = outcome.table["final"]
        lt["at_forecast"] = [float(final[system.inside].sum()) if org_id == SYSTEM_ROW
                             else float(final[org_id]) for org_id in lt["org_id"]]
        land_money = {"at_forecast": "at the forecast £m", **land_money}
    land_config = {**money_m_columns(land_money),
                   "org_id": st.column_config.TextColumn("member", pinned=True),
                   "p_meet": st.column_config.NumberColumn(
                       "chance of meeting OCT (SCT)", format="%.0f%%",
                       help="The share of scenarios in which the member's outturn after the "
                            "risk share, before support, is at or above its control total "
                            "(SYSTEM: the system's against the SCT).")}
    land_groups = {"Final position at year end": [*(["at_forecast"] if outcome is not None
                                                    else []),
                                                  "p_meet", "p5", "p25", "p50", "p75", "p95"],
                   "Averages across the scenarios": ["mean_final", "mean_support",
                                                     "mean_net_transfer"]}
    for tab, columns in zip(st.tabs(list(land_groups)), land_groups.values(), strict=True):
        with tab:
            st.dataframe(styled_money(lt[["org_id", *columns]],
                                      [c for c in columns if c in land_money]),
                         hide_index=True, width="stretch", placeholder="—",
                         column_config=land_config)
    st.caption(md(f"From {where}: {n:,} scenarios of the months to come around the forecast "
                  f"({how}), with “{title}” applied to each. At the forecast: the final "
                  "position if the year ends exactly at the forecast. The low, quartiles, median "
                  "and high are the year-end final position across the scenarios (after the "
                  "agreement and support); SYSTEM adds up the members inside the SCT."))

# -- downloads ------------------------------------------------------------------------------------
d1, d2, _spare = st.columns([1, 1, 2])
d1.download_button("Download the position (.xlsx)",
                   lambda: in_year_workbook(iy, outcome, land),
                   file_name=export_name(system.label, f"in-year-month-{month}", "xlsx"),
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   key="dl_iy_xlsx", on_click="ignore",
                   help="A workbook with the position at this month, the sentences, the year "
                        "to date, support by quarter and where the year will land.")
d2.download_button("Download the monthly table (.csv)",
                   csv_text(monthly_frame(monthly, system), money=MONTHLY_MONEY).encode("utf-8"),
                   file_name=export_name(system.label, "monthly", "csv"), mime="text/csv",
                   key="dl_iy_csv", on_click="ignore",
                   help="The monthly table as a file holds it (org_id, month, plan, actual, "
                        "forecast; phased plans blank), to edit and upload again.")

# -- the other months, ahead of time ----------------------------------------------------------------
# While the page is read, the months not yet shown are worked out in the background, nearest
# first and only while no rerun is running, so moving the month redraws from the caches (in
# about half the time). Each month is its own job: a change of method, member or settings drops
# those not yet started.
for other in sorted(months, key=lambda k: (abs(k - month), k)):
    if other != month:
        prefetch.start(f"iy_month_{other}",
                       (cache.fingerprint_of(system), cache.fingerprint_of(monthly),
                        None if fan_agreement is None else
                        fan_agreement.fingerprint, other, method, fan_args, member),
                       functools.partial(_work_out_month, reruns, system, monthly,
                                         fan_agreement, other, method, fan_args, member))
reruns["ended"] = time.monotonic()
