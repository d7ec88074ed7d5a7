"""System page: load a sample or a file, edit members, see validation inline, download."""

from __future__ import annotations

import streamlit as st

from riskshare.core import io as rsio
from riskshare.core.cells import csv_text
from riskshare.core.errors import InputFileError, ValidationError
from riskshare.core.format import money_m
from riskshare.core.samples import SAMPLES, load_sample
from riskshare.core.schema import COLUMNS, INDEX, column_guide
from riskshare.core.system import System
from riskshare.ui import cache, state
from riskshare.ui.tables import editor_columns, show_load_error, show_validation_error
from riskshare.ui.text import md

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
        if st.button("Load sample", key="load_sample", type="primary"):
            state.load(load_sample(choice), f"sample: {SAMPLES[choice].title}",
                       f"Loaded the sample {SAMPLES[choice].title}.")
            st.rerun()
    with right:
        upload = st.file_uploader("Or upload your own (.csv or .xlsx)", type=["csv", "xlsx"],
                                  key=f"upload_{v}",
                                  help="An organisations table (CSV), or a workbook with sheets "
                                       "'organisations' and 'system' — download the template "
                                       "below.")
        if upload is not None:
            try:
                loaded = rsio.load_bytes(upload.getvalue(), upload.name)
            except (ValidationError, InputFileError) as exc:
                show_load_error(exc, upload.name)
            else:
                k = len(loaded.warnings)
                state.load(loaded, f"upload: {upload.name}",
                           f"Loaded {upload.name}: {loaded.n} members"
                           + (f" — {k} note{'s' if k > 1 else ''} below on how figures were "
                              "read." if k else "."))
                st.rerun()
        st.download_button("Download the blank template (.xlsx)", cache.template_workbook,
                           file_name="riskshare_template.xlsx", key="dl_template",
                           mime="application/vnd.openxmlformats-officedocument."
                                "spreadsheetml.sheet")

# -- system figures ---------------------------------------------------------------------------
st.subheader(md(system.label))
st.caption(md(state.source()))
c1, c2, c3 = st.columns([2, 1, 2])
name = c1.text_input("System name", value=system.name, key=f"name_{v}")
year = c2.text_input("Year", value=system.year, key=f"year_{v}")
with c3:
    sct_default = st.checkbox("SCT is the sum of the OCTs", value=not system.control_total_set,
                              key=f"sct_default_{v}",
                              help="Tick when no separate system control total has been set.")
    sct_value = st.number_input("System control total (£)", value=float(system.control_total),
                                step=100_000.0, format="%.2f", key=f"sct_{v}",
                                disabled=sct_default)
    if not sct_default:
        st.caption(f"= {money_m(sct_value, 2)}")

# -- members editor ---------------------------------------------------------------------------
st.markdown("**Members** — edit cells, add or delete rows; changes apply as soon as they are "
            "valid.")
editor_key = f"editor_{v}"
if editor_key not in st.session_state or "rs_editor_base" not in st.session_state:
    # A fresh editor (new load, or back from another page): start from the current system.
    st.session_state["rs_editor_base"] = system.to_frame()
base = st.session_state["rs_editor_base"]
extra = [c for c in base.columns if c != INDEX and c not in COLUMNS]
edited = st.data_editor(base, key=editor_key, num_rows="dynamic", hide_index=True,
                        width="stretch", column_config=editor_columns(extra))

try:
    candidate = System.from_frame(edited, None if sct_default else sct_value, name, year,
                                  source="the members table")
except ValidationError as exc:
    show_validation_error(exc, "Your edits are not applied yet —")
    st.caption("The other pages keep using the last valid data until these are fixed.")
else:
    state.update(candidate)
    system = candidate
    for w in system.warnings:
        st.warning(md(w), icon=":material/warning:")

# -- summary and downloads --------------------------------------------------------------------
m1, m2, m3, m4 = st.columns(4)
m1.metric("Members", system.n)
m2.metric("Sum of OCTs", money_m(system.sum_control_totals))
m3.metric("System control total", money_m(system.control_total))
m4.metric("Support at stake", money_m(float(system.orgs["support"].sum())))

d1, d2, _ = st.columns([1, 1, 2])
slug = "".join(ch if ch.isalnum() else "_" for ch in system.label.lower()).strip("_")
d1.download_button("Download this system (.xlsx)", lambda: cache.excel_bytes(system),
                   file_name=f"{slug or 'system'}.xlsx", key="dl_xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
d2.download_button("Download members (.csv)", lambda: csv_text(system.to_frame()),
                   file_name=f"{slug or 'system'}_organisations.csv", key="dl_csv",
                   mime="text/csv")

with st.expander("Column guide"):
    guide = column_guide()
    st.dataframe(guide, hide_index=True, width="stretch")
