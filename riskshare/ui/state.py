"""Session state shared by the app's pages: the current (always valid) System.

The System in session state is only ever replaced by a complete, validated one, so a bad edit or
upload never leaves the analysis pages looking at half-applied data. `version` changes whenever a
new system is *loaded* (sample, upload, adopted rebalancing); widgets on the System page key
themselves on it so they reset to the new data.
"""

from __future__ import annotations

import streamlit as st

from ..samples import DEFAULT_SAMPLE, SAMPLES, load_sample
from ..system import System

_SYSTEM, _SOURCE, _VERSION, _FLASH = "rs_system", "rs_source", "rs_version", "rs_flash"


def current_system() -> System:
    """The system every page works on; the default sample on first visit."""
    if _SYSTEM not in st.session_state:
        st.session_state[_SYSTEM] = load_sample(DEFAULT_SAMPLE)
        st.session_state[_SOURCE] = f"sample: {SAMPLES[DEFAULT_SAMPLE].title}"
        st.session_state[_VERSION] = 0
    return st.session_state[_SYSTEM]


def source() -> str:
    current_system()
    return st.session_state[_SOURCE]


def version() -> int:
    current_system()
    return st.session_state[_VERSION]


def load(system: System, source: str, message: str | None = None) -> None:
    """Replace the system with a newly loaded one (resets the System page's widgets)."""
    st.session_state[_SYSTEM] = system
    st.session_state[_SOURCE] = source
    st.session_state[_VERSION] = version() + 1
    if message:
        st.session_state[_FLASH] = message


def update(system: System) -> None:
    """Replace the system after an edit on the System page (widgets keep their state)."""
    if not system.equals(current_system()):
        st.session_state[_SYSTEM] = system
        if "edited" not in st.session_state[_SOURCE]:
            st.session_state[_SOURCE] += " (edited)"


def show_flash() -> None:
    """Show, once, the message left by the last load."""
    message = st.session_state.pop(_FLASH, None)
    if message:
        st.success(message)


def system_caption() -> None:
    """A one-line reminder of which system a page is showing."""
    system = current_system()
    st.caption(f"**{system.label}** · {system.n} members · {source()}")
