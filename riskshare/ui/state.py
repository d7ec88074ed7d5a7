"""Session state shared by the app's pages: the current (always valid) System and Agreement.

The System in session state is only ever replaced by a complete, validated one, so a bad edit or
upload never leaves the analysis pages looking at half-applied data. `version` changes whenever a
new system is *loaded* (sample, upload, adopted rebalancing) or an edit is undone; widgets on the
System page key themselves on it so they reset to the new data.

The user's own work is never lost without asking: loading over an uploaded, edited or rebalanced
system waits for a confirmation (`request_load` / `confirm_pending`), the replaced system is kept
for "Return to your system" (`previous` / `return_to_previous`), and every valid edit on the
System page can be undone (`undo`) or reset to the system as loaded (`reset_to_loaded`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import streamlit as st

from riskshare.agreements.presets import load_preset
from riskshare.agreements.spec import Agreement
from riskshare.core.samples import DEFAULT_SAMPLE, SAMPLES, load_sample
from riskshare.core.system import System
from riskshare.ui.text import md

_SYSTEM, _SOURCE, _VERSION, _FLASH = "rs_system", "rs_source", "rs_version", "rs_flash"
_NOTES, _FLASH_NOTES = "rs_load_notes", "rs_flash_notes"
_HISTORY, _LOADED, _PREVIOUS, _PENDING = "rs_history", "rs_loaded", "rs_previous", "rs_pending"
UNDO_DEPTH = 50          # edits kept for "Undo last edit"
#: Sources a user can get back at any time by loading them again: replacing one loses nothing.
_RELOADABLE = ("sample: ", "workshop session: ")


def current_system() -> System:
    """The system every page works on; the default sample on first visit."""
    if _SYSTEM not in st.session_state:
        st.session_state[_SYSTEM] = load_sample(DEFAULT_SAMPLE)
        st.session_state[_SOURCE] = f"sample: {SAMPLES[DEFAULT_SAMPLE].title}"
        st.session_state[_VERSION] = 0
        st.session_state[_LOADED] = (st.session_state[_SYSTEM], st.session_state[_SOURCE])
    return st.session_state[_SYSTEM]


def source() -> str:
    """Where the current system came from ("sample: …"), with " (edited)" once edited."""
    current_system()
    return st.session_state[_SOURCE]


_current_source = source     # for functions whose `source` parameter hides the function


def version() -> int:
    """A count that changes whenever a new system is loaded (the System page's widget keys)."""
    current_system()
    return st.session_state[_VERSION]


def own_work() -> bool:
    """True when the current system is the user's own work — uploaded, edited or rebalanced —
    which loading another system would lose (a bundled sample or session can be reloaded)."""
    current_system()
    src = st.session_state[_SOURCE]
    return "(edited)" in src or "rebalanced" in src or not src.startswith(_RELOADABLE)


def load(system: System, source: str, message: str | None = None) -> None:
    """Replace the system with a newly loaded one (resets the System page's widgets).

    The system replaced is kept for "Return to your system" when it is the user's own work."""
    new_version = version() + 1        # read before the system is replaced (it may be the first)
    if own_work() and not system.equals(current_system()):
        # with what it was loaded from and its edits, so Undo and Reset work after a return
        st.session_state[_PREVIOUS] = (current_system(), _current_source(),
                                       st.session_state.get(_LOADED),
                                       list(st.session_state.get(_HISTORY, [])))
    st.session_state[_SYSTEM] = system
    st.session_state[_SOURCE] = source
    st.session_state[_VERSION] = new_version
    st.session_state[_LOADED] = (system, source)
    st.session_state[_HISTORY] = []
    # What the loader read differently from what was written (a percent-formatted cell, a
    # figure rounded to whole pennies): the grid the System page edits no longer shows it, so
    # the notes are kept with the version they were loaded with.
    notes = tuple(str(w) for w in system.warnings)
    st.session_state[_NOTES] = (st.session_state[_VERSION], source, notes)
    if message:
        st.session_state[_FLASH] = message
        st.session_state[_FLASH_NOTES] = notes


def request_load(system: System, source: str, message: str | None = None, *, origin: str,
                 then: Callable[[], None] | None = None) -> bool:
    """Load `system` now when nothing of the user's would be lost; otherwise park it until the
    user confirms with the buttons `confirm_pending(origin)` draws. `then` runs after the load
    (now or on confirmation). Returns True when loaded now (the caller should rerun)."""
    if not own_work() or system.equals(current_system()):
        load(system, source, message)
        if then is not None:
            then()
        return True
    st.session_state[_PENDING] = (origin, system, source, message, then)
    return False


def confirm_pending(origin: str) -> None:
    """Where a load was requested from `origin`: ask whether to replace the user's system."""
    pending = st.session_state.get(_PENDING)
    if pending is None or pending[0] != origin:
        return
    _, system, new_source, message, then = pending
    current = current_system()
    with st.container(border=True):
        # the names are the user's text (escaped); the bold around them is ours
        st.warning(f"Loading **{md(system.label)}** ({md(new_source)}) replaces the system you "
                   f"are working on: **{md(current.label)}** ({md(source())}). It is kept: "
                   "“Return to your system” in the sidebar brings it back.",
                   icon=":material/warning:")
        c1, c2, _ = st.columns([1, 1, 2])
        if c1.button("Replace it", key=f"confirm_load_{origin}", type="primary"):
            st.session_state.pop(_PENDING, None)
            load(system, new_source, message)
            if then is not None:
                then()
            st.rerun()
        if c2.button("Keep my system", key=f"cancel_load_{origin}"):
            st.session_state.pop(_PENDING, None)
            st.rerun()


def previous() -> tuple[System, str] | None:
    """The user's own system that the last load replaced, with its source; None if none."""
    kept = st.session_state.get(_PREVIOUS)
    return None if kept is None else (kept[0], kept[1])


def return_to_previous() -> None:
    """Swap back to the system the last load replaced (the one left is kept in its place when
    it is the user's own work, so the swap can be repeated)."""
    kept = st.session_state.get(_PREVIOUS)
    if kept is None:
        return
    system, src, loaded, history = kept
    st.session_state.pop(_PREVIOUS, None)
    load(system, src, f"Returned to {system.label} ({src}).")
    if loaded is not None:
        st.session_state[_LOADED] = loaded
    st.session_state[_HISTORY] = history


def undo_depth() -> int:
    """How many edits on the System page can be undone."""
    return len(st.session_state.get(_HISTORY, []))


def _restore(system: System, src: str) -> None:
    """Put `system` back after an undo or reset (the System page's widgets start afresh)."""
    notes = st.session_state.get(_NOTES)
    st.session_state[_SYSTEM] = system
    st.session_state[_SOURCE] = src
    st.session_state[_VERSION] = version() + 1
    if notes and notes[0] == st.session_state[_VERSION] - 1:
        st.session_state[_NOTES] = (st.session_state[_VERSION], *notes[1:])


def undo() -> None:
    """Undo the last valid edit made on the System page."""
    history = st.session_state.get(_HISTORY, [])
    if history:
        system, src = history.pop()
        _restore(system, src)


def reset_to_loaded() -> None:
    """Drop every edit since the system was loaded (the undo history goes with them)."""
    loaded = st.session_state.get(_LOADED)
    if loaded is not None:
        _restore(*loaded)
        st.session_state[_HISTORY] = []


def edited_since_load() -> bool:
    """True when the current system differs from the one last loaded."""
    loaded = st.session_state.get(_LOADED)
    return loaded is not None and not loaded[0].equals(current_system())


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
        history = st.session_state.setdefault(_HISTORY, [])
        history.append((current_system(), source()))
        del history[:-UNDO_DEPTH]
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


def return_button() -> None:
    """"Return to your system" (in the sidebar) while a load has replaced the user's own work."""
    kept = previous()
    if kept is None:
        return
    system, src = kept
    if st.button(f"Return to your system: {md(system.label)}", key="return_previous",
                 icon=":material/undo:", width="stretch",
                 help=md(f"Brings back {system.label} ({src}), which the last load replaced.")):
        return_to_previous()
        st.rerun()


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
_PREVIOUS_AGREEMENT = "rs_previous_agreement"
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
    """Replace the agreement with a newly loaded one (resets the Agreement page's widgets).

    The agreement replaced is kept for "Return to your agreement" when it is the user's own
    work (edited or uploaded): choosing a preset never loses it for good."""
    version = agreement_version()
    previous_source = agreement_source()
    own = "(edited)" in previous_source or not previous_source.startswith("preset: ")
    if own and agreement != current_agreement():
        st.session_state[_PREVIOUS_AGREEMENT] = (current_agreement(), previous_source,
                                                 chosen_preset())
    st.session_state[_AGREEMENT] = agreement
    st.session_state[_AGREEMENT_SOURCE] = source
    st.session_state[_AGREEMENT_VERSION] = version + 1
    if preset is not None:
        st.session_state[_PRESET] = preset
    if message:
        st.session_state[_FLASH] = message
        st.session_state.pop(_FLASH_NOTES, None)


def return_to_previous_agreement() -> None:
    """Swap back to the user's own agreement that the last load replaced."""
    kept = st.session_state.pop(_PREVIOUS_AGREEMENT, None)
    if kept is not None:
        agreement, src, preset = kept
        load_agreement(agreement, src, f"Returned to “{agreement.name}” ({src}).", preset=preset)


def return_agreement_button() -> None:
    """"Return to your agreement" (in the sidebar) while a load has replaced the user's own
    edited or uploaded agreement."""
    kept = st.session_state.get(_PREVIOUS_AGREEMENT)
    if kept is None:
        return
    agreement, src, _ = kept
    if st.button(f"Return to your agreement: {md(agreement.name)}", key="return_agreement",
                 icon=":material/undo:", width="stretch",
                 help=md(f"Brings back “{agreement.name}” ({src}), which the last load "
                         "replaced.")):
        return_to_previous_agreement()
        st.rerun()


def update_agreement(agreement: Agreement) -> None:
    """Replace the agreement after an edit on the Agreement page (widgets keep their state)."""
    if agreement != current_agreement():
        st.session_state[_AGREEMENT] = agreement
        if "edited" not in st.session_state[_AGREEMENT_SOURCE]:
            st.session_state[_AGREEMENT_SOURCE] += " (edited)"


# -- choices that survive a visit to another page ------------------------------------------------
#: Widgets whose value must still be there when the user comes back to their page: Streamlit
#: forgets a widget's value when a run does not draw it (another page is showing), so each is
#: written back to itself on every run, whatever the page (`keep_choices`, from app.py).
KEPT_CHOICES = (
    "cmp_agreements",                                                   # Compare
    "fair_mode", "fair_lambda", "fair_long",                            # Fairness
    "opt_start", "opt_objective", "opt_pool", "opt_floor", "opt_max_charge", "opt_max_award",
    "opt_retention_on", "opt_retention", "opt_standalone", "opt_system_ct", "opt_solver",
    "opt_alt_k", "opt_alt_slack",                                       # Optimise
    "unrealistic_pct", "rebalance_method", "rebalance_basis", "rebalance_max_change",  # Reconcile
)


# Putting a kept value back (below) on the run that draws its widget makes Streamlit log "created
# with a default value but also had its value set via the Session State API": here that is the
# point (the kept value is meant to win), so that one logger is quietened to errors.
logging.getLogger("streamlit.elements.lib.policies").setLevel(logging.ERROR)


def keep_choices() -> None:
    """Keep the `KEPT_CHOICES` widgets' values across pages (call on every run, before the
    page): each value is copied aside while its widget has it, and put back once Streamlit has
    dropped it (a value written over a live widget would make Streamlit warn on every run)."""
    for key in KEPT_CHOICES:
        aside = f"rs_kept_{key}"
        if key in st.session_state:
            st.session_state[aside] = st.session_state[key]
        elif aside in st.session_state:
            st.session_state[key] = st.session_state[aside]

