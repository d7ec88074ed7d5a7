"""`[pool] distribute = "optimise"` (engine.level): the worst-placed member, as % of scale, is as
well placed as the caps allow. Checked against an independent max-min LP (scipy's linprog) and
against `rs.optimise` with the minimax_shortfall objective on the same setup; money is conserved
in scenario arrays; one scenario at a time gives what all at once gives; caps hold; what the caps
cannot take is unallocated."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.optimize import linprog

import riskshare as rs
from riskshare.agreements.engine import level

M = 1_000_000.0
U = 1_000_000.0
FAST = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])
PCT_TOL = 1e-6          # percentage points (the optimiser's solver tolerance)


def maxmin_lp(amount: float, position, scale, low, high) -> float | None:
    """max t such that (position_i + x_i)/(scale_i/100) ≥ t, Σ x = amount, low ≤ x ≤ high, by
    scipy (£m; t in % of scale). None if no x meets the caps."""
    n = len(position)
    unit = np.asarray(scale, dtype=float) / 100.0 / U
    pos = np.asarray(position, dtype=float) / U
    bounds = [(None if not np.isfinite(a) else a / U, None if not np.isfinite(b) else b / U)
              for a, b in zip(low, high, strict=True)]
    # variables x (n), t; minimise −t;  t·unit_i − x_i ≤ pos_i
    res = linprog(np.r_[np.zeros(n), -1.0],
                  A_ub=np.hstack([-np.eye(n), unit[:, None]]), b_ub=pos,
                  A_eq=np.r_[np.ones(n), 0.0][None, :], b_eq=[amount / U],
                  bounds=bounds + [(None, None)], method="highs")
    return None if res.status != 0 else -float(res.fun)


def agreement_text(max_charge=None, max_award=None, share: float = 0.5, reserve=None) -> str:
    lines = ['name = "Worst placed first"',
             "[gains]", f"bands = [{{ upto = 0.2, pool = 0.0 }}, {{ pool = {share} }}]",
             "[losses]", f"bands = [{{ upto = 0.2, pool = 0.0 }}, {{ pool = {share} }}]",
             "[pool]", 'distribute = "optimise"']
    if max_charge is not None:
        lines.append(f"max_charge = {max_charge}")
    if max_award is not None:
        lines.append(f"max_award = {max_award}")
    if reserve is not None:
        lines += ["[reserve]", f'holder = "{reserve[0]}"', f"amount = {reserve[1]}"]
    return "\n".join(lines) + "\n"


def largest_shortfall(outcome: rs.Outcome, scale) -> np.ndarray:
    position = outcome["outturn"] - outcome.base.orgs["control_total"].to_numpy()
    return np.max(-100.0 * position / np.asarray(scale), axis=-1)


# -- level itself against the max-min LP -----------------------------------------------------------
@st.composite
def level_inputs(draw):
    n = draw(st.integers(2, 8))
    s = draw(st.integers(1, 5))
    money = st.floats(-2e7, 2e7, allow_nan=False)
    pos = draw(hnp.arrays(float, (s, n), elements=money))
    amount = draw(hnp.arrays(float, (s,), elements=st.floats(-3e7, 3e7, allow_nan=False)))
    scale = draw(hnp.arrays(float, (n,), elements=st.floats(1e7, 2e9)))
    charge = draw(st.none() | st.floats(0.0, 2.0))
    award = draw(st.none() | st.floats(0.0, 2.0))
    low = np.full(n, -np.inf) if charge is None else -charge * scale / 100.0
    high = np.full(n, np.inf) if award is None else award * scale / 100.0
    return amount, pos, scale, low, high


@FAST
@given(level_inputs())
def test_level_is_the_max_min_of_an_lp(inputs):
    amount, pos, scale, low, high = inputs
    x, unallocated = level(amount, pos, scale, low, high)
    assert x.shape == pos.shape and unallocated.shape == amount.shape
    # caps hold; money is conserved
    assert np.all(x >= low - 1e-6) and np.all(x <= high + 1e-6)
    np.testing.assert_allclose(x.sum(axis=1) + unallocated, amount, atol=1e-4)
    for k in range(len(amount)):
        distributed = float(x[k].sum())
        # nothing is left over unless the caps are full
        if abs(unallocated[k]) > 1e-4:
            full = high if unallocated[k] > 0 else low
            np.testing.assert_allclose(x[k], full, atol=1e-4)
        best = maxmin_lp(distributed, pos[k], scale, low, high)
        got = float(np.min((pos[k] + x[k]) / (scale / 100.0)))
        assert got == pytest.approx(best, abs=1e-7 * max(1.0, abs(best)))
        # the form in the docstring: free members share one level L, capped ones are clipped
        rel = (pos[k] + x[k]) / (scale / 100.0)
        free = (x[k] > low + 1e-3) & (x[k] < high - 1e-3)
        if free.any():
            level_k = rel[free].mean()
            assert np.allclose(rel[free], level_k, atol=1e-7 * max(1.0, abs(level_k)))
            at_high = x[k] >= high - 1e-3
            at_low = x[k] <= low + 1e-3
            assert np.all(rel[at_high & ~free] <= level_k + 1e-7 * max(1.0, abs(level_k)))
            assert np.all(rel[at_low & ~free] >= level_k - 1e-7 * max(1.0, abs(level_k)))


@FAST
@given(level_inputs())
def test_one_scenario_at_a_time_equals_all_at_once(inputs):
    amount, pos, scale, low, high = inputs
    x, unallocated = level(amount, pos, scale, low, high)
    for k in range(len(amount)):
        xk, uk = level(amount[k:k + 1], pos[k:k + 1], scale, low, high)
        np.testing.assert_allclose(xk[0], x[k], atol=1e-6)
        np.testing.assert_allclose(uk, unallocated[k:k + 1], atol=1e-6)


def test_level_by_hand():
    # positions −6, +1, +1, −2 £m on scales 500, 200, 200, 1,000 £m, nothing to hand out, no
    # caps: everyone ends at −6/1,900 = −0.3158% of scale
    pos = np.array([[-6, 1, 1, -2]]) * M
    scale = np.array([500, 200, 200, 1000]) * M
    x, un = level(np.array([0.0]), pos, scale, -np.inf, np.inf)
    np.testing.assert_allclose((pos + x) / scale * 100, -600 / 1900, atol=1e-12)
    assert un[0] == 0.0
    # awards capped at 0.5% of scale: A takes its cap of £2.5m and ends at −£3.5m (−0.7%); B, C
    # and D pay the £2.5m and level at (1 + 1 − 2 − 2.5)/1,400 = −0.1786% of scale
    x, un = level(np.array([0.0]), pos, scale, -np.inf, 0.005 * scale)
    assert x[0, 0] == pytest.approx(2.5 * M)
    rest = (pos + x)[0, 1:] / scale[1:] * 100
    np.testing.assert_allclose(rest, (1 + 1 - 2 - 2.5) / 1400 * 100, atol=1e-12)
    # a pool beyond the caps: everyone at its award cap, the rest unallocated
    x, un = level(np.array([50 * M]), pos, scale, -np.inf, 0.01 * scale)
    np.testing.assert_allclose(x[0], 0.01 * scale)
    assert un[0] == pytest.approx(50 * M - 19 * M)


# -- the agreement applied, against rs.optimise ------------------------------------------------------
CAPS = [(None, None), (1.0, 1.0), (0.3, 0.2), (0.05, 0.5), (0.5, None)]


@pytest.mark.parametrize("caps", CAPS, ids=lambda c: f"{c[0]}-{c[1]}")
@pytest.mark.parametrize("seed", range(6))
def test_apply_equals_optimise(seed, caps):
    system = rs.samples.synthetic(5 + seed % 4, seed)
    scale = system.orgs["turnover"].to_numpy()
    text = agreement_text(*caps)
    out = rs.apply(text, system)
    received = out["received"]
    unallocated = float(out.system["unallocated"])
    got = float(largest_shortfall(out, scale))
    # the optimiser on the same setup: the agreement's caps, or the same caps as constraints
    # on an agreement without them
    cons = {} if abs(unallocated) < 0.01 else {"pool": float(received.sum())}
    a = rs.optimise(system, text, constraints=cons)
    assert got == pytest.approx(a.value, abs=PCT_TOL)
    plain = agreement_text()
    cap_cons = {k: v for k, v in zip(("max_charge", "max_award"), caps, strict=True)
                if v is not None}
    b = rs.optimise(system, plain, constraints={**cap_cons, **cons})
    assert got == pytest.approx(b.value, abs=PCT_TOL)
    # and an independent LP on the retained positions
    retained = out["retained"]
    low = np.full(system.n, -np.inf) if caps[0] is None else -caps[0] * scale / 100
    high = np.full(system.n, np.inf) if caps[1] is None else caps[1] * scale / 100
    best = maxmin_lp(float(received.sum()), retained, scale, low, high)
    assert -got == pytest.approx(best, abs=1e-7 * max(1.0, abs(best)))
    # caps respected
    assert np.all(received >= low - 1e-6) and np.all(received <= high + 1e-6)


def test_unallocated_when_the_pool_exceeds_the_caps():
    # everyone 3% ahead of control total, half of it beyond 0.2% pooled: the pool is far more
    # than awards capped at 0.1% of turnover can take
    system = rs.samples.synthetic(6, 1)
    scale = system.orgs["turnover"].to_numpy()
    text = agreement_text(max_charge=1.0, max_award=0.1)
    out = rs.apply(text, system, variances=0.03 * scale)
    pool = float(out.system["pool"])
    assert pool > 0.001 * scale.sum()
    np.testing.assert_allclose(out["received"], 0.001 * scale, atol=1e-6)
    assert out.system["unallocated"] == pytest.approx(pool - 0.001 * scale.sum(), abs=1e-3)
    # the same for losses and charge caps
    out = rs.apply(text, system, variances=-0.03 * scale)
    np.testing.assert_allclose(out["received"], -0.01 * scale, atol=1e-6)
    assert out.system["unallocated"] == pytest.approx(float(out.system["pool"])
                                                      + 0.01 * scale.sum(), abs=1e-3)


RESERVE_HOLDER = "M1"


@pytest.mark.parametrize("caps", [(None, None), (1.0, 1.0), (0.2, 0.1)])
def test_scenarios_conserve_money_and_match_one_at_a_time(caps):
    system = rs.samples.synthetic(7, 11)
    scale = system.orgs["turnover"].to_numpy()
    vol = system.orgs["volatility"].to_numpy()
    rng = np.random.default_rng(5)
    variances = rng.normal(-0.002, 1.0, (60, system.n)) * vol * scale / 100.0
    text = agreement_text(*caps, reserve=(RESERVE_HOLDER, 3_000_000))
    out = rs.apply(text, system, variances)
    received = out["received"]                       # includes the reserve holder's charge
    pooled = out["pooled"]
    unallocated = out.system["unallocated"].to_numpy()
    reserve_used = out.system["reserve_used"].to_numpy()
    # Σ received + unallocated = Σ pooled (docs/agreements.md), i.e. what was distributed plus
    # what was left equals Σ pooled + reserve used, to a fraction of a penny
    np.testing.assert_allclose(received.sum(axis=1) + unallocated, pooled.sum(axis=1),
                               atol=1e-5)
    holder = list(system.members).index(RESERVE_HOLDER)
    distributed = received.copy()
    distributed[:, holder] += reserve_used
    np.testing.assert_allclose(distributed.sum(axis=1) + unallocated,
                               pooled.sum(axis=1) + reserve_used, atol=1e-5)
    assert (reserve_used > 0).any() and (reserve_used == 0).any()
    low = -np.inf if caps[0] is None else -caps[0] * scale / 100
    high = np.inf if caps[1] is None else caps[1] * scale / 100
    assert np.all(distributed >= low - 1e-6) and np.all(distributed <= high + 1e-6)
    # unallocated is exactly what lies beyond the sum of the caps
    total = pooled.sum(axis=1) + reserve_used
    beyond = total - np.clip(total, np.sum(np.broadcast_to(low, scale.shape)),
                             np.sum(np.broadcast_to(high, scale.shape)))
    np.testing.assert_allclose(unallocated, beyond, atol=1e-5)
    if caps == (0.2, 0.1):
        assert (np.abs(unallocated) > 1.0).any()          # the caps bite in some scenarios
    # one scenario at a time gives the same
    # (one scenario is a deterministic outcome, in whole pennies: within 3p of the figures
    # unrounded)
    for k in range(0, 60, 7):
        one = rs.apply(text, system, variances[k])
        np.testing.assert_allclose(one["received"], received[k], atol=0.03)
        assert one.system["unallocated"] == pytest.approx(unallocated[k], abs=0.005)
    # 2-D and 1-D paths are the same code: final positions agree everywhere
    single = np.array([rs.apply(text, system, variances[k])["final"] for k in range(5)])
    np.testing.assert_allclose(single, out["final"][:5], atol=0.03)


def test_worst_placed_first_preset_on_its_sample():
    system = rs.load_sample("northshire_2018_19")
    out = rs.apply("worst_placed_first", system)
    a = rs.optimise(system, "worst_placed_first")
    scale = system.orgs["turnover"].to_numpy()
    assert float(largest_shortfall(out, scale)) == pytest.approx(a.value, abs=PCT_TOL)


@pytest.mark.parametrize("seed", [0, 1, 3])
def test_optimised_pool_with_a_reserve_equals_optimise(seed):
    system = rs.samples.synthetic(5, seed)
    text = ('name = "lvl"\n[gains]\nbands = [{ pool = 0.5 }]\n[losses]\nbands = [{ pool = 0.5 }]'
            '\n[pool]\ndistribute = "optimise"\n[reserve]\nholder = "M1"\namount = 2_000_000\n')
    out = rs.apply(text, system)
    assert out.system["reserve_used"] > 0
    scale = system.orgs["turnover"].to_numpy()
    a = rs.optimise(system, text)
    assert float(largest_shortfall(out, scale)) == pytest.approx(a.value, abs=PCT_TOL)
