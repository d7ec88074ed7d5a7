"""Fairness page (AppTest): the participation certificate at the forecast and across scenarios,
shown as the library computes it; another agreement, a large system, every preset on its own
sample, an agreement that does not fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import riskshare as rs
from riskshare.agreements.presets import list_presets, load_preset
from riskshare.core.format import money_m
from riskshare.core.samples import SAMPLES
from riskshare.scenarios.simulate import ScenarioSettings
from riskshare.ui.state import DEFAULT_PRESET
from tests.app.helpers import apply_settings, errors, metric, warnings

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "riskshare/ui/pages/fairness.py"
SAMPLE = "northshire_2018_19"
NINE_MEMBERS = Path(__file__).resolve().parents[1] / "fixtures" / "nine_members"
SCENARIOS = "rs_fairness_scenarios"
VERDICT = "**Participation certificate:"
EPSILON = "Walk-away margin"   # the least-core ε, in words


def open_page(at: AppTest | None = None) -> AppTest:
    at = at or AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def load_system(at: AppTest, system: rs.System, source: str) -> None:
    """What `state.load` does, from outside the script."""
    at.session_state["rs_system"] = system
    at.session_state["rs_source"] = source
    at.session_state["rs_version"] = at.session_state["rs_version"] + 1


def load_agreement(at: AppTest, name: str) -> None:
    """What `state.load_agreement` does for a preset, from outside the script."""
    at.session_state["rs_agreement"] = load_preset(name)
    at.session_state["rs_agreement_source"] = f"preset: {name}"
    at.session_state["rs_agreement_version"] = at.session_state["rs_agreement_version"] + 1
    at.session_state["rs_preset"] = name


def verdict(at: AppTest) -> str:
    """The verdict box's text (success when passed, warning when not)."""
    boxes = [b.value for b in [*at.success, *at.warning] if b.value.startswith(VERDICT)]
    assert len(boxes) == 1, [b.value for b in [*at.success, *at.warning]]
    return boxes[0]


def member_table(at: AppTest):
    return next(d.value for d in at.dataframe if "agreement" in d.value.columns)


def walk_table(at: AppTest):
    return next(d.value for d in at.dataframe if "shortfall" in d.value.columns)


def text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def check_shows(at: AppTest, cert) -> None:
    """The verdict, metrics, chart, member table and walk-away table show `cert`."""
    assert not at.exception, at.exception
    assert not at.error, errors(at)
    summary = cert.summary()
    shown = verdict(at)
    assert summary[0] in shown
    assert (shown in [s.value for s in at.success]) == cert.passes
    body = text(at)
    for sentence in summary[1:len(summary) - len(cert.notes)]:
        assert sentence in body
    infos = [i.value for i in at.info]
    for note in cert.notes:
        assert note in infos
    # the metrics
    assert metric(at, "Cooperative gain") == money_m(cert.gain, 2)
    assert metric(at, EPSILON) == ("—" if cert.epsilon is None
                                          else money_m(cert.epsilon, 2))
    assert metric(at, "Members better off alone") == \
        f"{len(cert.members_worse_off)} of {cert.system.n}"
    assert metric(at, "Groups better off apart") == f"{len(cert.groups_worse_off):,}"
    assert len(at.get("vega_lite_chart")) == 1
    # the member table, £m to the penny
    table = member_table(at)
    assert list(table["org_id"]) == list(cert.system.members)
    money = ["alone", "agreement", "shapley", "least_core", "gain_agreement"]
    if cert.fair:
        money.append(cert.fair)
    for column in money:
        if column in cert.table.columns:
            expected = cert.table[column].to_numpy() / 1e6
            # under £5,000 either side shows as 0.00, never "-0.00" (ui.tables.in_millions)
            expected = np.where(np.abs(expected) < 0.005, 0.0, expected)
            np.testing.assert_allclose(table[column].to_numpy(float), expected, atol=5e-9)
    # the coalitions that would walk away
    if cert.passes:
        assert any("No member and no group" in s.value for s in at.success)
    else:
        walk = walk_table(at)
        top = cert.violations.head(20)
        assert len(walk) == len(top)
        expected = top["shortfall"].to_numpy() / 1e6
        expected = np.where(np.abs(expected) < 0.005, 0.0, expected)   # shown as 0.00
        np.testing.assert_allclose(walk["shortfall"].to_numpy(float), expected, atol=5e-9)
        assert list(walk["size"]) == list(top["size"])
        assert f"{len(cert.violations):,}" in "\n".join(c.value for c in at.caption)
    assert [b.label for b in at.get("download_button")] == [
        "Download the members (.csv)", "Download the certificate (.xlsx)"]


def test_the_forecast_certificate_on_the_default_sample_and_agreement():
    at = open_page()
    assert at.title[0].value == "Fairness"
    assert at.radio(key="fair_mode").value == "forecast"
    check_shows(at, rs.games.certificate(rs.load_sample(SAMPLE), load_preset(DEFAULT_PRESET)))
    # The figures below need a system whose members together do worse than alone (no gain, so
    # an empty imputation set and the prenucleolus in the nucleolus's place): the 2018/19
    # sample no longer has that since issue 16, the nine-member fixture (the old sample) does,
    # and its figures hold as they were.
    at = AppTest.from_file(APP, default_timeout=60).run()
    nine = rs.load_system(NINE_MEMBERS)
    load_system(at, nine, "fixture: nine members")
    open_page(at)
    assert at.radio(key="fair_mode").value == "forecast"
    cert = rs.games.certificate(nine, load_preset(DEFAULT_PRESET))
    check_shows(at, cert)
    assert not cert.passes and cert.epsilon is not None
    assert metric(at, EPSILON) == money_m(cert.epsilon, 2) == "£1.41m"
    assert metric(at, "Members better off alone") == "7 of 9"
    # the prenucleolus stands in for the nucleolus, and is labelled so
    assert cert.fair == "prenucleolus"
    assert "prenucleolus" in member_table(at).columns
    # no gain to share: the share columns are left out and the caption says why
    assert not any(c.startswith("share_") for c in member_table(at).columns)
    assert any("creates no gain to share" in c.value for c in at.caption)
    # members worse off than alone are named in words
    assert "NVP by £2.94m" in text(at)
    # groups of most members are named by who is left out
    assert walk_table(at)["group"].iloc[0] == "all but NGH, VGP"


def test_the_forecast_result_is_kept_between_reruns():
    at = open_page()
    first = at.session_state["rs_fairness_forecast"]
    at.run()
    assert at.session_state["rs_fairness_forecast"] is first


def test_across_scenarios_with_the_shared_settings():
    at = open_page()
    apply_settings(at, n=1_000)
    at.radio(key="fair_mode").set_value("scenarios").run()
    assert not at.exception
    assert at.slider(key="fair_lambda").value == 0.5
    assert "press **Run**" in at.info[0].value
    assert any("1,000 scenarios · seed 0 · correlation 0.30 · normal · no shocks" in c.value
               for c in at.caption)
    assert not at.get("vega_lite_chart")
    at.slider(key="fair_lambda").set_value(0.25).run()
    at.button(key="fair_run").click().run()
    assert not at.exception, at.exception
    inputs, result = at.session_state[SCENARIOS]
    settings = inputs[1]
    # the settings as applied, drawing no register
    assert settings.plain() == ScenarioSettings(n=1_000) and settings.held is None
    assert inputs[2] == 0.25
    system = rs.load_sample(SAMPLE)
    expected = rs.games.certificate(system, load_preset(DEFAULT_PRESET),
                                    rs.simulate(system, 1_000, seed=0), 0.25)
    cert = result["cert"]
    assert cert.gain == expected.gain and cert.epsilon == expected.epsilon
    check_shows(at, expected)
    assert "1,000 scenarios" in text(at)
    # positive gain: the shares of it are shown, as percentages of the gain
    assert "share_agreement" in member_table(at).columns
    # above λ = 0 the caption says these are not Compare's plain averages
    assert any("not the plain averages the Compare page shows" in c.value for c in at.caption)
    # moving λ keeps the result on show, marked, until Run is pressed again
    at.slider(key="fair_lambda").set_value(1.0).run()
    assert len(at.get("vega_lite_chart")) == 1
    assert "Settings changed since these results — press Run again." in warnings(at)
    assert "Changed: weight of bad years (λ)." in warnings(at)
    assert [b.label for b in at.get("download_button")] == [
        "Download the members (.csv)", "Download the certificate (.xlsx)"]
    # the shown result is still the λ = 0.25 one, said so in its caption
    assert any("λ = 0.25" in c.value for c in at.caption)
    # back at the forecast, the forecast certificate is shown at once
    at.radio(key="fair_mode").set_value("forecast").run()
    assert not at.exception
    assert len(at.get("vega_lite_chart")) == 1


def test_another_agreement_changes_the_verdict():
    at = open_page()
    assert "not passed" in verdict(at)
    load_agreement(at, "support_cliff_2018_19")
    at.run()
    cert = rs.games.certificate(rs.load_sample(SAMPLE), load_preset("support_cliff_2018_19"))
    assert cert.passes
    check_shows(at, cert)
    assert "passed" in verdict(at) and "not passed" not in verdict(at)
    assert "support_cliff_2018_19" in "\n".join(c.value for c in at.caption)


def test_more_than_sixteen_members_is_checked_in_part_and_says_so():
    at = AppTest.from_file(APP, default_timeout=60).run()
    system = rs.samples.synthetic(18, 1)
    load_system(at, system, "synthetic: 18 members")
    open_page(at)
    cert = rs.games.certificate(system, load_preset(DEFAULT_PRESET))
    check_shows(at, cert)
    warning = next(w.value for w in at.warning if "more than the 16" in w.value)
    assert "Only 36 of the 262,143 groups were checked" in warning
    assert "*estimated*" in warning
    assert metric(at, EPSILON) == "—"
    table = member_table(at)
    assert "shapley_se" in table.columns
    assert "least_core" not in table.columns and "nucleolus" not in table.columns
    # the standard errors are in pounds: in £m they would all read 0.00
    np.testing.assert_allclose(table["shapley_se"].to_numpy(float),
                               cert.table["shapley_se"].to_numpy())


def test_an_agreement_that_does_not_fit_is_reported_without_a_traceback():
    at = AppTest.from_file(APP, default_timeout=60).run()
    load_agreement(at, "aca_risk_corridors")  # designed for corridor_2, not the default sample
    open_page(at)
    assert "The current agreement does not fit this system" in errors(at)
    assert "Traceback" not in errors(at)
    assert not at.get("vega_lite_chart")


@pytest.mark.parametrize("preset", list_presets())
def test_every_preset_on_its_own_sample(preset):
    agreement = load_preset(preset)
    at = AppTest.from_file(APP, default_timeout=60).run()
    load_system(at, rs.load_sample(agreement.sample),
                f"sample: {SAMPLES[agreement.sample].title}")
    load_agreement(at, preset)
    open_page(at)
    assert not at.error, errors(at)
    check_shows(at, rs.games.certificate(rs.load_sample(agreement.sample), agreement))


def page_text(at: AppTest) -> str:
    """Every message, Markdown and caption the page shows."""
    return "\n".join(e.value for e in [*at.markdown, *at.caption, *at.info, *at.warning,
                                       *at.error, *at.success])


def test_a_system_too_large_to_judge_at_the_forecast_is_told_what_to_do_instead():
    at = AppTest.from_file(APP, default_timeout=120).run()
    load_system(at, rs.samples.synthetic(5000, 1), "synthetic: 5,000 members")
    open_page(at)
    # 5,000 members: each alone, each group of all but one and 4,000 sampled orders of joining,
    # (2 + 4,000) × 5,000 groups × 5,000 members × 2.5e-7 s = 25,012.5 s, about 6.9 hours; the
    # budget of 60 s fits 4,002 × n² × 2.5e-7 ≤ 60, n ≤ 244.9: 244 members
    warning = next(w.value for w in at.warning if "5,000 members" in w.value)
    assert warning.startswith("**Checking 5,000 members and the groups they form would take "
                              "about 6.9 hours**, longer than the 60 seconds this page runs "
                              "without asking.")
    assert "every group exactly for systems of up to 16 members" in warning
    assert "up to 244 members" in warning
    assert "**Compare** or **Scenarios** page" in warning and "--allow-long" in warning
    text = page_text(at)
    # the page is at the forecast: no talk of scenarios to cut, nor of Python or settings
    for jargon in ("RISKSHARE_TIME_BUDGET", "max_seconds", "math.inf", "in Python",
                   "Use at most", "1 scenarios"):
        assert jargon not in text, jargon
    # a finding, not a fault (the sidebar's scenario settings may report their own problem)
    assert "could not be judged" not in errors(at)
    assert not at.get("vega_lite_chart")


def test_across_scenarios_a_system_too_large_for_even_one_year_is_not_told_to_use_fewer():
    at = AppTest.from_file(APP, default_timeout=120).run()
    load_system(at, rs.samples.synthetic(5000, 1), "synthetic: 5,000 members")
    open_page(at)
    at.radio(key="fair_mode").set_value("scenarios").run()
    assert not at.exception, at.exception
    warning = next(w.value for w in at.warning if w.value.startswith("**This run would take"))
    assert "Fewer scenarios will not help: even one year takes about 6.9 hours with 5,000 " \
           "members." in warning
    assert "Use at most" not in warning
    assert "RISKSHARE_TIME_BUDGET" not in page_text(at)
