"""Workshop page: a facilitator runs a prepared session (`riskshare.session`) with a system's
leaders — step by step from where the system starts, through a shock and competing agreements,
to who would walk away and a fairer alternative — with large figures, live "what if" sliders,
and the session and its reports to hand out afterwards.

What the page shows comes from `riskshare.workshop.view`, so the room, the saved session and the
reports show the same figures. Session state keys start with `ws_`.
"""

from __future__ import annotations

import re
from typing import Literal

import streamlit as st

from riskshare import workshop
from riskshare.agreements.presets import load_preset
from riskshare.core.errors import InputFileError, RiskshareError, ValidationError
from riskshare.reports import charts
from riskshare.ui import state
from riskshare.ui.scenario_controls import store, stored
from riskshare.ui.tables import (
    money_m_columns,
    read_text_upload,
    show_load_error,
    show_validation_error,
    styled_money,
)
from riskshare.ui.text import md
from riskshare.workshop.printable import html_report, pdf_available, pdf_bytes
from riskshare.workshop.report import session_workbook
from riskshare.workshop.session import (
    Session,
    WhatIf,
    draft_session,
    list_sessions,
    load_session,
    read_session_text,
)

DEFAULT_SESSION = "northshire_workshop"
SESSION, SOURCE, STEP, REVEALED = "ws_session", "ws_source", "ws_step", "ws_revealed"
SEED, VERSION, PRESENT, CHOICE = "ws_seed", "ws_version", "ws_present", "ws_choice"
FLASH_DRAFT = "ws_drafted"
VIEW = "ws_view_{}"        # the last view worked out for each step, keyed on its inputs
METRICS_PER_ROW = 4
PRESENT_CHART_SCALE = 1.5   # chart text and row heights in presentation mode
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

PRESENTATION_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"] {
  display: none !important;
}
[data-testid="stMainBlockContainer"] { padding-top: 1.5rem; }
[data-testid="stMetricValue"] { font-size: 2.6rem; line-height: 1.25; }
[data-testid="stMetricValue"] > div { overflow: visible; }
[data-testid="stMetricLabel"] p { font-size: 1.15rem; }
[data-testid="stMetricDelta"] div { font-size: 1.1rem; }
.st-key-ws_heading h2 { font-size: 2.6rem; }
.st-key-ws_body [data-testid="stMarkdownContainer"] p,
.st-key-ws_body [data-testid="stMarkdownContainer"] li { font-size: 1.2rem; }
</style>
"""
# Both modes: long figure labels and changes wrap instead of being cut off.
BASE_CSS = """
<style>
.st-key-ws_figures [data-testid="stMetricLabel"],
.st-key-ws_figures [data-testid="stMetricLabel"] *,
.st-key-ws_figures [data-testid="stMetricDelta"],
.st-key-ws_figures [data-testid="stMetricDelta"] * {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
}
.st-key-ws_figures [data-testid="stMetricDelta"] { height: auto !important; }
</style>
"""


def unbroken(text: str) -> str:
    """Keep a minus with its amount: no line break inside '-£3.44m' (a word joiner)."""
    return text.replace("-£", "-\u2060£")


# -- the session in state -------------------------------------------------------------------------
def open_session(session: Session, source: str) -> None:
    """Show `session` at its own selected step and what-if (the what-if seeds the sliders)."""
    st.session_state[SESSION] = session
    st.session_state[SOURCE] = source
    st.session_state[STEP] = session.step
    st.session_state[REVEALED] = session.step
    st.session_state[SEED] = session.what_if or None
    st.session_state[VERSION] = st.session_state.get(VERSION, 0) + 1
    for k in range(1, len(session.steps) + 1):
        st.session_state.pop(VIEW.format(k), None)


def adopt(session: Session, source: str) -> None:
    """Open a session chosen by the facilitator; its system becomes the app's current system."""
    open_session(session, source)
    state.load(session.system, f"workshop session: {session.title}",
               f"Opened the session “{session.title}” at step {session.step} of "
               f"{len(session.steps)}; {session.system.label} is now the current system.")


if SESSION not in st.session_state:
    try:
        open_session(load_session(DEFAULT_SESSION), f"bundled session: {DEFAULT_SESSION}")
    except RiskshareError as exc:
        st.title("Workshop")
        st.error(f"**The bundled session could not be opened.** {md(exc)}",
                 icon=":material/error:")
        st.stop()

session: Session = st.session_state[SESSION]
n_steps = len(session.steps)
number = min(max(int(st.session_state[STEP]), 1), n_steps)
version = st.session_state[VERSION]
seed: WhatIf | None = st.session_state.get(SEED)


# -- navigation (callbacks run before the script) --------------------------------------------------
def go(step: int) -> None:
    st.session_state[STEP] = step
    st.session_state[REVEALED] = max(st.session_state.get(REVEALED, 1), step)
    st.session_state[SEED] = None          # what-ifs belong to the step they were made on


def reset() -> None:
    st.session_state[STEP] = 1
    st.session_state[REVEALED] = 1
    st.session_state[SEED] = None
    st.session_state[VERSION] = st.session_state.get(VERSION, 0) + 1


def back_to_prepared() -> None:
    st.session_state[SEED] = None
    st.session_state[VERSION] = st.session_state.get(VERSION, 0) + 1


def load_bundled() -> None:
    name = st.session_state.get(CHOICE, DEFAULT_SESSION)
    try:
        loaded = load_session(name)
    except (ValidationError, InputFileError) as exc:
        st.session_state["ws_load_error"] = (name, exc)
        return
    adopt(loaded, f"bundled session: {name}")


def draft() -> None:
    """A draft session on the app's current system: no sharing (A) against the current
    agreement (B)."""
    system, agreement = state.current_system(), state.current_agreement()
    chosen = [load_preset("standalone")]
    if agreement.name != chosen[0].name:
        chosen.append(agreement)
    try:
        drafted = draft_session(system, chosen)
    except ValidationError as exc:
        st.session_state["ws_draft_error"] = exc
        return
    open_session(drafted, "draft from the current system and agreement")
    st.session_state[FLASH_DRAFT] = True


@st.cache_data(show_spinner=False)
def bundled_title(name: str) -> str:
    try:
        return load_session(name).title
    except RiskshareError:
        return name


def file_name(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")[:60].strip("_")
    return slug or "session"


def describe_session(s: Session) -> str:
    agreements = "; ".join(f"**{md(label)}** — {md(a.name)}" for label, a in s.agreements)
    sc = s.scenarios
    dist = "normal" if sc.distribution == "normal" else f"Student t (df {sc.df:g})"
    kind = f", +{sc.kind_correlation:g} within a kind" if sc.kind_correlation else ""
    return (f"**{md(s.title)}** · system: {md(s.system.label)} ({s.system.n} members) · "
            f"{n_steps} steps  \nAgreements: {agreements}  \n"
            f"Scenarios: {sc.n:,} simulated years, seed {sc.seed}, correlation "
            f"{sc.correlation:g}{kind}, {dist}, volatility ×{sc.volatility_scale:g}; bad years "
            f"weigh λ = {s.risk_aversion:g} · {md(st.session_state[SOURCE])}")


# -- the page -------------------------------------------------------------------------------------
present = bool(st.session_state.get(PRESENT, False))
st.html(BASE_CSS + (PRESENTATION_CSS if present else ""))

head, toggle = st.columns([3, 1], vertical_alignment="center")
with toggle:
    present = st.toggle("Presentation mode", key=PRESENT,
                        help="Large figures, no sidebar or preparation controls: for the "
                             "screen in the room. Turn off to prepare, load or save.")
if present:
    head.markdown(f"**{md(session.title)}**")
else:
    head.title("Workshop")

downloads = None
if not present:
    st.markdown(
        "Run a prepared session with a system's leaders: step through where the system starts, "
        "a shock, the agreements on the table, who would walk away and a fairer alternative. "
        "Move the **What if…** sliders when someone asks, and hand out the session and its "
        "reports afterwards. Turn on **Presentation mode** for the screen in the room. "
        "Money in £m.")
    state.show_flash()
    if st.session_state.pop(FLASH_DRAFT, False):
        st.success(f"Drafted “{md(session.title)}”: save it below to edit its steps and notes.",
                   icon=":material/edit_note:")
    with st.container(border=True, key="ws_prep"):
        st.subheader("Session", anchor=False)
        left, right = st.columns(2, gap="large")
        with left:
            names = list_sessions()
            st.session_state.setdefault(CHOICE, DEFAULT_SESSION if DEFAULT_SESSION in names
                                        else (names[0] if names else None))
            st.selectbox("Bundled sessions", names, format_func=bundled_title, key=CHOICE)
            st.button("Load", key="ws_load", icon=":material/file_open:", on_click=load_bundled,
                      disabled=not names,
                      help="Open the chosen session at its own step; its system becomes the "
                           "current system on every page.")
            failed = st.session_state.pop("ws_load_error", None)
            if failed:
                name, error = failed
                show_load_error(error, f"The session “{name}”")
        with right:
            upload = st.file_uploader(
                "Or upload a session (.toml)", type=["toml"], key=f"ws_upload_{version}",
                help="A session as saved below: the system, agreements, scenario settings, "
                     "steps, and the step and what-if on screen.")
            if upload is not None:
                loaded = read_text_upload(upload, read_session_text)
                if loaded is not None:
                    adopt(loaded, f"upload: {upload.name}")
                    st.rerun()
        with left:
            st.button("Draft from the current system and agreement", key="ws_draft",
                      icon=":material/edit_note:", on_click=draft,
                      help="A new session on the system and agreement the other pages use: "
                           "where we start, the agreement against no sharing, who would walk "
                           "away, and which is fairer. Save it, edit the .toml (steps, notes, "
                           "shocks) and upload it again.")
            failed = st.session_state.pop("ws_draft_error", None)
            if failed:
                show_validation_error(failed, "No session could be drafted:")
        st.markdown(describe_session(session))
        downloads = st.container()   # filled once the what-if on screen is known

# -- navigation -----------------------------------------------------------------------------------
revealed = min(max(int(st.session_state.get(REVEALED, number)), number), n_steps)
with st.container(horizontal=True, vertical_alignment="center", key="ws_nav"):
    st.button("Back", key="ws_back", icon=":material/arrow_back:", disabled=number <= 1,
              on_click=go, args=(number - 1,), shortcut="PageUp")
    st.button("Next", key="ws_next", icon=":material/arrow_forward:", type="primary",
              disabled=number >= n_steps, on_click=go, args=(number + 1,), shortcut="PageDown")
    st.button("Reset", key="ws_reset", icon=":material/restart_alt:", on_click=reset,
              help="Back to step 1, every what-if cleared.")
    st.markdown(f"**Step {number} of {n_steps}**", width="content")
st.progress(number / n_steps)
shown = []
for k, s in enumerate(session.steps, start=1):
    if k == number:
        shown.append(f"**{k} {md(s.title)}**")
    elif k <= revealed:
        shown.append(f"{k} {md(s.title)}")
    else:
        shown.append(f":gray[{k}]")
st.caption(" · ".join(shown))

step = session.steps[number - 1]
with st.container(key="ws_heading"):
    st.header(md(step.title), anchor=False)
if step.notes.strip():
    if present:
        with st.expander("Facilitator's notes", expanded=False):
            st.markdown(md(step.notes))
    else:
        st.info(md(step.notes), icon=":material/record_voice_over:")

main, side = st.columns([3, 1], gap="large")


# -- what if --------------------------------------------------------------------------------------
def display(setting, value: float) -> float:
    """A knob value as its slider shows it (shares as percent)."""
    return round(value * 100, 6) if percent(setting.knob) else float(value)


def percent(knob) -> bool:
    return knob.unit == "share" and knob.key != "risk_aversion"


SLIDER_FORMAT = {"x": "%.1f×", "share": "%.0f%%", "%": "%.1f%%", "£m": "£%.1fm"}


def what_if_panel() -> WhatIf:
    """The sliders; returns the what-if they set (changes from the prepared values only)."""
    st.subheader("What if…", anchor=False)
    label = workshop.target_label(session, number, seed)
    if len(step.agreements) > 1 and label is not None:   # a step with agreements has a target
        label = st.selectbox(
            "Agreement the sliders change", list[str](step.agreements),
            index=list(step.agreements).index(label), key=f"ws_target_{version}_{number}",
            help="The agreement knobs below change this agreement only: "
                 + "; ".join(f"{md(x)} — {md(session.agreement(x).name)}"
                             for x in step.agreements))
        st.caption(f"{md(label)} — {md(session.agreement(label).name)}")
    seeded_label = workshop.target_label(session, number, seed) if seed else None
    settings = workshop.knobs(session, number, label)
    if not settings:
        st.caption("Nothing to change at this step: it shows the position as prepared.")
        return WhatIf()
    values = {}
    for s in settings:
        knob = s.knob
        start = s.value
        if seed and (knob.scope == "step" or label == seeded_label):
            start = seed.get(knob.key, s.value)
        low, high = min(s.low, start), max(s.high, start)   # a saved value may lie beyond
        scope = f"{label}_" if knob.scope == "agreement" else ""
        fmt = "%.2f" if knob.key == "risk_aversion" else SLIDER_FORMAT[knob.unit]
        factor = 100 if percent(knob) else 1
        shown_value = st.slider(
            f"{md(label)}: {knob.label}" if knob.scope == "agreement" else knob.label,
            min_value=float(low * factor), max_value=float(high * factor),
            value=display(s, start), step=float(round(knob.step * factor, 6)), format=fmt,
            key=f"ws_knob_{version}_{number}_{scope}{knob.key}", help=knob.help)
        shown_value = round(float(shown_value), 6)
        if abs(shown_value - display(s, start)) < 1e-9:
            value = start                       # unmoved: exactly as set (no rounding)
        else:
            value = round(shown_value / factor, 10)
        if abs(value - s.value) > 1e-9:
            values[knob.key] = value
    st.button("Back to the prepared figures", key="ws_prepared", icon=":material/undo:",
              on_click=back_to_prepared, disabled=not values)
    return WhatIf.of(label if step.agreements else None, **values) if values else WhatIf()


def work_out(what_if: WhatIf) -> dict:
    """The step's view for `what_if` (kept per step), or what went wrong."""
    key, inputs = VIEW.format(number), (session, number, what_if)
    result = stored(key, inputs)
    if result is None:
        slow = step.judge == "scenarios"
        with st.spinner(f"Working out “{step.title}” across {session.scenarios.n:,} simulated "
                        "years…" if slow else "Working out the step…"):
            try:
                result = {"view": workshop.view(session, number, what_if)}
            except ValidationError as exc:
                result = {"invalid": exc}
            except RiskshareError as exc:
                result = {"error": str(exc)}
        store(key, inputs, result)
    return result


with side:
    with st.container(border=True, key="ws_whatif"):
        what_if = what_if_panel()
        result = work_out(what_if)
        if what_if and "view" not in result:
            if "invalid" in result:
                show_validation_error(result["invalid"], "That what-if cannot be applied; the "
                                                         "prepared figures are shown —")
            else:
                st.error(f"**That what-if cannot be applied; the prepared figures are "
                         f"shown.** {md(result['error'])}", icon=":material/error:")
            what_if = WhatIf()
            result = work_out(what_if)

with main:
    if "view" not in result:
        if "invalid" in result:
            show_validation_error(result["invalid"], "This step could not be worked out —")
        else:
            st.error(f"**This step could not be worked out.** {md(result['error'])}",
                     icon=":material/error:")
        st.stop()
    view = result["view"]
    if view.changes:
        st.caption("What if: " + "; ".join(md(c) for c in view.changes) + ".")

    def delta_color(figure) -> Literal["normal", "inverse", "off"]:
        if figure.good is None or not figure.delta:
            return "off"
        falling = figure.delta.startswith("-")
        return "normal" if figure.good != falling else "inverse"

    with st.container(key="ws_figures"):
        figures = list(view.figures)
        rows = -(-len(figures) // METRICS_PER_ROW)
        per_row = -(-len(figures) // max(rows, 1))
        for i in range(0, len(figures), per_row):
            cols = st.columns(per_row)
            for col, f in zip(cols, figures[i:i + per_row], strict=False):  # last row may be short
                signed = f.delta[:1] in ("+", "-")
                col.metric(md(f.label), f.text, delta=f.delta or None,
                           delta_color=delta_color(f), delta_arrow="auto" if signed else "off",
                           border=True, height="stretch")
    if present:   # text and rows larger, for the screen in the room
        st.vega_lite_chart(charts.enlarged(view.chart, PRESENT_CHART_SCALE), width="stretch")
    else:
        st.altair_chart(view.chart, width="stretch")
    with st.container(key="ws_body"):
        st.markdown("\n".join(f"- {unbroken(md(s))}" for s in view.sentences))

# The member table spans the page (below the what-if panel too): every column fits.
with st.expander("Member figures (£m)", expanded=False):
    table = view.table.rename_axis("org_id").reset_index()
    money = [c for c in view.money if c in table.columns]
    styler = styled_money(table, money)
    chances = [c for c in table.columns if "P(" in str(c)]
    if chances:
        styler = styler.format(lambda v: f"{v:.0%}", subset=chances, na_rep="—")
    config = money_m_columns({c: str(c).replace("_", " ") for c in money})
    if "variance_pct" in table.columns:
        config["variance_pct"] = st.column_config.NumberColumn("variance %",
                                                               format="%.2f%%")
    config["org_id"] = st.column_config.TextColumn("member", pinned=True)
    if "name" in table.columns:
        config["name"] = st.column_config.TextColumn("name", width="medium")
    st.dataframe(styler, hide_index=True, width="stretch", column_config=config)

# -- hand-outs (preparation mode) -----------------------------------------------------------------
if downloads is not None:
    current = session.at_step(number, what_if)
    with downloads:
        st.markdown("**Hand-outs** — the session as on screen (this step and its what-if), "
                    "and reports of every step.")
        with st.container(horizontal=True, key="ws_downloads"):
            st.download_button("Save session", current.to_toml(),
                               file_name=f"{file_name(session.title)}.toml",
                               mime="application/toml", key="ws_save", on_click="ignore",
                               icon=":material/save:",
                               help="Reopens at this step with these what-if sliders.")
            st.download_button("Excel report", lambda: session_workbook(current),
                               file_name=f"{file_name(session.title)}.xlsx", mime=XLSX,
                               key="ws_xlsx", on_click="ignore", icon=":material/table:")
            st.download_button("Printable report (HTML)", lambda: html_report(current),
                               file_name=f"{file_name(session.title)}.html",
                               mime="text/html", key="ws_html", on_click="ignore",
                               icon=":material/print:")
            if pdf_available():
                st.download_button("PDF", lambda: pdf_bytes(html_report(current)),
                                   file_name=f"{file_name(session.title)}.pdf",
                                   mime="application/pdf", key="ws_pdf", on_click="ignore",
                                   icon=":material/picture_as_pdf:")
