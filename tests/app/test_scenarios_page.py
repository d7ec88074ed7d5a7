"""Scenarios page (AppTest): defaults, a run, a shock, and a shock that does not fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import riskshare as rs
from riskshare.agreements.presets import load_preset
from riskshare.agreements.risk import SYSTEM_ROW, risk_table
from riskshare.ui.state import DEFAULT_PRESET
from tests.app.helpers import errors, metric

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "riskshare/ui/pages/scenarios.py"
N = 2_000


def open_page(sample: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    if sample:
        at.selectbox(key="sample_choice").select(sample).run()
        at.button(key="load_sample").click().run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def run(at: AppTest) -> None:
    at.select_slider(key="scn_n").set_value(N).run()
    at.button(key="scn_run").click().run()
    assert not at.exception, at.exception
    assert not at.error, errors(at)


def result(at: AppTest) -> dict:
    return at.session_state["rs_scenarios_result"][1]


def test_defaults_then_run_matches_the_library():
    at = open_page()
    assert at.title[0].value == "Scenarios"
    assert not at.error
    assert any("press **Run**" in i.value for i in at.info)
    assert len(at.dataframe) == 0  # nothing computed before Run
    run(at)
    system = rs.load_sample("northshire_2018_19")
    expected = risk_table(load_preset(DEFAULT_PRESET), system, rs.simulate(system, N, seed=0))
    got = result(at)["risk"]
    np.testing.assert_allclose(got.to_numpy(float), expected.to_numpy(float), equal_nan=True)
    assert metric(at, "System: mean final") == rs.format.money_m(
        expected.loc[SYSTEM_ROW, "mean_final"], 1)
    assert metric(at, "System: P(miss SCT)") == \
        f"{expected.loc[SYSTEM_ROW, 'p_miss_control_total']:.0%}"
    table = at.dataframe[0].value
    assert list(table["org_id"]) == [*system.members, SYSTEM_ROW]
    np.testing.assert_allclose(table["mean_final"], expected["mean_final"] / 1e6)
    assert len(at.get("vega_lite_chart")) == 2
    assert any(f"{N:,} scenarios" in c.value for c in at.caption)
    # a rerun with the same settings keeps the result; changing a setting asks for a new run
    at.run()
    assert len(at.dataframe) == 1
    at.slider(key="scn_correlation").set_value(0.5).run()
    assert len(at.dataframe) == 0
    assert any("changed" in i.value for i in at.info)


def test_adding_a_shock_and_running():
    at = open_page()
    at.multiselect(key="scn_shocks").select("winter_pressure").run()
    assert not at.error, errors(at)
    assert any("With the shocks" in i.value for i in at.info)
    run(at)
    system = rs.load_sample("northshire_2018_19")
    scenarios = rs.simulate(system, N, seed=0, shocks=["winter_pressure"])
    expected = risk_table(load_preset(DEFAULT_PRESET), system, scenarios)
    np.testing.assert_allclose(result(at)["risk"].to_numpy(float), expected.to_numpy(float),
                               equal_nan=True)
    assert "shocks: Winter pressure" in result(at)["describe"]


def test_a_shock_that_does_not_fit_is_reported_and_not_applied():
    at = open_page("workshop_4")
    at.multiselect(key="scn_shocks").select("provider_10m").run()
    assert not at.exception
    assert len(at.error) == 1
    text = errors(at)
    assert "does not fit" in text and "NGH" in text and "Traceback" not in text
    run_at = at.select_slider(key="scn_n").set_value(N).run()
    run_at.button(key="scn_run").click().run()
    assert not at.exception
    assert result(at)["describe"].count("shocks") == 0  # run without the misfit shock
    system = rs.load_sample("workshop_4")
    expected = risk_table(load_preset(DEFAULT_PRESET), system, rs.simulate(system, N, seed=0))
    np.testing.assert_allclose(result(at)["risk"].to_numpy(float), expected.to_numpy(float),
                               equal_nan=True)


# Each sample with an agreement designed for it: the Scenarios page runs cleanly on all of them.
SAMPLE_PRESETS = {"northshire_2018_19": "system_support_taper_2020_21",
                  "workshop_4": "full_pooling_turnover",
                  "pooled_budget_2": "pooled_budget_reserve", "corridor_2": "aca_risk_corridors",
                  "mssp_2": "mssp_two_sided", "nec_2": "nec_target_cost"}


@pytest.mark.parametrize("sample", list(SAMPLE_PRESETS))
def test_every_sample_runs_on_the_scenarios_page(sample):
    assert set(SAMPLE_PRESETS) == set(rs.list_samples())
    at = open_page(sample)
    at.session_state["rs_agreement"] = rs.load_agreement(SAMPLE_PRESETS[sample])
    at.run()
    run(at)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert len(at.get("vega_lite_chart")) >= 2
