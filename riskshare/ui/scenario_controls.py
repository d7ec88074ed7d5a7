"""Scenario settings shared by the Scenarios and Compare pages: the widgets, the shocks that fit
the current system, and results kept in session state keyed on everything they depend on.

A run's results are stored with the settings, the system and the agreement(s) that made them, so
moving a widget never recomputes by itself and a stale result is never shown as current.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from riskshare.core.errors import InputFileError, ValidationError
from riskshare.core.seed import SEED_MAX
from riskshare.core.system import System
from riskshare.scenarios.shocks import list_shocks, load_shock, shock_vector
from riskshare.scenarios.simulate import ScenarioSettings
from riskshare.ui.tables import show_validation_error
from riskshare.ui.text import md

N_OPTIONS = (1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000)
DEFAULT_N = 10_000


def shock_title(name: str) -> str:
    """The title of the shock preset `name` (its own `name`), or `name` when it cannot load."""
    try:
        return load_shock(name).name
    except (InputFileError, ValidationError):
        return name


def fitting_shocks(chosen: list[str], system: System) -> tuple[str, ...]:
    """The chosen shocks that fit `system`; each one that does not is reported (not applied)."""
    fit = []
    for name in chosen:
        try:
            shock_vector(load_shock(name), system)
        except ValidationError as exc:
            show_validation_error(exc, f"The shock “{shock_title(name)}” does not fit "
                                       f"{system.label} and is not applied:")
        except InputFileError as exc:
            st.error(f"The shock “{md(name)}” is not applied: {md(exc)}", icon=":material/error:")
        else:
            fit.append(name)
    return tuple(fit)


def scenario_controls(prefix: str, system: System) -> ScenarioSettings:
    """The scenario widgets (keys start with `prefix`); returns the settings to run with."""
    with st.container(border=True):
        st.markdown("**Scenarios** — random variances around each member's forecast, plus any "
                    "shocks")
        chosen = st.multiselect(
            "Shocks added to every scenario", list_shocks(), default=[],
            format_func=shock_title, key=f"{prefix}_shocks",
            help="Named shocks (sample_data/shocks/) that move members' variances by a fixed "
                 "amount in every scenario.")
        c1, c2, c3, c4 = st.columns(4, gap="medium")
        n = c1.select_slider("Number of scenarios", N_OPTIONS, value=DEFAULT_N,
                             format_func=lambda v: f"{v:,}", key=f"{prefix}_n")
        seed = c1.number_input("Seed", min_value=0, max_value=SEED_MAX, value=0, step=1,
                               key=f"{prefix}_seed",
                               help="The same seed gives the same scenarios (a whole number "
                                    f"from 0 to {SEED_MAX:,}).")
        correlation = c2.slider("Correlation between members", 0.0, 0.9, 0.3, 0.05,
                                key=f"{prefix}_correlation")
        kind_correlation = c2.slider(
            "Extra correlation within a kind", 0.0, 0.9, 0.0, 0.05,
            key=f"{prefix}_kind_correlation",
            help="Added for members of the same kind (e.g. two acute trusts). Correlation + "
                 "this must be at most 1.")
        distribution = c3.radio("Distribution", ["normal", "t"], horizontal=True,
                                format_func={"normal": "normal",
                                             "t": "Student t (fat tails)"}.get,
                                key=f"{prefix}_distribution")
        df = c3.number_input("Degrees of freedom (t)", min_value=2.5, max_value=100.0,
                             value=5.0, step=0.5, key=f"{prefix}_df",
                             disabled=distribution != "t",
                             help="Smaller = fatter, jointly occurring tails.")
        volatility_scale = c4.slider("Volatility scale", 0.5, 2.0, 1.0, 0.1,
                                     format="%.1f×", key=f"{prefix}_volatility_scale",
                                     help="Multiplies every member's volatility (% of turnover).")
        shocks = fitting_shocks(chosen, system)
    return ScenarioSettings(shocks, int(n), float(correlation), float(kind_correlation),
                            str(distribution), float(df), float(volatility_scale), int(seed))


def chunk_for(n: int) -> int:
    """Scenario chunk size giving the progress bar about ten steps."""
    return max(500, int(np.ceil(n / 10)))


# -- results kept in session state --------------------------------------------------------------
def stored(key: str, inputs: tuple):
    """The result stored under `key` if it was made from exactly `inputs`, else None."""
    entry = st.session_state.get(key)
    if entry is None:
        return None
    made_from, result = entry
    if len(made_from) != len(inputs):
        return None
    for a, b in zip(made_from, inputs, strict=True):
        if isinstance(a, System):
            if not (a is b or (isinstance(b, System) and a.equals(b))):
                return None
        elif a != b:
            return None
    return result


def store(key: str, inputs: tuple, result) -> None:
    """Keep `result` under `key` with the `inputs` that made it (read back by `stored`)."""
    st.session_state[key] = (inputs, result)


def result_or_stop(key: str, inputs: tuple, first: str, again: str,
                   icon: str = ":material/play_arrow:"):
    """The result stored under `key` for exactly `inputs`; when there is none, say what to do —
    `first` before any run, `again` when the settings, system or agreement changed since — and
    stop the page there."""
    result = stored(key, inputs)
    if result is None:
        st.info(first if key not in st.session_state else again, icon=icon)
        st.stop()
    return result
