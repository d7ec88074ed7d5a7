"""Work out a slow result ahead of time, in a background thread, while the user reads the page.

The Workshop page starts the next step's view as soon as the current one is drawn: a facilitator
talks over a step for minutes, so when the clicker moves on the figures are already there. The
work is the library's pure computation (no Streamlit call runs in the thread), one job at a time
on one shared worker, and each job is kept in the user's session state with the inputs it was
started from, so a result is only ever taken for exactly those inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import streamlit as st

from riskshare.ui.scenario_controls import same_inputs

_JOBS = "rs_prefetch"


@st.cache_resource
def _worker() -> ThreadPoolExecutor:
    """One background worker for the whole server: prefetching never competes with itself."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="riskshare-prefetch")


def start(key: str, inputs: tuple, work: Callable[[], Any]) -> None:
    """Begin `work()` in the background under `key`, unless a job for exactly `inputs` is
    already there (running or done). A job for other inputs under `key` is dropped."""
    jobs: dict[str, tuple[tuple, Future]] = st.session_state.setdefault(_JOBS, {})
    job = jobs.get(key)
    if job is not None and same_inputs(job[0], inputs):
        return
    if job is not None:
        job[1].cancel()            # not yet started: never runs; running: its result is unused
    jobs[key] = (inputs, _worker().submit(work))


def take(key: str, inputs: tuple) -> Any | None:
    """The result of the job under `key` if it was started for exactly `inputs` (waiting for it
    to finish when it is still running); None when there is no such job. The job is removed."""
    jobs: dict[str, tuple[tuple, Future]] = st.session_state.get(_JOBS, {})
    job = jobs.pop(key, None)
    if job is None or not same_inputs(job[0], inputs) or job[1].cancelled():
        return None
    return job[1].result()


def pending(key: str) -> bool:
    """True while a job under `key` is queued or running."""
    job = st.session_state.get(_JOBS, {}).get(key)
    return job is not None and not job[1].done()
