"""`rs.in_year(system, monthly, month=None)`: where each member and the system stand at a month,
and where they are heading (docs/in_year.md).

Per member, at month m (the months closed; April is month 1), in £:

    ytd_plan, ytd_actual      the plan and the actuals for months 1..m
    ytd_variance              ytd_actual − ytd_plan (+ ahead of plan); ytd_variance_pct is it as
                              a percentage of |ytd_plan|, blank where the plan to date is under
                              0.5% of the turnover to date (a plan near breakeven: −£8m against
                              a plan of +£1m would read −800%)
    forecast_plan             YTD actual + the remaining plan
    forecast_run_rate         YTD actual × 12 / m (blank at month 0)
    forecast_submitted        YTD actual + the remaining submitted forecast (blank where some
                              month to come has none)
    forecast                  the chosen method's; forecast_variance = forecast − control total
    movement_month            the chosen forecast now less the same method's a month earlier
    movement_m6               … less the same method's at month 6 (from month 6 on)
    flags                     in words: behind plan to date; forecast short of the control
                              total; forecast changed in the final quarter; run rate far from
                              the plan-phased forecast

The SYSTEM row adds up the members inside the SCT (`in_sct`, docs/reconciliation.md). Its
control total is the SCT and its plan to date is the members' plans inside plus the gap
between the SCT and their control totals spread evenly over the year, so its year-to-date and
forecast variances are both against the SCT — the same reference the system support test of
quarterly support uses. A submitted forecast has one vintage (the latest), so its movements are
blank.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskshare.core.constants import HALF_PENNY, ForecastMethodName
from riskshare.core.errors import ArgumentTypeError, UsageError
from riskshare.core.forecast import (
    METHOD_WORDS,
    YearPath,
    check_month,
    forecast_outturns,
    year_path,
)
from riskshare.core.format import money_m, named
from riskshare.core.monthly import MONTHS, Monthly, month_name
from riskshare.core.system import System, require_system

SYSTEM_ROW = "SYSTEM"
#: A forecast move in the final quarter at least this % of a member's turnover is flagged.
MATERIAL_MOVE_PCT = 0.1
#: A run-rate forecast at least this % of turnover away from the plan-phased one is flagged.
RUN_RATE_GAP_PCT = 1.0
#: ytd_variance_pct is shown only where the plan to date is at least this % of the turnover to
#: date (turnover × m / 12): against a plan near breakeven a percentage says little
PCT_OF_PLAN_FROM = 0.5
COLUMNS = ("name", "in_sct", "control_total", "ytd_plan", "ytd_actual", "ytd_variance",
           "ytd_variance_pct", "forecast_plan", "forecast_run_rate", "forecast_submitted",
           "forecast", "forecast_variance", "movement_month", "movement_m6", "flags")


@dataclass(frozen=True, eq=False)
class InYear:
    """Where the year stands at a month (see the module docstring). Money in £.

    system:  the system; monthly: its monthly table; path: the year at the month with the
             months to come forecast by the chosen method (`core.forecast.YearPath`).
    table:   one row per member and the SYSTEM row (COLUMNS), in whole pennies.
    """

    system: System
    monthly: Monthly
    path: YearPath
    table: pd.DataFrame

    @property
    def month(self) -> int:
        return self.path.month

    @property
    def method(self) -> str:
        return self.path.method

    @property
    def cumulative(self) -> pd.DataFrame:
        """Each member's and the system's year month by month, cumulative (£): index (org_id,
        month 0–12), columns plan, actual (blank after the month) and forecast (from the month
        on: the actuals to date, then the chosen forecast). For charts."""
        members = list(self.system.members)
        inside = self.system.inside
        p = self.path
        gap = (self.system.control_total
               - float(self.system.orgs["control_total"][inside].sum()))
        plan = np.concatenate([np.zeros((len(members), 1)), np.cumsum(p.plan, axis=1)], axis=1)
        pos = np.concatenate([np.zeros((len(members), 1)), np.cumsum(p.position, axis=1)],
                             axis=1)
        months = np.arange(MONTHS + 1)
        sys_plan = plan[inside].sum(axis=0) + gap * months / MONTHS
        sys_pos = pos[inside].sum(axis=0)
        ids = members + [SYSTEM_ROW]
        plan = np.vstack([plan, sys_plan])
        pos = np.vstack([pos, sys_pos])
        actual = np.where(months <= p.month, pos, np.nan)
        forecast = np.where(months >= p.month, pos, np.nan)
        index = pd.MultiIndex.from_product([ids, months], names=["org_id", "month"])
        return pd.DataFrame({"plan": plan.ravel(), "actual": actual.ravel(),
                             "forecast": forecast.ravel()}, index=index).round(2)

    def sentences(self) -> list[str]:
        """The position in sentences for a board paper, every figure naming its reference."""
        t = self.table
        s = t.loc[SYSTEM_ROW]
        m = self.month
        out = []
        outside = self.system.outside_members
        where = "the system inside the SCT" if outside else "the system"
        if m:
            v = float(s["ytd_variance"])
            state = ("on plan" if abs(v) < HALF_PENNY else
                     f"{money_m(abs(v))} {'ahead of' if v > 0 else 'behind'} its plan")
            inside = self.system.inside
            gap = self.system.control_total - float(
                self.system.orgs["control_total"][inside].sum())
            split = ""
            if abs(gap) * m / MONTHS >= 5_000:     # shows as at least £0.01m
                own = float(t.drop(index=SYSTEM_ROW)["ytd_variance"][inside].sum())
                split = (f"; of which the members are {_small(abs(own))} "
                         f"{'ahead of' if own >= 0 else 'behind'} their own plans and "
                         f"{_small(abs(gap) * m / MONTHS)} is the SCT asking "
                         f"{'more' if gap > 0 else 'less'} than their control totals add up "
                         "to, phased")
            out.append(f"At {month_name(m)}, {where} is {state} to date (year to date "
                       f"{money_m(s['ytd_actual'])} against a plan to date of "
                       f"{money_m(s['ytd_plan'])}, the SCT phased{split}).")
        else:
            out.append(f"At {month_name(0)} no month has closed: the forecast is the plan.")
        fv = float(s["forecast_variance"])
        against = ("meeting the SCT exactly" if abs(fv) < HALF_PENNY else
                   f"{money_m(abs(fv))} {'better than' if fv > 0 else 'short of'} the SCT of "
                   f"{money_m(self.system.control_total)}")
        others = [f"{w} {money_m(s[c])}" for c, w in
                  (("forecast_plan", "the plan method"), ("forecast_run_rate", "run rate"),
                   ("forecast_submitted", "the submitted forecast"))
                  if c != f"forecast_{self.method}" and pd.notna(s[c])]
        out.append(f"Forecast outturn ({METHOD_WORDS[self.method]}): {money_m(s['forecast'])}, "
                   f"{against}" + (f"; by {', '.join(others)}" if others else "") + ".")
        moves = []
        if pd.notna(s["movement_month"]):
            moves.append(f"{_move(s['movement_month'])} since month {m - 1}")
        if pd.notna(s["movement_m6"]) and m > 6:
            moves.append(f"{_move(s['movement_m6'])} since month 6")
        if moves:
            out.append(f"The forecast has moved {' and '.join(moves)}.")
        members = t.drop(index=SYSTEM_ROW)
        behind = members[members["ytd_variance"] <= -HALF_PENNY].sort_values("ytd_variance")
        if m and len(behind):
            listed_ = [f"{i} ({_small(-r.ytd_variance)})" for i, r in behind.iterrows()]
            out.append(f"Behind plan to date: {named(listed_)}.")
        elif m:
            out.append("Every member is on or ahead of plan to date.")
        if outside:
            out.append(f"{named(outside)} {'is' if len(outside) == 1 else 'are'} outside the "
                       "SCT: shown, but not counted in the system's figures.")
        return out


def _small(pounds: float) -> str:
    """£m, or 'under £0.01m' for a sum that would show as £0.00m."""
    return money_m(pounds) if abs(pounds) >= 5_000 else "under £0.01m"


def _move(value: float) -> str:
    if abs(value) < HALF_PENNY:
        return "nil"
    return f"{_small(abs(value))} {'favourably' if value > 0 else 'adversely'}"


def in_year(system: System, monthly, month: int | None = None,
            forecast: ForecastMethodName | str = "plan") -> InYear:
    """Where each member and the system stand at a month, and where the year will land.

    Parameters
    ----------
    system : System
        The members, their control totals and the SCT.
    monthly : Monthly
        The monthly table of this system (`rs.load_monthly`): plans (given or phased), actuals
        and submitted forecasts, in-month £.
    month : int, optional
        The months closed, 0–12 (April is month 1); default the latest month closed for every
        member. Actuals after it are ignored, so earlier months can be looked back on.
    forecast : {"plan", "run_rate", "submitted"}, default "plan"
        How the months to come are forecast for the `forecast` column: the remaining plan, the
        run rate of the months closed, or the submitted forecast.

    Returns
    -------
    InYear
        `.table` (one row per member and the SYSTEM row inside the SCT; see the module
        docstring), `.cumulative` (month by month, for charts), `.sentences()`, `.path`.

    Raises
    ------
    ValidationError
        When the month is not 0–12 or some member has not closed it, or the method cannot
        forecast some member (the run rate at month 0; a submitted forecast missing).
    ArgumentTypeError
        When `system` is not a System or `monthly` is not a Monthly.
    UsageError
        When the monthly table belongs to another system.
    """
    require_system(system, "in_year")
    if not isinstance(monthly, Monthly):
        raise ArgumentTypeError("monthly must be a Monthly (rs.load_monthly), not "
                                f"{type(monthly).__name__}")
    members = tuple(monthly.table.index.get_level_values("org_id").unique())
    if members != tuple(system.members):
        raise UsageError("monthly: the monthly figures are for another system (its members "
                         "differ): load them against this system")
    month = check_month(monthly, month)
    path = year_path(monthly, month, forecast)
    return InYear(system, monthly, path, _table(system, monthly, path))


def _table(system: System, monthly: Monthly, path: YearPath) -> pd.DataFrame:
    m, method = path.month, path.method
    orgs = system.orgs
    oct_ = orgs["control_total"].to_numpy(dtype=float)
    turnover = orgs["turnover"].to_numpy(dtype=float)
    now = forecast_outturns(monthly, m)
    chosen = now[method]

    def earlier(at: int) -> np.ndarray:
        if method == "submitted" or at < 0 or (method == "run_rate" and at == 0):
            return np.full(len(oct_), np.nan)
        return forecast_outturns(monthly, at)[method]

    movement = chosen - earlier(m - 1)
    since6 = chosen - earlier(6) if m >= 6 else np.full(len(oct_), np.nan)
    since9 = chosen - earlier(9) if m >= 10 else np.full(len(oct_), np.nan)
    frame = pd.DataFrame({
        "name": orgs["name"], "in_sct": system.inside,
        "control_total": oct_, "ytd_plan": path.ytd_plan, "ytd_actual": path.ytd_actual,
        "forecast_plan": now["plan"], "forecast_run_rate": now["run_rate"],
        "forecast_submitted": now["submitted"], "forecast": chosen,
        "movement_month": movement, "movement_m6": since6,
    }, index=system.members)
    inside = system.inside
    gap = system.control_total - float(oct_[inside].sum())
    row: dict[str, object] = {c: _total(frame.loc[inside, c]) for c in frame.columns
                              if c not in ("name", "in_sct")}
    row.update(name="System (inside the SCT)", in_sct=True,
               control_total=system.control_total,
               ytd_plan=float(row["ytd_plan"]) + gap * m / MONTHS)   # type: ignore[arg-type]
    frame = pd.concat([frame, pd.DataFrame([row], index=[SYSTEM_ROW])])
    money = [c for c in frame.columns if c not in ("name", "in_sct")]
    frame[money] = frame[money].astype(float).round(2)
    frame["ytd_variance"] = (frame["ytd_actual"] - frame["ytd_plan"]).round(2)
    frame["forecast_variance"] = (frame["forecast"] - frame["control_total"]).round(2)
    scale = np.append(turnover, turnover[inside].sum())
    plan = frame["ytd_plan"].abs()
    # a percentage of a plan near breakeven says little (−£8m against +£1m is −800%): shown
    # only where the plan to date is at least PCT_OF_PLAN_FROM % of the turnover to date
    material = (plan > HALF_PENNY) & (plan >= PCT_OF_PLAN_FROM / 100.0 * scale * m / MONTHS)
    frame["ytd_variance_pct"] = np.where(material,
                                         100.0 * frame["ytd_variance"] / plan.where(plan > 0, 1),
                                         np.nan)
    moved9 = np.append(since9, _total(pd.Series(since9[inside])))
    frame["flags"] = [_flags(r, s, mv, m) for (_, r), s, mv in
                      zip(frame.iterrows(), scale, moved9, strict=True)]
    frame.index.name = "org_id"
    return frame[list(COLUMNS)]


def _total(values: pd.Series) -> float:
    """Σ of a column inside the SCT; blank if any member's is blank."""
    return float("nan") if values.isna().any() else float(values.sum())


def _flags(row, scale: float, moved_q4: float, month: int) -> str:
    flags = []
    if month and row["ytd_variance"] <= -HALF_PENNY:
        flags.append(f"behind plan to date by {_small(-row['ytd_variance'])}")
    if row["forecast_variance"] <= -HALF_PENNY:
        flags.append(f"forecast {_small(-row['forecast_variance'])} short of "
                     + ("the SCT" if row.name == SYSTEM_ROW else "its control total"))
    if pd.notna(moved_q4) and abs(moved_q4) >= MATERIAL_MOVE_PCT / 100.0 * scale:
        flags.append(f"forecast changed in the final quarter ({_move(moved_q4)} since month 9)")
    gap = row["forecast_run_rate"] - row["forecast_plan"]
    if pd.notna(gap) and abs(gap) >= RUN_RATE_GAP_PCT / 100.0 * scale:
        flags.append(f"run rate {money_m(abs(gap))} {'above' if gap > 0 else 'below'} the "
                     "plan-phased forecast")
    return "; ".join(flags)


__all__ = ["InYear", "in_year", "SYSTEM_ROW", "COLUMNS", "month_name", "MATERIAL_MOVE_PCT",
           "RUN_RATE_GAP_PCT"]
