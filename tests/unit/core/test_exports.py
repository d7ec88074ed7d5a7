"""The rules every exported file follows (issue 15): CSV in whole pennies without float noise,
formula-like text neutralised; workbooks with a cover, readable headings over the column names
and number formats by kind; download names that say what and when, safe on any system."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import openpyxl
import pandas as pd

import riskshare as rs
from riskshare.core.cells import csv_text
from riskshare.core.columns import heading
from riskshare.core.excel import (
    COUNT_FORMAT,
    MONEY_FORMAT,
    PERCENT_FORMAT,
    Cover,
    Sheet,
    workbook_bytes,
)
from riskshare.core.filenames import export_name, slug
from riskshare.core.io import load_bytes
from riskshare.core.write import excel_bytes

DAY = dt.date(2026, 3, 14)


# -- CSV -------------------------------------------------------------------------------------------
def test_csv_money_is_in_whole_pennies_and_other_numbers_are_kept():
    frame = pd.DataFrame({"org_id": ["A", "B"], "name": ["=1+1", "Trust"],
                          "mean_final": [1_234_567.891234, -0.004],
                          "turnover": [420_000_000.0, 0.1 + 0.2],
                          "p_worse_off": [0.602289, 0.1 + 0.2]})
    lines = csv_text(frame).splitlines()
    assert lines[0] == "org_id,name,mean_final,turnover,p_worse_off"
    # £: 1,234,567.891234 → 1234567.89; −£0.004 → 0 (never "-0"); 420000000.0 → 420000000
    assert lines[1] == "A,'=1+1,1234567.89,420000000,0.602289"
    assert lines[2] == "B,Trust,0,0.3,0.3"


def test_csv_money_columns_can_be_named():
    frame = pd.DataFrame({"A final": [10.456], "share": [0.125]})
    assert csv_text(frame, money=("A final",)).splitlines()[1] == "10.46,0.125"


def test_a_certificates_agreement_column_is_money_but_a_comparisons_is_text():
    cert = pd.DataFrame({"agreement": [5_000_000.127]}, index=pd.Index(["A"], name="org_id"))
    assert csv_text(cert, index=True).splitlines()[1] == "A,5000000.13"
    comparison = pd.DataFrame({"agreement": ["@SUM(A1)"], "mean_final": [1.005]})
    assert csv_text(comparison).splitlines()[1] == "'@SUM(A1),1"


# -- download names --------------------------------------------------------------------------------
def test_download_names_say_what_for_which_system_and_when():
    assert export_name("Northshire and Vale 2018/19", "comparison", "xlsx", DAY) == \
        "riskshare-northshire-and-vale-2018-19-comparison-2026-03-14.xlsx"
    assert export_name("", "reconciliation", "xlsx", DAY) == \
        "riskshare-reconciliation-2026-03-14.xlsx"
    assert export_name("../../etc/passwd", "risk metrics", "csv", DAY) == \
        "riskshare-etc-passwd-risk-metrics-2026-03-14.csv"
    assert export_name("Åland Café <b>", "x", "csv", DAY) == "riskshare-aland-cafe-b-x-2026-03-14.csv"
    assert len(slug("x" * 200)) == 40


def test_a_long_name_is_cut_at_the_end_of_a_word():
    title = "Northshire and Vale 2018/19: sharing the risk of a hard winter"
    # 62 characters once slugged; at 60 the cut would fall inside "winter": the word goes
    assert slug(title, 60) == "northshire-and-vale-2018-19-sharing-the-risk-of-a-hard"
    assert slug("a-hard-winter", 6) == "a-hard"           # the cut falls between two words
    assert slug("a hard winter", 8) == "a-hard"
    assert slug("winterpressure and more", 6) == "winter"  # one long first word is cut itself


# -- workbooks -------------------------------------------------------------------------------------
def test_a_sheet_has_headings_over_names_and_formats_by_kind():
    frame = pd.DataFrame({"org_id": ["A"], "control_total": [-1_234.567], "variance_pct": [2.5],
                          "p_worse_off": [0.602289], "size": [np.int64(3)],
                          "odd_column": [1.5]})
    data = workbook_bytes([Sheet("t", frame)], Cover("a test", system="S", written=DAY))
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["cover", "t"]
    ws = wb["t"]
    assert [c.value for c in ws[1]] == ["Member ID", "Organisational control total (£)",
                                        "Variance (% of turnover)",
                                        "Chance of being worse off than alone (%)",
                                        "Members in the group", "Odd column"]
    assert [c.value for c in ws[2]] == list(frame.columns)
    row = [c.value for c in ws[3]]
    # £ to the penny; 2.5% stored as 0.025; a fraction as it is; a count as a whole number
    assert row[1] == -1_234.57 and row[2] == 0.025 and row[3] == 0.602289 and row[4] == 3
    formats = [c.number_format for c in ws[3]]
    assert formats[1:5] == [MONEY_FORMAT, PERCENT_FORMAT, PERCENT_FORMAT, COUNT_FORMAT]
    assert ws.freeze_panes == "B3"
    cover = {r[0]: r[1] for r in wb["cover"].iter_rows(min_row=3, values_only=True) if r[0]}
    assert wb["cover"]["A1"].value == "riskshare — a test"
    assert cover["System"] == "S" and cover["Written"] == "2026-03-14"
    assert cover["What-if"] == "none — prepared figures"
    assert cover["riskshare version"] == rs.__version__
    assert cover["Layout"].startswith("Each table has two header rows")


def test_a_workbook_without_a_cover_still_gets_one():
    wb = openpyxl.load_workbook(io.BytesIO(workbook_bytes([Sheet("t", pd.DataFrame({"a": [1]}))])))
    assert wb.sheetnames == ["cover", "t"]
    assert wb["cover"]["B7"].value == rs.__version__


def test_a_sheet_can_rename_a_heading_and_an_unknown_kind_gets_its_unit():
    sheet = Sheet("t", pd.DataFrame({"agreement": [1.0], "A final": [2.0]}),
                  money=("agreement", "A final"), labels={"agreement": "Under the agreement (£)"})
    assert sheet.label("agreement") == "Under the agreement (£)"
    assert sheet.label("A final") == "A final (£)"
    assert heading("control_total").label == "Organisational control total (£)"


def test_the_system_workbook_has_a_cover_and_still_loads_back():
    system = rs.load_sample("northshire_2018_19")
    data = excel_bytes(system)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["cover", "organisations", "system", "guide"]
    # the sheets the loader reads keep one header row of column names
    assert wb["organisations"]["A1"].value == "org_id"
    assert wb["organisations"].freeze_panes == "B2"
    assert load_bytes(data, "back.xlsx").equals(system)


def test_volatility_is_a_percent_number_in_every_workbook():
    # workshop_4's organisations.csv: A's volatility is 2.0 (2% of turnover), D's 0.5
    system = rs.load_sample("workshop_4")
    data = excel_bytes(system)
    orgs = openpyxl.load_workbook(io.BytesIO(data))["organisations"]
    j = [c.value for c in orgs[1]].index("volatility") + 1
    cells = [orgs.cell(row=r, column=j) for r in range(2, 6)]
    assert [c.value for c in cells] == [2, 1, 1, 0.5]
    assert {c.number_format for c in cells} == {"0.00"}
    assert load_bytes(data, "back.xlsx").equals(system)       # and it still loads back
    guide = openpyxl.load_workbook(io.BytesIO(data))["guide"]
    headings = {r[0]: r[1] for r in guide.iter_rows(min_row=3, values_only=True)}
    assert headings["volatility"] == "Volatility (% of turnover)"
    # any other workbook: the same number and format under a heading saying "% of turnover",
    # even on a sheet that lists it among its percentages
    for sheet in (Sheet("t", system.to_frame()),
                  Sheet("t", system.to_frame(), percent=("volatility",))):
        wb = openpyxl.load_workbook(io.BytesIO(workbook_bytes([sheet], Cover("a test"))))
        ws = wb["t"]
        j = [c.value for c in ws[2]].index("volatility") + 1
        assert ws.cell(row=1, column=j).value == "Volatility (% of turnover)"
        assert [ws.cell(row=r, column=j).value for r in range(3, 7)] == [2, 1, 1, 0.5]
        assert {ws.cell(row=r, column=j).number_format for r in range(3, 7)} == {"0.00"}
        cover = {r[0]: r[1] for r in wb["cover"].iter_rows(min_row=3, values_only=True)
                 if r[0]}
        assert "Volatility is the percent number itself: 2 means 2% of turnover" \
            in cover["Conventions"]
