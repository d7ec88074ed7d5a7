"""Workshop page (AppTest), years steps: the bundled vale_years session's years steps render
with the library's figures, sentences, bridge chart and the system's bridge table, in preparation
and in presentation mode; the savings slider gives the library's what-if."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from streamlit.testing.v1 import AppTest

from riskshare import workshop
from riskshare.workshop.session import WhatIf, load_session
from tests.app.helpers import errors, figures, open_session, run, shown

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "riskshare/ui/pages/workshop.py"
BUNDLED = "vale_years"
SESSION = load_session(BUNDLED)
YEARS, SHARED = 2, 3      # the plan alone; under B with its carry


@cache
def expected(number: int, what_if: WhatIf | None = None) -> workshop.StepView:
    return workshop.view(SESSION, number, what_if if what_if is not None else WhatIf())


def open_years_session(step: int = YEARS) -> AppTest:
    return open_session(BUNDLED, step)


def check_years_step(at: AppTest, view: workshop.StepView) -> None:
    """The page shows the years step `view`: heading, figures, sentences, the bridge chart and
    the system's bridge table, and no error."""
    assert not at.exception, at.exception
    assert not at.error, errors(at)
    assert [h.value for h in at.header] == [view.title]
    assert shown(at) == figures(view)
    body = "\n".join(m.value for m in at.markdown).replace("\\", "").replace("\u2060", "")
    for sentence in view.sentences:
        assert sentence in body
    assert "**The system's bridge, year by year**" in [m.value for m in at.markdown]
    assert len(at.get("vega_lite_chart")) == 1
    tables = list(at.dataframe)
    assert len(tables) == 2            # the bridge, then the members
    bridge = tables[0].value
    want = view.results["projection"].bridge_table()
    assert bridge["step"].tolist() == want["step"].tolist()
    assert list(bridge.columns) == list(want.columns)


def test_the_years_step_renders_with_the_library_figures_chart_and_bridge():
    at = open_years_session()
    assert at.session_state["ws_session"].equals(SESSION)
    check_years_step(at, expected(YEARS))
    spec = at.get("vega_lite_chart")[0].proto.spec
    assert "from the underlying position to each year" in spec


def test_the_savings_slider_gives_the_library_what_if():
    at = open_years_session()
    version = at.session_state["ws_version"]
    slider = at.slider(key=f"ws_knob_{version}_{YEARS}_savings")
    assert slider.value == 2.0                 # the rules' [all] savings, % of cost
    assert slider.label == "Recurrent savings a year (% of cost)"
    slider.set_value(2.75)
    run(at)
    check_years_step(at, expected(YEARS, WhatIf.of(savings=2.75)))
    assert any(c.value.replace("\\", "") == "What if: recurrent savings a year (% of cost) "
               "2.75% (prepared: 2%)." for c in at.caption)


def test_the_shared_years_step_shows_who_would_be_better_off_outside():
    at = open_years_session(SHARED)
    view = expected(SHARED)
    check_years_step(at, view)
    labels = [m.label for m in at.metric]
    assert "B: members better off outside over the horizon" in labels
    # the agreement's knobs are offered beside the savings
    version = at.session_state["ws_version"]
    assert at.slider(key=f"ws_knob_{version}_{SHARED}_B_pool_share").value == 50.0


def test_the_years_step_in_presentation_mode():
    at = open_years_session()
    at.toggle(key="ws_present").set_value(True)
    run(at)
    assert not at.title
    check_years_step(at, expected(YEARS))
    spec = at.get("vega_lite_chart")[0].proto.spec
    assert "from the underlying position to each year" in spec
