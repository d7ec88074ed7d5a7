"""Rebalancing: revised organisational control totals that sum exactly to the system control total.

`rebalance(system, method="basis", basis="turnover")` shares the gap (SCT − ΣOCT) between members
pro rata to a basis, in whole pennies, so the revised OCTs add up to the SCT to the penny. Only
members inside the SCT (`in_sct`, docs/reconciliation.md) are rebalanced: the OCTs of members outside it never
change, whatever the method.

Basis: a numeric column of the organisations table (non-negative, not all zero), "equal", or a
mapping of weights by org_id (every member needs one).

Optimised methods (linear programmes on the optimiser's core, `lp.py`):
- "minimax_change": the smallest largest change to any OCT, as % of turnover;
- "closest_to_forecast": the smallest largest gap between revised OCT and forecast, as % of
  turnover (every member is asked for the same stretch, as far as the conditions allow).
Both take `keep` (org_ids whose OCT must not change), `max_change` (% of turnover no OCT may
move by) and `ring_fence` (ring-fenced floors, e.g. {"ICB": 4.4}: a higher OCT falls on the
member's spending pro rata to the line's share of turnover, and the line must stay at least last
year × (1 + growth); see `ringfence`). When they cannot all hold, `InfeasibleError` says which conflict and by how much.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskshare.core.basis import basis_weights
from riskshare.core.errors import problem, raise_if_errors
from riskshare.core.format import money
from riskshare.core.money import allocate, from_pennies, to_pennies
from riskshare.core.system import System, require_system
from riskshare.reconciliation import ringfence

METHODS = ("basis", "minimax_change", "closest_to_forecast")
METHOD_WORDS = {
    "basis": "pro rata to a basis",
    "minimax_change": "smallest largest change (% of turnover)",
    "closest_to_forecast": "closest to forecast: the same stretch for every member",
}


@dataclass(frozen=True, eq=False)
class Rebalancing:
    """Proposed control totals.

    revised: revised OCT per member (£, whole pennies); those inside the SCT sum exactly to
             it, and members outside it (`in_sct` false) keep their OCT.
    table:   per member: name, turnover, control_total, revised, change (£), change_pct (% of
             turnover), forecast, variance_revised (forecast − revised).
    keep, max_change: the optimised methods' conditions as asked for (org_ids whose OCT was
             kept; the cap on any change, % of turnover, None for no cap).
    """

    system: System
    method: str
    basis: object
    revised: pd.Series
    table: pd.DataFrame
    keep: tuple[str, ...] = ()
    max_change: float | None = None
    ring_fence: tuple = ()

    @property
    def total(self) -> float:
        """Σ revised OCT inside the SCT (£): the SCT, to the penny."""
        inside = self.system.inside
        return float(from_pennies(to_pennies(self.revised.to_numpy()[inside]).sum()))

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
              max_change: float | None = None, solver: str = "highs",
              ring_fence=None) -> Rebalancing:
    """Revised OCTs summing exactly to the SCT (see the module docstring).

    The gap SCT − ΣOCT is shared between the members in whole pennies, so the revised OCTs add
    up to the SCT to the penny. keep and max_change apply to the optimised methods; solver:
    "highs" | "cbc".

    Parameters
    ----------
    system : System
        The members, their control totals, forecasts and turnover (£), and the SCT.
    method : {"basis", "minimax_change", "closest_to_forecast"}, default "basis"
        "basis" shares the gap pro rata to `basis`; "minimax_change" makes the largest change
        to any OCT, as % of turnover, as small as it can be; "closest_to_forecast" makes the
        largest gap between a revised OCT and its member's forecast, as % of turnover, as small
        as it can be (a linear programme each).
    basis : str or mapping, default "turnover"
        For method "basis": a numeric column of the organisations table (≥ 0, not all zero),
        "equal", or weights by org_id for every member (a dict or Series; only the ratios
        matter). Not used by the optimised methods.
    keep : str or iterable of str, default ()
        org_ids whose OCT must not change (optimised methods only).
    max_change : float, optional
        The most any OCT may move, in % of turnover (optimised methods only); None: no cap.
    solver : {"highs", "cbc"}, default "highs"
        The solver of the optimised methods (not used by "basis").
    ring_fence : mapping, optional
        Ring-fenced floors (optimised methods only): org_id = growth % on the columns
        `mh_spend` and `mh_spend_last_year`, or org_id = {growth, line, last_year}. The line
        after = line − change × line / turnover must stay ≥ last year × (1 + growth / 100).

    Returns
    -------
    Rebalancing
        `.revised` (the revised OCT per member, £, whole pennies, summing exactly to the SCT)
        and `.table` (per member: control_total, revised, change in £ and in % of turnover,
        forecast, variance_revised = forecast − revised); `.apply()` gives the system with
        the revised OCTs.

    Raises
    ------
    ValidationError
        When the method, a kept member, max_change or the basis is invalid, or keep or
        max_change is given with method "basis" (every problem listed), or the solver is
        unknown (optimised methods).
    InfeasibleError
        When no rebalancing meets every condition (keep, max_change): the message names the
        conditions in conflict and the smallest change that would make them hold.
    ArgumentTypeError
        When `system` is not a System.
    """
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
    fences = ringfence.parse(ring_fence, "ring_fence", problems)
    problems += ringfence.check(fences, system, "ring_fence")
    if method == "basis" and (keep or max_change is not None or fences):
        problems.append(problem("keep and max_change apply to the optimised methods "
                                "(minimax_change, closest_to_forecast), and so does ring_fence",
                                column="method", value=method))
    raise_if_errors(problems, "rebalancing")
    orgs = system.orgs
    current = to_pennies(orgs["control_total"].to_numpy())
    inside = system.inside              # members outside the SCT keep their OCT (docs/reconciliation.md)
    if method == "basis":
        weights = np.where(inside, basis_weights(system, basis), 0.0)
        if weights.sum() <= 0:
            raise_if_errors([problem("is zero for every member inside the system control "
                                     "total, so it cannot share the gap", column=str(basis)
                                     if isinstance(basis, str) else "basis")], "basis")
        gap_p = int(to_pennies(system.control_total)) - int(current[inside].sum())
        shares = to_pennies(allocate(gap_p / 100.0, weights, tiebreak=orgs.index.to_numpy()))
        revised_values = from_pennies(current + shares)
    else:
        from riskshare.reconciliation.rebalance_lp import (
            optimised_octs,  # the LP solver loads only when asked for
        )

        revised_values = optimised_octs(system, method, keep, max_change, solver, fences)
        basis = None
    revised = pd.Series(revised_values, index=orgs.index, name="revised")
    change = revised - orgs["control_total"]
    table = pd.DataFrame({
        "name": orgs["name"], "in_sct": orgs["in_sct"].astype(bool), "turnover": orgs["turnover"],
        "control_total": orgs["control_total"], "revised": revised, "change": change,
        "change_pct": 100.0 * change / orgs["turnover"], "forecast": orgs["forecast"],
        "variance_revised": orgs["forecast"] - revised,
    })
    return Rebalancing(system, method, basis, revised, table, keep, max_change, fences)
