"""Optimised rebalancing (`rs.rebalance` with method "minimax_change" or "closest_to_forecast"):
revised OCTs sum to the SCT to the penny, kept members keep theirs exactly, max_change holds, the
largest change equals an independent scipy optimum, the unconstrained answers have their closed
forms (turnover basis; the same stretch against forecast for everyone), and impossible requests
say which conditions conflict."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

import riskshare as rs

M = 1_000_000.0
METHODS = ("minimax_change", "closest_to_forecast")
SMALL = settings(max_examples=30, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow])


def pennies(values) -> np.ndarray:
    return np.round(np.asarray(values, dtype=float) * 100.0).astype(np.int64)


@pytest.fixture(scope="module")
def workshop() -> rs.System:
    return rs.load_sample("workshop_4")


@pytest.fixture(scope="module")
def northshire() -> rs.System:
    return rs.load_sample("northshire_2018_19")


NINE_MEMBERS = Path(__file__).parents[2] / "fixtures" / "nine_members"


@pytest.fixture(scope="module")
def nine_members() -> rs.System:
    # the Northshire data before issue 16: all nine inside the SCT, SCT +1.5m
    return rs.load_system(NINE_MEMBERS)


def reference_largest(system: rs.System, method: str, keep=(), max_change=None):
    """The smallest largest change (minimax_change) or gap to forecast (closest_to_forecast), %
    of turnover, by scipy's linprog: variables change_i (£m) and m (%)."""
    orgs = system.orgs
    n = system.n
    t = orgs["turnover"].to_numpy(dtype=float) / M
    oct_ = orgs["control_total"].to_numpy(dtype=float) / M
    target = np.zeros(n) if method == "minimax_change" else (
        orgs["forecast"].to_numpy(dtype=float) / M - oct_)
    gap = system.control_total / M - oct_.sum()
    c = np.r_[np.zeros(n), 1.0]
    rows, rhs = [], []
    for i in range(n):          # |change_i − target_i| ≤ m t_i / 100
        for sign in (1.0, -1.0):
            row = np.zeros(n + 1)
            row[i], row[n] = sign, -t[i] / 100.0
            rows.append(row)
            rhs.append(sign * target[i])
    bounds = []
    for i, member in enumerate(system.members):
        if member in keep:
            bounds.append((0.0, 0.0))
        elif max_change is not None:
            bounds.append((-max_change * t[i] / 100.0, max_change * t[i] / 100.0))
        else:
            bounds.append((None, None))
    res = linprog(c, A_ub=np.array(rows), b_ub=rhs, A_eq=np.r_[np.ones(n), 0.0][None, :],
                  b_eq=[gap], bounds=bounds + [(None, None)], method="highs")
    return None if res.status != 0 else float(res.fun)


def largest(reb: rs.Rebalancing, method: str) -> float:
    # over the members inside the SCT: rebalancing never moves those outside (docs/reconciliation.md)
    t = reb.table[reb.table["in_sct"].astype(bool)]
    if method == "minimax_change":
        return float(t["change_pct"].abs().max())
    return float((100.0 * (t["forecast"] - t["revised"]) / t["turnover"]).abs().max())


def penny_pct(system: rs.System) -> float:
    """A penny as % of the smallest turnover, times two (rounding both ways)."""
    return 2 * 100.0 * 0.01 / float(system.orgs["turnover"].min())


def check(reb: rs.Rebalancing, system: rs.System, keep=(), max_change=None) -> None:
    revised = reb.revised.to_numpy()
    # whole pennies; those of the members inside the SCT sum exactly to it, and the OCTs of
    # members outside it never change (docs/reconciliation.md)
    inside = system.inside
    assert np.all(np.abs(revised * 100 - np.round(revised * 100)) < 1e-6)
    assert int(pennies(revised[inside]).sum()) == int(pennies(system.control_total))
    np.testing.assert_array_equal(
        revised[~inside], system.orgs["control_total"].to_numpy(dtype=float)[~inside])
    assert reb.total == pytest.approx(system.control_total, abs=0.001)
    oct_ = system.orgs["control_total"]
    for member in keep:
        assert reb.revised[member] == oct_[member]
    if max_change is not None:
        cap = max_change * system.orgs["turnover"] / 100.0
        assert ((reb.revised - oct_).abs() <= cap + 0.01).all()
    t = reb.table
    np.testing.assert_allclose(t["change"], t["revised"] - t["control_total"], atol=1e-6)
    np.testing.assert_allclose(t["variance_revised"], t["forecast"] - t["revised"], atol=1e-6)


# -- by hand ---------------------------------------------------------------------------------------
def test_workshop_minimax_change_by_hand(workshop):
    # gap £3m over turnover £1,900m: every OCT moves by 3/1900 = 0.157894…% of turnover
    reb = rs.rebalance(workshop, method="minimax_change")
    check(reb, workshop)
    assert reb.table["change_pct"].to_numpy() == pytest.approx([300 / 1900] * 4, abs=1e-8)
    # A: 500m × 0.157894…% = £789,473.68… (the turnover-basis answer, to a penny)
    assert np.abs(pennies(reb.table["change"]) - [78_947_368, 31_578_947, 31_578_947,
                                                  157_894_737]).max() <= 1
    assert "0.158% of turnover" in reb.describe()


def test_workshop_closest_to_forecast_by_hand(workshop):
    # Σ forecast = −£14m, SCT = −£5m: every revised OCT sits 9/1900 = 0.473684…% of turnover
    # above its forecast; A: −16m + 0.473684% × 500m = −£13,631,578.95
    reb = rs.rebalance(workshop, method="closest_to_forecast")
    check(reb, workshop)
    gap = 100 * (reb.table["forecast"] - reb.table["revised"]) / reb.table["turnover"]
    assert gap.to_numpy() == pytest.approx([-900 / 1900] * 4, abs=1e-8)
    assert abs(int(pennies(reb.revised["A"])) - (-1_363_157_895)) <= 1
    assert "0.474% of turnover" in reb.describe()


# -- against scipy and the closed forms ------------------------------------------------------------
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("seed", range(8))
def test_largest_change_equals_scipy(method, seed):
    system = rs.samples.synthetic(5 + seed, seed)
    m = list(system.members)
    for keep, max_change in [((), None), ((m[0],), None), ((m[1], m[2]), 2.0),
                             ((), 0.6)]:
        ref = reference_largest(system, method, keep, max_change)
        if ref is None:
            with pytest.raises(rs.InfeasibleError):
                rs.rebalance(system, method=method, keep=keep, max_change=max_change)
            continue
        reb = rs.rebalance(system, method=method, keep=keep, max_change=max_change)
        check(reb, system, keep, max_change)
        assert largest(reb, method) == pytest.approx(ref, abs=1e-7 + penny_pct(system))


def test_the_conditions_change_the_answer():
    # the comparison above means something only if keep and max_change bind
    system = rs.samples.synthetic(9, 4)
    free = reference_largest(system, "closest_to_forecast")
    assert reference_largest(system, "closest_to_forecast", ("M2", "M3"), 2.0) > free + 1e-3
    assert reference_largest(system, "minimax_change", ("M1",)) > reference_largest(
        system, "minimax_change") + 1e-3


@pytest.mark.parametrize("seed", range(10))
def test_minimax_change_unconstrained_is_the_turnover_basis(seed):
    system = rs.samples.synthetic(4 + seed, seed)
    opt = rs.rebalance(system, method="minimax_change")
    basis = rs.rebalance(system, basis="turnover")
    check(opt, system)
    assert int(np.abs(pennies(opt.revised) - pennies(basis.revised)).max()) <= 1


@pytest.mark.parametrize("seed", range(10))
def test_closest_to_forecast_unconstrained_asks_the_same_stretch(seed):
    system = rs.samples.synthetic(4 + seed, seed)
    reb = rs.rebalance(system, method="closest_to_forecast")
    check(reb, system)
    t = reb.table
    gap = (100.0 * (t["forecast"] - t["revised"]) / t["turnover"]).to_numpy()
    assert gap.max() - gap.min() <= penny_pct(system)
    # the common gap is (Σ forecast − SCT) / Σ turnover
    expected = 100.0 * (t["forecast"].sum() - system.control_total) / t["turnover"].sum()
    assert gap == pytest.approx(np.full(len(gap), expected), abs=penny_pct(system))


@st.composite
def rebalance_requests(draw):
    n = draw(st.integers(3, 9))
    system = rs.samples.synthetic(n, draw(st.integers(0, 10_000)))
    members = list(system.members)
    keep = tuple(draw(st.lists(st.sampled_from(members), unique=True, max_size=n - 1)))
    max_change = draw(st.none() | st.floats(0.0, 3.0).map(lambda v: round(v, 2)))
    return system, draw(st.sampled_from(METHODS)), keep, max_change


@SMALL
@given(rebalance_requests())
def test_random_rebalancing_equals_scipy(request):
    system, method, keep, max_change = request
    ref = reference_largest(system, method, keep, max_change)
    if ref is None:
        with pytest.raises(rs.InfeasibleError):
            rs.rebalance(system, method=method, keep=keep, max_change=max_change)
        return
    reb = rs.rebalance(system, method=method, keep=keep, max_change=max_change)
    check(reb, system, keep, max_change)
    assert largest(reb, method) == pytest.approx(ref, abs=1e-7 + penny_pct(system))


@pytest.mark.parametrize("method", METHODS)
def test_cbc_gives_the_same_answer(method, northshire):
    a = rs.rebalance(northshire, method=method, keep=("CCG",), max_change=2.0)
    b = rs.rebalance(northshire, method=method, keep=("CCG",), max_change=2.0, solver="cbc")
    check(b, northshire, ("CCG",), 2.0)
    assert largest(b, method) == pytest.approx(largest(a, method), abs=1e-6)


def test_reordering_members_gives_the_same_revised_octs(northshire):
    backwards = rs.System.from_frame(northshire.to_frame().iloc[::-1], northshire.control_total)
    for method in METHODS:
        a = rs.rebalance(northshire, method=method, max_change=3.0)
        b = rs.rebalance(backwards, method=method, max_change=3.0)
        assert largest(b, method) == pytest.approx(largest(a, method), abs=1e-7)
        assert int(np.abs(pennies(b.revised.reindex(a.revised.index))
                          - pennies(a.revised)).max()) <= 1


def test_apply_gives_octs_that_sum_to_the_sct(northshire, nine_members):
    # nine_members: NSC inside the SCT, so keeping it binds; northshire: NSC outside, and the
    # OCTs inside the SCT are the ones that sum to it
    for system in (nine_members, northshire):
        reb = rs.rebalance(system, method="closest_to_forecast", keep=("NSC",))
        applied = reb.apply()
        inside = system.inside
        assert int(pennies(applied.orgs["control_total"][inside]).sum()) == int(
            pennies(system.control_total))
        assert applied.orgs.loc["NSC", "control_total"] == system.orgs.loc["NSC",
                                                                          "control_total"]


# -- infeasible and bad requests -------------------------------------------------------------------
def plain_english(message: str) -> None:
    assert not re.search(r"\brows?\b|elastic|c_\d|_\d{5}|largest\b|\bdual", message,
                         re.IGNORECASE), message


def test_keep_and_max_change_too_small_is_infeasible(workshop):
    # A, B and C keep their OCTs, so D must take the whole £3m gap, but 0.1% of its £1,000m
    # turnover is £1m: £2m short
    with pytest.raises(rs.InfeasibleError) as info:
        rs.rebalance(workshop, method="minimax_change", keep=["A", "B", "C"], max_change=0.1)
    e = info.value
    (relax,) = e.relaxations
    assert relax.family in ("max_change", "keep_oct", "sct")
    assert abs(relax.give) == pytest.approx(2 * M, abs=0.01)
    families = {(c.family, c.member) for c in e.conflicts}
    assert {("keep_oct", "A"), ("keep_oct", "B"), ("keep_oct", "C"), ("max_change", "D")} \
        <= families
    message = str(e)
    assert "No rebalancing" in message and "£2.00m" in message
    plain_english(message)


@pytest.mark.parametrize("method", METHODS)
def test_max_change_too_small_for_the_gap(method, workshop):
    # nobody may move more than 0.1% of turnover (£1.9m in all) but the gap is £3m
    with pytest.raises(rs.InfeasibleError) as info:
        rs.rebalance(workshop, method=method, max_change=0.1)
    e = info.value
    assert e.relaxations
    assert {c.family for c in e.relaxations} <= {"max_change", "sct"}
    assert sum(abs(c.give) for c in e.relaxations) == pytest.approx(1.1 * M, abs=0.05)
    plain_english(str(e))


def test_keeping_everyone_is_infeasible_when_there_is_a_gap(workshop):
    with pytest.raises(rs.InfeasibleError) as info:
        rs.rebalance(workshop, method="closest_to_forecast", keep=list("ABCD"))
    assert {c.family for c in info.value.relaxations} <= {"keep_oct", "sct"}
    assert sum(abs(c.give) for c in info.value.relaxations) == pytest.approx(3 * M, abs=0.01)


def test_keeping_everyone_with_no_gap_changes_nothing(workshop):
    system = workshop.replace(control_total=None)
    reb = rs.rebalance(system, method="minimax_change", keep=list("ABCD"), max_change=0.0)
    assert (reb.table["change"] == 0).all()


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(method="minimax_change", keep=["Z"]), "member 'Z', column 'keep': is not a member"),
    (dict(method="minimax_change", max_change=-1), "column 'max_change': -1 must be a number ≥ 0"),
    (dict(method="minimax_change", max_change=True), "column 'max_change': True must be a number"),
    (dict(method="closest_to_forecast", max_change="2"), "column 'max_change'"),
    (dict(method="closest_to_forecast", max_change=float("nan")), "column 'max_change'"),
    (dict(method="basis", keep=["A"]), "keep and max_change apply to the optimised methods"),
    (dict(method="basis", max_change=1.0), "keep and max_change apply to the optimised methods"),
    (dict(method="minimax_change", solver="glpk"), "unknown solver"),
])
def test_bad_rebalancing_requests(workshop, kwargs, fragment):
    with pytest.raises(rs.ValidationError) as info:
        rs.rebalance(workshop, **kwargs)
    assert fragment in str(info.value)


def test_table_and_method_words(northshire):
    reb = rs.rebalance(northshire, method="minimax_change", max_change=1.0)
    assert reb.method == "minimax_change" and reb.basis is None
    assert list(reb.table.columns) == ["name", "in_sct", "turnover", "control_total", "revised", "change",
                                       "change_pct", "forecast", "variance_revised"]
    assert isinstance(reb.revised, pd.Series) and list(reb.revised.index) == list(
        northshire.members)
