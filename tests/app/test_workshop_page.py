"""Workshop page (AppTest): the bundled session walked step by step with the library's figures,
Back, Next and Reset, live what-if sliders, save and reopen (to the same step, sliders and
figures), bad session files refused with the current session kept, presentation mode."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from streamlit.proto.Metric_pb2 import Metric as MetricProto
from streamlit.testing.v1 import AppTest

import riskshare as rs
from riskshare import workshop
from riskshare.core.errors import ValidationError, problem
from riskshare.workshop.session import WhatIf, load_session, read_session_text
from tests.app.helpers import errors

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "riskshare/ui/pages/workshop.py"
BUNDLED = "northshire_workshop"
SESSION = load_session(BUNDLED)
N = len(SESSION.steps)
GREEN, RED, GRAY = (MetricProto.MetricColor.Value(c) for c in ("GREEN", "RED", "GRAY"))


@cache
def expected(number: int, what_if: WhatIf | None = None) -> workshop.StepView:
    return workshop.view(SESSION, number, what_if if what_if is not None else WhatIf())


# -- helpers --------------------------------------------------------------------------------------
def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(PAGE)
    return run(at)


def heading(at: AppTest) -> str:
    headers = [h.value for h in at.header]
    assert len(headers) == 1, headers
    return headers[0]


def shown_figures(at: AppTest) -> list[tuple[str, str, str]]:
    return [(m.label, m.value, m.delta) for m in at.metric]


def figures(view: workshop.StepView) -> list[tuple[str, str, str]]:
    """The view's figures as the page shows them (labels start with a capital)."""
    return [(f.label[:1].upper() + f.label[1:], f.text, f.delta) for f in view.figures]


def check_step(at: AppTest, view: workshop.StepView) -> None:
    """The page shows `view`: its heading, every figure (label, value, delta, colour), its
    sentences and its what-if changes, and no error."""
    assert not at.exception, at.exception
    assert not at.error, errors(at)
    assert heading(at) == view.title
    assert shown_figures(at) == figures(view)
    for m, f in zip(at.metric, view.figures, strict=True):
        if f.delta:
            assert m.proto.color == (GRAY if f.good is None else GREEN if f.good else RED), f
    body = "\n".join(m.value for m in at.markdown).replace("\\", "").replace("\u2060", "")
    for sentence in view.sentences:
        assert sentence in body
    assert f"Step {view.number} of {N}" in body
    captions = [c.value.replace("\\", "") for c in at.caption]
    what_if = [c for c in captions if c.startswith("What if: ")]
    if view.changes:
        assert what_if == ["What if: " + "; ".join(view.changes) + "."]
    else:
        assert not what_if
    assert len(at.get("vega_lite_chart")) == 1


def slider(at: AppTest, number: int, key: str, label: str | None = None):
    version = at.session_state["ws_version"]
    return at.slider(key=f"ws_knob_{version}_{number}_{label + '_' if label else ''}{key}")


def go_to(at: AppTest, number: int) -> AppTest:
    while at.session_state["ws_step"] < number:
        at.button(key="ws_next").click()
        run(at)
    return at


def upload(at: AppTest, text: str, name: str = "session.toml") -> AppTest:
    key = f"ws_upload_{at.session_state['ws_version']}"
    at.file_uploader(key=key).upload(name, text.encode(), "application/toml")
    return run(at)


def saved(downloads: dict) -> str:
    names = [n for n in downloads if n.endswith(".toml")]
    assert names, list(downloads)
    text = downloads[names[-1]]
    return text.decode() if isinstance(text, bytes) else text


# -- opening and stepping -------------------------------------------------------------------------
def test_the_page_opens_on_the_bundled_session_at_its_own_step():
    at = open_page()
    assert at.title[0].value == "Workshop"
    assert at.session_state["ws_session"].equals(SESSION)
    check_step(at, expected(SESSION.step))
    text = "\n".join(m.value for m in at.markdown).replace("\\", "")
    assert SESSION.title in text and SESSION.system.label in text
    for label, a in SESSION.agreements:
        assert f"**{label}** — {a.name}" in text
    assert "1,000 simulated years, seed 2018" in text
    assert [i.value for i in at.info] == [SESSION.steps[0].notes]
    assert at.button(key="ws_back").disabled and not at.button(key="ws_next").disabled
    assert [b.proto.label for b in at.get("download_button")][:1] == ["Save session"]
    # a step without knobs says so (the sidebar holds the scenario settings' sliders)
    assert not at.main.slider
    assert any("Nothing to change at this step" in c.value for c in at.caption)


def test_next_walks_every_step_with_the_library_figures_then_back_and_reset():
    at = open_page()
    for k in range(1, N + 1):
        check_step(at, expected(k))
        steps = [c.value for c in at.caption if " · " in c.value and "1 " in c.value][0]
        for j, s in enumerate(SESSION.steps, start=1):   # later steps are not revealed yet
            assert (s.title.replace(":", "") in steps.replace("\\", "").replace(":", "")) \
                == (j <= k), (j, steps)
        assert at.button(key="ws_next").disabled == (k == N)
        assert at.button(key="ws_back").disabled == (k == 1)
        if k < N:
            at.button(key="ws_next").click()
            run(at)
    at.button(key="ws_back").click()
    check_step(run(at), expected(N - 1))
    at.button(key="ws_back").click()
    check_step(run(at), expected(N - 2))
    at.button(key="ws_reset").click()
    check_step(run(at), expected(1))
    assert at.session_state["ws_revealed"] == 1


# -- what if --------------------------------------------------------------------------------------
def test_the_shock_size_slider_changes_the_figures_to_the_library_view():
    at = go_to(open_page(), 2)
    assert [s.label for s in at.main.slider] == ["Size of the shock"]
    slider(at, 2, "shock_scale").set_value(2.0)
    check_step(run(at), expected(2, WhatIf.of(None, shock_scale=2.0)))
    assert shown_figures(at) != figures(expected(2))
    at.button(key="ws_prepared").click()
    check_step(run(at), expected(2))
    assert slider(at, 2, "shock_scale").value == 1.0


def test_the_pool_share_for_b_changes_the_compare_step():
    at = go_to(open_page(), 3)
    assert at.selectbox(key=f"ws_target_{at.session_state['ws_version']}_3").value == "B"
    share = slider(at, 3, "pool_share", "B")
    assert share.value == 50.0                     # shown as a percentage
    share.set_value(75.0)
    check_step(run(at), expected(3, WhatIf.of("B", pool_share=0.75)))
    # moving on drops the what-if; coming back shows the prepared figures
    at.button(key="ws_next").click()
    check_step(run(at), expected(4))
    at.button(key="ws_back").click()
    check_step(run(at), expected(3))


def test_the_agreement_knobs_can_change_the_other_agreement():
    at = go_to(open_page(), 3)
    at.selectbox(key=f"ws_target_{at.session_state['ws_version']}_3").select("A")
    run(at)
    labels = [s.label for s in at.main.slider]
    assert "A: Support taper (0 = cliff edge)" in labels
    assert not any(label.startswith("B:") for label in labels)
    slider(at, 3, "taper", "A").set_value(2.0)
    check_step(run(at), expected(3, WhatIf.of("A", taper=2.0)))


def test_a_what_if_the_library_rejects_shows_one_message_and_the_prepared_figures(monkeypatch):
    real = workshop.view

    def picky(session, number=None, what_if=None):
        if what_if:
            raise ValidationError([problem("bands must rise", key="losses.bands[1].upto")],
                                  "the agreement")
        return real(session, number, what_if)

    monkeypatch.setattr(workshop, "view", picky)
    at = go_to(open_page(), 2)
    slider(at, 2, "shock_scale").set_value(1.5)
    run(at)
    assert len(at.error) == 1
    assert "That what-if cannot be applied" in at.error[0].value
    assert "losses.bands[1].upto" in at.error[0].value
    assert shown_figures(at) == figures(expected(2))


def test_no_deadband_is_a_what_if_the_step_can_show():
    at = go_to(open_page(), 3)
    slider(at, 3, "deadband", "B").set_value(0.0)
    run(at)
    assert not at.error, errors(at)
    assert any(c.value.startswith("What if: ") for c in at.caption)


# -- saving and opening ---------------------------------------------------------------------------
def test_saving_writes_the_step_and_what_if_and_reopening_restores_them(downloads):
    at = go_to(open_page(), 3)
    slider(at, 3, "pool_share", "B").set_value(75.0)
    run(at)
    what_if = WhatIf.of("B", pool_share=0.75)
    shown = shown_figures(at)
    text = saved(downloads)
    # the file is named from the title, cut at the end of a word: "…of a hard", not "…hard_winte"
    assert "northshire_and_vale_2018_19_sharing_the_risk_of_a_hard.toml" in downloads
    reread = read_session_text(text)
    assert reread.equals(SESSION.at_step(3, what_if))
    assert figures(workshop.view(reread)) == shown

    # a fresh app, showing step 1, opens the file at step 3 with the same sliders and figures
    other = open_page()
    upload(other, text, "saved.toml")
    assert not other.error, errors(other)
    assert other.session_state["ws_step"] == 3
    assert other.session_state["ws_session"].equals(reread)
    check_step(other, expected(3, what_if))
    assert slider(other, 3, "pool_share", "B").value == 75.0
    assert slider(other, 3, "shock_scale").value == 1.0
    # its system is now the app's current system, with a message saying so
    assert other.session_state["rs_system"].equals(reread.system)
    assert any("saved.toml" in c.value for c in other.markdown)
    # saving again, untouched, writes the same session
    assert read_session_text(saved(downloads)).equals(reread)


@pytest.mark.parametrize("scale", [0.5, 5.0], ids=["half", "beyond_the_slider"])
def test_a_session_saved_with_a_shock_what_if_reopens_there(scale):
    session = SESSION.at_step(2, WhatIf.of(None, shock_scale=scale))
    at = upload(open_page(), session.to_toml(), "shock.toml")
    assert not at.error, errors(at)
    assert at.session_state["ws_step"] == 2
    check_step(at, expected(2, WhatIf.of(None, shock_scale=scale)))
    assert slider(at, 2, "shock_scale").value == scale
    assert slider(at, 2, "shock_scale").max >= scale
    at.button(key="ws_reset").click()
    check_step(run(at), expected(1))


def test_the_bundled_session_loads_again_at_its_own_step():
    at = go_to(open_page(), 3)
    at.session_state["rs_system"] = rs.load_sample("workshop_4")   # another system meanwhile
    at.selectbox(key="ws_choice").select(BUNDLED)
    at.button(key="ws_load").click()
    run(at)
    check_step(at, expected(SESSION.step))
    assert at.session_state["rs_system"].equals(SESSION.system)
    assert any("Opened the session" in s.value for s in at.success)


BAD_STEP = SESSION.to_toml().replace('agreements = [\n    "A",\n    "B",\n]',
                                     'agreements = [\n    "A",\n    "Z",\n]', 1)


@pytest.mark.parametrize("text,fragments", [
    (BAD_STEP, ["steps[3].agreements", "Z"]),
    (SESSION.to_toml() + '\n[what_if]\nagreement = "B"\nfoo = 1.0\n', ["what_if.foo"]),
    (SESSION.to_toml().replace("step = 1", "step = 9", 1), ["step"]),
    ("title = 'broken\n", ["not valid TOML"]),
], ids=["unknown_agreement", "unknown_knob", "step_out_of_range", "not_toml"])
def test_a_bad_session_file_gives_one_error_and_keeps_the_current_session(text, fragments):
    assert text != SESSION.to_toml()
    at = go_to(open_page(), 2)
    before = at.session_state["ws_session"]
    system = at.session_state["rs_system"]
    upload(at, text, "bad.toml")
    assert len(at.error) == 1, errors(at)
    message = at.error[0].value
    assert "bad.toml was not loaded" in message
    for fragment in fragments:
        assert fragment in message
    assert at.session_state["ws_session"] is before
    assert at.session_state["rs_system"] is system
    assert at.session_state["ws_step"] == 2
    assert heading(at) == expected(2).title
    assert shown_figures(at) == figures(expected(2))


# -- presentation mode ----------------------------------------------------------------------------
def test_presentation_mode_hides_the_preparation_and_keeps_the_steps():
    at = open_page()
    at.toggle(key="ws_present").set_value(True)
    run(at)
    assert not at.title                                   # no page title or intro
    assert not [s for s in at.subheader if s.value == "Session"]
    assert not at.get("file_uploader") and not at.get("download_button")
    assert not at.info                                    # notes tucked away ...
    assert [e.label for e in at.expander][0] == "Facilitator's notes"
    css = "\n".join(h.proto.body for h in at.get("html"))
    assert "stSidebar" in css and "stMetricValue" in css
    check_step(at, expected(1))
    go_to(at, 3)
    check_step(at, expected(3))
    slider(at, 3, "pool_share", "B").set_value(75.0)
    check_step(run(at), expected(3, WhatIf.of("B", pool_share=0.75)))
    at.toggle(key="ws_present").set_value(False)
    run(at)
    assert at.title[0].value == "Workshop" and at.get("download_button")
    check_step(at, expected(3, WhatIf.of("B", pool_share=0.75)))


def test_a_session_can_be_drafted_from_the_current_system_and_agreement():
    at = open_page()
    at.button(key="ws_draft").click()
    run(at)
    assert not at.exception and not at.error, errors(at)
    session = at.session_state["ws_session"]
    assert session.system.equals(at.session_state["rs_system"])
    assert [a.name for _, a in session.agreements] == [
        rs.load_agreement("standalone").name, at.session_state["rs_agreement"].name]
    # the sample's risk register, held by the app, brings a risks step under the proposal (B)
    assert session.register is not None and session.register.table.equals(
        rs.load_sample_register("northshire_2018_19").table)
    assert [s.kind for s in session.steps] == ["baseline", "risks", "compare", "walk_away",
                                               "fairer"]
    assert session.steps[1].agreements == ("B",)
    assert any("Drafted" in s.value for s in at.success)
    assert shown_figures(at) == figures(workshop.view(session, 1))


# -- which system, the clicker, the presenter view ----------------------------------------------
def test_the_page_says_in_words_which_system_it_uses_against_the_sidebars():
    at = open_page()
    text = "\n".join(m.value for m in at.markdown).replace("\\", "")
    # the bundled session's system is the default sample, the app's current system at first
    assert ("This page uses the session's system, **Northshire and Vale 2018/19** (9 members): "
            "the current system, as in the sidebar.") in text
    at.session_state["rs_system"] = rs.load_sample("workshop_4")   # another system meanwhile
    run(at)
    text = "\n".join(m.value for m in at.markdown).replace("\\", "")
    assert ("This page uses the session's own system, **Northshire and Vale 2018/19** (9 "
            "members), not the current system in the sidebar, **Workshop system 2019/20** (4 "
            "members), which the other pages use.") in text
    check_step(at, expected(1))                     # still the session's figures


def clicker_scripts(at: AppTest) -> list[str]:
    return [h.proto.body for h in at.get("html") if "<script>" in h.proto.body]


def test_presentation_mode_puts_the_clicker_on_the_page_and_preparation_mode_does_not():
    at = open_page()
    assert not clicker_scripts(at)
    assert at.button(key="ws_open_room").proto.label == "Set up a presenter view"
    at.toggle(key="ws_present").set_value(True)
    run(at)
    scripts = clicker_scripts(at)
    (script,) = [s for s in scripts if "onKey" in s]       # the clicker
    assert any("scrollTo" in s for s in scripts)             # and a new step opens at its top
    for part in ('"next": ["PageDown", "ArrowRight", "ArrowDown"]',
                 '"back": ["PageUp", "ArrowLeft", "ArrowUp"]', '"nextKey": "ws_next"',
                 '"backKey": "ws_back"', '"marker": "ws_clicker"', '"guard": "ws_whatif"',
                 'addEventListener("keydown", onKey, true)'):
        assert part in script, part
    assert at.session_state["ws_room"]
    at.toggle(key="ws_present").set_value(False)
    run(at)
    assert not clicker_scripts(at)
    # the room stays: the presenter view's link is still on the page
    assert [b.proto.url for b in at.get("link_button")] == \
        [f"presenter?room={at.session_state['ws_room']}"]


def test_two_presses_before_the_page_reruns_move_two_steps():
    # a clicker pressed twice quickly: both presses count (each moves on from the step then on
    # screen, not from the step the button was drawn on)
    at = open_page()
    at.button(key="ws_next").click()
    at.session_state["ws_step"] = 2                 # the first press, already applied
    run(at)
    check_step(at, expected(3))
