"""Years ahead page: the underlying position (the forecast less its one-offs) and the years after
this one, rolled forward under projection rules (savings, growth, cost pressure, support that
continues, repayments, recurrent risks): a bridge to each year's plan per member and for the
system, the agreement applied year by year with its carry, participation over the horizon,
capital consequences and, on request, the years across scenarios.

Every figure names its reference: the plan against each member's control total (the SYSTEM row
against the SCT), "as carried" once an agreement's carry moves the control totals; the capital
against the envelope; participation discounted over the horizon. The page renders what
`rs.project` computed (`cache.project`).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from riskshare.agreements import describe as agreement_words
from riskshare.agreements.spec import CARRY_ADVERSE, CARRY_FAVOURABLE, Carry
from riskshare.core.errors import InputFileError, ValidationError
from riskshare.core.filenames import export_name
from riskshare.core.format import money_m
from riskshare.reports.workbooks import projection_workbook
from riskshare.ui import cache, scenario_controls, state
from riskshare.ui.tables import (
    money_m_columns,
    read_text_upload,
    show_bridge,
    show_validation_error,
    styled_money,
)
from riskshare.ui.text import md, money_lines
from riskshare.years.rules import (
    CHANGES,
    MAX_YEARS,
    SUPPORT_LINE,
    Rules,
    capital_words,
    list_rules,
    load_rules,
    read_rules_text,
    rules_from_dict,
)
from riskshare.years.underlying import SYSTEM_ROW, underlying

N_CHOICES = (1_000, 2_000, 5_000, 10_000, 20_000)
DEFAULT_N = 5_000
SYSTEM_LABEL = "The system (inside the SCT)"
CHANGE_WORDS = {"keep": "kept", "halve": "halved", "withdraw": "withdrawn",
                "taper": "tapered out"}

# -- reported and underlying ----------------------------------------------------------------------
def underlying_section(system) -> None:
    under = underlying(system)
    s = under.table.loc[SYSTEM_ROW]
    st.subheader("Reported and underlying")
    if not (system.orgs["non_recurrent"] > 0).any():
        st.caption("No member records one-offs (`non_recurrent`, or `nr_` lines) in its "
                   "forecast: the underlying position is the forecast. Add them on the System "
                   "page (or in the organisations file) to see what the forecast leans on.")
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Forecast vs SCT", money_m(s["forecast_vs_control_total"], sign=True),
              help=f"As reported: the system's forecast {money_m(s['forecast'])} against the SCT "
                   f"{money_m(s['control_total'])}.")
    m2.metric("One-offs in the forecast", money_m(s["non_recurrent"]),
              help="Non-recurrent support, savings and income inside the forecast.")
    m3.metric("Underlying vs SCT", money_m(s["underlying_vs_control_total"], sign=True),
              help=f"The underlying position {money_m(s['underlying'])} (forecast less "
                   "one-offs) against the SCT.")
    only = under.one_offs_only()
    m4.metric("Members met only by one-offs", f"{len(only)}",
              help="Members whose forecast meets their control total but whose underlying "
                   "position does not.")
    st.markdown(money_lines(under.sentences()))


# -- the rules ------------------------------------------------------------------------------------
def _first(value, default=0.0) -> float:
    if value is None:
        return default
    return float(value[0]) if isinstance(value, tuple) else float(value)


def _quick_edit(field: str, system) -> None:
    """Change one key of the rules in force from its quick control ([all]'s `savings`,
    `growth`, `cost_pressure` or support line, or the horizon), leaving every other key as it
    was, and hold them."""
    v = state.rules_version()
    rules = state.current_rules()[0] or Rules(name="Rules set here")
    data = rules.to_dict()
    everyone = data.setdefault("all", {})
    value = st.session_state[f"ya_q_{field}_{v}"]
    if field == "years":
        data["years"] = int(value)
    elif field in ("savings", "growth", "cost_pressure"):
        everyone[field] = float(value)
    else:                       # the support line: its change, and the years a taper takes
        lines = everyone.setdefault("lines", {})
        change = st.session_state[f"ya_q_support_{v}"]
        line: dict = {"change": change}
        if change == "taper":
            line["over"] = int(st.session_state[f"ya_q_over_{v}"])
        lines[SUPPORT_LINE] = line
    try:
        changed = rules_from_dict(data, "the rules (your edits)", system)
    except ValidationError as exc:
        st.session_state["ya_quick_error"] = exc
        return
    st.session_state.pop("ya_quick_error", None)
    source = state.current_rules()[1] or "set here"
    state.set_rules(changed, source if "(edited)" in source else f"{source} (edited)",
                    keep_widgets=True)


def _set_in_toml(value) -> bool:
    """True when [all]'s value cannot be shown by one quick control (a list by year)."""
    return isinstance(value, tuple) and len(value) > 1


def rules_section(system) -> Rules:
    """Where the rules come from (the sample's own, an upload, none), the quick controls for
    every member, and the rules as TOML; returns the rules in force."""
    rules, source = state.current_rules()
    in_force = rules if rules is not None else Rules()
    v = state.rules_version()
    label = (f"Projection rules — {in_force.name} ({source})" if rules is not None else
             "Projection rules — none yet: every one-off ends and nothing else moves")
    with st.expander(md(label), expanded=rules is None, icon=":material/timeline:"):
        if in_force.description:
            st.caption(md(in_force.description))
        everyone = in_force.all
        support = dict(everyone.get("lines", ())).get(SUPPORT_LINE)
        c = st.columns([1, 1, 1, 1, 1.4, 1])
        in_toml = "Set year by year in the TOML below: edit it there."
        by_amount = everyone.get("savings_amount") is not None
        c[0].number_input("Years ahead", 1, MAX_YEARS, in_force.years, key=f"ya_q_years_{v}",
                          on_change=_quick_edit, args=("years", system),
                          help="The horizon: how many years after this one are projected.")
        c[1].number_input("Savings (% of cost)", 0.0, 100.0, _first(everyone.get("savings")),
                          step=0.5, format="%.2f", key=f"ya_q_savings_{v}",
                          on_change=_quick_edit, args=("savings", system),
                          disabled=by_amount or _set_in_toml(everyone.get("savings")),
                          help=("Every member's savings are set in £ (savings_amount) in the "
                                "TOML below: edit them there." if by_amount else
                                in_toml if _set_in_toml(everyone.get("savings")) else
                                "Recurrent savings each year, % of last year's cost, for every "
                                "member (a member's own rules in the TOML below win)."))
        c[2].number_input("Income growth (%)", -100.0, 100.0, _first(everyone.get("growth")),
                          step=0.5, format="%.2f", key=f"ya_q_growth_{v}",
                          on_change=_quick_edit, args=("growth", system),
                          disabled=_set_in_toml(everyone.get("growth")),
                          help=in_toml if _set_in_toml(everyone.get("growth")) else
                          "Income growth each year, % of last year's income (turnover to start "
                          "with).")
        c[3].number_input("Cost pressure (%)", -100.0, 100.0,
                          _first(everyone.get("cost_pressure")), step=0.5, format="%.2f",
                          key=f"ya_q_cost_pressure_{v}", on_change=_quick_edit,
                          args=("cost_pressure", system),
                          disabled=_set_in_toml(everyone.get("cost_pressure")),
                          help=in_toml if _set_in_toml(everyone.get("cost_pressure")) else
                          "Cost growth each year, % of last year's cost (turnover less the "
                          "underlying position to start with).")
        changes = list(CHANGES)
        by_share = support is not None and support.paid is not None
        now = support.change if support is not None and not by_share else "keep"
        c[4].selectbox("Support at stake", changes, index=changes.index(now),
                       format_func=lambda k: CHANGE_WORDS[k], key=f"ya_q_support_{v}",
                       on_change=_quick_edit, args=("support", system), disabled=by_share,
                       help=("Set as a share paid each year (paid) in the TOML below: edit it "
                             "there." if by_share else
                             "The conditional support in the `support` column, each year "
                             "ahead: kept, halved, withdrawn or tapered out (not in the plan: "
                             "earned through the agreement's support test)."))
        c[5].number_input("Taper over (years)", 1, MAX_YEARS,
                          support.over if support is not None and support.over else 3,
                          key=f"ya_q_over_{v}", on_change=_quick_edit, args=("support", system),
                          disabled=now != "taper" or by_share)
        quick_error = st.session_state.get("ya_quick_error")
        if quick_error is not None:
            show_validation_error(quick_error, "That change is not applied —")
        st.caption("These set the rules for every member; a member's own table in the TOML "
                   "below overrides them for that member. Lists (a value per year) show their "
                   "first year here.")
        text = in_force.to_toml()
        edited = st.text_area("The rules as TOML", text, height=260,
                              key=f"ya_toml_{v}_{abs(hash(text)) % 10**8}",
                              help="Every key is in docs/years.md: [all] and [members.ID] "
                                   "(savings, savings_amount, growth, cost_pressure, repay, "
                                   "control_total, lines, register), [system] control_total, "
                                   "[capital].")
        b1, b2, b3, b4 = st.columns(4)
        if b1.button("Apply the TOML", key="ya_apply_toml", icon=":material/check:",
                     disabled=edited == text):
            try:
                changed = read_rules_text(edited, "the rules (as typed)", system)
            except (ValidationError, InputFileError) as exc:
                if isinstance(exc, ValidationError):
                    show_validation_error(exc, "The rules were not changed —")
                else:
                    st.error(md(exc), icon=":material/error:")
            else:
                state.set_rules(changed, "typed here", "The projection rules were changed.")
                st.rerun()
        sample = state.loaded_sample()
        if sample in list_rules() and b2.button("Use the sample's own rules",
                                                key="ya_sample_rules",
                                                icon=":material/restart_alt:"):
            state.set_rules(load_rules(sample, system), f"{sample}, its bundled rules",
                            "Loaded the sample's own projection rules.")
            st.rerun()
        if b3.button("Start with no rules", key="ya_no_rules", icon=":material/clear_all:"):
            state.set_rules(Rules(name="Rules set here"), "set here",
                            "Started from no rules: every one-off ends, nothing else moves.")
            st.rerun()
        b4.download_button("Download the rules (.toml)", text.encode("utf-8"),
                           file_name=export_name(system.label, "rules", "toml"),
                           mime="application/toml", key="ya_dl_rules", on_click="ignore")
        upload = st.file_uploader("Upload rules (.toml)", type=["toml"], key=f"ya_upload_{v}")
        if upload is not None and st.session_state.get("ya_upload_seen") != upload.file_id:
            loaded = read_text_upload(upload, lambda t, name: read_rules_text(t, name, system))
            if loaded is not None:
                st.session_state["ya_upload_seen"] = upload.file_id
                state.set_rules(loaded, f"upload: {upload.name}",
                                f"Loaded the projection rules {upload.name}.")
                st.rerun()
    return in_force


# -- the agreement's carry --------------------------------------------------------------------------
def carry_section(agreement) -> None:
    carry = agreement.carry
    with st.expander(md("The agreement over the years — carry: " +
                        ("none (each year stands alone)" if carry is None else
                         agreement_words.explain(agreement)[-1])), icon=":material/redo:"):
        st.caption("Carrying a member's position against its control total into its later "
                   "control totals: a shortfall repaid (they rise), a surplus banked (they "
                   "fall), in equal parts over some years, capped; what a cap leaves is written "
                   "off to the pool. Saved on the agreement, as its [carry] section.")
        base = carry or Carry()
        with st.form("ya_carry"):
            c = st.columns(5)
            adverse = c[0].selectbox("A shortfall is", list(CARRY_ADVERSE),
                                     index=list(CARRY_ADVERSE).index(base.adverse),
                                     format_func=lambda k: {"repay": "repaid",
                                                            "none": "not carried"}[k])
            favourable = c[1].selectbox("A surplus is", list(CARRY_FAVOURABLE),
                                        index=list(CARRY_FAVOURABLE).index(base.favourable),
                                        format_func=lambda k: {"bank": "banked",
                                                               "none": "not carried"}[k])
            years = c[2].number_input("Over (years)", 1, 10, base.years)
            cap = c[3].number_input("Cap per year (£m, 0: none)", 0.0, 1_000_000.0,
                                    (base.max_carry_amount or 0.0) / 1e6, step=0.5,
                                    format="%.2f")
            after = c[4].selectbox("Judged", [True, False], index=0 if base.after_sharing else 1,
                                   format_func=lambda b: "after the risk share" if b
                                   else "before it")
            s1, s2 = st.columns([1, 1])
            put = s1.form_submit_button("Put this carry in the agreement",
                                        icon=":material/redo:")
            drop = s2.form_submit_button("Remove the carry", disabled=carry is None)
        if put or drop:
            new = None if drop else Carry(adverse, favourable, int(years), base.max_carry,
                                          cap * 1e6 if cap > 0 else None, bool(after))
            try:
                changed = agreement.replace(carry=new)
            except ValidationError as exc:
                show_validation_error(exc, "The carry was not set —")
            else:
                state.update_agreement(changed)
                st.rerun()


# -- the page -------------------------------------------------------------------------------------
st.title("Years ahead")
st.markdown("The underlying position — the forecast with its one-offs taken out — and the years "
            "after this one, rolled forward under projection rules: a bridge to each year's "
            "plan, the agreement applied year by year with its carry, who would be better off "
            "outside over the horizon, and what each year's plan means for capital. Money in £m.")
state.show_flash()
said = state.rules_flash()
if said:
    st.info(md(said), icon=":material/timeline:")
state.system_caption()
system = state.current_system()
agreement = state.current_agreement()
underlying_section(system)

st.subheader("The years ahead")
rules = rules_section(system)
misfit = rules.check(system)
if misfit:
    show_validation_error(ValidationError(misfit, "the projection rules"),
                          "The rules do not fit the system as edited —")
    st.stop()

register = state.current_register()
o1, o2 = st.columns([1, 1.3])
use_register = o1.toggle(
    "Recurrent items of the risk register" + ("" if register is None else
                                               f" ({int(register.table['recurrent'].sum())})"),
    value=register is not None, key="ya_register", disabled=register is None,
    help="Their expected net (amount × probability, risks less mitigations) enters the first "
         "year and stays: they recur. The register is on the Risks page.")
use_agreement = o2.toggle("Apply the agreement year by year", value=True, key="ya_agreement",
                          help=md(f"The current agreement, “{agreement_words.title(agreement)}” "
                                  "(Agreement page), on each year's plan, with its carry."))
if use_agreement:
    carry_section(agreement)
chosen = agreement if use_agreement else None
drawn = register if use_register else None
try:
    p = cache.project(system, rules, rules.years, chosen, drawn)
except ValidationError as exc:
    show_validation_error(exc, "The years ahead could not be projected —")
    st.stop()

s = p.of(SYSTEM_ROW)
first, last = s.iloc[0], s.iloc[-1]
target = p.target()
m = st.columns(4)
m[0].metric(f"Plan {first['year_label']} vs {target}",
            money_m(first["planned_vs_control_total"], sign=True),
            help=f"The system's planned position {money_m(first['planned'])} against its "
                 f"{target} {money_m(first['planned'] - first['planned_vs_control_total'])}.")
m[1].metric(f"Plan {last['year_label']} vs {target}",
            money_m(last["planned_vs_control_total"], sign=True),
            help=f"The system's planned position {money_m(last['planned'])} in the last year.")
m[2].metric(f"Recurrent position {last['year_label']}", money_m(last["recurrent_position"]),
            help="The plan less the one-offs and repayments still in it: what the year after "
                 "opens on.")
if p.capital is not None and SYSTEM_ROW in p.capital.index.get_level_values("org_id"):
    cap = p.capital.xs(SYSTEM_ROW, level="org_id")
    m[3].metric(f"Capital {last['year_label']}", money_m(cap["capital"].iloc[-1]),
                delta=money_m(cap["capital"].iloc[-1] - cap["envelope"].iloc[-1], sign=True),
                help="After the capital rule, against the envelope (the delta).")
elif p.participation is not None:
    m[3].metric("Better off outside (over the horizon)", f"{len(p.better_off_outside())}",
                help="Members whose discounted total is higher alone.")

with st.container(border=True):
    st.markdown(f"**For the board paper** — each year's plan against the {target}")
    sentences = p.sentences()
    st.markdown(money_lines(sentences))
    with st.expander("Copy the text"):
        st.code("\n".join(sentences), language=None, wrap_lines=True)

labels = {SYSTEM_ROW: SYSTEM_LABEL, **{mm: f"{mm} · {name}" for mm, name in
                                       zip(system.members, system.orgs["name"], strict=True)}}
who = st.selectbox("Bridge for", list(labels), format_func=lambda k: labels[k], key="ya_member")
st.vega_lite_chart(cache.years_bridge(system, rules, rules.years, chosen, drawn, who,
                                      "The system" if who == SYSTEM_ROW else who),
                   width="stretch")

tab_bridge, tab_members = st.tabs(["The bridge, year by year", "Every member's plan"])
with tab_bridge:
    show_bridge(p.bridge_table(who), labels[who])
with tab_members:
    plans = pd.DataFrame({"org_id": list(system.members)})
    gaps = pd.DataFrame({"org_id": list(system.members)})
    for year, label in zip(range(1, p.years + 1), p.labels, strict=True):
        year_rows = p.table.xs(year, level="year").loc[list(system.members)]
        plans[label] = year_rows["planned"].to_numpy()
        gaps[f"{label} vs CT"] = year_rows["planned_vs_control_total"].to_numpy()
    both = pd.concat([plans, gaps.drop(columns="org_id")], axis=1)
    money_cols = [c for c in both.columns if c != "org_id"]
    short = (gaps.drop(columns="org_id") <= -0.005).any(axis=1).to_numpy()
    st.dataframe(styled_money(both, money_cols, highlight=short), hide_index=True,
                 width="stretch",
                 column_config={**money_m_columns({c: f"{c} £m" for c in money_cols}),
                                "org_id": st.column_config.TextColumn("member", pinned=True)})
    st.caption(md("£m: each member's planned position each year, and against its "
                  f"{p.target('member')} (+ better). Shaded: short in some year."))

if p.participation is not None:
    st.subheader("The agreement over the years")
    part = p.participation.reset_index()
    finals = pd.DataFrame({"org_id": list(system.members)})
    for year, label in zip(range(1, p.years + 1), p.labels, strict=True):
        finals[f"final {label}"] = p.table.xs(year, level="year").loc[
            list(system.members), "final"].to_numpy()
    table = finals.merge(part[["org_id", "discounted_final", "discounted_standalone",
                               "vs_standalone"]], on="org_id")
    money_cols = [c for c in table.columns if c != "org_id"]
    st.dataframe(styled_money(table, money_cols,
                              highlight=part["better_off_outside"].to_numpy()),
                 hide_index=True, width="stretch",
                 column_config={**money_m_columns(
                     {**{c: f"{c} £m" for c in money_cols if c.startswith("final")},
                      "discounted_final": "in the agreement, discounted £m",
                      "discounted_standalone": "alone, discounted £m",
                      "vs_standalone": "agreement − alone £m"}),
                     "org_id": st.column_config.TextColumn("member", pinned=True)})
    st.caption(md(f"£m. Final: after the risk share, with support earned, each year. Over the "
                  f"horizon each year is discounted at {p.rules.discount_rate:g}% a year "
                  "(year t by 1.035^t at 3.5%, the Green Book rate); shaded: better off outside "
                  "the agreement over the horizon."))
    if p.carry is not None:
        carry = p.carry.reset_index()
        st.dataframe(styled_money(carry, ["carried", "written_off", "applied", "beyond"]),
                     hide_index=True, width="stretch",
                     column_config={**money_m_columns({
                         "carried": "carried £m", "written_off": "written off to the pool £m",
                         "applied": "into later control totals £m",
                         "beyond": "beyond the horizon £m"}),
                         "org_id": st.column_config.TextColumn("member", pinned=True)})
        st.caption("£m over the horizon. Carried and written off in the position's sign (− a "
                   "shortfall); into later control totals: + raised (a repayment due), − eased "
                   "(a surplus banked). Carried = −(into later control totals + beyond).")

if p.capital is not None:
    st.subheader("Capital")
    rule = p.rules.capital
    holders = list(dict.fromkeys(p.capital.index.get_level_values("org_id")))
    holder = holders[0] if len(holders) == 1 else st.selectbox(
        "Capital of", holders, key="ya_capital_of", format_func=lambda k: labels.get(k, k))
    cap = p.capital.xs(holder, level="org_id")
    left, right = st.columns([1.2, 1], gap="large")
    left.vega_lite_chart(cache.capital_chart(cap), width="stretch")
    shown = cap.reset_index()[["year_label", "planned_position", "penalty", "bonus", "capital"]]
    right.dataframe(styled_money(shown, ["planned_position", "penalty", "bonus", "capital"]),
                    hide_index=True, width="stretch",
                    column_config={**money_m_columns({"planned_position": "plan £m",
                                                      "penalty": "penalty £m",
                                                      "bonus": "bonus £m",
                                                      "capital": "capital £m"}),
                                   "year_label": st.column_config.TextColumn("year")})
    right.caption(md(f"£m. The envelope is {money_m(cap['envelope'].iloc[0])}"
                     + ("" if cap["fair_share"].iloc[0] == cap["envelope"].iloc[0] else
                        f", the fair share {money_m(cap['fair_share'].iloc[0])}") +
                     f". The rule: {capital_words(rule)}."))

# -- across scenarios ------------------------------------------------------------------------------
st.subheader("Across scenarios")
a1, a2 = st.columns([1.5, 4])
run = a1.toggle("Run across scenarios", value=False, key="ya_scenarios")
n = a1.selectbox("Scenarios", N_CHOICES, index=N_CHOICES.index(DEFAULT_N),
                 format_func=lambda k: f"{k:,}", key="ya_n", disabled=not run)
a2.caption("Each year draws fresh shocks by the sidebar's Scenario settings; a shock stays in "
           "every later year, as do the register's recurrent items when drawn (its one-off "
           "items belong to this year). The mean stays at the plan; the spread widens.")
if run:
    settings, _ = scenario_controls.for_system(scenario_controls.current(), system)
    mode = settings.register if drawn is not None else "none"
    volatility = (settings.seed, settings.correlation, settings.kind_correlation,
                  settings.distribution, settings.df, settings.volatility_scale,
                  settings.shocks)
    try:
        with st.spinner("Running the years across scenarios…"):
            across, describe_text = cache.project_scenarios(system, rules, rules.years, chosen,
                                                            drawn, n, volatility, mode,
                                                            settings.event_correlation)
    except ValidationError as exc:
        show_validation_error(exc, "The scenarios were not drawn —")
        st.stop()
    st.caption(md(describe_text))
    r = across.risk.xs(SYSTEM_ROW, level="org_id").reset_index()
    r["planned"] = s["planned"].to_numpy()
    r["p_short"] = r["p_short"] * 100.0
    shown = r[["year_label", "planned", "mean_position", "sd_position", "p_short"]]
    st.dataframe(styled_money(shown, ["planned", "mean_position", "sd_position"]),
                 hide_index=True, width="stretch",
                 column_config={**money_m_columns({"planned": "plan £m",
                                                   "mean_position": "mean £m",
                                                   "sd_position": "standard deviation £m"}),
                                "year_label": st.column_config.TextColumn("year"),
                                "p_short": st.column_config.NumberColumn(
                                    f"P(short of the {target})", format="%.1f%%")})
    if across.horizon_risk is not None:
        h = across.horizon_risk.reset_index()
        h["p_worse_off"] = h["p_worse_off"] * 100.0
        st.dataframe(styled_money(h, ["mean_gain", "p5_gain"]), hide_index=True,
                     width="stretch",
                     column_config={**money_m_columns({"mean_gain": "mean gain £m",
                                                       "p5_gain": "5th percentile £m"}),
                                    "org_id": st.column_config.TextColumn("member", pinned=True),
                                    "p_worse_off": st.column_config.NumberColumn(
                                        "P(worse off over the horizon)", format="%.1f%%")})
        st.caption("Gain: each member's discounted Σ over the years of its final position in "
                   "the agreement less alone, in each scenario.")

# -- downloads ------------------------------------------------------------------------------------
# the workbook holds what the page shows: with the scenarios run, their tables too
shown_projection, shown_described = (across, describe_text) if run else (p, "")
st.download_button("Download the years ahead (.xlsx)",
                   lambda: projection_workbook(shown_projection, described=shown_described),
                   file_name=export_name(system.label, "years-ahead", "xlsx"),
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   key="ya_dl_xlsx", on_click="ignore",
                   help="The projection by year and member, the sentences, and as present the "
                        "capital, participation, carry and the years across scenarios.")
