"""Optimised rebalancing of organisational control totals (`rs.rebalance` with method
"minimax_change" or "closest_to_forecast"), on the optimiser's core (`lp.py`).

Variables: the change to each OCT (£) and m, the largest change (or gap to forecast) as % of
turnover. Rows: the changes sum to the gap SCT − ΣOCT ("sct"); members in `keep` do not change
("keep_oct"); members outside the SCT do not change ("outside_sct", never relaxed); no
change exceeds `max_change` % of turnover ("max_change"); a ring-fenced line stays at or above
its floor, line − change × line/turnover ≥ floor ("ring_fence", in £ of the line; see
`ringfence`). Objective: minimise m,
with |change_i| ≤ m·turnover_i/100 (minimax_change) or |OCT_i + change_i − forecast_i| ≤
m·turnover_i/100 (closest_to_forecast). The answer is rounded to whole pennies summing exactly to
the SCT (kept members keep their OCT to the penny).
"""

from __future__ import annotations

import numpy as np

from riskshare.core.money import round_to_total
from riskshare.core.system import System
from riskshare.reconciliation import ringfence
from riskshare.solver import lp
from riskshare.solver.infeasibility import diagnose


def build(system: System, method: str, keep, max_change, elastic: bool = False,
          ring_fence: tuple = ()) -> tuple:
    """The rebalancing LP of `system` for `method` (see the module docstring), in £ thousands:
    (model, the change variable of each member, current OCTs in £ thousands, mask of the kept
    members). elastic=True lets the relaxable rows give, to diagnose an infeasible request."""
    orgs = system.orgs
    n = system.n
    who = [str(m) for m in system.members]
    k = lp.MONEY                                # model units: £ thousands
    oct_ = orgs["control_total"].to_numpy(dtype=float) / k
    turnover = orgs["turnover"].to_numpy(dtype=float) / k
    forecast = orgs["forecast"].to_numpy(dtype=float) / k
    inside = system.inside                      # the SCT boundary (docs/reconciliation.md)
    gap = float(system.control_total / k - oct_[inside].sum())
    model = lp.Model(method)
    model.elastic_on = elastic
    model.big = 2.0 * (abs(gap) + np.abs(forecast - oct_).sum()) + 1000.0
    change = [model.var(f"c_{i:05d}", -model.big, model.big) for i in range(n)]
    largest = model.var("largest")

    def row(name, family, i, sense, rhs, relaxable=True, figure=None):
        return lp.Row(name, family, None if i is None else who[i], sense, float(rhs), relaxable,
                      figure)

    model.add([(c, 1.0) for c, i in zip(change, inside, strict=True) if i], "==", gap,
              row("sct", "sct", None, "==", gap, figure=float(system.control_total) / k))
    kept = system.members.isin(keep)
    line, low, share = ringfence.arrays(ring_fence, system)
    for i in range(n):
        if not inside[i]:          # outside the SCT: its OCT never changes, and is not measured
            model.add([(change[i], 1.0)], "==", 0.0,
                      row(f"outside_{i:05d}", "outside_sct", i, "==", 0.0, False))
            continue
        if kept[i]:
            model.add([(change[i], 1.0)], "==", 0.0,
                      row(f"keep_{i:05d}", "keep_oct", i, "==", 0.0, figure=oct_[i]))
        if not np.isnan(share[i]):     # line − share × change ≥ floor, in £ of the line
            model.add([(change[i], -share[i])], ">=", (low[i] - line[i]) / k,
                      row(f"ring_fence_{i:05d}", "ring_fence", i, ">=", (low[i] - line[i]) / k,
                          figure=low[i] / k))
        if max_change is not None:
            cap = max_change * turnover[i] / 100.0
            model.add([(change[i], 1.0)], "<=", cap,
                      row(f"max_up_{i:05d}", "max_change", i, "<=", cap))
            model.add([(change[i], -1.0)], "<=", cap,
                      row(f"max_down_{i:05d}", "max_change", i, "<=", cap))
        target = 0.0 if method == "minimax_change" else forecast[i] - oct_[i]
        unit = turnover[i] / 100.0
        model.add([(change[i], 1.0), (largest, -unit)], "<=", target,
                  row(f"above_{i:05d}", "level", i, "<=", 0.0, False))
        model.add([(change[i], -1.0), (largest, -unit)], "<=", -target,
                  row(f"below_{i:05d}", "level", i, "<=", 0.0, False))
    model.set_objective([(largest, 1.0)])
    return model, change, oct_, kept


def optimised_octs(system: System, method: str, keep, max_change, solver: str,
                   ring_fence: tuple = ()) -> np.ndarray:
    """Revised OCTs (£, whole pennies) summing exactly to the SCT. The model is built with the
    members in org_id order, so any row order gives the same answer to the penny."""
    order = np.argsort(np.asarray(system.members, dtype=object).astype(str), kind="stable")
    if (order != np.arange(system.n)).any():
        ordered = system.replace(orgs=system.orgs.iloc[order])
        revised = np.empty(system.n)
        revised[order] = optimised_octs(ordered, method, keep, max_change, solver, ring_fence)
        return revised
    model, change, oct_, kept = build(system, method, keep, max_change, ring_fence=ring_fence)
    status = lp.solve(model, solver)
    if not status.ok:
        raise diagnose(lambda: build(system, method, keep, max_change, elastic=True,
                                     ring_fence=ring_fence)[0], solver,
                       f"No rebalancing of {system.label} meets every condition")
    oct_ = oct_ * lp.MONEY
    revised = oct_ + lp.MONEY * np.array([c.value() or 0.0 for c in change])
    fixed = kept | ~system.inside     # members outside the SCT keep their OCT to the penny
    outside = float(oct_[~system.inside].sum())
    return round_to_total(np.where(fixed, oct_, revised), system.control_total + outside,
                          locked=fixed, tiebreak=system.members.to_numpy())
