"""Validation of the organisations table: every bad input is refused with a precise message, and
what finance spreadsheets export (currency signs, brackets, Unicode minus, loose kinds) is accepted.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import riskshare as rs
from riskshare.core.io import load_bytes
from riskshare.core.samples import SAMPLES
from riskshare.core.schema import parse_number
from tests.bad_inputs import BAD_INPUTS, GOOD_CSV, BadInput, bad_input_params


def workshop_frame() -> pd.DataFrame:
    """The workshop_4 members with org_id as a column."""
    return rs.load_sample("workshop_4").to_frame()


# -- the shared bad-input table, through the library ----------------------------------------------
def test_good_csv_is_the_workshop_sample_and_loads():
    assert GOOD_CSV == (SAMPLES["workshop_4"].path / "organisations.csv").read_text()
    system = load_bytes(GOOD_CSV.encode(), "organisations.csv")
    assert list(system.members) == ["A", "B", "C", "D"]
    assert system.warnings == ()


def test_bad_input_table_covers_the_required_defects():
    ids = {c.id for c in BAD_INPUTS}
    assert {"missing_forecast_column", "missing_org_id_column", "empty_org_id",
            "duplicate_org_id", "empty_name", "unknown_kind", "turnover_zero",
            "turnover_negative", "turnover_with_unit", "control_total_blank", "control_total_nan",
            "forecast_infinite", "support_negative", "extra_column_text_value",
            "several_problems", "duplicate_header_column"} <= ids
    for case in BAD_INPUTS:  # each is a real edit of the good file
        assert case.csv != GOOD_CSV and case.expected


@pytest.mark.parametrize("case", bad_input_params())
def test_bad_input_is_refused_with_a_precise_message(case: BadInput):
    with pytest.raises(rs.ValidationError) as info:
        load_bytes(case.csv.encode(), "organisations.csv")
    err = info.value
    message = str(err)
    missing = [f for f in case.expected if f not in message]
    assert not missing, f"fragments {missing} not in:\n{message}"
    assert err.problems, "a ValidationError must list its problems"
    assert all(p.severity == "error" for p in err.problems)
    n = len(err.problems)
    assert message.startswith(f"{n} problem{'s' if n != 1 else ''} in organisations.csv:")
    assert message.count("\n  - ") == n
    assert isinstance(err, ValueError) and isinstance(err, rs.RiskshareError)


def test_problem_records_carry_row_member_column_and_value():
    case = next(c for c in BAD_INPUTS if c.id == "several_problems")
    with pytest.raises(rs.ValidationError) as info:
        load_bytes(case.csv.encode(), "organisations.csv")
    got = {(p.row, p.member, p.column) for p in info.value.problems}
    assert got == {(2, "A", "turnover"), (3, "B", "kind"), (4, "C", "support"),
                   (5, "D", "forecast")}
    by_column = {p.column: p for p in info.value.problems}
    assert by_column["turnover"].value == "12m"
    assert by_column["kind"].value == "hospital"
    assert by_column["support"].value == -1.0


# -- System.from_frame directly --------------------------------------------------------------------
def test_org_id_as_index_or_as_column_gives_the_same_system():
    df = workshop_frame()
    by_column = rs.System.from_frame(df, -5_000_000, "W", "2019/20")
    by_index = rs.System.from_frame(df.set_index("org_id"), -5_000_000, "W", "2019/20")
    assert by_column.equals(by_index)
    assert list(by_index.orgs.index) == ["A", "B", "C", "D"]
    assert by_index.orgs.index.name == "org_id"
    assert list(by_index.orgs.columns) == ["name", "kind", "turnover", "control_total",
                                           "forecast", "support", "volatility", "in_sct", "net_turnover",
                                           "non_recurrent"]


def test_from_frame_does_not_modify_its_input():
    df = workshop_frame()
    before = df.copy()
    rs.System.from_frame(df)
    pd.testing.assert_frame_equal(df, before)


def test_without_org_id_as_column_or_index_row_numbers_still_point_at_the_data():
    df = workshop_frame().drop(columns="org_id")
    df.loc[1, "turnover"] = -1.0
    with pytest.raises(rs.ValidationError) as info:
        rs.System.from_frame(df)
    message = str(info.value)
    assert "no 'org_id' column" in message
    # without a row offset, rows are 1-based data rows; B is the second member
    assert "row 2 (#2), column 'turnover': -1 must be at least £1" in message


def test_sct_given_as_text_with_pound_sign_and_commas_is_parsed():
    system = rs.System.from_frame(workshop_frame(), "£1,500,000")
    assert system.control_total == 1_500_000.0
    assert system.control_total_set is True
    assert system.gap == 1_500_000.0 - (-8_000_000.0)  # SCT − ΣOCT = 9.5m


@pytest.mark.parametrize("blank", [None, "", "  "])
def test_blank_sct_defaults_to_the_sum_of_octs(blank):
    system = rs.System.from_frame(workshop_frame(), blank)
    assert system.control_total == -8_000_000.0
    assert system.control_total_set is False
    assert system.gap == 0.0


# NaN is refused, not taken as "absent" (a system.toml can write `control_total = nan`)
@pytest.mark.parametrize("sct", ["abc", "5m", float("inf"), "inf", [1], float("nan"), "2,5"])
def test_bad_sct_is_rejected(sct):
    with pytest.raises(rs.ValidationError) as info:
        rs.System.from_frame(workshop_frame(), sct)
    message = str(info.value)
    assert "column 'control_total'" in message
    assert "the system control total must be a finite number of pounds" in message
    assert len(info.value.problems) == 1


def test_bad_sct_and_bad_members_are_reported_together():
    df = workshop_frame()
    df.loc[0, "turnover"] = 0
    with pytest.raises(rs.ValidationError) as info:
        rs.System.from_frame(df, "abc")
    assert len(info.value.problems) == 2
    assert "'abc' the system control total must be a finite number" in str(info.value)
    assert "row 1 (A), column 'turnover': 0 must be at least £1" in str(info.value)


def test_lenient_number_parsing_of_text_cells():
    df = workshop_frame().astype({"turnover": object, "control_total": object,
                                  "forecast": object})
    df["turnover"] = ["£1,234.50", "200,000,000", " 200 000 000 ", "1e9"]
    df["control_total"] = ["(1,234)", "\u22122,000,000", "+0", "£0"]
    df["forecast"] = ["-£16,000,000", "(£1,000.25)", "1,000,000.", ".5"]
    system = rs.System.from_frame(df)
    o = system.orgs
    assert o["turnover"].tolist() == [1234.5, 200_000_000.0, 200_000_000.0, 1e9]
    assert o["control_total"].tolist() == [-1234.0, -2_000_000.0, 0.0, 0.0]
    assert o["forecast"].tolist() == [-16_000_000.0, -1000.25, 1_000_000.0, 0.5]
    assert o["turnover"].dtype == np.float64


@pytest.mark.parametrize("text, expected", [
    ("£1,234.50", 1234.5), ("(1,234)", -1234.0), ("\u22121,000", -1000.0), ("1 234", 1234.0),
    ("  -7 ", -7.0), ("3.5e6", 3_500_000.0), ("", math.nan), ("   ", math.nan),
    (None, math.nan), (12, 12.0), (np.float64(2.5), 2.5),
    ("£5m", None), ("12m", None), ("inf", None), ("nan", None), ("1,2,3.4.5", None),
    ("abc", None), (True, None), ([1], None), ("--1", None),
])
def test_parse_number(text, expected):
    got = parse_number(text)
    if expected is None:
        assert got is None
    elif isinstance(expected, float) and math.isnan(expected):
        assert got is not None and math.isnan(got)
    else:
        assert got == expected


def test_kind_is_normalised():
    df = workshop_frame()
    df["kind"] = ["Mental health", "ICB", " ACUTE ", "local-authority"]
    system = rs.System.from_frame(df)
    assert system.orgs["kind"].tolist() == ["mental_health", "commissioner", "acute",
                                            "local_authority"]


@pytest.mark.parametrize("alias, kind", [("CCG", "commissioner"), ("council", "local_authority"),
                                         ("GP", "primary_care"), ("mh", "mental_health"),
                                         ("Primary Care", "primary_care"), ("OTHER", "other")])
def test_kind_aliases(alias, kind):
    df = workshop_frame()
    df.loc[3, "kind"] = alias
    assert rs.System.from_frame(df).orgs.loc["D", "kind"] == kind


def test_support_defaults_to_zero_when_absent_or_blank():
    absent = rs.System.from_frame(workshop_frame().drop(columns=["support"]))
    assert absent.orgs["support"].tolist() == [0.0, 0.0, 0.0, 0.0]
    df = workshop_frame()
    df["support"] = [10_000_000.0, np.nan, 2_000_000.0, np.nan]
    blank = rs.System.from_frame(df)
    assert blank.orgs["support"].tolist() == [10_000_000.0, 0.0, 2_000_000.0, 0.0]


def test_blank_volatility_is_allowed_and_falls_back_to_the_kind_default():
    df = workshop_frame()
    df["volatility"] = [np.nan, 1.25, np.nan, np.nan]
    system = rs.System.from_frame(df)
    assert system.orgs["volatility"].isna().tolist() == [True, False, True, True]
    # kind defaults: acute 2.0, commissioner 0.75
    assert system.volatility().tolist() == [2.0, 1.25, 1.0, 0.75]
    absent = rs.System.from_frame(workshop_frame().drop(columns=["volatility"]))
    assert absent.orgs["volatility"].isna().all()
    assert absent.volatility().tolist() == [2.0, 1.0, 1.0, 0.75]


def test_all_text_extra_column_is_kept_with_a_warning():
    df = workshop_frame()
    df["note"] = ["big", "small", "medium", "host"]
    system = rs.System.from_frame(df)
    assert system.orgs["note"].tolist() == ["big", "small", "medium", "host"]
    assert len(system.warnings) == 1
    (warning,) = system.warnings
    assert warning.severity == "warning" and warning.column == "note"
    assert "kept for display only and cannot be a sharing basis or scale" in str(warning)
    assert "note" not in system.numeric_columns()


def test_numeric_extra_column_is_kept_as_a_basis_without_warning():
    df = workshop_frame()
    df["contribution"] = ["10", "£20", "30", "(0)"]
    system = rs.System.from_frame(df)
    assert system.orgs["contribution"].tolist() == [10.0, 20.0, 30.0, -0.0]
    assert "contribution" in system.numeric_columns()
    assert system.warnings == ()


def test_duplicate_columns_in_a_frame_are_reported():
    df = workshop_frame()
    df["extra"] = 1.0
    df.columns = list(df.columns[:-1]) + ["turnover"]
    with pytest.raises(rs.ValidationError) as info:
        rs.System.from_frame(df)
    assert "column 'turnover': appears more than once in the header" in str(info.value)


def test_integer_org_ids_become_text():
    df = workshop_frame()
    df["org_id"] = [101, 102, 103, 104]
    system = rs.System.from_frame(df)
    assert list(system.members) == ["101", "102", "103", "104"]


def test_year_and_name_are_labels():
    system = rs.System.from_frame(workshop_frame(), None, "  Workshop  ", 2019.0)
    assert system.name == "Workshop" and system.year == "2019"
    assert system.label == "Workshop 2019"
    assert rs.System.from_frame(workshop_frame()).label == "Unnamed system"


@pytest.mark.parametrize("thing", [[{"org_id": "A"}], None, "organisations.csv", {"A": 1}])
def test_a_non_dataframe_is_refused_clearly(thing):
    with pytest.raises(rs.ValidationError) as info:
        rs.System.from_frame(thing)
    assert f"expected a pandas DataFrame of members, got {type(thing).__name__}" in str(
        info.value)


# -- nothing is half-applied -----------------------------------------------------------------------
def snapshot(system: rs.System):
    return (system.orgs.copy(deep=True), system.control_total, system.name, system.year,
            system.control_total_set)


def assert_unchanged(system: rs.System, snap) -> None:
    orgs, sct, name, year, sct_set = snap
    pd.testing.assert_frame_equal(system.orgs, orgs)
    assert (system.control_total, system.name, system.year, system.control_total_set) == (
        sct, name, year, sct_set)


def test_failed_replace_leaves_the_system_unchanged():
    system = rs.load_sample("workshop_4")
    snap = snapshot(system)
    bad = system.orgs.copy()
    bad.loc["B", "turnover"] = -1.0
    with pytest.raises(rs.ValidationError) as info:
        system.replace(orgs=bad, control_total=0, name="changed")
    assert "row 2 (B), column 'turnover': -1 must be at least £1" in str(info.value)
    with pytest.raises(rs.ValidationError):
        system.replace(control_total="abc")
    with pytest.raises(TypeError, match="cannot replace colour"):
        system.replace(colour="red")
    assert_unchanged(system, snap)


def test_failed_with_control_totals_leaves_the_system_unchanged():
    system = rs.load_sample("workshop_4")
    snap = snapshot(system)
    with pytest.raises(rs.ValidationError) as info:
        system.with_control_totals(pd.Series({"A": 1.0, "B": 2.0}))  # C and D missing
    message = str(info.value)
    assert "row 3 (C), column 'control_total': is blank" in message
    assert "row 4 (D), column 'control_total': is blank" in message
    with pytest.raises(rs.ValidationError):
        system.with_control_totals(pd.Series({"A": "x", "B": 0, "C": 0, "D": 0}))
    assert_unchanged(system, snap)


def test_successful_replace_returns_a_new_system_and_keeps_the_old():
    system = rs.load_sample("workshop_4")
    snap = snapshot(system)
    new = system.replace(control_total=None, name="Again")
    assert new.control_total == -8_000_000.0 and new.control_total_set is False
    assert new.name == "Again" and new.year == "2019/20"
    assert_unchanged(system, snap)
    moved = system.with_control_totals(pd.Series({"A": -9e6, "B": 2e6, "C": 1e6, "D": 1e6}))
    assert moved.sum_control_totals == -5_000_000.0
    assert moved.control_total == -5_000_000.0
    assert_unchanged(system, snap)


def test_system_derived_figures():
    system = rs.load_sample("workshop_4")
    assert system.n == 4
    assert system.variance.tolist() == [-6e6, 1e6, 1e6, -2e6]  # forecast − OCT
    assert system.sum_control_totals == -8e6
    assert system.gap == 3e6
    assert repr(system) == ("<System 'Workshop system 2019/20': 4 members, SCT £-5,000,000, "
                            "ΣOCT £-8,000,000>")
