"""Cooperative games (`riskshare.games`): published examples, identities with the bankruptcy
rules, properties of the Shapley value, the (pre)nucleolus and the least core on random games,
independent reference computations (brute-force Shapley over orders of arrival, a least-core LP
and a sequential-LP nucleolus written here with scipy), the sampled Shapley value, core checks
and the errors a user sees."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

import riskshare as rs
from riskshare import games as G
from riskshare.core.errors import ValidationError

SOME = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
THIRD = 100 / 3
PLAYERS = list("abcdef")


# -- games -------------------------------------------------------------------------------------
def bankruptcy_game(estate, claims, players=None) -> G.Game:
    """v(S) = max(0, E − Σ_{j∉S} c_j): what S secures after paying everyone outside in full."""
    claims = [float(c) for c in claims]
    players = list(players) if players is not None else list(range(1, len(claims) + 1))
    claim = dict(zip(players, claims, strict=True))
    return G.Game(players, lambda S: max(0.0, estate - sum(claim[p] for p in players
                                                           if p not in S)))


def glove_game() -> G.Game:
    """Players 1 and 2 hold left gloves, player 3 a right glove; a pair is worth 1."""
    return G.Game([1, 2, 3], lambda S: 1.0 if 3 in S and (1 in S or 2 in S) else 0.0)


AIRPORT_COSTS = (8.0, 11.0, 13.0, 18.0)


def airport_game(costs=AIRPORT_COSTS) -> G.Game:
    """v = −c with c(S) the longest runway S needs (Littlechild & Owen 1973)."""
    cost = dict(zip(range(1, len(costs) + 1), costs, strict=True))
    return G.Game(list(cost), lambda S: -max(cost[p] for p in S))


def masks(n: int) -> np.ndarray:
    """Coalition masks 1 … 2ⁿ − 1 and their (2ⁿ − 1, n) 0/1 incidence matrix."""
    m = np.arange(1, 1 << n)
    return m, ((m[:, None] >> np.arange(n)) & 1).astype(float)


def game_from_masks(values: np.ndarray, players=None) -> G.Game:
    """A game from values indexed by mask (length 2ⁿ, values[0] ignored), as a mapping."""
    n = int(len(values)).bit_length() - 1
    players = list(players) if players is not None else PLAYERS[:n]
    mapping = {frozenset(p for i, p in enumerate(players) if (m >> i) & 1): float(values[m])
               for m in range(1, 1 << n)}
    return G.Game(players, mapping)


def random_game(seed: int, n: int, kind: str = "real", imputations: bool = True) -> G.Game:
    """A random game; "integer" games are full of ties (degenerate LPs). With `imputations`,
    v(N) is raised if need be so that Σ v({i}) ≤ v(N) (the nucleolus exists)."""
    rng = np.random.default_rng(seed)
    size = 1 << n
    if kind == "integer":
        v = rng.integers(-2, 6, size).astype(float)
    else:
        v = rng.normal(0.0, 5.0, size)
    v[0] = 0.0
    alone = v[1 << np.arange(n)].sum()
    if imputations and v[-1] < alone:
        v[-1] = alone + (0.0 if kind == "integer" else abs(rng.normal()))
    return game_from_masks(v)


def convex_game(seed: int, n: int, kind: str) -> G.Game:
    """Convex (supermodular) games, so the core is non-empty and holds the Shapley value."""
    rng = np.random.default_rng(seed)
    players = PLAYERS[:n]
    if kind == "square":                                   # v(S) = (Σ_S w)²
        w = dict(zip(players, rng.uniform(0.5, 5.0, n), strict=True))
        return G.Game(players, lambda S: sum(w[p] for p in S) ** 2)
    if kind == "size":                                     # v(S) = f(|S|), f convex, f(0) = 0
        steps = np.cumsum(rng.uniform(0.0, 3.0, n)) + rng.uniform(-2.0, 2.0)
        f = np.r_[0.0, np.cumsum(steps)]
        return G.Game(players, lambda S: float(f[len(S)]))
    if kind == "dividends":                                # Σ of unanimity games, dividends ≥ 0
        return dividend_game(rng.integers(0, 4, 1 << n).astype(float), players)
    claims = rng.integers(0, 10, n).astype(float)          # bankruptcy games are convex
    return bankruptcy_game(float(rng.uniform(0, claims.sum())), claims, players)


def dividend_game(dividends: np.ndarray, players) -> G.Game:
    """v(S) = Σ_{T ⊆ S} d_T (Harsanyi dividends by mask; d_∅ ignored)."""
    n = len(players)
    m, inc = masks(n)
    d = dividends[1:]
    v = np.zeros(1 << n)
    v[1:] = [(d * ((m & s) == m)).sum() for s in m]
    return game_from_masks(v, players)


def game_with_core(seed: int, n: int) -> G.Game:
    """v(S) = y(S) − (something ≥ 0) for proper S and v(N) = y(N): y is in the core."""
    rng = np.random.default_rng(seed)
    y = rng.normal(0.0, 5.0, n)
    m, inc = masks(n)
    v = np.r_[0.0, inc @ y - rng.choice([0.0, 0.0, 1.0, 3.0], len(m)) * rng.uniform(0, 1, len(m))]
    v[-1] = y.sum()
    return game_from_masks(v)


def sampled(g: G.Game, **kw) -> pd.Series:
    """shapley(g, ...) expecting (and swallowing) the SampledShapleyWarning."""
    with pytest.warns(G.SampledShapleyWarning):
        return G.shapley(g, **kw)


# -- independent references ---------------------------------------------------------------------
def brute_force_shapley(g: G.Game) -> np.ndarray:
    """Average marginal contribution over all n! orders of arrival."""
    total = np.zeros(g.n)
    orders = list(itertools.permutations(range(g.n)))
    for order in orders:
        before = []
        for i in order:
            total[i] += g(before + [g.players[i]]) - g(before)
            before.append(g.players[i])
    return total / len(orders)


def proper_excess(g: G.Game, x) -> np.ndarray:
    """v(S) − x(S) for every proper non-empty coalition."""
    m, inc = masks(g.n)
    return (g.values[m] - inc @ np.asarray(x, dtype=float))[:-1]


def reference_least_core(g: G.Game, imputations: bool = False):
    """(ε, a least-core vertex) from scipy: min ε s.t. x(S) + ε ≥ v(S) (S proper), x(N) = v(N)
    (and x_i ≥ v({i}) with `imputations`)."""
    n = g.n
    lower = [float(g.values[1 << i]) if imputations else None for i in range(n)]
    m, inc = masks(n)
    res = linprog(np.r_[np.zeros(n), 1.0],
                  A_ub=-np.c_[inc[:-1], np.ones(len(m) - 1)], b_ub=-g.values[m[:-1]],
                  A_eq=np.r_[np.ones(n), 0.0][None], b_eq=[g.grand],
                  bounds=[(lo, None) for lo in lower] + [(None, None)], method="highs")
    assert res.status == 0, res.message
    return res.fun, res.x[:n]


def least_core_vertex(g: G.Game, eps: float, direction: np.ndarray) -> np.ndarray:
    """A vertex of the least core {x : x(S) ≥ v(S) − ε, x(N) = v(N)} (scipy)."""
    n = g.n
    m, inc = masks(n)
    res = linprog(direction, A_ub=-inc[:-1], b_ub=-(g.values[m[:-1]] - eps - 1e-9),
                  A_eq=np.ones((1, n)), b_eq=[g.grand], bounds=[(None, None)] * n,
                  method="highs")
    assert res.status == 0, res.message
    return res.x


def reference_nucleolus(g: G.Game, imputations: bool = True) -> np.ndarray:
    """Sequential LPs (Maschler, Peleg & Shapley 1979). At each stage: t* = min max excess of
    the coalitions not yet fixed; then a coalition is fixed at t* only if a second LP shows its
    excess cannot go below t* at any optimum (Kopelowitz). Stops when the fixed equations
    determine x."""
    n = g.n
    m, inc = masks(n)
    proper, A = m[:-1], inc[:-1]
    v = g.values
    bounds = [(float(v[1 << i]), None) if imputations else (None, None) for i in range(n)]
    free = list(range(len(proper)))
    rows, rhs = [np.ones(n)], [g.grand]
    x = None
    while free:
        a_ub = -np.c_[A[free], np.ones(len(free))]
        b_ub = -v[proper[free]]
        res = linprog(np.r_[np.zeros(n), 1.0], A_ub=a_ub, b_ub=b_ub,
                      A_eq=np.c_[np.array(rows), np.zeros(len(rows))], b_eq=rhs,
                      bounds=bounds + [(None, None)], method="highs")
        assert res.status == 0, res.message
        t, x = res.fun, res.x[:n]
        fixed = []
        for k in free:
            if A[k] @ x > v[proper[k]] - t + 1e-7:         # slack here: not fixed at t
                continue
            most = linprog(-A[k], A_ub=a_ub[:, :n], b_ub=b_ub + t, A_eq=np.array(rows),
                           b_eq=rhs, bounds=bounds, method="highs")
            assert most.status == 0, most.message
            if -most.fun <= v[proper[k]] - t + 1e-9:
                fixed.append(k)
        assert fixed, "reference nucleolus: no coalition fixed at this stage"
        rows += [A[k] for k in fixed]
        rhs += [v[proper[k]] - t for k in fixed]
        free = [k for k in free if k not in fixed]
        if np.linalg.matrix_rank(np.array(rows), tol=1e-9) == n:
            return np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)[0]
    return x


def lex_smaller(a: np.ndarray, b: np.ndarray, tol: float) -> bool:
    """Whether sorted-descending vector a is lexicographically smaller than b (beyond tol)."""
    for p, q in zip(-np.sort(-a), -np.sort(-b), strict=True):
        if p < q - tol:
            return True
        if p > q + tol:
            return False
    return False


# == 1. published examples ======================================================================
@pytest.mark.parametrize("estate, expected", [
    (100, (THIRD, THIRD, THIRD)),
    (200, (50, 75, 75)),
    (300, (50, 100, 150)),
])
def test_talmud_estates_are_the_nucleolus_aumann_maschler_1985(estate, expected):
    g = bankruptcy_game(estate, (100, 200, 300))
    for solve in (G.nucleolus, G.prenucleolus):
        x = solve(g)
        assert list(x.index) == [1, 2, 3]
        np.testing.assert_allclose(x.to_numpy(), expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(rs.claims.talmud(estate, [100, 200, 300]), expected, atol=1e-9)


def test_glove_game():
    g = glove_game()
    np.testing.assert_allclose(G.shapley(g).to_numpy(), [1 / 6, 1 / 6, 2 / 3], rtol=0, atol=1e-9)
    np.testing.assert_allclose(G.nucleolus(g).to_numpy(), [0, 0, 1], rtol=0, atol=1e-9)
    np.testing.assert_allclose(G.prenucleolus(g).to_numpy(), [0, 0, 1], rtol=0, atol=1e-9)
    x, eps = G.least_core(g)
    assert eps == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_allclose(x.to_numpy(), [0, 0, 1], rtol=0, atol=1e-9)   # the whole core
    assert G.is_in_core(g, [0, 0, 1])
    assert G.core_violations(g, [0, 0, 1]).empty
    assert not G.is_in_core(g, G.shapley(g))                # Shapley is not in this core


def test_airport_game_littlechild_owen_1973():
    g = airport_game()
    # Shapley cost shares: 8/4, 8/4 + 3/3, 3 + 2/2, 4 + 5/1
    np.testing.assert_allclose(-G.shapley(g).to_numpy(), [2, 3, 4, 9], rtol=0, atol=1e-9)
    # The same as a savings game s(S) = Σ_S c − c(S): savings shares c_i − cost share.
    cost = dict(zip([1, 2, 3, 4], AIRPORT_COSTS, strict=True))
    savings = G.Game([1, 2, 3, 4], lambda S: sum(cost[p] for p in S) - max(cost[p] for p in S))
    np.testing.assert_allclose(G.shapley(savings).to_numpy(),
                               np.array(AIRPORT_COSTS) - [2, 3, 4, 9], rtol=0, atol=1e-9)


def test_airport_game_nucleolus_and_least_core_by_hand():
    # Lowering the largest excess below −3.25 needs x_1, x_2, x_3 < −3.25 (coalitions N∖{i})
    # and x_1 + x_2 + x_3 ≥ −13 + 3.25 ({1,2,3}): impossible, and at ε = −3.25 both force
    # x_i = −3.25 (i ≤ 3), x_4 = −18 + 9.75. So the least core is one point, the nucleolus.
    g = airport_game()
    expected = [-3.25, -3.25, -3.25, -8.25]
    np.testing.assert_allclose(G.nucleolus(g).to_numpy(), expected, rtol=0, atol=1e-9)
    x, eps = G.least_core(g)
    assert eps == pytest.approx(-3.25, abs=1e-9)
    np.testing.assert_allclose(x.to_numpy(), expected, rtol=0, atol=1e-7)


def test_from_vector_order_three_players():
    values = [1.0, 2.0, 3.0, 12.0, 13.0, 23.0, 123.0]
    g = G.Game.from_vector([1, 2, 3], values)
    assert g({1, 3}) == 13.0
    assert g([2, 3]) == 23.0 and g((1, 2)) == 12.0 and g({2}) == 2.0
    assert g.grand == 123.0
    assert g(frozenset()) == 0.0
    np.testing.assert_array_equal(g.to_vector(), values)
    pd.testing.assert_series_equal(g.singletons, pd.Series([1.0, 2.0, 3.0], index=g.index),
                                   check_names=False)
    assert g.values[0b101] == 13.0 and g.values[0] == 0.0      # by mask: bit i = position i
    assert g.exact


def test_from_vector_order_four_players_pairs():
    players = [1, 2, 3, 4]
    coalitions = [c for k in range(1, 5) for c in itertools.combinations(players, k)]
    code = [float("".join(map(str, c))) for c in coalitions]
    assert coalitions[4:10] == [(1, 2), (1, 3), (1, 4), (2, 3), (2, 4), (3, 4)]
    g = G.Game.from_vector(players, code)
    for c, value in zip(coalitions, code, strict=True):
        assert g(set(c)) == value
    assert [g({1, 2}), g({1, 3}), g({1, 4}), g({2, 3}), g({2, 4}), g({3, 4})] == \
        [12, 13, 14, 23, 24, 34]
    np.testing.assert_array_equal(g.to_vector(), code)


def test_from_vector_orders_by_position_not_by_label():
    g = G.Game.from_vector(["c", "a", "b"], [1, 2, 3, 4, 5, 6, 7])
    assert [g({"c"}), g({"a"}), g({"b"})] == [1, 2, 3]
    assert [g({"c", "a"}), g({"c", "b"}), g({"a", "b"})] == [4, 5, 6]
    assert list(G.shapley(g).index) == ["c", "a", "b"]


def test_mapping_callable_and_vector_give_the_same_game():
    g = random_game(11, 4)
    again = G.Game.from_vector(g.players, g.to_vector())
    as_callable = G.Game(g.players, lambda S: g(S))
    as_tuples = G.Game(g.players, {tuple(sorted(S)): g(S) for k in range(1, 5)
                                   for S in itertools.combinations(g.players, k)})
    for h in (again, as_callable, as_tuples):
        np.testing.assert_array_equal(h.values, g.values)


# == 2. identities and properties ==============================================================
claims_lists = st.lists(st.one_of(st.integers(0, 20).map(float),
                                  st.floats(0.0, 1000.0, allow_nan=False)),
                        min_size=2, max_size=6)


@SOME
@given(claims=claims_lists, share=st.floats(0.0, 1.0))
def test_talmud_rule_is_the_nucleolus_of_the_bankruptcy_game(claims, share):
    estate = share * sum(claims)
    g = bankruptcy_game(estate, claims)
    expected = rs.claims.talmud(estate, claims)
    tol = 1e-9 * max(1.0, estate)
    np.testing.assert_allclose(G.nucleolus(g).to_numpy(), expected, rtol=0, atol=tol)
    np.testing.assert_allclose(G.prenucleolus(g).to_numpy(), expected, rtol=0, atol=tol)


@SOME
@given(claims=claims_lists, share=st.floats(0.0, 1.0))
def test_random_arrival_rule_is_the_shapley_value_of_the_bankruptcy_game(claims, share):
    estate = share * sum(claims)
    g = bankruptcy_game(estate, claims)
    np.testing.assert_allclose(G.shapley(g).to_numpy(), rs.claims.random_arrival(estate, claims),
                               rtol=0, atol=1e-9 * max(1.0, estate))


@SOME
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 5),
       kind=st.sampled_from(["real", "integer"]))
def test_shapley_matches_brute_force_over_orders(seed, n, kind):
    g = random_game(seed, n, kind, imputations=False)
    np.testing.assert_allclose(G.shapley(g).to_numpy(), brute_force_shapley(g), rtol=0,
                               atol=1e-9)


@SOME
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 6))
def test_shapley_of_a_dividend_game_shares_each_dividend_equally(seed, n):
    rng = np.random.default_rng(seed)
    d = rng.integers(-3, 4, 1 << n).astype(float)
    g = dividend_game(d, PLAYERS[:n])
    expected = np.zeros(n)
    for m in range(1, 1 << n):
        members = [i for i in range(n) if (m >> i) & 1]
        expected[members] += d[m] / len(members)
    np.testing.assert_allclose(G.shapley(g).to_numpy(), expected, rtol=0, atol=1e-9)


@SOME
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 6),
       kind=st.sampled_from(["real", "integer"]))
def test_every_solution_is_efficient(seed, n, kind):
    g = random_game(seed, n, kind)
    tol = 1e-9 * max(1.0, np.abs(g.values).max())
    x, eps = G.least_core(g)
    for y in (G.shapley(g), G.nucleolus(g), G.prenucleolus(g), x):
        assert list(y.index) == list(g.players)
        assert y.sum() == pytest.approx(g.grand, abs=tol)


@SOME
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 5),
       kind=st.sampled_from(["real", "integer"]), pair=st.integers(0, 100))
def test_symmetric_players_get_the_same(seed, n, kind, pair):
    """Symmetrise a random game in players i and j: v(S) := (w(S) + w(σS))/2, σ swapping i, j."""
    i, j = sorted(np.random.default_rng(pair).choice(n, 2, replace=False))
    w = random_game(seed, n, kind).values

    def swap(m):
        bi, bj = (m >> i) & 1, (m >> j) & 1
        return m & ~((1 << i) | (1 << j)) | (bi << j) | (bj << i)

    v = np.array([(w[m] + w[swap(m)]) / 2 for m in range(1 << n)])
    g = game_from_masks(v)
    a, b = g.players[i], g.players[j]
    x, _ = G.least_core(g)
    results = [G.shapley(g), G.prenucleolus(g), x]
    if g.singletons.sum() <= g.grand:
        results.append(G.nucleolus(g))
    for y in results:
        assert y[a] == pytest.approx(y[b], abs=1e-7 * max(1.0, np.abs(v).max()))


@SOME
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 5), kind=st.sampled_from(
    ["square", "size", "dividends", "bankruptcy"]))
def test_convex_games_nucleolus_and_shapley_in_the_core(seed, n, kind):
    g = convex_game(seed, n, kind)
    tol = 1e-7 * max(1.0, np.abs(g.values).max())
    x, eps = G.least_core(g)
    assert eps <= tol                                           # the core is non-empty
    nu, pre = G.nucleolus(g), G.prenucleolus(g)
    for y in (nu, pre, G.shapley(g), x):
        assert G.core_violations(g, y, tol=tol).empty
        assert G.is_in_core(g, y, tol=tol)
    np.testing.assert_allclose(pre.to_numpy(), nu.to_numpy(), rtol=0, atol=tol)


@SOME
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 5))
def test_nucleolus_is_in_a_non_empty_core(seed, n):
    g = game_with_core(seed, n)
    tol = 1e-7 * max(1.0, np.abs(g.values).max())
    assert G.least_core(g)[1] <= tol
    nu, pre = G.nucleolus(g), G.prenucleolus(g)
    assert G.is_in_core(g, nu, tol=tol)
    np.testing.assert_allclose(pre.to_numpy(), nu.to_numpy(), rtol=0, atol=tol)


@SOME
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 5),
       kind=st.sampled_from(["real", "integer"]))
def test_nucleolus_is_an_imputation_and_minimises_the_largest_excess(seed, n, kind):
    """The prenucleolus is in the least core (largest excess ε). The nucleolus is an imputation
    whose largest excess is the least over imputations, which is ε when ε ≤ 0 (the least core
    then lies within the imputations); with ε > 0 it can be more (the least core may give a
    player less than it secures alone)."""
    g = random_game(seed, n, kind)
    tol = 1e-7 * max(1.0, np.abs(g.values).max())
    nu = G.nucleolus(g)
    assert (nu.to_numpy() >= g.singletons.to_numpy() - tol).all()
    assert nu.sum() == pytest.approx(g.grand, abs=tol)
    x, eps = G.least_core(g)
    assert proper_excess(g, G.prenucleolus(g)).max() == pytest.approx(eps, abs=tol)
    assert proper_excess(g, x).max() == pytest.approx(eps, abs=tol)
    eps_imputations, _ = reference_least_core(g, imputations=True)
    assert proper_excess(g, nu).max() == pytest.approx(eps_imputations, abs=tol)
    if eps <= 0:
        assert eps_imputations == pytest.approx(eps, abs=tol)


@SOME
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 5),
       kind=st.sampled_from(["real", "integer"]))
def test_least_core_epsilon_matches_an_independent_lp(seed, n, kind):
    g = random_game(seed, n, kind, imputations=False)
    eps_ref, _ = reference_least_core(g)
    x, eps = G.least_core(g)
    assert eps == pytest.approx(eps_ref, abs=1e-7)
    assert x.sum() == pytest.approx(g.grand, abs=1e-9 * max(1.0, abs(g.grand)))


@SOME
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 5),
       kind=st.sampled_from(["real", "integer"]))
def test_least_core_point_is_the_one_nearest_the_shapley_value(seed, n, kind):
    """x is the projection of φ on the (convex) least core iff (φ − x)·(y − x) ≤ 0 for every
    least-core y; check y = the prenucleolus and vertices from scipy in random directions."""
    g = random_game(seed, n, kind, imputations=False)
    phi = G.shapley(g).to_numpy()
    x, eps = G.least_core(g)
    x = x.to_numpy()
    scale = max(1.0, np.abs(g.values).max())
    rng = np.random.default_rng(seed)
    others = [G.prenucleolus(g).to_numpy()]
    others += [least_core_vertex(g, eps, rng.normal(size=n)) for _ in range(3)]
    for y in others:
        assert proper_excess(g, y).max() <= eps + 1e-7 * scale      # y is in the least core
        assert (phi - x) @ (y - x) <= 1e-6 * scale ** 2
        assert np.linalg.norm(x - phi) <= np.linalg.norm(y - phi) + 1e-6 * scale
    if proper_excess(g, phi).max() <= eps + 1e-9 * scale:           # φ in the least core: x = φ
        np.testing.assert_allclose(x, phi, rtol=0, atol=1e-6 * scale)


@SOME
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 4),
       kind=st.sampled_from(["real", "integer"]), within=st.booleans())
def test_nucleolus_matches_an_independent_sequential_lp(seed, n, kind, within):
    g = random_game(seed, n, kind)
    got = (G.nucleolus if within else G.prenucleolus)(g).to_numpy()
    expected = reference_nucleolus(g, imputations=within)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-7 * max(1.0, np.abs(g.values).max()))


@FEW
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 4),
       kind=st.sampled_from(["real", "integer"]), within=st.booleans())
def test_no_nearby_allocation_has_lexicographically_smaller_excesses(seed, n, kind, within):
    g = random_game(seed, n, kind)
    x = (G.nucleolus if within else G.prenucleolus)(g).to_numpy()
    base = proper_excess(g, x)
    lower = g.singletons.to_numpy()
    rng = np.random.default_rng(seed)
    scale = max(1.0, np.abs(g.values).max())
    slack = g.grand - lower.sum()
    if within and slack <= 1e-12 * scale:                # the only imputation: v({i}) each
        np.testing.assert_allclose(x, lower, rtol=0, atol=1e-9 * scale)
        return
    tried = 0
    for k in range(400):
        t = rng.choice([1e-3, 1e-2, 1e-1, 1.0])
        if k % 2:                                        # towards a random imputation
            y = x + t * (lower + slack * rng.dirichlet(np.ones(n)) - x)
        else:                                            # any direction (kept if allowed)
            d = rng.normal(size=n) * t * scale
            y = x + d - d.mean()
            if within and (y < lower).any():
                continue
        if np.abs(y - x).max() < 1e-6 * scale:
            continue
        tried += 1
        assert not lex_smaller(proper_excess(g, y), base, 1e-9 * scale), y
    assert tried > 20


@SOME
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 5),
       kind=st.sampled_from(["real", "integer"]), order_seed=st.integers(0, 1000))
@example(seed=57146, n=5, kind="real", order_seed=501)  # HiGHS's QP failed in one order only
def test_relabelling_players_permutes_every_solution(seed, n, kind, order_seed):
    g = random_game(seed, n, kind)
    order = np.random.default_rng(order_seed).permutation(n)
    rename = {p: f"member-{p}" for p in g.players}
    new_players = [rename[g.players[k]] for k in order]
    h = G.Game(new_players, lambda S: g({p.removeprefix("member-") for p in S}))
    tol = 1e-7 * max(1.0, np.abs(g.values).max())
    x_g, eps_g = G.least_core(g)
    x_h, eps_h = G.least_core(h)
    assert eps_h == pytest.approx(eps_g, abs=tol)
    pairs = [(G.shapley(g), G.shapley(h)), (G.nucleolus(g), G.nucleolus(h)),
             (G.prenucleolus(g), G.prenucleolus(h)), (x_g, x_h)]
    for a, b in pairs:
        assert list(b.index) == new_players
        np.testing.assert_allclose(b.rename(lambda p: p.removeprefix("member-"))
                                   .reindex(g.players).to_numpy(), a.to_numpy(),
                                   rtol=0, atol=tol)


@SOME
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 5),
       kind=st.sampled_from(["real", "integer"]), a=st.floats(0.05, 20.0))
def test_solutions_are_covariant(seed, n, kind, a):
    """w = a·v + b(S), a > 0: every solution maps to a·x + b and ε to a·ε."""
    g = random_game(seed, n, kind)
    b = dict(zip(g.players, np.random.default_rng(seed + 1).normal(0, 10, n), strict=True))
    h = G.Game(g.players, lambda S: a * g(S) + sum(b[p] for p in S))
    bb = np.array([b[p] for p in g.players])
    tol = 1e-7 * max(1.0, np.abs(h.values).max())
    x_g, eps_g = G.least_core(g)
    x_h, eps_h = G.least_core(h)
    assert eps_h == pytest.approx(a * eps_g, abs=tol)
    for solve in (G.shapley, G.nucleolus, G.prenucleolus):
        np.testing.assert_allclose(solve(h).to_numpy(), a * solve(g).to_numpy() + bb,
                                   rtol=0, atol=tol)
    np.testing.assert_allclose(x_h.to_numpy(), a * x_g.to_numpy() + bb, rtol=0, atol=1e-6 * max(
        1.0, np.abs(h.values).max()))


@SOME
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 4),
       kind=st.sampled_from(["real", "integer"]), alone=st.integers(-3, 3))
def test_dummy_player_gets_what_it_secures_alone(seed, n, kind, alone):
    base = random_game(seed, n, kind)
    g = G.Game(list(base.players) + ["dummy"],
               lambda S: (base(S - {"dummy"}) if S - {"dummy"} else 0.0)
               + (alone if "dummy" in S else 0.0))
    tol = 1e-7 * max(1.0, np.abs(g.values).max())
    phi = G.shapley(g)
    assert phi["dummy"] == pytest.approx(alone, abs=1e-9)
    np.testing.assert_allclose(phi.drop("dummy").to_numpy(), G.shapley(base).to_numpy(),
                               rtol=0, atol=1e-9)
    assert G.prenucleolus(g)["dummy"] == pytest.approx(alone, abs=tol)
    assert G.nucleolus(g)["dummy"] == pytest.approx(alone, abs=tol)


def test_symmetric_game_splits_equally_at_sixteen_players_exactly():
    g = G.Game(list(range(G.MAX_EXACT)), lambda S: len(S) ** 1.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", G.SampledShapleyWarning)
        phi = G.shapley(g)
    assert g.exact and phi.attrs["method"] == "exact"
    np.testing.assert_allclose(phi.to_numpy(), 4.0, rtol=0, atol=1e-9)   # 16^1.5 / 16
    np.testing.assert_allclose(G.nucleolus(g).to_numpy(), 4.0, rtol=0, atol=1e-9)


def test_single_player_game():
    g = G.Game(["solo"], {frozenset({"solo"}): 5.0})
    for solve in (G.shapley, G.nucleolus, G.prenucleolus):
        assert solve(g).to_dict() == {"solo": 5.0}
    assert G.least_core(g)[0].to_dict() == {"solo": 5.0}


# == 3. sampled Shapley =========================================================================
@pytest.fixture(scope="module")
def big_bankruptcy():
    rng = np.random.default_rng(2024)
    claims = rng.uniform(10, 100, 20).round(1)
    estate = float(0.4 * claims.sum())
    players = [f"p{i:02d}" for i in range(20)]
    g = bankruptcy_game(estate, claims, players)
    exact = rs.claims.random_arrival(estate, claims, exact_max=22)
    return g, exact


def test_sampled_shapley_of_a_twenty_player_game(big_bankruptcy):
    g, exact = big_bankruptcy
    assert not g.exact
    with pytest.raises(G.TooManyPlayersError):
        _ = g.values
    with pytest.warns(G.SampledShapleyWarning, match="20 players"):
        phi = G.shapley(g)
    assert phi.attrs["method"] == "sampled"
    assert list(phi.index) == list(g.players)
    assert phi.sum() == pytest.approx(g.grand, abs=1e-9)
    se = phi.attrs["standard_error"]
    assert isinstance(se, pd.Series) and list(se.index) == list(g.players)
    assert (se > 0).all() and np.isfinite(se).all()
    assert (np.abs(phi.to_numpy() - exact) <= 4 * se.to_numpy()).all()


def test_sampled_shapley_is_reproducible_by_seed(big_bankruptcy):
    g, _ = big_bankruptcy
    first = sampled(g, samples=400, seed=7)
    again = sampled(g, samples=400, seed=7)
    other = sampled(g, samples=400, seed=8)
    pd.testing.assert_series_equal(first, again)
    assert not np.allclose(first.to_numpy(), other.to_numpy())
    assert first.attrs["samples"] == 400


def test_samples_forces_sampling_on_a_small_game():
    g = glove_game()
    with pytest.warns(G.SampledShapleyWarning, match="sampling was asked for"):
        phi = G.shapley(g, samples=2000, seed=1)
    assert phi.attrs["method"] == "sampled"
    assert phi.sum() == pytest.approx(1.0, abs=1e-12)
    se = phi.attrs["standard_error"].to_numpy()
    assert (se > 0).all()
    assert (np.abs(phi.to_numpy() - [1 / 6, 1 / 6, 2 / 3]) <= 4 * se).all()
    assert "standard_error" not in G.shapley(g).attrs


@pytest.mark.parametrize("samples", [1, 0, True, 2.5])
def test_samples_must_be_a_whole_number_of_at_least_two(samples):
    with pytest.raises(ValidationError, match="samples"):
        G.shapley(glove_game(), samples=samples)


# == 4. errors ==================================================================================
def test_empty_imputation_set():
    g = G.Game([1, 2, 3], lambda S: {1: 1.0, 2: 1.5, 3: 2.0}[len(S)])
    with pytest.raises(G.EmptyImputationSetError, match="prenucleolus"):
        G.nucleolus(g)
    pre = G.prenucleolus(g)
    np.testing.assert_allclose(pre.to_numpy(), [2 / 3] * 3, rtol=0, atol=1e-9)  # symmetric
    x, eps = G.least_core(g)
    np.testing.assert_allclose(x.to_numpy(), [2 / 3] * 3, rtol=0, atol=1e-7)
    assert eps == pytest.approx(1 / 3, abs=1e-9)        # each singleton: 1 − 2/3
    assert eps == pytest.approx(reference_least_core(g)[0], abs=1e-9)


@pytest.fixture(scope="module")
def seventeen():
    return G.Game(list(range(17)), lambda S: float(len(S)) ** 2)


@pytest.mark.parametrize("method", ["nucleolus", "prenucleolus", "least_core",
                                    "core_violations", "excesses", "is_in_core"])
def test_exact_methods_refuse_seventeen_players(seventeen, method):
    args = (np.full(17, 17.0),) if method in ("core_violations", "excesses", "is_in_core") else ()
    with pytest.raises(G.TooManyPlayersError, match="17 players"):
        getattr(G, method)(seventeen, *args)


def test_seventeen_players_still_evaluate_coalitions(seventeen):
    assert not seventeen.exact
    assert seventeen.grand == 289.0
    assert seventeen({0, 5, 9}) == 9.0
    np.testing.assert_array_equal(seventeen.singletons.to_numpy(), np.ones(17))
    with pytest.raises(G.TooManyPlayersError):
        G.Game.from_vector(list(range(17)), np.zeros((1 << 17) - 1))


def test_wrong_vector_length_names_the_expected_count():
    with pytest.raises(ValidationError, match=r"7 values for 3 players.*got 6"):
        G.Game.from_vector([1, 2, 3], [1, 2, 3, 4, 5, 6])


def test_missing_coalition_is_named():
    v = {frozenset(c): 1.0 for k in (1, 2, 3) for c in itertools.combinations("abc", k)}
    del v[frozenset("ac")]
    with pytest.raises(ValidationError, match=r"no value for 1 coalition: \{a, c\}"):
        G.Game(list("abc"), v)


def test_non_finite_values_are_refused():
    with pytest.raises(ValidationError, match=r"finite.*\{2\}"):
        G.Game.from_vector([1, 2], [1.0, float("nan"), 3.0])
    with pytest.raises(ValidationError, match=r"finite.*\{1, 2\}"):
        G.Game([1, 2], lambda S: float("inf") if len(S) == 2 else 0.0)
    with pytest.raises(ValidationError, match=r"finite.*\{1\}"):
        G.Game([1, 2], lambda S: float("nan") if S == {1} else 1.0)


def test_nan_in_a_mapping_is_reported_as_not_finite():
    v = {frozenset({1}): 1.0, frozenset({2}): float("nan"), frozenset({1, 2}): 3.0}
    with pytest.raises(ValidationError) as err:
        G.Game([1, 2], v)
    assert "finite" in str(err.value) and "no value" not in str(err.value)


def test_unknown_player_in_a_mapping_is_named():
    v = {frozenset({1}): 1.0, frozenset({2}): 1.0, frozenset({1, 2}): 3.0,
         frozenset({3}): 1.0}
    with pytest.raises(ValidationError, match="not a coalition of the players"):
        G.Game([1, 2], v)


@pytest.mark.parametrize("key", ["a", 1])
def test_a_key_that_is_not_a_coalition_is_a_validation_error(key):
    v = {key: 1.0, frozenset({"b"}): 1.0, frozenset({"a", "b"}): 3.0}
    with pytest.raises(ValidationError, match="not a coalition"):
        G.Game(["a", "b"], v)


def test_duplicate_players_are_named():
    with pytest.raises(ValidationError, match="repeated: a"):
        G.Game(["a", "b", "a"], lambda S: 1.0)
    with pytest.raises(ValidationError, match="repeated: 2"):
        G.Game.from_vector([1, 2, 2], np.zeros(7))


def test_no_players_is_refused():
    with pytest.raises(ValidationError, match="non-empty"):
        G.Game([], lambda S: 0.0)


def test_calling_the_game_on_an_unknown_player():
    with pytest.raises(ValidationError, match="not a coalition"):
        glove_game()({1, 9})


@pytest.mark.parametrize("x, pattern", [
    ([0.5, 0.5], r"one value per player \(3\); got 2"),
    ([0.0, 0.0, 0.5, 0.5], r"one value per player \(3\); got 4"),
    ([0.0, float("nan"), 1.0], "finite"),
    (pd.Series({1: 0.0, 2: 0.0, 9: 1.0}), r"member '9'.*is not a player"),
    (pd.Series({1: 0.0, 2: 1.0}), r"member '3'.*has no value"),
])
def test_bad_allocations_are_named(x, pattern):
    g = glove_game()
    for check in (G.core_violations, G.is_in_core, G.excesses):
        with pytest.raises(ValidationError, match=pattern):
            check(g, x)


def test_allocation_handing_out_more_than_v_of_n_is_refused():
    with pytest.raises(ValidationError, match=r"hands out 1\.5, more than v\(N\) = 1"):
        G.core_violations(glove_game(), [0.5, 0.5, 0.5])


# == 5. core checks =============================================================================
def hand_game() -> G.Game:
    """v(A) = v(B) = 1, v(C) = 0, v(AB) = 4, v(AC) = 3, v(BC) = 2, v(ABC) = 6."""
    return G.Game.from_vector(list("ABC"), [1, 1, 0, 4, 3, 2, 6])


COLUMNS = ["coalition", "players", "size", "value", "allocation", "shortfall"]


def test_core_violations_by_hand():
    # x = (0.5, 0.5, 5): {A,B} gets 1 of 4 (short 3); {A} and {B} get 0.5 of 1 (short 0.5);
    # {C}, {A,C}, {B,C} and N are covered.
    table = G.core_violations(hand_game(), [0.5, 0.5, 5.0])
    assert list(table.columns) == COLUMNS
    assert len(table) == 3
    first = table.iloc[0]
    assert (first["coalition"], first["players"], first["size"]) == ("{A, B}", ("A", "B"), 2)
    assert (first["value"], first["allocation"], first["shortfall"]) == (4.0, 1.0, 3.0)
    rest = {(r.coalition, r.players, r.size, r.value, r.allocation, r.shortfall)
            for r in table.iloc[1:].itertuples()}
    assert rest == {("{A}", ("A",), 1, 1.0, 0.5, 0.5), ("{B}", ("B",), 1, 1.0, 0.5, 0.5)}
    assert not G.is_in_core(hand_game(), [0.5, 0.5, 5.0])


def test_core_violations_include_the_grand_coalition_when_x_hands_out_less():
    # x = (2, 1, 1.5) hands out 4.5 of 6: N short 1.5; {A,B} gets 3 of 4 (short 1);
    # {A,C} gets 3.5 of 3 and {B,C} 2.5 of 2 (fine); singletons fine.
    table = G.core_violations(hand_game(), [2.0, 1.0, 1.5])
    assert table["coalition"].tolist() == ["{A, B, C}", "{A, B}"]
    np.testing.assert_allclose(table["shortfall"], [1.5, 1.0])
    np.testing.assert_allclose(table["value"], [6.0, 4.0])
    np.testing.assert_allclose(table["allocation"], [4.5, 3.0])
    assert table["size"].tolist() == [3, 2]
    assert not G.is_in_core(hand_game(), [2.0, 1.0, 1.5])


def test_core_violations_tolerance_and_series_order():
    g = hand_game()
    x = pd.Series({"C": 5.0, "B": 0.5, "A": 0.5})          # any order of the index
    table = G.core_violations(g, x, tol=0.6)
    assert table["coalition"].tolist() == ["{A, B}"]
    pd.testing.assert_frame_equal(G.core_violations(g, x),
                                  G.core_violations(g, [0.5, 0.5, 5.0]))


def test_core_allocation_has_no_violations():
    g = hand_game()
    for x in ([2.0, 2.0, 2.0], [3.0, 1.0, 2.0], pd.Series({"A": 2.5, "B": 1.5, "C": 2.0})):
        table = G.core_violations(g, x)
        assert table.empty and list(table.columns) == COLUMNS
        assert G.is_in_core(g, x)
    assert G.is_in_core(g, G.nucleolus(g))


def test_excesses_by_hand():
    e = G.excesses(hand_game(), [0.5, 0.5, 5.0])
    assert list(e.index) == list(range(1, 8))
    # masks: 1 {A}, 2 {B}, 3 {A,B}, 4 {C}, 5 {A,C}, 6 {B,C}, 7 N
    np.testing.assert_allclose(e.to_numpy(), [0.5, 0.5, 3.0, -5.0, -2.5, -3.5, 0.0])


@SOME
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 5))
def test_is_in_core_agrees_with_core_violations(seed, n):
    g = game_with_core(seed, n)
    rng = np.random.default_rng(seed)
    m, inc = masks(n)
    candidates = [G.nucleolus(g).to_numpy(), G.shapley(g).to_numpy()]
    candidates += [rng.normal(0, 5, n) for _ in range(3)]
    candidates = [x - (x.sum() - g.grand) / n * k for x in candidates for k in (1, 0.5)]
    tol = 1e-9 * max(1.0, np.abs(g.values).max())
    for x in candidates:
        if x.sum() > g.grand + tol:
            continue
        table = G.core_violations(g, x)
        short = g.values[m] - inc @ x
        assert sorted(table["shortfall"].tolist(), reverse=True) == table["shortfall"].tolist()
        assert set(map(tuple, table["players"])) == {
            g.coalition_players(k) for k, s in zip(m, short, strict=True) if s > tol}
        np.testing.assert_allclose(np.sort(table["shortfall"].to_numpy()),
                                   np.sort(short[short > tol]))
        in_core = G.is_in_core(g, x)
        assert in_core == (table.empty and abs(x.sum() - g.grand) <= tol)
        np.testing.assert_allclose(G.excesses(g, x).to_numpy(), short, atol=1e-12)
