"""Risks page (AppTest): the worked case of risks and mitigations uploaded as a user would, with
every figure worked by hand; a probability edited in the table (and a bad edit that changes
nothing); a bad upload listing every problem; the reserve put into the agreement; the sample's
own register; the register drawn on the Compare page's scenarios when the sidebar asks."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import riskshare as rs
from riskshare.core.write import excel_bytes
from tests.app.helpers import APP, apply_settings, errors, metric, open_on, warnings
from tests.unit.core.test_register import one

PAGE = "riskshare/ui/pages/risks.py"
COMPARE = "riskshare/ui/pages/compare.py"
M = 1_000_000.0
CASE_CSV = ("org_id,item,type,amount,probability\n"
            "A,Winter pressure,risk,6000000,0.5\n"
            "A,Pay award gap,risk,2000000,25%\n"
            "A,CIP slippage,risk,3000000,0.4\n"
            "A,Reserve release,mitigation,1500000,1\n"
            "A,Vacancy slippage,mitigation,2000000,0.5\n")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload_register(at: AppTest, text: str, name: str = "risks.csv") -> None:
    key = next(u.key for u in at.get("file_uploader") if u.key.startswith("rk_upload_"))
    at.file_uploader(key=key).upload(name, text.encode(), "text/csv").run()


def the_worked_case() -> AppTest:
    """The two-member system of the worked case (A forecasts −£5.0m against a control total of
    −£5.0m, B breaks even; SCT −£5.0m) uploaded on the System page, then its register."""
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.file_uploader(key="upload_0").upload("two.xlsx", excel_bytes(one()), XLSX).run()
    assert at.session_state["rs_system"].equals(one())
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    assert any("No risk register for this system yet" in i.value for i in at.info)
    upload_register(at, CASE_CSV)
    at.selectbox(key="rk_n").select(1_000).run()
    assert not at.exception, at.exception
    assert not at.error, errors(at)
    return at


def test_the_worked_case():
    at = the_worked_case()
    # forecast −5.0 against the SCT −5.0: 0; expected risks 3.0 + 0.5 + 1.2 = 4.7, expected
    # mitigations 1.5 + 1.0 = 2.5, net 2.2; risk-adjusted −7.2, 2.2 short of the SCT; worst
    # −5.0 − 11.0 + 1.5 = −14.5 (−9.5 vs SCT); best −5.0 + 3.5 = −1.5 (+3.5 vs SCT)
    assert metric(at, "Forecast vs SCT") == "£0.00m"
    assert metric(at, "Net risk (expected)") == "£2.20m"
    assert metric(at, "Risk-adjusted vs SCT") == "-£2.20m"
    assert metric(at, "Worst case vs SCT") == "-£9.50m"
    assert metric(at, "Best case vs SCT") == "+£3.50m"
    copied = at.code[0].value             # "Copy the text": the sentences as written
    assert copied.startswith("Risk-adjusted, the system forecasts -£7.20m, £2.20m short of the "
                             "SCT")
    table = next(d.value for d in at.dataframe if "risk_adjusted" in d.value.columns)
    system_row = table.set_index("org_id").loc["SYSTEM"]           # £m
    assert float(system_row["risk_adjusted"]) == pytest.approx(-7.2)
    cases = next(d.value for d in at.dataframe if "worst" in d.value.columns)
    assert float(cases.set_index("org_id").loc["SYSTEM", "worst_vs_control_total"]) == \
        pytest.approx(-9.5)
    assert at.session_state["rs_register"][1] == "upload: risks.csv"


def test_a_probability_edited_and_a_bad_edit():
    at = the_worked_case()
    key = next(e.key for e in at.data_editor if e.key.startswith("rk_editor_"))
    before = at.session_state["rs_register"][0]
    # a probability of 2 is refused, naming the row and column; the register is unchanged
    at.session_state[key] = {"edited_rows": {4: {"probability": 2.0}}, "added_rows": [],
                             "deleted_rows": []}
    at.run()
    assert "Your edits are not applied yet" in errors(at)
    assert "probability" in errors(at)
    assert at.session_state["rs_register"][0] is before
    # Vacancy slippage (row 4) certain: expected mitigation 1.5 + 2.0 = 3.5, net 4.7 − 3.5 =
    # 1.2, risk-adjusted −5.0 − 1.2 = −6.2, 1.2 short of the SCT; the worst case now keeps
    # both certain mitigations: −5.0 − 11.0 + 3.5 = −12.5 (−7.5 vs SCT)
    at.session_state[key] = {"edited_rows": {4: {"probability": 1.0}}, "added_rows": [],
                             "deleted_rows": []}
    at.run()
    assert not at.error, errors(at)
    assert "(edited)" in at.session_state["rs_register"][1]
    assert metric(at, "Net risk (expected)") == "£1.20m"
    assert metric(at, "Risk-adjusted vs SCT") == "-£1.20m"
    assert metric(at, "Worst case vs SCT") == "-£7.50m"


def test_a_bad_upload_lists_every_problem_and_keeps_the_register():
    at = open_on(PAGE, "vale_2025_26")
    before = at.session_state["rs_register"][0]
    upload_register(at, "org_id,item,type,amount,probability\n"
                        "ZZZ,Winter,risk,1000000,0.5\n"
                        "VGH,Pay,maybe,-5,1.5\n")
    said = errors(at)
    assert "ZZZ" in said and "row 2" in said          # file lines: the header is line 1
    for column in ("type", "amount", "probability"):
        assert column in said
    assert at.session_state["rs_register"][0] is before


def test_the_reserve_goes_into_the_agreement():
    at = open_on(PAGE, "vale_2025_26")
    at.selectbox(key="rk_n").select(1_000).run()
    # the sample's own register, 15 items, drawn on top of the volatility
    assert "15 items" in at.expander[0].label
    system = rs.load_sample("vale_2025_26")
    register = rs.load_sample_register("vale_2025_26")
    agreement = at.session_state["rs_agreement"]
    # the page's reserve is the library's on the same scenarios (the sidebar's seed 0)
    expected = rs.reserve_needed(system, rs.simulate(system, 1_000, seed=0, register=register),
                                 agreement)
    assert metric(at, "Reserve to meet the SCT 90%") == \
        rs.core.format.money_m(expected.amount(0.9))
    at.radio(key="rk_level").set_value(0.95).run()
    at.selectbox(key="rk_holder").set_value("ICB").run()
    at.button(key="rk_use").click().run()
    assert not at.exception, at.exception
    now = at.session_state["rs_agreement"]
    assert now.reserve == rs.agreements.spec.Reserve("ICB", expected.amount(0.95))


def test_compare_draws_the_register_when_the_sidebar_asks():
    at = open_on(COMPARE, "vale_2025_26")
    apply_settings(at, n=1_000, register="add")
    captions = "\n".join(c.value for c in at.caption).replace("\\", "")   # Markdown escapes
    assert "risk register on top (15 items, event correlation 0.00)" in captions
    at.button(key="cmp_run").click().run()
    assert not at.exception, at.exception
    result = at.session_state["rs_compare_result"][1]
    assert "15 register items drawn as events on top of the volatility" in result["describe"]


def test_no_register_says_so_where_the_sidebar_asks_for_one():
    at = open_on(COMPARE, "workshop_4")
    apply_settings(at, register="instead")
    assert "draw the risk register, but this system has none" in warnings(at)


def test_a_system_workbook_brings_its_risks_sheet_and_takes_it_away_again(downloads):
    # the worked case as one workbook: the system and its risks sheet, uploaded on the System
    # page; the Risks page starts from it (−£7.20m risk-adjusted, by hand above)
    from riskshare.core.register import register_from_bytes

    register = rs.core.register.register_from_frame(
        pd.read_csv(io.StringIO(CASE_CSV)), one())
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.file_uploader(key="upload_0").upload("two.xlsx", excel_bytes(one(), register=register),
                                            XLSX).run()
    assert at.session_state["rs_register"][1] == "upload: two.xlsx, sheet 'risks'"
    at.switch_page(PAGE).run()
    at.selectbox(key="rk_n").select(1_000).run()
    assert not at.exception, at.exception
    assert metric(at, "Risk-adjusted vs SCT") == "-£2.20m"
    # the page's downloads: the register as risks.csv holds it, and the risks workbook
    csv = next(k for k in downloads if "two-2025-26-risks" in k and k.endswith(".csv"))
    assert register_from_bytes(downloads[csv], csv, one()).fingerprint == register.fingerprint
    xlsx = next(k for k in downloads if "two-2025-26-risks" in k and k.endswith(".xlsx"))
    book = openpyxl.load_workbook(io.BytesIO(downloads[xlsx]))
    assert {"risk adjusted", "reserve", "ranking", "register"} <= set(book.sheetnames)
    # the System page's workbook carries the register back out
    at.switch_page("riskshare/ui/pages/system.py").run()
    name = next(k for k in downloads if "two-2025-26-system" in k)
    back = register_from_bytes(downloads[name], name, one())
    assert back.fingerprint == register.fingerprint


def test_the_in_year_fan_draws_the_register_when_the_sidebar_asks():
    at = open_on("riskshare/ui/pages/in_year.py", "vale_2025_26")
    at.selectbox(key="iy_n").select(1_000).run()
    apply_settings(at, register="instead")
    assert not at.exception, at.exception
    captions = "\n".join(c.value for c in at.caption).replace("\\", "")
    assert "the risk register's 15 items alone" in captions


def test_the_template_s_example_row_left_beside_real_rows_is_named():
    # the blank template filled in for the worked case's system, its EXAMPLE row forgotten in
    # the risks sheet: the system loads, the register does not, and the user is told why
    from riskshare.core.write import template_workbook

    book = openpyxl.load_workbook(io.BytesIO(template_workbook()))
    mine = openpyxl.load_workbook(io.BytesIO(excel_bytes(one())))
    for sheet in ("organisations", "system"):
        del book[sheet]
        target = book.create_sheet(sheet)
        for row in mine[sheet].iter_rows(values_only=True):
            target.append(row)
    book["risks"].append(["A", "Winter pressure", "risk", 6_000_000, 0.5, None, False])
    buffer = io.BytesIO()
    book.save(buffer)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.file_uploader(key="upload_0").upload("filled.xlsx", buffer.getvalue(), XLSX).run()
    assert not at.exception, at.exception
    assert at.session_state["rs_system"].equals(one())
    assert at.session_state["rs_register"] is None
    said = "\n".join(i.value for i in at.info).replace("\\", "")
    assert "still has the template's example row (org_id EXAMPLE)" in said


def test_the_sidebar_says_how_the_register_is_drawn_here_too():
    # "risk register only" and an event correlation of 0.4 in the sidebar: the Risks page
    # draws the events alone, correlated, as the library does with those settings
    at = open_on(PAGE, "vale_2025_26")
    at.selectbox(key="rk_n").select(1_000).run()
    apply_settings(at, register="instead", event_correlation=0.4)
    assert not at.exception, at.exception
    said = "\n".join(c.value for c in at.caption).replace("\\", "")
    assert "drawn alone (no other volatility), with a correlation of 0.40" in said
    system = rs.load_sample("vale_2025_26")
    expected = rs.reserve_needed(
        system, rs.simulate(system, 1_000, seed=0, register=rs.load_sample_register(
            "vale_2025_26"), register_mode="instead", event_correlation=0.4),
        at.session_state["rs_agreement"])
    assert metric(at, "Reserve to meet the SCT 90%") == \
        rs.core.format.money_m(expected.amount(0.9))
