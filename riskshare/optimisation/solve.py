"""Solving a prepared request: the optimum, a polish of the MILP with its whole-number choices
fixed, shadow prices verified by re-solving, and the tie-break for the least money moved."""

from __future__ import annotations

import time
from dataclasses import replace

from riskshare.core.errors import problem, raise_if_errors
from riskshare.optimisation.model import (
    Built,
    _binary_values,
    _has_solution,
    build,
    depends_on_rules,
    depends_on_system,
    received_of,
    status_value,
    to_pound,
)
from riskshare.optimisation.result import (
    Allocation,
    Binding,
    ShadowPrice,
    _effect_words,
    finish,
    step_for,
)
from riskshare.optimisation.setup import Setup
from riskshare.optimisation.spec import OBJECTIVES, SolverError
from riskshare.solver import conditions, lp
from riskshare.solver.infeasibility import diagnose


def _read(built: Built, st: Setup, objective: str, status: lp.SolveStatus, duals: bool):
    model = built.model
    received = received_of(built)
    per_pound = (1.0 if OBJECTIVES[objective].unit == "gbp" else 1.0 / lp.MONEY)
    binding, prices = [], []
    for name, row in model.rows.items():
        if not row.relaxable:
            continue
        slack = model.slack(name)
        if row.sense != "==" and slack > lp.FEASIBILITY_TOL * max(1.0, abs(row.rhs)):
            continue
        if row.family == "pool" and not duals:
            continue
        text = conditions.condition(row.family, row.member, row.shown)
        y = model.dual(name) * per_pound if duals else 0.0
        if model.maximise:
            y = -y
        if row.family != "pool" or abs(y) > 1e-12:
            binding.append(Binding(name, row.family, row.member, text))
        if duals and abs(y) > 1e-12:
            prices.append((abs(y), name, row, y * conditions.FAMILIES[row.family].direction))
    prices.sort(key=lambda p: -p[0])
    return received, tuple(binding), tuple(p[1:] for p in prices)


MAX_PRICES = 4          # shadow prices checked by re-solving (two solves each)


def _verified_prices(st: Setup, objective: str, candidates, optimum: float, solver: str):
    """Shadow prices that hold: for the conditions with the largest duals, re-solve with the
    condition relaxed by a small amount (the marginal rate per £) and by the quoted step (the
    effect in the sentence, exact for that step). A dual at a degenerate optimum can promise
    what relaxing does not deliver; only what the re-solves show is quoted."""
    step = step_for(st)
    prices = []
    for name, row, _dual in candidates[:MAX_PRICES]:
        family = conditions.FAMILIES[row.family]
        changes = []
        for amount in (step / 1000.0, step):
            value = _relaxed_value(st, objective, name, row, family.direction * amount, solver)
            if value is None:
                break
            changes.append(value - optimum)
        if len(changes) < 2 or abs(changes[1]) < 1e-9 * max(1.0, abs(optimum)):
            continue
        rate, effect = changes[0] / (step / 1000.0), changes[1]
        sentence = (f"{conditions.relax(row.family, row.member, step)} would "
                    f"{_effect_words(st, objective, effect)}.")
        prices.append(ShadowPrice(name, row.family, row.member, rate, step, effect, sentence))
    prices.sort(key=lambda p: -abs(p.effect))
    return tuple(prices)


def _relaxed_value(st: Setup, objective: str, name: str, row, delta: float, solver: str):
    """The optimum (£ or % as the objective's unit) with row `name`'s right-hand side moved by
    `delta` £; the pool moves the setup's total, so basis targets follow it."""
    if row.family == "pool":
        built = build(replace(st, total=st.total + delta), objective)
    else:
        built = build(st, objective, shift={name: delta})
    status = lp.solve(built.model, solver)
    return to_pound(objective, status_value(built.model)) if status.ok else None


def solve_setup(st: Setup, objective: str, solver: str = "highs",
                time_limit: float | None = None) -> Allocation:
    """Solve a prepared request (see `optimise`)."""
    obj = OBJECTIVES[objective]
    if objective == "max_support_earned" and not ((st.support_var > 0).any()
                                                   or depends_on_system(st)
                                                   or depends_on_rules(st)):
        raise_if_errors([problem(
            "needs support that depends on the transfers: the system has no support at stake "
            "on the organisation test after sharing (check the support column and the "
            "agreement's [support] section)", column="objective", value=objective)],
            "optimisation request")
    start = time.perf_counter()
    built = build(st, objective)
    status = lp.solve(built.model, solver, time_limit)
    if status.status in ("infeasible", "unbounded") or (
            status.status == "not_solved" and "nfeasib" in status.termination):
        # feasibility does not depend on the objective: diagnose without its whole-number
        # bookkeeping (the LP objective's rows are always satisfiable)
        raise diagnose(lambda: build(st, "minimax_shortfall", elastic=True).model, solver,
                       f"No allocation of the pool meets every condition for {st.system.label}")
    if status.status == "time_limit" and not _has_solution(built):
        raise SolverError(f"The solver stopped at its time limit without an allocation "
                          f"({status.termination}).", status)
    if status.status not in ("optimal", "time_limit"):
        raise SolverError(f"The solver could not optimise ({status.termination}).", status)
    optimum = status_value(built.model)
    received, binding, candidates = _read(built, st, objective, status, duals=not obj.mip)
    prices = ()
    note = ""
    fix = _binary_values(built) if built.binaries else None
    if obj.mip:
        note = ("Shadow prices are not quoted for whole-number objectives: the value of "
                "relaxing a condition is not a smooth rate there.")
        # polish: with the whole-number choices fixed, the continuous part solved exactly
        polish = build(st, objective, fix_binaries=fix)
        polish_status = lp.solve(polish.model, solver, time_limit)
        if polish_status.ok:
            optimum = status_value(polish.model)
            received = received_of(polish)
    else:
        prices = _verified_prices(st, objective, candidates, to_pound(objective, optimum),
                                  solver)
    # tie-break: among allocations this good, the one that moves the least money
    if objective not in ("min_total_transfer",):
        tol = 1e-9 * max(1.0, abs(optimum)) if obj.unit != "members" else 0.5
        near = (">=" if obj.maximise else "<=", optimum - tol if obj.maximise else optimum + tol)
        tie = build(st, objective, near=near, fix_binaries=fix, least_movement=True)
        tie_status = lp.solve(tie.model, solver, time_limit)
        if tie_status.ok:
            received = received_of(tie)
            _, binding, _ = _read(tie, st, objective, tie_status, duals=False)
            binding = _merge_binding(binding, prices, built.model.rows)
    seconds = time.perf_counter() - start
    return finish(st, objective, received, status, binding, prices, seconds, solver, note,
                  model_value=to_pound(objective, optimum))


def _merge_binding(binding, prices, rows):
    """The tie-break's binding conditions plus any the optimum's shadow prices name."""
    names = {b.constraint for b in binding}
    return binding + tuple(Binding(p.constraint, p.family, p.member,
                                   conditions.condition(p.family, p.member,
                                                        rows[p.constraint].shown))
                           for p in prices if p.constraint not in names)
