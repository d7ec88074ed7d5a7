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
