"""Bankruptcy (claims) rules: published examples, hand-worked cases, brute force and properties."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from riskshare import claims as cl
from riskshare.core.errors import ValidationError

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
THIRD = 100 / 3
ALL_RULES = sorted(cl.RULES)


def tol(estate) -> float:
    """The precision the module promises: 1e-9·max(1, E) pounds."""
    return 1e-9 * max(1.0, float(np.max(estate)))


def brute_force_random_arrival(estate: float, claims) -> np.ndarray:
    """Average over all orderings of what each claimant takes on arrival: min(c_i, what is left)."""
    claims = list(claims)
    total = np.zeros(len(claims))
    orders = list(itertools.permutations(range(len(claims))))
    for order in orders:
        left = estate
        for i in order:
            take = min(claims[i], left)
            total[i] += take
            left -= take
    return total / len(orders)


def contested_garment(estate: float, c1: float, c2: float) -> tuple[float, float]:
    """Two claimants: each gets what the other concedes, max(0, E − c_other); the rest is halved."""
    conceded_to_1, conceded_to_2 = max(0.0, estate - c2), max(0.0, estate - c1)
    rest = estate - conceded_to_1 - conceded_to_2
    return conceded_to_1 + rest / 2, conceded_to_2 + rest / 2


# -- published examples ---------------------------------------------------------------------------
@pytest.mark.parametrize("estate, expected", [
    (100, (THIRD, THIRD, THIRD)),
    (200, (50, 75, 75)),
    (300, (50, 100, 150)),
])
def test_talmud_reproduces_the_mishnah_ketubot_table(estate, expected):
    # Aumann & Maschler (1985): a man with three wives whose marriage contracts are 100, 200 and
    # 300 dies leaving 100, 200 or 300; the Mishnah's divisions are exactly the Talmud rule.
    assert cl.talmud(estate, [100, 200, 300]) == pytest.approx(expected, abs=1e-9)


def test_talmud_beyond_half_and_the_contested_garment():
    # E = 400 > Σc/2 = 300: half-claims (50, 100, 150) plus CEL(100, (50, 100, 150)):
    # losses of μ each from 300 leave 100 -> μ = 66⅔ > 50, so claimant 1 gets nothing there and
    # (100 − μ) + (150 − μ) = 100 -> μ = 75 -> (0, 25, 75); total (50, 125, 225).
    assert cl.talmud(400, [100, 200, 300]) == pytest.approx((50, 125, 225), abs=1e-9)
    # Baba Metzia: two hold a garment, one claims half, the other all of it -> 1/4 and 3/4.
    assert cl.talmud(1.0, [0.5, 1.0]) == pytest.approx((0.25, 0.75), abs=1e-9)


def test_constrained_equal_losses_published_example():
    # Claims (50, 100, 150), estate 200: the loss of 100 is split equally, μ = 33⅓.
    assert cl.constrained_equal_losses(200, [50, 100, 150]) == pytest.approx(
        (50 / 3, 200 / 3, 350 / 3), abs=1e-9)


# -- hand-worked cases ----------------------------------------------------------------------------
@pytest.mark.parametrize("estate, expected", [
    (100, (THIRD, THIRD, THIRD)),    # 3λ = 100 -> λ = 33⅓, below every claim
    (200, (200 / 3,) * 3),           # 3λ = 200 -> λ = 66⅔, still below every claim
    (300, (100, 100, 100)),          # 3λ = 300 -> λ = 100 = c_1: claimant 1 just paid in full
    (500, (100, 200, 200)),          # 100 + 2λ = 500 -> λ = 200: claimant 2 just paid in full
    (600, (100, 200, 300)),          # E = Σc: all claims paid
])
def test_constrained_equal_awards_by_hand(estate, expected):
    assert cl.constrained_equal_awards(estate, [100, 200, 300]) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("estate, expected", [
    (100, (0, 0, 100)),     # 600 − 3μ = 100 -> μ = 166⅔ > 100, so drop 1: 500 − 2μ = 100, μ = 200
    (200, (0, 50, 150)),    # 500 − 2μ = 200 -> μ = 150 (≥ 100, so claimant 1 still gets 0)
    (300, (0, 100, 200)),   # 500 − 2μ = 300 -> μ = 100 = c_1
    (450, (50, 150, 250)),  # 600 − 3μ = 450 -> μ = 50
])
def test_constrained_equal_losses_by_hand(estate, expected):
    assert cl.constrained_equal_losses(estate, [100, 200, 300]) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("estate, expected", [
    (100, (100 / 6, THIRD, 50)),     # 100 × (1, 2, 3)/6
    (200, (THIRD, 200 / 3, 100)),    # 200 × (1, 2, 3)/6
    (300, (50, 100, 150)),           # 300 × (1, 2, 3)/6
])
def test_proportional_by_hand(estate, expected):
    assert cl.proportional(estate, [100, 200, 300]) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("estate, expected", [
    # E = 100: whoever arrives first takes 100 (every claim is ≥ 100) and the others get 0.
    # Each claimant is first in 2 of the 6 orderings: 2 × 100 / 6 = 33⅓ each.
    (100, (THIRD, THIRD, THIRD)),
    # E = 200, awards (A, B, C) by ordering:
    #   ABC (100, 100, 0)  ACB (100, 0, 100)  BAC (0, 200, 0)
    #   BCA (0, 200, 0)    CAB (0, 0, 200)    CBA (0, 0, 200)
    # A: 200/6 = 33⅓, B: 500/6 = 83⅓, C: 500/6 = 83⅓.
    (200, (THIRD, 500 / 6, 500 / 6)),
    # E = 300:
    #   ABC (100, 200, 0)  ACB (100, 0, 200)  BAC (100, 200, 0)
    #   BCA (0, 200, 100)  CAB (0, 0, 300)    CBA (0, 0, 300)
    # A: 300/6 = 50, B: 600/6 = 100, C: 900/6 = 150.
    (300, (50, 100, 150)),
])
def test_random_arrival_by_hand(estate, expected):
    assert cl.random_arrival(estate, [100, 200, 300]) == pytest.approx(expected, abs=1e-9)
    assert brute_force_random_arrival(estate, [100, 200, 300]) == pytest.approx(expected, abs=1e-9)


def test_random_arrival_exact_path_equals_brute_force_over_permutations():
    rng = np.random.default_rng(2024)
    for case in range(60):
        n = int(rng.integers(1, 7))
        # integer claims make ties and zero claims common; otherwise continuous claims
        claims = (rng.integers(0, 6, n) * 10.0 if case % 2 else rng.uniform(0, 1000, n))
        estate = float(rng.uniform(0, 1.1) * claims.sum())
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the exact path must not warn
            got = cl.random_arrival(estate, claims)
        assert got == pytest.approx(brute_force_random_arrival(estate, claims), abs=tol(estate))


def test_random_arrival_exact_at_exact_max_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cl.random_arrival(50, [10, 20, 30, 40], exact_max=4)


# -- the sampled path -----------------------------------------------------------------------------
def test_random_arrival_sampled_path_warns_is_reproducible_and_close():
    claims, estate, samples = [10.0, 20.0, 30.0, 40.0, 50.0], 75.0, 20000
    exact = cl.random_arrival(estate, claims)  # 5 ≤ exact_max = 12: exact
    with pytest.warns(RuntimeWarning, match=r"sampled.*20000 random orderings"):
        first = cl.random_arrival(estate, claims, exact_max=3, samples=samples, seed=7)
    with pytest.warns(RuntimeWarning):
        again = cl.random_arrival(estate, claims, exact_max=3, samples=samples, seed=7)
    with pytest.warns(RuntimeWarning):
        other = cl.random_arrival(estate, claims, exact_max=3, samples=samples, seed=8)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    # Every ordering hands out the whole estate, so the sample mean does too.
    assert first.sum() == pytest.approx(estate, abs=tol(estate))
    # Each award in one ordering lies in [0, c_i], so its variance is at most c_i²/4 and the
    # standard error of the mean of 20000 independent orderings at most c_i/(2·√20000) ≈
    # 0.0035·c_i. Five standard errors (0.018·c_i, under £0.90 here) is a generous bound.
    bound = 5 * np.array(claims) / (2 * math.sqrt(samples))
    assert np.all(np.abs(first - exact) <= bound)


def test_random_arrival_sampled_path_on_scenarios_warns_once():
    claims = np.array([[10.0, 20.0, 30.0, 40.0], [5.0, 5.0, 5.0, 5.0]])
    with pytest.warns(RuntimeWarning) as record:
        got = cl.random_arrival([50.0, 10.0], claims, exact_max=2, samples=4000, seed=1)
    assert len([w for w in record if issubclass(w.category, RuntimeWarning)]) == 1
    assert got.shape == (2, 4)
    # equal claims: the exact answer is 2.5 each; sampled is close
    assert got[1] == pytest.approx([2.5] * 4, abs=5 * 5 / (2 * math.sqrt(4000)))
    assert got.sum(axis=1) == pytest.approx([50.0, 10.0], abs=1e-9)


# -- shapes, the surplus convention, precision ----------------------------------------------------
@pytest.mark.parametrize("name", ALL_RULES)
def test_shapes_follow_the_inputs(name):
    rule = cl.RULES[name]
    assert rule(100, [100, 200, 300]).shape == (3,)
    assert rule([100, 200], [100, 200, 300]).shape == (2, 3)
    assert rule(100, [[100, 200, 300], [1, 2, 3]]).shape == (2, 3)
    assert rule([100, 200], [[100, 200, 300], [1, 2, 3]]).shape == (2, 3)
    assert rule(np.float64(5), np.array([])).shape == (0,)
    by_rows = rule([100, 200, 300], [100, 200, 300])
    for r, estate in enumerate([100, 200, 300]):
        assert by_rows[r] == pytest.approx(rule(estate, [100, 200, 300]), abs=1e-9)


@pytest.mark.parametrize("name", ALL_RULES)
def test_surplus_is_not_awarded(name):
    got = cl.RULES[name](1000, [100, 200, 300])
    np.testing.assert_array_equal(got, [100, 200, 300])
    np.testing.assert_array_equal(cl.RULES[name](5, [0, 0]), [0, 0])
    np.testing.assert_array_equal(cl.RULES[name](0, [1, 2]), [0, 0])


@pytest.mark.parametrize("name", ALL_RULES)
def test_precision_when_claims_dwarf_the_estate(name):
    claims = np.array([1e12, 1e12 + 1, 3.0, 7e11])
    for estate in (1.0, 0.37, 123.45, 2e11):
        got = cl.RULES[name](estate, claims)
        assert got.sum() == pytest.approx(estate, abs=tol(estate))
        assert np.all(got >= 0) and np.all(got <= claims)


def test_apply_rule_uses_the_registry_and_passes_options():
    assert set(cl.RULES) == {"proportional", "cea", "cel", "talmud", "random_arrival"}
    assert cl.apply_rule("talmud", 200, [100, 200, 300]) == pytest.approx((50, 75, 75), abs=1e-9)
    assert cl.apply_rule("cel", 200, [50, 100, 150]) == pytest.approx(
        cl.constrained_equal_losses(200, [50, 100, 150]), abs=0)
    with pytest.warns(RuntimeWarning):
        cl.apply_rule("random_arrival", 5, [1, 2, 3], exact_max=1, samples=10, seed=3)


# -- properties -----------------------------------------------------------------------------------
amounts = st.one_of(st.integers(0, 1000).map(float),
                    st.floats(0, 1e6, allow_nan=False, allow_infinity=False))


@st.composite
def problems(draw, min_n=1, max_n=6):
    """(estate, claims): claims ≥ 0 with ties and zeros likely; estate from 0 to 120% of Σc."""
    claims = draw(st.lists(amounts, min_size=min_n, max_size=max_n))
    if draw(st.booleans()) and len(claims) > 1:  # force a tie
        claims[-1] = claims[0]
    share = draw(st.one_of(st.sampled_from([0.0, 0.5, 1.0, 1.2]), st.floats(0, 1.2)))
    return share * sum(claims), np.array(claims)


rule_names = st.sampled_from(ALL_RULES)


@FAST
@given(rule_names, problems())
def test_awards_are_bounded_by_claims_and_sum_to_the_smaller_of_estate_and_claims(name, problem):
    estate, claims = problem
    got = cl.RULES[name](estate, claims)
    assert got.shape == claims.shape
    assert np.all(got >= 0) and np.all(got <= claims)
    assert got.sum() == pytest.approx(min(estate, claims.sum()), abs=tol(estate))


@FAST
@given(rule_names, problems(min_n=2))
def test_equal_claims_get_equal_awards(name, problem):
    estate, claims = problem
    claims[-1] = claims[0]
    got = cl.RULES[name](estate, claims)
    assert got[-1] == pytest.approx(got[0], abs=tol(estate))


@FAST
@given(rule_names, problems(), st.floats(0, 1), st.floats(0, 1))
def test_awards_never_fall_as_the_estate_grows(name, problem, u, v):
    _, claims = problem
    low, high = sorted((u, v))
    small = cl.RULES[name](low * 1.2 * claims.sum(), claims)
    big = cl.RULES[name](high * 1.2 * claims.sum(), claims)
    assert np.all(big >= small - tol(claims.sum()))


@FAST
@given(rule_names, problems(), st.randoms(use_true_random=False))
def test_permuting_claimants_permutes_awards(name, problem, random):
    estate, claims = problem
    order = list(range(len(claims)))
    random.shuffle(order)
    got = cl.RULES[name](estate, claims[order])
    assert got == pytest.approx(cl.RULES[name](estate, claims)[order], abs=tol(estate))


@FAST
@given(rule_names, problems(), st.floats(0.01, 100))
def test_scaling_the_problem_scales_the_awards(name, problem, k):
    estate, claims = problem
    got = cl.RULES[name](k * estate, k * claims)
    expected = k * cl.RULES[name](estate, claims)
    assert got == pytest.approx(expected, abs=tol(k * estate) + tol(estate))


@FAST
@given(rule_names, st.integers(1, 5), st.integers(1, 5), st.data())
def test_the_scenario_path_equals_row_by_row_calls(name, n_scenarios, n, data):
    rows = [data.draw(problems(min_n=n, max_n=n)) for _ in range(n_scenarios)]
    estates = np.array([r[0] for r in rows])
    claims = np.array([r[1] for r in rows])
    got = cl.RULES[name](estates, claims)
    assert got.shape == (n_scenarios, n)
    for s in range(n_scenarios):
        assert got[s] == pytest.approx(cl.RULES[name](estates[s], claims[s]), abs=tol(estates[s]))
    # one estate for every row, one claims vector for every estate
    assert cl.RULES[name](estates[0], claims) == pytest.approx(
        np.array([cl.RULES[name](estates[0], c) for c in claims]), abs=tol(estates[0]))
    assert cl.RULES[name](estates, claims[0]) == pytest.approx(
        np.array([cl.RULES[name](e, claims[0]) for e in estates]), abs=tol(estates))


@FAST
@given(problems())
def test_talmud_keeps_the_half_principle(problem):
    estate, claims = problem
    got = cl.talmud(estate, claims)
    half = claims / 2
    if estate <= claims.sum() / 2:
        assert np.all(got <= half + tol(estate))
    if estate >= claims.sum() / 2:
        assert np.all(got >= half - tol(estate))


@FAST
@given(problems(min_n=2))
def test_talmud_is_consistent_with_the_contested_garment(problem):
    # Aumann & Maschler: any two claimants split what they got together by the contested-garment
    # rule (each gets what the other concedes, the rest halved); the Talmud rule is the only rule
    # with this property.
    estate, claims = problem
    assume(estate <= claims.sum())
    got = cl.talmud(estate, claims)
    for i, j in itertools.combinations(range(len(claims)), 2):
        pair = contested_garment(got[i] + got[j], claims[i], claims[j])
        assert (got[i], got[j]) == pytest.approx(pair, abs=tol(estate))


@FAST
@given(problems(min_n=2, max_n=2))
def test_two_claimants_talmud_random_arrival_and_contested_garment_agree(problem):
    estate, claims = problem
    assume(estate <= claims.sum())
    expected = contested_garment(estate, *claims)
    assert cl.talmud(estate, claims) == pytest.approx(expected, abs=tol(estate))
    assert cl.random_arrival(estate, claims) == pytest.approx(expected, abs=tol(estate))


@FAST
@given(problems())
def test_cea_and_cel_are_dual(problem):
    # The losses under CEL are the CEA division of the total loss Σc − E.
    estate, claims = problem
    assume(estate <= claims.sum())
    loss = claims - cl.constrained_equal_losses(estate, claims)
    assert loss == pytest.approx(cl.constrained_equal_awards(claims.sum() - estate, claims),
                                 abs=tol(claims.sum()))


@settings(max_examples=40, deadline=None)
@given(problems(max_n=5))
def test_random_arrival_matches_brute_force(problem):
    estate, claims = problem
    assert cl.random_arrival(estate, claims) == pytest.approx(
        brute_force_random_arrival(estate, claims), abs=tol(estate))


# -- bad inputs -----------------------------------------------------------------------------------
def message(excinfo) -> str:
    return str(excinfo.value)


@pytest.mark.parametrize("name", ALL_RULES)
def test_negative_estate_is_rejected(name):
    with pytest.raises(ValidationError, match=r"estate.*-5 is negative"):
        cl.RULES[name](-5, [1, 2])
    with pytest.raises(ValidationError, match=r"estate\[1\]'.*-1 is negative"):
        cl.RULES[name]([3, -1], [1, 2])


@pytest.mark.parametrize("name", ALL_RULES)
def test_bad_claims_are_rejected_with_their_position(name):
    with pytest.raises(ValidationError) as excinfo:
        cl.RULES[name](5, [1, -2, np.nan, np.inf])
    text = message(excinfo)
    assert "3 problems" in text
    assert "claims[1]': -2 is negative" in text
    assert "claims[2]': nan is not a number" in text
    assert "claims[3]': inf is not finite" in text
    with pytest.raises(ValidationError, match=r"claims\[1, 0\]'.*-3 is negative"):
        cl.RULES[name](5, [[1, 2], [-3, 4]])


@pytest.mark.parametrize("name", ALL_RULES)
def test_mismatched_or_wrong_shapes_are_rejected(name):
    rule = cl.RULES[name]
    with pytest.raises(ValidationError, match=r"estate.*has 2 scenarios but claims has 3 rows"):
        rule([1, 2], np.ones((3, 4)))
    with pytest.raises(ValidationError, match=r"claims.*not an array of shape \(\)"):
        rule(1, 5)
    with pytest.raises(ValidationError, match=r"claims.*shape \(2, 2, 2\)"):
        rule(1, np.ones((2, 2, 2)))
    with pytest.raises(ValidationError, match=r"estate.*shape \(1, 2\)"):
        rule([[1, 2]], [1, 2])
    with pytest.raises(ValidationError, match=r"claims.*'abc' must be a number"):
        rule(1, "abc")


def test_every_problem_is_reported_at_once():
    with pytest.raises(ValidationError) as excinfo:
        cl.talmud([-1, np.nan], [[1, -2], [1, 2], [3, 4]])
    assert len(excinfo.value.problems) == 4  # two estates, one claim, the shape mismatch
    assert "talmud(estate, claims)" in message(excinfo)


def test_many_bad_claims_are_summarised():
    with pytest.raises(ValidationError) as excinfo:
        cl.proportional(1, -np.ones(25))
    assert len(excinfo.value.problems) == 11
    assert "and 15 more entries" in message(excinfo)


def test_unknown_rule_names_the_valid_ones():
    with pytest.raises(ValidationError) as excinfo:
        cl.apply_rule("shapley", 1, [1, 2])
    text = message(excinfo)
    assert "'shapley' is not a claims rule" in text
    for name in ("proportional", "cea", "cel", "talmud", "random_arrival"):
        assert name in text
    with pytest.raises(ValidationError, match="is not a claims rule"):
        cl.apply_rule(None, 1, [1, 2])


@pytest.mark.parametrize("kwargs, key", [
    ({"exact_max": -1}, "exact_max"), ({"exact_max": 40}, "exact_max"),
    ({"exact_max": 2.5}, "exact_max"), ({"samples": 0}, "samples"),
])
def test_random_arrival_options_are_checked(kwargs, key):
    with pytest.raises(ValidationError, match=key):
        cl.random_arrival(1, [1, 2], **kwargs)
    with pytest.raises(ValidationError) as excinfo:  # reported together with bad claims
        cl.random_arrival(1, [1, -2], **kwargs)
    assert len(excinfo.value.problems) == 2


@pytest.mark.parametrize("estate, claims", [("100", [1, 2]), (True, [1, 2]), (100, ["1", 2]),
                                            (100, [False, 2])])
def test_text_and_true_false_are_not_pounds(estate, claims):
    for rule in (cl.proportional, cl.talmud, cl.random_arrival):
        with pytest.raises(ValidationError, match="not text or True/False"):
            rule(estate, claims)
