"""The solver layer: linear and mixed-integer models built with PuLP, solved by HiGHS or CBC.

`Model` wraps a `pulp.LpProblem` and remembers, for every constraint it adds, a `Row`: which
family of condition it belongs to ("max_charge", "floor", ...), the member it concerns, and
whether a user may relax it. That metadata is what turns duals into shadow-price sentences and
elastic relaxation into a list of conditions that conflict (see `infeasibility.py`).

`solve(model, solver)` never raises on a solver outcome: it returns a `SolveStatus` (status,
termination condition, solver, seconds), and values are read only when the status is
"optimal". Solvers: "highs" (HiGHS through highspy, the default) and "cbc" (the CBC binary PuLP
3.x ships). If highspy cannot be imported, "highs" falls back to CBC and says so.

Units: models are written in £ thousands (`MONEY`): with pounds, a shortfall of 1% of turnover
sits beside coefficients of £10m and HiGHS's dual tolerance (1e-7) hides the reduced costs, so
it can stop at a vertex that is not optimal. Builders divide every £ figure by `MONEY` and
multiply values read back; a row's `rhs` is in model units and `Row.shown` in £.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import pulp

from .errors import problem, raise_if_errors

SOLVERS = ("highs", "cbc")
MONEY = 1000.0                  # £ per model unit: models are written in £ thousands
FEASIBILITY_TOL = 1e-6          # model units (£0.001): slack below this counts as binding


@dataclass(frozen=True)
class Row:
    """What one constraint means. family: the condition's name ("max_charge", "floor", ...);
    member: the org_id it concerns (None: the whole system); relaxable: whether infeasibility
    diagnosis may relax it; sense: ">=", "<=" or "=="; rhs: its right-hand side (£); figure:
    the amount a user recognises in the condition (a charge cap of £4.2m is the row
    x ≥ −£4.2m), default the rhs; both in model units."""

    name: str
    family: str
    member: str | None
    sense: str
    rhs: float
    relaxable: bool = True
    figure: float | None = None

    @property
    def shown(self) -> float:
        """The figure in £."""
        return MONEY * (self.rhs if self.figure is None else self.figure)


@dataclass(frozen=True)
class SolveStatus:
    """How a solve ended. status: "optimal" | "infeasible" | "unbounded" | "time_limit" |
    "not_solved"; termination: the solver's own wording; solver: which solver ran; seconds:
    wall time of build-to-solution for this solve; mip_gap: relative gap for MILPs (0 when
    proven optimal)."""

    status: str
    termination: str
    solver: str
    seconds: float
    is_mip: bool = False
    mip_gap: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == "optimal"


@dataclass
class Model:
    """A PuLP problem plus the meaning of each constraint (`rows`, by constraint name)."""

    name: str
    maximise: bool = False
    rows: dict = field(default_factory=dict)
    elastic: dict = field(default_factory=dict)     # row name -> list of elastic variables

    def __post_init__(self):
        sense = pulp.LpMaximize if self.maximise else pulp.LpMinimize
        self.prob = pulp.LpProblem(self.name, sense)
        self.started = time.perf_counter()
        self.elastic_on = False

    def var(self, name: str, low=None, high=None, integer: bool = False) -> pulp.LpVariable:
        cat = pulp.LpBinary if integer and low == 0 and high == 1 else (
            pulp.LpInteger if integer else pulp.LpContinuous)
        return pulp.LpVariable(name, low, high, cat)

    def add(self, terms, sense: str, rhs: float, row: Row) -> None:
        """Add Σ coef·var (terms: list of (var, coef)) `sense` rhs, remembering `row`. With
        elastic relaxation on, a relaxable row also gets elastic variables (≥ 0) that let it give
        in the direction(s) that make it easier."""
        expr = pulp.LpAffineExpression(terms)
        if self.elastic_on and row.relaxable:
            give = []
            if sense in (">=", "=="):
                up = pulp.LpVariable(f"elastic_up_{row.name}", 0)
                expr = expr + up
                give.append((up, +1))
            if sense in ("<=", "=="):
                down = pulp.LpVariable(f"elastic_down_{row.name}", 0)
                expr = expr - down
                give.append((down, -1))
            self.elastic[row.name] = give
        op = {">=": pulp.LpConstraintGE, "<=": pulp.LpConstraintLE,
              "==": pulp.LpConstraintEQ}[sense]
        self.prob.addConstraint(pulp.LpConstraint(expr, op, rhs=float(rhs), name=row.name))
        self.rows[row.name] = row

    def set_objective(self, terms, constant: float = 0.0) -> None:
        self.prob.setObjective(pulp.LpAffineExpression(terms, constant=constant))

    @property
    def is_mip(self) -> bool:
        return any(v.cat != pulp.LpContinuous for v in self.prob.variables())

    def dual(self, name: str) -> float:
        """d(objective)/d(rhs) of row `name`, objective units per model unit (after an LP
        solve)."""
        pi = self.prob.constraints[name].pi
        return 0.0 if pi is None else float(pi)

    def slack(self, name: str) -> float:
        """How far row `name` is from binding, model units (≥ 0 when satisfied; 0 for
        equalities)."""
        c = self.prob.constraints[name]
        value = c.value()
        if c.sense == pulp.LpConstraintGE:
            return float(value)
        if c.sense == pulp.LpConstraintLE:
            return float(-value)
        return -abs(float(value))


def check_solver(solver: str) -> str:
    if solver not in SOLVERS:
        raise_if_errors([problem(f"unknown solver (valid: {', '.join(SOLVERS)})", value=solver,
                                 column="solver")])
    return solver


def _highs_available() -> bool:
    try:
        import highspy  # noqa: F401
    except ImportError:
        return False
    return True


def solve(model: Model, solver: str = "highs", time_limit: float | None = None,
          mip_gap: float = 1e-6) -> SolveStatus:
    """Solve `model` and return how it ended (never raises for infeasible/unbounded).

    Mixed-integer models with HiGHS are tried with tight tolerances first (big-M rows: a binary
    of 0.999999 must not let a £100m bound slip by £100); if HiGHS reports a solve error, with
    its default tolerances, and then with CBC, saying so in `termination`."""
    check_solver(solver)
    if solver == "highs" and not _highs_available():
        warnings.warn("highspy is not installed; solving with CBC instead", stacklevel=2)
        solver = "cbc"
    is_mip = model.is_mip
    attempts = [(solver, True)]
    if is_mip and solver == "highs":
        attempts += [("highs", False), ("cbc", False)]
    notes = []
    for name, tight in attempts:
        outcome = _solve_once(model, name, time_limit, mip_gap, is_mip, tight)
        if outcome.status != "not_solved":
            break
        notes.append(f"{name}: {outcome.termination}")
    if notes and outcome.status != "not_solved":
        outcome = SolveStatus(outcome.status, outcome.termination + " (after " +
                              "; ".join(notes) + ")", outcome.solver, outcome.seconds,
                              is_mip, outcome.mip_gap)
    return outcome


def _solve_once(model, solver, time_limit, mip_gap, is_mip, tight) -> SolveStatus:
    if solver == "highs":
        options = {"mip_feasibility_tolerance": 1e-9} if is_mip and tight else {}
        engine = pulp.HiGHS(msg=False, gapRel=mip_gap if is_mip else None,
                            timeLimit=time_limit, **options)
    else:
        engine = pulp.PULP_CBC_CMD(msg=False, gapRel=mip_gap if is_mip else None,
                                   timeLimit=time_limit)
    try:
        model.prob.solve(engine)
    except pulp.PulpSolverError as exc:           # a broken solver install, not user input
        return SolveStatus("not_solved", str(exc), solver,
                           time.perf_counter() - model.started, is_mip)
    status, termination, gap = _status(model.prob, solver, is_mip)
    return SolveStatus(status, termination, solver, time.perf_counter() - model.started,
                       is_mip, gap)


def _status(prob: pulp.LpProblem, solver: str, is_mip: bool):
    if solver == "highs":
        h = prob.solverModel
        raw = h.getModelStatus()
        text = h.modelStatusToString(raw)
        import highspy
        s = highspy.HighsModelStatus
        status = {s.kOptimal: "optimal", s.kInfeasible: "infeasible",
                  s.kUnboundedOrInfeasible: "infeasible", s.kUnbounded: "unbounded",
                  s.kTimeLimit: "time_limit", s.kIterationLimit: "time_limit",
                  s.kInterrupt: "time_limit"}.get(raw, "not_solved")
        gap = float(h.getInfo().mip_gap) if is_mip and status == "optimal" else None
        if status == "time_limit" and h.getInfo().primal_solution_status == 2:
            status = "time_limit"            # a feasible incumbent exists; caller decides
        return status, text, gap
    status = {pulp.LpStatusOptimal: "optimal", pulp.LpStatusInfeasible: "infeasible",
              pulp.LpStatusUnbounded: "unbounded"}.get(prob.status, "not_solved")
    if status == "optimal" and prob.sol_status == pulp.LpSolutionIntegerFeasible:
        status = "time_limit"
    return status, pulp.LpStatus[prob.status], 0.0 if is_mip and status == "optimal" else None
