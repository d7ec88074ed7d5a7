"""Timing and memory of the scenario features (simulate, engine, risk metrics). Prints figures with
their targets beside them; asserts nothing.

    .venv/bin/python benchmarks/bench_scenarios.py

(a) simulate + apply + metrics (risk_table) for 100,000 scenarios × 40 members: best of 3 wall
    time (target ≤ 1 s) and peak memory (tracemalloc peak and ru_maxrss; target ≤ 1 GB).
(b) the engine (`engine.run` / `rs.apply`) with gain_loss_50_50_deadband on those scenarios
    against a hand-written numpy kernel of the same agreement (the yardstick): same `final`
    (np.allclose) and the time ratio (target ≤ 1.5×).
(c) a national sweep: 42 synthetic systems × 30 members × 10,000 scenarios, simulate +
    risk_table for one preset (target ≤ 10 s in all).
"""

from __future__ import annotations

import resource
import time
import tracemalloc

import numpy as np
from _timing import best_of, line

import riskshare as rs
from riskshare.agreements import engine
from riskshare.agreements.presets import load_preset

PRESET = "gain_loss_50_50_deadband"
HALF_PENNY = 0.005


# -- the yardstick: gain_loss_50_50_deadband written out by hand -----------------------------------
def water_fill_setup(weights: np.ndarray, caps: np.ndarray):
    """Breakpoints for allocating a total pro rata to `weights`, each member capped at `caps`:
    alloc_i = min(cap_i, λ·w_i) with λ such that Σ alloc = total (at most Σ caps)."""
    ratio = caps / weights
    order = np.argsort(ratio)
    r, c, w = ratio[order], caps[order], weights[order]
    capped_below = np.concatenate([[0.0], np.cumsum(c)])       # Σ caps of members capped first
    w_above = weights.sum() - np.concatenate([[0.0], np.cumsum(w)])
    # total needed for λ to reach each breakpoint r_j (members 0..j-1 capped, rest pro rata)
    at_break = capped_below[:-1] + r * w_above[:-1]
    return r, capped_below, w_above, at_break, caps.sum()


def water_fill(total: np.ndarray, weights, caps, setup) -> np.ndarray:
    r, capped_below, w_above, at_break, cap_sum = setup
    total = np.minimum(total, cap_sum)
    j = np.searchsorted(at_break, total, side="right")          # members capped: 0..j-1
    above = w_above[j]
    lam = np.divide(total - capped_below[j], above, out=np.full(total.shape, np.inf),
                    where=above > 0)                          # all capped: λ = ∞
    return np.minimum(caps, lam[:, None] * weights)


def kernel(v: np.ndarray, turnover, oct_, support, setup) -> dict:
    """gain_loss_50_50_deadband by hand: keep the first 0.5% of turnover, pool half the rest;
    pool shared by turnover, charges/awards capped at 1% of turnover (water-filling);
    organisation cliff support test after sharing. It returns the same per-member columns
    (docs/agreements.md) that `engine.run` returns (pooled … vs_standalone), so the comparison
    is like for like rather than one column against ten."""
    size = np.abs(v) * (100.0 / turnover)
    pooled = np.sign(v) * (0.5 * np.maximum(size - 0.5, 0.0)) * (turnover / 100.0)
    net = pooled.sum(axis=1)
    received = np.sign(net)[:, None] * water_fill(np.abs(net), turnover, 0.01 * turnover, setup)
    retained = v - pooled
    position = retained + received
    earned = np.where(position >= -HALF_PENNY, support, 0.0)
    outturn = oct_ + position
    final = outturn + earned
    standalone = oct_ + v + np.where(v >= -HALF_PENNY, support, 0.0)
    return {"pooled": pooled, "retained": retained, "received": received,
            "net_transfer": received - pooled, "outturn": outturn, "support_earned": earned,
            "final": final, "standalone": standalone, "vs_standalone": final - standalone}


def main() -> None:
    agreement = load_preset(PRESET)

    # (a) ------------------------------------------------------------------------------------------
    system = rs.samples.synthetic(40, 1)
    n = 100_000

    def pipeline():
        sc = rs.simulate(system, n, seed=1, correlation=0.3)
        return sc, rs.risk_table(agreement, system, sc)

    t_a, (sc, _) = best_of(pipeline)
    tracemalloc.start()
    pipeline()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024   # KiB on Linux
    print(f"(a) simulate + apply + risk_table, {n:,} scenarios × {system.n} members, {PRESET}")
    line("    wall time (best of 3)", f"{t_a:.3f} s", "≤ 1 s")
    line("    peak memory (tracemalloc)", f"{peak / 2**20:,.0f} MiB", "≤ 1 GB")
    line("    peak resident set (ru_maxrss, whole process)", f"{maxrss / 2**20:,.0f} MiB",
         "≤ 1 GB")

    # (b) ------------------------------------------------------------------------------------------
    v = sc.variances
    orgs = system.orgs
    turnover = orgs["turnover"].to_numpy(float)
    oct_ = orgs["control_total"].to_numpy(float)
    support = orgs["support"].to_numpy(float)
    setup = water_fill_setup(turnover, 0.01 * turnover)
    t_kernel, final_kernel = best_of(lambda: kernel(v, turnover, oct_, support, setup))
    t_run, out = best_of(lambda: engine.run(agreement, system, v))
    t_apply, outcome = best_of(lambda: rs.apply(agreement, system, v))
    same = all(np.allclose(out[c], final_kernel[c], rtol=0, atol=0.01) for c in final_kernel)
    same_apply = np.allclose(outcome["final"], final_kernel["final"], rtol=0, atol=0.01)
    worst = max(np.abs(out[c] - final_kernel[c]).max() for c in final_kernel)
    capped = (np.abs(out["unallocated"]) > 0).mean()
    print(f"(b) engine vs hand-written kernel, {PRESET}, {n:,} × {system.n} "
          f"({capped:.1%} of scenarios leave part of the pool unallocated: every member capped)")
    line("    hand-written numpy kernel", f"{t_kernel:.3f} s", "yardstick")
    line("    engine.run", f"{t_run:.3f} s", "")
    line("    rs.apply", f"{t_apply:.3f} s", "")
    line("    engine.run / kernel", f"{t_run / t_kernel:.2f}×", "≤ 1.5×")
    line("    rs.apply / kernel", f"{t_apply / t_kernel:.2f}×", "≤ 1.5×")
    line("    same columns (np.allclose, atol 1p)", f"{same and same_apply}", "True")
    line("    largest |difference| in any column", f"£{worst:.2e}", "< £0.01")

    # (c) ------------------------------------------------------------------------------------------
    systems = [rs.samples.synthetic(30, seed) for seed in range(42)]
    t0 = time.perf_counter()
    for i, s in enumerate(systems):
        rs.risk_table(agreement, s, rs.simulate(s, 10_000, seed=i, correlation=0.3))
    t_c = time.perf_counter() - t0
    print(f"(c) national sweep: 42 systems × 30 members × 10,000 scenarios, {PRESET}")
    line("    simulate + risk_table, total", f"{t_c:.2f} s", "≤ 10 s")


if __name__ == "__main__":
    main()
