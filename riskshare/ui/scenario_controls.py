"""One set of scenario settings for the whole app, and results kept in session state.

The settings (how many scenarios, seed, correlations, distribution, volatility scale, shocks,
and whether the risk register's events are drawn: `SOURCE_LABELS`)
are edited once, in the sidebar (`sidebar`, a form: changing several fields reruns once, when
Apply is pressed), and read by every page that simulates (`page_summary`), so Scenarios, Compare
and Fairness run on the same scenarios for the same settings. A shock that cannot fit the current
system is marked in the picker with the reason and is never applied.

A run's result is stored with what made it (the settings, the system, the agreement(s)); moving a
control never recomputes by itself. When the inputs have changed since, the last result stays on
the page under a warning naming what changed (`last_result`), so a stale result is never shown as
current and is never lost before the user runs again.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import streamlit as st

from riskshare.core.errors import InputFileError, ValidationError
from riskshare.core.register import Register
from riskshare.core.seed import SEED_MAX
from riskshare.core.system import System
from riskshare.scenarios.shocks import list_shocks, load_shock, shock_vector
from riskshare.scenarios.simulate import ScenarioSettings, check_settings
from riskshare.ui import state
from riskshare.ui.text import md

N_OPTIONS = (1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000)
DEFAULT_N = 10_000
DEFAULTS = ScenarioSettings(n=DEFAULT_N)

#: Widget keys of the sidebar form (one per ScenarioSettings field) and its Apply button.
KEYS = {"shocks": "sc_shocks", "n": "sc_n", "seed": "sc_seed", "correlation": "sc_correlation",
        "kind_correlation": "sc_kind_correlation", "distribution": "sc_distribution",
        "df": "sc_df", "volatility_scale": "sc_volatility_scale", "register": "sc_register",
        "event_correlation": "sc_event_correlation"}
APPLY = "sc_apply"
DISTRIBUTION_LABELS = {"normal": "normal", "t": "Student t (fat tails)"}
#: The scenario source: the members' volatility, plus or instead of the risk register's events.
SOURCE_LABELS = {"none": "volatility only", "add": "volatility + risk register",
                 "instead": "risk register only"}
WHERE = "change them under **Scenario settings** in the sidebar"


# -- shocks ------------------------------------------------------------------------------------
def shock_title(name: str) -> str:
    """The title of the shock preset `name` (its own `name`), or `name` when it cannot load."""
    try:
        return load_shock(name).name
    except (InputFileError, ValidationError):
        return name


def misfit_reason(name: str, system: System) -> str | None:
    """Why the shock preset `name` cannot be applied to `system` (its first problem, in words),
    or None when it fits."""
    try:
        shock_vector(load_shock(name), system)
    except ValidationError as exc:
        return exc.problems[0].rule if exc.problems else str(exc)
    except InputFileError as exc:
        return str(exc)
    return None


def misfits(names, system: System) -> dict[str, str]:
    """{shock name: why it does not fit `system`} for the named shocks that cannot be applied."""
    found = {}
    for name in names:
        reason = misfit_reason(name, system)
        if reason is not None:
            found[name] = reason
    return found


def fitting_shocks(chosen: list[str], system: System) -> tuple[str, ...]:
    """The chosen shocks that fit `system`, in the order chosen (the others are not applied)."""
    bad = misfits(chosen, system)
    return tuple(name for name in chosen if name not in bad)


# -- the settings ----------------------------------------------------------------------------------
def _from_widgets() -> ScenarioSettings:
    """The settings as the sidebar form last applied them (the defaults before any)."""
    state = st.session_state
    values: dict[str, Any] = {}
    for name, key in KEYS.items():
        if key in state:
            values[name] = state[key]
    settings = replace(DEFAULTS, **values)
    return ScenarioSettings(tuple(settings.shocks), int(settings.n), float(settings.correlation),
                            float(settings.kind_correlation), str(settings.distribution),
                            float(settings.df), float(settings.volatility_scale),
                            int(settings.seed), str(settings.register),
                            float(settings.event_correlation))


@dataclass(frozen=True)
class PageSettings(ScenarioSettings):
    """The settings as a page runs them, with the risk register they draw (`held`, when the
    source draws one): a result made before the register was edited reads as made from other
    settings (the register's fingerprint is compared, not the table)."""

    register_fingerprint: str = ""
    held: Register | None = field(default=None, compare=False, repr=False)

    def simulate(self, system: System, shocks=None, register=None):
        return super().simulate(system, shocks, self.held if register is None else register)

    def plain(self) -> ScenarioSettings:
        """The settings alone, without the register."""
        return ScenarioSettings(**{f.name: getattr(self, f.name)
                                   for f in fields(ScenarioSettings)})


def current() -> ScenarioSettings:
    """The scenario settings every page runs with, as chosen (shocks that do not fit the current
    system included: `for_system` leaves them out)."""
    return _from_widgets()


def for_system(settings: ScenarioSettings, system: System
               ) -> tuple[ScenarioSettings, dict[str, str]]:
    """(the settings with only the shocks that fit `system`, {shock left out: why})."""
    bad = misfits(settings.shocks, system)
    if not bad:
        return settings, {}
    kept = tuple(s for s in settings.shocks if s not in bad)
    return replace(settings, shocks=kept), bad


def describe(settings: ScenarioSettings) -> str:
    """The settings in one line: "10,000 scenarios · seed 0 · correlation 0.30 · normal · no
    shocks" (kind correlation and volatility scale only when not the defaults)."""
    parts = [f"{settings.n:,} scenarios", f"seed {settings.seed}",
             f"correlation {settings.correlation:.2f}"]
    if settings.kind_correlation:
        parts.append(f"within a kind +{settings.kind_correlation:.2f}")
    parts.append("normal" if settings.distribution == "normal"
                 else f"Student t, {settings.df:g} degrees of freedom")
    if settings.volatility_scale != 1.0:
        parts.append(f"volatility ×{settings.volatility_scale:.1f}")
    parts.append("shocks: " + ", ".join(shock_title(s) for s in settings.shocks)
                 if settings.shocks else "no shocks")
    if settings.uses_register():
        held = getattr(settings, "held", None)
        items = "" if held is None else f"{len(held.table):,} items, "
        parts.append(f"risk register {'on top' if settings.register == 'add' else 'alone'} "
                     f"({items}event correlation {settings.event_correlation:.2f})")
    return " · ".join(parts)


def sidebar() -> None:
    """The scenario settings form, in an expander (called inside `with st.sidebar:` in app.py).

    Changes take effect when **Apply** is pressed (one rerun for several fields). Shocks that do
    not fit the current system are marked in the picker and listed with the reason."""
    system = state.current_system()
    chosen = list(st.session_state.get(KEYS["shocks"], ()))
    available = list(list_shocks())
    bad = misfits(dict.fromkeys([*available, *chosen]), system)
    # shocks that fit, plus any already chosen (kept, marked, so a choice is not lost silently)
    options = [s for s in available if s not in bad] + [s for s in chosen if s not in available
                                                         or s in bad]
    options = list(dict.fromkeys(options))

    def shock_label(name: str) -> str:
        title = shock_title(name)
        return f"{title} (does not fit this system: not applied)" if name in bad else title

    with st.expander("Scenario settings", icon=":material/casino:"):
        st.caption("Used by Scenarios, Compare and Fairness (and the In year fan): random "
                   "variances around each member's forecast, plus any shocks, and the risk "
                   "register's events when the source says so.")
        with st.form("scenario_settings", border=False):
            st.multiselect(
                "Shocks added to every scenario", options, default=[],
                format_func=shock_label, key=KEYS["shocks"],
                help="Named shocks (sample_data/shocks/) that move members' variances by a fixed "
                     "amount in every scenario. Only shocks that fit the current system are "
                     "offered.")
            st.select_slider("Number of scenarios", N_OPTIONS, value=DEFAULTS.n,
                             format_func=lambda v: f"{v:,}", key=KEYS["n"])
            st.number_input("Seed", min_value=0, max_value=SEED_MAX, value=DEFAULTS.seed, step=1,
                            key=KEYS["seed"],
                            help="The same seed gives the same scenarios (a whole number from 0 "
                                 f"to {SEED_MAX:,}).")
            st.slider("Correlation between members", 0.0, 0.9, DEFAULTS.correlation, 0.05,
                      key=KEYS["correlation"])
            st.slider("Extra correlation within a kind", 0.0, 0.9, DEFAULTS.kind_correlation,
                      0.05, key=KEYS["kind_correlation"],
                      help="Added for members of the same kind (e.g. two acute trusts). "
                           "Correlation + this must be at most 1.")
            st.radio("Distribution", list(DISTRIBUTION_LABELS), horizontal=True,
                     format_func=DISTRIBUTION_LABELS.get, key=KEYS["distribution"])
            st.number_input("Degrees of freedom (Student t only)", min_value=2.5,
                            max_value=100.0, value=DEFAULTS.df, step=0.5, key=KEYS["df"],
                            help="Used with the Student t distribution: smaller = fatter, "
                                 "jointly occurring tails.")
            st.slider("Volatility scale", 0.5, 2.0, DEFAULTS.volatility_scale, 0.1,
                      format="%.1f×", key=KEYS["volatility_scale"],
                      help="Multiplies every member's volatility (% of turnover).")
            st.radio("Scenario source", list(SOURCE_LABELS), horizontal=False,
                     format_func=SOURCE_LABELS.get, key=KEYS["register"],
                     help="Draw the system's risk register (the Risks page): each risk or "
                          "mitigation happens with its probability, on top of the members' "
                          "volatility or instead of it.")
            st.slider("Correlation between risk events", 0.0, 1.0,
                      DEFAULTS.event_correlation, 0.05, key=KEYS["event_correlation"],
                      help="With the risk register: 0 = each item (or group) happens "
                           "independently; higher = risks tend to happen together.")
            st.form_submit_button("Apply", type="primary", key=APPLY,
                                  help="Use these settings on every page.")
        settings = current()
        problems = check_settings(settings.n, settings.correlation, settings.kind_correlation,
                                  settings.distribution, settings.df,
                                  settings.volatility_scale, seed=settings.seed,
                                  members=system.n)
        if problems:
            st.error("**These settings cannot be simulated:**\n\n"
                     + "\n".join(f"- {md(p)}" for p in problems), icon=":material/error:")
        unused = [s for s in available if s in bad and s not in chosen]
        if unused:
            st.caption("Not offered for this system: " + "; ".join(
                f"{md(shock_title(s))} ({md(bad[s])})" for s in unused) + ".")


def page_summary(system: System, note: str = "") -> ScenarioSettings:
    """On a page that simulates: one line with the settings in use and where to change them
    (plus `note`, how this page differs, if it does), and a warning for chosen shocks that do not
    fit `system`. Returns the settings to run with (shocks that fit only)."""
    settings, bad = for_system(current(), system)
    register = state.current_register() if settings.uses_register() else None
    missing = settings.uses_register() and register is None
    if missing:
        settings = replace(settings, register="none", event_correlation=0.0)
    settings = PageSettings(**{f.name: getattr(settings, f.name) for f in fields(settings)},
                            register_fingerprint="" if register is None else
                            register.fingerprint, held=register)
    what = ("the risk register's events around each member's forecast"
            if settings.register == "instead" else
            "random variances around each member's forecast"
            + (", the risk register's events" if settings.register == "add" else "")
            + ", plus any shocks")
    st.caption(f"**Scenarios** — {what}: {md(describe(settings))} — {WHERE}."
               + (f" {note}" if note else ""))
    if missing:
        st.warning("**The scenario settings draw the risk register, but this system has none"
                   + (" that fits" if state.held_register() is not None else "")
                   + "** — load or fix it on the **Risks** page. These scenarios are the "
                     "volatility alone.", icon=":material/warning:")
    if bad:
        st.warning("**Chosen shocks not applied** — they do not fit this system:\n\n"
                   + "\n".join(f"- {md(shock_title(s))}: {md(reason)}"
                               for s, reason in bad.items()), icon=":material/warning:")
    return settings


def chunk_for(n: int) -> int:
    """Scenario chunk size giving the progress bar about ten steps."""
    return max(500, int(np.ceil(n / 10)))


# -- results kept in session state --------------------------------------------------------------
def _same(a, b) -> bool:
    if isinstance(a, System):
        return a is b or (isinstance(b, System) and a.equals(b))
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def same_inputs(a: tuple, b: tuple) -> bool:
    """True when two tuples of inputs are the same (a System compared by content)."""
    return _same(tuple(a), tuple(b))


def stored(key: str, inputs: tuple):
    """The result stored under `key` if it was made from exactly `inputs`, else None."""
    entry = st.session_state.get(key)
    if entry is None:
        return None
    made_from, result = entry
    if len(made_from) != len(inputs) or not _same(tuple(made_from), tuple(inputs)):
        return None
    return result


def store(key: str, inputs: tuple, result) -> None:
    """Keep `result` under `key` with the `inputs` that made it (read back by `stored`)."""
    st.session_state[key] = (inputs, result)


def changed_inputs(key: str, inputs: tuple, names: tuple[str, ...]) -> list[str]:
    """The names (from `names`, one per input) of the inputs that differ between the result
    stored under `key` and `inputs`; [] when it was made from exactly these."""
    entry = st.session_state.get(key)
    if entry is None:
        return []
    made_from = entry[0]
    if len(made_from) != len(inputs):
        return list(dict.fromkeys(names))
    return list(dict.fromkeys(name for name, a, b in zip(names, made_from, inputs, strict=True)
                              if not _same(a, b)))


def last_result(key: str, inputs: tuple, names: tuple[str, ...], first: str,
                button: str = "Run", icon: str = ":material/play_arrow:"):
    """(result, inputs it was made from) for the last result stored under `key`.

    Before any run, `first` says what to do and the page stops there. When the inputs have
    changed since the result was made, it is still returned (with the inputs that made it, to
    show it as it was) under a warning naming what changed (`names`: one per input, e.g.
    "scenario settings", "system", "agreement"), so a stale result is never shown unmarked."""
    entry = st.session_state.get(key)
    if entry is None:
        st.info(first, icon=icon)
        st.stop()
    made_from, result = entry
    differ = changed_inputs(key, inputs, names)
    if differ:
        st.warning(f"**Settings changed since these results — press {button} again.** "
                   f"Changed: {', '.join(differ)}. The results below (and their downloads) are "
                   "from the earlier run.", icon=":material/history:")
    return result, made_from


def result_or_stop(key: str, inputs: tuple, first: str, again: str,
                   icon: str = ":material/play_arrow:"):
    """The result stored under `key` for exactly `inputs`; when there is none, say what to do —
    `first` before any run, `again` when the inputs changed since — and stop the page there.
    (Pages that keep a stale result on show use `last_result`.)"""
    result = stored(key, inputs)
    if result is None:
        st.info(first if key not in st.session_state else again, icon=icon)
        st.stop()
    return result
