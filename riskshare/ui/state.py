"""Session state shared by the app's pages: the current (always valid) System and Agreement.

The System in session state is only ever replaced by a complete, validated one, so a bad edit or
upload never leaves the analysis pages looking at half-applied data. `version` changes whenever a
new system is *loaded* (sample, upload, adopted rebalancing) or an edit is undone; widgets on the
System page key themselves on it so they reset to the new data.

The user's own work is never lost without asking: loading over an uploaded, edited or rebalanced
system waits for a confirmation (`request_load` / `confirm_pending`), the replaced system is kept
for "Return to your system" (`previous` / `return_to_previous`), and every valid edit on the
System page can be undone (`undo`) or reset to the system as loaded (`reset_to_loaded`).

The system's monthly table (plans and actuals month by month, for the In year page) is kept
beside it (`current_monthly`, `set_monthly`): loading a sample brings its bundled table, an
uploaded workbook its `monthly` sheet, and loading another system drops a table that no longer
fits it, saying so. An edit on the System page keeps the table: while it no longer fits the
system as edited (`monthly_misfit`), the In year page says why, and an undo brings it back.
The risk register is held the same way (`current_register`, `set_register`; the Risks page
edits it, and the Scenarios, Compare and Fairness pages draw it when the scenario settings ask).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import streamlit as st

from riskshare.agreements.presets import load_preset
from riskshare.agreements.spec import Agreement
from riskshare.core.errors import InputFileError, ValidationError, problem
from riskshare.core.monthly import Monthly, check_monthly, monthly_from_bytes
from riskshare.core.register import Register, register_from_bytes
from riskshare.core.samples import DEFAULT_SAMPLE, SAMPLES, load_sample
from riskshare.core.system import System
from riskshare.ui.text import md, md_lines

_SYSTEM, _SOURCE, _VERSION, _FLASH = "rs_system", "rs_source", "rs_version", "rs_flash"
_NOTES, _FLASH_NOTES = "rs_load_notes", "rs_flash_notes"
_HISTORY, _LOADED, _PREVIOUS, _PENDING = "rs_history", "rs_loaded", "rs_previous", "rs_pending"
UNDO_DEPTH = 50          # edits kept for "Undo last edit"
#: `load(..., monthly=KEEP)`: a sample's own monthly table, else the table held while it fits.
KEEP = "keep"
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


def load(system: System, source: str, message: str | None = None, *,
         monthly: Monthly | None | str = KEEP, monthly_source: str = "",
         monthly_note: str = "", register: Register | None | str = KEEP,
         register_source: str = "", register_note: str = "") -> None:
    """Replace the system with a newly loaded one (resets the System page's widgets).

    The system replaced is kept for "Return to your system" when it is the user's own work.
    Its monthly table: `monthly` (a Monthly loaded with it, from `monthly_source`; None: none);
    by default a bundled sample's own table, else the table held so far while it fits the new
    system (dropped, saying so, when it does not). `monthly_note` is said with the load (e.g. why
    a workbook's monthly sheet was not read). Its risk register likewise: `register`,
    `register_source`, `register_note`."""
    new_version = version() + 1        # read before the system is replaced (it may be the first)
    if own_work() and not system.equals(current_system()):
        # with what it was loaded from and its edits, so Undo and Reset work after a return
        st.session_state[_PREVIOUS] = (current_system(), _current_source(),
                                       st.session_state.get(_LOADED),
                                       list(st.session_state.get(_HISTORY, [])))
        st.session_state[_PREVIOUS_MONTHLY] = st.session_state.get(_MONTHLY)
        st.session_state[_PREVIOUS_REGISTER] = st.session_state.get(_REGISTER)
    _monthly_on_load(system, source, monthly, monthly_source, monthly_note)
    _register_on_load(system, source, register, register_source, register_note)
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
                 then: Callable[[], None] | None = None, **monthly) -> bool:
    """Load `system` now when nothing of the user's would be lost; otherwise park it until the
    user confirms with the buttons `confirm_pending(origin)` draws. `then` runs after the load
    (now or on confirmation); `monthly` are `load`'s monthly table arguments. Returns True when
    loaded now (the caller should rerun)."""
    if not own_work() or system.equals(current_system()):
        load(system, source, message, **monthly)
        if then is not None:
            then()
        return True
    st.session_state[_PENDING] = (origin, system, source, message, then, monthly)
    return False


def confirm_pending(origin: str) -> None:
    """Where a load was requested from `origin`: ask whether to replace the user's system."""
    pending = st.session_state.get(_PENDING)
    if pending is None or pending[0] != origin:
        return
    _, system, new_source, message, then, monthly = pending
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
            load(system, new_source, message, **monthly)
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
    held = st.session_state.pop(_PREVIOUS_MONTHLY, None)
    risks = st.session_state.pop(_PREVIOUS_REGISTER, None)
    load(system, src, f"Returned to {system.label} ({src}).",
         monthly=None if held is None else held[0], monthly_source="" if held is None else held[1],
         register=None if risks is None else risks[0],
         register_source="" if risks is None else risks[1])
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
    for note in st.session_state.pop(_MONTHLY_FLASH, ()):
        st.info(note, icon=":material/calendar_month:")
    for note in st.session_state.pop(_REGISTER_FLASH, ()):
        st.info(note, icon=":material/report:")


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


# -- the monthly table ---------------------------------------------------------------------------
# Held as (Monthly, where it came from) under _MONTHLY (None: no table), as last set; what the
# pages use is that table checked against the current system (`current_monthly`), worked out
# again whenever the system changes. Absent until first asked for: then the default sample's.
_MONTHLY, _MONTHLY_FIT, _MONTHLY_VERSION = "rs_monthly", "rs_monthly_fit", "rs_monthly_version"
_MONTHLY_FLASH, _PREVIOUS_MONTHLY = "rs_monthly_flash", "rs_previous_monthly"
#: the table as last set (loaded, uploaded, phased), before any edit since: the In year page's
#: editor starts from it and keeps the user's edits on top, so its data stays the same while
#: they edit (a data editor whose data changes starts afresh, losing the edit in progress)
_MONTHLY_SET = "rs_monthly_set"


def _held() -> tuple[Monthly, str] | None:
    """(the monthly table as last set, where it came from), or None; on first use the default
    sample's bundled table when the default sample is still the system loaded."""
    if _MONTHLY not in st.session_state:
        current_system()
        loaded_source = st.session_state[_LOADED][1]
        table = None
        if loaded_source == f"sample: {SAMPLES[DEFAULT_SAMPLE].title}":
            table = _sample_table(DEFAULT_SAMPLE, st.session_state[_LOADED][0])
        st.session_state[_MONTHLY] = (None if table is None else
                                      (table, _sample_source(loaded_source)))
        st.session_state[_MONTHLY_SET] = st.session_state[_MONTHLY]
    return st.session_state[_MONTHLY]


def _sample_table(name: str, system: System) -> Monthly | None:
    from riskshare.ui import cache

    return cache.sample_monthly(name, system)


def _sample_source(system_source: str) -> str:
    return f"{system_source}, its bundled monthly table"


def _sample_named(source: str) -> str | None:
    """The bundled sample a load's source names ("sample: <title>"), or None."""
    return next((name for name, sample in SAMPLES.items()
                 if source == f"sample: {sample.title}"), None)


def monthly_version() -> int:
    """A count that changes whenever a monthly table is set (the In year page's editor key)."""
    return st.session_state.get(_MONTHLY_VERSION, 0)


def set_monthly(monthly: Monthly | None, source: str = "", message: str | None = None) -> None:
    """Hold `monthly` (validated against the current system) as the system's monthly table,
    from `source`; None drops it. `message` is said once (`show_flash`)."""
    st.session_state[_MONTHLY] = None if monthly is None else (monthly, source)
    st.session_state[_MONTHLY_SET] = st.session_state[_MONTHLY]
    st.session_state[_MONTHLY_VERSION] = monthly_version() + 1
    st.session_state.pop(_MONTHLY_FIT, None)
    if message:
        _say_monthly(md(message))


def update_monthly(monthly: Monthly) -> None:
    """Replace the monthly table after an edit on the In year page (its editor keeps its
    state); the source is marked " (edited)"."""
    held = _held()
    if held is not None and held[0].fingerprint == monthly.fingerprint:
        return
    source = "" if held is None else held[1]
    st.session_state[_MONTHLY] = (monthly, source if "(edited)" in source
                                  else f"{source} (edited)")
    st.session_state.pop(_MONTHLY_FIT, None)


def _say_monthly(note: str) -> None:
    """A note (Markdown) on the monthly table, shown once by `show_flash`."""
    st.session_state[_MONTHLY_FLASH] = (*st.session_state.get(_MONTHLY_FLASH, ()), note)


def monthly_source() -> str:
    """Where the monthly table came from ("" when there is none)."""
    held = _held()
    return "" if held is None else held[1]


def monthly_as_set() -> tuple[Monthly, str] | None:
    """(the monthly table as last set, before any edit on the In year page since, where it came
    from), or None: the page's editor starts from it (see _MONTHLY_SET)."""
    _held()
    return st.session_state.get(_MONTHLY_SET)


def held_monthly() -> Monthly | None:
    """The monthly table as last set, whether or not it fits the current system (the In year
    page's editor starts from it)."""
    held = _held()
    return None if held is None else held[0]


def fit_monthly(monthly: Monthly, system: System) -> tuple[Monthly | None, ValidationError | None]:
    """`monthly` checked again against `system`: (the table, None) when it fits — members whose
    plan was phased phased again from their control totals — else (None, every problem)."""
    members = list(monthly.table.index.get_level_values("org_id").unique())
    if members == list(system.members) and _same_octs(monthly, system):
        return monthly, None       # phased plans too: phasing depends only on the OCT
    frame = monthly.table.reset_index()
    frame.loc[frame["org_id"].isin(monthly.phased), "plan"] = float("nan")
    unknown = [m for m in members if m not in set(system.members)]
    if unknown:
        # a table of another system: one problem, not one per row
        rule = (f"its members ({', '.join(members)}) are not those of {system.label}"
                if len(unknown) == len(members) else
                f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not in "
                f"{system.label}")
        return None, ValidationError([problem(rule, column="org_id")], "the monthly table")
    table, found = check_monthly(frame, system, monthly.profile)
    if table is None:
        return None, ValidationError(found, "the monthly table")
    return table, None


def _same_octs(monthly: Monthly, system: System) -> bool:
    """Whether every member's plans still add up to its control total (to the penny)."""
    plan = monthly.table["plan"].groupby(level="org_id", sort=False).sum()
    octs = system.orgs["control_total"].reindex(plan.index)
    return bool(((plan - octs).abs() < 0.005).all())


def _fit() -> tuple[Monthly | None, ValidationError | None]:
    held = _held()
    if held is None:
        return None, None
    from riskshare.ui.cache import fingerprint_of

    key = (fingerprint_of(current_system()), fingerprint_of(held[0]))
    kept = st.session_state.get(_MONTHLY_FIT)
    if kept is None or kept[0] != key:
        kept = (key, *fit_monthly(held[0], current_system()))
        st.session_state[_MONTHLY_FIT] = kept
    return kept[1], kept[2]


def current_monthly() -> Monthly | None:
    """The monthly table of the current system, checked against it; None when there is none or
    when the table held no longer fits the system (`monthly_misfit` says why)."""
    return _fit()[0]


def monthly_misfit() -> ValidationError | None:
    """Why the monthly table held does not fit the current system (edited since), or None."""
    return _fit()[1]


def _monthly_on_load(system: System, source: str, monthly, monthly_source: str,
                     note: str) -> None:
    """The monthly table to go with a newly loaded `system` (see `load`)."""
    # the default sample's table is read only when the new system could use it: never just to
    # say it was dropped
    same = list(system.members) == list(current_system().members)
    before = _held() if same else st.session_state.get(_MONTHLY)
    if isinstance(monthly, str):                    # KEEP
        sample = _sample_named(source)
        table = None if sample is None else _sample_table(sample, system)
        if table is not None:
            monthly, monthly_source = table, _sample_source(source)
        elif before is not None:
            fitted, why = fit_monthly(before[0], system)
            if fitted is not None:
                monthly, monthly_source = before[0], before[1]
            else:
                monthly = None
                first = why.problems[0] if why is not None and why.problems else None
                reason = ("" if first is None else first.rule if first.column == "org_id"
                          and first.row is None else str(first))
                _say_monthly(md(f"The monthly table ({before[1]}) does not fit "
                                f"{system.label} and was dropped"
                                + (f": {reason}." if reason else ".")))
        else:
            monthly = None
    elif monthly is None and before is not None:
        _say_monthly(md(f"The monthly table ({before[1]}) was dropped with the system it "
                        "belonged to."))
    set_monthly(monthly, monthly_source)
    if note:
        _say_monthly(note)


def monthly_in_upload(data: bytes, name: str, system: System) -> tuple[Monthly | None, str]:
    """The monthly table in an uploaded system workbook (its `monthly` sheet), read against
    `system`: (table, "") when read; (None, "") when there is none — a .csv, a workbook without
    the sheet, or the template's example rows left as they were; (None, why, as Markdown) when
    the sheet cannot be read (the system loads without it)."""
    from riskshare.core.monthly import MONTHLY_SHEET

    return _sheet_in_upload(data, name, system, MONTHLY_SHEET, monthly_from_bytes,
                            "the table on the In year page")


def _sheet_in_upload(data: bytes, name: str, system: System, sheet: str, read, where: str):
    """The side table in sheet `sheet` of an uploaded workbook, read by `read(data, name,
    system)` (see `monthly_in_upload`); `where` says where else it can be loaded."""
    from pathlib import Path

    from riskshare.core.io import open_workbook
    from riskshare.core.monthly import WORKBOOK_TYPES

    if Path(name).suffix.lower() not in WORKBOOK_TYPES:
        return None, ""
    try:
        book = open_workbook(data, name)
        try:
            sheets = [s.strip().lower() for s in book.sheetnames]
        finally:
            book.close()
        if sheet not in sheets:
            return None, ""
        return read(data, name, system), ""
    except ValidationError as exc:
        if exc.problems and all(p.column == "org_id" and p.value == "EXAMPLE"
                                for p in exc.problems):
            if not _rows_besides_example(data, name, sheet):
                return None, ""                # the template's example rows, never filled in
            return None, md(f"The {sheet} sheet of {name} was not loaded: it still has the "
                            "template's example row (org_id EXAMPLE) beside your own. Delete "
                            "that row and upload again; the system loaded without it.")
        shown = exc.problems[:8]
        more = len(exc.problems) - len(shown)
        return None, (f"**The {sheet} sheet of {md(name)} was not loaded** — "
                      f"{len(exc.problems)} problem{'s' if len(exc.problems) != 1 else ''}; "
                      "the system loaded without it:\n\n" + md_lines(shown)
                      + (f"\n\n… and {more} more." if more > 0 else "")
                      + f"\n\nFix the sheet and upload again, or load {where}.")
    except InputFileError as exc:
        return None, md(f"The {sheet} sheet of {name} was not loaded ({exc}); the system "
                        "loaded without it.")


# -- the risk register ---------------------------------------------------------------------------
# Held as (Register, where it came from) under _REGISTER (None: no register), as last set; the
# pages use it while every member it names is a member of the current system
# (`current_register`; `register_misfit` says why not). Absent until first asked for: then the
# bundled register of the sample loaded, if it has one.
_REGISTER, _REGISTER_VERSION = "rs_register", "rs_register_version"
_REGISTER_FLASH, _PREVIOUS_REGISTER = "rs_register_flash", "rs_previous_register"
_REGISTER_SET = "rs_register_set"          # as last set, before edits (as _MONTHLY_SET)


def _held_register() -> tuple[Register, str] | None:
    if _REGISTER not in st.session_state:
        current_system()
        system, loaded_source = st.session_state[_LOADED]
        sample = _sample_named(loaded_source)
        register = None if sample is None else _sample_register(sample, system)
        st.session_state[_REGISTER] = (None if register is None else
                                       (register, register_source_of(loaded_source)))
        st.session_state[_REGISTER_SET] = st.session_state[_REGISTER]
    return st.session_state[_REGISTER]


def _sample_register(name: str, system: System) -> Register | None:
    from riskshare.ui import cache

    return cache.sample_register(name, system)


def register_source_of(system_source: str) -> str:
    """Where a sample's bundled register comes from, said from where the system came from."""
    return f"{system_source}, its bundled risk register"


def loaded_sample() -> str | None:
    """The bundled sample the current system was loaded from (edited or not), or None."""
    current_system()
    return _sample_named(st.session_state[_LOADED][1])


def register_version() -> int:
    """A count that changes whenever a register is set (the Risks page's editor key)."""
    return st.session_state.get(_REGISTER_VERSION, 0)


def set_register(register: Register | None, source: str = "", message: str | None = None
                 ) -> None:
    """Hold `register` (validated against the current system) as the system's risk register,
    from `source`; None drops it. `message` is said once (`show_flash`)."""
    st.session_state[_REGISTER] = None if register is None else (register, source)
    st.session_state[_REGISTER_SET] = st.session_state[_REGISTER]
    st.session_state[_REGISTER_VERSION] = register_version() + 1
    if message:
        _say_register(md(message))


def update_register(register: Register) -> None:
    """Replace the register after an edit on the Risks page (its editor keeps its state); the
    source is marked " (edited)"."""
    held = _held_register()
    if held is not None and held[0].fingerprint == register.fingerprint:
        return
    source = "" if held is None else held[1]
    st.session_state[_REGISTER] = (register, source if "(edited)" in source
                                   else f"{source} (edited)")


def _say_register(note: str) -> None:
    st.session_state[_REGISTER_FLASH] = (*st.session_state.get(_REGISTER_FLASH, ()), note)


def register_source() -> str:
    """Where the risk register came from ("" when there is none)."""
    held = _held_register()
    return "" if held is None else held[1]


def register_as_set() -> tuple[Register, str] | None:
    """(the register as last set, before any edit on the Risks page since, where it came from),
    or None: the page's editor starts from it (as `monthly_as_set`)."""
    _held_register()
    return st.session_state.get(_REGISTER_SET)


def held_register() -> Register | None:
    """The register as last set, whether or not it fits the current system."""
    held = _held_register()
    return None if held is None else held[0]


def register_misfit(register: Register | None = None,
                    system: System | None = None) -> ValidationError | None:
    """Why `register` (default: the one held) does not fit `system` (default: the current
    one) — members it names that are not in the system — or None when it fits."""
    register = held_register() if register is None else register
    system = current_system() if system is None else system
    if register is None:
        return None
    named = list(dict.fromkeys(register.table["org_id"]))
    strangers = [m for m in named if m not in set(system.members)]
    if not strangers:
        return None
    rule = (f"its members ({', '.join(named)}) are not those of {system.label}"
            if len(strangers) == len(named) else
            f"{', '.join(strangers)} {'is' if len(strangers) == 1 else 'are'} not in "
            f"{system.label}")
    return ValidationError([problem(rule, column="org_id")], "the risk register")


def current_register() -> Register | None:
    """The risk register of the current system; None when there is none or when the register
    held names members the system no longer has (`register_misfit` says why)."""
    held = held_register()
    return held if held is not None and register_misfit(held) is None else None


def _register_on_load(system: System, source: str, register, register_source: str,
                      note: str) -> None:
    """The register to go with a newly loaded `system` (see `load`)."""
    before = st.session_state.get(_REGISTER)
    if isinstance(register, str):                    # KEEP
        sample = _sample_named(source)
        bundled = None if sample is None else _sample_register(sample, system)
        if bundled is not None:
            register, register_source = bundled, register_source_of(source)
        elif before is not None:
            why = register_misfit(before[0], system)
            if why is None:
                register, register_source = before
            else:
                register = None
                _say_register(md(f"The risk register ({before[1]}) does not fit "
                                 f"{system.label} and was dropped: {why.problems[0].rule}."))
        else:
            register = None
    elif register is None and before is not None:
        _say_register(md(f"The risk register ({before[1]}) was dropped with the system it "
                         "belonged to."))
    set_register(register, register_source)
    if note:
        _say_register(note)


def _rows_besides_example(data: bytes, name: str, sheet: str) -> bool:
    """Whether sheet `sheet` of a workbook has rows of its own besides the template's example
    rows (org_id EXAMPLE) and the header."""
    from riskshare.core.io import open_workbook

    book = open_workbook(data, name)
    try:
        ws = next(book[s] for s in book.sheetnames if s.strip().lower() == sheet)
        for k, row in enumerate(ws.iter_rows(values_only=True)):
            first = row[0] if row else None
            if k and first not in (None, "", "EXAMPLE"):
                return True
        return False
    finally:
        book.close()


def register_in_upload(data: bytes, name: str, system: System) -> tuple[Register | None, str]:
    """The risk register in an uploaded system workbook (its `risks` sheet), read against
    `system`, as `monthly_in_upload` reads the monthly sheet."""
    from riskshare.core.register import REGISTER_SHEET

    return _sheet_in_upload(data, name, system, REGISTER_SHEET, register_from_bytes,
                            "the register on the Risks page")


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


# -- the projection rules (the Years ahead page) ---------------------------------------------------
#: (Rules, where they came from, the loaded source they were chosen for); a sample's bundled
#: rules when the system loaded is a sample that has some, else none until set on the page.
_RULES, _RULES_VERSION, _RULES_FLASH = "rs_rules", "rs_rules_version", "rs_rules_flash"


def _default_rules(system: System, loaded_source: str):
    from riskshare.years.rules import list_rules, load_rules

    sample = _sample_named(loaded_source)
    if sample is not None and sample in list_rules():
        return load_rules(sample, system), f"{loaded_source}, its bundled rules"
    return None, ""


def current_rules():
    """(the projection rules for the current system, where they came from): a sample's own
    rules; rules set on the Years ahead page are kept while they fit the system loaded; (None,
    "") when there are none."""
    from riskshare.years.rules import Rules

    system = current_system()
    loaded_source = st.session_state[_LOADED][1]
    held = st.session_state.get(_RULES)
    if held is None or held[2] != loaded_source:
        rules, source = _default_rules(system, loaded_source)
        if rules is None and held is not None and held[0] is not None \
                and not held[0].check(system):
            rules, source = held[0], held[1]          # the user's rules still fit: kept
        elif held is not None and held[0] is not None and rules is None:
            st.session_state[_RULES_FLASH] = (f"The projection rules ({held[1]}) do not fit "
                                              f"{system.label} and were set aside.")
        st.session_state[_RULES] = (rules, source, loaded_source)
        st.session_state[_RULES_VERSION] = rules_version() + 1
    rules, source, _ = st.session_state[_RULES]
    if rules is not None and not isinstance(rules, Rules):
        return None, ""
    return rules, source


def rules_version() -> int:
    """A count that changes whenever rules are set (the Years ahead page's widget keys)."""
    return st.session_state.get(_RULES_VERSION, 0)


def set_rules(rules, source: str, message: str | None = None, *, keep_widgets: bool = False
              ) -> None:
    """Hold `rules` (validated against the current system) from `source`. With
    `keep_widgets`, the page's widgets keep their state (an edit made through them)."""
    current_rules()
    st.session_state[_RULES] = (rules, source, st.session_state[_LOADED][1])
    if not keep_widgets:
        st.session_state[_RULES_VERSION] = rules_version() + 1
    if message:
        st.session_state[_RULES_FLASH] = message


def rules_flash() -> str | None:
    """What the last change of rules said, once."""
    return st.session_state.pop(_RULES_FLASH, None)


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
    "iy_month", "iy_method", "iy_n", "iy_member",                     # In year
    "ya_member", "ya_years", "ya_register", "ya_agreement", "ya_n", "ya_scenarios",  # Years ahead
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

