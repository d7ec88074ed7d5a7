"""In year, the worked cases (docs/in_year.md, "Worked cases"), every figure worked by hand.

Case 1 (quarterly support earned in arrears): one member plans −£12.0m, phased −£1.0m a month,
with £8.0m of support; its year-to-date actuals are −3.5, −5.5, −8.5 and −11.5 (£m) at months
3, 6, 9 and 12.
Case 2 (deficit support revenue, paid in advance on the system): £40m in four £10m quarters;
the system is on plan at months 3 and 6 and £2.0m behind plan to date at month 9.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import riskshare as rs
from riskshare.core.monthly import monthly_from_frame

M = 1_000_000.0
#: case 1's cumulative actuals (£m) month by month: −3.5 at month 3, −5.5 at 6, −8.5 at 9,
#: −11.5 at 12
CUMULATIVE = [-1.5, -2.5, -3.5, -4.5, -5.0, -5.5, -6.5, -7.5, -8.5, -9.5, -10.5, -11.5]


def one_member() -> rs.System:
    frame = pd.DataFrame({"org_id": ["A"], "name": ["Acute A"], "kind": ["acute"],
                          "turnover": [400 * M], "control_total": [-12 * M],
                          "forecast": [-11.5 * M], "support": [8 * M]})
    return rs.System.from_frame(frame, -12 * M, "One", "2018/19")


def case_one(months: int = 12) -> rs.Monthly:
    in_month = np.diff([0.0, *CUMULATIVE]) * M
    table = pd.DataFrame({"org_id": "A", "month": range(1, months + 1),
                          "actual": np.round(in_month[:months], 2)})
    return monthly_from_frame(table, one_member())


def quarterly(extra: str = "") -> rs.Agreement:
    return rs.load_agreement(f'name = "Quarterly support"\n[support]\nperiod = "quarter"\n{extra}')


def test_quarterly_support_in_arrears_loses_the_first_quarter():
    # YTD against plan: m3 −3.5 − (−3.0) = −0.5 (fails); m6 −5.5 + 6.0 = +0.5; m9 −8.5 + 9.0 =
    # +0.5; m12 −11.5 + 12.0 = +0.5 (pass) ⇒ 3 × £2.0m = £6.0m; final −11.5 + 6.0 = −£5.5m
    out = rs.apply(quarterly(), one_member(), monthly=case_one())
    row = out.table.loc["A"]
    assert row["variance"] == 0.5 * M
    assert row["support_earned"] == 6.0 * M
    assert row["final"] == -5.5 * M
    q = out.quarters.loc["A"]
    assert q["judged_month"].tolist() == [3, 6, 9, 12]
    assert q["judged_on"].tolist() == ["actuals"] * 4
    assert q["ytd_variance"].tolist() == [-0.5 * M, 0.5 * M, 0.5 * M, 0.5 * M]
    assert q["at_stake"].tolist() == [2 * M] * 4
    assert q["earned"].tolist() == [0.0, 2 * M, 2 * M, 2 * M]
    assert q["lost"].tolist() == [2 * M, 0.0, 0.0, 0.0]


def test_catch_up_pays_the_missed_quarter_when_the_year_end_test_passes():
    # the year ends +£0.5m against the control total: the test passes, Q1's £2.0m is paid
    # ⇒ £8.0m, final −11.5 + 8.0 = −£3.5m
    out = rs.apply(quarterly("catch_up = true"), one_member(), monthly=case_one())
    assert out.table.loc["A", "support_earned"] == 8.0 * M
    assert out.table.loc["A", "final"] == -3.5 * M
    assert out.quarters.loc["A", "earned"].tolist() == [2 * M] * 4


def test_the_annual_test_pays_everything_on_the_year_end():
    # judged once on −11.5 against −12.0: passes ⇒ £8.0m
    out = rs.apply("standalone", one_member(), monthly=case_one())
    assert out.table.loc["A", "support_earned"] == 8.0 * M
    assert out.table.loc["A", "final"] == -3.5 * M
    assert out.quarters.empty


def test_quarter_weights_weigh_the_late_quarters_more():
    # 15/20/30/35 of £8.0m = 1.2, 1.6, 2.4, 2.8; Q1 lost ⇒ 1.6 + 2.4 + 2.8 = £6.8m
    out = rs.apply(quarterly("quarter_weights = [0.15, 0.20, 0.30, 0.35]"), one_member(),
                   monthly=case_one())
    assert out.quarters.loc["A", "at_stake"].tolist() == [1.2 * M, 1.6 * M, 2.4 * M, 2.8 * M]
    assert out.table.loc["A", "support_earned"] == 6.8 * M


def test_at_month_six_the_forecast_by_plan_and_by_run_rate():
    # YTD −5.5 at month 6: plan −5.5 + 6 × (−1.0) = −£11.5m; run rate −5.5 × 12 / 6 = −£11.0m
    iy = rs.in_year(one_member(), case_one(), month=6)
    row = iy.table.loc["A"]
    assert row["ytd_plan"] == -6.0 * M
    assert row["ytd_actual"] == -5.5 * M
    assert row["ytd_variance"] == 0.5 * M
    assert row["ytd_variance_pct"] == pytest.approx(100 * 0.5 / 6.0)      # 8.33%
    assert row["forecast_plan"] == -11.5 * M
    assert row["forecast_run_rate"] == -11.0 * M
    assert np.isnan(row["forecast_submitted"])              # no submitted forecast given
    assert row["forecast"] == -11.5 * M                      # the plan method by default
    assert row["forecast_variance"] == 0.5 * M
    # at month 5 (YTD −5.0) the plan method said −5.0 − 7.0 = −12.0: moved +£0.5m
    assert row["movement_month"] == 0.5 * M
    assert row["movement_m6"] == 0.0
    assert rs.in_year(one_member(), case_one(), month=6, forecast="run_rate"
                      ).table.loc["A", "forecast"] == -11.0 * M


def test_no_percentage_against_a_plan_near_breakeven():
    # a member planning −£1.2m on £400m of turnover: at month 6 its plan to date is −£0.6m,
    # under 0.5% of the turnover to date (0.005 × 400 × 6/12 = £1.0m) ⇒ no percentage; the
    # £ variance stays. With −£2.4m planned (−£1.2m to date, over £1.0m) it is shown:
    # (−1.5 − (−1.2)) / 1.2 = −25%.
    for control_total, actual_to_date, pct in ((-1.2, -0.9, None), (-2.4, -1.5, -25.0)):
        frame = pd.DataFrame({"org_id": ["A"], "name": ["Acute A"], "kind": ["acute"],
                              "turnover": [400 * M], "control_total": [control_total * M],
                              "forecast": [control_total * M], "support": [0.0]})
        system = rs.System.from_frame(frame, control_total * M, "One", "2025/26")
        actual = [round(actual_to_date * M / 6, 2)] * 6
        monthly = monthly_from_frame(pd.DataFrame({"org_id": "A", "month": range(1, 7),
                                                   "actual": actual}), system)
        row = rs.in_year(system, monthly, month=6).table.loc["A"]
        assert row["ytd_variance"] == pytest.approx((actual_to_date - control_total / 2) * M,
                                                    abs=0.01)
        if pct is None:
            assert np.isnan(row["ytd_variance_pct"])
        else:
            assert row["ytd_variance_pct"] == pytest.approx(pct)


def test_at_month_six_the_quarters_to_come_are_judged_on_the_forecast():
    # plan method: the rest of the year at plan keeps the YTD variance at +0.5 ⇒ Q3, Q4 pass
    # on the forecast; Q1 fails and Q2 passes on actuals ⇒ £6.0m
    iy = rs.in_year(one_member(), case_one(), month=6)
    out = rs.apply(quarterly(), one_member(), monthly=iy)
    q = out.quarters.loc["A"]
    assert q["judged_on"].tolist() == ["actuals", "actuals", "forecast", "forecast"]
    assert q["ytd_variance"].tolist() == [-0.5 * M, 0.5 * M, 0.5 * M, 0.5 * M]
    assert out.table.loc["A", "variance"] == 0.5 * M          # −11.5 against −12.0
    assert out.table.loc["A", "support_earned"] == 6.0 * M
    # run rate: −5.5 / 6 a month ⇒ at month 9 −8.25 against −9.0 = +0.75; at 12 +1.0
    rr = rs.apply(quarterly(), one_member(),
                  monthly=rs.in_year(one_member(), case_one(), month=6, forecast="run_rate"))
    assert rr.quarters.loc["A", "ytd_variance"].tolist() == [-0.5 * M, 0.5 * M, 0.75 * M, 1 * M]
    assert rr.table.loc["A", "variance"] == 1.0 * M


def test_a_month_not_closed_by_every_member_is_refused_by_name():
    with pytest.raises(rs.ValidationError) as err:
        rs.in_year(one_member(), case_one(months=9), month=10)
    assert ("A (to month 9) has actuals only to an earlier month (the latest month closed for "
            "all is 9)") in str(err.value)
    with pytest.raises(rs.ValidationError, match="needs at least one closed month"):
        rs.in_year(one_member(), case_one(months=9), month=0, forecast="run_rate")
    with pytest.raises(rs.ValidationError, match="needs a submitted forecast for every month "
                                                 "after month 9; A has none"):
        rs.in_year(one_member(), case_one(months=9), forecast="submitted")


# -- case 2: deficit support revenue, in advance, on the system ---------------------------------------
def two_trusts() -> tuple[rs.System, rs.Monthly]:
    """X plans −£30.0m with £30.0m of deficit support, Y −£12.0m with £10.0m; the SCT is their
    sum, −£42.0m. Both are on plan to month 6; in months 7–9 X is £2.0m behind plan (−1.0,
    −0.5, −0.5 against a plan of −2.5 a month) and Y exactly on plan (−1.0 a month)."""
    frame = pd.DataFrame({"org_id": ["X", "Y"], "name": ["Trust X", "Trust Y"],
                          "kind": ["acute", "acute"], "turnover": [600 * M, 300 * M],
                          "control_total": [-30 * M, -12 * M], "forecast": [-32 * M, -12 * M],
                          "support": [30 * M, 10 * M]})
    system = rs.System.from_frame(frame, -42 * M, "Two trusts", "2025/26")
    x = [-2.5 * M] * 6 + [-3.5 * M, -3.0 * M, -3.0 * M]
    y = [-1.0 * M] * 9
    rows = ([{"org_id": "X", "month": k + 1, "actual": a} for k, a in enumerate(x)]
            + [{"org_id": "Y", "month": k + 1, "actual": a} for k, a in enumerate(y)])
    return system, monthly_from_frame(pd.DataFrame(rows), system)


DEFICIT_SUPPORT = '''name = "Deficit support revenue"
[support]
test = "{test}"
period = "quarter"
timing = "advance"
'''


def test_deficit_support_is_withheld_in_q4_when_the_system_is_behind_at_month_9():
    # Q1 paid on the plan; Q2 on month 3 (on plan), Q3 on month 6 (on plan), Q4 on month 9:
    # the system is −£2.0m to date ⇒ Q4 withheld: 3 × £10.0m = £30.0m (X 22.5, Y 7.5)
    system, monthly = two_trusts()
    out = rs.apply(DEFICIT_SUPPORT.format(test="system"), system, monthly=monthly)
    assert out.system["support_earned_total"] == 30.0 * M
    assert out.table["support_earned"].to_dict() == {"X": 22.5 * M, "Y": 7.5 * M}
    q = out.quarters.loc["X"]
    assert q["judged_month"].tolist() == [0, 3, 6, 9]
    assert q["judged_on"].tolist() == ["plan", "actuals", "actuals", "actuals"]
    assert q["ytd_variance"].tolist() == [0.0, 0.0, 0.0, -2.0 * M]   # the system's
    assert q["earned"].tolist() == [7.5 * M, 7.5 * M, 7.5 * M, 0.0]


def test_a_member_exactly_on_plan_to_date_passes():
    # on each member's own test Y is exactly on plan at month 9 (0.00 ≥ −half a penny): it
    # keeps all £10.0m; X, £2.0m behind, loses its Q4 £7.5m ⇒ 22.5 + 10.0 = £32.5m
    system, monthly = two_trusts()
    out = rs.apply(DEFICIT_SUPPORT.format(test="organisation"), system, monthly=monthly)
    assert out.table["support_earned"].to_dict() == {"X": 22.5 * M, "Y": 10.0 * M}
    assert out.quarters.loc[("Y", "Q4"), "ytd_variance"] == 0.0
    assert out.system["support_earned_total"] == 32.5 * M


def test_reordering_the_members_changes_nothing():
    system, monthly = two_trusts()
    frame = system.orgs.reset_index().iloc[::-1]
    flipped = rs.System.from_frame(frame, system.control_total, system.name, system.year)
    table = monthly.table.reset_index()
    again = monthly_from_frame(table[table["org_id"] == "Y"].pipe(
        lambda y: pd.concat([y, table[table["org_id"] == "X"]]))[
        ["org_id", "month", "actual"]].dropna(), flipped)
    a = rs.apply(DEFICIT_SUPPORT.format(test="system"), system, monthly=monthly).table
    b = rs.apply(DEFICIT_SUPPORT.format(test="system"), flipped, monthly=again).table
    pd.testing.assert_frame_equal(a.loc[["X", "Y"]], b.loc[["X", "Y"]])


def test_the_board_sentence_splits_the_sct_gap_from_the_members():
    # the same member, but an SCT of −£9.0m: the SCT asks £3.0m more than the control total,
    # phased evenly £0.75m to month 3. Plan to date −3.0 + 0.75 = −2.25; actual −3.5 ⇒ the
    # system is £1.25m behind: the member £0.50m behind its own plan, £0.75m the SCT's ask.
    frame = one_member().orgs.reset_index()
    system = rs.System.from_frame(frame, -9 * M, "One", "2018/19")
    table = case_one().table.reset_index()[["org_id", "month", "actual"]].dropna()
    monthly = monthly_from_frame(table, system)
    first = rs.in_year(system, monthly, month=3).sentences()[0]
    assert first == ("At month 3 (June), the system is £1.25m behind its plan to date (year to "
                     "date -£3.50m against a plan to date of -£2.25m, the SCT phased; of which "
                     "the members are £0.50m behind their own plans and £0.75m is the SCT "
                     "asking more than their control totals add up to, phased).")
