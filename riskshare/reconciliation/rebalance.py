"""Rebalancing: revised organisational control totals that sum exactly to the system control total.

`rebalance(system, method="basis", basis="turnover")` shares the gap (SCT − ΣOCT) between members
pro rata to a basis, in whole pennies, so the revised OCTs add up to the SCT to the penny.

Basis: a numeric column of the organisations table (non-negative, not all zero), "equal", or a
mapping of weights by org_id (every member needs one).

Optimised methods (linear programmes on the optimiser's core, `lp.py`):
- "minimax_change": the smallest largest change to any OCT, as % of turnover;
- "closest_to_forecast": the smallest largest gap between revised OCT and forecast, as % of
  turnover (every member is asked for the same stretch, as far as the conditions allow).
Both take `keep` (org_ids whose OCT must not change) and `max_change` (% of turnover no OCT may
move by). When they cannot all hold, `InfeasibleError` says which conflict and by how much.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from riskshare.core.basis import basis_weights
from riskshare.core.errors import problem, raise_if_errors
from riskshare.core.format import money
from riskshare.core.money import allocate, from_pennies, to_pennies
from riskshare.core.system import System, require_system

METHODS = ("basis", "minimax_change", "closest_to_forecast")
METHOD_WORDS = {
    "basis": "pro rata to a basis",
    "minimax_change": "smallest largest change (% of turnover)",
    "closest_to_forecast": "closest to forecast: the same stretch for every member",
}


@dataclass(frozen=True, eq=False)
class Rebalancing:
    """Proposed control totals.

    revised: revised OCT per member (£, whole pennies), summing exactly to the SCT.
    table:   per member: name, turnover, control_total, revised, change (£), change_pct (% of
             turnover), forecast, variance_revised (forecast − revised).
    """

    system: System
    method: str
    basis: object
    revised: pd.Series
    table: pd.DataFrame

    @property
    def total(self) -> float:
        return float(from_pennies(to_pennies(self.revised.to_numpy()).sum()))

    def apply(self) -> System:
        """The system with its OCTs replaced by the revised ones (SCT unchanged)."""
        return self.system.with_control_totals(self.revised)

    def describe(self) -> str:
        gap = self.system.gap
        head = (f"The gap of {money(gap, 2)} between the system control total and the sum of "
                f"organisational control totals is shared")
        if self.method == "minimax_change":
            worst = float(self.table["change_pct"].abs().max())
            return (f"{head} so that no control total moves by more than {worst:.3f}% of "
                    f"turnover (the smallest largest change possible), in whole pennies.")
        if self.method == "closest_to_forecast":
            gap_pct = (100.0 * (self.table["forecast"] - self.table["revised"])
                       / self.table["turnover"]).abs().max()
            return (f"{head} so that no revised control total is more than {gap_pct:.3f}% of "
                    f"turnover from its member's forecast (the smallest such gap), in whole "
                    f"pennies.")
        basis = self.basis if isinstance(self.basis, str) else "the given weights"
        return f"{head} pro rata to {basis}, in whole pennies."


def rebalance(system: System, method: str = "basis", basis="turnover", keep=(),
              max_change: float | None = None, solver: str = "highs") -> Rebalancing:
    """Revised OCTs summing exactly to the SCT (see the module docstring).

    keep and max_change apply to the optimised methods; solver: "highs" | "cbc"."""
    require_system(system, "rebalance")
    problems = []
    if method not in METHODS:
        problems.append(problem(f"unknown rebalancing method (valid: {', '.join(METHODS)})",
                                value=method, column="method"))
    keep = (keep,) if isinstance(keep, str) else tuple(keep or ())   # one org_id on its own
    problems += [problem("is not a member of the system", member=str(k), column="keep")
                 for k in keep if k not in system.members]
    if max_change is not None and (isinstance(max_change, bool) or not isinstance(
            max_change, (int, float)) or not math.isfinite(max_change) or max_change < 0):
        problems.append(problem("must be a number ≥ 0 (% of turnover)", column="max_change",
                                value=max_change))
    if method == "basis" and (keep or max_change is not None):
        problems.append(problem("keep and max_change apply to the optimised methods "
                                "(minimax_change, closest_to_forecast)", column="method",
                                value=method))
    raise_if_errors(problems, "rebalancing")
    orgs = system.orgs
    current = to_pennies(orgs["control_total"].to_numpy())
    if method == "basis":
        weights = basis_weights(system, basis)
        gap_p = int(to_pennies(system.control_total)) - int(current.sum())
        shares = to_pennies(allocate(gap_p / 100.0, weights, tiebreak=orgs.index.to_numpy()))
        revised_values = from_pennies(current + shares)
    else:
        from riskshare.reconciliation.rebalance_lp import (
            optimised_octs,  # the LP solver loads only when asked for
        )

        revised_values = optimised_octs(system, method, keep, max_change, solver)
        basis = None
    revised = pd.Series(revised_values, index=orgs.index, name="revised")
    change = revised - orgs["control_total"]
    table = pd.DataFrame({
        "name": orgs["name"], "turnover": orgs["turnover"],
        "control_total": orgs["control_total"], "revised": revised, "change": change,
        "change_pct": 100.0 * change / orgs["turnover"], "forecast": orgs["forecast"],
        "variance_revised": orgs["forecast"] - revised,
    })
    return Rebalancing(system, method, basis, revised, table)
