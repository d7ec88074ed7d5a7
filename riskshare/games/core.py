"""The core, the least core and the (pre)nucleolus, by linear programming over all coalitions.

The excess of coalition S at allocation x is e(S, x) = v(S) − x(S): how much better off S would
be on its own (positive = S would walk away). With x(N) = v(N):

- core: every proper coalition's excess ≤ 0;
- least core: the allocations minimising the largest excess ε (one LP; ε ≤ 0 means the core is
  non-empty). `least_core` returns ε and, of the least-core allocations, the one nearest the
  Shapley value (Euclidean; a QP), so relabelling players permutes the answer;
- nucleolus: the allocation that lexicographically minimises the sorted excesses, within the
  imputations (x_i ≥ v({i})); the prenucleolus does the same without that condition.

The nucleolus is a sequence of LPs (Maschler, Peleg & Shapley 1979), solved on one HiGHS model
that is modified and re-solved warm: after each stage the coalitions whose constraint has a
non-zero dual are tight at every optimum, so they are fixed at that excess; coalitions whose
indicator vectors lie in the span of the fixed ones have a settled excess and leave the LP. Each
stage fixes at least one new direction, so there are at most n − 1 stages; the answer is then read
exactly from the fixed equations by least squares, not from the solver's tolerance.

Numerics: the game is first normalised (v(S) − Σ_{i∈S} v({i}), divided by its largest absolute
value). Excesses and all solution concepts transform covariantly, so results are mapped back.
The coalition matrix goes to HiGHS as arrays: PuLP would spend longer building 65,534
constraint objects than HiGHS spends solving them (see README, "Fair shares").
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from riskshare.core.errors import RiskshareError, problem, raise_if_errors
from riskshare.games.game import EmptyImputationSetError, Game, bits
from riskshare.games.shapley import shapley

_DUAL_TOL = 1e-9
_SPAN_TOL = 1e-9


class GameSolveError(RiskshareError, RuntimeError):
    """HiGHS did not solve one of the game's LPs (it should not happen; the message says why)."""


# -- the LP over coalitions --------------------------------------------------------------------
@lru_cache(maxsize=4)
def _structure(n: int):
    """CSR arrays for rows x(S) + ε ≥ · (proper coalitions, masks 1 … 2ⁿ − 2) and x(N) = ·."""
    b = bits(n)[1:-1].astype(bool)
    cols = np.where(b, np.arange(n), -1)
    cols = np.concatenate([cols, np.full((len(b), 1), n)], axis=1)
    index = cols[cols >= 0].astype(np.int32)
    lengths = b.sum(axis=1) + 1
    start = np.r_[0, np.cumsum(lengths)]
    index = np.r_[index, np.arange(n)].astype(np.int32)
    start = np.r_[start, start[-1] + n].astype(np.int32)
    return start, index


def _normalise(g: Game):
    """(v0 by mask, singletons a, scale s) with v = s·v0 + a(S). Differences within floating
    point noise of v (`_tolerance`) are set to exactly 0, so they are not magnified."""
    v = g.values
    n = g.n
    a = v[1 << np.arange(n)]
    v0 = v - bits(n) @ a
    v0[np.abs(v0) <= _tolerance(g)] = 0.0
    s = float(np.abs(v0).max())
    s = s if s > 0 else 1.0
    return v0 / s, a, s


class _CoalitionLP:
    """min ε s.t. x(S) + ε ≥ v0(S) for proper S, x(N) = v0(N), x ≥ lower (HiGHS, warm)."""

    def __init__(self, n: int, v0: np.ndarray, lower: float | None):
        import highspy

        self.hs = highspy
        self.n = n
        self.rows = (1 << n) - 2
        inf = highspy.kHighsInf
        start, index = _structure(n)
        lp = highspy.HighsLp()
        lp.num_col_ = n + 1
        lp.num_row_ = self.rows + 1
        lp.col_cost_ = np.r_[np.zeros(n), 1.0]
        lo = -inf if lower is None else lower
        lp.col_lower_ = np.r_[np.full(n, lo), -inf]
        lp.col_upper_ = np.full(n + 1, inf)
        lp.row_lower_ = np.r_[v0[1:-1], v0[-1]]
        lp.row_upper_ = np.r_[np.full(self.rows, inf), v0[-1]]
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = start
        lp.a_matrix_.index_ = index
        lp.a_matrix_.value_ = np.ones(len(index))
        self.lp = lp
        from riskshare.solver.lp import quiet_highs

        h = quiet_highs()
        for key, value in (("presolve", "off"),
                           ("primal_feasibility_tolerance", 1e-10),
                           ("dual_feasibility_tolerance", 1e-10)):
            h.setOptionValue(key, value)
        h.passModel(lp)
        self.h = h

    def solve(self, what: str):
        self.h.run()
        status = self.h.getModelStatus()
        if status != self.hs.HighsModelStatus.kOptimal:
            raise GameSolveError(f"HiGHS could not solve the {what} LP: "
                                 f"{self.h.modelStatusToString(status)}")
        sol = self.h.getSolution()
        return (float(self.h.getInfo().objective_function_value),
                np.asarray(sol.col_value), np.asarray(sol.row_dual)[:self.rows],
                np.asarray(sol.col_dual)[:self.n])


def least_core(g: Game) -> tuple[pd.Series, float]:
    """(allocation, ε): ε is the smallest number such that some allocation x with x(N) = v(N)
    has x(S) ≥ v(S) − ε for every proper coalition S (ε ≤ 0: the core is non-empty, and ε is
    minus the margin every coalition gets); the allocation is the least-core point nearest the
    Shapley value (a HiGHS QP; when HiGHS reports a solve error, the same projection by
    least-distance programming; should both fail, the prenucleolus, which is in the least
    core). Same units as v.

    Parameters
    ----------
    g : Game
        The game; every coalition's value must be held (at most MAX_EXACT players).

    Returns
    -------
    tuple of (pandas.Series, float)
        The least-core allocation nearest the Shapley value (index the players, name
        "least_core"), and ε; both in the units of v. A one-player game gives (v(N), 0).

    Raises
    ------
    TooManyPlayersError
        When the game has more than MAX_EXACT players.
    GameSolveError
        When HiGHS cannot solve the least-core LP.
    """
    g.require_exact("the least core")
    if g.n == 1:
        return g.series([g.grand], "least_core"), 0.0
    v0, a, s = _normalise(g)
    model = _CoalitionLP(g.n, v0, None)
    eps0, _, _, _ = model.solve("least-core")
    target = (shapley(g).to_numpy() - a) / s
    x0 = None
    # HiGHS's QP first; when it reports a solve error (it can, depending on the players' order),
    # the same projection by least-distance programming, so the answer never depends on order
    for nearest in (lambda: _nearest(model, eps0, target),
                    lambda: _least_distance(v0, eps0, target, g.n)):
        x = nearest()
        x0 = None if x is None else _polish(x, target, v0, eps0, g.n)
        if x0 is not None:
            break
    if x0 is None:
        # HiGHS's QP can fail when the least core is (nearly) a single point: the
        # prenucleolus is then the answer (it is in the least core, and also canonical)
        return prenucleolus(g).rename("least_core"), s * eps0
    return g.series(s * x0 + a, "least_core"), s * eps0


def _nearest(model: _CoalitionLP, eps0: float, target: np.ndarray) -> np.ndarray | None:
    """The least-core point nearest `target`: min ½‖x − target‖² subject to x(S) ≥ v0(S) − ε
    (ε at its optimum) and x(N) = v0(N), as a fresh HiGHS QP over x alone (HiGHS's QP solver
    does not start from an LP basis). The rows are eased by 1e-9 so that a least core that is
    a single point is not lost to rounding. None if HiGHS fails."""
    hs, n = model.hs, model.n
    lp = model.lp
    rows = model.rows
    ease = 1e-9 * max(1.0, abs(eps0))
    start = np.asarray(lp.a_matrix_.start_)
    index = np.asarray(lp.a_matrix_.index_)
    keep = index != n                                   # drop the ε column from every row
    counts = np.diff(start) - np.r_[np.ones(rows, dtype=int), 0]
    qp_lp = hs.HighsLp()
    qp_lp.num_col_ = n
    qp_lp.num_row_ = rows + 1
    qp_lp.col_cost_ = -target
    qp_lp.col_lower_ = np.asarray(lp.col_lower_)[:n]
    qp_lp.col_upper_ = np.asarray(lp.col_upper_)[:n]
    lower = np.asarray(lp.row_lower_).copy()
    lower[:rows] -= eps0 + ease
    upper = np.asarray(lp.row_upper_).copy()
    qp_lp.row_lower_ = lower
    qp_lp.row_upper_ = upper
    qp_lp.a_matrix_.format_ = hs.MatrixFormat.kRowwise
    qp_lp.a_matrix_.start_ = np.r_[0, np.cumsum(counts)].astype(np.int32)
    qp_lp.a_matrix_.index_ = index[keep].astype(np.int32)
    qp_lp.a_matrix_.value_ = np.ones(int(keep.sum()))
    hess = hs.HighsHessian()
    hess.dim_ = n
    hess.format_ = hs.HessianFormat.kTriangular
    hess.start_ = np.arange(n + 1, dtype=np.int32)
    hess.index_ = np.arange(n, dtype=np.int32)
    hess.value_ = np.ones(n)
    qp = hs.HighsModel()
    qp.lp_ = qp_lp
    qp.hessian_ = hess
    from riskshare.solver.lp import quiet_highs

    h = quiet_highs()
    h.passModel(qp)
    h.run()
    if h.getModelStatus() != hs.HighsModelStatus.kOptimal:
        return None
    return np.asarray(h.getSolution().col_value)[:n]


def _least_distance(v0: np.ndarray, eps0: float, target: np.ndarray, n: int):
    """The least-core point nearest `target` by least-distance programming (Lawson and Hanson,
    "Solving Least Squares Problems", ch. 23): min ‖z‖ subject to G z ≥ h, with z = x − target,
    rows x(S) ≥ v0(S) − ε (eased as in `_nearest`) and x(N) = v0(N) as two rows, solved through
    one non-negative least-squares problem. None if it finds no point."""
    ease = 1e-9 * max(1.0, abs(eps0))
    incidence = bits(n)[1:-1].astype(float)
    g = np.vstack([incidence, np.ones(n), -np.ones(n)])
    b = np.r_[v0[1:-1] - eps0 - ease, v0[-1], -v0[-1]]
    h = b - g @ target
    e = np.vstack([g.T, h])                               # (n + 1) × rows
    f = np.r_[np.zeros(n), 1.0]
    u = _nnls(e, f)
    r = e @ u - f
    if abs(r[-1]) < 1e-12:                                # no feasible point
        return None
    return target - r[:n] / r[-1]


def _nnls(a: np.ndarray, b: np.ndarray, max_rounds: int = 500) -> np.ndarray:
    """The u ≥ 0 that minimises ‖a u − b‖ (Lawson–Hanson active set; a has few rows, many
    columns)."""
    m = a.shape[1]
    u = np.zeros(m)
    chosen = np.zeros(m, dtype=bool)
    tol = 1e-12 * max(1.0, float(np.abs(a).max()))
    for _ in range(max_rounds):
        w = a.T @ (b - a @ u)
        w[chosen] = -np.inf
        j = int(np.argmax(w))
        if w[j] <= tol:
            break
        chosen[j] = True
        while True:
            z = np.zeros(m)
            z[chosen] = np.linalg.lstsq(a[:, chosen], b, rcond=None)[0]
            if (z[chosen] > 0).all():
                u = z
                break
            blocked = chosen & (z <= 0)
            step = np.min(u[blocked] / (u[blocked] - z[blocked]))
            u = u + step * (z - u)
            chosen &= u > tol
            u[~chosen] = 0.0
    return u


def _polish(x0: np.ndarray, target: np.ndarray, v0: np.ndarray, eps0: float, n: int):
    """The QP's answer made exact: the projection of `target` onto the rows the QP found binding
    (x(S) = v0(S) − ε) and x(N) = v0(N), kept if it still satisfies every row; else None."""
    incidence = bits(n)[1:-1].astype(float)
    slack = incidence @ x0 - (v0[1:-1] - eps0)
    active = slack < 1e-7
    a = np.vstack([incidence[active], np.ones(n)])
    b = np.r_[v0[1:-1][active] - eps0, v0[-1]]
    x = target + np.linalg.pinv(a) @ (b - a @ target)
    tol = 1e-9 * max(1.0, abs(eps0))
    ok = (v0[1:-1] - incidence @ x).max() <= eps0 + tol and abs(x.sum() - v0[-1]) <= 1e-12 * n
    return x if ok else None


def nucleolus(g: Game) -> pd.Series:
    """The nucleolus (within imputations: x_i ≥ v({i}), x(N) = v(N)). Raises
    EmptyImputationSetError when Σ v({i}) > v(N).

    The allocation that lexicographically minimises the sorted excesses v(S) − x(S): the
    coalitions with most to gain from leaving are treated as well as possible, then the next.

    Parameters
    ----------
    g : Game
        The game; every coalition's value must be held (at most MAX_EXACT players).

    Returns
    -------
    pandas.Series
        Each player's share (index the players, name "nucleolus"), in the units of v; the
        shares add up to v(N).

    Raises
    ------
    EmptyImputationSetError
        When the players on their own secure more than v(N) in total (use `prenucleolus`).
    TooManyPlayersError
        When the game has more than MAX_EXACT players.
    GameSolveError
        When HiGHS cannot solve one of the LPs.
    """
    return _lexicographic(g, within_imputations=True)


def prenucleolus(g: Game) -> pd.Series:
    """The prenucleolus (over all x with x(N) = v(N)); it always exists.

    As `nucleolus`, without the condition that each player gets at least v({i}).

    Parameters
    ----------
    g : Game
        The game; every coalition's value must be held (at most MAX_EXACT players).

    Returns
    -------
    pandas.Series
        Each player's share (index the players, name "prenucleolus"), in the units of v; the
        shares add up to v(N).

    Raises
    ------
    TooManyPlayersError
        When the game has more than MAX_EXACT players.
    GameSolveError
        When HiGHS cannot solve one of the LPs.
    """
    return _lexicographic(g, within_imputations=False)


def _lexicographic(g: Game, within_imputations: bool) -> pd.Series:
    name = "nucleolus" if within_imputations else "prenucleolus"
    g.require_exact(f"the {name}")
    n = g.n
    v0, a, s = _normalise(g)
    if within_imputations and v0[-1] < 0:
        total = float(a.sum())
        raise EmptyImputationSetError(
            f"the imputation set is empty: the players on their own secure {total:,.6g} in "
            f"total, more than v(N) = {g.grand:,.6g}, so no allocation gives every player at "
            f"least its own value and the nucleolus does not exist (the prenucleolus does)")
    if n == 1:
        return g.series([g.grand], name)
    model = _CoalitionLP(n, v0, 0.0 if within_imputations else None)
    incidence = bits(n)[1:-1].astype(float)
    free = np.ones(model.rows, dtype=bool)
    equations = [np.ones(n)]                 # x(N) = v0(N)
    rhs = [v0[-1]]
    settled_cols = np.zeros(n, dtype=bool)
    inf = model.hs.kHighsInf
    basis = _orthonormal(np.array(equations))
    for _ in range(n + 1):
        eps, _, row_dual, col_dual = model.solve(name)
        fix = free & (np.abs(row_dual) > _DUAL_TOL)
        if not fix.any():                    # the duals of the free rows sum to 1
            raise GameSolveError(f"the {name} LP returned no binding coalition")
        for r in np.flatnonzero(fix):
            model.h.changeCoeff(int(r), n, 0.0)
        rows = np.flatnonzero(fix).astype(np.int32)
        level = v0[1:-1][fix] - eps
        model.h.changeRowsBounds(len(rows), rows, level, level)
        equations += list(incidence[fix])
        rhs += list(level)
        free &= ~fix
        if within_imputations:               # x_i ≥ v({i}) binding at every optimum
            pinned = ~settled_cols & (np.abs(col_dual) > _DUAL_TOL)
            for i in np.flatnonzero(pinned):
                model.h.changeColBounds(int(i), 0.0, 0.0)
                equations.append(np.eye(n)[i])
                rhs.append(0.0)
            settled_cols |= pinned
        basis = _orthonormal(np.array(equations))
        if basis.shape[1] == n:
            break
        residual = incidence[free] - (incidence[free] @ basis) @ basis.T
        settled = np.flatnonzero(free)[np.abs(residual).max(axis=1) < _SPAN_TOL]
        if len(settled):                     # their excess is now determined: drop them
            free[settled] = False
            rows = settled.astype(np.int32)
            model.h.changeRowsBounds(len(rows), rows, np.full(len(rows), -inf),
                                     np.full(len(rows), inf))
    else:
        raise GameSolveError(f"the {name} did not settle within {n + 1} stages")
    x0, *_ = np.linalg.lstsq(np.array(equations), np.array(rhs), rcond=None)
    return g.series(s * x0 + a, name)


def _orthonormal(rows: np.ndarray) -> np.ndarray:
    """Orthonormal basis (n, r) of the span of `rows`."""
    u, sv, vt = np.linalg.svd(rows, full_matrices=False)
    rank = int((sv > 1e-9 * max(1.0, sv.max())).sum())
    return vt[:rank].T


# -- checking an allocation --------------------------------------------------------------------
def excesses(g: Game, x) -> pd.Series:
    """e(S, x) = v(S) − x(S) for every non-empty coalition, indexed by mask.

    Parameters
    ----------
    g : Game
        The game; every coalition's value must be held (at most MAX_EXACT players).
    x : pandas.Series or array-like
        An allocation: a Series indexed by the players (any order), or values in player order,
        in the units of v.

    Returns
    -------
    pandas.Series
        The excess of each coalition (index "mask" 1 to 2ⁿ − 1, bit i the player in position
        i; name "excess"): positive means the coalition would be better off on its own.

    Raises
    ------
    ValidationError
        When `x` does not give one finite value per player.
    TooManyPlayersError
        When the game has more than MAX_EXACT players.
    """
    g.require_exact("the excess of every coalition")
    arr = g.allocation(x)
    totals = bits(g.n)[1:] @ arr
    return pd.Series(g.values[1:] - totals, index=pd.RangeIndex(1, 1 << g.n, name="mask"),
                     name="excess")


def core_violations(g: Game, x, tol: float | None = None) -> pd.DataFrame:
    """The coalitions that would be better off on their own than with allocation `x` (a Series
    indexed by player, or values in player order): one row each, largest shortfall first, with
    columns coalition (label), players (tuple), size, value v(S), allocation x(S) and shortfall
    v(S) − x(S) > tol. The grand coalition appears when x hands out less than v(N); handing out
    more than v(N) is not an allocation and raises ValidationError. tol defaults to
    1e-9·max(1, max|v|).

    Parameters
    ----------
    g : Game
        The game; every coalition's value must be held (at most MAX_EXACT players).
    x : pandas.Series or array-like
        The allocation, in the units of v: a Series indexed by the players, or values in player
        order.
    tol : float, optional
        The shortfall a coalition must exceed to count, in the units of v (the certificate
        uses half a penny). None: 1e-9·max(1, max|v|).

    Returns
    -------
    pandas.DataFrame
        One row per coalition better off on its own, largest shortfall first (ties by mask):
        coalition, players, size, value, allocation, shortfall. Empty when x is in the core.

    Raises
    ------
    ValidationError
        When `x` does not give one finite value per player, or hands out more than v(N).
    TooManyPlayersError
        When the game has more than MAX_EXACT players.
    """
    g.require_exact("checking every coalition")
    arr = g.allocation(x)
    tol = _tolerance(g) if tol is None else float(tol)
    overspend = arr.sum() - g.grand
    if overspend > tol:
        raise_if_errors([problem(f"hands out {arr.sum():,.6g}, more than v(N) = "
                                 f"{g.grand:,.6g}", column="allocation")], "core check")
    masks = np.arange(1, 1 << g.n)
    return violation_table(g, masks, g.values[1:], bits(g.n)[1:] @ arr, tol)


def violation_table(g: Game, masks, value, allocated, tol: float) -> pd.DataFrame:
    """Rows for the coalitions `masks` whose value exceeds what they are allocated by > tol."""
    masks = np.asarray(masks, dtype=np.int64)
    short = np.asarray(value) - np.asarray(allocated)
    keep = np.flatnonzero(short > tol)
    keep = keep[np.lexsort((masks[keep], -short[keep]))]
    table = pd.DataFrame({
        "coalition": [g.coalition_label(m) for m in masks[keep]],
        "players": [g.coalition_players(m) for m in masks[keep]],
        "size": [int(m).bit_count() for m in masks[keep]],
        "value": np.asarray(value)[keep],
        "allocation": np.asarray(allocated)[keep],
        "shortfall": short[keep],
    })
    return table


def is_in_core(g: Game, x, tol: float | None = None) -> bool:
    """Whether x is in the core: x(N) = v(N) and no coalition is better off alone (within
    tol).

    Parameters
    ----------
    g : Game
        The game; every coalition's value must be held (at most MAX_EXACT players).
    x : pandas.Series or array-like
        The allocation, in the units of v: a Series indexed by the players, or values in player
        order.
    tol : float, optional
        The tolerance, in the units of v. None: 1e-9·max(1, max|v|).

    Returns
    -------
    bool
        True when x hands out v(N) and no coalition's value exceeds what x gives it by more
        than `tol`.

    Raises
    ------
    ValidationError
        When `x` does not give one finite value per player.
    TooManyPlayersError
        When the game has more than MAX_EXACT players.
    """
    arr = g.allocation(x)
    tol = _tolerance(g) if tol is None else float(tol)
    return abs(arr.sum() - g.grand) <= tol and core_violations(g, arr, tol).empty


def _tolerance(g: Game) -> float:
    return 1e-9 * max(1.0, float(np.abs(g.values).max()))
