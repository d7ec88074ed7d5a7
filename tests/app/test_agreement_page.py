"""App tests (Streamlit AppTest) for the Agreement page: the default preset on the default sample,
every preset on its own sample, edits that change the outcome (and invalid edits that change
nothing), every bad agreement file refused with its message, and the TOML download round trip.

Editing widgets are keyed on "<agreement version>_<system version>": "0_0" on first visit.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import riskshare as rs
from riskshare.agreements.presets import list_presets, load_preset
from riskshare.core.samples import SAMPLES
from tests.app.helpers import errors, metric
from tests.bad_agreements import (
    BAD_TOML_SYNTAX,
    GOOD_AGREEMENT,
    KNOWN_BUG_AGREEMENTS,
    NONSENSE,
    bad_agreement_params,
    representative,
)

APP = str(Path(__file__).resolve().parents[2] / "app.py")
AGREEMENT = "riskshare/ui/pages/agreement.py"
DEFAULT = "gain_loss_50_50_deadband"
#: An agreement wrong in many ways at once: 9 problems of its own, 2 more against Northshire.


def open_page(sample: str | None = None) -> AppTest:
    """The app on the Agreement page; `sample` loaded first through the System page."""
    at = AppTest.from_file(APP, default_timeout=60).run()
    if sample is not None and sample != "northshire_2018_19":
        at.selectbox(key="sample_choice").select(sample).run()
        at.button(key="load_sample").click().run()
    at.switch_page(AGREEMENT).run()
    assert not at.exception, at.exception
    return at


def agreement(at: AppTest) -> rs.Agreement:
    return at.session_state["rs_agreement"]


def system(at: AppTest) -> rs.System:
    return at.session_state["rs_system"]


def table(at: AppTest, column: str):
    """The shown table (£m for money) that has `column`, indexed by org_id."""
    frame = next(d.value for d in at.dataframe if column in d.value.columns)
    return frame.set_index("org_id")


def charts(at: AppTest) -> int:
    return len(at.get("vega_lite_chart"))


def buttons(at: AppTest) -> dict:
    return {b.key: b for b in at.button}


def editor(at: AppTest, key: str, edited_rows: dict, added_rows=()) -> None:
    at.session_state[key] = {"edited_rows": edited_rows, "added_rows": list(added_rows),
                             "deleted_rows": []}


# -- smoke ----------------------------------------------------------------------------------------
def test_the_default_preset_on_the_default_sample():
    at = open_page()
    assert not at.error
    assert at.title[0].value == "Agreement"
    assert agreement(at) == load_preset(DEFAULT)
    assert at.selectbox(key="preset_choice").value == DEFAULT
    # the figures are the library's
    outcome = rs.apply(load_preset(DEFAULT), rs.load_sample("northshire_2018_19"))
    # variance (forecast − OCT) beyond 0.5% of turnover, half pooled (£m): NGH −13.4 beyond
    # 2.562 → −5.419; NCC +1.45 beyond 0.936 → +0.257; NSC −2.9 beyond 2.1825 → −0.35875; VGP
    # −0.53 beyond 0.138 → −0.196; SVH (1.3 < 1.8445), NCH, NVP, RAS (0.23 < 1.24) and CCG
    # (5.8 < 8.42) inside their deadbands. Net pool −5.419 + 0.257 − 0.35875 − 0.196 = −5.71675
    assert metric(at, "Net pool") == "-£5.72m"
    # charged by net turnover (Σ 2733.3; no charge near the 1% cap): NCH 5.71675 × 27.9/2733.3
    # = 0.058, NVP × 46.5/2733.3 = 0.097, NCC × 156.2/2733.3 = 0.327. After sharing NCH
    # 0.35 − 0.058 ≥ 0, NVP 0.25 − 0.097 ≥ 0, NCC 1.45 − 0.257 − 0.327 ≥ 0 earn their support;
    # the others are adverse: support earned 0.55 + 0.85 + 0.75 = £2.15m
    assert metric(at, "Support earned") == "£2.15m"
    # Σ outturn inside the SCT = Σ forecast inside (−26.83) less what NSC and VGP (outside)
    # pass on net: their net transfers (received − pooled) are −5.71675 × (414.5 + 2.7)/2733.3
    # + 0.35875 + 0.196 = −0.31783, so the inside gains +0.31783: −26.51217 → −£26.51m,
    # −26.51217 + 4.5 = −£22.01m against the −£4.5m SCT
    assert metric(at, "System outturn") == "-£26.51m"
    assert next(m for m in at.metric if m.label == "System outturn").delta == "-£22.01m vs SCT"
    shown = table(at, "vs_standalone")
    assert list(shown.index) == list(outcome.table.index)
    for column in ("variance", "pooled", "retained", "received", "net_transfer", "outturn",
                   "support_earned", "final", "standalone", "vs_standalone"):
        assert (shown[column] - outcome.table[column] / 1e6).abs().max() < 1e-9, column
    # members worse off than standalone are named, with the incentives
    # vs standalone = net transfer (no member's support test changes): NGH −0.314 + 5.419 and
    # VGP −0.006 + 0.196 gain; SVH, NCH, NVP, RAS, NCC (−0.327 − 0.257), CCG and NSC
    # (−0.867 + 0.359) lose
    assert "7 of 9 members are worse off than on their own" in at.warning[0].value
    text = "\n".join(m.value for m in at.markdown)
    assert "Worse off than on their own (7 of 9, shaded):** SVH, NCH, NVP, RAS, NCC, CCG, NSC" \
        in text
    assert "retention_gain" in table(at, "retention_gain").columns
    assert charts(at) == 2  # member walk, retention
    # the plain-English explanation of the chosen member
    assert at.selectbox(key="explain_member_0_0").value == "NGH"
    # NGH: 1.8 − 13.4 + 5.419 (pooled) − 5.71675 × 150.3/2733.3 (0.314) = −6.495, no support
    assert "8. Final position: -£6.50m" in text
    downloads = at.get("download_button")
    assert [b.label for b in downloads] == ["Download the agreement (.toml)",
                                            "Download the results (.xlsx)"]
    assert not any(b.proto.disabled for b in downloads)


def test_explaining_another_member():
    at = open_page()
    at.selectbox(key="explain_member_0_0").select("NVP").run()
    text = "\n".join(m.value for m in at.markdown)
    assert "Northshire and Vale Partnership NHS Foundation Trust (NVP)" in text
    # NVP keeps its +0.25 and its £0.85m support either way; it is charged
    # 5.71675 × 46.5/2733.3 = £0.097m of the net pool by net turnover: final 0.8 + 0.25 − 0.097
    # + 0.85 = 1.803, standalone 0.8 + 0.25 + 0.85 = 1.90
    assert "£0.10m worse off" in text


@pytest.mark.parametrize("name", list_presets())
def test_every_preset_on_its_sample(name):
    at = open_page()
    at.selectbox(key="preset_choice").select(name).run()
    preset = load_preset(name)
    assert agreement(at) == preset
    button = buttons(at).get("load_agreement_sample")
    if preset.sample != "northshire_2018_19":
        assert button is not None
        assert button.label == f"Load its sample system ({SAMPLES[preset.sample].title})"
        button.click().run()
    else:
        assert button is None
    assert not at.exception, at.exception
    assert not at.error, errors(at)
    assert system(at).equals(rs.load_sample(preset.sample))
    assert agreement(at) == preset  # loading the system keeps the agreement
    assert "load_agreement_sample" not in buttons(at)
    assert charts(at) == 2
    outcome = rs.apply(preset, system(at))
    shown = table(at, "vs_standalone")
    assert (shown["final"] - outcome.table["final"] / 1e6).abs().max() < 1e-9


def test_a_preset_for_another_system_says_what_does_not_fit():
    at = open_page()
    at.selectbox(key="preset_choice").select("aca_risk_corridors").run()
    message = errors(at)
    assert "This agreement does not fit the current system" in message
    assert "key 'scale': 'target' is not a numeric column of the system" in message
    assert "key 'pool.counterparty': names 'PAYER', which is not a member" in message
    assert charts(at) == 0
    assert buttons(at)["load_agreement_sample"].label == \
        "Load its sample system (Risk corridor: plan and payer)"


# -- edits ----------------------------------------------------------------------------------------
def test_changing_a_band_share_changes_the_outcome():
    at = open_page()
    before = table(at, "vs_standalone")
    editor(at, "losses_bands_0_0", {1: {"pool": 0.8}})
    at.run()
    assert not at.exception and not at.error, errors(at)
    assert [b.pool for b in agreement(at).losses.bands] == [0.0, 0.8]
    assert agreement(at).gains == load_preset(DEFAULT).gains
    after = table(at, "vs_standalone")
    assert after.loc["NGH", "pooled"] == pytest.approx(before.loc["NGH", "pooled"] * 0.8 / 0.5)
    assert metric(at, "Net pool") != "-£5.72m"
    assert "(edited)" in at.session_state["rs_agreement_source"]


def test_adding_a_band():
    at = open_page()
    # 0–0.5%: 0; 0.5–2%: 0.5; beyond 2%: 0.8 (edit the open band, add a new last one)
    editor(at, "losses_bands_0_0", {1: {"upto": 2.0}}, [{"pool": 0.8}])
    at.run()
    assert not at.error, errors(at)
    assert agreement(at).losses.bands == (rs.agreements.spec.Band(0.0, 0.5),
                                          rs.agreements.spec.Band(0.5, 2.0),
                                          rs.agreements.spec.Band(0.8))


def test_edits_survive_a_visit_to_another_page():
    at = open_page()
    editor(at, "losses_bands_0_0", {1: {"pool": 0.8}})
    at.number_input(key="max_award_0_0").set_value(0.5).run()
    edited = agreement(at)
    at.switch_page("riskshare/ui/pages/reconcile.py").run()
    at.switch_page(AGREEMENT).run()
    assert not at.exception and not at.error, errors(at)
    assert agreement(at) is edited
    # the widgets start again from the edited agreement
    assert at.data_editor(key="losses_bands_0_0").value["pool"].tolist() == [0.0, 0.8]
    assert at.number_input(key="max_award_0_0").value == 0.5


def test_the_max_charge_input_changes_the_outcome():
    at = open_page()
    before = table(at, "received")
    at.number_input(key="max_charge_0_0").set_value(0.1).run()
    assert not at.exception and not at.error, errors(at)
    assert agreement(at).pool.max_charge == 0.1
    after = table(at, "received")
    expected = rs.apply(agreement(at), system(at)).table
    assert (after["received"] - expected["received"] / 1e6).abs().max() < 1e-9
    assert not (after["received"] - before["received"]).abs().lt(1e-9).all()


def test_switching_on_a_reserve_and_support_options():
    at = open_page()
    at.checkbox(key="reserve_on_0_0").check().run()
    at.number_input(key="reserve_amount_0_0").set_value(2_000_000.0).run()
    at.selectbox(key="support_test_0_0").select("system").run()
    at.number_input(key="support_taper_0_0").set_value(1.0).run()
    assert not at.error, errors(at)
    a = agreement(at)
    assert a.reserve == rs.agreements.spec.Reserve("CCG", 2_000_000.0)  # the commissioner by default
    assert (a.support.test, a.support.taper) == ("system", 1.0)
    assert metric(at, "Reserve used") == "£2.00m"


def test_distribute_to_a_counterparty_and_by_claims():
    at = open_page()
    at.selectbox(key="distribute_0_0").select("counterparty").run()
    assert not at.error, errors(at)
    assert agreement(at).pool.counterparty == "CCG"  # the commissioner
    at.selectbox(key="distribute_0_0").select("claims").run()
    at.selectbox(key="rule_0_0").select("talmud").run()
    assert not at.error, errors(at)
    assert (agreement(at).pool.distribute, agreement(at).pool.rule) == ("claims", "talmud")
    assert agreement(at).pool.counterparty is None


def test_weights_by_member():
    at = open_page()
    at.selectbox(key="basis_0_0").select("__weights__").run()
    assert not at.error, errors(at)
    members = list(system(at).members)
    assert agreement(at).pool.basis == tuple((m, 1.0) for m in members)
    editor(at, "weights_0_0", {0: {"weight": 3.0}})
    at.run()
    assert dict(agreement(at).pool.basis)["NGH"] == 3.0
    at.selectbox(key="basis_0_0").select("equal").run()
    assert agreement(at).pool.basis == "equal"


def test_an_invalid_edit_is_shown_and_not_applied():
    at = open_page()
    before = agreement(at)
    # gains: a middle band ending below the first; losses: a band without a share
    editor(at, "gains_bands_0_0", {1: {"upto": 0.25}}, [{"pool": 0.8}])
    editor(at, "losses_bands_0_0", {0: {"pool": None}})
    at.run()
    assert not at.exception
    message = errors(at)
    assert "Your changes are not applied yet —** 2 problems in the agreement as edited" \
        in message
    assert "key 'gains.bands[2].upto': bands must rise: 'upto' 0.25 is not above the " \
           "previous band's 0.5" in message
    assert "key 'losses.bands[1]': needs a 'pool' share" in message
    assert agreement(at) is before  # the last valid agreement is kept whole
    assert metric(at, "Net pool") == "-£5.72m"


def test_exempting_a_member_and_changing_the_scale():
    at = open_page()
    at.multiselect(key="exempt_0_0").select("CCG").run()
    at.selectbox(key="scale_0_0").select("support").run()
    message = errors(at)
    assert "key 'scale': the scale column 'support' must be > 0 for every member" in message
    assert agreement(at).exempt == ("CCG",)
    assert charts(at) == 0
    at.selectbox(key="scale_0_0").select("turnover").run()
    assert not at.error
    assert table(at, "pooled").loc["CCG", "pooled"] == 0.0


# -- uploads --------------------------------------------------------------------------------------
def upload(at: AppTest, text: str, name: str = "agreement.toml") -> None:
    key = f"agreement_upload_{at.session_state['rs_agreement_version']}"
    at.file_uploader(key=key).upload(name, text.encode(), "application/toml").run()


@pytest.mark.parametrize("case", bad_agreement_params(representative() + KNOWN_BUG_AGREEMENTS
                                                      + (BAD_TOML_SYNTAX,)))
def test_every_bad_agreement_upload_gives_its_message_and_changes_nothing(case):
    at = open_page(case.system if case.at == "apply" else None)
    before = agreement(at)
    upload(at, case.toml, "bad.toml")
    assert not at.exception, at.exception
    message = errors(at)
    assert "bad.toml was not loaded" in message
    missing = [f for f in case.expected if f not in message]
    assert not missing, f"missing {missing} in:\n{message}"
    assert agreement(at) is before
    assert at.session_state["rs_agreement_version"] == 0


def test_a_good_upload_becomes_the_agreement_and_resets_the_widgets():
    at = open_page("workshop_4")
    upload(at, GOOD_AGREEMENT, "good.toml")
    assert not at.exception and not at.error, errors(at)
    expected = rs.load_agreement(GOOD_AGREEMENT)
    assert agreement(at) == expected
    assert "Loaded “Test agreement” from good.toml." in at.success[0].value
    # the editing widgets now show the uploaded agreement (version 1 of the agreement, and
    # of the system, since workshop_4 was loaded)
    assert at.multiselect(key="exempt_1_1").value == ["D"]
    assert at.number_input(key="reserve_amount_1_1").value == 500_000.0
    assert at.number_input(key="gains_max_pool_1_1").value == 3.0
    assert at.checkbox(key="losses_threshold_on_1_1").value
    assert at.selectbox(key="support_unearned_1_1").value == "redistribute"
    assert at.data_editor(key="gains_bands_1_1").value["pool"].tolist() == [0.0, 0.5, 0.25]
    assert charts(at) == 2


def test_choosing_a_preset_again_after_an_upload():
    at = open_page("workshop_4")
    upload(at, GOOD_AGREEMENT)
    at.button(key="preset_reuse").click().run()
    assert agreement(at) == load_preset(DEFAULT)
    assert not at.error


# -- downloads (the `downloads` fixture: tests/app/conftest.py) -----------------------------------
def test_the_toml_download_round_trips(downloads):
    at = open_page()
    at.number_input(key="max_charge_0_0").set_value(0.75).run()
    editor(at, "gains_bands_0_0", {0: {"pool": 0.1}})
    at.run()
    edited = agreement(at)
    assert edited.pool.max_charge == 0.75 and edited.gains.bands[0].pool == 0.1
    name = next(n for n in downloads if n.endswith(".toml"))
    text = downloads[name]
    text = text.decode() if isinstance(text, bytes) else text
    assert rs.load_agreement(text) == edited
    # ... and uploading it back gives the same agreement
    at.selectbox(key="preset_choice").select("standalone").run()
    upload(at, text, name)
    assert not at.error, errors(at)
    assert agreement(at) == edited


# -- the agreement in words (issue 15) ------------------------------------------------------------
def in_words(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**In words:**"))


def captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


def sidebar_agreement(at: AppTest) -> str:
    return next(c.value for c in at.sidebar.caption if c.value.startswith("Agreement:"))


def test_editing_the_caps_rewrites_the_summary_everywhere_and_marks_the_description(downloads):
    at = open_page()
    assert "Charges and awards from the pool are capped at 1% of turnover per member." \
        in in_words(at)
    assert sidebar_agreement(at) == (
        "Agreement: **Gain/loss share 50:50 beyond 0.5% of turnover, capped at 1%** · pooled: "
        "50% beyond 0.5% of turnover; shared pro rata to net turnover; capped at 1% of turnover")
    assert "*Description:* Half of each variance beyond 0.5% of turnover is pooled" \
        in captions(at)

    at.number_input(key="max_charge_0_0").set_value(2.0).run()
    at.number_input(key="max_award_0_0").set_value(2.0).run()
    assert not at.exception and not at.error, errors(at)
    words = in_words(at)
    assert "Charges and awards from the pool are capped at 2% of turnover per member." in words
    assert "capped at 1%" not in words
    assert sidebar_agreement(at) == (
        "Agreement: **Gain/loss share 50:50 beyond 0.5% of turnover, capped at 1% (edited)** · "
        "pooled: 50% beyond 0.5% of turnover; shared pro rata to net turnover; capped at 2% of "
        "turnover")
    text = captions(at)
    assert ("*Description, written for the preset; parameters edited since:* Half of each "
            "variance beyond 0.5% of turnover is pooled") in text
    assert ("The name and description were written for the preset; the parameters have been "
            "edited since.") in text
    assert "**Current agreement:** Gain/loss share 50:50 beyond 0.5% of turnover, capped at 1% " \
           "(edited) · preset: gain_loss_50_50_deadband (edited)" in text
    # the member's ledger names the agreement as edited
    ledger = "\n".join(m.value for m in at.markdown)
    assert "under “Gain/loss share 50:50 beyond 0.5% of turnover, capped at 1%” (edited)" \
        in ledger
    # the downloaded agreement says what it does now, and reads back marked
    name = next(n for n in downloads if n.endswith(".toml"))
    toml = downloads[name]
    toml = toml.decode() if isinstance(toml, bytes) else toml
    header = " ".join(line[1:].strip() for line in toml.splitlines() if line.startswith("#"))
    assert "Charges and awards from the pool are capped at 2% of turnover per member." in header
    assert "The name and description were written for earlier parameters" in header
    assert rs.load_agreement(toml) == agreement(at)

    # writing a new description takes it as written for the parameters in force
    at.text_area(key="description_0_0").input("Half pooled beyond 0.5%; caps at 2%.").run()
    assert agreement(at).description_for is None
    assert "*Description:* Half pooled beyond 0.5%; caps at 2%." in captions(at)
    assert "(edited)" not in sidebar_agreement(at)


def test_going_back_to_the_preset_parameters_clears_the_mark():
    at = open_page()
    at.number_input(key="max_charge_0_0").set_value(2.0).run()
    assert agreement(at).description_for is not None
    at.number_input(key="max_charge_0_0").set_value(1.0).run()
    assert agreement(at) == load_preset(DEFAULT)
    assert "edited since" not in captions(at)


def test_presets_that_do_not_fit_the_system_are_marked_with_the_reason():
    at = open_page()
    picker = at.selectbox(key="preset_choice")
    # northshire_2018_19 has no target, benchmark or ERF column, and no PAYER, CMS or CLI
    # member, nor an ICB (its commissioner is a CCG: the pooled budget's reserve holder and the
    # ERF presets' counterparty are missing)
    marked = [o for o in picker.options if o.endswith(" — does not fit this system")]
    assert marked == [f"{load_preset(p).name} — does not fit this system" for p in
                      ("pooled_budget_reserve", "erf_2022_23", "erf_2023_24",
                       "aca_risk_corridors", "medicare_part_d_corridors", "mssp_one_sided",
                       "mssp_two_sided", "nec_target_cost")]
    assert "Full pooling pro rata to net turnover" in picker.options  # (renamed by issue 16)
    # 15 presets: deficit_support_2025_26 (issue 17) names no member or column, so it fits
    assert "8 of 15 presets do not fit this system and are marked in the list" in captions(at)
    picker.select("aca_risk_corridors").run()
    assert "**ACA risk corridors** needs member PAYER and column target, not in this system." \
        in "\n".join(w.value for w in at.warning)
    # its own sample fits it (and not the NHS pooled-budget and ERF presets, which name an
    # ICB, nor the MSSP and NEC ones)
    at.button(key="load_agreement_sample").click().run()
    assert not at.exception and not at.error, errors(at)
    options = at.selectbox(key="preset_choice").options
    assert "ACA risk corridors" in options
    assert [o for o in options if o.endswith("does not fit this system")] == [
        f"{load_preset(p).name} — does not fit this system" for p in
        ("pooled_budget_reserve", "erf_2022_23", "erf_2023_24", "mssp_one_sided",
         "mssp_two_sided", "nec_target_cost")]
    assert not [w for w in at.warning if "needs member" in w.value]


def test_member_ids_in_the_summary_are_shown_as_text():
    from tests.app.test_trust_pages import assert_text_shown_as_text, hostile_system, start_with

    at = start_with(hostile_system())
    hostile = rs.load_agreement(
        'name = "Payer [a] takes all"\n[gains]\nbands = [{ pool = 1.0 }]\n'
        '[losses]\nbands = [{ pool = 1.0 }]\n[pool]\ndistribute = "counterparty"\n'
        'counterparty = "[a]"\n')
    at.session_state["rs_agreement"] = hostile
    at.session_state["rs_agreement_version"] = at.session_state["rs_agreement_version"] + 1
    at.switch_page(AGREEMENT).run()
    assert not at.exception, at.exception
    shown = assert_text_shown_as_text(at)
    assert ("The whole net pool goes to [a]: it takes a net pooled gain and bears a net pooled "
            "loss.") in shown
    assert "Agreement: **Payer [a] takes all** · pooled: all; all to [a]" in shown


# -- words a finance director can read -------------------------------------------------------------
#: A negative zero as a person would see it: "-0", "-0%", "-0.0%", "-£0.00m" (never a real
#: negative such as "-0.5%").
NEGATIVE_ZERO = re.compile(r"-£?0(?:\.0+)?(?![\d.,])")


def shown_cells(at: AppTest) -> list[str]:
    """Every cell of every table as the page displays it (a Styler's display text)."""
    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

    cells = []
    for d in at.dataframe:
        styler = d.proto.arrow_data.styler
        frame = (convert_arrow_bytes_to_pandas_df(styler.display_values)
                 if styler.display_values else d.value)
        cells += [str(v) for v in frame.to_numpy().ravel()]
    return cells


def page_text(at: AppTest) -> str:
    return "\n".join(e.value for e in [*at.markdown, *at.caption, *at.info, *at.warning,
                                       *at.error, *at.success])


def test_the_pooled_budget_shows_no_negative_zero():
    at = open_page("pooled_budget_2")
    at.selectbox(key="preset_choice").select("pooled_budget_reserve").run()
    assert not at.exception and not at.error, errors(at)
    assert agreement(at).name == "Pooled budget pro rata to contributions, risk reserve first"
    text = page_text(at) + "\n" + "\n".join(m.value for m in at.metric)
    assert not NEGATIVE_ZERO.search(text), NEGATIVE_ZERO.findall(text)
    cells = shown_cells(at)
    assert not [c for c in cells if NEGATIVE_ZERO.fullmatch(c.strip().rstrip("%"))], cells
    # everything pooled and shared back by contribution (48.2 : 31.5): ICB keeps
    # 48.2 / 79.7 = 60.5% of an extra £1, NSC 31.5 / 79.7 = 39.5%
    assert "60.5%" in cells and "39.5%" in cells
    # the sentence to the table's precision: 31.5 / 79.7 = 39.5% (not "40%" beside "39.5%")
    assert "**Weakest incentive:** NSC keeps 39.5% of an extra £1 gain and bears 39.5% of an " \
           "extra £1 loss." in text


def test_a_member_that_keeps_nothing_keeps_0_percent_not_minus_0():
    # a third member with no contribution pools all its variance and gets none of the pool back
    base = rs.load_sample("pooled_budget_2").to_frame()
    extra = pd.DataFrame([{"org_id": "AAH", "name": "A health", "kind": "other",
                           "turnover": 2e9, "control_total": -3.3e8, "forecast": -3.31e8,
                           "support": 0, "contribution": 0}])
    system = rs.System.from_frame(pd.concat([base, extra], ignore_index=True))
    at = open_page("pooled_budget_2")
    at.selectbox(key="preset_choice").select("pooled_budget_reserve").run()
    at.session_state["rs_system"] = system
    at.session_state["rs_version"] = at.session_state["rs_version"] + 1
    at.run()
    assert not at.exception and not at.error, errors(at)
    text = page_text(at)
    assert "**Weakest incentive:** AAH keeps 0.0% of an extra £1 gain and bears 0.0% of an " \
           "extra £1 loss." in text
    cells = shown_cells(at)
    assert "0.0%" in cells
    assert not NEGATIVE_ZERO.search(text + "\n".join(cells))


def test_a_long_list_of_members_worse_off_is_cut_short():
    big = rs.samples.synthetic(60, 1)
    worse = rs.apply(DEFAULT, big).worse_off
    assert len(worse) > 12
    at = open_page()
    at.session_state["rs_system"] = big
    at.session_state["rs_version"] = at.session_state["rs_version"] + 1
    at.run()
    assert not at.exception, at.exception
    sentence = next(m.value for m in at.markdown
                    if m.value.startswith("**Worse off than on their own ("))
    assert sentence.startswith(f"**Worse off than on their own ({len(worse)} of 60, shaded):** "
                               + ", ".join(worse[:12]) + f" and {len(worse) - 12} more.")
    warning = next(w.value for w in at.warning if "worse off than on their own:" in w.value)
    assert f" and {len(worse) - 12} more." in warning
    assert worse[12] not in warning and worse[12] not in sentence


def test_an_upload_reports_every_problem_at_once():
    at = open_page()
    upload(at, NONSENSE, "nonsense.toml")
    assert not at.exception, at.exception
    message = errors(at)
    assert "nonsense.toml was not loaded" in message
    # the file's own problems and those against the system (Northshire), in one pass
    for key in ("colour", "gains.bands[1].pool", "gains.max_pool", "pool.distribute",
                "support.test", "exempt", "scale"):
        assert f"key '{key}'" in message, key
    assert "'banana' is not a numeric column of the system" in message
    assert "names 'NOPE', which is not a member of the system" in message
