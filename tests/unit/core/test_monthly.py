"""The monthly table (the in-year issue's data; its docs come with the In year page): phasing
and validation. Figures worked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import riskshare as rs
from riskshare.core.monthly import monthly_from_frame, phase

M = 1_000_000.0


def pair() -> rs.System:
    # A plans −£12.0m (the in-year worked case), B +£1.2m
    frame = pd.DataFrame({"org_id": ["A", "B"], "name": ["A", "B"], "kind": ["acute", "community"],
                          "turnover": [400 * M, 100 * M], "control_total": [-12 * M, 1.2 * M],
                          "forecast": [-11.5 * M, 1.2 * M], "support": [8 * M, 0.0]})
    return rs.System.from_frame(frame, -10.8 * M, "Pair", "2025/26")


def test_even_phasing_is_a_twelfth_a_month_to_the_penny():
    assert phase(-12 * M).tolist() == [-1 * M] * 12
    # −£1,000,000.05 is 100,000,005 pennies: 8,333,333 each and 9 pennies more, to the first
    # nine months by largest remainder (all equal: in month order)
    odd = phase(-1_000_000.05)
    assert odd.tolist() == [-83_333.34] * 9 + [-83_333.33] * 3
    assert round(float(odd.sum()), 2) == -1_000_000.05


def test_the_winter_acute_profile_puts_more_of_a_deficit_in_winter():
    # weights Apr–Sep 0.95, Oct 1.00, Nov 1.05, Dec 1.15, Jan 1.15, Feb 1.05, Mar 0.90 (sum 12)
    assert (phase(-12 * M, "winter_acute") / M).tolist() == pytest.approx(
        [-0.95] * 6 + [-1.00, -1.05, -1.15, -1.15, -1.05, -0.90])


def test_members_without_a_plan_have_their_control_total_phased():
    table = pd.DataFrame({"org_id": ["A", "A", "A"], "month": [1, 2, 3],
                          "actual": [-1.5 * M, -1.0 * M, -1.0 * M]})
    monthly = monthly_from_frame(table, pair())
    assert monthly.phased == ("A", "B")
    assert monthly.table.loc["A", "plan"].tolist() == [-1 * M] * 12
    assert monthly.table.loc["B", "plan"].tolist() == [0.1 * M] * 12    # +1.2m / 12
    # A has closed months 1–3 (YTD −3.5m), B none: the system's closed month is 0
    assert monthly.closed().to_dict() == {"A": 3, "B": 0}
    assert monthly.month == 0
    assert monthly.table.loc[("A", 3), "actual"] == -1 * M
    assert np.isnan(monthly.table.loc[("A", 4), "actual"])


def test_a_full_plan_must_add_up_to_the_control_total():
    rows = [{"org_id": "A", "month": m, "plan": -1 * M} for m in range(1, 13)]
    rows[11]["plan"] = -1.25 * M       # Σ = −12.25m, £0.25m below the −£12.0m OCT
    with pytest.raises(rs.ValidationError) as err:
        monthly_from_frame(pd.DataFrame(rows), pair())
    assert ("member 'A', column 'plan': monthly plans add up to -£12,250,000.00, not its control "
            "total -£12,000,000.00 (£250,000.00 below it): correct them, or leave plan blank to "
            "phase the control total") in str(err.value)
    rows[11]["plan"] = -1 * M
    assert monthly_from_frame(pd.DataFrame(rows), pair()).phased == ("B",)


def test_every_problem_is_reported_at_once_with_its_row():
    table = pd.DataFrame({
        "org_id": ["A", "X", "A", "A", "B", "B", "A"],
        "month": [1, 2, 13, 1, 2, 1.5, 5],
        "plan": [None, None, None, None, None, None, None],
        "actual": [-1.0 * M, 0.0, 0.0, -2.0 * M, "12m", 0.0, -1.0 * M],
    })
    with pytest.raises(rs.ValidationError) as err:
        monthly_from_frame(table, pair(), source="monthly.csv")
    message = str(err.value)
    assert "'X'" in message and "is not a member of the system (members: A, B)" in message
    assert "row 3" in message and "must be a whole month from 1 (April) to 12 (March)" in message
    assert "A month 1 is given twice (rows 1 and 4)" in message
    assert "'12m' is not a number" in message
    assert "row 6" in message      # month 1.5


def test_an_actual_after_a_blank_month_is_refused():
    table = pd.DataFrame({"org_id": ["A", "A"], "month": [1, 4],
                          "actual": [-1.0 * M, -1.0 * M]})
    with pytest.raises(rs.ValidationError) as err:
        monthly_from_frame(table, pair())
    assert ("has an actual for month 4 but none for months 2, 3: months close in order"
            in str(err.value))


def test_a_partial_plan_and_bad_columns_are_named():
    table = pd.DataFrame({"org_id": ["A"] * 3, "month": [1, 2, 3], "plan": [-1 * M] * 3,
                          "budget": [0, 0, 0]})
    with pytest.raises(rs.ValidationError) as err:
        monthly_from_frame(table, pair())
    assert "column 'budget': is not a column of the monthly table" in str(err.value)
    table = table.drop(columns="budget")
    with pytest.raises(rs.ValidationError) as err:
        monthly_from_frame(table, pair())
    assert "has a plan for 3 of 12 months: give all twelve, or none" in str(err.value)


def test_money_is_read_as_finance_writes_it_and_held_in_pennies():
    table = pd.DataFrame({"org_id": ["A", "A"], "month": ["1", "2"],
                          "actual": ["(£1,500,000)", "-1,000,000.5"]})
    monthly = monthly_from_frame(table, pair())
    assert monthly.table.loc[("A", 1), "actual"] == -1_500_000.0
    assert monthly.table.loc[("A", 2), "actual"] == -1_000_000.5
    with pytest.raises(rs.ValidationError) as err:
        monthly_from_frame(table.assign(actual=[-1.0, -0.001]), pair())
    assert "is given to a fraction of a penny" in str(err.value)


def test_load_monthly_reads_a_folder_or_a_csv_with_file_lines(tmp_path):
    folder = pair().to_folder(tmp_path / "pair")
    (folder / "monthly.csv").write_text(
        "org_id,month,actual\nA,1,\"(£1,500,000)\"\nA,2,-1000000\nA,3,-1000000\n",
        encoding="utf-8")
    monthly = rs.load_monthly(folder, pair())
    # YTD −1.5 − 1.0 − 1.0 = −£3.5m at month 3 (the in-year worked case's first quarter)
    assert float(monthly.table.loc["A", "actual"].iloc[:3].sum()) == -3.5 * M
    assert monthly.closed().to_dict() == {"A": 3, "B": 0}
    bad = tmp_path / "bad.csv"
    bad.write_text("org_id,month,actual\nA,1,-1000000\nZ,2,0\nA,14,0\n", encoding="utf-8")
    with pytest.raises(rs.ValidationError) as err:
        rs.load_monthly(bad, pair())
    message = str(err.value)
    assert message.startswith("2 problems in bad.csv")
    assert "row 3, column 'org_id': 'Z' is not a member of the system" in message
    assert "row 4 (A), column 'month': '14' must be a whole month" in message
    with pytest.raises(rs.InputFileError):
        rs.load_monthly(tmp_path / "missing.csv", pair())


# -- what a hostile or careless file gets (the in-year review) ------------------------------------
def test_a_column_given_twice_is_one_clear_message_not_a_crash():
    frame = pd.DataFrame([["A", 1, -1 * M, -1 * M]], columns=["org_id", "month", "actual",
                                                             "actual"])
    with pytest.raises(rs.ValidationError, match="'actual': appears more than once"):
        monthly_from_frame(frame, pair())


def test_headers_are_read_without_regard_to_case():
    frame = pd.DataFrame({"Org_ID": ["A"], "Month": [1], "Actual": [-1.5 * M]})
    assert monthly_from_frame(frame, pair()).table.loc[("A", 1), "actual"] == -1.5 * M


def test_a_date_in_the_month_column_is_named_as_a_date():
    import datetime as dt

    frame = pd.DataFrame({"org_id": ["A"], "month": [dt.datetime(2025, 4, 1)],
                          "actual": [-1 * M]})
    with pytest.raises(rs.ValidationError, match=r"is a date \(01 Apr 2025\)"):
        monthly_from_frame(frame, pair())


def test_a_member_behind_the_others_is_named_not_silently_month_0():
    # A has three months closed, B none: the table is closed to month 0 for every member,
    # and it says why
    frame = pd.DataFrame({"org_id": ["A"] * 3, "month": [1, 2, 3], "actual": [-1 * M] * 3})
    monthly = monthly_from_frame(frame, pair())
    assert monthly.month == 0
    assert monthly.uneven() == (
        "B has no actuals, while other members are closed to month 3: the year can be looked "
        "at only to month 0, the latest closed for every member (give the missing months' "
        "actuals to go further).")
    level = monthly_from_frame(pd.DataFrame({"org_id": ["A", "B"], "month": [1, 1],
                                             "actual": [-1 * M, 0.1 * M]}), pair())
    assert level.uneven() == ""


def test_a_forecast_beside_an_actual_is_a_warning():
    from riskshare.core.monthly import check_monthly

    frame = pd.DataFrame({"org_id": ["A"], "month": [1], "actual": [-1 * M],
                          "forecast": [-0.9 * M]})
    monthly, problems = check_monthly(frame, pair())
    assert monthly is not None
    assert [(p.severity, p.column) for p in problems] == [("warning", "forecast")]
    assert "month 1 has an actual, so its forecast is not used" in problems[0].rule


def test_phasing_by_kind_gives_acute_trusts_the_winter_profile_and_the_others_even():
    # winter_for_acute: A (acute, −£12.0m) by the winter profile, whose April weight is 0.95 of
    # a twelfth and December's 1.15 ⇒ −£0.95m and −£1.15m; B (community, +£1.2m) evenly,
    # +£0.1m a month
    empty = pd.DataFrame(columns=["org_id", "month"])
    monthly = monthly_from_frame(empty, pair(), "winter_for_acute")
    plan = monthly.table["plan"]
    assert (plan[("A", 1)], plan[("A", 9)]) == (-0.95 * M, -1.15 * M)
    assert plan.loc["B"].tolist() == [0.1 * M] * 12
    assert round(float(plan.loc["A"].sum()), 2) == -12 * M
    assert monthly.phased == ("A", "B") and monthly.profile == "winter_for_acute"
    with pytest.raises(rs.ValidationError, match="is not a phasing"):
        monthly_from_frame(empty, pair(), "summer")
