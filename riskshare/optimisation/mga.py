"""Near-optimal alternatives (modelling to generate alternatives, MGA).

A facilitator wants several genuinely different good answers to discuss, not one. Given an
optimal `Allocation`, the objective is held within `slack` of its optimum and the model is
re-solved for the least money moved, weighted member by member (Hop-Skip-Jump): members that
paid or received in the allocations found so far are made expensive to move again, so the next
answer uses other members where it can; seeded random weights break ties and vary the search.
A candidate is kept only if it differs from every allocation kept so far by at least
`min_difference` £ (the sum over members of the absolute difference in what they receive).
Because every alternative still minimises (weighted) money moved, none of them moves money
for its own sake.

slack: a fraction of the optimum (0.05 = within 5%). Where the optimum is zero or tiny, the
allowance is that fraction of a natural unit instead: 1 percentage point of scale for
minimax_shortfall, 1% of the total scale for £ objectives, one member for counts.
"""

from __future__ import annotations

import math

import numpy as np

from riskshare.core.errors import problem, raise_if_errors
from riskshare.optimisation.model import build, received_of, to_model
from riskshare.optimisation.setup import Setup
from riskshare.optimisation.spec import OBJECTIVES
from riskshare.solver import lp

__all__ = ["allowance", "near_optimal", "alternatives", "MAX_TRIES"]

MAX_TRIES = 4               # weightings tried per alternative wanted


def allowance(st: Setup, objective: str, optimum: float, slack: float) -> float:
    """How far (objective units) an alternative may fall short of `optimum`."""
    obj = OBJECTIVES[objective]
    unit = {"pct": 1.0, "gbp": 0.01 * float(st.scale.sum()), "members": 1.0}[obj.unit]
    value = abs(optimum)
    room = slack * (value if value > 1e-9 * unit else unit)
    if obj.unit == "members":
        room = math.floor(room + 1e-9)
    return room


def near_optimal(st: Setup, objective: str, optimum: float, received: np.ndarray,
                 solver: str = "highs", k: int = 3, slack: float = 0.05,
                 min_difference: float | None = None, seed: int = 0
                 ) -> list[tuple[np.ndarray, lp.SolveStatus]]:
    """Up to `k` distributions (£ received per member, member order) within `slack` of
    `optimum` (the objective's value at `received`), each with the status of its solve; every
    pair differs by at least `min_difference` £. `Allocation.alternatives` turns them into
    allocations evaluated by the engine."""
    problems = []
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or not 1 <= k <= 20:
        problems.append(problem("must be a whole number from 1 to 20", column="k", value=k))
    if isinstance(slack, bool) or not isinstance(slack, (int, float)) or not (
            0.0 <= float(slack) <= 1.0):
        problems.append(problem("must be a fraction between 0 and 1 (0.05 = within 5%)",
                                column="slack", value=slack))
    if min_difference is not None and (
            isinstance(min_difference, bool) or not isinstance(min_difference, (int, float))
            or not math.isfinite(min_difference) or min_difference < 0):
        problems.append(problem("must be an amount of £ ≥ 0", column="min_difference",
                                value=min_difference))
    raise_if_errors(problems, "alternatives")
    obj = OBJECTIVES[objective]
    x0 = np.asarray(received, dtype=float)
    if min_difference is None:
        min_difference = max(0.05 * float(np.abs(x0).sum()), 0.001 * float(st.scale.sum()), 1.0)
    room = allowance(st, objective, optimum, float(slack))
    bound = optimum - room if obj.maximise else optimum + room
    rng = np.random.default_rng(seed)
    kept = [x0]
    found: list[tuple[np.ndarray, lp.SolveStatus]] = []
    moved = np.abs(x0 + st.holder - st.pooled) > 0.5
    for _ in range(k * MAX_TRIES):
        if len(found) >= k:
            break
        weights = np.where(moved, 10.0, 1.0) * rng.uniform(0.5, 1.5, st.n)
        near = (">=" if obj.maximise else "<=", to_model(objective, bound))
        candidate = build(st, objective, near=near, least_movement=True,
                          movement_weights=weights)
        status = lp.solve(candidate.model, solver, time_limit=20)
        if not status.ok:
            continue
        x = received_of(candidate)
        moved |= np.abs(x + st.holder - st.pooled) > 0.5
        if min(np.abs(x - y).sum() for y in kept) < min_difference:
            continue
        kept.append(x)
        found.append((x, status))
    return found


def alternatives(allocation, k: int = 3, slack: float = 0.05,
                 min_difference: float | None = None, seed: int = 0) -> list:
    """`allocation.alternatives(...)` as a free function: up to `k` materially different
    allocations within `slack` of the optimum (see `Allocation.alternatives`)."""
    return allocation.alternatives(k=k, slack=slack, min_difference=min_difference, seed=seed)
