"""Workshop page (AppTest), risks steps: the bundled vale_risks session's register step renders
with the library's figures, its tornado chart and the ranking and reserve tables, in preparation
and in presentation mode; the item picker and probability slider give the library's what-if."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from streamlit.testing.v1 import AppTest

from riskshare import workshop
from riskshare.workshop.session import WhatIf, load_session
from tests.app.helpers import errors, figures, open_session, run, shown

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "riskshare/ui/pages/workshop.py"
BUNDLED = "vale_risks"
SESSION = load_session(BUNDLED)
RISKS = 2          # the session's first risks step


@cache
def expected(number: int, what_if: WhatIf | None = None) -> workshop.StepView:
    return workshop.view(SESSION, number, what_if if what_if is not None else WhatIf())


def open_risks_session() -> AppTest:
    return open_session(BUNDLED, RISKS)


def check_risks_step(at: AppTest, view: workshop.StepView) -> None:
    """The page shows the risks step `view`: heading, figures, sentences, the tornado chart and
    the ranking and reserve tables, and no error."""
    assert not at.exception, at.exception
    assert not at.error, errors(at)
    assert [h.value for h in at.header] == [view.title]
    assert shown(at) == figures(view)
    body = "\n".join(m.value for m in at.markdown).replace("\\", "").replace("\u2060", "")
    for sentence in view.sentences:
        assert sentence in body
    assert "**Which matters most**" in [m.value for m in at.markdown]
    assert "**The reserve the system would need**" in [m.value for m in at.markdown]
    assert len(at.get("vega_lite_chart")) == 1
    tables = list(at.dataframe)
    # the ranking (every event of the register), the reserve (three levels), the members
    assert len(tables) == 3
    ranking, reserve = (t.value for t in tables[:2])
    assert len(ranking) == len(view.results["ranking"])
    assert ranking["event"].tolist() == view.results["ranking"]["event"].tolist()
    assert len(reserve) == 3


def test_the_risks_step_renders_with_the_library_figures_chart_and_tables():
    at = open_risks_session()
    assert at.session_state["ws_session"].equals(SESSION)
    check_risks_step(at, expected(RISKS))
    spec = at.get("vega_lite_chart")[0].proto.spec
    assert "Which risk or mitigation matters most" in spec


def test_the_item_picker_and_probability_slider_give_the_library_what_if():
    at = open_risks_session()
    version = at.session_state["ws_version"]
    picker = at.selectbox(key=f"ws_item_{version}_{RISKS}")
    assert picker.value == "VGH: Vacancy slippage"          # the mitigation most in doubt
    items = workshop.item_labels(SESSION.register)
    slider = at.slider(key=f"ws_knob_{version}_{RISKS}_item"
                           f"{items.index('VGH: Vacancy slippage')}_probability")
    assert slider.value == 70.0                             # shown as a percentage
    assert slider.label.replace("\\", "") == "VGH: Vacancy slippage: probability"
    slider.set_value(95.0)
    run(at)
    what_if = WhatIf.of(item="VGH: Vacancy slippage", probability=0.95)
    check_risks_step(at, expected(RISKS, what_if))
    assert any(c.value.replace("\\", "") == "What if: VGH: Vacancy slippage probability "
               "70% → 95%." for c in at.caption)
    # another item: its own slider, at its prepared probability
    at.selectbox(key=f"ws_item_{version}_{RISKS}").select("ICB: Contingency reserve release")
    run(at)
    other = at.slider(key=f"ws_knob_{version}_{RISKS}_item"
                          f"{items.index('ICB: Contingency reserve release')}_probability")
    assert other.value == 100.0
    other.set_value(50.0)
    run(at)
    check_risks_step(at, expected(RISKS, WhatIf.of(item="ICB: Contingency reserve release",
                                                   probability=0.5)))


def test_the_risks_step_in_presentation_mode():
    at = open_risks_session()
    at.toggle(key="ws_present").set_value(True)
    run(at)
    assert not at.title
    check_risks_step(at, expected(RISKS))
    # the chart for the room: larger text, the same tornado
    spec = at.get("vega_lite_chart")[0].proto.spec
    assert "Which risk or mitigation matters most" in spec


def test_opening_a_session_brings_its_register_to_the_risks_page():
    # a session with its own register (vale_risks: the sample's bundled one) makes it
    # the app's register: the Risks page then shows the same figures as the session's step
    at = open_risks_session()
    assert at.session_state["rs_register"][0].fingerprint == SESSION.register.fingerprint
    assert at.session_state["rs_register"][1] == f"workshop session: {SESSION.title}"
    at.switch_page("riskshare/ui/pages/risks.py")
    run(at)
    assert not at.error, errors(at)
