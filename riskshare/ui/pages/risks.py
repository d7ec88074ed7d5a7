"""Risks page: the system's register of named risks and mitigations, the risk-adjusted forecast
it gives, the reserve the system would need to meet its SCT, and which item matters most.

The register is held beside the system (`state.current_register`): a sample brings its own, a
system workbook its `risks` sheet; here it can be uploaded, edited (a probability, an amount,
a new item) or started afresh. Every figure names its reference: the risk-adjusted table is
against each member's control total (the SYSTEM row against the SCT) at the forecast; the
reserve and the ranking are across scenarios drawn with the register, under the current
agreement. The scenarios of the members' volatility and each event's draws are kept
(`cache.volatility_scenarios`, `cache.event_latents`), so an edited probability redraws by a new
threshold on the same draws.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from riskshare.agreements import describe as agreement_words
from riskshare.core.cells import csv_text
from riskshare.core.errors import InputFileError, ValidationError
from riskshare.core.filenames import export_name
from riskshare.core.format import money_m
from riskshare.core.register import COLUMNS, register_from_bytes, register_from_frame
from riskshare.reports.workbooks import risks_workbook
from riskshare.risks.adjusted import SYSTEM_ROW
from riskshare.risks.reserve import LEVELS
from riskshare.ui import cache, scenario_controls, state
from riskshare.ui.tables import (
    money_m_columns,
    pounds_cell,
    show_load_error,
    show_validation_error,
    styled_money,
)
from riskshare.ui.text import md, money_lines

N_CHOICES = (1_000, 2_000, 5_000, 10_000, 20_000, 50_000)
DEFAULT_N = 10_000
MODE_LABELS = {"add": "on top of the members' volatility",
               "instead": "alone (no other volatility)"}
SYSTEM_LABEL = "The system (inside the SCT)"
EMPTY = pd.DataFrame({"org_id": pd.Series(dtype=object), "item": pd.Series(dtype=object),
                      "type": pd.Series(dtype=object), "amount": pd.Series(dtype=object),
                      "probability": pd.Series(dtype=float), "group": pd.Series(dtype=object),
                      "recurrent": pd.Series(dtype=bool)})


def _editor_frame(register) -> pd.DataFrame:
    """The register as the editor shows it: money as text (read by the library's money
    reader), probabilities as fractions shown as percentages."""
    if register is None:
        return EMPTY.copy()
    out = register.table[list(COLUMNS)].copy()
    out["amount"] = pd.Series([pounds_cell(v) for v in out["amount"]], index=out.index,
                              dtype=object)
    return out


def _editor_changed(key: str) -> bool:
    edits = st.session_state.get(key)
    if not edits:
        return False
    return any(edits.get(k) for k in ("edited_rows", "added_rows", "deleted_rows"))


def _counted(register) -> str:
    """"15 items (11 risks, 4 mitigations)", singular where one."""
    def n(k: int, word: str) -> str:
        return f"{k} {word}{'s' if k != 1 else ''}"
    return (f"{n(len(register.table), 'item')} ({n(len(register.risks), 'risk')}, "
            f"{n(len(register.mitigations), 'mitigation')})")


def register_section(system) -> None:
    """Where the register comes from: upload, the sample's own, start afresh; edit it."""
    held = state.held_register()
    register = state.current_register()
    v = state.register_version()
    # The heading and the editor's data are the register as last set (not as edited since), so
    # neither changes while the user edits: a changed heading folds the panel, and a data editor
    # whose data changes starts afresh, losing the edit in progress. The edits stay in the
    # editor, on top of that register; what they make is said inside the panel.
    as_set = state.register_as_set()
    base = held if as_set is None else as_set[0]
    if register is not None and as_set is not None:
        label = f"Risk register — {as_set[1]} · {_counted(as_set[0])}"
    elif held is not None:
        label = "Risk register — does not fit the system as edited"
    else:
        label = "Risk register — none yet: upload one or start one"
    with st.expander(md(label), expanded=register is None, icon=":material/report:"):
        st.caption("One row per item: `org_id`, `item` (its name), `type` (risk or mitigation), "
                   "`amount` (£, 0 or more: what a risk costs or a mitigation saves if it "
                   "happens), `probability` (0 to 1, or a percentage), optionally `group` (items "
                   "that happen together share one probability) and `recurrent` (true: it "
                   "carries into next year).")
        up, other = st.columns([3, 2], gap="large")
        with up:
            upload = st.file_uploader("Upload a register (.csv or .xlsx)", type=["csv", "xlsx"],
                                      key=f"rk_upload_{v}",
                                      help="A .csv file, or a workbook with a 'risks' sheet (a "
                                           "system workbook from the System page, or the "
                                           "template filled in).")
            if upload is not None and st.session_state.get("rs_rk_upload_seen") != \
                    upload.file_id:
                try:
                    loaded = register_from_bytes(upload.getvalue(), upload.name, system)
                except (ValidationError, InputFileError) as exc:
                    show_load_error(exc, upload.name)
                    st.caption("The register in use is unchanged.")
                else:
                    st.session_state["rs_rk_upload_seen"] = upload.file_id
                    k = len(loaded.table)
                    state.set_register(loaded, f"upload: {upload.name}",
                                       f"Loaded the risk register {upload.name}: {k} "
                                       f"item{'s' if k != 1 else ''}.")
                    st.rerun()
        with other:
            sample = state.loaded_sample()
            bundled = None if sample is None else cache.sample_register(sample, system)
            if bundled is not None and st.button(
                    "Use the sample's own register", key="rk_sample",
                    icon=":material/restart_alt:",
                    help="Replaces the register in use with the one bundled with the sample."):
                state.set_register(bundled, state.register_source_of(state.source()),
                                   "Loaded the sample's own risk register.")
                st.rerun()
            if st.button("Start an empty register", key="rk_empty", icon=":material/add:",
                         help="Replaces the register in use with an empty one, to fill in "
                              "below."):
                state.set_register(register_from_frame(EMPTY, system), "started here",
                                   "Started an empty risk register: add items below.")
                st.rerun()
        if held is None or base is None:
            return
        if held is not base:
            st.caption(md(f"Edited here since it was loaded: now {_counted(held)} "
                          f"({state.register_source()})."))
        key = f"rk_editor_{v}"
        members = list(system.members)
        edited = st.data_editor(
            _editor_frame(base), key=key, num_rows="dynamic", hide_index=True,
            width="stretch", height=320, placeholder="",
            column_config={
                "org_id": st.column_config.SelectboxColumn("org_id", options=members,
                                                           required=True, pinned=True),
                "item": st.column_config.TextColumn("item", required=True, width="medium"),
                "type": st.column_config.SelectboxColumn("type", required=True,
                                                         options=["risk", "mitigation"]),
                "amount": st.column_config.TextColumn(
                    "amount (£)", alignment="right", required=True,
                    help="£, 0 or more: what the risk costs, or the mitigation saves, if it "
                         "happens, in pounds (1,500,000 for £1.5m)."),
                "probability": st.column_config.NumberColumn(
                    "probability", min_value=0.0, max_value=1.0, step=0.05, format="percent",
                    required=True, help="The chance it happens this year."),
                "group": st.column_config.TextColumn(
                    "group", help="Items with the same group happen together (one event)."),
                "recurrent": st.column_config.CheckboxColumn(
                    "recurrent", help="Carries into next year (for the years ahead).")})
        if _editor_changed(key):
            try:
                changed = register_from_frame(edited, system, "the risk register (your edits)")
            except ValidationError as exc:
                show_validation_error(exc, "Your edits are not applied yet —")
                st.caption("The page keeps using the last valid register until these are "
                           "fixed.")
            else:
                state.update_register(changed)


st.title("Risks")
st.markdown("The risks and mitigations the members have named, each with an amount and a "
            "likelihood: the risk-adjusted forecast they give (as a board finance paper reports "
            "it), the reserve the system would need to meet its SCT, and which risk or "
            "mitigation matters most. Money in £m.")
state.show_flash()
state.system_caption()
system = state.current_system()
agreement = state.agreement_caption()
register_section(system)

register = state.current_register()
misfit = state.register_misfit()
if register is None:
    if misfit is not None:
        show_validation_error(misfit, "The risk register does not fit the system as edited on "
                                      "the System page —")
        st.caption("Undo the edit on the System page, correct the register above, or upload "
                   "another.")
    else:
        st.info("No risk register for this system yet: upload one, or start one (above).",
                icon=":material/report:")
    st.stop()
if register.table.empty:
    st.info("The register is empty: add risks and mitigations in the table above.",
            icon=":material/report:")
    st.stop()

# -- the risk-adjusted forecast ------------------------------------------------------------------
adjusted = cache.risk_adjusted(system, register)
t = adjusted.table
s = t.loc[SYSTEM_ROW]
st.subheader("The risk-adjusted forecast")
where = "inside the SCT" if system.outside_members else ""
m1, m2, m3, m4, m5 = st.columns(5)
m1.metric("Forecast vs SCT", money_m(s["forecast"] - s["control_total"], sign=True),
          help=f"The system's forecast outturn {money_m(s['forecast'])} {where} against the SCT "
               f"{money_m(s['control_total'])}, before the register.")
m2.metric("Net risk (expected)", money_m(s["net_risk"]),
          help=f"Expected risks {money_m(s['expected_risk'])} (each amount × its probability) "
               f"less expected mitigations {money_m(s['expected_mitigation'])}.")
m3.metric("Risk-adjusted vs SCT", money_m(s["risk_adjusted_vs_control_total"], sign=True),
          help=f"Risk-adjusted forecast {money_m(s['risk_adjusted'])}: the forecast less the "
               "net risk, against the SCT.")
m4.metric("Worst case vs SCT", money_m(s["worst_vs_control_total"], sign=True),
          help="Every risk happens; only the mitigations certain to happen (probability 1) do.")
m5.metric("Best case vs SCT", money_m(s["best_vs_control_total"], sign=True),
          help="No risk happens; every mitigation does.")

sentences = list(adjusted.sentences())
with st.container(border=True):
    st.markdown("**For the board paper** — at the forecast, against the control totals")
    st.markdown(money_lines(sentences))
    with st.expander("Copy the text"):
        st.code("\n".join(sentences), language=None, wrap_lines=True)

money = {"control_total": "control total £m", "forecast": "forecast £m",
         "gross_risk": "gross risk £m", "expected_risk": "exp. risk £m",
         "gross_mitigation": "gross mitigation £m",
         "expected_mitigation": "exp. mitigation £m", "net_risk": "net risk £m",
         "risk_adjusted": "risk-adjusted £m",
         "risk_adjusted_vs_control_total": "risk-adjusted vs CT £m",
         "worst": "worst £m", "best": "best £m",
         "worst_vs_control_total": "worst vs CT £m", "best_vs_control_total": "best vs CT £m"}
GROUPS = {"Risk-adjusted": ["forecast", "expected_risk", "expected_mitigation", "net_risk",
                            "risk_adjusted", "control_total", "risk_adjusted_vs_control_total"],
          "Worst and best cases": ["gross_risk", "gross_mitigation", "worst", "best",
                                   "worst_vs_control_total", "best_vs_control_total"]}
frame = t.reset_index().rename(columns={"index": "org_id"})
short = (frame["risk_adjusted_vs_control_total"] <= -0.005).to_numpy()
config = {**money_m_columns(money),
          "org_id": st.column_config.TextColumn(
              "member", pinned=True, help="org_id (names: the waterfall's picker below); "
                                          "SYSTEM: the members inside the SCT, against the SCT"),
          "in_sct": st.column_config.CheckboxColumn("in SCT")}
for tab, columns in zip(st.tabs(list(GROUPS)), GROUPS.values(), strict=True):
    with tab:
        order = ["org_id", *(["in_sct"] if system.outside_members else []), *columns]
        st.dataframe(styled_money(frame[order], columns, highlight=short), hide_index=True,
                     width="stretch", placeholder="—", column_config=config)
st.caption("£m, at the forecast. Expected: amount × probability, added up; net risk: expected "
           "risks less expected mitigations; risk-adjusted: forecast less net risk; worst: "
           "every risk happens and only certain mitigations; best: no risk, every mitigation. "
           "vs CT: against each member's control total (the SYSTEM row: against the SCT). "
           "Shaded: risk-adjusted short of the control total.")

labels = {SYSTEM_ROW: SYSTEM_LABEL, **{m: f"{m} · {name}" for m, name in
                                       zip(system.members, system.orgs["name"], strict=True)}}
pick = st.selectbox("Waterfall for", list(labels), format_func=lambda m: labels[m], key="rk_member")
st.vega_lite_chart(cache.risk_waterfall(system, register, pick,
                                        "The system" if pick == SYSTEM_ROW else pick),
                  width="stretch")

# -- across scenarios -----------------------------------------------------------------------------
st.subheader("Across scenarios: the reserve and which item matters most")
c1, c2 = st.columns([1.4, 5.2], gap="medium")
n = c1.selectbox("Scenarios", N_CHOICES, index=N_CHOICES.index(DEFAULT_N),
                 format_func=lambda k: f"{k:,}", key="rk_n",
                 help="This page's own number of scenarios; everything else is the Scenario "
                      "settings in the sidebar.")
settings, _ = scenario_controls.for_system(scenario_controls.current(), system)
# the sidebar's settings, as every page that simulates uses them: here the register is always
# drawn — alone when the source says "risk register only", else on top of the volatility
mode = "instead" if settings.register == "instead" else "add"
rho = settings.event_correlation
c2.caption(md(f"The register's events are drawn {MODE_LABELS[mode]}, with a correlation of "
              f"{rho:.2f} between them; the seed, correlations, shocks and volatility are the "
              "Scenario settings in the sidebar (its scenario source and event correlation "
              "set how the register is drawn here too)."))
volatility = (settings.seed, settings.correlation, settings.kind_correlation,
              settings.distribution, settings.df, settings.volatility_scale, settings.shocks)
try:
    run = cache.risk_scenarios(system, register, agreement, n, volatility, mode, rho)
except ValidationError as exc:
    show_validation_error(exc, "The scenarios were not drawn —")
    st.stop()
sizing, ranking = run["sizing"], run["ranking"]
title = agreement_words.title(agreement)
st.caption(md(f"{run['describe']} · under “{title}” · the system's position: its outturn "
              "inside the SCT after the risk share, before support, against the SCT."))

if agreement.reserve is not None:
    st.caption(md(f"The reserve is sized on “{title}” without its own reserve of "
                  f"{money_m(agreement.reserve.amount)} (held by {agreement.reserve.holder}): "
                  "the one sized here is the system's in all, and would replace it."))
levels = sizing.levels
r1, r2, r3, r4 = st.columns(4)
r1.metric("Meets the SCT without a reserve", f"{levels['share_meeting_without'].iloc[0]:.0%}",
          help=f"The share of the {n:,} scenarios in which the system meets its SCT.")
r2.metric("Mean position vs SCT", money_m(sizing.mean, sign=True),
          help="The system's position against the SCT averaged over the scenarios.")
for col, p in zip((r3, r4), (0.90, 0.95), strict=True):
    col.metric(f"Reserve to meet the SCT {p:.0%}", money_m(sizing.amount(p)),
               help=f"The reserve with which the system meets its SCT in {p:.0%} of the "
                    "scenarios: the shortfall at that quantile.")

left, right = st.columns([1, 1], gap="large")
with left:
    st.markdown("**The reserve needed** (across scenarios, against the SCT)")
    lv = pd.DataFrame({"to meet the SCT in": [f"{p:.0%} of scenarios" for p in levels.index],
                       "reserve": levels["reserve"].to_numpy(),
                       "meet without": [f"{x:.1%}" for x in levels["share_meeting_without"]],
                       "meet with": [f"{x:.1%}" for x in levels["share_meeting_with"]]})
    st.dataframe(styled_money(lv, ["reserve"]), hide_index=True, width="stretch",
                 column_config=money_m_columns({"reserve": "reserve £m"}))
    level = st.radio("Share it out at", list(LEVELS), index=1, horizontal=True,
                     format_func=lambda p: f"{p:.0%}", key="rk_level")
    label = f"{round(level * 100):d}"
    share = pd.DataFrame({
        "org_id": sizing.members.index,
        "contribution": sizing.members[f"contribution_{label}"].to_numpy(),
        "by_basis": sizing.members[f"by_basis_{label}"].to_numpy(),
        "by_contribution": sizing.members[f"by_contribution_{label}"].to_numpy()})
    share_money = {"contribution": "contribution £m", "by_basis": "by basis £m",
                   "by_contribution": "by contribution £m"}
    st.dataframe(styled_money(share, list(share_money)), hide_index=True, width="stretch",
                 column_config={**money_m_columns(share_money),
                                "org_id": st.column_config.TextColumn("member")})
    st.caption(md(f"£m, the reserve at {level:.0%} ({money_m(sizing.amount(level))}). "
                  "Contribution (Euler): each member's shortfall in the scenarios around that "
                  "quantile, scaled to add up to the reserve (below 0: its position tends to be "
                  "good when the system's is bad). Two ways to fund it: by basis (turnover "
                  "inside the SCT) or by contribution (the positive contributions)."))
    holders = [m for m, inside in zip(system.members, system.inside, strict=True) if inside]
    kinds = system.orgs["kind"].reindex(holders)
    first = next((m for m in holders if str(kinds[m]) == "commissioner"), holders[0])
    holder = st.selectbox("Held by", holders, index=holders.index(first), key="rk_holder",
                          format_func=lambda m: labels[m],
                          help="The member that holds the reserve: it is charged what the "
                               "reserve absorbs of a net pooled loss.")
    if st.button(f"Put a {money_m(sizing.amount(level))} reserve in the agreement",
                 key="rk_use", icon=":material/savings:",
                 disabled=sizing.amount(level) <= 0,
                 help="Sets the current agreement's [reserve] to this amount, held by this "
                      "member (any reserve it had is replaced); your agreement before is kept "
                      "for 'Return to your agreement'."):
        try:
            with_reserve = sizing.with_reserve(level, holder)
        except ValidationError as exc:
            show_validation_error(exc, "The reserve could not be set —")
        else:
            state.load_agreement(with_reserve, f"{state.agreement_source()} + reserve sized on "
                                 "the Risks page",
                                 f"The agreement now holds a reserve of "
                                 f"{money_m(with_reserve.reserve.amount)} with {holder}: see "
                                 "the Agreement page.")
            st.rerun()
with right:
    st.vega_lite_chart(run["tornado"], width="stretch")
    st.caption(md("Each item's effect on the chance the system meets its SCT, in percentage "
                  "points: the same scenarios with the item against without it (a group "
                  "counts once). Red: risks; green: mitigations."))

with st.expander("Every item's effect"):
    rk = ranking.assign(points=ranking["delta_p_meet"] * 100.0)
    st.dataframe(styled_money(rk[["event", "type", "amount", "probability", "points",
                                  "delta_mean"]], ["amount", "delta_mean"]),
                 hide_index=True, width="stretch",
                 column_config={**money_m_columns({"amount": "amount £m",
                                                   "delta_mean": "on the mean position £m"}),
                                "probability": st.column_config.NumberColumn(format="percent"),
                                "points": st.column_config.NumberColumn(
                                    "on P(meet SCT), points", format="%+.1f")})

# -- downloads ------------------------------------------------------------------------------------
d1, d2, _spare = st.columns([1, 1, 2])
source = state.register_source()      # read now: the download is made outside this run
drawn_from = register                 # (a Register here: the page stopped above without one)


def _workbook() -> bytes:
    """The risks workbook, with the scenarios it was sized on on its cover (kept: cheap)."""
    drawn = cache.register_scenarios(system, drawn_from, n, volatility, mode, rho)
    return risks_workbook(adjusted, sizing, ranking, scenarios=drawn, source=source)


d1.download_button("Download the risks (.xlsx)", _workbook,
                   file_name=export_name(system.label, "risks", "xlsx"),
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   key="dl_rk_xlsx", on_click="ignore",
                   help="A workbook with the risk-adjusted forecast, the sentences, the reserve "
                        "at 80/90/95% with each member's part, the ranking of the items and the "
                        "register.")
d2.download_button("Download the register (.csv)",
                   csv_text(register.table[list(COLUMNS)], money=("amount",)).encode("utf-8"),
                   file_name=export_name(system.label, "risks", "csv"), mime="text/csv",
                   key="dl_rk_csv", on_click="ignore",
                   help="The register as risks.csv holds it, to edit and upload again.")
