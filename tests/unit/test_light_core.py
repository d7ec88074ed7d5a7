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


IMPORT_ONLY = """
import sys
before = set(sys.modules)
import riskshare as rs
loaded = sorted(m for m in set(sys.modules) - before
                if m.split(".")[0] in ("riskshare", "pandas", "numpy"))
print(",".join(loaded))
rs.apply("standalone", rs.load_sample("workshop_4"))
print(",".join(m for m in HEAVY if m in sys.modules))
"""


def test_import_riskshare_loads_only_its_front_door_and_apply_stays_light():
    """`import riskshare` loads riskshare/__init__.py alone (the public names are lazy), and the
    issue's own check — apply standalone to workshop_4 — leaves every heavy library unloaded.
    (Import time is measured in benchmarks/bench_import.py, not asserted here.)"""
    script = f"HEAVY = {HEAVY!r}\n" + IMPORT_ONLY
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[0] == "riskshare"
    assert out[1] == ""


def test_every_public_name_resolves_and_old_module_paths_still_work():
    script = """
import warnings
import riskshare as rs
missing = [n for n in rs.__all__ if getattr(rs, n, None) is None]
print(",".join(missing))
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import riskshare.engine as old
    from riskshare.agreements import engine as new
    from riskshare.session import load_session
print(old is new, load_session is rs.workshop.load_session if hasattr(rs, "workshop") else
      load_session.__module__ == "riskshare.workshop.session")
print(sum(issubclass(w.category, DeprecationWarning) for w in caught) >= 2)
import riskshare.optimise, riskshare.simulate
print(callable(rs.optimise) and callable(rs.simulate))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[0] == ""                     # every name in rs.__all__ is there
    assert out[1] == "True True"            # the old path is the very same module
    assert out[2] == "True"                 # and it says it has moved
    assert out[3] == "True"                 # importing an old module never hides rs.optimise


OLD_PATHS = """
from riskshare.report import session_workbook, outcome_workbook
from riskshare.claims import talmud
from riskshare.samples import synthetic
from riskshare.alternatives import alternatives
from riskshare.simulate import SEED_MAX
from riskshare.io import system_meta
import riskshare.session
import riskshare as rs
print(riskshare.workshop.session.__spec__.name)
print(",".join(sorted(n for n in dir(rs) if n[:1].islower() and n in (
    "importlib", "sys", "types", "warnings", "annotations", "core", "workshop", "agreements"))))
print(rs.workshop.view.__module__)
"""


def test_every_old_path_still_imports_says_where_it_went_and_leaves_the_new_module_itself():
    """Old flat paths (the layout before the subpackages) keep working for one release. Their
    DeprecationWarning is shown by default at the line of a script that used one, names the new
    home, and importing through the old name does not rename the new module."""
    run = subprocess.run([sys.executable, "-c", OLD_PATHS], capture_output=True, text=True,
                         check=True)
    out = run.stdout.splitlines()
    assert out[0] == "riskshare.workshop.session"      # its own spec, not the alias's
    assert out[1] == "agreements,core,workshop"         # the subpackages, not the machinery
    assert out[2] == "riskshare.workshop.steps"
    warned = [line for line in run.stderr.splitlines() if "DeprecationWarning" in line]
    assert len(warned) == 7
    assert warned[0].startswith("<string>:2: DeprecationWarning: riskshare.report has moved to "
                                "riskshare.reports.workbooks and riskshare.workshop.report")
