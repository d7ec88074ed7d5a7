"""Scenarios page (AppTest): defaults, a run with the sidebar's shared scenario settings, a
shock, a shock that does not fit, the system's figures in their own table, and results kept on
show (marked) when the settings change."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

import riskshare as rs
from riskshare.agreements.presets import load_preset
from riskshare.agreements.risk import SYSTEM_ROW, risk_table
from riskshare.core.filenames import slug
from riskshare.core.format import money_m
from riskshare.core.samples import DEFAULT_SAMPLE
from riskshare.ui.state import DEFAULT_PRESET
from tests.app.helpers import apply_settings, errors, metric, open_on, warnings

# download names: riskshare-<system>-<what>-<date>.<ext>, for the default sample
SLUG = slug(rs.load_sample(DEFAULT_SAMPLE).label)

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "riskshare/ui/pages/scenarios.py"
N = 2_000


def open_page(sample: str | None = None) -> AppTest:
    return open_on(PAGE, sample)


def run(at: AppTest) -> None:
    apply_settings(at, n=N)
    at.button(key="scn_run").click().run()
    assert not at.exception, at.exception
    assert not at.error, errors(at)


def result(at: AppTest) -> dict:
    return at.session_state["rs_scenarios_result"][1]


def summary(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.startswith("**Scenarios** —"))


def test_defaults_then_run_matches_the_library():
    at = open_page()
    assert at.title[0].value == "Scenarios"
    assert not at.error
    assert any("press **Run**" in i.value for i in at.info)
    assert len(at.dataframe) == 0  # nothing computed before Run
    # the settings come from the sidebar, summarised on the page
    assert "10,000 scenarios · seed 0 · correlation 0.30 · normal · no shocks" in summary(at)
    assert "Scenario settings** in the sidebar" in summary(at)
    run(at)
    assert f"{N:,} scenarios · seed 0" in summary(at)
    system = rs.load_sample("northshire_2018_19")
    expected = risk_table(load_preset(DEFAULT_PRESET), system, rs.simulate(system, N, seed=0))
    got = result(at)["risk"]
    np.testing.assert_allclose(got.to_numpy(float), expected.to_numpy(float), equal_nan=True)
    assert metric(at, "System final (with support)") == money_m(expected.loc[SYSTEM_ROW, "mean_final"])
    assert metric(at, "Chance system misses SCT") == \
        f"{expected.loc[SYSTEM_ROW, 'p_miss_control_total']:.0%}"
    table = at.dataframe[0].value
    assert list(table["org_id"]) == list(system.members)  # members only: the system has its own
    np.testing.assert_allclose(table["mean_final"], expected["mean_final"].drop(SYSTEM_ROW) / 1e6)
    assert len(at.get("vega_lite_chart")) == 2
    assert any(f"{N:,} scenarios" in c.value for c in at.caption)
    # a rerun with the same settings keeps the result
    at.run()
    assert len(at.dataframe) == 4 and not at.warning   # three tabs of members + the system


def test_changed_settings_keep_the_last_results_marked_until_run_again(downloads):
    at = open_page()
    run(at)
    kept = result(at)
    apply_settings(at, correlation=0.5)
    # still shown, with its download, under a warning naming what changed
    assert len(at.dataframe) == 4 and len(at.get("vega_lite_chart")) == 2
    assert "Settings changed since these results — press Run again." in warnings(at)
    assert "Changed: scenario settings." in warnings(at)
    assert {f"riskshare-{SLUG}-scenario-risk-{dt.date.today()}.{ext}" for ext in ("csv", "xlsx")} \
        <= set(downloads)
    # the workbook records the settings that made the results shown (correlation 0.3)
    book = openpyxl.load_workbook(io.BytesIO(
        downloads[f"riskshare-{SLUG}-scenario-risk-{dt.date.today()}.xlsx"]))
    assert book.sheetnames == ["cover", "members", "system", "scenarios"]
    cover = {r[0]: r[1] for r in book["cover"].iter_rows(min_row=3, values_only=True) if r[0]}
    assert (cover["Setting: scenarios"], cover["Setting: correlation between members"]) == \
        (N, 0.3)
    # the CSV: one row per member, no SYSTEM row (the system's figures are in the workbook)
    csv = downloads[f"riskshare-{SLUG}-scenario-risk-{dt.date.today()}.csv"]
    rows = (csv if isinstance(csv, str) else csv.decode()).splitlines()
    members = list(rs.load_sample(DEFAULT_SAMPLE).orgs.index)
    assert [r.split(",")[0] for r in rows[1:]] == members
    assert f"{N:,} scenarios (normal; correlation 0.3;" in "\n".join(c.value for c in at.caption)
    assert result(at) is kept                         # nothing recomputed by itself
    # another agreement: named too
    at.session_state["rs_agreement"] = load_preset("full_pooling_turnover")
    at.run()
    assert "Changed: scenario settings, agreement." in warnings(at)
    # Run: the warning goes, the new settings are used
    at.button(key="scn_run").click().run()
    assert not at.warning and not at.exception
    assert "correlation 0.5" in result(at)["describe"]
    # back to the settings of this run: no warning
    apply_settings(at, correlation=0.3)
    assert "Changed: scenario settings." in warnings(at)
    apply_settings(at, correlation=0.5)
    assert not at.warning


def test_the_system_figures_are_in_their_own_table_with_any_member_wording():
    at = open_page()
    run(at)
    system = rs.load_sample("northshire_2018_19")
    outcome = rs.apply(load_preset(DEFAULT_PRESET), system, rs.simulate(system, N, seed=0))
    # the system's figures cover the members inside the SCT (NSC and VGP are outside it)
    final = np.asarray(outcome["final"])[:, system.inside]
    alone = np.asarray(outcome["standalone"])[:, system.inside]
    # worked from the engine's arrays, not from the risk table: in how many scenarios is *any*
    # member inside the SCT worse off than alone (by more than half a penny)
    any_worse = float(((final - alone) < -0.005).any(axis=1).mean())
    table = next(d.value for d in at.dataframe if "measure" in d.value.columns)
    shown = dict(zip(table["measure"], table["value"], strict=True))
    assert shown["Chance any member is worse off than alone"] == f"{any_worse:.1%}"
    assert shown["Mean against every member standing alone"] == money_m(
        float((final - alone).sum(axis=1).mean()), sign=True)
    assert "Chance any member loses support" in shown
    assert "SYSTEM" not in list(at.dataframe[0].value["org_id"])
    assert any("*any* member" in c.value for c in at.caption)


def test_adding_a_shock_and_running():
    at = open_page()
    apply_settings(at, shocks=["winter_pressure"])
    assert not at.error, errors(at)
    assert any("With the shocks" in i.value for i in at.info)
    assert "shocks: Winter pressure" in summary(at)
    run(at)
    system = rs.load_sample("northshire_2018_19")
    scenarios = rs.simulate(system, N, seed=0, shocks=["winter_pressure"])
    expected = risk_table(load_preset(DEFAULT_PRESET), system, scenarios)
    np.testing.assert_allclose(result(at)["risk"].to_numpy(float), expected.to_numpy(float),
                               equal_nan=True)
    assert "shocks: Winter pressure" in result(at)["describe"]


def test_a_shock_that_does_not_fit_is_not_offered_and_says_why():
    at = open_page("workshop_4")
    # only the shock that fits workshop_4 (it has acute members) is offered
    assert at.multiselect(key="sc_shocks").options == ["Winter pressure: acute −2% of turnover"]
    note = next(c.value for c in at.sidebar.caption if c.value.startswith("Not offered"))
    assert "One member £10m adverse (NGH) ('NGH' is not a member of Workshop system" in note
    assert "'efficiency_plan' is not a numeric column of the system" in note
    assert not at.error


def test_a_chosen_shock_that_stops_fitting_is_marked_and_not_applied():
    at = open_page()
    apply_settings(at, shocks=["provider_10m"])           # fits Northshire (it has NGH)
    at.session_state["rs_system"] = rs.load_sample("workshop_4")  # as the System page loads it
    at.session_state["rs_version"] = at.session_state["rs_version"] + 1
    at.run()
    assert not at.exception and not at.error, errors(at)
    # kept in the picker, marked, so the choice is not lost silently
    assert at.multiselect(key="sc_shocks").value == ["provider_10m"]
    assert "One member £10m adverse (NGH) (does not fit this system: not applied)" in \
        at.multiselect(key="sc_shocks").options
    text = warnings(at)
    assert "Chosen shocks not applied" in text and "'NGH' is not a member" in text
    assert "no shocks" in summary(at)
    at.button(key="scn_run").click().run()
    assert not at.exception and not at.error, errors(at)
    assert "shocks" not in result(at)["describe"]  # run without the misfit shock
    system = rs.load_sample("workshop_4")
    expected = risk_table(load_preset(DEFAULT_PRESET), system, rs.simulate(system, 10_000, seed=0))
    np.testing.assert_allclose(result(at)["risk"].to_numpy(float), expected.to_numpy(float),
                               equal_nan=True)


# Each sample with an agreement designed for it: the Scenarios page runs cleanly on all of them.
SAMPLE_PRESETS = {"northshire_2018_19": "system_support_taper_2020_21",
                  "workshop_4": "full_pooling_turnover",
                  "vale_2025_26": "gain_loss_50_50_deadband",
                  "pooled_budget_2": "pooled_budget_reserve", "corridor_2": "aca_risk_corridors",
                  "mssp_2": "mssp_two_sided", "erf_2": "erf_2022_23", "nec_2": "nec_target_cost"}


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


def test_the_forecast_line_gives_the_system_figures_the_agreement_page_gives():
    """One figure, one reference, on every page: at the forecast the Northshire members inside
    the SCT forecast -£26.83m (-11.60 - 10.70 + 1.45 + 1.05 + 0.12 + 4.65 - 11.80, by hand);
    under the default agreement NSC and VGP (outside the SCT) pass on net
    -5.71675 × (414.5 + 2.7) / 2733.3 + 0.35875 + 0.196 = -£0.31783m (received − pooled: see
    test_agreement_page), so the outturn inside the SCT is -26.83 + 0.31783 = -£26.51m,
    £22.01m short of the -£4.50m SCT — on Scenarios and on the Agreement page alike."""
    at = open_page()
    line = next(i.value for i in at.info if "without random variation" in i.value)
    assert "system outturn (before support) -£26.51m, -£22.01m against the SCT" in line
    # and all nine members' final positions together, as Fairness says them: their forecasts
    # -26.83 - 2.90 - 0.38 = -30.11 (the pool is shared out whole) plus the £2.15m of support
    # earned (NCH 0.55, NVP 0.85, NCC 0.75) = -£27.96m, which is -£19.96m against the nine
    # members' control totals, -8.15 + 0 + 0.15 = -£8.00m
    # (not "ΣOCT", which is over the members inside the SCT: −£8.15m)
    assert ("all 9 members, inside the SCT and outside it, end at -£27.96m together (as on "
            "the Fairness page), -£19.96m against the sum of all their control totals") in line
    at.switch_page("riskshare/ui/pages/agreement.py").run()
    outturn = next(m for m in at.metric if m.label == "System outturn")
    assert outturn.value == "-£26.51m" and outturn.delta == "-£22.01m vs SCT"
