"""The presenter view (AppTest) and the rooms it shares with the Workshop page: a room opened in
presentation mode, the presenter page found by the code in its link, the step's notes shown as
text, the next step and the clock; Back and Next in either window move the other; a missing,
unknown or expired code gives one clear message; the registry stays bounded, rooms never share
a step, and codes cannot be guessed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from riskshare.ui import rooms
from riskshare.workshop.session import load_session
from tests.app.helpers import errors

APP = str(Path(__file__).resolve().parents[2] / "app.py")
WORKSHOP = "riskshare/ui/pages/workshop.py"
PRESENTER = "riskshare/ui/pages/presenter.py"
SESSION = load_session("northshire_workshop")
N = len(SESSION.steps)


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def presenting() -> AppTest:
    """The Workshop page in presentation mode (which opens its room)."""
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(WORKSHOP)
    run(at)
    at.toggle(key="ws_present").set_value(True)
    return run(at)


def presenter(code: str | None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if code is not None:
        at.query_params["room"] = code
    at.run()
    at.switch_page(PRESENTER)
    return run(at)


def shown_step(at: AppTest) -> str:
    (heading,) = [s.value for s in at.subheader]
    return heading


def text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


# -- the two windows ------------------------------------------------------------------------------
def test_presentation_mode_opens_a_room_and_links_the_presenter_view_to_it():
    at = presenting()
    code = at.session_state["ws_room"]
    room = rooms.registry().find(code)
    assert room is not None and room.step == 1 and room.session is at.session_state["ws_session"]
    (link,) = [b for b in at.get("link_button") if b.proto.label == "Presenter view"]
    assert link.proto.url == f"presenter?room={code}"
    assert len(code) >= 22                         # 16 random bytes, URL-safe


def test_the_presenter_view_shows_the_notes_the_next_step_and_the_clock():
    code = presenting().session_state["ws_room"]
    assert not rooms.registry().find(code).followed
    pv = presenter(code)
    assert not pv.error, errors(pv)
    assert rooms.registry().find(code).followed     # the room now watches every second
    assert shown_step(pv) == f"Step 1 of {N}: {SESSION.steps[0].title}"
    # the notes as written (Markdown in them shown as text), the next step, the clock at 0:00
    assert any(m.value == SESSION.steps[0].notes for m in pv.markdown)
    assert f"**Next:** step 2, {SESSION.steps[1].title}" in text(pv)
    assert "**0:00** in all" in text(pv) and "on this step" in text(pv)
    assert pv.button(key="pv_back").disabled and not pv.button(key="pv_next").disabled


def test_next_in_the_presenter_view_moves_the_room_and_the_room_moves_the_presenter_view():
    room = presenting()
    pv = presenter(room.session_state["ws_room"])
    pv.button(key="pv_next").click()
    run(pv)
    assert shown_step(pv) == f"Step 2 of {N}: {SESSION.steps[1].title}"
    # the presentation window, on its next run (its fragment checks every second), follows
    run(room)
    assert [h.value for h in room.header] == [SESSION.steps[1].title]
    assert room.session_state["ws_step"] == 2 and room.session_state["ws_revealed"] == 2
    # its own Next moves the presenter view on
    room.button(key="ws_next").click()
    run(room)
    run(pv)
    assert shown_step(pv) == f"Step 3 of {N}: {SESSION.steps[2].title}"
    # Back in the presenter view, then Reset in the room
    pv.button(key="pv_back").click()
    run(pv)
    run(room)
    assert room.session_state["ws_step"] == 2
    room.button(key="ws_reset").click()
    run(room)
    run(pv)
    assert shown_step(pv) == f"Step 1 of {N}: {SESSION.steps[0].title}"


def test_the_presenter_view_stops_at_the_last_step():
    room = presenting()
    pv = presenter(room.session_state["ws_room"])
    for _ in range(N + 2):                         # more presses than steps
        if not pv.button(key="pv_next").disabled:
            pv.button(key="pv_next").click()
        run(pv)
    assert shown_step(pv) == f"Step {N} of {N}: {SESSION.steps[-1].title}"
    assert "nothing — this is the last step" in text(pv)
    assert pv.button(key="pv_next").disabled


def test_notes_with_markdown_and_directives_are_shown_as_text():
    notes = "**Say** :red[this] [link](http://x) $x$ <b>bold</b> :smile:"
    first = dataclasses.replace(SESSION.steps[0], notes=notes)
    session = dataclasses.replace(SESSION, steps=(first, *SESSION.steps[1:]))
    room = rooms.registry().open(session, 1)
    pv = presenter(room.code)
    # read back exactly as written (the word joiner that keeps "http://x" from becoming a live
    # link is invisible: riskshare.ui.text.md)
    assert any(m.value.replace("\u2060", "") == notes for m in pv.markdown)
    source = [m.proto.body for m in pv.markdown if "Say" in m.proto.body]
    assert source and "\\*\\*Say\\*\\*" in source[0] and "\\:red\\[" in source[0]


@pytest.mark.parametrize("code", [None, "", "not-a-room", "x" * 22],
                         ids=["no_code", "empty", "unknown", "guessed"])
def test_a_missing_or_unknown_room_gives_one_clear_message(code):
    pv = presenter(code)
    if code:
        assert len(pv.error) == 1 and "No presentation is open with this link" in pv.error[0].value
    else:
        assert not pv.error and "This page follows a presentation" in pv.info[0].value
    assert not [b for b in pv.button if (b.key or "").startswith("pv_")]   # nothing to press


def test_an_expired_room_is_forgotten_and_the_workshop_page_carries_on():
    room = presenting()
    code = room.session_state["ws_room"]
    registry = rooms.registry()
    found = registry.find(code)
    assert found is not None
    found.used -= rooms.EXPIRES + 1                   # unused for longer than rooms last
    pv = presenter(code)
    assert len(pv.error) == 1
    run(room)                                         # the page opens a new room for itself
    assert room.session_state["ws_room"] != code
    assert not room.error, errors(room)


# -- the registry ---------------------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rooms_are_separate_and_their_codes_unguessable():
    reg = rooms.Rooms(clock=Clock())
    a, b = reg.open(SESSION, 1), reg.open(SESSION, 1)
    assert a.code != b.code and len(a.code) == 22 and len(b.code) == 22
    reg.move(a.code, +1)
    assert reg.find(a.code).step == 2 and reg.find(b.code).step == 1
    assert reg.find(a.code.upper() if a.code != a.code.upper() else a.code.lower()) is None
    assert reg.find(None) is None and reg.find("") is None and reg.find(123) is None


def test_a_room_moves_within_its_session_and_times_its_step():
    clock = Clock()
    reg = rooms.Rooms(clock=clock)
    room = reg.open(SESSION, 1)
    reg.move(room.code, -1)
    assert room.step == 1                             # no step 0
    clock.now += 65
    reg.move(room.code, +1)
    clock.now += 7
    assert room.step == 2
    assert rooms.clock_text(clock.now - room.opened) == "1:12"
    assert rooms.clock_text(clock.now - room.step_since) == "0:07"
    for _ in range(N + 3):
        reg.move(room.code, +1)
    assert room.step == N
    reg.restart_clock(room.code)
    assert room.opened == room.step_since == clock.now
    assert reg.show(room.code, SESSION, 99).step == N  # the page's step, within the session


def test_the_registry_is_bounded_and_forgets_the_least_recently_used_room():
    clock = Clock()
    reg = rooms.Rooms(limit=3, expires=3600.0, clock=clock)
    first, second, third = (reg.open(SESSION, 1) for _ in range(3))
    clock.now += 1
    reg.find(first.code)                              # used: kept
    fourth = reg.open(SESSION, 1)
    assert len(reg) == 3
    assert reg.find(second.code) is None              # the least recently used went
    assert all(reg.find(r.code) is not None for r in (first, third, fourth))
    clock.now += 3601
    assert len(reg) == 0                              # all expired


@pytest.mark.parametrize("seconds, shown", [(0, "0:00"), (59.9, "0:59"), (61, "1:01"),
                                            (3600, "1:00:00"), (3725, "1:02:05"), (-5, "0:00")])
def test_clock_text(seconds, shown):
    assert rooms.clock_text(seconds) == shown
