"""Workshop page: a facilitator runs a prepared session (`riskshare.session`) with a system's
leaders — step by step from where the system starts, through a shock and competing agreements,
to who would walk away and a fairer alternative — with large figures, live "what if" sliders,
and the session and its reports to hand out afterwards.

What the page shows comes from `riskshare.workshop.view`, so the room, the saved session and the
reports show the same figures. Session state keys start with `ws_`.
"""

from __future__ import annotations

import functools
import textwrap
from typing import Literal

import streamlit as st

from riskshare import workshop
from riskshare.agreements.presets import load_preset
from riskshare.core.errors import InputFileError, RiskshareError, ValidationError
from riskshare.core.filenames import export_name, slug
from riskshare.reports import charts
from riskshare.ui import clicker, prefetch, rooms, state
from riskshare.ui.scenario_controls import store, stored
from riskshare.ui.tables import (
    money_m_columns,
    read_text_upload,
    show_bridge,
    show_load_error,
    show_validation_error,
    styled_money,
)
from riskshare.ui.text import md, unbroken
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
from riskshare.workshop.steps import TORNADO_ROWS

DEFAULT_SESSION = "northshire_workshop"
SESSION, SOURCE, STEP, REVEALED = "ws_session", "ws_source", "ws_step", "ws_revealed"
SEED, VERSION, PRESENT, CHOICE = "ws_seed", "ws_version", "ws_present", "ws_choice"
FLASH_DRAFT = "ws_drafted"
ROOM = "ws_room"           # the code of this window's room, once a presenter view can follow it
POLL_SECONDS = 1.0         # how often the page looks for a step moved in the presenter view
WAIT_SECONDS = 5.0         # ... and, until a presenter view has opened the room, for one
VIEW = "ws_view_{}"        # the last view worked out for each step, keyed on its inputs
METRICS_PER_ROW = 4
PRESENT_CHART_SCALE = 1.5   # chart text and row heights in presentation mode
# Presentation mode at 1280×720: the whole chart (title, plot, axis and legend) is this tall
# (px), so it fits under the step's heading without scrolling — unless its rows would be
# shorter than PRESENT_MIN_ROW px (18px labels need the room) once PRESENT_CHART_FRAME px go to
# the titles, axis and legend: then each row keeps its enlarged height and the page scrolls.
PRESENT_CHART_HEIGHT, PRESENT_CHART_FRAME, PRESENT_MIN_ROW = 500, 240, 24
PRESENT_SUBTITLE_CHARS = 115  # a subtitle line longer than this wraps (it would be cut off)
PRESENT_LABEL_LIMIT = 300     # px: longer axis and legend labels end in "…" (the plot keeps room)
PRESENT_SUBTITLE_SIZE = 15    # px: subtitles a little smaller than the chart's other text
PRESENT_BAR_BAND = 0.7        # a bar drawn at a fixed thickness fills this much of its row
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Member-table headings where the column's name would not read well
MEMBER_LABELS = {"risk_adjusted": "risk-adjusted forecast",
                 "risk_adjusted_vs_control_total": "risk-adjusted vs control total",
                 "contribution_90": "contribution to the 90% reserve",
                 "discounted gain over alone": "over the horizon: agreement − alone, "
                                               "discounted"}

PRESENTATION_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"] {
  display: none !important;
}
[data-testid="stMainBlockContainer"] { padding-top: 1rem; padding-bottom: 2rem; }
[data-testid="stMetricValue"] { font-size: 2.6rem; line-height: 1.25; }
[data-testid="stMetricValue"] > div { overflow: visible; }
[data-testid="stMetricLabel"] p { font-size: 1.15rem; }
[data-testid="stMetricDelta"] div { font-size: 1.1rem; }
.st-key-ws_heading h2 { font-size: 2.6rem; padding: 0.25rem 0 0; }
.st-key-ws_figures [data-testid="stMetric"] { padding: 0.5rem 0.9rem; }
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
.st-key-ws_follow, [data-testid="stLayoutWrapper"]:has(> .st-key-ws_follow) {
  display: none;
}
</style>
"""


# -- the session in state -------------------------------------------------------------------------
def publish() -> None:
    """Tell this window's room (if any) the session and step now on screen."""
    code = st.session_state.get(ROOM)
    if code:
        rooms.registry().show(code, st.session_state[SESSION], int(st.session_state[STEP]))


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
    publish()


def adopt(session: Session, source: str) -> bool:
    """Open a session chosen by the facilitator; its system becomes the app's current system.

    When that would replace the user's own (uploaded, edited, rebalanced) system, nothing
    changes until they confirm (`state.confirm_pending("workshop")`); True when opened now."""
    # the session's own monthly table and risk register come with its system (else the
    # usual: a sample's own, or those held while they fit)
    held: dict = {}
    if session.monthly is not None:
        held |= {"monthly": session.monthly,
                 "monthly_source": f"workshop session: {session.title}"}
    if session.register is not None:
        held |= {"register": session.register,
                 "register_source": f"workshop session: {session.title}"}
    return state.request_load(
        session.system, f"workshop session: {session.title}",
        f"Opened the session “{session.title}” at step {session.step} of "
        f"{len(session.steps)}; {session.system.label} is now the current system.",
        origin="workshop", then=lambda: open_session(session, source), **held)


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
version = st.session_state[VERSION]


# -- navigation (callbacks run before the script) --------------------------------------------------
def go(step: int) -> None:
    st.session_state[STEP] = step
    st.session_state[REVEALED] = max(st.session_state.get(REVEALED, 1), step)
    st.session_state[SEED] = None          # what-ifs belong to the step they were made on
    publish()


def move(by: int) -> None:
    """Move `by` steps (+1 Next, -1 Back) from the step on screen, within the session: two
    quick presses of a clicker move two steps."""
    session = st.session_state[SESSION]
    room = rooms.registry().find(st.session_state.get(ROOM))
    # the room's step when it shows this session: it may have moved since this window last ran
    at = room.step if room is not None and room.session is session else st.session_state[STEP]
    go(min(max(int(at) + by, 1), len(session.steps)))


def reset() -> None:
    st.session_state[STEP] = 1
    st.session_state[REVEALED] = 1
    st.session_state[SEED] = None
    st.session_state[VERSION] = st.session_state.get(VERSION, 0) + 1
    publish()


# -- the presenter view's room (riskshare.ui.rooms) ------------------------------------------------
def open_room() -> None:
    """A room for this window, so that a presenter view can follow and move its steps."""
    if rooms.registry().find(st.session_state.get(ROOM)) is None:
        room = rooms.registry().open(st.session_state[SESSION], int(st.session_state[STEP]))
        st.session_state[ROOM] = room.code


def follow_room() -> rooms.Room | None:
    """This window's room, once the step shown here agrees with it: a step moved in the
    presenter view comes on screen here (as Next or Back would bring it)."""
    room = rooms.registry().find(st.session_state.get(ROOM))
    if room is None:
        st.session_state.pop(ROOM, None)      # expired (or never opened)
    elif room.session is not st.session_state[SESSION]:
        publish()
    elif room.step != st.session_state[STEP]:
        go(room.step)
    return room


def moved_elsewhere(code: str, step: int, followed: bool) -> bool:
    """Whether the room has moved off `step` (or a presenter view has come since the page ran
    with `followed`): the page must run again to show it."""
    room = rooms.registry().find(code)
    return room is not None and room.session is st.session_state.get(SESSION) \
        and (room.step != step or room.followed != followed)


@st.fragment(run_every=POLL_SECONDS)
def watch_room(code: str, step: int) -> None:
    """Every second, once a presenter view is open: rerun the page when it moved the step."""
    if moved_elsewhere(code, step, True):
        st.rerun()


@st.fragment(run_every=WAIT_SECONDS)
def await_presenter(code: str, step: int) -> None:
    """Every few seconds, until a presenter view opens the room: rerun the page when it does
    (the page then watches every second)."""
    if moved_elsewhere(code, step, False):
        st.rerun()


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


def current_register():
    """The app's risk register for the current system, when the app holds one
    (`state.current_register`), else None."""
    held = getattr(state, "current_register", None)
    return held() if callable(held) else None


def draft() -> None:
    """A draft session on the app's current system: no sharing (A) against the current
    agreement (B); with the app's risk register, a risks step too."""
    system, agreement = state.current_system(), state.current_agreement()
    chosen = [load_preset("standalone")]
    if agreement.name != chosen[0].name:
        chosen.append(agreement)
    try:
        drafted = draft_session(system, chosen, register=current_register())
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
    """The session file's stem: the title's words joined by underscores, at most 60 characters,
    cut at the end of a word (`core.filenames.slug`)."""
    return slug(title, 60).replace("-", "_") or "session"


def describe_session(s: Session) -> str:
    agreements = "; ".join(f"**{md(label)}** — {md(a.name)}" for label, a in s.agreements)
    sc = s.scenarios
    dist = "normal" if sc.distribution == "normal" else f"Student t (df {sc.df:g})"
    kind = f", +{sc.kind_correlation:g} within a kind" if sc.kind_correlation else ""
    if sc.uses_register():
        linked = f", correlated {sc.event_correlation:g}" if sc.event_correlation else ""
        dist_note = (f"; the risk register's events{linked} "
                     + ("on top of the volatility" if sc.register == "add" else
                        "instead of the volatility"))
    else:
        dist_note = ""
    return (f"**{md(s.title)}** · system: {md(s.system.label)} ({s.system.n} members) · "
            f"{n_steps} steps  \nAgreements: {agreements}  \n"
            f"Scenarios: the session's own — {sc.n:,} simulated years, seed {sc.seed}, "
            f"correlation {sc.correlation:g}{kind}, {dist}, volatility "
            f"×{sc.volatility_scale:g}{dist_note}; bad years weigh λ = {s.risk_aversion:g} (the sidebar's "
            f"Scenario settings are for the Scenarios, Compare and Fairness pages) · "
            f"{md(st.session_state[SOURCE])}")


def which_system(s: Session) -> str:
    """In words: the system this page works on (the session's) against the current system the
    sidebar and the other pages use."""
    current = state.current_system()
    if s.system.equals(current):
        return (f"This page uses the session's system, **{md(s.system.label)}** "
                f"({s.system.n} members): the current system, as in the sidebar.")
    return (f"This page uses the session's own system, **{md(s.system.label)}** "
            f"({s.system.n} members), not the current system in the sidebar, "
            f"**{md(current.label)}** ({current.n} members), which the other pages use. "
            "Load or upload a session to make its system the current one.")


def presenter_link(code: str) -> str:
    """The presenter view's address for a room, relative to this page."""
    return f"presenter?room={code}"


# -- the page -------------------------------------------------------------------------------------
present = bool(st.session_state.get(PRESENT, False))
if present:
    open_room()              # presenting: a presenter view can follow from now on
room = follow_room()         # a step moved in the presenter view comes on screen here
number = min(max(int(st.session_state[STEP]), 1), n_steps)
seed: WhatIf | None = st.session_state.get(SEED)
st.html(BASE_CSS + (PRESENTATION_CSS if present else ""))

head, toggle = st.columns([3, 1], vertical_alignment="center")
with toggle:
    present = st.toggle("Presentation mode", key=PRESENT,
                        help="Large figures, no sidebar or preparation controls: for the "
                             "screen in the room; the clicker's PageDown / PageUp (or arrow "
                             "keys) move between steps. Turn off to prepare, load or save.")
if present:
    clicker.install("ws_next", "ws_back", marker="ws_clicker", guard="ws_whatif")
    clicker.to_top(f"{st.session_state.get(VERSION, 0)}-{number}", marker="ws_to_top")
else:
    head.title("Workshop")
if room is not None:
    with st.container(key="ws_follow"):
        (watch_room if room.followed else await_presenter)(room.code, number)

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
        state.confirm_pending("workshop")
        with right:
            upload = st.file_uploader(
                "Or upload a session (.toml)", type=["toml"], key=f"ws_upload_{version}",
                help="A session as saved below: the system, agreements, scenario settings, "
                     "steps, and the step and what-if on screen.")
            # read once: after "Keep my system" the same file is not offered again
            if upload is not None and st.session_state.get("ws_upload_seen") != upload.file_id:
                loaded = read_text_upload(upload, read_session_text)
                if loaded is not None:
                    st.session_state["ws_upload_seen"] = upload.file_id
                    if adopt(loaded, f"upload: {upload.name}"):
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
        st.markdown(which_system(session))
        downloads = st.container()   # filled once the what-if on screen is known

# -- navigation -----------------------------------------------------------------------------------
revealed = min(max(int(st.session_state.get(REVEALED, number)), number), n_steps)
# presenting: the buttons share the top line with the toggle (the chart needs the height)
with head if present else st.container(), \
        st.container(horizontal=True, vertical_alignment="center", key="ws_nav"):
    st.button("Back", key="ws_back", icon=":material/arrow_back:", disabled=number <= 1,
              on_click=move, args=(-1,), shortcut="PageUp")
    st.button("Next", key="ws_next", icon=":material/arrow_forward:", type="primary",
              disabled=number >= n_steps, on_click=move, args=(1,), shortcut="PageDown")
    st.button("Reset", key="ws_reset", icon=":material/restart_alt:", on_click=reset,
              help="Back to step 1, every what-if cleared.")
    st.markdown(f"**Step {number} of {n_steps}**", width="content")
    presenter_help = ("Opens in a new tab for your own screen: this step's notes, the next "
                      "step and a timer, with Back and Next that move this screen too. The "
                      "room does not see it.")
    if room is not None:
        st.link_button("Presenter view", presenter_link(room.code), key="ws_presenter",
                       icon=":material/speaker_notes:", type="tertiary", help=presenter_help)
    else:
        st.button("Set up a presenter view", key="ws_open_room", on_click=open_room,
                  icon=":material/speaker_notes:", type="tertiary", help=presenter_help)
st.progress(number / n_steps)
shown = []
for k, s in enumerate(session.steps, start=1):
    if k == number:
        shown.append(f"**{k} {md(s.title)}**")
    elif k <= revealed:
        shown.append(f"{k} {md(s.title)}")
    else:
        shown.append(f":gray[{k}]")
st.caption((f"**{md(session.title)}** — " if present else "") + " · ".join(shown))

step = session.steps[number - 1]
with st.container(key="ws_heading"):
    st.header(md(step.title), anchor=False)
if step.notes.strip() and not present:   # presenting: below the chart, or the presenter view
    st.info(md(step.notes), icon=":material/record_voice_over:")

main, side = st.columns([3, 1], gap="large")
# Presenting, the figures stand beside the chart (above the what-if panel), so the chart sits
# under the heading, on screen without scrolling at 1280×720.
figures_home = side.container() if present else main.container()


# -- the risk register ------------------------------------------------------------------------------
def risk_tables(view: workshop.StepView) -> None:
    """A risks step's ranking (every event, largest effect first; the tornado shows the first
    `TORNADO_ROWS`), then the reserve the system would need at each level."""
    cc = st.column_config
    with st.container(key="ws_ranking"):
        st.markdown("**Which matters most**")
        ranking = view.results["ranking"].copy()
        ranking["points"] = ranking["delta_p_meet"] * 100
        ranking["probability"] = ranking["probability"] * 100
        shown = ranking[["event", "type", "amount", "probability", "points", "delta_mean"]]
        st.dataframe(
            styled_money(shown.reset_index(drop=True), ["amount", "delta_mean"]),
            hide_index=True, width="stretch",
            column_config={
                **money_m_columns({"amount": "£m if it happens",
                                   "delta_mean": "average position £m"}),
                "event": cc.TextColumn("risk or mitigation", width="medium"),
                "type": cc.TextColumn("type"),
                "probability": cc.NumberColumn("probability", format="%.0f%%"),
                "points": cc.NumberColumn("chance of meeting the SCT (points)",
                                          format="%+.1f")})
    left, _ = st.columns(2)
    with left, st.container(key="ws_reserve"):
        st.markdown("**The reserve the system would need**")
        levels = view.results["reserve"].levels.reset_index()
        for c in ("p", "share_meeting_without", "share_meeting_with"):
            levels[c] = levels[c] * 100
        st.dataframe(
            styled_money(levels, ["reserve"]), hide_index=True, width="stretch",
            column_config={
                **money_m_columns({"reserve": "reserve £m"}),
                "p": cc.NumberColumn("to meet the SCT in", format="%.0f%%"),
                "share_meeting_without": cc.NumberColumn("meets it without", format="%.1f%%"),
                "share_meeting_with": cc.NumberColumn("with it", format="%.1f%%")})


# -- the years ahead --------------------------------------------------------------------------------
def years_tables(view: workshop.StepView) -> None:
    """A years step's bridge for the system, year by year (the chart's steps as figures, and
    the plan against the SCT each year)."""
    p = view.results["projection"]
    with st.container(key="ws_bridge"):
        st.markdown("**The system's bridge, year by year**")
        show_bridge(p.bridge_table(), f"the system inside the SCT, under the rules "
                                      f"“{p.rules.name}”")


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
    item = seeded_item = None
    items: list[str] = []
    if session.register is not None and workshop.uses_register(session, number) \
            and len(session.register.table):
        items = workshop.item_labels(session.register)
        seeded_item = workshop.target_item(session.register, seed) if seed else None
        item = st.selectbox(
            "Risk or mitigation the probability slider changes", items,
            index=items.index(workshop.target_item(session.register, seed)),
            key=f"ws_item_{version}_{number}",
            help="An item of the risk register (member: item). An item in a group moves with "
                 "its group: a group's items happen together.")
    settings = workshop.knobs(session, number, label, item)
    if not settings:
        st.caption("Nothing to change at this step: it shows the position as prepared.")
        return WhatIf()
    values = {}
    for s in settings:
        knob = s.knob
        start = s.value
        if seed and (knob.scope == "step" or (knob.scope == "agreement" and label == seeded_label)
                     or (knob.scope == "item" and item == seeded_item)):
            start = seed.get(knob.key, s.value)
        low, high = min(s.low, start), max(s.high, start)   # a saved value may lie beyond
        scope = (f"{label}_" if knob.scope == "agreement" else
                 f"item{items.index(item)}_" if knob.scope == "item" and item in items else "")
        fmt = ("%.2f" if knob.key == "risk_aversion" else "%.2f%%" if knob.key == "savings"
               else SLIDER_FORMAT[knob.unit])
        factor = 100 if percent(knob) else 1
        shown_value = st.slider(
            f"{md(label)}: {knob.label}" if knob.scope == "agreement" else
            f"{md(s.item)}: {knob.label.lower()}" if knob.scope == "item" else knob.label,
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
    return WhatIf.of(label if step.agreements else None,
                     item if "probability" in values else None, **values) if values else WhatIf()


def view_result(session: Session, number: int, what_if: WhatIf) -> dict:
    """Step `number`'s view for `what_if`, or what went wrong (pure: no Streamlit call, so it
    can run in the background — see `riskshare.ui.prefetch`)."""
    try:
        return {"view": workshop.view(session, number, what_if)}
    except ValidationError as exc:
        return {"invalid": exc}
    except RiskshareError as exc:
        return {"error": str(exc)}


def work_out(what_if: WhatIf) -> dict:
    """The step's view for `what_if` (kept per step; taken from the background when it was
    worked out ahead), or what went wrong."""
    key, inputs = VIEW.format(number), (session, number, what_if)
    result = stored(key, inputs)
    if result is None:
        slow = step.judge == "scenarios"
        with st.spinner(f"Working out “{step.title}” across {session.scenarios.n:,} simulated "
                        "years…" if slow else "Working out the step…"):
            result = prefetch.take(key, inputs)
            if result is None:
                result = view_result(session, number, what_if)
        store(key, inputs, result)
    return result


def prefetch_next() -> None:
    """Start working out the next step as prepared while the room looks at this one, so the
    clicker's next press shows it at once (a step judged across scenarios takes a second)."""
    if number >= n_steps:
        return
    key, inputs = VIEW.format(number + 1), (session, number + 1, WhatIf())
    if stored(key, inputs) is None:
        prefetch.start(key, inputs, functools.partial(view_result, session, number + 1,
                                                      WhatIf()))


def presented(chart, rows: int) -> dict:
    """The chart for the screen in the room: text `PRESENT_CHART_SCALE` times larger, legends
    stacked and long subtitle lines wrapped (nothing runs off the side), and the whole chart
    `PRESENT_CHART_HEIGHT` px tall when its `rows` (members on the vertical axis) still get
    `PRESENT_MIN_ROW` px each (bars of a fixed thickness then fill `PRESENT_BAR_BAND` of their
    row, so neighbours never touch)."""
    spec = charts.enlarged(chart, PRESENT_CHART_SCALE)
    spec.setdefault("config", {}).setdefault("legend", {}).setdefault("columns", 1)

    def cap(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "labelLimit" and isinstance(value, (int, float)):
                    node[key] = min(value, PRESENT_LABEL_LIMIT)
                elif key not in ("datasets", "data"):
                    cap(value)
        elif isinstance(node, list):
            for item in node:
                cap(item)

    cap(spec)
    title = spec.get("title")
    if isinstance(title, dict) and title.get("subtitle"):
        lines = title["subtitle"] if isinstance(title["subtitle"], list) else [title["subtitle"]]
        title["subtitle"] = [part for line in lines
                             for part in textwrap.wrap(str(line), PRESENT_SUBTITLE_CHARS) or [""]]
        title["subtitleFontSize"] = PRESENT_SUBTITLE_SIZE
    height = spec.get("height")
    fits = rows * PRESENT_MIN_ROW <= PRESENT_CHART_HEIGHT - PRESENT_CHART_FRAME
    if isinstance(height, (int, float)) or (isinstance(height, dict) and fits):
        spec["height"] = PRESENT_CHART_HEIGHT      # Streamlit fits the whole chart in it
        for layer in spec.get("layer", []):
            mark = layer.get("mark")
            if isinstance(mark, dict) and mark.get("type") == "bar" \
                    and isinstance(mark.get("height"), (int, float)):
                mark["height"] = {"band": PRESENT_BAR_BAND}
    return spec


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

    with figures_home.container(key="ws_figures"):
        figures = list(view.figures)
        rows = -(-len(figures) // METRICS_PER_ROW)
        per_row = 1 if present else -(-len(figures) // max(rows, 1))
        for i in range(0, len(figures), per_row):
            cols = st.columns(per_row)
            for col, f in zip(cols, figures[i:i + per_row], strict=False):  # last row may be short
                signed = f.delta[:1] in ("+", "-")
                col.metric(md(f.label), f.text, delta=f.delta or None,
                           delta_color=delta_color(f), delta_arrow="auto" if signed else "off",
                           border=True, height="stretch")
    ranking = view.results.get("ranking")
    rows = len(view.table) if ranking is None else min(len(ranking), TORNADO_ROWS)
    if present:   # text and rows larger, for the screen in the room
        st.vega_lite_chart(presented(view.chart, rows), width="stretch")
    else:
        st.altair_chart(view.chart, width="stretch")
    with st.container(key="ws_body"):
        st.markdown("\n".join(f"- {unbroken(md(s))}" for s in view.sentences))
    if present and step.notes.strip():   # tucked away: the room sees only the heading
        with st.expander("Facilitator's notes", expanded=False):
            st.markdown(md(step.notes))

# The risk tables, the years' bridge and the member table span the page (below the what-if panel too): every
# column fits.
if "ranking" in view.results:
    risk_tables(view)
if "projection" in view.results:
    years_tables(view)
with st.expander("Member figures (£m)", expanded=False):
    table = view.table.rename_axis("org_id").reset_index()
    money = [c for c in view.money if c in table.columns]
    styler = styled_money(table, money)
    chances = [c for c in table.columns if "P(" in str(c)]
    if chances:
        styler = styler.format(lambda v: f"{v:.0%}", subset=chances, na_rep="—")
    config = money_m_columns({c: MEMBER_LABELS.get(str(c), str(c).replace("_", " "))
                              for c in money})
    if "variance_pct" in table.columns:
        config["variance_pct"] = st.column_config.NumberColumn("variance %",
                                                               format="%.2f%%")
    config["org_id"] = st.column_config.TextColumn("member", pinned=True)
    if "name" in table.columns:
        config["name"] = st.column_config.TextColumn("name", width="medium")
    st.dataframe(styler, hide_index=True, width="stretch", column_config=config)

prefetch_next()

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
                               file_name=export_name(session.system.label, "workshop report", "xlsx"), mime=XLSX,
                               key="ws_xlsx", on_click="ignore", icon=":material/table:")
            st.download_button("Printable report (HTML)", lambda: html_report(current),
                               file_name=export_name(session.system.label, "workshop report", "html"),
                               mime="text/html", key="ws_html", on_click="ignore",
                               icon=":material/print:")
            if pdf_available():
                st.download_button("PDF", lambda: pdf_bytes(html_report(current)),
                                   file_name=export_name(session.system.label, "workshop report", "pdf"),
                                   mime="application/pdf", key="ws_pdf", on_click="ignore",
                                   icon=":material/picture_as_pdf:")
