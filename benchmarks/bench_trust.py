"""Bounded work (issue 13): incentives' time and peak memory at 1,000 and 10,000 members, and how
fast a runaway request is refused (a billion scenarios, a 16-member walk-away across 100,000
scenarios, a session asking for either, files as wide or as wrong as an upload could be).
Prints figures; asserts nothing (README, Performance).

    .venv/bin/python benchmarks/bench_trust.py

Each incentives figure runs in a fresh process, so its peak resident memory is its own.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import line  # noqa: E402

import riskshare as rs  # noqa: E402
from riskshare.core.io import load_bytes  # noqa: E402
from riskshare.workshop.session import read_session_text  # noqa: E402

CHILD = """
import resource, time, riskshare as rs
system = rs.samples.synthetic({n}, 1)
start = time.perf_counter()
rs.incentives("gain_loss_50_50_deadband", system)
seconds = time.perf_counter() - start
print(seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def incentives_in_a_fresh_process(n: int) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", CHILD.format(n=n)], capture_output=True,
                         text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def refusal_seconds(call) -> float:
    start = time.perf_counter()
    try:
        call()
    except rs.RiskshareError:
        return time.perf_counter() - start
    raise AssertionError("not refused")


def main() -> None:
    for n in (1_000, 10_000):
        seconds, peak = incentives_in_a_fresh_process(n)
        line(f"incentives, {n:,} members: time / peak resident memory",
             f"{seconds:.1f} s / {peak:,.0f} MiB", "≤ 1 GB")
    north = rs.load_sample("northshire_2018_19")
    line("simulate 10⁹ scenarios × 9 members: refused after",
         f"{refusal_seconds(lambda: rs.simulate(north, 10**9)) * 1e3:.1f} ms", "≪ 1 s")
    line("simulate 10⁷ scenarios × 9 members (4.0 GB): refused after",
         f"{refusal_seconds(lambda: rs.simulate(north, 10**7)) * 1e3:.1f} ms", "≪ 1 s")
    big = rs.samples.synthetic(16, 3)
    scenarios = rs.simulate(big, 100_000, seed=1)
    line("walk-away, 16 members × 100,000 scenarios: estimate",
         f"{rs.games.estimate_seconds(16, 100_000) / 3600:.1f} h", "stated before running")
    line("the same: refused after",
         f"{refusal_seconds(lambda: rs.games.certificate(big, 'gain_loss_50_50_deadband', scenarios)) * 1e3:.1f} ms",
         "≪ 1 s")
    text = (Path(__file__).resolve().parents[1] / "sample_data" / "sessions"
            / "northshire_workshop.toml").read_text().replace("n = 1000", "n = 1_000_000_000")
    line("a session asking for 10⁹ scenarios: refused after",
         f"{refusal_seconds(lambda: read_session_text(text)) * 1e3:.0f} ms", "≪ 1 s")
    # files a 5 MB upload could hold
    head = "org_id,name,kind,turnover,control_total,forecast"
    wide = (head + "," + ",".join(f"x{i}" for i in range(5000)) + "\n" + "\n".join(
        f"M{i},N{i},acute,1000000,0,0," + ",".join("1" * 5000) for i in range(20))).encode()
    line("a CSV with 5,000 extra columns × 20 rows: refused after",
         f"{refusal_seconds(lambda: load_bytes(wide, 'wide.csv')) * 1e3:.0f} ms", "≪ 1 s")
    bad = (head + "\n" + "\n".join(f"M{i},N{i},acute,10x0,0,0" for i in range(60_000))).encode()
    start = time.perf_counter()
    try:
        load_bytes(bad, "bad.csv")
    except rs.ValidationError as exc:
        seconds, size = time.perf_counter() - start, len(str(exc))
    line("a CSV with 60,000 bad rows: refused after / message length",
         f"{seconds:.1f} s / {size:,} characters", "a readable message")


if __name__ == "__main__":
    main()
