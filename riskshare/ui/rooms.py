"""Rooms: the step a workshop is on, shared between the presentation window and the presenter
view.

A second browser tab is a separate Streamlit session, so the presentation window (the Workshop
page on the screen in the room) and the presenter view (notes, the next step and a timer on the
facilitator's own screen) share their step through a small registry on the server. Each room is
found only by its code — `secrets.token_urlsafe`, about 128 random bits, shown only in the
presenter's link — and holds one session and its step; nothing is shared between rooms.

The registry is bounded: at most `LIMIT` rooms, each forgotten `EXPIRES` seconds after it was
last used (the presentation window uses its room every second while it is open); when full, the
room used least recently makes way. Times are seconds on a monotonic clock.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import streamlit as st

from riskshare.workshop.session import Session

LIMIT = 64                  # rooms held at once
EXPIRES = 12 * 3600.0       # seconds unused before a room is forgotten
CODE_BYTES = 16             # random bytes in a room code (22 URL-safe characters)


@dataclass
class Room:
    """One presentation: its session, the step on screen (from 1) and the clock.

    `opened` and `step_since` are monotonic seconds: when the room (or its clock) started and
    when the current step came on screen; `followed` is True once a presenter view has opened
    the room. Change it only through `Rooms` (which holds the lock).
    """

    code: str
    session: Session
    step: int
    opened: float
    step_since: float
    used: float = field(repr=False)
    followed: bool = False

    @property
    def n_steps(self) -> int:
        return len(self.session.steps)


class Rooms:
    """The registry of open rooms (thread-safe: every Streamlit session runs in its own thread).

    `clock` returns seconds (monotonic); tests pass their own.
    """

    def __init__(self, limit: int = LIMIT, expires: float = EXPIRES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._rooms: OrderedDict[str, Room] = OrderedDict()   # least recently used first
        self._lock = threading.Lock()
        self.limit, self.expires, self.clock = limit, expires, clock

    def __len__(self) -> int:
        with self._lock:
            self._expire(self.clock())
            return len(self._rooms)

    def _expire(self, now: float) -> None:
        for code in [c for c, r in self._rooms.items() if now - r.used > self.expires]:
            del self._rooms[code]

    def open(self, session: Session, step: int) -> Room:
        """A new room showing `session` at `step`, with a fresh, unguessable code."""
        with self._lock:
            now = self.clock()
            self._expire(now)
            while len(self._rooms) >= self.limit:
                self._rooms.popitem(last=False)
            code = secrets.token_urlsafe(CODE_BYTES)
            while code in self._rooms:       # pragma: no cover - 128 random bits
                code = secrets.token_urlsafe(CODE_BYTES)
            room = Room(code, session, _clamp(step, len(session.steps)), now, now, now)
            self._rooms[code] = room
            return room

    def find(self, code: object, presenter: bool = False) -> Room | None:
        """The room with this code (marked as used; as followed when `presenter`), or None: no
        code, an unknown or expired one."""
        if not isinstance(code, str) or not code:
            return None
        with self._lock:
            now = self.clock()
            self._expire(now)
            room = self._rooms.get(code)
            if room is not None:
                room.used = now
                room.followed = room.followed or presenter
                self._rooms.move_to_end(code)
            return room

    def show(self, code: str, session: Session, step: int) -> Room | None:
        """The room now shows `session` at `step` (the presentation window opened another session
        or moved itself); None when the room is gone."""
        with self._lock:
            room = self._rooms.get(code)
            if room is None:
                return None
            step = _clamp(step, len(session.steps))
            if room.session is not session:
                room.session = session
                room.step, room.step_since = step, self.clock()
            elif room.step != step:
                room.step, room.step_since = step, self.clock()
            return room

    def move(self, code: str, by: int) -> Room | None:
        """Move the room `by` steps (+1 next, -1 previous), staying within its session; None
        when the room is gone."""
        with self._lock:
            room = self._rooms.get(code)
            if room is None:
                return None
            step = _clamp(room.step + by, room.n_steps)
            if step != room.step:
                room.step, room.step_since = step, self.clock()
            return room

    def restart_clock(self, code: str) -> None:
        """The room's clocks start again from now (the session and the step)."""
        with self._lock:
            room = self._rooms.get(code)
            if room is not None:
                room.opened = room.step_since = self.clock()


def _clamp(step: int, n_steps: int) -> int:
    return min(max(int(step), 1), max(n_steps, 1))


@st.cache_resource(show_spinner=False)
def registry() -> Rooms:
    """The app's one registry of rooms (shared by every browser session on this server)."""
    return Rooms()


def clock_text(seconds: float) -> str:
    """Elapsed seconds as a clock: '4:05', '1:02:09' (whole seconds, never negative)."""
    whole = max(int(seconds), 0)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
