"""Monte Carlo scenarios (`rs.simulate`, docs/workshop.md): reproducibility, the correlation and
volatility the module docstring promises (checked within sampling error), the t option, the
recipe (variances = base + shock + draws) and the validation of its settings.

Statistical checks use n = 200,000 and allow ~4 standard errors: the s.e. of a sample
correlation is about (1 − ρ²)/√n (0.0020 at ρ = 0.3, 0.0017 at ρ = 0.5) and of a sample s.d.
about σ/√(2n) (0.16% of σ) for normal draws.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import riskshare as rs

M = 1_000_000.0
N = 200_000


def trio(volatility=(2.0, 3.0, 1.0)) -> rs.System:
    """Two acute trusts (P, Q) and a community trust (R); volatility % of turnover."""
    frame = pd.DataFrame({"org_id": ["P", "Q", "R"], "name": ["Pea", "Queue", "Are"],
                          "kind": ["acute", "acute", "community"],
                          "turnover": [500 * M, 200 * M, 100 * M],
                          "control_total": [-5 * M, 0.0, 1 * M],
                          "forecast": [-8 * M, 1 * M, 1.5 * M],
                          "volatility": list(volatility)})
    return rs.System.from_frame(frame, None, "Trio", "test")


def corr(a, b) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def se_corr(rho: float, n: int = N) -> float:
    return (1 - rho ** 2) / math.sqrt(n)


def excess_kurtosis(x) -> float:
    z = (x - x.mean()) / x.std()
    return float((z ** 4).mean() - 3.0)


@pytest.fixture(scope="module")
def big():
    """200,000 normal scenarios with ρ = 0.3 and a further 0.2 within kind."""
    return rs.simulate(trio(), N, seed=11, correlation=0.3, kind_correlation=0.2)


# -- reproducibility and shape ---------------------------------------------------------------------
def test_same_seed_gives_identical_arrays():
    a = rs.simulate(trio(), 1_000, seed=7, correlation=0.4, kind_correlation=0.1)
    b = rs.simulate(trio(), 1_000, seed=7, correlation=0.4, kind_correlation=0.1)
    np.testing.assert_array_equal(a.variances, b.variances)
    np.testing.assert_array_equal(a.draws, b.draws)


def test_different_seeds_differ():
    a = rs.simulate(trio(), 1_000, seed=1)
    b = rs.simulate(trio(), 1_000, seed=2)
    assert not np.allclose(a.draws, b.draws)
    assert (a.draws != b.draws).all()


def test_shape_is_scenarios_by_members_and_frame_labels_them():
    sc = rs.simulate(trio(), 37, seed=0)
    assert sc.variances.shape == sc.draws.shape == (37, 3)
    assert sc.base.shape == sc.shock.shape == sc.volatility.shape == (3,)
    assert sc.n == 37
    frame = sc.frame()
    assert list(frame.columns) == ["P", "Q", "R"] and frame.index.name == "scenario"
    assert "37 scenarios" in sc.describe() and "seed 0" in sc.describe()


# -- correlation and volatility ----------------------------------------------------------------------
def test_correlation_between_kinds_is_rho(big):
    # P (acute) and R (community) share only the system factor: ρ = 0.3.
    d = big.draws
    assert corr(d[:, 0], d[:, 2]) == pytest.approx(0.3, abs=4 * se_corr(0.3))
    assert corr(d[:, 1], d[:, 2]) == pytest.approx(0.3, abs=4 * se_corr(0.3))


def test_correlation_within_a_kind_is_rho_plus_kind_correlation(big):
    # P and Q are both acute: ρ + ρ_k = 0.3 + 0.2 = 0.5.
    assert corr(big.draws[:, 0], big.draws[:, 1]) == pytest.approx(0.5, abs=4 * se_corr(0.5))


def test_each_members_sd_is_volatility_pct_of_turnover(big):
    # P: 2% × £500m = £10m; Q: 3% × £200m = £6m; R: 1% × £100m = £1m.
    expected = np.array([10 * M, 6 * M, 1 * M])
    sd = big.draws.std(axis=0, ddof=1)
    np.testing.assert_allclose(sd, expected, rtol=4 / math.sqrt(2 * N))
    np.testing.assert_allclose(big.volatility, [2.0, 3.0, 1.0])
    # and the draws are centred on zero (s.e. σ/√n)
    np.testing.assert_allclose(big.draws.mean(axis=0), 0.0, atol=4 * 10 * M / math.sqrt(N))


def test_without_kind_correlation_same_kind_members_correlate_at_rho():
    sc = rs.simulate(trio(), N, seed=3, correlation=0.3)
    assert corr(sc.draws[:, 0], sc.draws[:, 1]) == pytest.approx(0.3, abs=4 * se_corr(0.3))


def test_zero_correlation_gives_independent_draws():
    sc = rs.simulate(trio(), N, seed=4, correlation=0.0)
    assert corr(sc.draws[:, 0], sc.draws[:, 2]) == pytest.approx(0.0, abs=4 * se_corr(0.0))


def test_blank_volatility_falls_back_to_the_kind_default():
    # Q (acute) blank → 2.0%; R (community) blank → 1.0%. Q: 2% × £200m = £4m s.d.
    sc = rs.simulate(trio((2.0, np.nan, np.nan)), N, seed=5)
    np.testing.assert_allclose(sc.volatility, [2.0, 2.0, 1.0])
    sd = sc.draws.std(axis=0, ddof=1)
    np.testing.assert_allclose(sd, [10 * M, 4 * M, 1 * M], rtol=4 / math.sqrt(2 * N))


def test_volatility_scale_scales_the_sd_exactly():
    # The same seed draws the same standard normals, so scaling is exact, not statistical.
    a = rs.simulate(trio(), 2_000, seed=6)
    b = rs.simulate(trio(), 2_000, seed=6, volatility_scale=2.5)
    np.testing.assert_allclose(b.draws, 2.5 * a.draws)
    np.testing.assert_allclose(b.volatility, [5.0, 7.5, 2.5])
    zero = rs.simulate(trio(), 10, seed=6, volatility_scale=0.0)
    np.testing.assert_array_equal(zero.draws, 0.0)


# -- the t distribution ------------------------------------------------------------------------------
def test_t_keeps_the_sd_and_correlation_but_has_fatter_tails():
    # t with 8 d.f.: excess kurtosis 6/(8 − 4) = 1.5; normal 0 (s.e. √(24/n) ≈ 0.011).
    t = rs.simulate(trio(), N, seed=8, correlation=0.3, distribution="t", df=8)
    normal = rs.simulate(trio(), N, seed=8, correlation=0.3)
    assert t.distribution == "t" and t.df == 8.0 and normal.df is None
    np.testing.assert_allclose(t.draws.std(axis=0, ddof=1), [10 * M, 6 * M, 1 * M], rtol=0.012)
    assert corr(t.draws[:, 0], t.draws[:, 2]) == pytest.approx(0.3, abs=0.015)
    for j in range(3):
        assert excess_kurtosis(normal.draws[:, j]) == pytest.approx(0.0, abs=0.06)
        assert excess_kurtosis(t.draws[:, j]) > 0.8
    assert "t with 8 d.f." in t.describe()


@pytest.mark.parametrize("df", [2, 1.5, 0, -3])
def test_t_with_df_at_most_2_is_refused(df):
    with pytest.raises(rs.ValidationError) as err:
        rs.simulate(trio(), 10, distribution="t", df=df)
    assert "key 'df'" in str(err.value)
    assert "degrees of freedom must be greater than 2" in str(err.value)


# -- the recipe ---------------------------------------------------------------------------------------
def test_variances_are_base_plus_shock_plus_draws_exactly():
    system = rs.load_sample("northshire_2018_19")
    sc = rs.simulate(system, 500, seed=9, shocks=["winter_pressure", "provider_10m"])
    np.testing.assert_array_equal(sc.variances, sc.base + sc.shock + sc.draws)
    np.testing.assert_array_equal(sc.base, system.variance.to_numpy(float))
    assert [s.name for s in sc.shocks] == ["Winter pressure: acute −2% of turnover",
                                           "One member £10m adverse (NGH)"]
    assert "shocks: Winter pressure" in sc.describe()


# -- bad settings --------------------------------------------------------------------------------------
BAD = [
    ("n_zero", dict(n=0), ["key 'n'", "must be a whole number of scenarios, at least 1"]),
    ("n_negative", dict(n=-5), ["key 'n'", "-5 must be a whole number of scenarios"]),
    ("n_float", dict(n=2.5), ["key 'n'", "2.5 must be a whole number of scenarios"]),
    ("n_string", dict(n="100"), ["key 'n'", "'100' must be a whole number of scenarios"]),
    ("n_bool", dict(n=True), ["key 'n'", "must be a whole number of scenarios"]),
    ("correlation_high", dict(n=10, correlation=1.5), ["key 'correlation'", "1.5 must lie in [0, 1]"]),
    ("correlation_negative", dict(n=10, correlation=-0.1),
     ["key 'correlation'", "-0.1 must lie in [0, 1]"]),
    ("kind_correlation_negative", dict(n=10, kind_correlation=-0.2),
     ["key 'kind_correlation'", "-0.2 must lie in [0, 1]"]),
    ("sum_above_one", dict(n=10, correlation=0.6, kind_correlation=0.5),
     ["key 'kind_correlation'", "correlation + kind_correlation must be at most 1 (got 1.1)"]),
    ("unknown_distribution", dict(n=10, distribution="cauchy"),
     ["key 'distribution'", "'cauchy' must be one of: normal, t"]),
    ("volatility_scale_negative", dict(n=10, volatility_scale=-1.0),
     ["key 'volatility_scale'", "must be a number ≥ 0"]),
]


@pytest.mark.parametrize("kwargs, fragments", [(k, f) for _, k, f in BAD],
                         ids=[i for i, _, _ in BAD])
def test_bad_settings_raise_validation_error_naming_the_key(kwargs, fragments):
    with pytest.raises(rs.ValidationError) as err:
        rs.simulate(trio(), **kwargs)
    message = str(err.value)
    assert "in simulation settings" in message
    for fragment in fragments:
        assert fragment in message


def test_every_bad_setting_is_reported_at_once():
    with pytest.raises(rs.ValidationError) as err:
        rs.simulate(trio(), 0, correlation=2.0, distribution="lognormal")
    keys = {p.column for p in err.value.problems}
    assert {"n", "correlation", "distribution"} <= keys


def test_correlation_of_exactly_one_is_allowed_and_makes_draws_comonotone():
    sc = rs.simulate(trio(), 1_000, seed=2, correlation=1.0)
    z = sc.draws / np.array([10 * M, 6 * M, 1 * M])
    np.testing.assert_allclose(z[:, 0], z[:, 2])
