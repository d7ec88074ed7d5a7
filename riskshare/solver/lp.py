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
from typing import TYPE_CHECKING

import numpy as np

from riskshare.core.constants import Status, StatusName
from riskshare.core.errors import problem, raise_if_errors
from riskshare.core.lazy import lazy_module

if TYPE_CHECKING:     # for annotations (pulp is untyped: its names are Any to mypy)
    import pulp
else:
    pulp = lazy_module("pulp")   # the solver library loads at the first model built

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

    status: Status | StatusName
    termination: str
    solver: str
    seconds: float
    is_mip: bool = False
    mip_gap: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == "optimal"

    @property
    def words(self) -> str:
        """How the solve ended, for a sentence ("proven optimal")."""
        words: dict[str, str] = {
            Status.OPTIMAL: "proven optimal",
            Status.TIME_LIMIT: "stopped at the time limit: the best allocation found, which may "
                               "not be optimal"}
        return words.get(self.status, str(self.status))


def merged(terms) -> list:
    """Terms (var, coef) with each variable once, its coefficients summed, in first-seen order:
    a variable may come from several members (the system test's share is in each member's
    support), and a PuLP expression or a passModel row would keep only one of them."""
    out: dict = {}
    for var, coef in terms:
        key = id(var)
        if key in out:
            out[key] = (var, out[key][1] + coef)
        else:
            out[key] = (var, coef)
    return list(out.values())


@dataclass
class Model:
    """A PuLP problem plus the meaning of each constraint (`rows`, by constraint name)."""

    name: str
    maximise: bool = False
    rows: dict = field(default_factory=dict)
    elastic: dict = field(default_factory=dict)     # row name -> list of elastic variables

    def __post_init__(self) -> None:
        sense = pulp.LpMaximize if self.maximise else pulp.LpMinimize
        self.prob = pulp.LpProblem(self.name, sense)
        self.started = time.perf_counter()
        self.elastic_on = False
        self.columns: list = []          # variables in creation order (column index)
        self.bounds: dict = {}           # row name -> (variable, sense, value) kept as a bound
        self.constraints: dict = {}      # row name -> its pulp.LpConstraint, in row order
        self.shift: dict = {}            # row name -> move of its right-hand side (model units)
        self.contradictory = False       # two bounds on one variable that cannot both hold
        self.big = 1e9                   # bound on elastic variables (builders set it)
        self.matrix: list = []           # per row: (column indices, coefficients, low, high)
        self.objective_terms: list = []

    def var(self, name: str, low=None, high=None, integer: bool = False) -> pulp.LpVariable:
        cat = pulp.LpBinary if integer and low == 0 and high == 1 else (
            pulp.LpInteger if integer else pulp.LpContinuous)
        v = self.prob.add_variable(name, low, high, cat)   # PuLP 4's way; no deprecation
        v.column = len(self.columns)
        self.columns.append(v)
        return v

    def add(self, terms, sense: str, rhs: float, row: Row) -> None:
        """Add Σ coef·var (terms: list of (var, coef)) `sense` rhs, remembering `row`. With
        elastic relaxation on, a relaxable row also gets elastic variables (≥ 0) that let it give
        in the direction(s) that make it easier."""
        terms = merged(terms)
        if self.elastic_on and row.relaxable:
            give = []
            if sense in (">=", "=="):
                up = self.var(f"elastic_up_{row.name}", 0)
                terms.append((up, 1.0))
                give.append((up, +1))
            if sense in ("<=", "=="):
                down = self.var(f"elastic_down_{row.name}", 0)
                terms.append((down, -1.0))
                give.append((down, -1))
            self.elastic[row.name] = give
        op = {">=": pulp.LpConstraintGE, "<=": pulp.LpConstraintLE,
              "==": pulp.LpConstraintEQ}[sense]
        rhs = float(rhs) + self.shift.get(row.name, 0.0)
        constraint = pulp.LpConstraint(pulp.LpAffineExpression(terms), op, rhs=rhs,
                                       name=row.name)
        self.prob.addConstraint(constraint)
        self.constraints[row.name] = constraint
        self.matrix.append(([v.column for v, _ in terms], [float(c) for _, c in terms],
                            rhs if sense != "<=" else -np.inf, rhs if sense != ">=" else np.inf))
        self.rows[row.name] = row

    def bound(self, var: pulp.LpVariable, sense: str, value: float, row: Row) -> None:
        """A condition on a single variable, kept as its bound rather than a row (the tightest
        of several wins; each keeps its own Row, and the binding one's shadow price is the
        variable's reduced cost). With elastic relaxation on it becomes a row, so it can give."""
        if self.elastic_on:
            return self.add([(var, 1.0)], sense, value, row)
        value = float(value) + self.shift.get(row.name, 0.0)
        if sense in (">=", "=="):
            var.lowBound = value if var.lowBound is None else max(var.lowBound, value)
        if sense in ("<=", "=="):
            var.upBound = value if var.upBound is None else min(var.upBound, value)
        if var.lowBound is not None and var.upBound is not None and var.lowBound > var.upBound:
            if var.lowBound - var.upBound <= 1e-9 * max(1.0, abs(var.lowBound)):
                var.upBound = var.lowBound   # equal but for rounding (a fixed amount at a cap)
            else:
                self.contradictory = True    # e.g. a fixed transfer above its own cap
        self.rows[row.name] = row
        self.bounds[row.name] = (var, sense, value)

    def set_objective(self, terms, constant: float = 0.0) -> None:
        self.objective_terms = merged(terms)
        self.prob.setObjective(pulp.LpAffineExpression(self.objective_terms, constant=constant))

    @property
    def is_mip(self) -> bool:
        return any(v.cat != pulp.LpContinuous for v in self.columns)

    def dual(self, name: str) -> float:
        """d(objective)/d(rhs) of row `name`, objective units per model unit (after an LP
        solve)."""
        if name in self.bounds:
            var, sense, value = self.bounds[name]
            if abs(self._bound_gap(name)) > FEASIBILITY_TOL * max(1.0, abs(value)):
                return 0.0                      # a looser bound than the one that binds
            return float(var.dj or 0.0)
        pi = self.constraints[name].pi
        return 0.0 if pi is None else float(pi)

    def slack(self, name: str) -> float:
        """How far row `name` is from binding, model units (≥ 0 when satisfied; 0 for
        equalities)."""
        if name in self.bounds:
            return self._bound_gap(name)
        c = self.constraints[name]
        value = c.value()
        if c.sense == pulp.LpConstraintGE:
            return float(value)
        if c.sense == pulp.LpConstraintLE:
            return float(-value)
        return -abs(float(value))


    def _bound_gap(self, name: str) -> float:
        var, sense, value = self.bounds[name]
        x = float(var.value() or 0.0)
        return x - value if sense == ">=" else value - x if sense == "<=" else -abs(x - value)


def check_solver(solver: str) -> str:
    """`solver` if it is one of SOLVERS ("highs", "cbc"), else ValidationError naming them."""
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
    if model.contradictory:          # some solvers reject crossed bounds as a malformed model
        return SolveStatus("infeasible", "contradictory bounds on one variable", solver,
                           time.perf_counter() - model.started, is_mip)
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
    """One attempt: HiGHS through `_solve_highs`, or CBC through PuLP's own interface."""
    try:
        if solver == "highs":
            options = {"mip_feasibility_tolerance": 1e-9} if is_mip and tight else {}
            if time_limit is not None:
                options["time_limit"] = float(time_limit)
            if is_mip:
                options["mip_rel_gap"] = mip_gap
            _solve_highs(model, options)
        else:
            model.prob.solve(pulp.PULP_CBC_CMD(msg=False, gapRel=mip_gap if is_mip else None,
                                               timeLimit=time_limit,
                                               _skip_v4_deprecation=True))
    except Exception as exc:       # noqa: BLE001 — a solver failure is reported, not raised
        return SolveStatus("not_solved", f"{type(exc).__name__}: {exc}", solver,
                           time.perf_counter() - model.started, is_mip)
    status, termination, gap = _status(model.prob, solver, is_mip)
    return SolveStatus(status, termination, solver, time.perf_counter() - model.started,
                       is_mip, gap)


_BANNER_SHOWN = False


def quiet_highs():
    """A new `highspy.Highs` with its output off. HiGHS prints its banner ("Running HiGHS …")
    on standard output when the first instance in a process is made, before any option can be
    set; that construction runs with the process's standard output (file descriptor 1) pointed
    at the null device, so the CLI's output stays riskshare's own."""
    import os
    import sys

    import highspy

    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        h = highspy.Highs()
    else:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 1)
                h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _BANNER_SHOWN = True
    h.setOptionValue("output_flag", False)
    return h


def _solve_highs(model: Model, options: dict) -> None:
    """Pass the PuLP model to HiGHS as arrays (the model's own record of its rows, the same
    rows as its PuLP constraints) and write values, duals and slacks back onto the PuLP
    variables and constraints, as PuLP's own HiGHS interface does — without its row-by-row
    calls, which cost several times the solve on models of a thousand members."""
    import highspy

    columns = model.columns
    n = len(columns)
    inf = highspy.kHighsInf
    sign = -1.0 if model.maximise else 1.0            # PuLP's convention: minimise −objective
    cost = np.zeros(n)
    for v, c in model.objective_terms:
        cost[v.column] += sign * c
    low = np.array([-inf if v.lowBound is None else v.lowBound for v in columns], dtype=float)
    high = np.array([inf if v.upBound is None else v.upBound for v in columns], dtype=float)
    lengths = np.fromiter((len(r[0]) for r in model.matrix), dtype=np.int64,
                          count=len(model.matrix))
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = len(model.matrix)
    lp.col_cost_ = cost
    lp.col_lower_ = low
    lp.col_upper_ = high
    lp.row_lower_ = np.array([r[2] for r in model.matrix], dtype=float).clip(-inf, inf)
    lp.row_upper_ = np.array([r[3] for r in model.matrix], dtype=float).clip(-inf, inf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.r_[0, np.cumsum(lengths)].astype(np.int32)
    lp.a_matrix_.index_ = np.fromiter((i for r in model.matrix for i in r[0]), dtype=np.int32,
                                      count=int(lengths.sum()))
    lp.a_matrix_.value_ = np.fromiter((c for r in model.matrix for c in r[1]), dtype=float,
                                      count=int(lengths.sum()))
    integer = [v.column for v in columns if v.cat != pulp.LpContinuous]
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger if v.cat != pulp.LpContinuous
                           else highspy.HighsVarType.kContinuous for v in columns]
    h = quiet_highs()
    for key, value in options.items():
        h.setOptionValue(key, value)
    h.passModel(lp)
    h.run()
    model.prob.solverModel = h
    solution = h.getSolution()
    values = list(solution.col_value)
    if len(values) == n:
        for v, x in zip(columns, values, strict=True):
            v.varValue = x
    for v, d in zip(columns, list(solution.col_dual), strict=False):  # none if HiGHS has no duals
        v.dj = d
    duals = list(solution.row_dual)
    if len(duals) == len(model.matrix):
        for c, d in zip(model.constraints.values(), duals, strict=True):
            c.pi = d


def _status(prob: pulp.LpProblem, solver: str, is_mip: bool):
    if solver == "highs":
        h = prob.solverModel
        raw = h.getModelStatus()
        text = h.modelStatusToString(raw)
        import highspy
        s = highspy.HighsModelStatus
        status = {s.kOptimal: Status.OPTIMAL, s.kInfeasible: Status.INFEASIBLE,
                  s.kUnboundedOrInfeasible: Status.INFEASIBLE, s.kUnbounded: Status.UNBOUNDED,
                  s.kTimeLimit: Status.TIME_LIMIT, s.kIterationLimit: Status.TIME_LIMIT,
                  s.kInterrupt: Status.TIME_LIMIT}.get(raw, Status.NOT_SOLVED)
        gap = float(h.getInfo().mip_gap) if is_mip and status == "optimal" else None
        return status, text, gap
    status = {pulp.LpStatusOptimal: Status.OPTIMAL, pulp.LpStatusInfeasible: Status.INFEASIBLE,
              pulp.LpStatusUnbounded: Status.UNBOUNDED}.get(prob.status, Status.NOT_SOLVED)
    if status == "optimal" and prob.sol_status == pulp.LpSolutionIntegerFeasible:
        status = Status.TIME_LIMIT
    return status, pulp.LpStatus[prob.status], 0.0 if is_mip and status == "optimal" else None
