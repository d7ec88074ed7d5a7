"""Bankruptcy (claims) rules: dividing an estate among claimants whose claims exceed it.

A claims problem is an estate E ≥ 0 (pounds) and claims c_1, …, c_n ≥ 0 (pounds) with E ≤ Σc.
A rule gives each claimant an award a_i with 0 ≤ a_i ≤ c_i and Σa = E. In riskshare the estate is
a positive net pool and the claims are the shortfalls of members still short of their control
total (`distribute = "claims"` in an agreement, docs/agreements.md), but the rules are general.

The rules
---------
- ``proportional``: a_i = E·c_i/Σc.
- ``constrained_equal_awards`` (CEA): a_i = min(c_i, λ), everyone gets the same amount λ unless
  that is more than their claim.
- ``constrained_equal_losses`` (CEL): a_i = max(0, c_i − μ), everyone loses the same amount μ
  unless that is more than their claim.
- ``talmud`` (Aumann & Maschler 1985): if E ≤ Σc/2, CEA on the half-claims c/2; otherwise each
  gets half its claim plus CEL of the rest, E − Σc/2, on the half-claims.
- ``random_arrival`` (O'Neill 1982): claimants arrive in a random order (all n! orders equally
  likely) and each takes min(c_i, what is left); the award is the average over orders.

Identities (useful tests, docs/games.md): in the bankruptcy game v(S) = max(0, E − Σ_{j∉S} c_j),
the Talmud rule is the nucleolus (Aumann & Maschler 1985) and the random-arrival rule is the
Shapley value (O'Neill 1982).

Conventions
-----------
- Money is in pounds (float); claims and estate are amounts ≥ 0.
- **Surplus is not awarded.** When E > Σc, every rule awards the full claims and the surplus
  E − Σc stays with the caller (it is not spread over the claimants). So every rule returns awards
  summing to min(E, Σc), to floating-point precision (within about 1e-12·max(1, E); the tests
  check 1e-9·max(1, E)).
- **Scenarios.** ``estate`` is a number or a 1-D array of shape (S,), one estate per scenario;
  ``claims`` is a 1-D array (n,) or a 2-D array (S, n), one row per scenario. A number estate is
  used for every row, a 1-D claims for every estate. The result has shape (n,) when the estate is
  a number and the claims are 1-D, and (S, n) otherwise. Proportional, CEA, CEL and Talmud are
  vectorised over scenarios (sort each row, cumulative sums); random arrival works through the
  scenarios in chunks.
- Invalid input (a negative or non-finite estate, negative or non-finite claims, mismatched
  shapes, an unknown rule name) raises ``riskshare.errors.ValidationError`` listing every problem.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np

from riskshare.core.coalitions import shapley_by_mask
from riskshare.core.errors import Problem, problem, raise_if_errors

__all__ = [
    "proportional", "constrained_equal_awards", "constrained_equal_losses", "talmud",
    "random_arrival", "RULES", "apply_rule", "MAX_EXACT",
]

#: Largest `exact_max` random_arrival accepts: exact enumeration keeps arrays of 2^n floats.
MAX_EXACT = 22

#: At most this many offending entries are listed per argument (then "and k more").
_MAX_LISTED = 10

#: Roughly how many floats random_arrival's exact path holds at once (scenarios × 2^n).
_CHUNK_FLOATS = 1 << 20


# -- validation and shapes --------------------------------------------------------------------
def _as_float_array(x, name: str, problems: list[Problem]) -> np.ndarray | None:
    """`x` as floats, or None with a problem: text and True/False are not pounds, even where
    numpy would read them as numbers ("100" as 100, True as 1)."""
    numeric = isinstance(x, np.ndarray) and x.dtype.kind in "iuf"     # the engine's arrays
    if not numeric and any(isinstance(v, (str, bytes, bool, np.bool_))
                           for v in np.asarray(x, dtype=object).reshape(-1)):
        problems.append(problem("must be a number or a rectangular array of numbers (pounds), "
                                "not text or True/False", column=name,
                                value=x if np.isscalar(x) else type(x).__name__))
        return None
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        problems.append(problem("must be a number or a rectangular array of numbers (pounds)",
                                column=name, value=x if np.isscalar(x) else type(x).__name__))
        return None
    return arr


def _check_values(arr: np.ndarray, name: str, problems: list[Problem]) -> None:
    """One problem per negative or non-finite entry (at most _MAX_LISTED), naming its position."""
    bad = ~(np.isfinite(arr) & (arr >= 0))
    if not bad.any():
        return
    positions = np.argwhere(bad)
    for pos in positions[:_MAX_LISTED]:
        where = name if arr.ndim == 0 else f"{name}[{', '.join(str(int(p)) for p in pos)}]"
        value = float(arr[tuple(pos)])
        why = "is not a number" if np.isnan(value) else (
            "is not finite" if not np.isfinite(value) else "is negative")
        problems.append(problem(f"{why}: {name} must be a finite number ≥ 0 (pounds)",
                                column=where, value=value))
    if len(positions) > _MAX_LISTED:
        problems.append(problem(f"and {len(positions) - _MAX_LISTED} more entries are negative or "
                                f"not finite", column=name))


def _is_whole(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _prepare(estate, claims, rule: str,
             problems: list[Problem] | None = None) -> tuple[np.ndarray, np.ndarray, bool]:
    """Validate (adding to `problems`, e.g. a rule's own options) and raise once if anything is
    wrong; return estate (S,), claims (S, n) and whether the caller wants shape (n,)."""
    problems = list(problems or [])
    e = _as_float_array(estate, "estate", problems)
    c = _as_float_array(claims, "claims", problems)
    if e is not None:
        if e.ndim > 1:
            problems.append(problem(f"must be a number or a 1-D array with one estate per "
                                    f"scenario, not an array of shape {e.shape}", column="estate"))
        else:
            _check_values(e, "estate", problems)
    if c is not None:
        if c.ndim not in (1, 2):
            problems.append(problem(f"must be a 1-D array (one claim per claimant) or a 2-D array "
                                    f"(scenarios × claimants), not an array of shape {c.shape}",
                                    column="claims"))
        else:
            _check_values(c, "claims", problems)
    if (e is not None and c is not None and e.ndim == 1 and c.ndim == 2
            and e.shape[0] != c.shape[0]):
        problems.append(problem(f"has {e.shape[0]} scenarios but claims has {c.shape[0]} rows "
                                f"(shape {c.shape}); they must match", column="estate"))
    raise_if_errors(problems, f"{rule}(estate, claims)")
    # _as_float_array gives None only after recording an error, so the line above raised
    assert e is not None and c is not None
    single = e.ndim == 0 and c.ndim == 1
    rows = c.shape[0] if c.ndim == 2 else (1 if e.ndim == 0 else e.shape[0])
    e2 = np.broadcast_to(e.reshape(-1) if e.ndim else e, (rows,)).astype(float)
    c2 = np.broadcast_to(c, (rows, c.shape[-1])).astype(float)
    return e2, c2, single


def _finish(awards: np.ndarray, estate: np.ndarray, claims: np.ndarray, single: bool) -> np.ndarray:
    """Full claims where E ≥ Σc (exactly), clip to [0, c], and restore the caller's shape."""
    full = estate >= claims.sum(axis=1)
    awards = np.where(full[:, None], claims, np.clip(awards, 0.0, claims))
    return awards[0] if single else awards


# -- the rules on validated (S,) estates and (S, n) claims -------------------------------------
def _proportional(e: np.ndarray, c: np.ndarray) -> np.ndarray:
    total = c.sum(axis=1)
    t = np.minimum(e, total)
    factor = np.divide(t, total, out=np.zeros_like(t), where=total > 0)
    return c * factor[:, None]


def _cea(e: np.ndarray, c: np.ndarray) -> np.ndarray:
    """min(c_i, λ) with Σ = min(E, Σc), per row.

    With the row sorted ascending, s_0 ≤ … ≤ s_{n−1}, f_k = Σ_j min(s_j, s_k) is non-decreasing;
    k* is the first k with f_k ≥ E, and λ = (E − Σ_{j<k*} s_j)/(n − k*). Every quantity is at most
    E, so rounding errors are relative to E, not to Σc.
    """
    s_rows, n = c.shape
    if n == 0:
        return np.zeros_like(c)
    s = np.sort(c, axis=1)
    # f_0 = n·s_0, f_k = f_{k−1} + (n − k)(s_k − s_{k−1}): a cumulative sum of terms ≥ 0, so it
    # is non-decreasing in floating point too, and equal claims give equal f.
    steps = np.concatenate([n * s[:, :1], (n - np.arange(1, n)) * np.diff(s, axis=1)], axis=1)
    f = np.cumsum(steps, axis=1)
    t = np.minimum(e, c.sum(axis=1))
    k = np.minimum(np.sum(f < t[:, None], axis=1), n - 1)
    below = np.concatenate([np.zeros((s_rows, 1)), np.cumsum(s, axis=1)], axis=1)
    lam = (t - below[np.arange(s_rows), k]) / (n - k)
    return np.minimum(c, np.maximum(lam, 0.0)[:, None])


def _cel(e: np.ndarray, c: np.ndarray) -> np.ndarray:
    """max(0, c_i − μ) with Σ = min(E, Σc), per row.

    With the row sorted descending, d_0 ≥ … ≥ d_{n−1}, g_k = Σ_{j<k} (d_j − d_k) is
    non-decreasing; the m claimants with g_k < E get something. Writing μ = d_{m−1} − δ, each of
    them gets (c_i − d_{m−1}) + δ with δ = (E − Σ_{j<m} (d_j − d_{m−1}))/m. Every quantity is at
    most E, so rounding errors are relative to E even when the claims are far larger.
    """
    s_rows, n = c.shape
    if n == 0:
        return np.zeros_like(c)
    d = -np.sort(-c, axis=1)
    # g_0 = 0, g_k = g_{k−1} + k(d_{k−1} − d_k): cumulative sum of terms ≥ 0 (ties give equal g).
    steps = np.concatenate([np.zeros((s_rows, 1)), np.arange(1, n) * -np.diff(d, axis=1)], axis=1)
    g = np.cumsum(steps, axis=1)
    t = np.minimum(e, c.sum(axis=1))
    m = np.clip(np.sum(g < t[:, None], axis=1), 1, n)
    base = d[np.arange(s_rows), m - 1]
    above = np.where(np.arange(n) < m[:, None], d - base[:, None], 0.0)
    delta = (t - above.sum(axis=1)) / m
    paid = c >= base[:, None]
    awards = np.where(paid, (c - base[:, None]) + delta[:, None], 0.0)
    return np.where((t > 0)[:, None], awards, 0.0)


def _talmud(e: np.ndarray, c: np.ndarray) -> np.ndarray:
    half = c / 2.0
    half_total = half.sum(axis=1)
    low = _cea(np.minimum(e, half_total), half)
    high = half + _cel(np.maximum(e - half_total, 0.0), half)
    return np.where((e <= half_total)[:, None], low, high)


def _shapley_bankruptcy(e: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Exact Shapley value of v(S) = max(0, E − Σ_{j∉S} c_j), by enumerating all 2^n coalitions.

    Coalition S is the bit mask m (bit i = claimant i). Σ_{j∉S} c_j is built directly for every
    mask by doubling (never as Σc − Σ_S c, which would lose precision when Σc ≫ E), then each
    claimant's Shapley value is read off the values by mask (`core.coalitions.shapley_by_mask`).
    O(2^n·n) per scenario; scenarios go in chunks.
    """
    s_rows, n = c.shape
    size = 1 << n
    out = np.zeros((s_rows, n))
    chunk = max(1, _CHUNK_FLOATS // size)
    for start in range(0, s_rows, chunk):
        cc, ee = c[start:start + chunk], e[start:start + chunk]
        rows = cc.shape[0]
        sums = np.zeros((rows, 1))                       # sums[:, m] = Σ_{j ∈ m} c_j
        for j in range(n):
            sums = np.concatenate([sums, sums + cc[:, j:j + 1]], axis=1)
        outside = sums[:, ::-1]                          # complement of m is (2^n − 1) − m
        out[start:start + rows] = shapley_by_mask(np.maximum(0.0, ee[:, None] - outside), n)
    return out


def _sampled_arrival(e: np.ndarray, c: np.ndarray, samples: int, seed) -> np.ndarray:
    """Average over `samples` uniformly random orderings (the same orderings for every scenario)."""
    s_rows, n = c.shape
    rng = np.random.default_rng(seed)
    orders = rng.permuted(np.tile(np.arange(n), (samples, 1)), axis=1)
    inverse = np.argsort(orders, axis=1)
    out = np.empty((s_rows, n))
    for r in range(s_rows):
        arriving = c[r][orders]                           # (samples, n) claims in arrival order
        before = np.concatenate([np.zeros((samples, 1)), np.cumsum(arriving, axis=1)[:, :-1]],
                                axis=1)
        taken = np.minimum(arriving, np.maximum(0.0, e[r] - before))
        out[r] = np.take_along_axis(taken, inverse, axis=1).mean(axis=0)
    return out


# -- public rules ------------------------------------------------------------------------------
def proportional(estate, claims) -> np.ndarray:
    """Awards pro rata to claims: a_i = min(E, Σc)·c_i/Σc (all zero when Σc = 0).

    estate: pounds ≥ 0, a number or one per scenario (S,); claims: pounds ≥ 0, (n,) or (S, n).
    Returns awards in pounds, shape (n,) or (S, n); they sum to min(E, Σc) (surplus not awarded).
    """
    e, c, single = _prepare(estate, claims, "proportional")
    return _finish(_proportional(e, c), e, c, single)


def constrained_equal_awards(estate, claims) -> np.ndarray:
    """Constrained equal awards (CEA): a_i = min(c_i, λ), λ chosen so Σa = min(E, Σc).

    Everyone gets the same amount unless that exceeds their claim; small claims are paid in full
    first. estate: pounds ≥ 0, a number or (S,); claims: pounds ≥ 0, (n,) or (S, n). Returns
    awards in pounds, shape (n,) or (S, n). Vectorised: each row is sorted and λ found from
    cumulative sums.
    """
    e, c, single = _prepare(estate, claims, "constrained_equal_awards")
    return _finish(_cea(e, c), e, c, single)


def constrained_equal_losses(estate, claims) -> np.ndarray:
    """Constrained equal losses (CEL): a_i = max(0, c_i − μ), μ chosen so Σa = min(E, Σc).

    Everyone loses the same amount unless that exceeds their claim; small claims may get nothing.
    estate: pounds ≥ 0, a number or (S,); claims: pounds ≥ 0, (n,) or (S, n). Returns awards in
    pounds, shape (n,) or (S, n). Vectorised: each row is sorted and μ found from cumulative sums.
    """
    e, c, single = _prepare(estate, claims, "constrained_equal_losses")
    return _finish(_cel(e, c), e, c, single)


def talmud(estate, claims) -> np.ndarray:
    """The Talmud rule (Aumann & Maschler 1985), the nucleolus of the bankruptcy game.

    If E ≤ Σc/2: CEA on the half-claims c/2 (nobody gets more than half their claim). Otherwise:
    c/2 + CEL(E − Σc/2, c/2) (everybody gets at least half, and nobody loses more than half).
    For two claimants it is the contested-garment rule. estate: pounds ≥ 0, a number or (S,);
    claims: pounds ≥ 0, (n,) or (S, n). Returns awards in pounds, shape (n,) or (S, n), summing
    to min(E, Σc).
    """
    e, c, single = _prepare(estate, claims, "talmud")
    return _finish(_talmud(e, c), e, c, single)


def random_arrival(estate, claims, *, exact_max: int = 12, samples: int = 20000,
                   seed=0) -> np.ndarray:
    """Random arrival (O'Neill 1982), the Shapley value of the bankruptcy game.

    Claimants arrive one at a time, each taking min(c_i, what is left of the estate); the award
    is the average over all n! orders of arrival.

    - n ≤ exact_max (default 12): exact. The Shapley value of v(S) = max(0, E − Σ_{j∉S} c_j) is
      computed by enumerating all 2^n coalitions with numpy bit masks: O(2^n·n) time, arrays of
      2^n floats; `exact_max` may be raised to at most MAX_EXACT (22).
    - n > exact_max: **sampled**, not exact. The awards are the average over `samples` orderings
      drawn uniformly at random with ``numpy.random.default_rng(seed)`` (the same orderings for
      every scenario, so the result is reproducible for a given seed), and a RuntimeWarning says
      so (unless no scenario needs dividing: E = 0 or E ≥ Σc give exact answers anyway). Each
      award's standard error is at most c_i / (2·√samples). The awards still sum to min(E, Σc)
      exactly, since every ordering distributes the whole estate.

    estate: pounds ≥ 0, a number or (S,); claims: pounds ≥ 0, (n,) or (S, n). Returns awards in
    pounds, shape (n,) or (S, n). Unlike the other rules this one works through the scenarios in
    a Python loop (in chunks of about 2^20 / 2^n scenarios on the exact path, one scenario at a
    time on the sampled path).
    """
    problems = []
    if not _is_whole(exact_max) or not 0 <= exact_max <= MAX_EXACT:
        problems.append(problem(f"must be a whole number from 0 to {MAX_EXACT} (exact "
                                f"enumeration needs arrays of 2^n floats)", column="exact_max",
                                value=exact_max))
    if not _is_whole(samples) or samples < 1:
        problems.append(problem("must be a whole number ≥ 1", column="samples", value=samples))
    e, c, single = _prepare(estate, claims, "random_arrival", problems)
    n = c.shape[1]
    awards = np.zeros_like(c)
    # Only rows with 0 < E < Σc need the work (the others are all-zero or full claims).
    todo = (e > 0) & (e < c.sum(axis=1))
    if n == 0 or not todo.any():
        pass
    elif n <= exact_max:
        awards[todo] = _shapley_bankruptcy(e[todo], c[todo])
    else:
        warnings.warn(f"random_arrival: {n} claimants is more than exact_max={exact_max}, so the "
                      f"awards are sampled, not exact: the average over {samples} random orderings "
                      f"(seed={seed!r}) of the {math.factorial(n):,} possible",
                      RuntimeWarning, stacklevel=2)
        awards[todo] = _sampled_arrival(e[todo], c[todo], int(samples), seed)
    return _finish(awards, e, c, single)


#: The rules by the names used in agreement files (`rule = "talmud"` under [pool]).
RULES: dict[str, Callable[..., np.ndarray]] = {
    "proportional": proportional,
    "cea": constrained_equal_awards,
    "cel": constrained_equal_losses,
    "talmud": talmud,
    "random_arrival": random_arrival,
}


def apply_rule(name: str, estate, claims, **options) -> np.ndarray:
    """Apply the rule called `name` (a key of RULES) to `estate` and `claims` (pounds).

    `options` are passed on to the rule (e.g. ``seed=`` for random_arrival). An unknown name
    raises ValidationError naming the valid rules.
    """
    rule = RULES.get(name) if isinstance(name, str) else None
    if rule is None:
        raise_if_errors([problem(f"is not a claims rule (valid: {', '.join(RULES)})",
                                 column="rule", value=name)], "claims rule")
    assert rule is not None     # an unknown rule raised just above
    return rule(estate, claims, **options)
