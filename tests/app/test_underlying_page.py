"""Reconcile page (AppTest): reported against underlying for the worked case of the years ahead
(reported −£5.0m including £20.0m of deficit support and £12.0m of non-recurrent savings ⇒
underlying −£37.0m), uploaded as a user would; no section for a system without one-offs."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from riskshare.core.write import excel_bytes
from tests.app.helpers import APP, open_on
from tests.unit.years.test_underlying import system

PAGE = "riskshare/ui/pages/reconcile.py"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_the_worked_case_on_the_reconcile_page():
    two = system(nr_support=[20e6, 0.0], nr_savings=[12e6, 0.0])
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.file_uploader(key="upload_0").upload("two.xlsx", excel_bytes(two), XLSX).run()
    assert at.session_state["rs_system"].equals(two)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    assert "Reported and underlying" in [h.value for h in at.subheader]
    table = next(d.value for d in at.dataframe if "underlying" in d.value.columns)
    a = table.set_index("org_id").loc["A"]            # £m
    # −5.0 − 32.0 = −37.0, 32.0 short of its OCT −5.0, met as reported: one-offs only
    assert float(a["underlying"]) == pytest.approx(-37.0)
    assert float(a["underlying_vs_control_total"]) == pytest.approx(-32.0)
    assert bool(a["one_offs_only"])
    said = " ".join(m.value for m in at.markdown).replace("\\", "")
    assert "its underlying position is -£35.50m, £31.50m short of the SCT" in said


def test_no_one_offs_no_section():
    at = open_on(PAGE, "workshop_4")
    assert "Reported and underlying" not in [h.value for h in at.subheader]


def test_the_worked_case_on_the_system_page():
    two = system(nr_support=[20e6, 0.0], nr_savings=[12e6, 0.0])
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.file_uploader(key="upload_0").upload("two.xlsx", excel_bytes(two), XLSX).run()
    assert not at.exception, at.exception
    shown = {m.label: m.value for m in at.metric}
    # the system: forecast −3.5 against the SCT −4.0 (+0.5); one-offs 32.0; underlying −35.5,
    # 31.5 short; A meets its control total only through one-offs
    assert shown["Forecast vs SCT (reported)"] == "+£0.50m"
    assert shown["One-offs in the forecast"] == "£32.00m"
    assert shown["Underlying vs SCT"] == "-£31.50m"
    assert shown["Met only through one-offs"] == "1"
    assert any("only through one-offs: A" in w.value for w in at.warning)


def test_no_one_offs_nothing_on_the_system_page():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.selectbox(key="sample_choice").select("workshop_4").run()
    at.button(key="load_sample").click().run()
    assert "Underlying vs SCT" not in [m.label for m in at.metric]
