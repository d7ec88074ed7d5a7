"""Session state shared by the app's pages: the current (always valid) System and Agreement.

The System in session state is only ever replaced by a complete, validated one, so a bad edit or
upload never leaves the analysis pages looking at half-applied data. `version` changes whenever a
new system is *loaded* (sample, upload, adopted rebalancing); widgets on the System page key
themselves on it so they reset to the new data.
"""

from __future__ import annotations

import streamlit as st

from riskshare.agreements.presets import load_preset
from riskshare.agreements.spec import Agreement
from riskshare.core.samples import DEFAULT_SAMPLE, SAMPLES, load_sample
from riskshare.core.system import System
from riskshare.ui.text import md

_SYSTEM, _SOURCE, _VERSION, _FLASH = "rs_system", "rs_source", "rs_version", "rs_flash"
_NOTES, _FLASH_NOTES = "rs_load_notes", "rs_flash_notes"


def current_system() -> System:
    """The system every page works on; the default sample on first visit."""
    if _SYSTEM not in st.session_state:
        st.session_state[_SYSTEM] = load_sample(DEFAULT_SAMPLE)
        st.session_state[_SOURCE] = f"sample: {SAMPLES[DEFAULT_SAMPLE].title}"
        st.session_state[_VERSION] = 0
    return st.session_state[_SYSTEM]


def source() -> str:
    """Where the current system came from ("sample: …"), with " (edited)" once edited."""
    current_system()
    return st.session_state[_SOURCE]


def version() -> int:
    """A count that changes whenever a new system is loaded (the System page's widget keys)."""
    current_system()
    return st.session_state[_VERSION]


def load(system: System, source: str, message: str | None = None) -> None:
    """Replace the system with a newly loaded one (resets the System page's widgets)."""
    new_version = version() + 1        # read before the system is replaced (it may be the first)
    st.session_state[_SYSTEM] = system
    st.session_state[_SOURCE] = source
    st.session_state[_VERSION] = new_version
    # What the loader read differently from what was written (a percent-formatted cell, a
    # figure rounded to whole pennies): the grid the System page edits no longer shows it, so
    # the notes are kept with the version they were loaded with.
    notes = tuple(str(w) for w in system.warnings)
    st.session_state[_NOTES] = (st.session_state[_VERSION], source, notes)
    if message:
        st.session_state[_FLASH] = message
        st.session_state[_FLASH_NOTES] = notes


def load_notes() -> tuple[str, tuple[str, ...]]:
    """(where the system came from, the loader's notes) for the system as loaded; no notes
    once another system is loaded."""
    kept = st.session_state.get(_NOTES)
    if not kept or kept[0] != version():
        return "", ()
    return kept[1], kept[2]


def show_load_notes() -> None:
    """The loader's notes on the current system, each as a warning."""
    where, notes = load_notes()
    for note in notes:
        st.warning(md(f"On loading ({where}): {note}"), icon=":material/warning:")


def update(system: System) -> None:
    """Replace the system after an edit on the System page (widgets keep their state)."""
    if not system.equals(current_system()):
        st.session_state[_SYSTEM] = system
        if "edited" not in st.session_state[_SOURCE]:
            st.session_state[_SOURCE] += " (edited)"


def show_flash(notes: bool = True) -> None:
    """Show, once, the message left by the last load, with the loader's notes (`notes=False`
    on a page that shows them itself)."""
    message = st.session_state.pop(_FLASH, None)
    flash_notes = st.session_state.pop(_FLASH_NOTES, ())
    if message:
        st.success(md(message))
        if notes:
            for note in flash_notes:
                st.warning(md(note), icon=":material/warning:")


def system_caption() -> None:
    """A one-line reminder of which system a page is showing."""
    system = current_system()
    st.caption(f"**{md(system.label)}** · {system.n} members · {md(source())}")


# -- the current agreement -----------------------------------------------------------------------
# Kept like the system: only ever replaced by a complete, valid Agreement. `agreement_version`
# changes when an agreement is *loaded* (preset, upload); the Agreement page keys its editing
# widgets on it (and on the system's version) so they reset to the new agreement.
_AGREEMENT, _AGREEMENT_SOURCE = "rs_agreement", "rs_agreement_source"
_AGREEMENT_VERSION, _PRESET = "rs_agreement_version", "rs_preset"
DEFAULT_PRESET = "gain_loss_50_50_deadband"


def current_agreement() -> Agreement:
    """The agreement the Agreement page works on; the default preset on first visit."""
    if _AGREEMENT not in st.session_state:
        st.session_state[_AGREEMENT] = load_preset(DEFAULT_PRESET)
        st.session_state[_AGREEMENT_SOURCE] = f"preset: {DEFAULT_PRESET}"
        st.session_state[_AGREEMENT_VERSION] = 0
        st.session_state[_PRESET] = DEFAULT_PRESET
    return st.session_state[_AGREEMENT]


def agreement_source() -> str:
    """Where the current agreement came from ("preset: …"), with " (edited)" once edited."""
    current_agreement()
    return st.session_state[_AGREEMENT_SOURCE]


def agreement_caption() -> Agreement:
    """Caption the current agreement (for pages that use it but edit it elsewhere); returns it."""
    agreement = current_agreement()
    st.caption(f"Agreement: **{md(agreement.name)}** ({md(agreement_source())}) — change it on "
               "the Agreement page.")
    return agreement


def agreement_version() -> int:
    """A count that changes whenever an agreement is loaded (the Agreement page's widget keys)."""
    current_agreement()
    return st.session_state[_AGREEMENT_VERSION]


def chosen_preset() -> str:
    """The preset last chosen in the picker (an upload does not change it)."""
    current_agreement()
    return st.session_state[_PRESET]


def load_agreement(agreement: Agreement, source: str, message: str | None = None,
                   preset: str | None = None) -> None:
    """Replace the agreement with a newly loaded one (resets the Agreement page's widgets)."""
    version = agreement_version()
    st.session_state[_AGREEMENT] = agreement
    st.session_state[_AGREEMENT_SOURCE] = source
    st.session_state[_AGREEMENT_VERSION] = version + 1
    if preset is not None:
        st.session_state[_PRESET] = preset
    if message:
        st.session_state[_FLASH] = message
        st.session_state.pop(_FLASH_NOTES, None)


def update_agreement(agreement: Agreement) -> None:
    """Replace the agreement after an edit on the Agreement page (widgets keep their state)."""
    if agreement != current_agreement():
        st.session_state[_AGREEMENT] = agreement
        if "edited" not in st.session_state[_AGREEMENT_SOURCE]:
            st.session_state[_AGREEMENT_SOURCE] += " (edited)"
