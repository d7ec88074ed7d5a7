"""Table presentation for the app: column configuration derived from the schema, money in £m."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from riskshare.core.constants import HALF_SHOWN_M
from riskshare.core.errors import MAX_LISTED, InputFileError, ValidationError
from riskshare.core.format import (
    LISTED,
    MISSING,
    MONEY_M_DP,
    listed,
    millions,
    money_m,
    pounds_input,
)
from riskshare.core.schema import COLUMNS, INDEX, KINDS
from riskshare.ui.text import md, md_lines

MONEY_M = f"%,.{MONEY_M_DP}f"   # £m in table columns: the rule of format.money_m
HIGHLIGHT = "#FDE2E1"  # rows that need attention (e.g. members worse off than standalone)


def editor_columns(extra: list[str]) -> dict:
    """Column configuration for the members editor, from `schema.ORG_COLUMNS` (money in £)."""
    cc = st.column_config
    # org_id pinned: with a system's extra columns (sharing bases) the table is wider than a
    # 1280 px screen, and a row must stay identifiable while it scrolls sideways
    config = {INDEX: cc.TextColumn("org_id", required=True, help="Unique id of the member",
                                   max_chars=40, pinned=True)}
    for name, col in COLUMNS.items():
        label = f"{name} ({col.unit})" if col.unit else name
        if col.kind == "text":
            config[name] = cc.TextColumn(label, required=True, help=col.description,
                                         width=130)   # every column fits 1280 px
        elif col.kind == "kind":
            config[name] = cc.SelectboxColumn(label, options=list(KINDS), required=True,
                                              help=col.description)
        elif col.kind == "money":
            # text, read by the library's money reader when the system is rebuilt: a number
            # cell would take "(£9,000,000)" as +9,000,000 without a word
            config[name] = cc.TextColumn(
                label, alignment="right", required=col.required,
                default=None if col.default is None else pounds_cell(col.default),
                help=f"{col.description} Type a deficit as -9,000,000 or (9,000,000); £ signs "
                     "and thousands separators are fine.")
        elif col.kind == "flag":     # in_sct: a tick for inside the SCT, cleared for outside
            config[name] = cc.CheckboxColumn(
                "in SCT", default=bool(col.default),
                help=f"{col.description} Ticked: inside; cleared: outside.")
        else:   # a percent ("volatility (%)"; the help says of what), short enough to fit
            config[name] = cc.NumberColumn(f"{name} (%)", help=f"{col.description} ({col.unit})",
                                           format="%.2f", min_value=col.minimum)
    for name in extra:
        config[name] = cc.NumberColumn(name, help="Extra column (can be a sharing basis)",
                                       format="%,.2f")
    return config


def pounds_cell(pounds) -> str | None:
    """A £ figure as the members table shows it for editing: '1,800,000', '-11,600,000.50';
    None when blank."""
    if pounds is None or pd.isna(pounds):
        return None
    return pounds_input(float(pounds))     # as the SCT box writes it: one rule for typed £


def editor_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The members table (`System.to_frame`) for the editor: the schema's money columns as
    text (`pounds_cell`), so whatever a user types — brackets, £, separators — reaches the
    library's reader, which says what it could not read."""
    out = frame.copy()
    for name, col in COLUMNS.items():
        if col.kind == "money" and name in out.columns:
            out[name] = pd.Series([pounds_cell(v) for v in out[name]], index=out.index,
                                  dtype=object)
    return out


def in_millions(frame: pd.DataFrame, money: list[str]) -> pd.DataFrame:
    """A copy of `frame` with its `money` columns (£) in £m (divided by a million) for display.

    A figure that rounds to zero at two decimals (under £5,000 either side) becomes exactly 0,
    so a table never shows "-0.00"; blanks stay blank. The figures keep their precision (a
    table sorts and compares on them); what a cell *shows* is the Styler's text
    (`styled_money`), rounded by the app's rule."""
    out = frame.copy()
    for c in money:
        shown = pd.to_numeric(out[c], errors="coerce") / 1e6
        out[c] = shown.mask(shown.abs() < HALF_SHOWN_M, 0.0)
    return out


def money_m_columns(money: dict[str, str], pct: dict[str, str] | None = None) -> dict:
    """Column configs: {column: label} for £m columns, and % columns to two decimals.

    The £m columns carry no number format of their own: a column format would override the
    Styler's text, and the browser's formatting rounds -0.175 (binary -0.17499…) to "-0.17"
    where every sentence says -£0.18m. Pass the frame through `styled_money`, whose text is
    the app's rule (`format.millions`: two decimals, separators, half away from zero, never
    "-0.00"); the figures underneath keep their precision for sorting."""
    cc = st.column_config
    config = {c: cc.NumberColumn(label) for c, label in money.items()}
    for c, label in (pct or {}).items():
        config[c] = cc.NumberColumn(label, format="%.2f%%")
    return config


def show_validation_error(exc: ValidationError, intro: str) -> None:
    """One error box listing the problems (member/row, column, value, rule): the first
    `INLINE_PROBLEMS` in the box, every one (up to `MAX_LISTED`) in an expander below it, so a
    file with hundreds of bad rows does not push the page away."""
    n = len(exc.problems)
    shown = exc.problems[:INLINE_PROBLEMS]
    lines = md_lines(shown)
    if n > len(shown):
        lines += f"\n\n… and {n - len(shown):,} more (listed below)."
    st.error(f"**{md(intro)}** {n:,} problem{'s' if n != 1 else ''}"
             f"{' in ' + md(exc.source) if exc.source else ''}:\n\n{lines}",
             icon=":material/error:")
    if n > len(shown):
        with st.expander(f"Every problem ({n:,})"):
            rest = md_lines(exc.problems[:MAX_LISTED])
            if n > MAX_LISTED:
                rest += (f"\n\n… and {n - MAX_LISTED:,} more: fix these and load the file "
                         "again.")
            st.markdown(rest)


INLINE_PROBLEMS = 12


def _m(value) -> str:
    """£m cell text like MONEY_M, never '-0.00'; '—' when missing."""
    return millions(value)


def styled_money(frame: pd.DataFrame, money: list[str], highlight=None):
    """A Styler showing `money` columns (£) in £m to two decimals with thousands separators
    (never "-0.00"; "—" when missing), and shading the rows where `highlight` (a boolean
    sequence) is true — e.g. members worse off."""
    shown = in_millions(frame, money)
    styler = shown.style.format(_m, subset=money, na_rep=MISSING)
    if highlight is not None:
        flags = list(highlight)
        styler = styler.apply(lambda row: [f"background-color: {HIGHLIGHT}"
                                           if flags[row.name] else "" for _ in row], axis=1)
    return styler



# -- agreement schedules ---------------------------------------------------------------------------
def bands_frame(schedule) -> pd.DataFrame:
    """A schedule's bands as an editable table: `upto` (% of scale; blank on the last band) and
    `pool` (share 0–1)."""
    return pd.DataFrame({"upto": [float("nan") if b.upto is None else float(b.upto)
                                  for b in schedule.bands],
                         "pool": [float(b.pool) for b in schedule.bands]}, dtype="float64")


def bands_from_frame(frame: pd.DataFrame) -> list[dict]:
    """The edited table back to TOML band tables; fully blank rows are dropped, half-blank ones
    kept so validation can name what is missing."""
    bands = []
    for upto, pool in zip(frame["upto"], frame["pool"], strict=True):
        band = {}
        if not pd.isna(upto):
            band["upto"] = float(upto)
        if not pd.isna(pool):
            band["pool"] = float(pool)
        if band:
            bands.append(band)
    return bands


# -- optimisation --------------------------------------------------------------------------------
MAX_CONFLICTS_SHOWN = 12


def show_infeasible(exc, intro: str = "") -> None:
    """An `InfeasibleError` in words: the conditions that pull against each other (error box)
    and the smallest change that would make the request possible (warning box)."""
    conflicts = [c.condition for c in exc.conflicts]
    shown = conflicts[:MAX_CONFLICTS_SHOWN]
    lines = "\n".join(f"- {md(_capital(c))}" for c in shown)
    if len(conflicts) > len(shown):
        lines += f"\n- … and {len(conflicts) - len(shown)} more like these"
    body = f"**{md(intro) + ' ' if intro else ''}{md(exc.headline)}.**"
    if lines:
        body += f"\n\nThese conditions cannot all hold at once:\n\n{lines}"
    st.error(body, icon=":material/block:")
    if exc.relaxations:
        changes = "\n".join(f"- {md(_capital(c.give_text))}" for c in exc.relaxations)
        one = len(exc.relaxations) == 1
        st.warning(f"**The smallest change that would make it possible** "
                   f"({'this one change' if one else 'all of these together'}):\n\n{changes}",
                   icon=":material/lightbulb:")
    else:
        st.warning("No single change was found that makes it possible: relax one or more of "
                   "the conditions above.", icon=":material/lightbulb:")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def warn_worse_off(outcome, advice: str) -> bool:
    """A warning naming the members worse off than on their own, and by how much, ending with
    `advice`. Returns whether there were any (deterministic outcomes)."""
    worse = outcome.worse_off
    if worse:
        n = outcome.base.n
        st.warning(f"**{len(worse)} of {n} members {'is' if len(worse) == 1 else 'are'} worse "
                   "off than on their own:** "
                   + listed([f"{md(m)} by "
                             f"{md(money_m(-outcome.table.loc[m, 'vs_standalone']))}"
                             for m in worse[:LISTED]] + worse[LISTED:])
                   + f". {md(advice)}", icon=":material/warning:")
    return bool(worse)


def show_load_error(exc: Exception, what: str) -> None:
    """Why `what` (a file or session name) was not loaded: every problem of a ValidationError,
    else the one reason."""
    if isinstance(exc, ValidationError):
        show_validation_error(exc, f"{what} was not loaded:")
    else:
        st.error(f"{md(what)} was not loaded: {md(exc)}", icon=":material/error:")


def read_text_upload(upload, read):
    """`read(text, file name)` on an uploaded UTF-8 text file; None, after saying why, when the
    file is not text or `read` rejects it (ValidationError or InputFileError)."""
    try:
        text = upload.getvalue().decode("utf-8-sig")
    except UnicodeDecodeError:
        st.error(f"{md(upload.name)} was not loaded: it is not a text (UTF-8) file.",
                 icon=":material/error:")
        return None
    try:
        return read(text, upload.name)
    except (ValidationError, InputFileError) as exc:
        show_load_error(exc, upload.name)
        return None


# -- the years ahead -------------------------------------------------------------------------------
def show_bridge(table: pd.DataFrame, whose: str) -> None:
    """A projection's bridge table (`Projection.bridge_table`: a row per step, a column per
    year, £) in £m, with the caption that says how it reads; `whose` names the member or the
    system (text shown as text)."""
    years = [c for c in table.columns if c != "step"]
    st.dataframe(styled_money(table, years), hide_index=True, width="stretch",
                 column_config={**money_m_columns({c: f"{c} £m" for c in years}),
                                "step": st.column_config.TextColumn("step", pinned=True)})
    st.caption(md(f"£m, for {whose}. Each year: the opening (last year's recurrent position) "
                  "plus each step gives the plan; the one-off lines and repayments end with "
                  "their year."))
