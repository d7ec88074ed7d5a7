"""Workbooks of results (one place, so the CLI's --xlsx and the app's downloads agree).

Each workbook is a cover sheet (`core.excel.Cover`: the system, the agreement, the settings, the
what-if in force, the date and version) and tables with readable headings over the column
names, £ to the penny and percentages as fractions (`core.excel`). Money in £, surplus positive.

A risk table or comparison keeps the members and the whole system apart: the members on one
sheet, the system (the SYSTEM row, whose chances are of *any* member and whose tail figures are
against ΣOCT) on a sheet of its own with headings that say so (`core.columns.SYSTEM_HEADINGS`),
so a column of the members sheet can be summed or filtered as it stands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from riskshare.agreements import describe
from riskshare.agreements.outcome import SYSTEM_LINES
from riskshare.agreements.risk import REFERENCE, SYSTEM_ROW
from riskshare.core.columns import SYSTEM_HEADINGS
from riskshare.core.excel import NO_WHAT_IF, Cover, Sheet, workbook_bytes, write_workbook
from riskshare.core.forecast import METHOD_WORDS as FORECAST_WORDS
from riskshare.core.format import money, named
from riskshare.core.monthly import month_name
from riskshare.core.write import MONTHLY_HEADINGS
from riskshare.reconciliation.rebalance import METHOD_WORDS, Rebalancing
from riskshare.reconciliation.reconcile import Reconciliation

if TYPE_CHECKING:       # reports sit beside inyear (tests/unit/test_layers.py): types only
    from riskshare.agreements.outcome import Outcome
    from riskshare.inyear.fan import Landing
    from riskshare.inyear.position import InYear
    from riskshare.risks.adjusted import RiskAdjusted
    from riskshare.risks.reserve import ReserveSizing
    from riskshare.years.project import Projection

_MEMBER_MONEY = ("turnover", "control_total", "forecast", "support", "variance")
_REBALANCE_MONEY = ("turnover", "control_total", "revised", "change", "forecast",
                    "variance_revised")


# -- reconciliation --------------------------------------------------------------------------------
def rebalancing_settings(reb: Rebalancing) -> list[tuple[str, str]]:
    """How the gap was shared, in words: the method, the basis (pro rata), the members kept
    and the cap on any change (optimised methods)."""
    rows = [("rebalancing method", f"{reb.method} ({METHOD_WORDS.get(reb.method, reb.method)})")]
    if reb.method == "basis":
        basis = reb.basis if isinstance(reb.basis, str) else "weights given by member"
        rows.append(("shared pro rata to", basis))
    else:
        rows.append(("members kept (OCT unchanged)", ", ".join(reb.keep) or "none"))
        rows.append(("cap on any change", "no cap" if reb.max_change is None
                     else f"{reb.max_change:g}% of turnover"))
    return rows


def reconciliation_cover(rec: Reconciliation, reb: Rebalancing) -> Cover:
    """The reconciliation workbook's cover: the system, the threshold and how the gap was
    shared."""
    settings = [("unrealistic when the forecast is adverse by more than",
                 f"{rec.unrealistic_pct:g}% of turnover"),
                ("gap: SCT − ΣOCT", money(rec.gap, 2))]
    settings += rebalancing_settings(reb)
    return Cover("reconciliation of control totals", system=rec.system.label,
                 settings=tuple(settings),
                 notes=(reb.describe(),
                        "The rebalancing sheet's 'Share of the gap' column is each member's "
                        "change to its control total under this method; the revised control "
                        "totals add up to the SCT to the penny."))


def reconciliation_sheets(rec: Reconciliation, reb: Rebalancing) -> list[Sheet]:
    """Sheets statement, members, rebalancing (the one share-of-the-gap column: `change`),
    settings (method, basis, members kept, cap) and flags."""
    members = rec.orgs.drop(columns=["gap_share"], errors="ignore").reset_index()
    settings = pd.DataFrame(reconciliation_cover(rec, reb).settings,
                            columns=["setting", "value"])
    return [
        Sheet("statement", rec.statement.reset_index(), money=("amount",)),
        Sheet("members", members, money=_MEMBER_MONEY, percent=("variance_pct",)),
        Sheet("rebalancing", reb.table.reset_index(), money=_REBALANCE_MONEY,
              percent=("change_pct",)),
        Sheet("settings", settings),
        Sheet("flags", pd.DataFrame({"finding": list(rec.flags)})),
    ]


def write_reconciliation(rec: Reconciliation, reb: Rebalancing, target) -> None:
    """Write the reconciliation workbook (`reconciliation_sheets`) to `target`, a path or a
    binary buffer."""
    write_workbook(target, reconciliation_sheets(rec, reb), reconciliation_cover(rec, reb))


def reconciliation_workbook(rec: Reconciliation, reb: Rebalancing) -> bytes:
    """The reconciliation workbook (`reconciliation_sheets`) as .xlsx bytes, for a download."""
    return workbook_bytes(reconciliation_sheets(rec, reb), reconciliation_cover(rec, reb))


# -- one agreement's outcome -----------------------------------------------------------------------
OUTCOME_MONEY = ("turnover", "control_total", "forecast", "support", "variance", "pooled",
                 "retained", "received", "net_transfer", "outturn", "support_earned", "final",
                 "standalone", "vs_standalone")
#: The members sheet's first columns: what a reader needs to check variance = forecast −
#: control total before the agreement's own columns.
OUTCOME_INPUTS = ("name", "turnover", "control_total", "forecast", "variance", "support")


def agreement_words(agreement) -> str:
    """An agreement for a cover: its name — with "(edited)" when its parameters were changed
    after the name was written (`describe.title`) — and its fingerprint."""
    return f"{describe.title(agreement)} (fingerprint {agreement.fingerprint[:12]})"


def outcome_cover(outcome, what_if: str = NO_WHAT_IF) -> Cover:
    """The outcome workbook's cover: the system, the agreement, the position it is applied at."""
    position = ("at the forecast (forecast − control total per member)" if outcome.deterministic
                else "across scenarios")
    return Cover("an agreement's outcome and incentives", system=outcome.base.label,
                 agreement=agreement_words(outcome.agreement),
                 settings=(("position", position),), what_if=what_if)


def outcome_members(outcome) -> pd.DataFrame:
    """The outcome's members table (index org_id, £) with each member's turnover and forecast
    beside its control total and variance (forecast − control total), so the variance can be
    checked from the sheet, and whether it is inside the SCT when some member is not; a table
    across scenarios as it is."""
    table = outcome.table
    if not outcome.deterministic:
        return table
    orgs = outcome.base.orgs
    table = table.assign(turnover=orgs["turnover"], forecast=orgs["forecast"])
    first = [c for c in OUTCOME_INPUTS if c in table.columns]
    if outcome.base.has_outside:     # which members the system lines count (inside the SCT)
        table = table.assign(in_sct=orgs["in_sct"].astype(bool))
        first = ["in_sct", *first]
    return table[first + [c for c in table.columns if c not in first]]


def outcome_sheets(outcome, incentives) -> list[Sheet]:
    """Sheets members (turnover, control total, forecast and variance first, then where every
    pound goes), system, incentives and agreement (the TOML, one line per row)."""
    system = outcome.system
    lines = pd.DataFrame({"line": list(system.index),
                          "label": [SYSTEM_LINES.get(k, k) for k in system.index],
                          "amount": system.to_numpy()})
    return [
        Sheet("members", outcome_members(outcome).reset_index(), money=OUTCOME_MONEY),
        Sheet("system", lines, money=("amount",)),
        Sheet("incentives", incentives.table.reset_index(),
              money=("cliff_exposure", "distance_to_cliff", "vs_standalone")),
        Sheet("agreement", pd.DataFrame({"toml": outcome.agreement.to_toml().splitlines()})),
    ]


def write_outcome(outcome, incentives, target) -> None:
    """Write an agreement's outcome and incentives (`outcome_sheets`) to `target`, a path or a
    binary buffer."""
    write_workbook(target, outcome_sheets(outcome, incentives), outcome_cover(outcome))


def outcome_workbook(outcome, incentives) -> bytes:
    """An agreement's outcome and incentives (`outcome_sheets`) as .xlsx bytes."""
    return workbook_bytes(outcome_sheets(outcome, incentives), outcome_cover(outcome))


# -- risk across scenarios: one agreement (Scenarios page) or several (Compare) ----------------------
RISK_MONEY = ("mean_final", "sd_final", "mean_standalone", "sd_standalone", "var95", "cvar95",
               "tail_contribution")
RISK_SHARES = ("p_miss_control_total", "p_lose_support", "p_worse_off", "retention_gain",
                "retention_loss")


def scenario_settings(scenarios) -> list[tuple[str, object]]:
    """The scenario recipe as (setting, value) pairs, from `Scenarios` (simulated) or
    `ScenarioSettings` (the recipe): count, seed, correlations, distribution, d.f., volatility
    scale (when known) and shocks."""
    shocks = [getattr(s, "name", s) for s in getattr(scenarios, "shocks", ())]
    t = scenarios.distribution != "normal"
    rows: list[tuple[str, object]] = [
        ("scenarios", int(scenarios.n)), ("seed", scenarios.seed),
        ("correlation", scenarios.correlation),
        ("kind_correlation", scenarios.kind_correlation),
        ("distribution", scenarios.distribution),
        ("df", scenarios.df if t else "not used (normal)"),
    ]
    if hasattr(scenarios, "volatility_scale"):
        rows.append(("volatility_scale", scenarios.volatility_scale))
    rows.append(("shocks", ", ".join(str(s) for s in shocks) or "none"))
    return rows


def _settings_sheet(table: pd.DataFrame, scenarios) -> Sheet:
    rows = scenario_settings(scenarios)
    rows.append(("figures are against", table.attrs.get("reference", REFERENCE)))
    return Sheet("scenarios", pd.DataFrame(rows, columns=["setting", "value"]))


SYSTEM_NOTE = ("The members sheet holds the members only. The whole system's figures are on "
               "the system sheet: its chances are of the system missing its control total "
               "(SCT) and of any member losing support or ending worse off than alone; its "
               "1-in-20 and worst-5% figures are against the sum of the members' control totals "
               "(ΣOCT).")


def split_system(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(members, system): the rows of a risk table or comparison (with an `org_id` column or
    index) for the members, and the SYSTEM rows."""
    frame = table.reset_index() if "org_id" not in table.columns else table
    is_system = (frame["org_id"] == SYSTEM_ROW).to_numpy()
    return frame[~is_system].reset_index(drop=True), frame[is_system].reset_index(drop=True)


def system_sheet(rows: pd.DataFrame, title: str = "system") -> Sheet:
    """The whole system's figures on a sheet of their own (one row, or one per agreement in a
    comparison), each heading saying what it is measured against (SYSTEM_HEADINGS): the
    chances of any member, the tail figures against ΣOCT, the shortfall against the SCT. The
    members' own columns (tail share, retention rates) are left out."""
    columns = [c for c in ("agreement",) if c in rows.columns]
    columns += [c for c in SYSTEM_HEADINGS if c in rows.columns]
    labels = {c: SYSTEM_HEADINGS[c].label for c in columns if c in SYSTEM_HEADINGS}
    labels["agreement"] = "Agreement"
    return Sheet(title, rows[columns].reset_index(drop=True),
                 money=tuple(c for c in columns if c in RISK_MONEY),
                 shares=tuple(c for c in columns if c in RISK_SHARES), labels=labels)


def risk_sheets(table: pd.DataFrame, scenarios) -> list[Sheet]:
    """A comparison (or one agreement's risk table) as sheets members (the members' rows) and
    system (the SYSTEM rows, `system_sheet`), and the scenario settings; `scenarios` is the
    `Scenarios` simulated or the `ScenarioSettings` that made them."""
    members, system = split_system(table)
    return [Sheet("members", members, money=RISK_MONEY, shares=RISK_SHARES,
                  labels={"agreement": "Agreement"}),
            system_sheet(system),
            _settings_sheet(table, scenarios)]


def risk_cover(table: pd.DataFrame, scenarios, agreement=None, system=None,
               what_if: str = NO_WHAT_IF) -> Cover:
    """The cover of a risk table (`agreement` given) or a comparison (the agreements named in
    the table's `agreement` column)."""
    system = system if system is not None else getattr(scenarios, "system", None)
    if agreement is not None:
        what, agreed = "risk across scenarios", agreement_words(agreement)
    else:
        names = list(dict.fromkeys(table["agreement"])) if "agreement" in table.columns else []
        what, agreed = "agreements compared across scenarios", "; ".join(names)
    return Cover(what, system=system.label if system is not None else "",
                 agreement=agreed, settings=tuple(scenario_settings(scenarios)),
                 what_if=what_if,
                 notes=(table.attrs.get("reference", REFERENCE), SYSTEM_NOTE))


def write_risk(table: pd.DataFrame, scenarios, target, agreement=None) -> None:
    """Write a risk table or comparison and its scenario settings (`risk_sheets`) to `target`,
    a path or a binary buffer."""
    write_workbook(target, risk_sheets(table, scenarios),
                   risk_cover(table, scenarios, agreement))


def risk_workbook(table: pd.DataFrame, scenarios, agreement=None) -> bytes:
    """A risk table or comparison and its scenario settings (`risk_sheets`) as .xlsx bytes."""
    return workbook_bytes(risk_sheets(table, scenarios), risk_cover(table, scenarios, agreement))


def compare_workbook(table: pd.DataFrame, scenarios, system=None) -> bytes:
    """The Compare page's (and `riskshare compare --xlsx`'s) workbook: every metric for every
    agreement and member (`rs.compare`'s table) and the scenario settings, with a cover naming
    the agreements. `scenarios`: the `Scenarios` or the `ScenarioSettings` that made them."""
    return workbook_bytes(risk_sheets(table, scenarios), risk_cover(table, scenarios,
                                                                    system=system))


def write_compare(table: pd.DataFrame, scenarios, target, system=None) -> None:
    """Write `compare_workbook` to `target`, a path or a binary buffer."""
    write_workbook(target, risk_sheets(table, scenarios),
                   risk_cover(table, scenarios, system=system))


def scenarios_sheets(risk: pd.DataFrame, scenarios, system=None) -> list[Sheet]:
    """The Scenarios page's sheets: members (the per-member risk table, with names), system
    (the whole system's figures, `system_sheet`) and the scenario settings."""
    members, whole = split_system(risk)
    members = members.copy()
    system = system if system is not None else getattr(scenarios, "system", None)
    if system is not None and "name" not in members.columns:
        names = system.orgs["name"]
        members.insert(1, "name", [names.get(m, m) for m in members["org_id"]])
    return [Sheet("members", members, money=RISK_MONEY, shares=RISK_SHARES),
            system_sheet(whole),
            _settings_sheet(risk, scenarios)]


def scenarios_workbook(risk: pd.DataFrame, scenarios, agreement, system=None) -> bytes:
    """The Scenarios page's (and `riskshare simulate --xlsx`'s) workbook: one agreement's risk
    table across scenarios and the settings that made them, with a cover."""
    return workbook_bytes(scenarios_sheets(risk, scenarios, system),
                          risk_cover(risk, scenarios, agreement, system))


def write_scenarios(risk: pd.DataFrame, scenarios, agreement, target, system=None) -> None:
    """Write `scenarios_workbook` to `target`, a path or a binary buffer."""
    write_workbook(target, scenarios_sheets(risk, scenarios, system),
                   risk_cover(risk, scenarios, agreement, system))


# -- an optimised allocation -----------------------------------------------------------------------
_ALLOCATION_MONEY = ("control_total", "variance", "pooled", "retained", "received",
                     "net_transfer", "outturn", "support_earned", "final", "standalone",
                     "vs_standalone")


def allocation_cover(allocation, request: pd.DataFrame | None = None) -> Cover:
    """The optimised allocation's cover: the system, the agreement it starts from, the
    objective and, when given, what was asked for (`request`: columns setting, value)."""
    setup = allocation.setup
    settings: list[tuple[str, object]] = [("objective", allocation.value_text())]
    if request is not None:
        settings += [(str(k), v) for k, v in zip(request["setting"], request["value"],
                                                  strict=True)]
    return Cover("an optimised allocation", system=setup.system.label,
                 agreement=agreement_words(setup.agreement), settings=tuple(settings))


def allocation_sheets(allocation, alternatives=(), request: pd.DataFrame | None = None
                      ) -> list[Sheet]:
    """Sheets allocation (per member), conditions (binding, shadow prices in words), system,
    when given, alternatives (received per member for the optimum and each alternative) and
    request (what was asked for: setting, value)."""
    table = allocation.table.reset_index()
    lines = [{"kind": "objective", "text": allocation.value_text()}]
    lines += [{"kind": "binding", "text": b.text} for b in allocation.binding]
    lines += [{"kind": "shadow price", "text": p.sentence} for p in allocation.shadow_prices]
    if allocation.note:
        lines.append({"kind": "note", "text": allocation.note})
    system = allocation.system.rename("amount").rename_axis("line").reset_index()
    sheets = [
        Sheet("allocation", table, money=_ALLOCATION_MONEY),
        Sheet("conditions", pd.DataFrame(lines), labels={"kind": "Kind of line"}),
        Sheet("system", system, money=("amount",)),
    ]
    if alternatives:
        frame = pd.DataFrame({"optimum": allocation.received})
        for k, alt in enumerate(alternatives, start=1):
            frame[f"alternative {k}"] = alt.received
        values = pd.DataFrame([{"allocation": name, "value": a.value_text()} for name, a in
                               zip(frame.columns, [allocation, *alternatives], strict=True)])
        sheets.append(Sheet("alternatives", frame.rename_axis("org_id").reset_index(),
                            money=tuple(frame.columns),
                            labels={c: f"Received from the pool, {c} (£)" for c in frame.columns}))
        sheets.append(Sheet("alternative values", values,
                            labels={"allocation": "Allocation", "value": "Objective"}))
    if request is not None:
        sheets.append(Sheet("request", request))
    return sheets


def write_allocation(allocation, target, alternatives=(), request=None) -> None:
    """Write an optimised allocation and any alternatives (`allocation_sheets`) to `target`, a
    path or a binary buffer."""
    write_workbook(target, allocation_sheets(allocation, alternatives, request),
                   allocation_cover(allocation, request))


def allocation_workbook(allocation, alternatives=(), request=None) -> bytes:
    """An optimised allocation and any alternatives (`allocation_sheets`) as .xlsx bytes."""
    return workbook_bytes(allocation_sheets(allocation, alternatives, request),
                          allocation_cover(allocation, request))


# -- fairness --------------------------------------------------------------------------------------
FAIRNESS_LABELS = {"agreement": "Under the agreement (£)", "value": "Value of the group alone (£)"}


def fairness_cover(cert, what_if: str = NO_WHAT_IF) -> Cover:
    """The participation certificate's cover: the system, the agreement and the basis."""
    return Cover("participation certificate (fairness)", system=cert.system.label,
                 agreement=agreement_words(cert.agreement),
                 settings=(("judged", cert.basis), ("groups checked", int(cert.checked)),
                           ("every group checked", "yes" if cert.exhaustive else "no")),
                 what_if=what_if)


def fairness_sheets(cert) -> list[Sheet]:
    """Sheets certificate (the summary in sentences), members (alone, the agreement and the fair
    allocations, gains and shares of the gain) and violations (coalitions better off alone)."""
    table = cert.table.rename_axis("org_id").reset_index()
    money = tuple(c for c in table.columns if c not in ("org_id", "name")
                  and not c.startswith("share_"))
    shares = tuple(c for c in table.columns if c.startswith("share_"))
    violations = cert.violations.drop(columns=["players"])
    return [
        Sheet("certificate", pd.DataFrame({"finding": cert.summary()})),
        Sheet("members", table, money=money, shares=shares, labels=FAIRNESS_LABELS),
        Sheet("violations", violations, money=("value", "allocation", "shortfall"),
              labels=FAIRNESS_LABELS),
    ]


def write_fairness(cert, target) -> None:
    """Write a participation certificate (`fairness_sheets`) to `target`, a path or a binary
    buffer."""
    write_workbook(target, fairness_sheets(cert), fairness_cover(cert))


def fairness_workbook(cert) -> bytes:
    """A participation certificate (`fairness_sheets`) as .xlsx bytes, for a download."""
    return workbook_bytes(fairness_sheets(cert), fairness_cover(cert))


# -- in year ---------------------------------------------------------------------------------------
IN_YEAR_MONEY = ("control_total", "ytd_plan", "ytd_actual", "ytd_variance", "forecast_plan",
                 "forecast_run_rate", "forecast_submitted", "forecast", "forecast_variance",
                 "movement_month", "movement_m6")
QUARTER_MONEY = ("ytd_variance", "at_stake", "earned", "lost")
LANDING_MONEY = ("p5", "p25", "p50", "p75", "p95", "mean_final", "mean_net_transfer",
                 "mean_support")
LANDING_SHARES = ("p_meet", "p_q1", "p_q2", "p_q3", "p_q4")
#: The in-year sheet's own words where the table's differ: its `forecast` is the chosen method's.
IN_YEAR_LABELS = {"forecast": "Forecast outturn, the chosen method (£)"}
#: The outcome sheet's variance is the in-year forecast's.
IN_YEAR_OUTCOME_LABELS = {"variance": "Variance: in-year forecast outturn − control total (£)"}
IN_YEAR_NOTES = (
    "The in year sheet: each member's year to date against its plan to date (+ ahead of plan) "
    "and its forecast outturn by each method, the chosen one in 'Forecast outturn, the chosen "
    "method'; the SYSTEM row (last) adds up the members inside the SCT against the SCT, its "
    "plan to date being theirs plus the gap between the SCT and their control totals phased "
    "evenly.",
    "The monthly sheet is the monthly table the figures were worked from, in-month £: plans "
    "as given or phased from the control total, actuals for the months closed, any submitted "
    "forecasts.")
OUTCOME_NOTE = ("The outcome sheets: the agreement applied at the in-year forecast (each "
                "member's variance is its forecast outturn at the month less its control total), "
                "member by member and for the system.")
QUARTERS_NOTE = ("The quarters sheet: each quarter's support on the test, judged on the year "
                 "to date at the month named (closed months on actuals, months to come on the "
                 "forecast; month 0: paid in advance on the plan), for the members with "
                 "support on the test; under a system test the variance is the system's.")
LANDING_NOTE = ("The landing sheet: the year-end final position (after the risk share and "
                "support) across scenarios of the months still to come; the SYSTEM row's "
                "chance of meeting is of the system meeting its control total (SCT).")


def in_year_cover(in_year: InYear, outcome: Outcome | None = None,
                  landing: Landing | None = None) -> Cover:
    """The in-year workbook's cover: the system, the month, the forecast method, the agreement
    (from the outcome or the landing) and, with a landing, the scenario recipe."""
    agreement = (outcome.agreement if outcome is not None
                 else landing.agreement if landing is not None else None)
    settings: list[tuple[str, object]] = [
        ("month", month_name(in_year.month)),
        ("forecast method", f"{in_year.method} ({FORECAST_WORDS[in_year.method]})"),
    ]
    phased = in_year.monthly.phased
    if phased:
        settings.append(("plans phased from the control total",
                         f"{named(list(phased))} ({in_year.monthly.profile})"))
    notes = list(IN_YEAR_NOTES)
    if outcome is not None:
        notes.append(OUTCOME_NOTE)
        if not outcome.quarters.empty:
            notes.append(QUARTERS_NOTE)
    if landing is not None:
        settings += scenario_settings(landing.scenarios)
        notes.append(LANDING_NOTE)
    return Cover("the year month by month (in year)", system=in_year.system.label,
                 agreement="not applicable" if agreement is None else agreement_words(agreement),
                 settings=tuple(settings), notes=tuple(notes))


def in_year_sheets(in_year: InYear, outcome: Outcome | None = None,
                   landing: Landing | None = None) -> list[Sheet]:
    """Sheets in year (the InYear table, the SYSTEM row last), sentences, with an outcome the
    agreement at the in-year forecast (outcome, outcome system) and quarters (support by
    quarter, when the agreement judges it by quarter), landing (the year-end fan) and monthly
    (the monthly table as loaded, so the workbook documents its input)."""
    table = in_year.table
    order = [i for i in table.index if i != SYSTEM_ROW] + [SYSTEM_ROW]
    sheets = [
        Sheet("in year", table.loc[order].reset_index(), money=IN_YEAR_MONEY,
              percent=("ytd_variance_pct",), labels=IN_YEAR_LABELS),
        Sheet("sentences", pd.DataFrame({"text": in_year.sentences()}),
              labels={"text": "For the board paper"}),
    ]
    if outcome is not None:
        lines = pd.DataFrame({"line": list(outcome.system.index),
                              "label": [SYSTEM_LINES.get(k, k) for k in outcome.system.index],
                              "amount": outcome.system.to_numpy()})
        sheets += [Sheet("outcome", outcome.table.reset_index(), money=OUTCOME_MONEY,
                         labels=IN_YEAR_OUTCOME_LABELS),
                   Sheet("outcome system", lines, money=("amount",))]
    if outcome is not None and not outcome.quarters.empty:
        quarters = outcome.quarters
        staked = quarters.groupby(level="org_id", sort=False)["at_stake"].transform("sum")
        quarters = quarters[staked > 0].reset_index()   # members with support on the test
        names = in_year.system.orgs["name"]
        quarters.insert(1, "name", [names.get(m, m) for m in quarters["org_id"]])
        sheets.append(Sheet("quarters", quarters, money=QUARTER_MONEY, counts=("judged_month",)))
    if landing is not None:
        sheets.append(Sheet("landing", landing.table.reset_index(), money=LANDING_MONEY,
                            shares=LANDING_SHARES))
    monthly = in_year.monthly.table.reset_index()
    sheets.append(Sheet("monthly", monthly, money=("plan", "actual", "forecast"),
                        counts=("month",), labels=MONTHLY_HEADINGS))
    return sheets


def write_in_year(in_year: InYear, outcome: Outcome | None, landing: Landing | None,
                  path) -> None:
    """Write the in-year workbook (`in_year_sheets`) to `path`, a path or a binary buffer."""
    write_workbook(path, in_year_sheets(in_year, outcome, landing),
                   in_year_cover(in_year, outcome, landing))


def in_year_workbook(in_year: InYear, outcome: Outcome | None = None,
                     landing: Landing | None = None) -> bytes:
    """The in-year workbook as .xlsx bytes, for a download: the year to date and forecast per
    member and for the system, the sentences for a board paper, with an agreement its support
    by quarter and with a landing the year-end fan, and the monthly table it was worked from."""
    return workbook_bytes(in_year_sheets(in_year, outcome, landing),
                          in_year_cover(in_year, outcome, landing))


# -- risks and mitigations -------------------------------------------------------------------------
RISK_ADJUSTED_MONEY = ("control_total", "forecast", "gross_risk", "expected_risk",
                       "gross_mitigation", "expected_mitigation", "net_risk", "risk_adjusted",
                       "worst", "best", "risk_adjusted_vs_control_total",
                       "worst_vs_control_total", "best_vs_control_total")
#: The risk-adjusted sheet's control total is the SCT on its SYSTEM row.
RISK_ADJUSTED_LABELS = {"control_total": "Control total (SYSTEM: the system control total, "
                                         "SCT) (£)",
                        "name": "Name"}
RESERVE_SHARES = ("level", "share_meeting_without", "share_meeting_with")
RANKING_MONEY = ("amount", "delta_mean")
#: A register item's amount is its size if it happens (a group's: its items' total).
AMOUNT_LABEL = {"amount": "Amount if it happens (£)"}
RISKS_NOTES = (
    "The risk adjusted sheet: each member's forecast less its net risk (expected risks less "
    "expected mitigations, amount × probability), its worst case (every risk, only the "
    "mitigations certain to happen) and best case (no risk, every mitigation), and each "
    "against its control total (+ better); the SYSTEM row (last) adds up the members inside "
    "the SCT, against the SCT.",
    "The register sheet is the risk register the figures were worked from, as loaded.")
RESERVE_NOTE = (
    "The reserve sheets: the system risk reserve needed to meet the SCT in a share of the "
    "scenarios ({levels}) under the agreement — the system's outturn inside the SCT after "
    "the risk share, before support, less the SCT — with each member's Euler contribution "
    "(its share of the shortfall around that quantile) and two ways of funding it: by basis "
    "(turnover inside the SCT) and by contribution (the positive Euler contributions).")
RANKING_NOTE = (
    "The ranking sheet: each event (an item, or a group of items that happen together) by its "
    "effect on the chance the system meets its SCT and on the system's mean position against "
    "the SCT, the scenarios with the event less the same scenarios without it; largest effect "
    "on the chance first.")


def _register_words(register, source: str = "") -> list[tuple[str, object]]:
    """The register on a cover: where it came from and how many risks and mitigations."""
    types = list(register.table["type"])
    risks, mitigations = types.count("risk"), types.count("mitigation")
    rows: list[tuple[str, object]] = []
    if source:
        rows.append(("risk register", source))
    rows.append(("register items", f"{len(types):,} ({risks:,} risk{'s' if risks != 1 else ''}, "
                                   f"{mitigations:,} mitigation"
                                   f"{'s' if mitigations != 1 else ''})"))
    return rows


def risks_cover(adjusted: RiskAdjusted, sizing: ReserveSizing | None = None,
                ranking: pd.DataFrame | None = None, scenarios=None, source: str = "") -> Cover:
    """The risks workbook's cover: the system, the register (source and count), the agreement
    the reserve was sized under and, with scenarios, their count, seed and how the register's
    events were drawn (`scenarios`: the `Scenarios` simulated)."""
    settings = _register_words(adjusted.register, source)
    notes = list(RISKS_NOTES)
    if scenarios is not None:
        settings += scenario_settings(scenarios)
        if getattr(scenarios, "register", None) is not None:
            settings += [("register_mode", scenarios.register_mode),
                         ("event_correlation", scenarios.event_correlation)]
        else:
            settings.append(("register_mode", "not drawn (the volatility alone)"))
    elif sizing is not None:
        settings.append(("scenarios", int(sizing.n)))
    if sizing is not None:
        notes.append(RESERVE_NOTE.format(levels=", ".join(f"{p:.0%}"
                                                          for p in sizing.levels.index)))
    if ranking is not None:
        notes.append(RANKING_NOTE)
    agreement = sizing.agreement if sizing is not None else None
    return Cover("risks and mitigations: the risk-adjusted forecast",
                 system=adjusted.system.label,
                 agreement="not applicable" if agreement is None else agreement_words(agreement),
                 settings=tuple(settings), notes=tuple(notes))


def risks_sheets(adjusted: RiskAdjusted, sizing: ReserveSizing | None = None,
                 ranking: pd.DataFrame | None = None) -> list[Sheet]:
    """Sheets risk adjusted (per member, the SYSTEM row last), sentences, with a sizing reserve
    (the reserve at each level) and reserve members (each member's Euler contribution and
    funding by basis and by contribution), with a ranking the ranking (every event, largest
    effect first), and register (the register as loaded, so the workbook documents its
    input)."""
    table = adjusted.table
    order = [i for i in table.index if i != SYSTEM_ROW] + [i for i in table.index
                                                           if i == SYSTEM_ROW]
    sheets = [
        Sheet("risk adjusted", table.loc[order].reset_index(), money=RISK_ADJUSTED_MONEY,
              labels=RISK_ADJUSTED_LABELS),
        Sheet("sentences", pd.DataFrame({"text": adjusted.sentences()}),
              labels={"text": "For the board paper"}),
    ]
    if sizing is not None:
        levels = sizing.levels.rename_axis("level").reset_index()
        members = sizing.members.reset_index()
        names = adjusted.system.orgs["name"]
        members.insert(1, "name", [names.get(m, m) for m in members["org_id"]])
        inside = adjusted.system.inside
        members.insert(2, "in_sct", [bool(inside[k]) for k in range(len(members))])
        sheets += [Sheet("reserve", levels, money=("reserve",), shares=RESERVE_SHARES),
                   Sheet("reserve members", members,
                         money=tuple(c for c in members.columns
                                     if c.startswith(("contribution_", "by_"))))]
    if ranking is not None:
        ranked = ranking.reset_index(drop=True)
        ranked.insert(0, "rank", range(1, len(ranked) + 1))
        sheets.append(Sheet("ranking", ranked, money=RANKING_MONEY,
                            shares=("delta_p_meet",), counts=("rank",), labels=AMOUNT_LABEL))
    register = adjusted.register.table
    sheets.append(Sheet("register", register.reset_index(drop=True), money=("amount",),
                        labels=AMOUNT_LABEL))
    return sheets


def write_risks(adjusted: RiskAdjusted, sizing: ReserveSizing | None,
                ranking: pd.DataFrame | None, path, scenarios=None, source: str = "") -> None:
    """Write the risks workbook (`risks_sheets`) to `path`, a path or a binary buffer."""
    write_workbook(path, risks_sheets(adjusted, sizing, ranking),
                   risks_cover(adjusted, sizing, ranking, scenarios, source))


def risks_workbook(adjusted: RiskAdjusted, sizing: ReserveSizing | None = None,
                   ranking: pd.DataFrame | None = None, scenarios=None,
                   source: str = "") -> bytes:
    """The risks workbook as .xlsx bytes, for a download: the risk-adjusted forecast per member
    and for the system, the sentences for a board paper, with a sizing the reserve needed
    (`rs.reserve_needed`), with a ranking which items matter most (`rs.rank_items`), and the
    register it was worked from. `scenarios` (the `Scenarios` the reserve was sized on) and
    `source` (where the register came from) go on the cover."""
    return workbook_bytes(risks_sheets(adjusted, sizing, ranking),
                          risks_cover(adjusted, sizing, ranking, scenarios, source))


# -- the years ahead -------------------------------------------------------------------------------
PROJECTION_NOTES = (
    "Each member starts from its underlying position (forecast − one-offs); income starts at "
    "turnover and cost at turnover − underlying. Each year: opening + the one-off lines still "
    "paid + repayment + savings + growth + cost pressure + recurrent register items (year 1) = "
    "planned position. The SYSTEM rows add up the members inside the SCT, against the SCT.",
    "Control totals are the rules' for each year, or this year's held; with an agreement's "
    "carry, 'as carried' adds what earlier years carried in (+ raised: a repayment due).",
)


def projection_cover(projection: Projection, scenarios=None, described: str = "") -> Cover:
    """The projection workbook's cover: the system, the rules, the horizon, the capital rule,
    the register, the scenarios (the `Scenarios`, or `described` in words) and the agreement."""
    p = projection
    settings: list[tuple[str, object]] = [
        ("rules", p.rules.name), ("years ahead", p.years),
        ("first year", p.labels[0]), ("discount rate (% a year)", p.rules.discount_rate),
        ("risk register", f"{p.register_items:,} recurrent item"
                          f"{'s' if p.register_items != 1 else ''} counted"
         if p.register_items else "not used")]
    if p.rules.capital is not None:
        settings.append(("capital rule", p.capital_words()))
    if scenarios is not None:
        settings += scenario_settings(scenarios)
    elif described:
        settings.append(("scenarios", described))
    return Cover("the years ahead: projection from the underlying position",
                 system=p.system.label,
                 agreement="none: each member alone each year" if p.agreement is None
                 else agreement_words(p.agreement),
                 settings=tuple(settings), notes=PROJECTION_NOTES)


def projection_sheets(projection: Projection) -> list[Sheet]:
    """Sheets projection (by year and member, each year's SYSTEM row last), sentences, and as
    present capital, participation (over the horizon, discounted), carry, risk by year and risk
    over the horizon (across scenarios)."""
    p = projection
    table = p.table.reset_index()
    money_cols = tuple(c for c in table.columns
                       if c not in ("year", "org_id", "year_label", "name", "in_sct"))
    sheets = [Sheet("projection", table, money=money_cols, counts=("year",),
                    labels={"variance": "Variance: planned − control total as carried (£)"}),
              Sheet("sentences", pd.DataFrame({"text": p.sentences()}),
                    labels={"text": "For the board paper"})]
    if p.capital is not None:
        sheets.append(Sheet("capital", p.capital.reset_index(), counts=("year",)))
    if p.participation is not None:
        sheets.append(Sheet("participation", p.participation.reset_index(),
                            labels={"vs_standalone": "Discounted: agreement − alone (£)"}))
    if p.carry is not None:
        carry = p.carry.reset_index()
        carry.insert(1, "name", [p.system.orgs["name"].get(m, m) for m in carry["org_id"]])
        sheets.append(Sheet("carry", carry))
    if p.risk is not None:
        sheets.append(Sheet("risk by year", p.risk.reset_index(), counts=("year",)))
    if p.horizon_risk is not None:
        sheets.append(Sheet("risk over the horizon", p.horizon_risk.reset_index(),
                            shares=("p_worse_off",)))
    return sheets


def write_projection(projection: Projection, target, scenarios=None) -> None:
    """Write the projection workbook (`projection_sheets`) to `target`."""
    write_workbook(target, projection_sheets(projection), projection_cover(projection, scenarios))


def projection_workbook(projection: Projection, scenarios=None, described: str = "") -> bytes:
    """The projection workbook as .xlsx bytes, for a download (`described`: the scenarios in
    words, when only they are at hand)."""
    return workbook_bytes(projection_sheets(projection),
                          projection_cover(projection, scenarios, described))
