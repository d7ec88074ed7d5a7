"""In year, properties: quarterly against annual support, the fan narrowing to nothing at month
12, money conserved, and the bridge's spread as independent months give it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import riskshare as rs
from riskshare.core.monthly import monthly_from_frame
from riskshare.core.samples import synthetic

M = 1_000_000.0
POOLED = '''name = "Pooled, quarterly support"
[gains]
bands = [{ upto = 1.0, pool = 0.0 }, { pool = 0.5 }]
[pool]
distribute = "basis"
basis = "turnover"
[support]
period = "quarter"
after_sharing = true
'''


def closed_year(system: rs.System, seed: int, months: int = 12) -> rs.Monthly:
    """Random in-month actuals around each member's evenly phased control total."""
    rng = np.random.default_rng(seed)
    rows = []
    for org, oct_, turnover in zip(system.members, system.orgs["control_total"],
                                   system.orgs["turnover"], strict=True):
        noise = rng.normal(0.0, 0.002 * turnover, months)
        for k in range(months):
            rows.append({"org_id": org, "month": k + 1,
                         "actual": round(oct_ / 12 + noise[k], 2)})
    return monthly_from_frame(pd.DataFrame(rows, columns=["org_id", "month", "actual"]), system)


@pytest.mark.parametrize("seed", range(6))
def test_members_passing_or_failing_every_quarter_earn_as_the_annual_test_pays(seed):
    system = synthetic(12, seed)
    monthly = closed_year(system, seed)
    annual = rs.load_agreement(POOLED.replace('period = "quarter"\n', ""))
    q = rs.apply(POOLED, system, monthly=monthly)
    y = rs.apply(annual, system, monthly=monthly)
    frac = q.arrays.quarter_fraction[0]
    support = system.orgs["support"].to_numpy()
    every = (frac == 1.0).all(axis=1) | (frac == 0.0).all(axis=1)
    assert every.any()
    assert np.array_equal(q["support_earned"][every], y["support_earned"][every])
    # and the rest of the agreement is the year-end agreement, unchanged
    for column in ("pooled", "received", "outturn"):
        assert np.array_equal(q[column], y[column])
    assert np.all(q["support_earned"] <= support + 0.005)


@pytest.mark.parametrize("taper", [0.0, 1.5])
def test_without_monthly_figures_quarters_judge_as_the_year_does(taper):
    # no months: the variance accrues evenly, v × e / 12, so every quarter is the year's test
    system = synthetic(10, 3)
    rng = np.random.default_rng(0)
    v = rng.normal(0.0, 5 * M, (400, system.n))
    text = POOLED.replace("after_sharing = true", f"after_sharing = true\ntaper = {taper}")
    for test in ("organisation", "system"):
        body = text.replace('period = "quarter"', f'period = "quarter"\ntest = "{test}"')
        q = rs.apply(body, system, v)
        y = rs.apply(body.replace('period = "quarter"\n', ""), system, v)
        np.testing.assert_allclose(q["support_earned"], y["support_earned"], atol=1e-6)
        np.testing.assert_allclose(q["standalone"], y["standalone"], atol=1e-6)


def test_at_month_12_the_fan_has_no_spread_and_earlier_it_narrows():
    system = synthetic(8, 1)
    monthly = closed_year(system, 1)
    spreads = []
    for month in (3, 6, 9, 12):
        land = rs.landing(system, monthly, POOLED, month=month, n=4_000, seed=5)
        spreads.append(float(land.table.loc["SYSTEM", "p95"] - land.table.loc["SYSTEM", "p5"]))
    assert spreads[0] > spreads[1] > spreads[2] > spreads[3]
    assert spreads[3] == 0.0
    at12 = rs.landing(system, monthly, POOLED, month=12, n=500, seed=5)
    assert (at12.table["p5"] == at12.table["p95"]).all()
    # with the year closed the outcome is the deterministic one
    det = rs.apply(POOLED, system, monthly=monthly)
    np.testing.assert_allclose(at12.table["mean_final"].drop("SYSTEM").to_numpy(),
                               det["final"], atol=0.01)


def test_money_is_conserved_in_every_in_year_scenario():
    system = synthetic(9, 2)
    monthly = closed_year(system, 2, months=6)
    scen = rs.simulate(system, 2_000, seed=3, monthly=monthly)
    out = rs.apply(POOLED, system, scen)
    gap = out["received"].sum(axis=1) + out.arrays.unallocated - out["pooled"].sum(axis=1)
    assert np.abs(gap).max() < 1e-4
    assert out.arrays.quarter_fraction.shape == (2_000, 9, 4)
    # quarters 1–2 are closed: the same in every scenario
    closed = out.arrays.quarter_fraction[:, :, :2]
    assert (closed == closed[:1]).all()


def test_the_bridge_spreads_as_independent_months():
    # from month 6 (6 months to come), a member with volatility σ: the year-end draw has
    # sd σ·√(6/12); at month 9 the bridge's deviation from the straight line has variance
    # σ_m²·u·(T − u)/T with σ_m = σ/√12, u = 3, T = 6: sd σ·√(1.5/12) = σ·0.35355
    system = synthetic(3, 0)
    monthly = closed_year(system, 0, months=6)
    scen = rs.simulate(system, 100_000, seed=11, correlation=0.0, monthly=monthly)
    sigma = (system.volatility().to_numpy() / 100) * system.orgs["turnover"].to_numpy()
    np.testing.assert_allclose(scen.draws.std(axis=0), sigma * np.sqrt(0.5), rtol=0.02)
    q3 = scen.bridge[:, :, 2]
    np.testing.assert_allclose(q3.std(axis=0), sigma * np.sqrt(1.5 / 12), rtol=0.02)
    assert np.abs(q3.mean(axis=0)).max() < 0.02 * sigma.max()
    assert (scen.bridge[:, :, [0, 1, 3]] == 0).all()     # closed quarters, and the year end
    # before any month has closed the draws are today's, unchanged
    start = closed_year(system, 0, months=0)
    np.testing.assert_allclose(rs.simulate(system, 1_000, seed=4, monthly=start).draws,
                               rs.simulate(system, 1_000, seed=4).draws)


def test_a_year_simulated_in_year_from_an_earlier_month_is_refused_with_other_months():
    system = synthetic(3, 0)
    monthly = closed_year(system, 0, months=9)
    scen = rs.simulate(system, 50, seed=1, monthly=monthly, month=6)
    with pytest.raises(rs.UsageError, match="simulated from month 6"):
        rs.apply(POOLED, system, scen, monthly=rs.in_year(system, monthly, month=9))
    replace(scen)  # a frozen dataclass: copies keep the year


def test_threads_change_nothing(monkeypatch):
    # the draws, the engine's chunks and the percentiles may run on several threads: the same
    # seed gives exactly the same scenarios and fan with one thread as with several
    from riskshare.inyear import fan
    from riskshare.scenarios import simulate as sim

    system = rs.load_sample("northshire_2018_19")
    monthly = rs.load_sample_monthly("northshire_2018_19")

    def run():
        land = rs.landing(system, monthly, "support_cliff_2018_19", month=6, n=120_000,
                          chunk=10_000)
        return land.table, land.months, land.scenarios.variances

    monkeypatch.setattr(sim, "THREADS", 4)
    monkeypatch.setattr(fan, "WORKERS", 4)
    threaded = run()
    monkeypatch.setattr(sim, "THREADS", 1)
    monkeypatch.setattr(fan, "WORKERS", 1)
    single = run()
    assert np.array_equal(threaded[2], single[2])
    pd.testing.assert_frame_equal(threaded[0], single[0], check_exact=True)
    pd.testing.assert_frame_equal(threaded[1], single[1], check_exact=True)
