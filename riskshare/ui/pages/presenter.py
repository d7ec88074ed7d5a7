"""Presenter view: the facilitator's own screen during a workshop — this step's notes, the next
step, a timer, and Back / Next that move the screen in the room too.

Opened from the Workshop page ("Presenter view", a new tab) with `?room=<code>`: the code of the
presentation window's room (`riskshare.ui.rooms`), shown only in that link. The room is the one
thing the two windows share; this page reads it every second. Notes are the session author's
text and are shown as text. Session state keys start with `pv_`.
"""

from __future__ import annotations

import streamlit as st

from riskshare.ui import rooms
from riskshare.ui.text import md

HIDE_CHROME = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"] { display: none !important; }
.st-key-pv_notes [data-testid="stMarkdownContainer"] p,
.st-key-pv_notes [data-testid="stMarkdownContainer"] li { font-size: 1.25rem; }
</style>
"""

st.html(HIDE_CHROME)
code = st.query_params.get("room", "")


def shift(by: int) -> None:
    rooms.registry().move(code, by)


def restart() -> None:
    rooms.registry().restart_clock(code)


@st.fragment(run_every=1.0)
def presenter() -> None:
    """The room as it is now: redrawn every second (the timer, a step moved in the room)."""
    room = rooms.registry().find(code, presenter=True)
    if room is None:
        st.title("Presenter view")
        st.error("**No presentation is open with this link.** Open the Workshop page, turn on "
                 "Presentation mode and use its “Presenter view” button (a link lasts as long "
                 "as its presentation window is open, and up to 12 hours after).",
                 icon=":material/link_off:")
        return
    session, number, n_steps = room.session, room.step, room.n_steps
    step = session.steps[number - 1]
    now = rooms.registry().clock()
    st.caption(f"Presenter view · {md(session.title)} · the room does not see this window")
    head, timer = st.columns([3, 1], vertical_alignment="bottom")
    head.subheader(f"Step {number} of {n_steps}: {md(step.title)}", anchor=False)
    timer.markdown(f"**{rooms.clock_text(now - room.opened)}** in all · "
                   f"**{rooms.clock_text(now - room.step_since)}** on this step")
    with st.container(horizontal=True, vertical_alignment="center", key="pv_nav"):
        st.button("Back", key="pv_back", icon=":material/arrow_back:", disabled=number <= 1,
                  on_click=shift, args=(-1,))
        st.button("Next", key="pv_next", icon=":material/arrow_forward:", type="primary",
                  disabled=number >= n_steps, on_click=shift, args=(1,))
        st.button("Restart the clock", key="pv_restart", icon=":material/timer:",
                  type="tertiary", on_click=restart)
    with st.container(border=True, key="pv_notes"):
        if step.notes.strip():
            st.markdown(md(step.notes))
        else:
            st.caption("No notes for this step.")
    if number < n_steps:
        st.markdown(f"**Next:** step {number + 1}, {md(session.steps[number].title)}")
    else:
        st.markdown("**Next:** nothing — this is the last step.")


if not code:
    st.title("Presenter view")
    st.info("This page follows a presentation. Open the Workshop page, turn on Presentation "
            "mode and use its “Presenter view” button: it opens this page for that room.",
            icon=":material/speaker_notes:")
else:
    presenter()
