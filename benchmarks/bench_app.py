"""Timing of the app as its users click: each widget change, page switch and workshop step, run
through Streamlit's AppTest (the server-side rerun, which is what a user waits for; the browser
adds a few tens of milliseconds to draw). Prints figures with their targets; asserts nothing.

    .venv/bin/python benchmarks/bench_app.py

On the bundled Northshire sample (nine members), after one warm-up of each interaction (the
`st.cache_data` caches are then as a user finds them after the first click). Targets (issue 15):
a widget change ≤ 0.3 s on System, Reconcile, Agreement and Optimise; a workshop step change
≤ 0.5 s; a page switch ≤ 0.5 s. Median of five.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from _timing import line
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGES = {name: f"riskshare/ui/pages/{name}.py"
         for name in ("system", "reconcile", "agreement", "scenarios", "compare", "optimise",
                      "fairness", "workshop")}
REPEAT = 5


def start() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, at.exception
    return at


def timed(at: AppTest, act) -> float:
    """Median wall time of `act(at, i)` followed by a rerun, over REPEAT runs (after one
    warm-up)."""
    act(at, 0)
    at.run()
    times = []
    for i in range(1, REPEAT + 1):
        act(at, i)
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
        assert not at.exception, at.exception
    return statistics.median(times)


def key_starting(at: AppTest, kind: str, prefix: str) -> str:
    """The key of the first widget of `kind` whose key starts with `prefix`."""
    return next(w.key for w in at.get(kind) if w.key and w.key.startswith(prefix))


def show(label: str, seconds: float, target: float) -> None:
    mark = "" if seconds <= target else "  ← over"
    line(label, f"{seconds:.3f} s", f"≤ {target} s{mark}", width=72)


def main() -> None:
    print(f"App interactions, median of {REPEAT} (AppTest, server-side rerun)")
    at = start()

    # System: a cell edit in the members table
    def edit_cell(at, i):
        key = f"editor_{at.session_state['rs_version']}"
        at.session_state[key] = {"edited_rows": {0: {"forecast": 1_500_000.0 + 10_000 * i}},
                                 "added_rows": [], "deleted_rows": []}
    show("System: edit a forecast", timed(at, edit_cell), 0.3)

    # Page switches (each page once warm)
    for name in ("reconcile", "agreement", "optimise", "workshop", "system"):
        at.switch_page(PAGES[name]).run()
        t = timed(at, lambda at, i, n=name: at.switch_page(PAGES[n]))
        show(f"Page switch to {name.capitalize()}", t, 0.5)

    at.switch_page(PAGES["reconcile"]).run()
    show("Reconcile: move the unrealistic-OCT slider",
         timed(at, lambda at, i: at.slider(key="unrealistic_pct").set_value(1.0 + 0.1 * (i % 5))),
         0.3)

    at.switch_page(PAGES["agreement"]).run()

    def toggle_threshold(at, i):
        key = key_starting(at, "checkbox", "losses_threshold_on_")
        at.checkbox(key=key).set_value(i % 2 == 1)
    show("Agreement: switch the losses' first-pound threshold", timed(at, toggle_threshold), 0.3)

    def cap(at, i):
        key = key_starting(at, "number_input", "losses_max_pool")
        at.number_input(key=key).set_value(1.0 + 0.5 * (i % 3))
    show("Agreement: change the losses' pool cap", timed(at, cap), 0.3)

    at.switch_page(PAGES["optimise"]).run()
    pools = ("opt_pool",)
    show("Optimise: change the pool size setting",
         timed(at, lambda at, i: at.number_input(key=pools[0]).set_value(1_000_000.0 * (i + 1))
               if any(w.key == "opt_pool" for w in at.number_input)
               else at.toggle(key="opt_retention_on").set_value(i % 2 == 1)), 0.3)

    at.button(key="opt_run").click().run()
    show("Optimise: change a condition with the last result on show",
         timed(at, lambda at, i: at.number_input(key=pools[0]).set_value(1_000_000.0 * (i + 1))
               if any(w.key == "opt_pool" for w in at.number_input)
               else at.toggle(key="opt_retention_on").set_value(i % 2 == 1)), 0.3)

    at.switch_page(PAGES["workshop"]).run()

    def step(at, i):
        (at.button(key="ws_next") if i % 2 == 0 else at.button(key="ws_back")).click()
    show("Workshop: next / previous step (views seen before)", timed(at, step), 0.5)

    # Each step the first time the room sees it, in a fresh session. While a step is on screen
    # the page works out the next one in the background (riskshare.ui.prefetch); a facilitator
    # talks over a step for minutes, so the press that follows finds it ready. Timed both ways:
    # after the room has looked at the step (background work done) and pressing at once.
    for wait in (True, False):
        fresh = start()
        fresh.switch_page(PAGES["workshop"]).run()
        fresh.button(key="ws_reset").click().run()
        n_steps = len(fresh.session_state["ws_session"].steps)
        for number in range(2, n_steps + 1):
            if wait:
                for _, job in dict(fresh.session_state["rs_prefetch"]).values() \
                        if "rs_prefetch" in fresh.session_state else ():
                    job.result()
            fresh.button(key="ws_next").click()
            t0 = time.perf_counter()
            fresh.run()
            assert not fresh.exception, fresh.exception
            how = "after the room has seen the step before" if wait else "pressed at once"
            show(f"Workshop: step {number} first shown, {how}", time.perf_counter() - t0,
                 0.5 if wait else 2.0)


if __name__ == "__main__":
    main()
