"""Timing of the in-year features. Prints figures with their targets beside them; asserts
nothing.

    .venv/bin/python benchmarks/bench_in_year.py

(a) `rs.in_year` for 40 members × 12 months at month 6 (target ≤ 20 ms), best of 5.
(b) the year-end fan from month 6 (`rs.landing`): 100,000 scenarios × 40 members with the
    quarterly support cliff (support_cliff_2018_19) applied by the engine, best of 3 (target
    ≤ 0.5 s); and the same from month 9 and month 0 for comparison.
(c) the In year page (Streamlit AppTest, the server-side rerun a user waits for) after changing
    the month, Northshire, median of 5 after a warm-up (target ≤ 0.3 s).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _timing import best_of, line

import riskshare as rs
from riskshare.core.monthly import monthly_from_frame
from riskshare.core.samples import synthetic

MEMBERS, SCENARIOS = 40, 100_000
PRESET = "support_cliff_2018_19"


def synthetic_monthly(system: rs.System, closed: int = 9, seed: int = 1) -> rs.Monthly:
    """Every member's plan phased evenly and actuals to `closed` months drawn around it
    (whole pennies), as a finance team would upload them."""
    rng = np.random.default_rng(seed)
    rows = []
    for org, row in system.orgs.iterrows():
        wobble = 0.004 * float(row["turnover"]) / 12
        for month in range(1, closed + 1):
            actual = float(row["control_total"]) / 12 + rng.normal(0.0, wobble)
            rows.append({"org_id": org, "month": month, "actual": round(actual, 2)})
    return monthly_from_frame(pd.DataFrame(rows), system)


def main() -> None:
    system = synthetic(MEMBERS, seed=7)
    monthly = synthetic_monthly(system)
    print(f"In year: {MEMBERS} members, a monthly table closed to month {monthly.month}")

    seconds, _ = best_of(lambda: rs.in_year(system, monthly, month=6), repeat=5)
    line(f"(a) rs.in_year, {MEMBERS} members × 12 months, at month 6", f"{seconds * 1e3:.1f} ms",
         "≤ 20 ms")

    agreement = rs.load_agreement(PRESET)
    rs.landing(system, monthly, agreement, month=6, n=1_000)      # warm-up (imports)
    for month, target in ((6, "≤ 0.5 s"), (9, "—"), (0, "—")):
        seconds, land = best_of(lambda m=month: rs.landing(system, monthly, agreement, month=m,
                                                           n=SCENARIOS), repeat=3)
        row = land.table.loc["SYSTEM"]
        line(f"(b) rs.landing from month {month}, {SCENARIOS:,} × {MEMBERS}, {PRESET}",
             f"{seconds:.2f} s", target)
        print(f"      system year-end final p5 … p95: £{row['p5'] / 1e6:,.1f}m … "
              f"£{row['p95'] / 1e6:,.1f}m; P(meet SCT) {row['p_meet']:.1%}")
    seconds, _ = best_of(lambda: rs.landing(system, monthly, agreement, month=6,
                                            n=SCENARIOS).months, repeat=3)
    line("    … and the fan by month for the chart (.months) as well", f"{seconds:.2f} s", "—")
    annual = rs.load_agreement("gain_loss_50_50_deadband")
    seconds, _ = best_of(lambda: rs.landing(system, monthly, annual, month=6, n=SCENARIOS),
                         repeat=3)
    line("    … with gain_loss_50_50_deadband (support judged on the year)", f"{seconds:.2f} s",
         "—")

    page_rerun()


def page_rerun(repeat: int = 5) -> None:
    """The In year page after changing the month (AppTest; Northshire, its bundled table)."""
    from streamlit.testing.v1 import AppTest

    app = str(Path(__file__).resolve().parents[1] / "app.py")
    at = AppTest.from_file(app, default_timeout=120).run()
    at.switch_page("riskshare/ui/pages/in_year.py").run()
    month = next((s for s in at.select_slider if "month" in str(s.label).lower()), None) \
        or next((s for s in at.selectbox if "month" in str(s.label).lower()), None)
    if month is None:
        print("(c) the In year page has no month selector to time")
        return
    times = []
    months = [3, 6, 9, 6, 3, 9]
    for i in range(repeat + 1):
        t0 = time.perf_counter()
        month.set_value(months[i % len(months)]).run()
        times.append(time.perf_counter() - t0)
        if at.exception:
            print(f"(c) the In year page raised: {at.exception[0].message}")
            return
    line("(c) In year page rerun after changing the month (median)",
         f"{statistics.median(times[1:]):.2f} s", "≤ 0.3 s")


if __name__ == "__main__":
    main()
