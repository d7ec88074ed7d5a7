"""`rs.optimise`: allocations chosen by linear and mixed-integer programming.

The decision is how the pool is distributed: `received` per member (£, + receives, − is
charged), summing to the pool — the agreement's net pool after any reserve, or zero without an
agreement (a pure redistribution between members), or a `pool` the caller gives. Everything
else follows from it exactly as in `rs.apply` (the allocation is evaluated by `engine.run`):

    position  = retained + received (+ a reserve holder's charge)   outturn − control total, £
    final     = outturn + support earned

Objectives (OBJECTIVES): minimax_shortfall (the largest shortfall against control total as % of
the scale column, minimised; negative means every member is at least that far ahead),
min_total_transfer (Σ |net transfer|, £), closest_to_basis (Σ |position − basis share of the
system's position|, £), and two MILPs: max_meeting_control_total (members with outturn ≥ control
total) and max_support_earned (all the support `engine.run` pays, £: the organisation test the
transfers move, cliff edge or taper, plus the system-tied part, which the transfers cannot move,
and, with `unearned = "redistribute"`, everything at stake once one member earns all its own).
An allocation's `value` is the objective evaluated by the engine on the allocation in whole
pennies; `model_value` is the solver's optimum. Models are built in org_id order.

Constraints (`Constraints`, all optional): pool, max_charge / max_award (% of scale, or £ with
the `_gbp` keys; a number for all members or a mapping by org_id), no_worse_than_standalone,
min_retention (a member keeps at least this share of its favourable variance, so it pays out at
most (1 − share) × its favourable variance; a member with none pays nothing), floor / floor_gbp
(final − control total ≥ floor), fixed (£ received by named members), system_meets_control_total.
The agreement's own `[pool] max_charge / max_award` apply unless the constraints set them.

Solving: PuLP models, HiGHS (default) or CBC; the status is checked before any value is read.
Among equally good allocations riskshare picks the one that moves the least money (a second,
tie-breaking solve with the objective held at its optimum). Results come back in whole pennies,
summing to the pool exactly. Shadow prices (LP objectives only) are quoted in words for a
relaxation of a round step; `Allocation.alternatives` finds materially different allocations
within a slack of the optimum. An infeasible request raises `InfeasibleError` naming the
conditions in conflict and the smallest set that would have to give (see `infeasibility.py`).
"""

from __future__ import annotations

from riskshare.core.errors import problem, raise_if_errors
from riskshare.core.system import System
from riskshare.optimisation.model import build
from riskshare.optimisation.result import Allocation, Binding, ShadowPrice, finish, objective_value
from riskshare.optimisation.setup import Setup, setup
from riskshare.optimisation.solve import solve_setup
from riskshare.optimisation.spec import (
    NO_AGREEMENT,
    OBJECTIVES,
    Constraints,
    Objective,
    SolverError,
)

__all__ = ["optimise", "Allocation", "Binding", "ShadowPrice", "Constraints", "Objective",
           "OBJECTIVES", "NO_AGREEMENT", "SolverError", "Setup", "setup", "build", "finish",
           "objective_value", "solve_setup"]
from riskshare.solver import lp


def optimise(system: System, agreement=None, objective: str = "minimax_shortfall",
             constraints=None, solver: str = "highs", time_limit: float | None = None
             ) -> Allocation:
    """Choose how the pool is distributed by linear or mixed-integer programming.

    system: a System; agreement: None (no risk share: members keep their own variance and the
    transfers sum to zero), an Agreement, a preset name, a path or TOML text; objective: a key
    of OBJECTIVES; constraints: a `Constraints` or a dict of its keys; solver: "highs" | "cbc".
    Returns an `Allocation`. Raises ValidationError for bad parameters (every problem named),
    InfeasibleError when no allocation meets every condition, SolverError when the solver
    fails. The allocation is chosen at the forecast (the system's own variances).

    Parameters
    ----------
    system : System
        The members, their control totals, forecasts and support (£), and the SCT.
    agreement : Agreement, str or pathlib.Path, optional
        None: no risk share (members keep their own variance; the transfers sum to zero).
        Else an Agreement, a preset name, a .toml path or TOML text (see `load_agreement`):
        its schedules decide what is pooled, and the optimiser replaces its `[pool]` rule.
    objective : str, default "minimax_shortfall"
        A key of OBJECTIVES: "minimax_shortfall" (% of scale), "min_total_transfer" and
        "closest_to_basis" (£), "max_meeting_control_total" (members) or "max_support_earned"
        (£); the last two are mixed-integer programmes.
    constraints : Constraints or dict, optional
        Conditions on the allocation (see the module docstring): caps and floors in % of the
        agreement's scale, or £ with the `_gbp` keys; `pool` and `fixed` in £;
        `min_retention` a share. None: only the agreement's own caps.
    solver : {"highs", "cbc"}, default "highs"
        The solver.
    time_limit : float, optional
        Seconds each solve may take (the optimum, and its polish and tie-break); None: no
        limit. A solve stopped at the limit gives the best allocation found so far.

    Returns
    -------
    Allocation
        The transfers `received` per member (£, whole pennies, summing to the pool), the
        objective's `value` as `rs.apply` would pay it, the `outcome` and per-member `table`,
        the binding conditions and, for the LP objectives, shadow prices in words.

    Raises
    ------
    ValidationError
        When the objective, the solver, the agreement or a constraint is invalid (every
        problem named), or "max_support_earned" is asked of a system with no support the
        transfers can move.
    InfeasibleError
        When no allocation meets every condition: the message names the conditions in
        conflict and the smallest set that would have to give.
    SolverError
        When the solver stops without a usable answer (`.status` says how).
    InputFileError
        When the agreement cannot be read (see `load_agreement`).
    ArgumentTypeError
        When `system` is not a System.
    """
    problems = []
    if objective not in OBJECTIVES:
        problems.append(problem(f"unknown objective (valid: {', '.join(OBJECTIVES)})",
                                value=objective, column="objective"))
    if solver not in lp.SOLVERS:
        problems.append(problem(f"unknown solver (valid: {', '.join(lp.SOLVERS)})",
                                value=solver, column="solver"))
    raise_if_errors(problems, "optimisation request")
    st = setup(system, agreement, constraints)
    return solve_setup(st, objective, solver, time_limit)
