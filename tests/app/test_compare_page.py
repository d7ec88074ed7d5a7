"""Compare page (AppTest): defaults and a run with the sidebar's shared scenario settings, then a
third agreement; the system's figures in their own table; results kept (marked) when the inputs
change; Compare and Fairness agree on the same settings."""

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
from riskshare.agreements.risk import compare
from riskshare.core.filenames import slug
from riskshare.core.samples import DEFAULT_SAMPLE
from riskshare.ui.state import DEFAULT_PRESET
from tests.app.helpers import apply_settings, errors, warnings

# download names: riskshare-<system>-<what>-<date>.<ext>, for the default sample
SLUG = slug(rs.load_sample(DEFAULT_SAMPLE).label)

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "riskshare/ui/pages/compare.py"
N = 2_000



def shown(at, column: str):
    """The table on the page (one per measure, in tabs) that has `column`."""
    return next(d.value for d in at.dataframe if column in d.value.columns)

def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def run(at: AppTest) -> None:
    apply_settings(at, n=N)
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
    np.testing.assert_allclose(got[list(rs.agreements.risk.METRICS)].to_numpy(float),
                               expected[list(rs.agreements.risk.METRICS)].to_numpy(float), equal_nan=True)
    pivot = shown(at, "A mean £m")
    assert list(pivot.index) == list(system.members)      # the system has its own table
    a = expected[expected["agreement"] == expected["agreement"][0]].set_index("org_id")
    np.testing.assert_allclose(pivot["A mean £m"], a["mean_final"].drop("SYSTEM") / 1e6)
    assert len(at.get("vega_lite_chart")) == 1
    # the whole system, one row per agreement, its chances worded as "any member"; the letter
    # only (the names are listed above the member tables) and short headings, to fit 1280 px
    whole = shown(at, "any worse off")
    assert list(whole["agreement"]) == ["A", "B"]
    assert list(whole.columns) == ["agreement", "mean final £m", "vs all alone £m", "spread £m",
                                   "misses SCT", "any loses support", "any worse off",
                                   "worst 5% £m"]
    assert max(len(c) for c in whole.columns) <= 17
    names = "\n".join(m.value for m in at.markdown)
    assert f"**A** — {load_preset(DEFAULT_PRESET).name}" in names
    # issue 16: the preset now shares its pool by net turnover, and is named so
    assert "**B** — Full pooling pro rata to net turnover" in names
    assert f"{a.loc['SYSTEM', 'p_worse_off']:.0%}" == whole["any worse off"][0]
    np.testing.assert_allclose(whole["mean final £m"][0], a.loc["SYSTEM", "mean_final"] / 1e6)


def test_choosing_a_third_agreement_and_running():
    at = open_page()
    at.multiselect(key="cmp_agreements").select("support_cliff_2018_19").run()
    assert not at.error, errors(at)
    run(at)
    got = table(at)
    assert list(dict.fromkeys(got["agreement"])) == [
        load_preset(DEFAULT_PRESET).name, load_preset("full_pooling_turnover").name,
        load_preset("support_cliff_2018_19").name]
    assert any("C mean £m" in d.value.columns for d in at.dataframe)


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
    apply_settings(at, n=N)
    at.button(key="cmp_run").click().run()
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


def test_changed_inputs_keep_the_last_results_marked(downloads):
    at = open_page()
    run(at)
    kept = table(at)
    at.multiselect(key="cmp_agreements").select("support_cliff_2018_19").run()
    apply_settings(at, seed=7)
    assert not at.exception
    # the earlier comparison is still there, downloads included, under a warning
    assert "Settings changed since these results — press Run again." in warnings(at)
    assert "Changed: scenario settings, agreements." in warnings(at)
    assert not any("C mean £m" in d.value.columns for d in at.dataframe)  # as it was run
    assert {f"riskshare-{SLUG}-comparison-{dt.date.today()}.{ext}" for ext in ("csv", "xlsx")} \
        <= set(downloads)
    # the workbook records the settings that made the results shown (seed 0), not the new ones
    book = openpyxl.load_workbook(io.BytesIO(
        downloads[f"riskshare-{SLUG}-comparison-{dt.date.today()}.xlsx"]))
    assert book.sheetnames == ["cover", "members", "system", "scenarios"]
    cover = {r[0]: r[1] for r in book["cover"].iter_rows(min_row=3, values_only=True) if r[0]}
    assert (cover["Setting: scenarios"], cover["Setting: seed"]) == (N, 0)
    # the members on one sheet, the whole system (one row per agreement) on its own
    members = kept[kept["org_id"] != "SYSTEM"]
    assert len(list(book["members"].iter_rows(min_row=3))) == len(members)
    assert len(list(book["system"].iter_rows(min_row=3))) == 2
    # the CSV: the members only (the system's figures are in the workbook)
    csv = downloads[f"riskshare-{SLUG}-comparison-{dt.date.today()}.csv"]
    rows = (csv if isinstance(csv, str) else csv.decode()).splitlines()
    assert len(rows) == 1 + len(members) and not any(",SYSTEM," in r for r in rows)
    assert table(at) is kept
    at.button(key="cmp_run").click().run()
    assert not at.warning
    assert any("C mean £m" in d.value.columns for d in at.dataframe)


def test_compare_and_fairness_agree_on_the_same_settings():
    """Issue 15: Compare said ICB was £3.88m worse off on average while Fairness said it gained
    £0.44m, each on its own settings. With one set of settings, the two pages' figure for the
    commissioner (ICB then, CCG on the 2018/19 sample since issue 16) — the mean final position
    less the mean position alone — is the same number, worked out here from the scenarios and
    the engine's arrays directly."""
    at = open_page()
    apply_settings(at, n=N, seed=3, correlation=0.4)
    at.button(key="cmp_run").click().run()
    assert not at.exception and not at.error, errors(at)
    system = rs.load_sample("northshire_2018_19")
    scenarios = rs.simulate(system, N, seed=3, correlation=0.4)
    outcome = rs.apply(load_preset(DEFAULT_PRESET), system, scenarios)
    ccg = list(system.members).index("CCG")
    expected = float((np.asarray(outcome["final"])[:, ccg]
                      - np.asarray(outcome["standalone"])[:, ccg]).mean())
    assert abs(expected) > 1e5                        # a figure worth comparing, not zero
    compared = shown(at, "A vs alone £m").loc["CCG", "A vs alone £m"]
    assert compared == pytest.approx(expected / 1e6, abs=1e-8)
    # Fairness on the same sidebar settings, judged by the plain average (λ = 0)
    at.switch_page("riskshare/ui/pages/fairness.py").run()
    at.radio(key="fair_mode").set_value("scenarios").run()
    at.slider(key="fair_lambda").set_value(0.0).run()
    at.button(key="fair_run").click().run()
    assert not at.exception and not at.error, errors(at)
    members = next(d.value for d in at.dataframe if "gain_agreement" in d.value.columns)
    fair = float(members.set_index("org_id").loc["CCG", "gain_agreement"])
    assert fair == pytest.approx(expected / 1e6, abs=0.005e-6 + 1e-8)   # to the penny
    assert round(fair, 2) == round(compared, 2)


def test_presets_that_do_not_fit_are_marked_as_on_the_agreement_page():
    at = open_page()
    labels = at.multiselect(key="cmp_agreements").options
    # Northshire's table has no member PAYER, CMS or CLI and no column target or benchmark,
    # which the corridor, MSSP and NEC presets name; since issue 16 its commissioner is CCG, so
    # it has no member ICB either, which the pooled-budget preset names as its reserve holder and
    # the two ERF presets as exempt and counterparty (they also name erf_delivered and
    # erf_target, columns it lacks): the marks the Agreement page gives them
    marked = {o.removesuffix(" — does not fit this system") for o in labels
              if o.endswith(" — does not fit this system")}
    assert marked == {load_preset(p).name for p in (
        "aca_risk_corridors", "medicare_part_d_corridors", "mssp_one_sided", "mssp_two_sided",
        "nec_target_cost", "pooled_budget_reserve", "erf_2022_23", "erf_2023_24")}
    assert "Full pooling pro rata to net turnover" in labels
    assert not any(o.startswith("Current agreement") and o.endswith("fit this system")
                   for o in labels)
