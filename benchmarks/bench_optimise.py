"""Timing of the optimiser. Prints figures with their targets beside them; asserts nothing.

    .venv/bin/python benchmarks/bench_optimise.py

(a) LP, 1,000 members: `rs.optimise(objective="minimax_shortfall")` with a charge cap and a
    minimum retention, end to end (validation, setup, PuLP model, HiGHS, the tie-breaking solve,
    rounding to pennies, evaluation by the engine). Best of 3; target ≤ 1 s.
(b) MILP, 200 members: `max_meeting_control_total` with a charge cap, end to end. Target ≤ 1 s.
(c) Overhead: the same minimax LP as (a) built with riskshare's model layer (PuLP) and solved,
    against the same LP built as arrays and passed straight to highspy. Same optimum checked;
    the ratio of build + solve times is the overhead (target ≤ 3×).
(d) `[pool] distribute = "optimise"` across 10,000 scenarios × 40 members with `rs.apply`
    (the vectorised level-filling solution of the same minimax LP in every scenario).
"""

from __future__ import annotations

import time

import highspy
import numpy as np
from _timing import best_of, line

import riskshare as rs
from riskshare.optimisation.optimise import build, setup
from riskshare.solver import lp

CONSTRAINTS = {"max_charge": 1.0, "min_retention": 0.5}


def raw_highspy(st) -> tuple[float, float]:
    """The stage-one minimax LP of `optimise.build`, as arrays straight into highspy (the same
    columns, bounds and rows, in £ thousands): returns (seconds, optimum)."""
    t0 = time.perf_counter()
    m = st.in_model_units()
    n = m.n
    inf = highspy.kHighsInf
    model = highspy.HighsLp()
    model.num_col_ = n + 1                              # x_0..x_{n-1}, s
    pays = (1.0 - st.constraints.min_retention) * np.maximum(m.variance, 0.0)
    retention_rhs = m.pooled - m.holder - pays
    model.col_cost_ = np.r_[np.zeros(n), 1.0]
    # as optimise.build writes it: conditions on one member's transfer are its bounds (charge
    # cap, retention); rows Σx = total and level_i: x_i + (scale_i/100)·s ≥ −base_i
    model.col_lower_ = np.r_[np.maximum.reduce([np.full(n, -m.big), m.low, retention_rhs]),
                             -inf]
    model.col_upper_ = np.r_[np.minimum(np.full(n, m.big), m.high), inf]
    idx = np.r_[np.arange(n), np.c_[np.arange(n), np.full(n, n)].ravel()]
    val = np.r_[np.ones(n), np.c_[np.ones(n), m.scale / 100.0].ravel()]
    model.num_row_ = n + 1
    model.row_lower_ = np.r_[m.total, -m.base]
    model.row_upper_ = np.r_[m.total, np.full(n, inf)]
    model.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    model.a_matrix_.start_ = np.r_[0, n + 2 * np.arange(n + 1)].astype(np.int32)
    model.a_matrix_.index_ = idx.astype(np.int32)
    model.a_matrix_.value_ = val
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(model)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return time.perf_counter() - t0, h.getInfo().objective_function_value


def riskshare_stage_one(st) -> tuple[float, float]:
    t0 = time.perf_counter()
    built = build(st, "minimax_shortfall")
    status = lp.solve(built.model)
    assert status.ok
    import pulp
    return time.perf_counter() - t0, float(pulp.value(built.model.prob.objective))


def main() -> None:
    big = rs.samples.synthetic(1000, seed=1)
    t, result = best_of(lambda: rs.optimise(big, constraints=CONSTRAINTS))
    line("(a) LP minimax_shortfall, 1,000 members, end to end", f"{t:.2f} s", "≤ 1 s")
    print(f"    {result.value_text()}; solver {result.status.solver}, "
          f"{len(result.binding)} binding conditions")

    mid = rs.samples.synthetic(200, seed=2)
    t, result = best_of(lambda: rs.optimise(mid, objective="max_meeting_control_total",
                                            constraints={"max_charge": 1.0}))
    line("(b) MILP max_meeting_control_total, 200 members, end to end", f"{t:.2f} s", "≤ 1 s")
    print(f"    {result.value_text()}; MIP gap {result.status.mip_gap}")

    st = setup(big, None, CONSTRAINTS)
    ours_t, ours = best_of(lambda: riskshare_stage_one(st))
    raw_t, raw = best_of(lambda: raw_highspy(st))
    ours_t, ours = min(ours_t, ours[0]), ours[1]
    raw_t, raw = min(raw_t, raw[0]), raw[1]
    line("(c) same LP: riskshare model layer (PuLP) build + solve", f"{ours_t:.3f} s", "")
    line("    arrays straight into highspy: build + solve", f"{raw_t:.3f} s", "")
    line("    overhead", f"{ours_t / raw_t:.2f}×", "≤ 3×")
    print(f"    optima agree: {ours:.9f} vs {raw:.9f} (% of turnover)")

    system = rs.samples.synthetic(40, seed=3)
    agreement = rs.load_agreement('name = "optimised pool"\n[gains]\nbands = [{pool = 0.5}]\n'
                                  '[losses]\nbands = [{pool = 0.5}]\n'
                                  '[pool]\ndistribute = "optimise"\nmax_charge = 1.0\n')
    scenarios = rs.simulate(system, 10_000, seed=0)
    t, _ = best_of(lambda: rs.apply(agreement, system, scenarios.variances))
    line("(d) distribute = \"optimise\", 10,000 scenarios × 40 members", f"{t:.2f} s", "")


if __name__ == "__main__":
    main()
