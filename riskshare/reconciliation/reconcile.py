"""Reconciliation: from organisational control totals (OCTs) to the system control total (SCT).

`reconcile(system)` returns a `Reconciliation`:
- `.statement`: ordered, labelled lines in £ (ΣOCT, support, ΣOCT incl. support, SCT, gap,
  gap incl. support, forecast outturn, forecast variance against ΣOCT and against the SCT);
- `.orgs`: per member OCT, forecast, variance (£ and % of turnover), the unrealistic flag and
  its share of the gap on the turnover basis;
- `.gap`: SCT − ΣOCT (£; positive = the members' targets fall short of the system's);
- `.flags`: sentences a finance director can read.

The statement covers the members inside the SCT (`in_sct`, docs/reconciliation.md): a council or GP
federation outside it is listed per member (and flagged like any other) but left out of ΣOCT,
the gap, the system forecast and its variance, and takes no share of the gap.

A member's OCT is flagged *unrealistic* when its forecast is adverse to it by more than
`unrealistic_pct` percent of turnover (default 1.0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskshare.core.errors import UsageError
from riskshare.core.format import money_m as _money_m
from riskshare.core.format import named, pct
from riskshare.core.money import allocate
from riskshare.core.system import System, require_system


def money_m(pounds: float) -> str:
    """£ -> £m for a flag sentence ("£3.50m", "£12.3m": two decimals below £10m, else one)."""
    return _money_m(pounds, dp=None)


DEFAULT_UNREALISTIC_PCT = 1.0

STATEMENT_LINES: tuple[tuple[str, str], ...] = (
    ("sum_oct", "Sum of organisational control totals (ΣOCT)"),
    ("support", "Conditional support funding at stake"),
    ("sum_oct_incl_support", "ΣOCT including support"),
    ("sct", "System control total (SCT)"),
    ("gap", "Gap: SCT − ΣOCT"),
    ("gap_incl_support", "Gap including support: SCT − ΣOCT incl. support"),
    ("forecast", "Forecast system outturn (excluding support)"),
    ("variance_vs_oct", "Forecast variance against ΣOCT"),
    ("variance_vs_sct", "Forecast variance against the SCT"),
)


@dataclass(frozen=True, eq=False)
class Reconciliation:
    """The result of `reconcile` (see the module docstring); money in £. `statement` has the
    lines of STATEMENT_LINES (label, amount); `orgs` per member: name, kind, turnover,
    control_total, forecast, support, variance, variance_pct (% of turnover), unrealistic and
    gap_share (0 outside the SCT), with in_sct; `unrealistic_pct` is the threshold used (% of
    turnover)."""

    system: System
    statement: pd.DataFrame
    orgs: pd.DataFrame
    gap: float
    flags: tuple[str, ...]
    unrealistic_pct: float

    @property
    def unrealistic(self) -> list[str]:
        """org_ids whose control total looks unrealistic."""
        return list(self.orgs.index[self.orgs["unrealistic"]])

    def amount(self, key: str) -> float:
        """One statement line in £, by key (see `STATEMENT_LINES`)."""
        return float(self.statement.loc[key, "amount"])


def reconcile(system: System, unrealistic_pct: float = DEFAULT_UNREALISTIC_PCT) -> Reconciliation:
    """Reconcile a system's OCTs with its SCT (see the module docstring).

    States the gap between the system control total and the sum of the organisational control
    totals, each member's forecast against its OCT, and the findings in sentences. A member's
    OCT is flagged unrealistic when its forecast is adverse to it by more than
    `unrealistic_pct` percent of its turnover.

    Parameters
    ----------
    system : System
        The members, their control totals and forecasts (£), and the SCT.
    unrealistic_pct : float, default 1.0
        The threshold of the unrealistic flag, in % of turnover (1.0 = 1%); a number ≥ 0.

    Returns
    -------
    Reconciliation
        `.statement` (the lines of STATEMENT_LINES in £), `.orgs` (per member: variance in £
        and % of turnover, the unrealistic flag, and its share of the gap pro rata to turnover
        in whole pennies), `.gap` (SCT − ΣOCT, £; positive: the members' targets fall short of
        the SCT) and `.flags` (findings in sentences).

    Raises
    ------
    UsageError
        When `unrealistic_pct` is not a finite percent number ≥ 0 (True/False included).
    ArgumentTypeError
        When `system` is not a System.
    """
    require_system(system, "reconcile")
    try:
        if isinstance(unrealistic_pct, bool):
            raise TypeError    # True is not 1%
        threshold = float(unrealistic_pct)
    except (TypeError, ValueError):
        threshold = float("nan")
    if not threshold >= 0 or threshold == float("inf"):
        raise UsageError(f"unrealistic_pct must be a percent number ≥ 0 (got {unrealistic_pct!r})")

    o = system.orgs
    inside = system.inside             # the SCT boundary (docs/reconciliation.md)
    sum_oct = system.sum_control_totals
    support = float(o["support"].to_numpy(dtype=float)[inside].sum())
    sct = system.control_total
    forecast = system.system_forecast
    amounts = {
        "sum_oct": sum_oct,
        "support": support,
        "sum_oct_incl_support": sum_oct + support,
        "sct": sct,
        "gap": sct - sum_oct,
        "gap_incl_support": sct - (sum_oct + support),
        "forecast": forecast,
        "variance_vs_oct": forecast - sum_oct,
        "variance_vs_sct": forecast - sct,
    }
    statement = pd.DataFrame(
        {"label": [label for _, label in STATEMENT_LINES],
         "amount": [amounts[key] for key, _ in STATEMENT_LINES]},
        index=pd.Index([key for key, _ in STATEMENT_LINES], name="line"))

    variance = system.variance
    variance_pct = 100.0 * variance / o["turnover"]
    # the gap shared pro rata to turnover in whole pennies adding up to the gap (as the basis
    # rebalancing does): the "share of gap" column and the rebalancing agree to the penny
    # members outside the SCT take no share: their control totals never change
    share = allocate(amounts["gap"], np.where(inside, o["turnover"].to_numpy(dtype=float), 0.0),
                     tiebreak=o.index.to_numpy())
    orgs = pd.DataFrame({
        "name": o["name"], "kind": o["kind"], "in_sct": o["in_sct"].astype(bool),
        "turnover": o["turnover"],
        "control_total": o["control_total"], "forecast": o["forecast"], "support": o["support"],
        "variance": variance, "variance_pct": variance_pct,
        "unrealistic": variance_pct < -threshold,
        "gap_share": share,
    })
    flags = tuple(_flags(system, amounts, orgs, threshold))
    return Reconciliation(system, statement, orgs, amounts["gap"], flags, threshold)


def _flags(system: System, a: dict, orgs: pd.DataFrame, threshold: float) -> list[str]:
    out: list[str] = []
    outside = system.outside_members
    if outside:
        names = named([f"{system.orgs.at[m, 'name']} ({m})" for m in outside])
        out.append(f"{names} {'is' if len(outside) == 1 else 'are'} outside the system control "
                   "total: in the agreement, but not in ΣOCT, the gap, the system forecast or "
                   "rebalancing.")
    gap = a["gap"]
    if round(gap, 2) > 0:
        out.append(f"The system control total ({money_m(a['sct'])}) asks {money_m(gap)} more than "
                   f"the members' control totals add up to ({money_m(a['sum_oct'])}): the "
                   "organisational targets need rebalancing, or the gap needs an owner.")
    elif round(gap, 2) < 0:
        out.append(f"The members' control totals add up to {money_m(a['sum_oct'])}, "
                   f"{money_m(-gap)} better than the system control total ({money_m(a['sct'])}): "
                   "there is headroom at system level.")
    else:
        out.append(f"The members' control totals add up exactly to the system control total "
                   f"({money_m(a['sct'])}).")
    miss = a["variance_vs_sct"]
    if round(miss, 2) < 0:
        out.append(f"On current forecasts the system misses its control total by "
                   f"{money_m(-miss)} (forecast outturn {money_m(a['forecast'])}, before support).")
    else:
        out.append(f"On current forecasts the system meets its control total with "
                   f"{money_m(miss)} to spare (forecast outturn {money_m(a['forecast'])}, "
                   "before support).")
    flagged = orgs[orgs["unrealistic"]].sort_values("variance_pct")
    for org_id, r in flagged.iterrows():
        out.append(f"{r['name']} ({org_id}): forecast {money_m(r['forecast'])} against a control "
                   f"total of {money_m(r['control_total'])}, {money_m(-r['variance'])} adverse "
                   f"({pct(-r['variance_pct'])} of turnover, beyond the {pct(threshold)} "
                   "threshold): the control total looks unrealistic.")
    if flagged.empty:
        out.append(f"No member's forecast is adverse to its control total by more than "
                   f"{pct(threshold)} of turnover.")
    return out
