"""Why an optimisation is infeasible: elastic relaxation.

Every condition a user asked for (a relaxable `lp.Row`) gets elastic variables that let it give
in the direction that makes it easier. Then:

1. Least total give: minimise the £ the conditions give in all. The rows with a non-zero dual in
   that solve are the conditions pulling against each other (the support of a Farkas
   certificate): they are reported as *in conflict*, with the rows that had to give.
2. Smallest set: if relaxing a single one of those conditions can make the request feasible,
   the one that needs the least give is reported (a set of one is the smallest there is).
   Otherwise the rows that gave in step 1 are pruned one at a time (each is dropped if the
   others can absorb its give), leaving an irreducible set: none of them can be spared.

Every step is a linear solve (plus the model's own whole-number choices, if it has any), so no
big-M switches are needed. Structural rows (the objective's bookkeeping, support tests) never
give. `diagnose` returns an `InfeasibleError` for the caller to raise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from riskshare.core.constants import HALF_PENNY
from riskshare.core.errors import Conflict, InfeasibleError
from riskshare.core.lazy import lazy_module
from riskshare.solver import conditions, lp

pulp = lazy_module("pulp")   # the solver library loads at the first model built

MAX_SINGLE_TESTS = 60       # conditions tried one at a time in step 2


def diagnose(build: Callable[[], lp.Model], solver: str, headline: str) -> InfeasibleError:
    """Explain why the model `build()` makes (with elastic rows) is infeasible."""
    model, gives = _least_give(build, solver, allowed=None)
    if model is None:
        return InfeasibleError(headline + " (the solver could not say which conditions "
                               "conflict)", [], [])
    _fix_whole_numbers(model, solver)
    in_conflict = [name for name, row in model.rows.items()
                   if row.relaxable and abs(model.dual(name)) > 1e-9]
    involved = list(dict.fromkeys([*gives, *in_conflict]))
    smallest = _smallest(build, solver, involved, gives)
    rows = model.rows
    names = list(dict.fromkeys([*in_conflict, *gives, *smallest]))
    conflicts = [Conflict(n, rows[n].family, rows[n].member,
                          conditions.condition(rows[n].family, rows[n].member, rows[n].shown),
                          smallest.get(n), conditions.give(rows[n].family, rows[n].member,
                                                           smallest[n]) if n in smallest else "")
                 for n in names]
    # the key sees only conflicts filtered to a give (mypy does not narrow into the lambda)
    relaxations = sorted((c for c in conflicts if c.give is not None),
                         key=lambda c: -abs(cast(float, c.give)))
    return InfeasibleError(headline, conflicts, relaxations)


def _least_give(build, solver, allowed: set | None):
    """Minimise the total give, letting only `allowed` rows give (None: all). Returns (model,
    gives by row) or (None, None) when even that is infeasible."""
    model = build()
    elastic = [(name, v, sign) for name, give in model.elastic.items() for v, sign in give]
    for name, v, _ in elastic:
        v.upBound = model.big if allowed is None or name in allowed else 0.0
    model.set_objective([(v, 1.0) for _, v, _ in elastic])
    status = lp.solve(model, solver, time_limit=30)
    if not status.ok:
        return None, None
    return model, _gives(model, elastic)


def _fix_whole_numbers(model: lp.Model, solver: str) -> None:
    """Duals need an LP: fix any whole-number choices at their values and re-solve."""
    if not model.is_mip:
        return
    for var in model.prob.variables():
        if var.cat != pulp.LpContinuous:
            var.lowBound = var.upBound = round(var.value() or 0.0)
            var.cat = pulp.LpContinuous
    lp.solve(model, solver, time_limit=30)


def _smallest(build, solver, involved: list, gives: dict) -> dict:
    """The single condition whose relaxation alone is smallest (ties within a penny: a
    system-wide condition before a member's, then by org_id, so the answer does not depend
    on the order of the rows); else the least-give set, pruned."""
    best = None
    for name in involved[:MAX_SINGLE_TESTS]:
        model, single = _least_give(build, solver, {name})
        if single is not None:
            total = round(sum(abs(g) for g in single.values()), 2)
            member = model.rows[name].member
            key = (total, member is not None, str(member or ""), name)
            if best is None or key < best[0]:
                best = (key, single)
    if best is not None:
        return best[1]
    keep = dict(gives)
    for name in sorted(gives, key=lambda n: abs(gives[n])):
        trial = set(keep) - {name}
        _, pruned = _least_give(build, solver, trial) if trial else (None, None)
        if pruned is not None:
            keep = pruned
    return keep


def _gives(model: lp.Model, elastic) -> dict:
    """Signed £ each row gives (see `_sign`)."""
    out: dict = {}
    for name, v, sign in elastic:
        amount = (v.value() or 0.0) * lp.MONEY
        if amount > HALF_PENNY:
            out[name] = out.get(name, 0.0) + amount * _sign(model.rows[name], sign)
    return out


def _sign(row: lp.Row, sign: int) -> int:
    """For an equality, the elastic variable added to the left-hand side (sign +1) means the
    figure ends lower than asked (−), the one subtracted higher (+); an inequality only ever
    gives in its relaxing direction (+)."""
    return -sign if row.sense == "==" else 1
