"""The monthly table in files: the two samples' actuals to month 9, a `monthly` sheet in a
workbook (read and written), monthly.csv in a system folder, and the template's monthly sheet.
Figures are the samples' own (organisations.csv, monthly.csv) written as literals, the sums
worked by hand."""

from __future__ import annotations

import io

import numpy as np
import openpyxl
import pandas as pd
import pytest

import riskshare as rs
from riskshare.core import samples
from riskshare.core.monthly import load_monthly, monthly_from_bytes, monthly_from_frame
from riskshare.core.write import excel_bytes, template_workbook, write_excel, write_folder

M = 1_000_000.0

# organisations.csv, column control_total (the OCT each member's twelve plans add up to)
NORTHSHIRE_OCT = {"NGH": 1_800_000, "SVH": -9_400_000, "NCH": 1_100_000, "NVP": 800_000,
                  "RAS": 350_000, "NCC": 3_200_000, "CCG": -6_000_000, "NSC": 0,
                  "VGP": 150_000}
VALE_OCT = {"VGH": -34_000_000, "EVH": -17_500_000, "VCH": 1_200_000, "VWM": 800_000,
            "VAS": -6_500_000, "VOC": 2_400_000, "ICB": 1_600_000, "VCC": 0}
ACUTE = {"northshire_2018_19": ("NGH", "SVH"), "vale_2025_26": ("VGH", "EVH")}


def sample(name: str) -> tuple[rs.System, rs.Monthly]:
    system = rs.load_sample(name)
    return system, rs.load_monthly(samples.info(name).path, system)


def workbook(rows, title: str = "monthly", others: tuple[str, ...] = ()) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    for other in others:
        wb.create_sheet(other)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# -- the samples ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name, octs", [("northshire_2018_19", NORTHSHIRE_OCT),
                                        ("vale_2025_26", VALE_OCT)])
def test_both_samples_are_closed_to_december_with_plans_adding_up_to_each_oct(name, octs):
    system, monthly = sample(name)
    # every member, those outside the SCT too (NSC and VGP; VCC), closed to month 9
    assert monthly.closed().to_dict() == {org: 9 for org in octs}
    assert monthly.month == 9
    plans = monthly.table["plan"].groupby(level="org_id", sort=False).sum()
    assert {org: round(float(v), 2) for org, v in plans.items()} == octs
    # no actual after December, no forecast before January
    months = monthly.table.index.get_level_values("month")
    assert monthly.table["actual"][months > 9].isna().all()
    assert monthly.table["actual"][months <= 9].notna().all()
    assert monthly.table["forecast"][months <= 9].isna().all()
    assert monthly.table["forecast"][months > 9].notna().all()
    # and the bundled name gives the same table
    again = rs.load_sample_monthly(name)
    assert again is not None and again.table.equals(monthly.table)


def test_two_members_plans_are_left_blank_and_phased_evenly():
    assert sample("northshire_2018_19")[1].phased == ("NCH", "NSC")
    assert sample("vale_2025_26")[1].phased == ("VCH", "VCC")
    # VCH's OCT +£1.2m evenly: £100,000 a month; the council's 0: nothing a month
    vale = sample("vale_2025_26")[1].table
    assert vale.loc["VCH", "plan"].tolist() == [100_000.0] * 12
    assert vale.loc["VCC", "plan"].tolist() == [0.0] * 12
    # an acute trust's plan is winter-weighted: NGH's +£1.8m is 0.95/12 of it (£142,500) a
    # month April–September, then 1.00, 1.05, 1.15, 1.15, 1.05, 0.90 twelfths
    ngh = sample("northshire_2018_19")[1].table.loc["NGH", "plan"]
    assert ngh.tolist() == [142_500.0] * 6 + [150_000.0, 157_500.0, 172_500.0, 172_500.0,
                                              157_500.0, 135_000.0]


def test_year_to_date_actual_plus_the_remaining_forecast_is_the_forecast_column():
    ngh = sample("northshire_2018_19")[1].table.loc["NGH"]
    # NGH's actuals April–December: 234,350 + 284,432 + 653,234 + 413,971 + 681,325 + 706,141
    # + 870,208 + 1,195,414 + 1,957,612 = 6,996,687 of deficit
    assert float(ngh["actual"].sum()) == -6_996_687.0
    # the forecast for January–March: 1,926,964 + 1,275,738 + 1,400,611 = 4,603,313
    assert float(ngh["forecast"].sum()) == -4_603_313.0
    # 6,996,687 + 4,603,313 = 11,600,000: organisations.csv's forecast for NGH, −£11.6m
    assert float(ngh["actual"].sum() + ngh["forecast"].sum()) == -11_600_000.0

    vgh = sample("vale_2025_26")[1].table.loc["VGH"]
    # 2,860,285 + 3,275,626 + 3,092,852 + 3,424,566 + 3,473,920 + 3,294,679 + 3,937,039
    # + 4,377,323 + 5,835,747 = 33,572,037; then 5,826,657 + 4,267,010 + 3,934,296 = 14,027,963
    assert float(vgh["actual"].sum()) == -33_572_037.0
    assert float(vgh["forecast"].sum()) == -14_027_963.0
    # 33,572,037 + 14,027,963 = 47,600,000: VGH's forecast, −£47.6m
    assert float(vgh["actual"].sum() + vgh["forecast"].sum()) == -47_600_000.0


def test_every_members_year_adds_up_to_its_forecast_to_the_penny():
    for name in ("northshire_2018_19", "vale_2025_26"):
        system, monthly = sample(name)
        year = (monthly.table["actual"].fillna(0) + monthly.table["forecast"].fillna(0))
        totals = year.groupby(level="org_id", sort=False).sum().round(2)
        assert totals.to_dict() == system.orgs["forecast"].to_dict()


def test_a_member_far_from_its_oct_is_behind_plan_by_month_6_and_more_by_month_9():
    ngh = sample("northshire_2018_19")[1].table.loc["NGH"]
    variance = (ngh["actual"] - ngh["plan"]).cumsum()
    # plan to September 6 × 142,500 = 855,000; actual −(234,350 + 284,432 + 653,234 + 413,971
    # + 681,325 + 706,141) = −2,973,453: 3,828,453 behind
    assert round(float(variance[6]), 2) == -3_828_453.0
    # plan to December 855,000 + 150,000 + 157,500 + 172,500 = 1,335,000; actual −6,996,687
    assert round(float(variance[9]), 2) == -8_331_687.0


def test_members_on_plan_stay_close_and_acute_winters_are_worse_than_plan():
    for name in ("northshire_2018_19", "vale_2025_26"):
        system, monthly = sample(name)
        table = monthly.table
        gap = system.orgs["forecast"] - system.orgs["control_total"]
        for org in gap[gap.abs() < 0.5 * M].index:    # NCH, NVP, RAS; VCH
            ytd = float((table.loc[org, "actual"] - table.loc[org, "plan"]).iloc[:9].sum())
            assert abs(ytd) < 0.25 * M, org
        for org in ACUTE[name]:     # December's actual and January's forecast below plan
            assert table.loc[(org, 9), "actual"] < table.loc[(org, 9), "plan"], org
            assert table.loc[(org, 10), "forecast"] < table.loc[(org, 10), "plan"], org
    assert sample("northshire_2018_19")[1].table.loc[("NGH", 9), "actual"] == -1_957_612.0


def test_samples_without_a_monthly_table_have_none():
    assert rs.load_sample_monthly("workshop_4") is None
    assert samples.sample_monthly("workshop_4") is None
    with pytest.raises(rs.UnknownSampleError):
        rs.load_sample_monthly("no_such_sample")


# -- writing and reading back ----------------------------------------------------------------------
def test_the_system_workbook_carries_a_monthly_sheet_and_reads_back_unchanged(tmp_path):
    system, monthly = sample("vale_2025_26")
    data = excel_bytes(system, monthly)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["cover", "organisations", "system", "monthly", "guide"]
    ws = wb["monthly"]
    assert [c.value for c in ws[1]] == ["org_id", "month", "plan", "actual", "forecast"]
    # VGH April: plan −£34.0m × 0.95 / 12 = −£2,691,666.67 (£ format), actual −£2,860,285
    assert [c.value for c in ws[2]] == ["VGH", 1, -2_691_666.67, -2_860_285, None]
    assert ws["C2"].number_format == "£#,##0.00;-£#,##0.00"
    assert ws.max_row == 1 + 8 * 12                    # eight members × twelve months
    cover = {r[0]: r[1] for r in wb["cover"].iter_rows(values_only=True) if r[0]}
    assert cover["Setting: monthly table"] == "closed to month 9 (December) for every member"
    back = monthly_from_bytes(data, "vale.xlsx", system)
    assert back.table.equals(monthly.table) and back.phased == monthly.phased
    # the system still loads from it, and the file on disk reads back the same
    assert rs.load_system(_saved(tmp_path / "vale.xlsx", data)).equals(system)
    write_excel(system, tmp_path / "again.xlsx", monthly)
    assert load_monthly(tmp_path / "again.xlsx", system).table.equals(monthly.table)


def _saved(path, data: bytes):
    path.write_bytes(data)
    return path


def test_a_system_folder_gets_monthly_csv_and_reads_back_unchanged(tmp_path):
    system, monthly = sample("northshire_2018_19")
    folder = write_folder(system, tmp_path / "ns", monthly)
    lines = (folder / "monthly.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "org_id,month,plan,actual,forecast"
    assert lines[1] == "NGH,1,142500,-234350,"
    assert lines[12] == "NGH,12,135000,,-1400611"
    # NCH's plan was phased evenly: left blank, to be phased the same way when read
    assert lines[2 * 12 + 1] == "NCH,1,,107679,"
    # the very file the sample ships
    bundled = samples.info("northshire_2018_19").path / "monthly.csv"
    assert (folder / "monthly.csv").read_bytes() == bundled.read_bytes()
    back = rs.load_monthly(folder, rs.load_system(folder))
    assert back.table.equals(monthly.table) and back.phased == ("NCH", "NSC")
    # without a monthly table the folder is as before
    write_folder(system, tmp_path / "plain")
    assert not (tmp_path / "plain" / "monthly.csv").exists()


def test_a_plan_phased_by_a_profile_is_written_month_by_month():
    # A (acute, OCT −£12.0m) phased winter_acute: April −£0.95m; read back with the default
    # (even) profile it is the same plan, now given
    frame = pd.DataFrame({"org_id": ["A"], "month": [1], "actual": [-1.5 * M]})
    system = _pair()
    monthly = monthly_from_frame(frame, system, "winter_acute")
    back = monthly_from_bytes(excel_bytes(system, monthly), "pair.xlsx", system)
    assert back.table.loc[("A", 1), "plan"] == -950_000.0
    assert back.table.equals(monthly.table) and back.phased == ()


def test_a_monthly_table_of_another_system_is_refused_before_anything_is_written(tmp_path):
    system, monthly = sample("vale_2025_26")
    with pytest.raises(rs.UsageError, match="the monthly table is of members VGH, EVH"):
        write_folder(rs.load_sample("workshop_4"), tmp_path / "w", monthly)
    assert not (tmp_path / "w").exists()
    with pytest.raises(rs.ArgumentTypeError, match="monthly must be a monthly table"):
        excel_bytes(system, monthly.table)        # type: ignore[arg-type]


# -- reading a monthly sheet -----------------------------------------------------------------------
def _pair() -> rs.System:
    frame = pd.DataFrame({"org_id": ["A", "B"], "name": ["A", "B"], "kind": ["acute", "community"],
                          "turnover": [400 * M, 100 * M], "control_total": [-12 * M, 1.2 * M],
                          "forecast": [-11.5 * M, 1.2 * M], "support": [8 * M, 0.0]})
    return rs.System.from_frame(frame, -10.8 * M, "Pair", "2025/26")


def test_a_bad_cell_of_a_monthly_sheet_is_named_by_its_sheet_row():
    data = workbook([["org_id", "month", "actual"], ["A", 1, -1.5 * M], ["A", 2, "12m"],
                     [None, None, None], ["A", 13, 0]], title="Monthly", others=("notes",))
    with pytest.raises(rs.ValidationError) as err:
        monthly_from_bytes(data, "year.xlsx", _pair())
    message = str(err.value)
    assert message.startswith("2 problems in year.xlsx, sheet 'Monthly'")
    assert "row 3 (A), column 'actual': '12m' is not a number" in message
    # the blank row 4 is skipped, and the next row keeps its number
    assert "row 5 (A), column 'month': 13 must be a whole month from 1 (April)" in message


def test_a_heading_row_over_the_column_names_is_read_past():
    data = workbook([["Member ID", "Month (1 is April)", "Actual in month (£)"],
                     ["org_id", "month", "actual"],
                     ["A", 1, -1.5 * M], ["A", 2, -1.0 * M], ["A", 3, "=1/0"]])
    with pytest.raises(rs.ValidationError) as err:
        monthly_from_bytes(data, "year.xlsx", _pair())
    assert ("row 5 (A), column 'actual': '=1/0' is a formula with no saved result"
            in str(err.value))
    data = workbook([["Member ID", "Month (1 is April)", "Actual in month (£)"],
                     ["org_id", "month", "actual"], ["A", 1, -1.5 * M], ["A", 2, -1.0 * M]])
    monthly = monthly_from_bytes(data, "year.xlsx", _pair())
    # YTD −1.5 − 1.0 = −£2.5m at month 2
    assert float(monthly.table.loc["A", "actual"].iloc[:2].sum()) == -2.5 * M
    assert monthly.closed().to_dict() == {"A": 2, "B": 0}


def test_a_money_cell_shown_as_a_percentage_is_refused():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "monthly"
    ws.append(["org_id", "month", "actual"])
    ws.append(["A", 1, -0.015])
    ws["C2"].number_format = "0.0%"
    buffer = io.BytesIO()
    wb.save(buffer)
    with pytest.raises(rs.ValidationError, match=r"row 2 \(A\), column 'actual': '-1.5%' is a "
                                                 "percentage, but this column is in £"):
        monthly_from_bytes(buffer.getvalue(), "year.xlsx", _pair())


def test_a_one_sheet_workbook_is_read_when_it_holds_a_monthly_table():
    data = workbook([["org_id", "month", "plan"]] + [["B", m, 100_000] for m in range(1, 13)],
                    title="Sheet1")
    monthly = monthly_from_bytes(data, "b.xlsx", _pair())
    # B's twelve plans of £100,000 add up to its OCT, +£1.2m; A's −£12.0m is phased
    assert monthly.phased == ("A",)
    assert monthly.table.loc["B", "plan"].tolist() == [100_000.0] * 12
    members = workbook([["org_id", "name"], ["A", "A"]], title="organisations")
    with pytest.raises(rs.InputFileError) as err:
        monthly_from_bytes(members, "members.xlsx", _pair())
    assert str(err.value).startswith("members.xlsx: no 'monthly' sheet, and its only sheet, "
                                     "'organisations', has no 'month' column")


def test_a_system_workbook_without_a_monthly_sheet_says_so(tmp_path):
    system = rs.load_sample("vale_2025_26")
    path = tmp_path / "vale.xlsx"
    write_excel(system, path)
    with pytest.raises(rs.InputFileError) as err:
        rs.load_monthly(path, system)
    assert str(err.value).startswith("vale.xlsx: no 'monthly' sheet (found: cover, "
                                     "organisations, system, guide)")
    with pytest.raises(rs.InputFileError, match="the folder has no 'monthly.csv'"):
        rs.load_monthly(system.to_folder(tmp_path / "vale"), system)
    with pytest.raises(rs.InputFileError, match="unsupported file type '.ods'"):
        monthly_from_bytes(b"", "year.ods", system)
    with pytest.raises(rs.InputFileError, match="not a readable .xlsx workbook"):
        monthly_from_bytes(b"not a zip", "year.xlsx", system)


# -- the template ----------------------------------------------------------------------------------
def test_the_template_has_a_monthly_sheet_with_examples_and_a_guide():
    wb = openpyxl.load_workbook(io.BytesIO(template_workbook()))
    assert wb.sheetnames == ["cover", "organisations", "system", "monthly", "risks",
                             "guide"]
    rows = list(wb["monthly"].iter_rows(values_only=True))
    assert rows == [("org_id", "month", "plan", "actual", "forecast"),
                    ("EXAMPLE", 1, -1_000_000, -1_250_000, None),
                    ("EXAMPLE", 10, -1_000_000, None, -900_000)]
    guide = {r[0]: r for r in wb["guide"].iter_rows(min_row=3, values_only=True)}
    for column in ("org_id", "month", "plan", "actual", "forecast"):
        assert f"(monthly sheet) {column}" in guide
    assert guide["(monthly sheet) month"][1:4] == ("Month (1 is April)", "yes", "1–12")
    assert guide["(monthly sheet) plan"][2] == "no (the control total phased evenly)"
    notes = " ".join(str(r[1]) for r in wb["cover"].iter_rows(values_only=True) if r[1])
    assert "replacing its two example rows (org_id EXAMPLE)" in notes
    # the example rows name no member, and say so by row
    with pytest.raises(rs.ValidationError, match="row 2, column 'org_id': 'EXAMPLE' is not a "
                                                 "member of the system"):
        monthly_from_bytes(template_workbook(), "template.xlsx", _pair())


def test_a_filled_in_template_loads(tmp_path):
    wb = openpyxl.load_workbook(io.BytesIO(template_workbook()))
    ws = wb["monthly"]
    ws.delete_rows(2, 2)
    for month, actual in ((1, -1_500_000), (2, -1_000_000), (3, -1_000_000)):
        ws.append(["A", month, None, actual, None])
    path = tmp_path / "filled.xlsx"
    wb.save(path)
    monthly = rs.load_monthly(path, _pair())
    # A's −£12.0m phased evenly, −£1.0m a month; YTD actual −1.5 − 1.0 − 1.0 = −£3.5m at
    # month 3
    assert monthly.table.loc["A", "plan"].tolist() == [-1 * M] * 12
    assert float(monthly.table.loc["A", "actual"].sum()) == -3.5 * M
    assert monthly.closed().to_dict() == {"A": 3, "B": 0}
    assert np.isnan(monthly.table.loc[("A", 4), "actual"])
