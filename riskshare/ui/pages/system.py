"""System page: load a sample or a file, edit members, see validation inline, download."""

from __future__ import annotations

import math
from typing import Any

import streamlit as st

from riskshare.core import io as rsio
from riskshare.core.cells import csv_text
from riskshare.core.errors import InputFileError, ValidationError, problem
from riskshare.core.filenames import export_name
from riskshare.core.format import money_m, named, pounds_input
from riskshare.core.samples import SAMPLES, load_sample
from riskshare.core.schema import COLUMNS, INDEX, column_guide, read_number
from riskshare.core.system import System
from riskshare.core.write import file_frame
from riskshare.ui import cache, state
from riskshare.ui.tables import editor_columns, editor_frame, show_load_error, show_validation_error
from riskshare.ui.text import md
from riskshare.years.underlying import SYSTEM_ROW as UNDERLYING_SYSTEM_ROW
from riskshare.years.underlying import underlying


def _tidy_sct(key: str) -> None:
    """Rewrite a readable SCT typed in the box with its thousands separators ('1234000' ->
    '1,234,000'); anything unreadable is left as typed for the validation to name."""
    read, _ = read_number(st.session_state[key], "money")
    if read is not None and math.isfinite(read) and abs(read) < 1e15:
        st.session_state[key] = pounds_input(read)


st.title("System")
st.markdown("The members of the integrated care system, their organisational control totals "
            "(OCTs) and forecasts, and the system control total (SCT). Money in £; surplus "
            "positive, deficit negative.")
state.show_flash(notes=False)
state.show_load_notes()
system = state.current_system()
v = state.version()

# -- load -------------------------------------------------------------------------------------
with st.container(border=True):
    st.subheader("Load a system")
    left, right = st.columns(2, gap="large")
    with left:
        names = list(SAMPLES)
        choice = st.selectbox("Bundled sample", names, format_func=lambda n: SAMPLES[n].title,
                              key="sample_choice")
        st.caption(SAMPLES[choice].description)
        if st.button("Load sample", key="load_sample", type="primary") and state.request_load(
                load_sample(choice), f"sample: {SAMPLES[choice].title}",
                f"Loaded the sample {SAMPLES[choice].title}.", origin="system"):
            st.rerun()
    with right:
        upload = st.file_uploader("Or upload your own (.csv or .xlsx)", type=["csv", "xlsx"],
                                  key=f"upload_{v}",
                                  help="An organisations table (CSV), or a workbook with sheets "
                                       "'organisations' and 'system' — download the template "
                                       "below.")
        # An upload is read once: after "Keep my system" it is not offered again until a
        # different file is chosen.
        if upload is not None and st.session_state.get("rs_upload_seen") != upload.file_id:
            try:
                loaded = rsio.load_bytes(upload.getvalue(), upload.name)
            except (ValidationError, InputFileError) as exc:
                show_load_error(exc, upload.name)
            else:
                st.session_state["rs_upload_seen"] = upload.file_id
                k = len(loaded.warnings)
                # a workbook's monthly sheet comes with it (the In year page's table)
                months, months_note = state.monthly_in_upload(upload.getvalue(), upload.name,
                                                              loaded)
                monthly_args: dict[str, Any] = ({} if months is None and not months_note else
                                {"monthly": months, "monthly_note": months_note,
                                 "monthly_source": f"upload: {upload.name}, sheet 'monthly'"})
                # and its risks sheet (the Risks page's register)
                risks, risks_note = state.register_in_upload(upload.getvalue(), upload.name,
                                                             loaded)
                if risks is not None or risks_note:
                    monthly_args |= {"register": risks, "register_note": risks_note,
                                     "register_source": f"upload: {upload.name}, sheet 'risks'"}
                if state.request_load(loaded, f"upload: {upload.name}",
                                      f"Loaded {upload.name}: {loaded.n} members"
                                      + (f" — {k} note{'s' if k > 1 else ''} below on how "
                                         "figures were read." if k else "."),
                                      origin="system", **monthly_args):
                    st.rerun()
        st.download_button("Download the blank template (.xlsx)", cache.template_workbook,
                           file_name="riskshare_template.xlsx", key="dl_template",
                           mime="application/vnd.openxmlformats-officedocument."
                                "spreadsheetml.sheet")

state.confirm_pending("system")

# -- system figures ---------------------------------------------------------------------------
st.subheader(md(system.label))
st.caption(md(state.source()))
# drawn once the members table below has applied this run's edit: drawn before it, "Undo"
# would still be greyed out just after the edit it should take back
undo_slot = st.container()


def undo_buttons() -> None:
    u1, u2, _ = undo_slot.columns([1.1, 1.5, 3])
    draw_undo(u1, u2)


def draw_undo(u1, u2) -> None:
    """Undo last edit / Reset to the loaded file, enabled by the state after this run's edit."""
    if u1.button("Undo last edit", key="undo_edit", icon=":material/undo:",
                 disabled=state.undo_depth() == 0,
                 help="Puts back the members, figures and names as they were before the last "
                      "valid edit on this page."):
        state.undo()
        st.rerun()
    if u2.button("Reset to the loaded file", key="reset_loaded", icon=":material/restart_alt:",
                 disabled=not state.edited_since_load(),
                 help="Drops every edit made since this system was loaded."):
        state.reset_to_loaded()
        st.rerun()


c1, c2, c3 = st.columns([2, 1, 2])
name = c1.text_input("System name", value=system.name, key=f"name_{v}")
year = c2.text_input("Year", value=system.year, key=f"year_{v}")
with c3:
    sct_default = st.checkbox("SCT is the sum of the OCTs", value=not system.control_total_set,
                              key=f"sct_default_{v}",
                              help="Tick when no separate system control total has been set.")
    # A text box, so the figure shows its thousands separators; read with the money reader
    # ("£1,234,000", "(2,000,000)" for a deficit) and validated with the members below.
    sct_shown = pounds_input(system.control_total)
    sct_text = st.text_input("System control total (£)", value=sct_shown, key=f"sct_{v}",
                             disabled=sct_default, on_change=_tidy_sct, args=(f"sct_{v}",),
                             help="In pounds, surplus positive and deficit negative: "
                                  "-2,000,000, £1,234,000 or (2,000,000).")
    # unchanged text keeps the figure to the penny (the box shows it rounded)
    sct_value: float | str = (system.control_total if sct_text.strip() == sct_shown
                              else sct_text)
    sct_read = read_number(sct_value, "money")[0]
    sct_problems = [] if sct_default or sct_text.strip() else [problem(
        "is blank: give the system control total in £, or tick 'SCT is the sum of the OCTs'",
        column="control_total")]
    if not sct_default and sct_read is not None and math.isfinite(sct_read):
        st.caption(f"= {money_m(sct_read)}")

# -- members editor ---------------------------------------------------------------------------
st.markdown("**Members** — edit cells, add or delete rows; changes apply as soon as they are "
            "valid.")
editor_key = f"editor_{v}"
if editor_key not in st.session_state or "rs_editor_base" not in st.session_state:
    # A fresh editor (new load, or back from another page): start from the current system.
    st.session_state["rs_editor_base"] = editor_frame(system.to_frame())
base = st.session_state["rs_editor_base"]
extra = [c for c in base.columns if c != INDEX and c not in COLUMNS]
# the in/out marker beside the kind, where it is seen at 1280 px without scrolling sideways
order = [INDEX, "name", "kind", "in_sct", *[c for c in base.columns
                                            if c not in (INDEX, "name", "kind", "in_sct")]]
edited = st.data_editor(base, key=editor_key, num_rows="dynamic", hide_index=True,
                        width="stretch", column_config=editor_columns(extra),
                        column_order=order)
if extra:
    st.caption(md(f"Also in this table (scroll right; org_id stays in view): "
                  f"{', '.join(extra)} — extra columns a sharing basis can use."))

try:
    candidate = System.from_frame(edited, None if sct_default else sct_value, name, year,
                                  source="the members table", found=sct_problems)
except ValidationError as exc:
    show_validation_error(exc, "Your edits are not applied yet —")
    st.caption("The other pages keep using the last valid data until these are fixed.")
else:
    state.update(candidate)
    system = candidate
    for w in system.warnings:
        st.warning(md(w), icon=":material/warning:")
undo_buttons()

# -- summary and downloads --------------------------------------------------------------------
outside = system.outside_members
if outside:
    st.info(f"**System boundary.** {system.n - len(outside)} members are inside the system "
               f"control total; {md(named(outside))} "
               f"{'is' if len(outside) == 1 else 'are'} outside it (the **in SCT** box cleared). "
               "Members outside take part in agreements — they pool and receive like any other — "
               "but are left out of ΣOCT, the gap, the system forecast, rebalancing and the "
               "system support test.", icon=":material/fence:")
m1, m2, m3, m4 = st.columns(4)
m1.metric(f"Members ({system.n - len(outside)} in the SCT)" if outside else "Members", system.n)
m2.metric("Sum of OCTs" + (" (inside the SCT)" if outside else ""),
          money_m(system.sum_control_totals))
m3.metric("System control total", money_m(system.control_total))
m4.metric("Support at stake", money_m(float(system.orgs["support"].sum())))
if (system.orgs["non_recurrent"] > 0).any():
    # reported against underlying (the forecast less its one-offs), as the Reconcile and Years
    # ahead pages show it in full
    under = underlying(system)
    s = under.table.loc[UNDERLYING_SYSTEM_ROW]
    only = under.one_offs_only()
    u1, u2, u3, u4 = st.columns(4)
    u1.metric("Forecast vs SCT (reported)", money_m(s["forecast_vs_control_total"], sign=True),
              help=f"The system's forecast {money_m(s['forecast'])} against the SCT.")
    u2.metric("One-offs in the forecast", money_m(s["non_recurrent"]),
              help="Non-recurrent support, savings and income (non_recurrent, nr_ lines).")
    u3.metric("Underlying vs SCT", money_m(s["underlying_vs_control_total"], sign=True),
              help=f"The underlying position {money_m(s['underlying'])}: the forecast less "
                   "its one-offs, against the SCT.")
    u4.metric("Met only through one-offs", len(only),
              help="Members whose forecast meets their control total but whose underlying "
                   "position does not" + (f": {', '.join(only)}." if only else "."))
    if only:
        st.warning(md(f"Meeting the control total only through one-offs: {named(only)}. "
                      "Without them the underlying position falls short."),
                   icon=":material/flag:")
    st.page_link("riskshare/ui/pages/years.py", label="Reported and underlying, and the years "
                 "ahead, in full", icon=":material/timeline:")

d1, d2, _ = st.columns([1, 1, 2])
months = state.current_monthly()      # the workbook keeps the In year page's table too
risks = state.current_register()      # and the Risks page's register
d1.download_button("Download this system (.xlsx)",
                   lambda: cache.excel_bytes(system, months, risks),
                   file_name=export_name(system.label, "system", "xlsx"), key="dl_xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
d2.download_button("Download members (.csv)", lambda: csv_text(file_frame(system)),
                   file_name=export_name(system.label, "organisations", "csv"), key="dl_csv",
                   mime="text/csv")

with st.expander("Column guide"):
    # a static table: its long "meaning" sentences wrap instead of being cut at 1280 px
    guide = column_guide()
    st.table(guide.set_index(guide.columns[0]))
