"""Compare page (AppTest): defaults and a run, then a third agreement."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import riskshare as rs
from riskshare.agreements.presets import load_preset
from riskshare.agreements.risk import compare
from riskshare.ui.state import DEFAULT_PRESET
from tests.app.helpers import errors

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "riskshare/ui/pages/compare.py"
N = 2_000


def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def run(at: AppTest) -> None:
    at.select_slider(key="cmp_n").set_value(N).run()
    at.button(key="cmp_run").click().run()
    assert not at.exception, at.exception
    assert not at.error, errors(at)


def table(at: AppTest):
    return at.session_state["rs_compare_result"][1]["table"]


def test_defaults_then_run_matches_the_library():
    at = open_page()
    assert at.title[0].value == "Compare"
    assert not at.error
    assert at.multiselect(key="cmp_agreements").value == ["__current__",
                                                          "full_pooling_turnover"]
    run(at)
    system = rs.load_sample("northshire_2018_19")
    expected = compare([load_preset(DEFAULT_PRESET), "full_pooling_turnover"], system,
                       rs.simulate(system, N, seed=0))
    got = table(at)
    assert list(got["agreement"]) == list(expected["agreement"])
    np.testing.assert_allclose(got[list(rs.risk.METRICS)].to_numpy(float),
                               expected[list(rs.risk.METRICS)].to_numpy(float), equal_nan=True)
    pivot = at.dataframe[0].value
    assert list(pivot.index) == [*system.members, "SYSTEM"]
    a = expected[expected["agreement"] == expected["agreement"][0]].set_index("org_id")
    np.testing.assert_allclose(pivot["A mean £m"], a["mean_final"] / 1e6)
    assert len(at.get("vega_lite_chart")) == 1


def test_choosing_a_third_agreement_and_running():
    at = open_page()
    at.multiselect(key="cmp_agreements").select("support_cliff_2018_19").run()
    assert not at.error, errors(at)
    run(at)
    got = table(at)
    assert list(dict.fromkeys(got["agreement"])) == [
        load_preset(DEFAULT_PRESET).name, load_preset("full_pooling_turnover").name,
        load_preset("support_cliff_2018_19").name]
    assert "C mean £m" in at.dataframe[0].value.columns


def test_the_current_agreement_beside_its_own_preset_is_labelled():
    at = open_page()
    at.multiselect(key="cmp_agreements").select(DEFAULT_PRESET).run()
    run(at)
    names = list(dict.fromkeys(table(at)["agreement"]))
    assert names[0].endswith("(current)") and len(set(names)) == 3


def test_an_agreement_that_does_not_fit_is_left_out_with_its_problems():
    at = open_page()
    at.multiselect(key="cmp_agreements").select("aca_risk_corridors").run()
    assert not at.exception
    assert "does not fit this system" in errors(at)
    run_ok = at.select_slider(key="cmp_n").set_value(N).run()
    run_ok.button(key="cmp_run").click().run()
    assert not at.exception
    assert len(set(table(at)["agreement"])) == 2


@pytest.mark.parametrize("sample, presets", [
    ("northshire_2018_19", ["standalone", "system_support_taper_2020_21"]),
    ("workshop_4", ["standalone", "full_pooling_turnover"]),
    ("pooled_budget_2", ["standalone", "pooled_budget_reserve"]),
    ("corridor_2", ["aca_risk_corridors", "medicare_part_d_corridors"]),
    ("mssp_2", ["mssp_one_sided", "mssp_two_sided"]),
    ("nec_2", ["standalone", "nec_target_cost"]),
])
def test_every_sample_compares_on_the_page(sample, presets):
    """Each sample, with two agreements designed for it, runs on the Compare page."""
    at = AppTest.from_file(APP, default_timeout=60).run()
    if sample != "northshire_2018_19":
        at.selectbox(key="sample_choice").select(sample).run()
        at.button(key="load_sample").click().run()
    at.switch_page(PAGE).run()
    at.multiselect(key="cmp_agreements").set_value(presets).run()
    run(at)
    result = table(at)
    assert set(result["agreement"]) == {load_preset(p).name for p in presets}
    assert len(result) == 2 * (rs.load_sample(sample).n + 1)
