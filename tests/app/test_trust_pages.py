"""The app handed to strangers (issue 13): user text shown as text on every page, shares never
clamped, files named inside uploads never opened, downloads neutralised, long runs announced and
asked for, and a sample of the shared bad-file tables."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import riskshare as rs
from tests.app.conftest import rendered
from tests.app.helpers import apply_settings, errors
from tests.bad_files import BAD_SESSIONS, SESSION, representative

REPO = Path(__file__).resolve().parents[2]
APP = str(REPO / "app.py")
PAGES = {"reconcile": "riskshare/ui/pages/reconcile.py",
         "agreement": "riskshare/ui/pages/agreement.py",
         "scenarios": "riskshare/ui/pages/scenarios.py",
         "compare": "riskshare/ui/pages/compare.py",
         "optimise": "riskshare/ui/pages/optimise.py",
         "fairness": "riskshare/ui/pages/fairness.py",
         "workshop": "riskshare/ui/pages/workshop.py"}

# Names that would format, link, load an image, run maths or colour text if taken as Markdown
HOSTILE = {"A": "**Bold** [link](http://evil.example)", "B": "![x](http://evil.example/a.png)",
           "C": ":red[alarm] $x^2$ :smile:", "D": "<b>html</b> `code` _it_"}
HOSTILE_IDS = {"A": "[a]", "B": "*b*", "C": "c_1", "D": "D"}


def hostile_system() -> rs.System:
    frame = rs.load_sample("workshop_4").to_frame()
    frame["name"] = frame["org_id"].map(HOSTILE)
    frame["org_id"] = frame["org_id"].map(HOSTILE_IDS)
    return rs.System.from_frame(frame, -5_000_000, "**Shire** [x](http://e)", "2019/20")


def start_with(system: rs.System, agreement: str = "full_pooling_turnover") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.session_state["rs_system"] = system
    at.session_state["rs_source"] = "upload: **x**.csv"
    at.session_state["rs_version"] = at.session_state["rs_version"] + 1
    at.session_state["rs_agreement"] = rs.load_agreement(agreement)
    at.session_state["rs_agreement_source"] = f"preset: {agreement}"
    at.session_state["rs_agreement_version"] = at.session_state["rs_agreement_version"] + 1
    at.session_state["rs_preset"] = agreement
    return at.run()


def markdown_sources(at: AppTest) -> list[str]:
    """The Markdown source of every element that renders Markdown."""
    out = [e.proto.body for kind in ("markdown", "caption", "error", "warning", "info",
                                     "success", "header", "subheader", "title")
           for e in getattr(at, kind)]
    out += [m.proto.label for m in at.metric]
    return out


def assert_text_shown_as_text(at: AppTest) -> None:
    """No Markdown surface holds a user's text unescaped; where shown, it reads as written."""
    sources = markdown_sources(at)
    for source in sources:
        for text in [*HOSTILE.values(), "**Shire**", "[x](http://e)", "[a]", "*b*"]:
            assert text not in source, (text, source)
        assert "http://evil" not in re.sub(r"\\(.)", "", source) or "\\" in source
    # as read: the escapes resolved and the invisible word joiner that keeps an address from
    # becoming a link (riskshare.ui.text.md) unseen
    shown = "\n".join(rendered(s) for s in sources).replace("\u2060", "")
    return shown


def test_names_are_text_on_every_page():
    at = start_with(hostile_system())
    assert not at.exception, at.exception
    shown = assert_text_shown_as_text(at)
    assert "**Shire** [x](http://e) 2019/20" in shown         # the System page's heading
    for page in PAGES.values():
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        assert_text_shown_as_text(at)
    # the Agreement page explains a member by name, literally
    at.switch_page(PAGES["agreement"]).run()
    shown = assert_text_shown_as_text(at)
    assert "**Bold** [link](http://evil.example) ([a]) under" in shown


def test_names_are_text_in_results_and_the_workshop():
    at = start_with(hostile_system())
    at.switch_page(PAGES["scenarios"]).run()
    apply_settings(at, n=1_000)      # the sidebar's scenario settings
    at.button(key="scn_run").click().run()
    assert not at.exception
    assert_text_shown_as_text(at)
    at.switch_page(PAGES["optimise"]).run()
    at.button(key="opt_run").click().run()
    assert not at.exception
    assert_text_shown_as_text(at)
    at.switch_page(PAGES["workshop"]).run()
    at.button(key="ws_draft").click().run()
    assert not at.exception
    steps = len(at.session_state["ws_session"].steps)
    for _ in range(steps - 1):
        assert_text_shown_as_text(at)
        at.button(key="ws_next").click().run()
        assert not at.exception
    assert_text_shown_as_text(at)


@pytest.mark.parametrize("case", representative(BAD_SESSIONS), ids=lambda c: c.id)
def test_bad_session_uploads_give_their_message(case):
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.switch_page(PAGES["workshop"]).run()
    before = at.session_state["ws_session"]
    key = f"ws_upload_{at.session_state['ws_version']}"
    at.file_uploader(key=key).upload("upload.toml", case.text.encode(),
                                     "application/toml").run()
    assert not at.exception
    message = " ".join(errors(at).split())
    assert "upload.toml was not loaded" in message
    missing = [f for f in case.expected if " ".join(f.split()) not in message]
    assert not missing, f"{missing} not in:\n{message}"
    assert at.session_state["ws_session"] is before


def test_an_uploaded_session_naming_a_server_file_is_refused_without_opening_it(tmp_path):
    secret = tmp_path / "secret.toml"
    secret.write_text('name = "SERVER-SECRET-91"\n[[effects]]\ntarget = "all"\namount = -1\n')
    text = SESSION.replace('shocks = ["winter_pressure"]', f'shocks = ["{secret}"]')
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.switch_page(PAGES["workshop"]).run()
    key = f"ws_upload_{at.session_state['ws_version']}"
    at.file_uploader(key=key).upload("upload.toml", text.encode(), "application/toml").run()
    message = errors(at)
    assert "is neither a [shocks] table of this session nor a bundled shock" in message
    assert "SERVER-SECRET-91" not in message


def test_a_share_typed_as_a_percentage_is_refused_not_clamped():
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.switch_page(PAGES["agreement"]).run()
    before = at.session_state["rs_agreement"]
    at.session_state["losses_bands_0_0"] = {"edited_rows": {1: {"pool": 50.0}},
                                            "added_rows": [], "deleted_rows": []}
    at.run()
    message = errors(at)
    assert "key 'losses.bands[2].pool': 50 is a share and must lie in [0, 1]" in message
    assert "for 50% write 0.5" in message
    assert at.session_state["rs_agreement"] == before          # not 1.00, not applied


def test_csv_downloads_neutralise_formula_like_text(downloads):
    frame = rs.load_sample("workshop_4").to_frame()
    frame["name"] = ["=HYPERLINK(\"http://x\")", "+1+1", "-2 ward", "@SUM(A1)"]
    at = start_with(rs.System.from_frame(frame, -5_000_000, "W", "2019/20"))
    assert not at.exception
    today = dt.date.today()
    text = downloads[f"riskshare-w-2019-20-organisations-{today}.csv"]
    text = text.decode() if isinstance(text, bytes) else text
    lines = text.splitlines()
    assert lines[1].startswith("A,\"'=HYPERLINK(\"\"http://x\"\")\",acute,500000000,-10000000,")
    assert lines[2].startswith("B,'+1+1,") and lines[3].startswith("C,'-2 ward,")
    assert lines[4].startswith("D,'@SUM(A1),")
    at.switch_page(PAGES["fairness"]).run()
    fair = downloads[f"riskshare-w-2019-20-fairness-members-{today}.csv"]
    fair = fair.decode() if isinstance(fair, bytes) else fair
    assert "'=HYPERLINK" in fair and ",=HYPERLINK" not in fair


def test_the_grids_own_export_is_off():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["client"]["disableDataExport"] is True


def test_a_long_fairness_run_shows_its_estimate_and_asks():
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.switch_page(PAGES["fairness"]).run()
    at.radio(key="fair_mode").set_value("scenarios").run()
    apply_settings(at, n=100_000)    # the sidebar's scenario settings
    assert not at.exception
    warning = " ".join(w.value for w in at.warning)
    assert "This run would take about" in warning and "longer than the 60 seconds" in warning
    assert at.button(key="fair_run").disabled
    at.checkbox(key="fair_long").check().run()
    assert not at.button(key="fair_run").disabled
    apply_settings(at, n=1_000)
    assert not at.button(key="fair_run").disabled and not at.warning


def test_how_an_upload_was_read_is_shown_and_stays_until_another_load():
    """A figure given to a fraction of a penny is rounded at load; the System page says so, and
    keeps saying so for the system as loaded (the members grid shows only the rounded figure)."""
    from tests.bad_inputs import GOOD_CSV

    at = AppTest.from_file(APP, default_timeout=90).run()
    text = GOOD_CSV.replace("-16000000,10000000", "-16000000.004,10000000")
    at.file_uploader(key="upload_0").upload("org.csv", text.encode(), "text/csv").run()
    assert not at.exception
    assert "Loaded org.csv: 4 members — 1 note below on how figures were read." in \
        at.success[0].value
    note = ("On loading (upload: org.csv): 1 money figure was given to a fraction of a penny "
            "and rounded to the nearest penny: row 2 (A), column 'forecast': -16000000.004 → "
            "-16,000,000.00")
    assert [w.value for w in at.warning] == [note]
    assert at.session_state["rs_system"].orgs.loc["A", "forecast"] == -16_000_000.00
    at.switch_page(PAGES["reconcile"]).run()
    assert note not in [w.value for w in at.warning]        # shown where the system is
    at.switch_page("riskshare/ui/pages/system.py").run()
    assert [w.value for w in at.warning] == [note]           # still true of the loaded system
    at.selectbox(key="sample_choice").set_value("workshop_4").run()
    at.button(key="load_sample").click().run()
    # the upload is the user's own work: loading over it asks first (issue 15)
    assert "replaces the system you are working on" in " ".join(w.value for w in at.warning)
    at.button(key="confirm_load_system").click().run()
    assert not at.warning                                      # another system: no old notes
