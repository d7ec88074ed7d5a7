"""Small readers of an AppTest's state shared by the app tests."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest


def errors(at: AppTest) -> str:
    """Every error element's text, one per line."""
    return "\n".join(e.value for e in at.error)


def metric(at: AppTest, label: str) -> str:
    """The value of the metric with this label."""
    return next(m.value for m in at.metric if m.label == label)


def apply_settings(at: AppTest, **values) -> AppTest:
    """Set fields of the sidebar's scenario settings form (n, seed, correlation, shocks, …, as in
    ScenarioSettings) and press its Apply button, as a user would: one rerun."""
    from riskshare.ui.scenario_controls import APPLY, KEYS

    for field, value in values.items():
        key = KEYS[field]
        if field == "shocks":
            at.multiselect(key=key).set_value(list(value))
        elif field == "n":
            at.select_slider(key=key).set_value(value)
        elif field in ("seed", "df"):
            at.number_input(key=key).set_value(value)
        elif field in ("distribution", "register"):
            at.radio(key=key).set_value(value)
        else:
            at.slider(key=key).set_value(value)
    at.button(key=APPLY).click().run()
    assert not at.exception, at.exception
    return at


def warnings(at: AppTest) -> str:
    """Every warning element's text, one per line."""
    return "\n".join(w.value for w in at.warning)


APP = str(Path(__file__).resolve().parents[2] / "app.py")


def open_on(page: str, sample: str | None = None) -> AppTest:
    """The app on `page` (a script path under riskshare/ui/pages), with `sample` loaded first
    through the System page; no exception on the way."""
    at = AppTest.from_file(APP, default_timeout=60).run()
    if sample:
        at.selectbox(key="sample_choice").select(sample).run()
        at.button(key="load_sample").click().run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


# -- workshop sessions -----------------------------------------------------------------------------
WORKSHOP_PAGE = "riskshare/ui/pages/workshop.py"


def run(at: AppTest) -> AppTest:
    """One rerun, with no exception."""
    at.run()
    assert not at.exception, at.exception
    return at


def open_session(bundled: str, step: int) -> AppTest:
    """The Workshop page with the bundled session `bundled` loaded, moved on to step `step`."""
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.switch_page(WORKSHOP_PAGE)
    run(at)
    at.selectbox(key="ws_choice").select(bundled)
    at.button(key="ws_load").click()
    run(at)
    while at.session_state["ws_step"] < step:
        at.button(key="ws_next").click()
        run(at)
    return at


def shown(at: AppTest) -> list[tuple[str, str, str]]:
    """The metrics on screen: (label, value, delta)."""
    return [(m.label, m.value, m.delta) for m in at.metric]


def figures(view) -> list[tuple[str, str, str]]:
    """A workshop StepView's figures as the page shows them: (label, text, delta)."""
    return [(f.label[:1].upper() + f.label[1:], f.text, f.delta) for f in view.figures]
