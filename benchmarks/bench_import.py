"""How long `import riskshare` takes, and what the agreement core loads (issue 14's targets:
import ≤ 0.4 s; `rs.apply` on a sample loads no solver, spreadsheet, chart or Streamlit module).

Each figure is the median of fresh interpreters (`python -X importtime` would add overhead).
Run: .venv/bin/python benchmarks/bench_import.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys

RUNS = 7
HEAVY = ("pulp", "highspy", "openpyxl", "altair", "vl_convert", "streamlit", "scipy")


def seconds(code: str) -> float:
    script = f"import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)
    return float(out.stdout.split()[-1])


def main() -> None:
    cases = {
        "import riskshare": "import riskshare",
        "import riskshare + load_sample": "import riskshare as rs; rs.load_sample('workshop_4')",
        "… + apply('standalone')": ("import riskshare as rs; "
                                    "rs.apply('standalone', rs.load_sample('workshop_4'))"),
        "import pandas (for reference)": "import pandas",
    }
    for label, code in cases.items():
        times = [seconds(code) for _ in range(RUNS)]
        print(f"{label:<36} median {statistics.median(times):.3f} s "
              f"(min {min(times):.3f}, {RUNS} fresh interpreters)")
    probe = ("import sys, riskshare as rs; rs.apply('standalone', rs.load_sample('workshop_4')); "
             f"print(','.join(m for m in {HEAVY!r} if m in sys.modules) or 'none')")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True).stdout.strip()
    print(f"heavy modules loaded by apply: {loaded}")


if __name__ == "__main__":
    main()
