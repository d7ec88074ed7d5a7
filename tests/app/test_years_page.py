"""Years ahead page (AppTest): the worked bridge of the years ahead (underlying −£37.0m → support
halved +10.0 → overspend repaid −5.0 → savings +15.0 → plan −£17.0m) uploaded and typed as a
user would; a quick control for every member; the agreement's carry put in and its worked case;
bad rules named by key with the rules unchanged; both NHS samples with their bundled rules and
capital; text from a rules file shown as text."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from riskshare.core.write import excel_bytes
from tests.app.helpers import APP, errors, metric, open_on
from tests.unit.years.test_project import RECOVERY, WORKED_RULES, one, two

PAGE = "riskshare/ui/pages/years.py"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def uploaded(system) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.file_uploader(key="upload_0").upload("mine.xlsx", excel_bytes(system), XLSX).run()
    assert at.session_state["rs_system"].equals(system)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def type_rules(at: AppTest, text: str) -> AppTest:
    box = next(t for t in at.text_area if t.key.startswith("ya_toml_"))
    box.set_value(text).run()
    at.button(key="ya_apply_toml").click().run()
    assert not at.exception, at.exception
    return at


def bridge_table(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "step" in d.value.columns).set_index("step")


def test_the_worked_bridge_typed_as_rules():
    at = uploaded(one(nr_support=20e6, nr_savings=12e6))
    # before any rules: every one-off ends, nothing else moves — the plan is the underlying
    # position −5.0 − 32.0 = −37.0, against the control total 0.0
    assert metric(at, "Plan 2026/27 vs SCT") == "-£37.00m"
    type_rules(at, WORKED_RULES)
    b = bridge_table(at)                                            # £m
    assert float(b.loc["opening (underlying / last year's recurrent position)", "2026/27"]) == -37.0
    assert float(b.loc["support (one-off line)", "2026/27"]) == pytest.approx(10.0)
    assert float(b.loc["repayment of a prior deficit", "2026/27"]) == pytest.approx(-5.0)
    assert float(b.loc["recurrent savings", "2026/27"]) == pytest.approx(15.0)
    assert float(b.loc["planned position", "2026/27"]) == pytest.approx(-17.0)
    assert metric(at, "Plan 2026/27 vs SCT") == "-£17.00m"
    said = " ".join(m.value for m in at.markdown).replace("\\", "")
    assert "plans -\u2060£17.00m in 2026/27" in said


def test_a_quick_control_sets_every_members_savings():
    # turnover 100.0, forecast −10.0, no one-offs: cost 110.0; savings 2% of it = 2.2 ⇒ −7.8
    at = uploaded(one(forecast=-10e6, turnover=100e6))
    box = next(n for n in at.number_input if n.key.startswith("ya_q_savings_"))
    box.set_value(2.0).run()
    assert not at.exception, at.exception
    assert metric(at, "Plan 2026/27 vs SCT") == "-£7.80m"
    assert "(edited)" in at.session_state["rs_rules"][1]


def test_the_carry_put_in_the_agreement_repays_over_two_years():
    # A is 6.0 short in year 1; repaid over two years with a £4.0m cap: 2.0 into each of years
    # 2 and 3, 2.0 written off to the pool (the agreement otherwise shares nothing: standalone)
    at = uploaded(two())
    at.switch_page("riskshare/ui/pages/agreement.py").run()
    at.selectbox(key="preset_choice").select("standalone").run()
    assert at.session_state["rs_agreement"].name.startswith("Standalone")
    at.switch_page(PAGE).run()
    type_rules(at, RECOVERY)
    form_numbers = [n for n in at.number_input if n.label in ("Over (years)",
                                                              "Cap per year (£m, 0: none)")]
    form_numbers[0].set_value(2)
    form_numbers[1].set_value(4.0)
    next(b for b in at.button if b.label == "Put this carry in the agreement").click().run()
    assert not at.exception, at.exception
    carry = at.session_state["rs_agreement"].carry
    assert (carry.years, carry.max_carry_amount) == (2, 4_000_000.0)
    table = next(d.value for d in at.dataframe if "written_off" in d.value.columns)
    a = table.set_index("org_id").loc["A"]                          # £m
    assert (float(a["carried"]), float(a["written_off"])) == pytest.approx((-4.0, -2.0))
    assert float(a["applied"]) == pytest.approx(4.0)


def test_bad_rules_are_named_by_key_and_change_nothing():
    at = uploaded(one(nr_support=20e6))
    type_rules(at, WORKED_RULES)
    type_rules(at, 'name = "bad"\nyears = 0\n[all]\nsavings = -1\n[members.Q]\nsavings = 1\n')
    said = errors(at)
    assert "'years'" in said and "'all.savings'" in said and "'members.Q'" in said
    assert at.session_state["rs_rules"][0].name == "The worked case"


# the capital rule reads the plan with the support at stake: Vale 2028/29 −50.81 + 0.00 is a
# deficit beyond 10% of £80.0m ⇒ 80.0 − 8.0 = £72.0m; Northshire 2021/22 −10.85 + 14.78 = +3.93
# (its PSF halved, £29.55m ÷ 2) is breakeven or better ⇒ 45.0 + 30% × (52.0 − 45.0) = £47.1m
@pytest.mark.parametrize(("sample", "capital"), [("vale_2025_26", "£72.00m"),
                                                 ("northshire_2018_19", "£47.10m")])
def test_the_samples_with_their_bundled_rules(sample, capital):
    at = open_on(PAGE, sample)
    assert not at.error
    assert any("its bundled rules" in e.label for e in at.expander)
    last = "2028/29" if sample == "vale_2025_26" else "2021/22"
    assert metric(at, f"Capital {last}") == capital
    assert any(h.value == "The agreement over the years" for h in at.subheader)


def test_text_from_a_rules_file_is_shown_as_text():
    at = uploaded(one())
    type_rules(at, 'name = "**Bold** <b>tag</b> [link](http://x)"\nyears = 1\n')
    label = next(e.label for e in at.expander if e.label.startswith("Projection rules"))
    assert "\\*\\*Bold\\*\\*" in label and "<b>" not in label.replace("\\<", "")


def test_a_quick_control_changes_only_its_own_key():
    # Northshire's rules pay its support at stake [1.0, 0.5]: a longer horizon keeps that line
    at = open_on(PAGE, "northshire_2018_19")
    before = at.session_state["rs_rules"][0]
    next(n for n in at.number_input if n.key.startswith("ya_q_years_")).set_value(4).run()
    assert not at.exception, at.exception
    after = at.session_state["rs_rules"][0]
    assert after.years == 4
    assert after.for_member("NGH").line("support").paid == (1.0, 0.5)
    assert after.for_member("CCG") == before.for_member("CCG")


def test_values_set_year_by_year_are_edited_in_the_toml_only():
    at = uploaded(one(forecast=-10e6, turnover=100e6))
    type_rules(at, 'name = "lists"\n[all]\nsavings_amount = 1_000_000\n'
                   'growth = [2.5, 3.0, 3.5]\ncost_pressure = [4.0, 3.0]\n')
    disabled = {n.key.rsplit("_", 1)[0]: n.disabled for n in at.number_input
                if n.key and n.key.startswith("ya_q_")}
    assert disabled["ya_q_savings"] and disabled["ya_q_growth"] and disabled["ya_q_cost_pressure"]
    assert not disabled["ya_q_years"]


def test_the_workbook_holds_what_the_page_shows(downloads):
    import io

    import openpyxl

    at = open_on(PAGE, "vale_2025_26")
    name = next(n for n in downloads if n.endswith(".xlsx") and "years-ahead" in n)
    book = openpyxl.load_workbook(io.BytesIO(downloads[name]))
    assert "risk by year" not in book.sheetnames                  # no scenarios run yet
    at.toggle(key="ya_scenarios").set_value(True).run()
    assert not at.exception, at.exception
    name = [n for n in downloads if n.endswith(".xlsx") and "years-ahead" in n][-1]
    book = openpyxl.load_workbook(io.BytesIO(downloads[name]))
    assert {"projection", "capital", "participation", "risk by year",
            "risk over the horizon"} <= set(book.sheetnames)
    cover = " ".join(str(c.value) for row in book.worksheets[0].iter_rows() for c in row
                     if c.value is not None)
    assert "5,000 scenarios" in cover and "recurrent item" in cover
    assert "(assumed, not published)" in cover
