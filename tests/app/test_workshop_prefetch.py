"""The Workshop page works out the next step in the background while the room looks at the
current one (riskshare.ui.prefetch): the step the clicker moves to is the library's own view,
exactly as if worked out on the click, and a what-if or another session never takes a view
made for something else."""

from __future__ import annotations

from tests.app.test_workshop_page import N, check_step, expected, open_page, run

JOBS = "rs_prefetch"


def waiting(at) -> dict:
    """The background jobs in the session, each finished (the room has looked at the step)."""
    jobs = dict(at.session_state[JOBS]) if JOBS in at.session_state else {}
    for _, future in jobs.values():
        future.result(timeout=120)
    return jobs


def test_the_next_step_is_worked_out_ahead_and_shown_as_the_library_makes_it():
    at = open_page()
    at.button(key="ws_reset").click()
    run(at)
    for number in range(1, N):
        jobs = waiting(at)
        # while step `number` is on screen, the next one is being (or has been) worked out
        assert f"ws_view_{number + 1}" in jobs, (number, list(jobs))
        inputs, future = jobs[f"ws_view_{number + 1}"]
        assert inputs[1] == number + 1 and inputs[0] is at.session_state["ws_session"]
        at.button(key="ws_next").click()
        run(at)
        check_step(at, expected(number + 1))
        # taken, not kept twice
        assert f"ws_view_{number + 1}" not in dict(at.session_state[JOBS])
    # on the last step there is nothing left to work out
    assert at.session_state["ws_step"] == N
    assert not any(k.endswith(f"_{N + 1}") for k in dict(at.session_state[JOBS]))


def test_a_job_is_only_taken_for_exactly_the_inputs_it_was_started_for():
    """prefetch.take gives a result only for the inputs the job was started with (a System by
    content); other inputs get None, so the page works the view out afresh."""
    from streamlit.testing.v1 import AppTest

    def script():
        import streamlit as st

        import riskshare as rs
        from riskshare.ui import prefetch

        a, b = rs.load_sample("workshop_4"), rs.load_sample("workshop_4")
        other = rs.load_sample("northshire_2018_19")
        prefetch.start("k", (a, 1), lambda: "made for a, 1")
        st.session_state["other"] = prefetch.take("k", (other, 1))      # another system
        prefetch.start("k", (a, 1), lambda: "made for a, 1")
        st.session_state["step"] = prefetch.take("k", (a, 2))           # another step
        prefetch.start("k", (a, 1), lambda: "made for a, 1")
        st.session_state["same"] = prefetch.take("k", (b, 1))           # same content
        st.session_state["again"] = prefetch.take("k", (b, 1))          # taken once only

    at = AppTest.from_function(script, default_timeout=60).run()
    assert not at.exception, at.exception
    assert at.session_state["other"] is None
    assert at.session_state["step"] is None
    assert at.session_state["same"] == "made for a, 1"
    assert at.session_state["again"] is None
