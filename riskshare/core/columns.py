"""The one table of column headings for exported files: each machine column name riskshare
writes (`control_total`, `p_worse_off`, …) with the heading a person reads ("Organisational
control total (£)") and its kind, which decides the number format in a workbook and the rounding
in a CSV (`core.excel`, `core.cells`).

Kinds:
- "money": £, whole pennies (values rounded to 0.01); surplus/favourable positive;
- "percent": a percent number (2.5 means 2.5%; its heading says "% of what"), written to a workbook as the fraction 0.025
  with a percentage format;
- "percent_number": a percent number kept as it is in every workbook (2 means 2%; its heading
  says "% of what"), shown with two decimals ("0.00"): volatility, which the system workbook
  must hold as the number riskshare reads back;
- "share": a fraction (0.25 means 25%), written as it is with a percentage format;
- "probability": a chance from 0 to 1 written as it is (0.4), shown as the number (0.40), as
  a risk register holds it and reads it back;
- "count": a whole number; "number": any other number (a rate, a multiplier);
- "text", "flag" (true/false).

The whole system's row of a risk table (`SYSTEM`) is measured against other things than a
member's (any member, ΣOCT, the SCT): its columns take their headings from SYSTEM_HEADINGS on a
sheet of its own. Settings on a workbook's cover read as SETTINGS' words (`setting_name`).

A column not in the table gets a heading made from its name ("gain_shapley" → "Gain shapley")
and the kind its sheet gives it. A sheet may override a heading where a name means something
else on it (`agreement` is the agreement's name in a comparison but £ in a certificate).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["Heading", "HEADINGS", "KINDS", "UNITS", "MONEY_WHEN_NUMERIC", "SETTINGS",
           "SYSTEM_HEADINGS", "heading", "money_columns", "setting_name"]

KINDS = ("money", "percent", "percent_number", "share", "probability", "count", "number",
         "text", "flag")
#: The unit a readable heading ends with, by kind ("" adds nothing).
UNITS = {"money": " (£)", "share": " (%)", "probability": " (0–1)"}
_PERCENT_UNIT = " (%)"   # a percent column not in the table (the table's say "% of what")


@dataclass(frozen=True)
class Heading:
    """A column's readable heading (its unit included) and its kind (one of KINDS)."""

    label: str
    kind: str = "text"


def _h(label: str, kind: str = "text") -> Heading:
    return Heading(label + UNITS.get(kind, ""), kind)


HEADINGS: dict[str, Heading] = {
    # the organisations table (core.schema)
    "org_id": _h("Member ID"),
    "name": _h("Name"),
    "kind": _h("Kind of member"),
    "turnover": _h("Turnover", "money"),
    "control_total": _h("Organisational control total", "money"),
    "forecast": _h("Forecast outturn", "money"),
    "support": _h("Conditional support at stake", "money"),
    "volatility": _h("Volatility (% of turnover)", "percent_number"),
    "in_sct": _h("Inside the system control total"),
    "net_turnover": _h("Net turnover (less income from other members)", "money"),
    "contribution": _h("Contribution", "money"),
    "efficiency_plan": _h("Efficiency plan", "money"),
    # reconciliation and rebalancing
    "line": _h("Line key"),
    "label": _h("Line"),
    "amount": _h("Amount", "money"),
    "variance": _h("Variance: forecast − control total", "money"),
    "variance_pct": _h("Variance (% of turnover)", "percent"),
    "unrealistic": _h("Control total unrealistic?", "flag"),
    "revised": _h("Revised control total", "money"),
    "change": _h("Share of the gap: change to the control total", "money"),
    "change_pct": _h("Change (% of turnover)", "percent"),
    "variance_revised": _h("Forecast − revised control total", "money"),
    "finding": _h("Finding"),
    # an agreement's outcome (agreements.outcome)
    "pooled": _h("Pooled", "money"),
    "retained": _h("Retained", "money"),
    "received": _h("Received from the pool (− pays in)", "money"),
    "net_transfer": _h("Net transfer: received − pooled", "money"),
    "outturn": _h("Outturn after sharing", "money"),
    "support_earned": _h("Support earned", "money"),
    "final": _h("Final position", "money"),
    "standalone": _h("Final position standing alone", "money"),
    "vs_standalone": _h("Final − standing alone", "money"),
    "toml": _h("Agreement file (TOML), line by line"),
    # incentives
    "retention_gain": _h("Share of the next £1 of gain kept", "share"),
    "retention_loss": _h("Share of the next £1 of loss borne", "share"),
    "support_per_pound": _h("Support earned per £1 of gain", "number"),
    "cliff_exposure": _h("Cliff-edge exposure", "money"),
    "distance_to_cliff": _h("Distance to the support test", "money"),
    "worse_off": _h("Worse off than alone?", "flag"),
    # risk across scenarios (agreements.risk)
    "mean_final": _h("Mean final position", "money"),
    "sd_final": _h("Standard deviation of the final position", "money"),
    "mean_standalone": _h("Mean final position standing alone", "money"),
    "sd_standalone": _h("Standard deviation standing alone", "money"),
    "p_miss_control_total": _h("Chance of missing the control total", "share"),
    "p_lose_support": _h("Chance of losing support", "share"),
    "p_worse_off": _h("Chance of being worse off than alone", "share"),
    "var95": _h("Value at risk, 95% (final − control total)", "money"),
    "cvar95": _h("Mean of the worst 5% (final − control total)", "money"),
    "tail_contribution": _h("Share of the system's worst 5%", "money"),
    # in year (inyear.position, agreements.outcome quarters, inyear.fan)
    "month": _h("Month (1 is April)", "count"),
    "plan": _h("Planned in month", "money"),
    "actual": _h("Actual in month", "money"),
    "ytd_plan": _h("Plan to date", "money"),
    "ytd_actual": _h("Actual to date", "money"),
    "ytd_variance": _h("Variance to date: actual − plan", "money"),
    "ytd_variance_pct": _h("Variance to date (% of the plan to date)", "percent"),
    "forecast_plan": _h("Forecast outturn: to date + remaining plan", "money"),
    "forecast_run_rate": _h("Forecast outturn: run rate (to date × 12 ÷ months)", "money"),
    "forecast_submitted": _h("Forecast outturn: to date + remaining submitted forecast",
                             "money"),
    "forecast_variance": _h("Forecast variance: forecast − control total", "money"),
    "movement_month": _h("Forecast movement since last month", "money"),
    "movement_m6": _h("Forecast movement since month 6", "money"),
    "flags": _h("Flags"),
    "quarter": _h("Quarter"),
    "judged_month": _h("Judged on the year to date at month (0: on the plan)", "count"),
    "judged_on": _h("Judged on (plan, actuals or forecast)"),
    "at_stake": _h("Support at stake in the quarter", "money"),
    "earned": _h("Support earned in the quarter", "money"),
    "lost": _h("Support lost in the quarter", "money"),
    "p_meet": _h("Chance of meeting the control total", "share"),
    "p5": _h("Final position, 5th percentile", "money"),
    "p25": _h("Final position, 25th percentile", "money"),
    "p50": _h("Final position, median", "money"),
    "p75": _h("Final position, 75th percentile", "money"),
    "p95": _h("Final position, 95th percentile", "money"),
    "mean_net_transfer": _h("Mean net transfer: received − pooled", "money"),
    "mean_support": _h("Mean support earned", "money"),
    "p_q1": _h("Chance of earning Q1's support", "share"),
    "p_q2": _h("Chance of earning Q2's support", "share"),
    "p_q3": _h("Chance of earning Q3's support", "share"),
    "p_q4": _h("Chance of earning Q4's support", "share"),
    # fairness (games.certificate)
    "alone": _h("Value standing alone", "money"),
    "shapley": _h("Shapley value", "money"),
    "nucleolus": _h("Nucleolus", "money"),
    "least_core": _h("Least core", "money"),
    "gain_agreement": _h("Gain under the agreement", "money"),
    "gain_shapley": _h("Gain at the Shapley value", "money"),
    "gain_nucleolus": _h("Gain at the nucleolus", "money"),
    "gain_least_core": _h("Gain at the least core", "money"),
    "share_agreement": _h("Share of the gain, agreement", "share"),
    "share_shapley": _h("Share of the gain, Shapley", "share"),
    "share_nucleolus": _h("Share of the gain, nucleolus", "share"),
    "share_least_core": _h("Share of the gain, least core", "share"),
    "coalition": _h("Group"),
    "size": _h("Members in the group", "count"),
    "allocation": _h("Allocated to the group", "money"),
    "shortfall": _h("Shortfall against going alone", "money"),
    # risks and mitigations: the register (core.register), the risk-adjusted position
    # (risks.adjusted), the reserve needed (risks.reserve) and the ranking (risks.ranking)
    "item": _h("Item"),
    "type": _h("Type: risk or mitigation"),
    "probability": _h("Probability it happens", "probability"),
    "group": _h("Group (items that happen together)"),
    "recurrent": _h("Recurs next year?", "flag"),
    "gross_risk": _h("Gross risk: every risk in full", "money"),
    "expected_risk": _h("Expected risk: amount × probability", "money"),
    "gross_mitigation": _h("Gross mitigation: every mitigation in full", "money"),
    "expected_mitigation": _h("Expected mitigation: amount × probability", "money"),
    "net_risk": _h("Net risk: expected risk − expected mitigation", "money"),
    "risk_adjusted": _h("Risk-adjusted forecast: forecast − net risk", "money"),
    "worst": _h("Worst case: every risk, only certain mitigations", "money"),
    "best": _h("Best case: no risk, every mitigation", "money"),
    "risk_adjusted_vs_control_total": _h("Risk-adjusted forecast − control total", "money"),
    "worst_vs_control_total": _h("Worst case − control total", "money"),
    "best_vs_control_total": _h("Best case − control total", "money"),
    "level": _h("Chance of meeting the SCT aimed for", "share"),
    "reserve": _h("System reserve needed", "money"),
    "share_meeting_without": _h("Share of scenarios meeting the SCT without a reserve",
                                "share"),
    "share_meeting_with": _h("Share of scenarios meeting the SCT with the reserve", "share"),
    **{f"contribution_{p}": _h(f"Euler contribution to the reserve at {p}%", "money")
       for p in (80, 90, 95)},
    **{f"by_basis_{p}": _h(f"Reserve at {p}% funded by basis (turnover)", "money")
       for p in (80, 90, 95)},
    **{f"by_contribution_{p}": _h(f"Reserve at {p}% funded by contribution", "money")
       for p in (80, 90, 95)},
    "rank": _h("Rank", "count"),
    "event": _h("Event (member: item, or group: name)"),
    "delta_p_meet": _h("Change in the chance the system meets its SCT: with the event − "
                       "without", "share"),
    "delta_mean": _h("Change in the system's mean position against the SCT: with − without",
                     "money"),
    # the years ahead (years.underlying, years.project, years.capital)
    "non_recurrent": _h("One-off benefit in the forecast", "money"),
    "underlying": _h("Underlying position: forecast − one-offs", "money"),
    "forecast_vs_control_total": _h("Forecast − control total", "money"),
    "underlying_vs_control_total": _h("Underlying position − control total", "money"),
    "one_offs_only": _h("Meets its control total only through one-offs?", "flag"),
    "year": _h("Year ahead (1 = next year)", "count"),
    "year_label": _h("Financial year"),
    "opening": _h("Opening: last year's recurrent position", "money"),
    "repayment": _h("Repayment of a prior deficit", "money"),
    "savings": _h("Recurrent savings", "money"),
    "growth": _h("Income growth", "money"),
    "cost_pressure": _h("Cost pressure", "money"),
    "recurrent_risks": _h("Recurrent register items (expected)", "money"),
    "planned": _h("Planned position", "money"),
    "recurrent_position": _h("Recurrent position carried into next year", "money"),
    "planned_vs_control_total": _h("Planned position − control total (as carried)", "money"),
    "unallocated": _h("Unallocated: what caps left with nobody (the SYSTEM rows)", "money"),
    "carry_in": _h("Carried into this year's control total (+ raised, − eased)", "money"),
    "control_total_carried": _h("Control total as carried", "money"),
    "carried": _h("Position carried forward (its sign)", "money"),
    "rolled": _h("Carried again: an earlier year's carry not met (its sign)", "money"),
    "new": _h("Newly carried: the member's own position that year (its sign)", "money"),
    "written_off": _h("Written off to the pool (its sign)", "money"),
    "applied": _h("Carried into later control totals within the horizon", "money"),
    "beyond": _h("Carried beyond the horizon", "money"),
    "discounted_final": _h("Discounted total: final position in the agreement", "money"),
    "discounted_standalone": _h("Discounted total: alone", "money"),
    "better_off_outside": _h("Better off outside over the horizon?", "flag"),
    "planned_position": _h("Planned position the capital rule reads", "money"),
    "envelope": _h("Capital envelope", "money"),
    "fair_share": _h("Capital fair share", "money"),
    "penalty": _h("Capital withheld for a deficit plan", "money"),
    "bonus": _h("Capital bonus for a breakeven or surplus plan", "money"),
    "capital": _h("Capital after the rule", "money"),
    "mean_position": _h("Mean position across scenarios (the plan and the shocks drawn)",
                        "money"),
    "sd_position": _h("Standard deviation of the position", "money"),
    "p_short": _h("P(short of the control total as carried)", "share"),
    "p_worse_than_alone": _h("P(worse off than alone that year)", "share"),
    "mean_gain": _h("Mean discounted gain over the horizon: agreement − alone", "money"),
    "p5_gain": _h("5th percentile of the discounted gain", "money"),
    # settings and text sheets
    "setting": _h("Setting"),
    "value": _h("Value"),
    "key": _h("Key"),
    "step": _h("Step", "count"),
    "title": _h("Title"),
    "text": _h("Text"),
    "chart": _h("Chart"),
}


#: The whole system's figures (the SYSTEM row of a risk table or comparison), each heading
#: saying what it is measured against: its chances are of *any* member losing support or being
#: worse off, its tail figures against the sum of the members' control totals (ΣOCT), its
#: chance of a shortfall against the system control total (SCT). The app's "The whole system"
#: tables use the same words.
SYSTEM_HEADINGS: dict[str, Heading] = {
    "mean_final": _h("Mean final position, whole system", "money"),
    "sd_final": _h("Spread (standard deviation) of the system's final position", "money"),
    "mean_standalone": _h("Mean with every member standing alone", "money"),
    "sd_standalone": _h("Spread with every member standing alone", "money"),
    "p_miss_control_total": _h("Chance the system misses its control total (SCT)", "share"),
    "p_lose_support": _h("Chance any member loses support", "share"),
    "p_worse_off": _h("Chance any member is worse off than alone", "share"),
    "var95": _h("1-in-20 bad year, against the sum of the members' control totals (ΣOCT), "
                "VaR 95%", "money"),
    "cvar95": _h("Average of the worst 5% of years, against the sum of the members' control "
                 "totals (ΣOCT), CVaR 95%", "money"),
}

#: Settings as they read on a workbook's cover: {the key riskshare uses: words}. A key not
#: here is shown as it is (most settings are written in words already).
SETTINGS: dict[str, str] = {
    "scenarios": "scenarios",
    "seed": "seed",
    "correlation": "correlation between members",
    "kind_correlation": "extra correlation within a kind",
    "distribution": "distribution",
    "df": "degrees of freedom (t)",
    "volatility_scale": "volatility scale (× each member's volatility)",
    "shocks": "shocks",
    "risk_aversion": "how much bad years weigh (risk aversion)",
    "register_mode": "register events (add: on top of the volatility; instead: alone)",
    "event_correlation": "correlation between register events",
    "steps": "steps",
}


def setting_name(key: object) -> str:
    """The words for setting `key` on a cover ("kind_correlation" → "extra correlation within
    a kind"); a key not in SETTINGS as it is."""
    return SETTINGS.get(str(key), str(key))


def heading(name: str, kind: str | None = None) -> Heading:
    """The heading of column `name`: from HEADINGS, else made from the name; `kind` (when
    given) replaces the table's kind and its unit."""
    known = HEADINGS.get(name)
    if known is not None and (kind is None or kind == known.kind):
        return known
    base = known.label[:-len(UNITS.get(known.kind, ""))] if known and UNITS.get(known.kind) \
        else (known.label if known else _readable(name))
    kind = kind or (known.kind if known else "text")
    unit = (_PERCENT_UNIT if kind in ("percent", "percent_number") and "%" not in base
            else UNITS.get(kind, ""))
    return Heading(base + unit, kind)


def _readable(name: str) -> str:
    if str(name).startswith("nr_") and len(str(name)) > 3:   # a one-off line (core.schema)
        return f"One-off {str(name)[3:].replace('_', ' ')}"
    text = str(name).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


#: Names that are £ when their column holds numbers (a certificate's `agreement` and `value`)
#: and text elsewhere (a comparison's agreement name, a settings sheet's value).
MONEY_WHEN_NUMERIC = frozenset({"agreement", "value"})


def money_columns(frame) -> tuple[str, ...]:
    """The £ columns of `frame` by name: those HEADINGS knows as money, and MONEY_WHEN_NUMERIC
    names (or an optimised allocation's "optimum" and "alternative k") when the column is
    numeric."""
    out = []
    for c in frame.columns:
        if not isinstance(c, str):
            continue
        numeric = pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(
            frame[c])
        if (c in HEADINGS and HEADINGS[c].kind == "money") or (
                numeric and (c in MONEY_WHEN_NUMERIC or c.startswith(("alternative ", "optimum")))):
            out.append(c)
    return tuple(out)
