"""Timing of the risk-register features (issue 18). Prints figures with their targets beside
them; asserts nothing.

    .venv/bin/python benchmarks/bench_risks.py

A synthetic register of 500 items across 40 members (risks and mitigations, a tenth of them in
ten groups of items that happen together, one certain mitigation per member):

(a) `rs.simulate(..., register=...)` for 100,000 scenarios × 40 members with the events on top
    of the volatility, then the engine applying a preset (gain_loss_50_50_deadband,
    `engine.run`, as `rs.apply` and the risk table do): best of 5 (target ≤ 1 s) and the
    processor time of one run (all threads); the draw on its own, the events alone
    (`register_mode="instead"`) and with correlated events for comparison, best of 3.
(b) `rs.risk_adjusted(system, register)`: best of 10 (target ≤ 20 ms).
(c) `rs.rank_items` on 10,000 scenarios, for information.
(d) `rs.reserve_needed` at 80/90/95% on the scenarios of (a), for information.
(e) the Risks page (Streamlit AppTest) rerun after a probability is edited: median (target
    ≤ 0.3 s); Vale, its 15-item register, 10,000 scenarios.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _timing import best_of, line

import riskshare as rs
from riskshare.agreements import engine
from riskshare.core.register import Register, register_from_frame

MEMBERS, ITEMS, SCENARIOS = 40, 500, 100_000
PRESET = "gain_loss_50_50_deadband"
RISKS = ("Winter pressure", "CIP slippage", "Pay award gap", "ERF under-delivery",
         "Agency premium", "Out of area placements", "Prescribing growth", "Drugs inflation",
         "Estates backlog", "Activity over plan")
MITIGATIONS = ("Vacancy slippage", "Reserve release", "Balance sheet release",
               "Non-recurrent income", "Deferred investment")


def synthetic_register(system: rs.System, items: int = ITEMS, seed: int = 3) -> Register:
    """`items` plausible items spread over the members: each between 0.05% and 0.6% of its
    member's turnover (whole pounds), risks three in four, probabilities 5–95% in steps of 5;
    one certain mitigation per member; every tenth item in one of ten groups (one probability
    per group)."""
    rng = np.random.default_rng(seed)
    members = list(system.members)
    turnover = system.orgs["turnover"].to_numpy(dtype=float)
    group_p = np.round(rng.uniform(0.1, 0.6, 10) * 20) / 20
    rows = []
    for k in range(items):
        j = k % len(members)
        certain = k < len(members)             # the first item of each member
        risk = not certain and rng.random() < 0.75
        names = RISKS if risk else MITIGATIONS
        amount = round(float(turnover[j] * rng.uniform(0.0005, 0.006)))
        p = 1.0 if certain else float(np.round(rng.uniform(0.05, 0.95) * 20) / 20)
        group = ""
        if not certain and k % 10 == 3:
            g = (k // 10) % 10
            group, p = f"group {g}", float(group_p[g])
        rows.append({"org_id": members[j], "item": f"{names[k % len(names)]} {k}",
                     "type": "risk" if risk else "mitigation", "amount": amount,
                     "probability": p, "group": group, "recurrent": bool(k % 3 == 0)})
    return register_from_frame(pd.DataFrame(rows), system)


def main() -> None:
    system = rs.samples.synthetic(MEMBERS, seed=7)
    register = synthetic_register(system)
    t = register.table
    events = t["group"].replace("", np.nan).nunique() + int((t["group"] == "").sum())
    print(f"Risks: {MEMBERS} members, a register of {len(t)} items ({len(register.risks)} "
          f"risks, {len(register.mitigations)} mitigations; {events} events, "
          f"{int((t['group'] != '').sum())} items in {t['group'].replace('', np.nan).nunique()}"
          " groups)")
    print(f"(load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores: figures are for an "
          "otherwise idle machine only when it is near 0)")
    agreement = rs.load_agreement(PRESET)
    warm = rs.simulate(system, 1_000, seed=1, register=register)     # warm-up (imports)
    engine.run(agreement, system, warm.variances)

    def draw_and_apply(**kw):
        sc = rs.simulate(system, SCENARIOS, seed=1, register=register, **kw)
        return sc, engine.run(agreement, system, sc.variances)

    seconds, (sc, out) = best_of(draw_and_apply, repeat=5)
    cpu = time.process_time()
    draw_and_apply()
    cpu = time.process_time() - cpu
    line(f"(a) simulate(register=) + engine.run, {SCENARIOS:,} × {MEMBERS}, {PRESET}",
         f"{seconds:.2f} s", "≤ 1 s")
    line("    … its processor time, all threads together (one run)", f"{cpu:.2f} s", "—")
    x = out.sct_variance
    print(f"      system vs SCT: mean £{x.mean() / 1e6:,.1f}m, p5 £{np.percentile(x, 5) / 1e6:,.1f}m"
          f"; P(meet SCT) {(x >= -0.005).mean():.1%}")
    seconds, _ = best_of(lambda: rs.simulate(system, SCENARIOS, seed=1, register=register),
                         repeat=3)
    line("    … the draw alone (volatility + events)", f"{seconds:.2f} s", "—")
    seconds, _ = best_of(lambda: rs.simulate(system, SCENARIOS, seed=1), repeat=3)
    line("    … the volatility alone, no register", f"{seconds:.2f} s", "—")
    seconds, _ = best_of(lambda: draw_and_apply(register_mode="instead"), repeat=3)
    line("    … the events alone (register_mode=\"instead\") + engine.run", f"{seconds:.2f} s",
         "—")
    seconds, _ = best_of(lambda: draw_and_apply(event_correlation=0.3), repeat=3)
    line("    … with event_correlation 0.3 + engine.run", f"{seconds:.2f} s", "—")

    seconds, adjusted = best_of(lambda: rs.risk_adjusted(system, register), repeat=10)
    line(f"(b) rs.risk_adjusted, {len(t)} items × {MEMBERS} members", f"{seconds * 1e3:.1f} ms",
         "≤ 20 ms")
    row = adjusted.table.loc["SYSTEM"]
    print(f"      system forecast £{row['forecast'] / 1e6:,.1f}m, net risk "
          f"£{row['net_risk'] / 1e6:,.1f}m, risk-adjusted £{row['risk_adjusted'] / 1e6:,.1f}m")

    seconds, ranked = best_of(lambda: rs.rank_items(system, register, PRESET, n=10_000, seed=1),
                              repeat=1)
    line(f"(c) rs.rank_items, {events} events × 10,000 scenarios", f"{seconds:.2f} s", "—")
    top = ranked.iloc[0]
    print(f"      largest effect: {top['event']} ({top['type']}), ΔP(meet) "
          f"{top['delta_p_meet']:+.2%}, Δmean £{top['delta_mean'] / 1e6:+,.2f}m")

    seconds, sizing = best_of(lambda: rs.reserve_needed(system, sc, agreement), repeat=3)
    line(f"(d) rs.reserve_needed at 80/90/95%, {SCENARIOS:,} scenarios", f"{seconds:.2f} s", "—")
    print("      reserve " + ", ".join(f"{p:.0%} £{r / 1e6:,.1f}m"
                                        for p, r in sizing.levels["reserve"].items()))
    page_rerun()


def page_rerun(repeat: int = 6) -> None:
    """The Risks page after a probability is edited in the register table (AppTest; Vale, its
    bundled register, 10,000 scenarios): the volatility's scenarios and the events' draws are
    kept, so the rerun is a new threshold, the reserve and the ranking."""
    from streamlit.testing.v1 import AppTest

    app = str(Path(__file__).resolve().parents[1] / "app.py")
    at = AppTest.from_file(app, default_timeout=120).run()
    at.selectbox(key="sample_choice").select("vale_2025_26").run()
    at.button(key="load_sample").click().run()
    at.switch_page("riskshare/ui/pages/risks.py").run()
    key = next(e.key for e in at.data_editor if e.key.startswith("rk_editor_"))
    times = []
    for i in range(repeat + 1):
        p = (0.9, 0.3, 0.6, 0.2, 0.75, 0.45, 0.85)[i % 7]
        at.session_state[key] = {"edited_rows": {0: {"probability": p}}, "added_rows": [],
                                 "deleted_rows": []}
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
        if at.exception:
            print(f"(e) the Risks page raised: {at.exception[0].message}")
            return
    line("(e) Risks page rerun after a probability change (median; Vale, 15 items, 10,000 "
         "scenarios)", f"{statistics.median(times[1:]):.2f} s", "≤ 0.3 s")


if __name__ == "__main__":
    main()
