"""Timing of the workshop: each step of the bundled session as the room sees it, a what-if change,
and the session's reports. Prints figures with their targets beside them; asserts nothing.

    .venv/bin/python benchmarks/bench_workshop.py

Timed (median of a few runs, in seconds), on the bundled `northshire_workshop` session (nine
members, 1,000 simulated years for the steps judged across scenarios):
- `workshop.view` of each of its five steps, as prepared;
- a what-if change: B's pool share on step 3 (compare across scenarios) and on step 4 (who
  would walk away, the certificate across scenarios);
- `workshop.report.session_workbook` (every step's sheet and its chart as a picture), from views already
  worked out; `printable.html_report` (three SVG charts); `printable.pdf_bytes` (headless
  Chromium, when installed).
A slider moves the step on screen, so a view should take about a second or less ("interactive").
"""

from __future__ import annotations

import statistics
import time

from _timing import line

from riskshare import workshop
from riskshare.workshop import printable
from riskshare.workshop.report import session_workbook
from riskshare.workshop.session import WhatIf, load_session


def median_of(fn, repeat: int = 3) -> tuple[float, object]:
    """(the median of `repeat` wall times in seconds, the last result)."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> None:
    session = load_session("northshire_workshop")
    print(f"Workshop session '{session.title}' (seconds, median of 3)")
    views = []
    for k, step in enumerate(session.steps, start=1):
        t, v = median_of(lambda: workshop.view(session, k))
        views.append(v)
        judged = " across scenarios" if step.judge == "scenarios" else ""
        line(f"view, step {k} ({step.kind}{judged})", f"{t:.2f} s", "interactive")
    for k, value in ((3, 0.75), (4, 0.75)):
        what_if = WhatIf.of("B", pool_share=value)
        t, v = median_of(lambda: workshop.view(session, k, what_if))
        line(f"what-if on step {k}: B's pool share {value:.0%} ({v.step.kind})", f"{t:.2f} s",
             "interactive")
    t, data = median_of(lambda: session_workbook(session, views))
    line(f"session_workbook ({len(views)} charts as pictures, {len(data) / 1e6:.1f} MB)",
         f"{t:.2f} s", "—")
    t, page = median_of(lambda: printable.html_report(session, views))
    line(f"html_report ({page.count('<svg')} SVG charts, {len(page) / 1e3:.0f} kB)",
         f"{t:.2f} s", "—")
    if printable.pdf_available():
        t, pdf = median_of(lambda: printable.pdf_bytes(page))
        line(f"pdf_bytes (headless Chromium, {len(pdf) / 1e3:.0f} kB)", f"{t:.2f} s", "—")
    else:
        print("pdf_bytes: skipped (no Chromium; set RISKSHARE_CHROMIUM to its path)")


if __name__ == "__main__":
    main()
