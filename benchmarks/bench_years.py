"""Timing of the years ahead (issue 19). Prints figures with their targets beside them;
asserts nothing.

    .venv/bin/python benchmarks/bench_years.py

(a) `rs.project` of a synthetic 40-member system over 5 years across 100,000 scenarios, with an
    agreement (gain_loss_50_50_deadband plus a two-year carry) applied year by year: the
    scenarios drawn beforehand (`rs.simulate`), then the projection (each later year's fresh
    shocks, the agreement each year, the carry, the summaries): best of 3 (target ≤ 2 s).
(b) `rs.project` at the plan alone (the deterministic bridge with the agreement): best of 10.
(c) the Years ahead page (Streamlit AppTest) rerun after a rule change (the savings % for every
    member, Vale's bundled rules): median (target ≤ 0.3 s).
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import tomli_w
from _timing import best_of, line

import riskshare as rs

MEMBERS, YEARS, SCENARIOS = 40, 5, 100_000
PRESET = "gain_loss_50_50_deadband"
RULES = """
name = "Synthetic: five years"
years = 5
[all]
savings = 2.0
growth = 2.5
cost_pressure = 3.5
[all.lines.support]
change = "taper"
over = 3
"""


def main() -> None:
    system = rs.samples.synthetic(MEMBERS, seed=7)
    data = rs.load_agreement(PRESET).to_dict()
    data["carry"] = {"years": 2, "favourable": "bank", "max_carry": 1.0}
    agreement = rs.load_agreement(tomli_w.dumps(data))
    rules = rs.load_rules(RULES, system)
    print(f"Years ahead: {MEMBERS} members, {YEARS} years, {SCENARIOS:,} scenarios; "
          f"{PRESET} with a two-year carry")
    print(f"(load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores: figures are for an "
          "otherwise idle machine only when it is near 0)")
    rs.project(system, rules, agreement=agreement, scenarios=rs.simulate(system, 1_000, seed=1))
    scenarios = rs.simulate(system, SCENARIOS, seed=1)
    seconds, p = best_of(lambda: rs.project(system, rules, agreement=agreement,
                                            scenarios=scenarios), repeat=3)
    line(f"(a) rs.project, {MEMBERS} × {YEARS} years × {SCENARIOS:,}, agreement + carry",
         f"{seconds:.2f} s", "≤ 2 s")
    r = p.risk.xs("SYSTEM", level="org_id")
    print("      system P(short of the SCT as carried) by year: " +
          ", ".join(f"{x:.0%}" for x in r["p_short"]))
    seconds, _ = best_of(lambda: rs.project(system, rules, agreement=agreement), repeat=10)
    line(f"(b) rs.project at the plan, {MEMBERS} × {YEARS} years, agreement + carry",
         f"{seconds * 1e3:.0f} ms", "—")
    page_rerun()


def page_rerun(repeat: int = 6) -> None:
    """The Years ahead page after the savings % for every member is changed (AppTest; Vale)."""
    from streamlit.testing.v1 import AppTest

    app = str(Path(__file__).resolve().parents[1] / "app.py")
    at = AppTest.from_file(app, default_timeout=120).run()
    at.selectbox(key="sample_choice").select("vale_2025_26").run()
    at.button(key="load_sample").click().run()
    at.switch_page("riskshare/ui/pages/years.py").run()
    times = []
    for i in range(repeat + 1):
        box = next(n for n in at.number_input if n.key.startswith("ya_q_savings_"))
        t0 = time.perf_counter()
        box.set_value((1.5, 2.0, 2.5, 3.0)[i % 4]).run()
        times.append(time.perf_counter() - t0)
        if at.exception:
            print(f"(c) the Years ahead page raised: {at.exception[0].message}")
            return
    line("(c) Years ahead page rerun after a rule change (median; Vale)",
         f"{statistics.median(times[1:]):.2f} s", "≤ 0.3 s")


if __name__ == "__main__":
    main()
