"""Where the year lands from month m: each member's year to date and forecast outturn, month by
month (the in-year rules; docs/in_year.md).

At month m (the months closed, 0–12; April is month 1) a member's year is its actuals for
months 1..m and a forecast for months m+1..12, by one of three methods (`ForecastMethod`):

    plan        YTD actual + the remaining months' plan
    run_rate    YTD actual × 12 / m (each month to come at the average closed month)
    submitted   YTD actual + the remaining months' submitted forecast

`year_path(monthly, month, method)` gives that year as a `YearPath`; its `variance_at(e)` is
the cumulative position against the cumulative plan at the end of month e (£, + ahead of plan),
which is what quarterly support is judged on. `quarter_variances` carries a scenario's year-end
variance back to the quarter ends: what a scenario adds to (or takes from) the forecast accrues
evenly over the months still to come, so a deterministic run, a table of scenarios and an
in-year simulation (which adds a Brownian bridge between the quarter ends) all judge quarters
by one rule.

Money in £; surplus/favourable positive, deficit/adverse negative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riskshare.core.constants import ForecastMethod, ForecastMethodName, values
from riskshare.core.errors import problem, raise_if_errors
from riskshare.core.format import listed
from riskshare.core.monthly import MONTHS, Monthly

#: The months whose year to date each quarter is judged on (June, September, December, March).
QUARTER_ENDS = (3, 6, 9, 12)
QUARTERS = ("Q1", "Q2", "Q3", "Q4")
FORECAST_METHODS = values(ForecastMethod)
METHOD_WORDS = {
    "plan": "year to date plus the remaining plan",
    "run_rate": "the run rate, year to date × 12 ÷ months closed",
    "submitted": "year to date plus the remaining submitted forecast",
}


@dataclass(frozen=True, eq=False)
class YearPath:
    """Each member's year at month `month` (see the module docstring). Arrays are (n, 12) in
    the system's member order, in-month £.

    plan:      the plan (given or phased from the control total).
    actual:    actuals for months 1..month, NaN after.
    position:  actuals for months 1..month, then the forecast by `method`.
    outturn:   (n,) the year's forecast outturn, Σ position.
    """

    members: tuple[str, ...]
    month: int
    method: str
    plan: np.ndarray
    actual: np.ndarray
    position: np.ndarray

    @property
    def outturn(self) -> np.ndarray:
        return self.position.sum(axis=1)

    @property
    def ytd_plan(self) -> np.ndarray:
        return self.plan[:, :self.month].sum(axis=1)

    @property
    def ytd_actual(self) -> np.ndarray:
        return self.position[:, :self.month].sum(axis=1)

    def variance_at(self, month: int) -> np.ndarray:
        """Cumulative position − cumulative plan at the end of `month` (0–12), (n,) £."""
        return (self.position[:, :month].sum(axis=1) - self.plan[:, :month].sum(axis=1)) + 0.0

    def quarter_variance(self) -> np.ndarray:
        """(n, 4): `variance_at` the end of each quarter (months 3, 6, 9, 12)."""
        return np.stack([self.variance_at(e) for e in QUARTER_ENDS], axis=1)

    def closed(self, month: int) -> bool:
        """Whether the year to date at the end of `month` is actuals (not forecast)."""
        return month <= self.month


def forecast_outturns(monthly: Monthly, month: int) -> dict[str, np.ndarray]:
    """Each method's forecast outturn (n,) at `month`, NaN where a method cannot say (the run
    rate before any month has closed; a submitted forecast missing for a month to come)."""
    plan, actual, submitted = _arrays(monthly)
    ytd = np.nansum(actual[:, :month], axis=1)
    out = {"plan": ytd + plan[:, month:].sum(axis=1)}
    out["run_rate"] = (ytd * MONTHS / month if month else np.full(len(ytd), np.nan))
    rest = submitted[:, month:]
    complete = ~np.isnan(rest).any(axis=1)
    out["submitted"] = np.where(complete, ytd + np.nan_to_num(rest).sum(axis=1), np.nan)
    return out


def year_path(monthly: Monthly, month: int | None = None,
              method: ForecastMethodName | str = "plan") -> YearPath:
    """The year at `month` (default: the latest month closed for every member) with the months
    to come forecast by `method`. ValidationError when the month is not 0–12, some member has
    not closed it, or the method cannot forecast some member (named)."""
    plan, actual, submitted = _arrays(monthly)
    members = tuple(monthly.table.index.get_level_values("org_id").unique())
    month = check_month(monthly, month)
    problems = []
    if method not in FORECAST_METHODS:
        problems.append(problem(f"must be one of: {', '.join(FORECAST_METHODS)}",
                                key="forecast", value=method))
    elif method == "run_rate" and month == 0:
        problems.append(problem("needs at least one closed month (the run rate is the "
                                "average closed month)", key="forecast", value=method))
    elif method == "submitted":
        missing = [m for m, row in zip(members, submitted[:, month:], strict=True)
                   if np.isnan(row).any()]
        if missing:
            problems.append(problem(
                f"needs a submitted forecast for every month after month {month}; "
                f"{listed(missing)} {'has' if len(missing) == 1 else 'have'} none for some of "
                "them (fill the forecast column, or choose the plan or run rate)",
                key="forecast", value=method))
    raise_if_errors(problems, "in-year forecast")
    done = actual.copy()
    done[:, month:] = np.nan
    position = np.nan_to_num(done)
    ytd = position[:, :month].sum(axis=1)
    if method == "plan":
        position[:, month:] = plan[:, month:]
    elif method == "run_rate":
        position[:, month:] = (ytd / month)[:, None]
    else:
        position[:, month:] = submitted[:, month:]
    return YearPath(members, month, str(method), plan, done, position)


def check_month(monthly: Monthly, month: int | None) -> int:
    """`month` as a whole month 0–12 that every member has closed (None: the latest such
    month); ValidationError naming the members that have not closed it."""
    closed = monthly.closed()
    if month is None:
        return monthly.month
    ok = (isinstance(month, (int, np.integer)) and not isinstance(month, bool)
          and 0 <= month <= MONTHS)
    if not ok:
        raise_if_errors([problem("must be a whole month from 0 (none closed) to 12 (March)",
                                 key="month", value=month)], "in-year month")
    behind = [f"{m} (to month {int(c)})" for m, c in closed.items() if c < month]
    if behind:
        raise_if_errors([problem(
            f"has not closed for every member: {listed(behind)} "
            f"{'has' if len(behind) == 1 else 'have'} actuals only to an earlier month "
            f"(the latest month closed for all is {monthly.month})", key="month", value=month)],
            "in-year month")
    return int(month)


def quarter_variance(path: YearPath | None, variances: np.ndarray, control_totals: np.ndarray,
                     bridge: np.ndarray | None, k: int, out: np.ndarray | None = None
                     ) -> np.ndarray:
    """Each scenario's year to date against plan at quarter end k (0–3: months 3, 6, 9, 12),
    (S, n) £, written into `out` when given (see `quarter_variances`)."""
    v = np.asarray(variances, dtype=float)
    q = np.empty(v.shape) if out is None else out
    e = QUARTER_ENDS[k]
    if path is None:
        np.multiply(v, e / MONTHS, out=q)
    elif e <= path.month:
        q[...] = path.quarter_variance()[:, k]
    else:
        m = path.month
        np.subtract(v, path.outturn - np.asarray(control_totals, dtype=float), out=q)
        q *= (e - m) / (MONTHS - m)                  # the scenario's departure, in proportion
        q += path.quarter_variance()[:, k]
    if bridge is not None and (path is None or path.month < e < MONTHS):
        q += bridge[:, :, k]            # nil at a closed quarter end and at the year end
    q += 0.0                                                         # no −0.0
    return q


def quarter_variances(path: YearPath | None, variances: np.ndarray,
                      control_totals: np.ndarray, bridge: np.ndarray | None = None
                      ) -> np.ndarray:
    """Each scenario's year to date against plan at the quarter ends, (S, n, 4) £.

    variances (S, n): each scenario's year-end variance (outturn − control total). Without a
    path (no monthly figures) the year is its control total phased evenly, nothing closed: the
    variance accrues evenly, v × e / 12. With a path, closed quarter ends are the actuals and
    a quarter end e after the path's month m is the forecast plus the scenario's departure from
    it in proportion, (v − v_forecast) × (e − m) / (12 − m). `bridge` (S, n, 4), from an in-year
    simulation, adds each scenario's own deviation from that straight line (0 at month 12).

    The result is quarter-major in memory (a (4, S, n) array seen as (S, n, 4)), so each
    quarter `out[:, :, k]` is one contiguous block: the engine reads a quarter at a time.
    `quarter_variance` works out one quarter end alone."""
    v = np.asarray(variances, dtype=float)
    out = np.empty((4, *v.shape))
    for k in range(4):
        quarter_variance(path, v, control_totals, bridge, k, out=out[k])
    return np.moveaxis(out, 0, -1)


def _arrays(monthly: Monthly) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = monthly.table
    n = len(t) // MONTHS
    return tuple(t[c].to_numpy(dtype=float).reshape(n, MONTHS)       # type: ignore[return-value]
                 for c in ("plan", "actual", "forecast"))


__all__ = ["QUARTER_ENDS", "QUARTERS", "FORECAST_METHODS", "METHOD_WORDS", "YearPath",
           "forecast_outturns", "year_path", "check_month", "quarter_variance",
           "quarter_variances"]
