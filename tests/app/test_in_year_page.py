"""In year page (AppTest): both samples at months 9, 6 and 3 with the system's year to date
worked from the sample's monthly.csv by hand; the forecast methods; the worked case of quarterly
support (a system workbook with its monthly sheet and a quarterly agreement, uploaded as a user
would); a bad monthly upload and a bad edit that change nothing; a table that no longer fits
the system dropped, saying so, and the control totals phased instead."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import riskshare as rs
from riskshare.core.format import money_m
from riskshare.core.monthly import monthly_from_bytes
from riskshare.core.samples import SAMPLES
from riskshare.core.write import excel_bytes
from tests.app.helpers import errors, metric, open_on
from tests.unit.inyear.test_worked_cases import case_one, one_member

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PAGE = "riskshare/ui/pages/in_year.py"
SYSTEM_PAGE = "riskshare/ui/pages/system.py"
AGREEMENT_PAGE = "riskshare/ui/pages/agreement.py"
N = 1_000                       # scenarios: enough for the page, quick in a test
M = 1_000_000.0


def open_page(sample: str | None = None) -> AppTest:
    at = open_on(PAGE, sample)
    if any(s.key == "iy_n" for s in at.selectbox):        # shown once there is a table
        at.selectbox(key="iy_n").select(N).run()
    assert not at.exception, at.exception
    return at


def ytd_table(at: AppTest) -> pd.DataFrame:
    """The year-to-date table (£m), by member and SYSTEM."""
    return next(d.value for d in at.dataframe if "ytd_actual" in d.value.columns
                ).set_index("org_id")


def landing_table(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "p_meet" in d.value.columns).set_index("org_id")


def board_paper(at: AppTest) -> str:
    """The sentences for the board paper as copied (the code block under "Copy the text")."""
    return at.code[0].value


def by_hand(sample: str, month: int) -> tuple[float, float]:
    """(the system's actual to date, its run-rate forecast), £, from the sample's files: the
    actuals of months 1..month summed over the members inside the SCT (in_sct true), and that
    × 12 ÷ month."""
    monthly = pd.read_csv(ROOT / "sample_data" / sample / "monthly.csv")
    orgs = pd.read_csv(ROOT / "sample_data" / sample / "organisations.csv")
    inside = set(orgs.loc[orgs["in_sct"].astype(str).str.lower() == "true", "org_id"])
    rows = monthly[monthly["org_id"].isin(inside) & (monthly["month"] <= month)]
    ytd = float(rows["actual"].sum())
    return ytd, ytd * 12 / month


@pytest.mark.parametrize("sample", ["northshire_2018_19", "vale_2025_26"])
def test_the_page_on_a_sample_at_months_9_6_and_3(sample):
    at = open_page(sample if sample != "northshire_2018_19" else None)
    assert at.title[0].value == "In year"
    assert not at.error, errors(at)
    # the latest month closed by every member in the samples is 9 (December)
    assert at.select_slider(key="iy_month").value == 9
    assert any(c.value.startswith("At month 9 (December) · forecast: year to date plus the "
                                  "remaining plan · agreement: ") for c in at.caption)
    seen = set()
    for month in (9, 6, 3):
        at.select_slider(key="iy_month").set_value(month).run()
        assert not at.exception, at.exception
        assert not at.error, errors(at)
        ytd, _ = by_hand(sample, month)
        table = ytd_table(at)
        assert float(table.loc["SYSTEM", "ytd_actual"]) == pytest.approx(ytd / M, abs=0.005)
        name = {9: "month 9 (December)", 6: "month 6 (September)", 3: "month 3 (June)"}[month]
        assert f"At {name}, the system inside the SCT is" in board_paper(at)
        assert f"(year to date {money_m(ytd)} against a plan to date of" in board_paper(at)
        assert at.subheader[0].value == f"Year to date at {name}"
        seen.add(metric(at, "System to date vs plan to date"))
        assert metric(at, "Chance the system meets the SCT").endswith("%")
        # the system's chart and one member's
        assert len(at.get("vega_lite_chart")) == 2
    assert len(seen) == 3                       # the year to date moves with the month


def test_the_forecast_methods_and_why_one_is_not_offered():
    at = open_page()
    at.select_slider(key="iy_month").set_value(6).run()
    # Northshire's members submitted forecasts at month 9 only: at month 6 there is none for
    # the months to come, so the method is not offered and the page says why
    assert at.radio(key="iy_method").options == ["plan: to date + the remaining plan",
                                                  "run rate: to date × 12 ÷ months closed"]
    assert any(c.value.startswith("Not available at month 6 (September): submitted forecast — ")
               for c in at.caption)
    at.radio(key="iy_method").set_value("run_rate").run()
    assert not at.exception, at.exception
    # SCT −£4.50m (system.toml); run rate: the system's actual to date × 12 ÷ 6
    _, run_rate = by_hand("northshire_2018_19", 6)
    assert metric(at, "System forecast vs SCT") == money_m(run_rate + 4.5 * M, sign=True)
    assert run_rate < -4.5 * M           # behind: the board paper says by how much
    assert (f"{money_m(run_rate)}, {money_m(-4.5 * M - run_rate)} short of the SCT of -£4.50m"
            in board_paper(at))
    # at month 9 the submitted forecasts are there: the method is offered again
    at.select_slider(key="iy_month").set_value(9).run()
    assert len(at.radio(key="iy_method").options) == 3


QUARTERLY = 'name = "Quarterly support"\n[support]\nperiod = "quarter"\n'


def test_the_worked_case_of_quarterly_support():
    # DOMAIN section 10: one member plans −£12.0m, phased −£1.0m a month, with £8.0m of support;
    # actual to date −3.5, −5.5, −8.5, −11.5 (£m) at months 3, 6, 9, 12. Uploaded as a user
    # would: the system workbook with its monthly sheet, then the agreement.
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.file_uploader(key="upload_0").upload(
        "one.xlsx", excel_bytes(one_member(), case_one()),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet").run()
    assert not at.exception, at.exception
    assert at.session_state["rs_system"].equals(one_member())
    at.switch_page(AGREEMENT_PAGE).run()
    key = f"agreement_upload_{at.session_state['rs_agreement_version']}"
    at.file_uploader(key=key).upload("quarterly.toml", QUARTERLY.encode(),
                                     "application/toml").run()
    assert at.session_state["rs_agreement"].name == "Quarterly support"
    at.switch_page(PAGE).run()
    at.selectbox(key="iy_n").select(N).run()
    assert not at.exception, at.exception
    assert not at.error, errors(at)
    assert at.select_slider(key="iy_month").value == 12          # every month closed
    # Q1: −3.5 against −3.0, lost; Q2–Q4: +0.5 each, earned ⇒ 3 × £2.0m = £6.0m;
    # final −11.5 + 6.0 = −£5.5m
    assert metric(at, "Support earned at the forecast") == "£6.00m"
    quarters = next(d.value for d in at.dataframe if "Q1" in d.value.columns).set_index("org_id")
    assert quarters.loc["A", ["Q1", "Q2", "Q3", "Q4"]].tolist() == ["lost", "earned", "earned",
                                                                      "earned"]
    assert float(quarters.loc["A", "earned"]) == 6.0
    assert float(quarters.loc["A", "lost"]) == 2.0
    land = landing_table(at)
    assert float(land.loc["A", "at_forecast"]) == -5.5
    # every month closed: no spread left, every scenario ends at −£5.5m
    assert float(land.loc["A", "p5"]) == float(land.loc["A", "p95"]) == -5.5
    # at month 6 (−5.5 to date): plan −5.5 − 6.0 = −£11.5m, +£0.50m against −£12.0m;
    # run rate −5.5 × 12 ÷ 6 = −£11.0m, +£1.00m
    at.select_slider(key="iy_month").set_value(6).run()
    assert metric(at, "System forecast vs SCT") == "+£0.50m"
    quarters = next(d.value for d in at.dataframe if "Q1" in d.value.columns).set_index("org_id")
    assert quarters.loc["A", "Q1"] == "lost" and quarters.loc["A", "Q2"] == "earned"
    assert quarters.loc["A", "Q3"].startswith("on course")     # judged on the forecast
    assert metric(at, "Support earned at the forecast") == "£6.00m"
    at.radio(key="iy_method").set_value("run_rate").run()
    assert metric(at, "System forecast vs SCT") == "+£1.00m"


def upload_monthly(at: AppTest, text: str, name: str = "monthly.csv") -> None:
    key = next(u.key for u in at.get("file_uploader") if u.key.startswith("iy_upload_"))
    at.file_uploader(key=key).upload(name, text.encode(), "text/csv").run()
    assert not at.exception, at.exception


def test_a_bad_monthly_upload_lists_every_problem_and_keeps_the_table():
    at = open_page()
    before = at.session_state["rs_monthly"]
    figure = metric(at, "System to date vs plan to date")
    upload_monthly(at, "org_id,month,plan,actual\n"
                       "NGH,1,1000,500\n"
                       "XXX,2,1000,500\n"          # not a member
                       "NGH,13,1000,500\n"         # no month 13
                       "NGH,1,1000,600\n", "bad.csv")   # NGH month 1 twice
    message = errors(at)
    assert "bad.csv was not loaded" in message
    for found in ("XXX", "13", "NGH"):
        assert found in message, found
    assert any(c.value == "The monthly table in use is unchanged." for c in at.caption)
    assert at.session_state["rs_monthly"] is before
    assert metric(at, "System to date vs plan to date") == figure


def test_a_good_monthly_upload_and_an_edit():
    at = open_page("workshop_4")
    system = at.session_state["rs_system"]
    # the workshop system has no monthly table: the page offers to start one
    assert any("No monthly table for this system yet" in i.value for i in at.info)
    first = system.members[0]
    # every member's April and May closed, each −£1,000,000 a month; plans left blank (phased)
    rows = [f"{m},{month},,{-1_000_000 if month <= 2 else ''}"
            for m in system.members for month in range(1, 13)]
    upload_monthly(at, "org_id,month,plan,actual\n" + "\n".join(rows), "mine.csv")
    assert not at.error, errors(at)
    assert at.session_state["rs_monthly"][1] == "upload: mine.csv"
    assert at.select_slider(key="iy_month").value == 2
    # the first member: −£2.00m to date against two twelfths of its control total
    table = ytd_table(at)
    assert float(table.loc[first, "ytd_actual"]) == -2.0
    oct_ = float(system.orgs.loc[first, "control_total"])
    assert float(table.loc[first, "ytd_plan"]) == pytest.approx(oct_ * 2 / 12 / M, abs=0.005)


def test_another_system_drops_a_table_that_does_not_fit_and_the_totals_can_be_phased():
    at = open_page()                       # Northshire, with its bundled table
    at.switch_page(SYSTEM_PAGE).run()
    at.selectbox(key="sample_choice").select("workshop_4").run()
    at.button(key="load_sample").click().run()
    assert at.session_state["rs_monthly"] is None
    said = "\n".join(i.value for i in at.info)
    assert (f"The monthly table (sample: {SAMPLES['northshire_2018_19'].title}, its bundled "
            "monthly table) does not fit Workshop system 2019/20 and was dropped: its members "
            "(NGH, SVH, NCH, NVP, RAS, NCC, CCG, NSC, VGP) are not those of Workshop system "
            "2019/20.") in said
    at.switch_page(PAGE).run()
    assert any("No monthly table for this system yet" in i.value for i in at.info)
    at.radio(key="iy_profile").set_value("even").run()
    at.button(key="iy_phase").click().run()
    assert not at.exception, at.exception
    system = at.session_state["rs_system"]
    monthly = at.session_state["rs_monthly"][0]
    assert monthly.month == 0
    # each member's plan is a twelfth of its control total a month
    plan = monthly.table["plan"].groupby(level="org_id").sum()
    for org_id in system.members:
        assert plan[org_id] == pytest.approx(system.orgs.loc[org_id, "control_total"], abs=0.01)
    # nothing has closed: the year to date is nil and the forecast is the plan
    table = ytd_table(at)
    assert float(table.loc["SYSTEM", "ytd_actual"]) == 0.0


def test_a_bad_edit_is_not_applied_and_a_good_one_is():
    at = open_page()
    key = next(e.key for e in at.data_editor if e.key.startswith("iy_editor_"))
    before = at.session_state["rs_monthly"][0]
    # row 0 is NGH month 1: a month 13 is refused, the table in use is unchanged
    at.session_state[key] = {"edited_rows": {0: {"month": 13}}, "added_rows": [],
                             "deleted_rows": []}
    at.run()
    assert "Your edits are not applied yet" in errors(at)
    assert at.session_state["rs_monthly"][0] is before
    # NGH's April actual from −£234,350 to −£1,234,350: £1.00m more behind plan to date
    at.session_state[key] = {"edited_rows": {0: {"actual": "-1,234,350"}}, "added_rows": [],
                             "deleted_rows": []}
    at.run()
    assert not at.error, errors(at)
    assert "(edited)" in at.session_state["rs_monthly"][1]
    table = ytd_table(at)
    ytd, _ = by_hand("northshire_2018_19", 9)
    assert float(table.loc["SYSTEM", "ytd_actual"]) == pytest.approx((ytd - M) / M, abs=0.005)


def test_the_downloads(downloads):
    at = open_page()
    names = {d.key: d.label for d in at.get("download_button")}
    assert names["dl_iy_xlsx"] == "Download the position (.xlsx)"
    assert names["dl_iy_csv"] == "Download the monthly table (.csv)"
    system = rs.load_sample("northshire_2018_19")
    # the monthly table as a file holds it: read back, it is the sample's table
    csv = next(k for k in downloads if k.endswith(".csv") and "monthly" in k)
    back = monthly_from_bytes(downloads[csv], csv, system)
    assert back.fingerprint == rs.load_sample_monthly("northshire_2018_19").fingerprint
    # the position at month 9 as a workbook
    xlsx = next(k for k in downloads if "in-year-month-9" in k)
    book = openpyxl.load_workbook(io.BytesIO(downloads[xlsx]))
    assert len(book.sheetnames) >= 2


def test_the_system_workbook_download_keeps_the_monthly_table(downloads):
    at = open_page()
    at.switch_page(SYSTEM_PAGE).run()
    name = next(k for k in downloads if k.endswith("-system.xlsx") or
                ("system" in k and k.endswith(".xlsx")))
    system = rs.load_sample("northshire_2018_19")
    back = monthly_from_bytes(downloads[name], name, system)
    assert back.month == 9
    assert back.fingerprint == rs.load_sample_monthly("northshire_2018_19").fingerprint
