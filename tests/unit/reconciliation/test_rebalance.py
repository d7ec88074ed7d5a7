"""Rebalancing: revised OCTs that sum to the SCT to the penny, and the penny allocator under it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import riskshare as rs
from riskshare.core.money import allocate, from_pennies, to_pennies

M = 1_000_000.0


def pennies(values) -> list[int]:
    return [int(round(v * 100)) for v in values]


@pytest.fixture(scope="module")
def workshop() -> rs.System:
    return rs.load_sample("workshop_4")


@pytest.fixture(scope="module")
def northshire() -> rs.System:
    return rs.load_sample("northshire_2018_19")


NINE_MEMBERS = Path(__file__).parents[2] / "fixtures" / "nine_members"


@pytest.fixture(scope="module")
def nine_members() -> rs.System:
    # the Northshire data before issue 16: all nine inside the SCT, ICB with OCT 0, SCT +1.5m
    return rs.load_system(NINE_MEMBERS)


# -- workshop_4 by hand ----------------------------------------------------------------------------
def test_workshop_turnover_basis_by_hand(workshop):
    # gap = SCT − ΣOCT = -5m − (-8m) = £3,000,000.00 = 300,000,000p, turnover 500:200:200:1000
    # (total 1,900m). Exact shares in pennies:
    #   A 300,000,000 × 500/1900  =  78,947,368.421… -> floor  78,947,368, remainder .421
    #   B 300,000,000 × 200/1900  =  31,578,947.368… -> floor  31,578,947, remainder .368
    #   C (as B)                                     -> floor  31,578,947, remainder .368
    #   D 300,000,000 × 1000/1900 = 157,894,736.842… -> floor 157,894,736, remainder .842
    # floors sum to 299,999,998p: 2 pennies left, to the largest remainders D (.842), A (.421).
    # Changes: A £789,473.69, B £315,789.47, C £315,789.47, D £1,578,947.37 (sum £3,000,000.00).
    reb = rs.rebalance(workshop)
    assert reb.method == "basis" and reb.basis == "turnover"
    change = reb.table["change"]
    assert pennies(change) == [78_947_369, 31_578_947, 31_578_947, 157_894_737]
    assert change.tolist() == pytest.approx([789_473.69, 315_789.47, 315_789.47, 1_578_947.37],
                                            abs=1e-6)
    # revised = OCT + change: A -10m + 0.789…m etc.
    assert pennies(reb.revised) == [-921_052_631, 231_578_947, 31_578_947, 157_894_737]
    assert sum(pennies(reb.revised)) == -500_000_000  # the SCT, -£5m, to the penny
    assert reb.total == -5 * M


def test_workshop_table_columns(workshop):
    reb = rs.rebalance(workshop)
    t = reb.table
    assert list(t.index) == ["A", "B", "C", "D"]
    assert list(t.columns) == ["name", "in_sct", "turnover", "control_total", "revised", "change",
                               "change_pct", "forecast", "variance_revised"]
    # change as % of turnover: A 789,473.69 / 500m = 0.15789…%
    assert t.loc["A", "change_pct"] == pytest.approx(789_473.69 / 500e6 * 100)
    # forecast − revised: A -16m − (-9,210,526.31) = -6,789,473.69
    assert t.loc["A", "variance_revised"] == pytest.approx(-6_789_473.69, abs=1e-6)
    assert t.loc["D", "variance_revised"] == pytest.approx(-2 * M - 1_578_947.37, abs=1e-6)


def test_describe_names_the_gap_and_basis(workshop):
    text = rs.rebalance(workshop).describe()
    assert "£3,000,000.00" in text and "pro rata to turnover" in text
    assert "the given weights" in rs.rebalance(workshop, basis={k: 1 for k in "ABCD"}).describe()


def test_equal_basis(workshop):
    # £3m / 4 = £750,000 each, exactly
    reb = rs.rebalance(workshop, basis="equal")
    assert reb.table["change"].tolist() == [750_000.0] * 4
    assert reb.revised.tolist() == [-9_250_000.0, 2_750_000.0, 750_000.0, 750_000.0]


def test_equal_basis_breaks_penny_ties_by_org_id():
    # a gap of 3p shared equally by 4: the 3 spare pennies go to the first three org_ids
    df = rs.load_sample("workshop_4").to_frame()
    system = rs.System.from_frame(df, -8 * M + 0.03)
    assert pennies(rs.rebalance(system, basis="equal").table["change"]) == [1, 1, 1, 0]
    # the same members listed backwards: still A, B, C get the pennies
    backwards = rs.System.from_frame(df.iloc[::-1], -8 * M + 0.03)
    change = rs.rebalance(backwards, basis="equal").table["change"]
    assert list(change.index) == ["D", "C", "B", "A"]
    assert pennies(change) == [0, 1, 1, 1]


def test_support_column_basis(workshop):
    # support 10:2:2:0 (14m): A 3m × 10/14 = 2,142,857.142… ; B, C 3m × 2/14 = 428,571.428…;
    # floors 214,285,714 + 42,857,142 × 2 = 299,999,998p; remainders A .29, B .57, C .57:
    # the 2 spare pennies go to B and C.
    reb = rs.rebalance(workshop, basis="support")
    assert pennies(reb.table["change"]) == [214_285_714, 42_857_143, 42_857_143, 0]


def test_extra_numeric_column_basis(nine_members):
    # (nine_members: two members with a contribution, both inside the SCT)
    # contribution: ICB 48.2m, NSC 31.5m (79.7m), everyone else 0. Gap £3.5m = 350,000,000p:
    #   ICB 350,000,000 × 48.2/79.7 = 211,668,757.84… -> floor 211,668,757 (.84)
    #   NSC 350,000,000 × 31.5/79.7 = 138,331,242.15… -> floor 138,331,242 (.16)
    # one penny left -> ICB. Changes ICB £2,116,687.58, NSC £1,383,312.42.
    reb = rs.rebalance(nine_members, basis="contribution")
    change = pd.Series(pennies(reb.table["change"]), index=reb.table.index)
    assert change["ICB"] == 211_668_758 and change["NSC"] == 138_331_242
    assert (change.drop(["ICB", "NSC"]) == 0).all()
    assert sum(pennies(reb.revised)) == 150_000_000  # SCT £1.5m


def test_mapping_basis(workshop):
    # weights 1:1:1:0 -> £1m each to A, B, C; nothing to D
    reb = rs.rebalance(workshop, basis={"A": 1, "B": 1, "C": 1, "D": 0})
    assert reb.table["change"].tolist() == [1 * M, 1 * M, 1 * M, 0.0]
    # order of the mapping does not matter; weights need not be normalised
    again = rs.rebalance(workshop, basis={"D": 0.0, "C": 2.5, "A": 2.5, "B": 2.5})
    pd.testing.assert_series_equal(reb.revised, again.revised)


@pytest.mark.parametrize("basis, fragments", [
    ("colour", ["in basis", "column 'colour'", "is not a numeric column of the system",
                "choose 'equal' or one of: turnover, control_total, forecast, support, "
                "volatility"]),
    ("name", ["column 'name'", "is not a numeric column of the system"]),
    ("kind", ["column 'kind'", "is not a numeric column of the system"]),
    ("control_total", ["in basis column 'control_total'",
                       "member 'A': -10,000,000.00 must be a finite number ≥ 0"]),
    ({"A": 0, "B": 0, "C": 0, "D": 0}, ["in basis weights",
                                        "is zero for every member, so it cannot share anything"]),
    ({"A": 1, "B": 1, "C": 1}, ["member 'D', column 'basis': has no weight in the basis"]),
    ({"A": 1, "B": 1, "C": 1, "D": 1, "Z": 1}, ["member 'Z', column 'basis': is not a member"]),
    ({"A": 1, "B": "x", "C": 1, "D": 1}, ["member 'B': 'x' must be a finite number ≥ 0"]),
    ({"A": 1, "B": float("inf"), "C": 1, "D": -1},
     ["2 problems", "member 'B': inf must be a finite number ≥ 0",
      "member 'D': -1 must be a finite number ≥ 0"]),
    (3, ["3 basis must be a column name, 'equal' or a mapping of weights by org_id"]),
])
def test_bad_basis_is_a_clear_validation_error(workshop, basis, fragments):
    with pytest.raises(rs.ValidationError) as info:
        rs.rebalance(workshop, basis=basis)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_volatility_with_blanks_is_not_a_basis():
    # a numeric column with a blank is not usable as a basis (numeric_columns needs finite values)
    df = rs.load_sample("workshop_4").to_frame()
    df.loc[1, "volatility"] = np.nan
    system = rs.System.from_frame(df, -5 * M)
    assert "volatility" not in system.numeric_columns()
    with pytest.raises(rs.ValidationError, match="column 'volatility': is not a numeric column"):
        rs.rebalance(system, basis="volatility")


def test_series_of_weights_works_like_a_mapping(workshop):
    weights = {"A": 1.0, "B": 1.0, "C": 1.0, "D": 0.0}
    expected = rs.rebalance(workshop, basis=weights).revised
    got = rs.rebalance(workshop, basis=pd.Series(weights)).revised
    pd.testing.assert_series_equal(got, expected)


@pytest.mark.parametrize("method", ["optimal", "minimax", ""])
def test_unknown_method_lists_the_valid_ones(workshop, method):
    with pytest.raises(rs.ValidationError) as info:
        rs.rebalance(workshop, method=method)
    message = str(info.value)
    assert f"column 'method': {method!r} unknown rebalancing method (valid: basis, minimax_change, closest_to_forecast)" in message


def test_apply_gives_a_system_whose_octs_sum_to_the_sct(workshop, northshire):
    for system, basis in [(workshop, "turnover"), (workshop, "equal"),
                          (northshire, "contribution"), (northshire, "turnover")]:
        reb = rs.rebalance(system, basis=basis)
        applied = reb.apply()
        assert isinstance(applied, rs.System)
        # the OCTs of the members inside the SCT sum to it; those outside never change
        inside = system.inside
        assert sum(pennies(applied.orgs["control_total"][inside])) == int(to_pennies(
            system.control_total))
        pd.testing.assert_series_equal(applied.orgs["control_total"][~inside],
                                       system.orgs["control_total"][~inside])
        assert applied.control_total == system.control_total
        assert round(applied.gap, 2) == 0.0
        pd.testing.assert_series_equal(applied.orgs["control_total"], reb.revised,
                                       check_names=False)
        # everything else is kept
        pd.testing.assert_frame_equal(applied.orgs.drop(columns="control_total"),
                                      system.orgs.drop(columns="control_total"))
        assert (applied.name, applied.year) == (system.name, system.year)
        # a second rebalancing has nothing left to move
        assert (rs.rebalance(applied, basis=basis).table["change"] == 0).all()


def test_rebalancing_a_system_with_no_gap_changes_nothing(workshop):
    reb = rs.rebalance(workshop.replace(control_total=None))
    assert reb.table["change"].tolist() == [0.0] * 4
    pd.testing.assert_series_equal(reb.revised, workshop.orgs["control_total"],
                                   check_names=False)


# -- money.allocate -------------------------------------------------------------------------------
def test_allocate_sums_exactly_and_uses_largest_remainders():
    # £100 in thirds: 3333.33…p each, one spare penny to the first (ties by position)
    assert allocate(100, [1, 1, 1]).tolist() == [33.34, 33.33, 33.33]
    got = allocate(1000, [1, 2, 3, 4, 5, 6, 7])
    assert sum(pennies(got)) == 100_000
    # 100,000p × w/28: floors 3571, 7142, 10714, 14285, 17857, 21428, 25000 (sum 99,997);
    # remainders .43, .86, .29, .71, .14, .57, 0 -> 3 spare pennies to w=2, w=4, w=6
    assert pennies(got) == [3571, 7143, 10714, 14286, 17857, 21429, 25000]


def test_allocate_breaks_ties_by_tiebreak_order():
    # 3p over 4 equal weights: the three first in tiebreak order get a penny each
    assert allocate(0.03, [1, 1, 1, 1]).tolist() == [0.01, 0.01, 0.01, 0.0]
    assert allocate(0.03, [1, 1, 1, 1], tiebreak=["D", "C", "B", "A"]).tolist() == [
        0.0, 0.01, 0.01, 0.01]
    assert allocate(0.01, [1, 1], tiebreak=["M2", "M1"]).tolist() == [0.0, 0.01]
    # tiebreak only breaks ties: a larger remainder still wins
    assert allocate(0.01, [1, 2], tiebreak=["A", "B"]).tolist() == [0.0, 0.01]


def test_allocate_negative_totals_mirror_positive_ones():
    assert allocate(-100, [1, 1, 1]).tolist() == [-33.34, -33.33, -33.33]
    assert allocate(-0.03, [1, 1, 1, 1], tiebreak=["D", "C", "B", "A"]).tolist() == [
        0.0, -0.01, -0.01, -0.01]
    weights = [3.0, 1.0, 7.5, 0.0, 2.25]
    assert (allocate(-1234.57, weights) == -allocate(1234.57, weights)).all()


def test_allocate_zero_weight_gets_nothing_and_rounds_total_to_the_penny():
    got = allocate(10.004, [0, 1, 1])
    assert got.tolist() == [0.0, 5.0, 5.0]
    assert allocate(0.1 + 0.2, [1]).tolist() == [0.3]
    assert allocate(0, [1, 2]).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("weights, message", [
    ([1, -1], "weights must be finite, non-negative and not all zero"),
    ([0, 0], "weights must be finite, non-negative and not all zero"),
    ([np.nan, 1], "weights must be finite, non-negative and not all zero"),
    ([np.inf, 1], "weights must be finite, non-negative and not all zero"),
    ([], "weights must be a non-empty 1-D array"),
    ([[1, 2]], "weights must be a non-empty 1-D array"),
])
def test_allocate_bad_weights(weights, message):
    with pytest.raises(ValueError, match=message):
        allocate(1, weights)


def test_to_pennies_rounds_half_away_from_zero():
    assert to_pennies([0.005, -0.005, 0.015, 1.005, 2.675, -2.675]).tolist() == [
        1, -1, 2, 101, 268, -268]
    assert from_pennies([1, -250, 0]).tolist() == [0.01, -2.5, 0.0]
