"""Properties of reconciliation and rebalancing on synthetic and generated systems (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import riskshare as rs
from riskshare.core.samples import synthetic

FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KINDS = list(rs.KINDS)


def pennies(values) -> np.ndarray:
    return np.array([int(round(v * 100)) for v in values], dtype=np.int64)


# -- strategies ---------------------------------------------------------------------------------
@st.composite
def generated_systems(draw, min_members: int = 1, max_members: int = 8) -> rs.System:
    """Systems whose money is in whole pennies (up to ±£100m), turnover at least £1."""
    n = draw(st.integers(min_members, max_members))
    ids = draw(st.lists(st.text("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=1, max_size=4),
                        min_size=n, max_size=n, unique=True))
    money = st.integers(-10_000_000_000, 10_000_000_000)  # pennies
    turnover = draw(st.lists(st.integers(100, 500_000_000_000), min_size=n, max_size=n))
    oct_ = draw(st.lists(money, min_size=n, max_size=n))
    forecast = draw(st.lists(money, min_size=n, max_size=n))
    support = draw(st.lists(st.integers(0, 5_000_000_000), min_size=n, max_size=n))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=n, max_size=n))
    sct = draw(money)
    orgs = pd.DataFrame({
        "org_id": ids, "name": [f"Member {i}" for i in ids], "kind": kinds,
        "turnover": np.array(turnover) / 100, "control_total": np.array(oct_) / 100,
        "forecast": np.array(forecast) / 100, "support": np.array(support) / 100,
    })
    return rs.System.from_frame(orgs, sct / 100, "Generated", "test")


synthetic_systems = st.builds(synthetic, st.integers(1, 40), st.integers(0, 10_000))
any_system = st.one_of(generated_systems(), synthetic_systems)


# -- rebalancing sums to the SCT ------------------------------------------------------------------
@FAST
@given(any_system, st.sampled_from(["turnover", "equal", "support"]))
def test_rebalanced_octs_sum_to_the_sct_to_the_penny(system, basis):
    if basis == "support" and system.orgs["support"].sum() == 0:
        basis = "turnover"
    reb = rs.rebalance(system, basis=basis)
    assert pennies(reb.revised).sum() == round(system.control_total * 100)
    assert reb.total == pytest.approx(system.control_total, abs=0.005)
    # revised OCTs are whole pennies
    assert np.allclose(reb.revised * 100, np.round(reb.revised * 100), rtol=0, atol=1e-4)
    # the change never exceeds a member's exact share by a penny or more
    weights = system.orgs[basis] if basis != "equal" else pd.Series(1.0, system.members)
    exact = system.gap * weights / weights.sum()
    assert (np.abs(reb.table["change"] - exact) < 0.01 + 1e-6).all()


# -- reordering members ---------------------------------------------------------------------------
@FAST
@given(any_system, st.randoms(use_true_random=False))
def test_permuting_members_permutes_the_results_exactly(system, rnd):
    order = list(system.members)
    rnd.shuffle(order)
    shuffled = system.replace(orgs=system.orgs.loc[order])
    assert list(shuffled.members) == order

    rec, rec2 = rs.reconcile(system), rs.reconcile(shuffled)
    back = rec2.orgs.loc[list(system.members)]
    # every per-member figure is identical, the gap shares too: whole pennies by largest
    # remainder, ties broken by org_id
    pd.testing.assert_frame_equal(back, rec.orgs, check_exact=True)
    np.testing.assert_allclose(rec2.statement["amount"], rec.statement["amount"], rtol=1e-12,
                               atol=1e-6)
    reb, reb2 = rs.rebalance(system), rs.rebalance(shuffled)
    pd.testing.assert_series_equal(reb2.revised.loc[list(system.members)], reb.revised,
                                   check_exact=True)
    pd.testing.assert_series_equal(
        rs.rebalance(shuffled, basis="equal").revised.loc[list(system.members)],
        rs.rebalance(system, basis="equal").revised, check_exact=True)


# -- renaming members -----------------------------------------------------------------------------
@FAST
@given(any_system, st.randoms(use_true_random=False))
def test_renaming_members_gives_the_same_figures_per_member(system, rnd):
    old = list(system.members)
    new = [f"R{i}" for i in range(len(old))]
    rnd.shuffle(new)
    mapping = dict(zip(old, new, strict=True))
    renamed = system.replace(orgs=system.orgs.rename(index=mapping))

    rec, rec2 = rs.reconcile(system), rs.reconcile(renamed)
    back = rec2.orgs.rename(index={v: k for k, v in mapping.items()})
    pd.testing.assert_frame_equal(back.drop(columns="gap_share"),
                                  rec.orgs.drop(columns="gap_share"), check_exact=True)
    # the gap shares are whole pennies; a tied penny goes by org_id, so it may move
    assert (np.abs(pennies(back["gap_share"].loc[old]) - pennies(rec.orgs["gap_share"])) <= 1).all()
    assert pennies(back["gap_share"]).sum() == pennies(rec.orgs["gap_share"]).sum()
    assert rec2.flags[:2] == rec.flags[:2]
    for basis in ("turnover", "equal"):
        a = rs.rebalance(system, basis=basis).revised
        b = rs.rebalance(renamed, basis=basis).revised.rename(
            index={v: k for k, v in mapping.items()})
        # penny ties are broken by org_id, so a tied penny may move to another member
        assert (np.abs(pennies(a) - pennies(b.loc[old])) <= 1).all()
        assert pennies(b).sum() == pennies(a).sum()


# -- scaling money --------------------------------------------------------------------------------
@FAST
@given(any_system, st.integers(2, 1000))
def test_scaling_all_money_by_k_scales_the_statement_by_k(system, k):
    orgs = system.orgs.copy()
    for column in ("turnover", "control_total", "forecast", "support"):
        orgs[column] = orgs[column] * k
    # money is bounded (±£10¹²): scale only systems that stay within the bound
    assume(all((orgs[c].abs() <= 1e12).all() for c in ("turnover", "control_total", "forecast",
                                                         "support"))
           and abs(system.control_total * k) <= 1e12)
    scaled = system.replace(orgs=orgs, control_total=system.control_total * k)

    rec, rec2 = rs.reconcile(system), rs.reconcile(scaled)
    scale = max(1.0, rec.statement["amount"].abs().max())
    np.testing.assert_allclose(rec2.statement["amount"], k * rec.statement["amount"],
                               rtol=1e-12, atol=1e-9 * k * scale)
    # percentages of turnover and the flags they drive are unchanged, up to the rounding of
    # forecast − control total: a few ulps of the inputs (not of their difference), divided by
    # turnover — large when a generated turnover is a penny beside forecasts in the millions
    o = system.orgs
    ulps = 1e-13 * 100.0 * (o["forecast"].abs() + o["control_total"].abs()) / o["turnover"]
    assert (np.abs(rec2.orgs["variance_pct"] - rec.orgs["variance_pct"])
            <= 1e-9 * np.abs(rec.orgs["variance_pct"]) + ulps + 1e-12).all()
    # shares of the gap are whole pennies adding up to the gap: k × each, within k pennies
    np.testing.assert_allclose(rec2.orgs["gap_share"], k * rec.orgs["gap_share"], rtol=0,
                               atol=0.01 * k + 1e-6 * scale)
    assert pennies(rec2.orgs["gap_share"]).sum() == pennies(np.array([rec2.gap])).sum()
    # rebalanced OCTs still hit the scaled SCT to the penny
    assert pennies(rs.rebalance(scaled).revised).sum() == round(scaled.control_total * 100)


# -- identities -----------------------------------------------------------------------------------
@FAST
@given(any_system)
def test_reconciliation_identities(system):
    rec = rs.reconcile(system)
    a = rec.amount
    o = system.orgs
    scale = max(1.0, o["turnover"].sum(), o[["control_total", "forecast", "support"]].abs()
                .to_numpy().sum(), abs(system.control_total))
    tol = dict(rel=1e-6, abs=1e-6 * scale)
    assert a("gap") == pytest.approx(a("sct") - a("sum_oct"), **tol)
    assert rec.gap == a("gap")
    assert a("sct") == system.control_total
    assert a("sum_oct") == pytest.approx(o["control_total"].sum(), **tol)
    assert a("forecast") == pytest.approx(a("sum_oct") + rec.orgs["variance"].sum(), **tol)
    assert a("variance_vs_oct") == pytest.approx(rec.orgs["variance"].sum(), **tol)
    assert a("variance_vs_sct") == pytest.approx(a("forecast") - a("sct"), **tol)
    assert a("sum_oct_incl_support") == pytest.approx(a("sum_oct") + a("support"), **tol)
    assert a("gap_incl_support") == pytest.approx(a("gap") - a("support"), **tol)
    assert rec.orgs["gap_share"].sum() == pytest.approx(a("gap"), **tol)
    # variance per member and the unrealistic flag follow their definitions
    np.testing.assert_array_equal(rec.orgs["variance"], o["forecast"] - o["control_total"])
    pct = 100 * rec.orgs["variance"] / o["turnover"]
    np.testing.assert_array_equal(rec.orgs["unrealistic"], pct < -1.0)


# -- synthetic systems ----------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(st.integers(1, 60), st.integers(0, 10_000))
def test_synthetic_systems_are_valid_and_plausible(n, seed):
    system = synthetic(n, seed)
    assert system.n == n
    o = system.orgs
    assert o.loc[o.index[0], "kind"] == "commissioner"
    assert (o["turnover"] > 0).all()
    # control totals within ±1.5% of turnover (rounded to £10k)
    assert (o["control_total"].abs() <= 0.015 * o["turnover"] + 5_000).all()
    # whole pounds everywhere
    for column in ("turnover", "control_total", "forecast", "support"):
        assert (o[column] == np.round(o[column])).all()
    assert system.control_total == round(system.control_total)
    assert list(o.index) == sorted(o.index)
