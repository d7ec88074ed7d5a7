"""Timing of the foundation on synthetic systems: validate (System.from_frame), reconcile,
rebalance, and an .xlsx round trip. Prints figures; asserts nothing (see README, Performance).

    .venv/bin/python benchmarks/bench_foundation.py
"""

from __future__ import annotations

import io
import time

import riskshare as rs


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    print(f"{'members':>8} {'validate':>10} {'reconcile':>10} {'rebalance':>10} {'xlsx rt':>10}")
    for n in (10, 100, 1_000, 10_000):
        system = rs.samples.synthetic(n, seed=1)
        frame = system.to_frame()
        t_validate = best_of(lambda: rs.System.from_frame(frame, system.control_total))
        t_reconcile = best_of(lambda: rs.reconcile(system))
        t_rebalance = best_of(lambda: rs.rebalance(system))

        def round_trip():
            buffer = io.BytesIO()
            system.to_excel(buffer)
            rs.io.load_bytes(buffer.getvalue(), "system.xlsx")

        t_xlsx = best_of(round_trip, repeat=1 if n >= 10_000 else 3)
        print(f"{n:>8,} {t_validate * 1e3:>8.1f}ms {t_reconcile * 1e3:>8.1f}ms "
              f"{t_rebalance * 1e3:>8.1f}ms {t_xlsx * 1e3:>8.0f}ms")


if __name__ == "__main__":
    main()
