"""The agreement core starts light (issue 14, first step): loading a system, applying an
agreement, reconciling, simulating and comparing load no solver and no spreadsheet library;
the optimiser loads PuLP and HiGHS when it is first used, and a workbook loads openpyxl when one
is written or read."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("pulp", "highspy", "openpyxl", "altair", "vl_convert", "streamlit", "scipy")

SCRIPT = f"""
import sys
import riskshare as rs
system = rs.load_sample("workshop_4")
rs.apply("standalone", system)
rs.reconcile(system)
rs.compare(["standalone", "full_pooling_turnover"], system, rs.simulate(system, 50, seed=1))
print(",".join(m for m in {HEAVY!r} if m in sys.modules))
rs.optimise(system)
print(",".join(m for m in ("pulp", "highspy") if m in sys.modules))
"""


def test_the_agreement_core_loads_no_solver_or_spreadsheet_library():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[0] == ""                     # nothing heavy before the optimiser is asked for
    assert out[1] == "pulp,highspy"         # and the optimiser still finds its solver
