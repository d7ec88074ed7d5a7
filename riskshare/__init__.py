"""riskshare: reconcile NHS system and organisational control totals, and test how risk-share
agreements move over- and underspends between members.

Money is in pounds; surplus/favourable positive, deficit/adverse negative;
variance = forecast − control total. See README.md, ARCHITECTURE.md and docs/.

The public API below loads lazily: `import riskshare` loads nothing but this file, and each name
imports its home module at first use, so the agreement core (`load_system`, `apply`, `simulate`,
`reconcile`) never loads a solver, spreadsheet, chart or Streamlit library. The subpackages, lowest
layer first (ARCHITECTURE.md has the contract):

    core/            the organisations table, System, money in pennies, files, errors, constants
    solver/          linear programmes: models, HiGHS/CBC, conditions in words, infeasibility
    scenarios/       simulated and shocked variances
    agreements/      the agreement format, presets, the engine, outcomes, incentives, risk
    reconciliation/  reconcile and rebalance control totals
    optimisation/    rs.optimise and near-optimal alternatives
    games/           cooperative games: Shapley, least core, nucleolus, the certificate
    reports/         charts and result workbooks
    workshop/        sessions, steps, what-ifs and the session reports
    cli/, ui/        the command line and the Streamlit pages
"""

from __future__ import annotations

import importlib
import sys
import types
import warnings
from importlib.abc import Loader, MetaPathFinder
from importlib.machinery import ModuleSpec
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# Each public name and the module that owns it.
_HOMES = {
    "riskshare.core.system": ("System",),
    "riskshare.core.io": ("load_system",),
    "riskshare.core.monthly": ("load_monthly", "Monthly"),
    "riskshare.core.register": ("load_register", "Register"),
    "riskshare.core.samples": ("load_sample", "list_samples", "load_sample_monthly",
                               "load_sample_register"),
    "riskshare.core.schema": ("ORG_COLUMNS", "KINDS"),
    "riskshare.core.errors": ("RiskshareError", "ValidationError", "InputFileError",
                              "UnknownSampleError", "Problem", "NotFoundError", "UsageError",
                              "ArgumentTypeError", "BudgetError", "InfeasibleError", "Conflict"),
    "riskshare.reconciliation.reconcile": ("reconcile", "Reconciliation"),
    "riskshare.reconciliation.rebalance": ("rebalance", "Rebalancing"),
    "riskshare.agreements.spec": ("Agreement", "load_agreement"),
    "riskshare.agreements.outcome": ("apply", "Outcome"),
    "riskshare.agreements.incentives": ("incentives", "Incentives"),
    "riskshare.agreements.risk": ("compare", "risk_table"),
    "riskshare.scenarios.simulate": ("simulate", "Scenarios", "with_register", "register_latents"),
    "riskshare.inyear.position": ("in_year", "InYear"),
    "riskshare.inyear.fan": ("landing", "Landing"),
    "riskshare.risks.adjusted": ("risk_adjusted", "RiskAdjusted"),
    "riskshare.risks.reserve": ("reserve_needed", "ReserveSizing"),
    "riskshare.risks.ranking": ("rank_items", "rank_events"),
    "riskshare.years.underlying": ("underlying", "Underlying"),
    "riskshare.years.project": ("project", "Projection"),
    "riskshare.years.rules": ("load_rules", "Rules", "list_rules"),
    "riskshare.scenarios.shocks": ("Shock", "load_shock", "list_shocks", "shocked_variances"),
    "riskshare.optimisation.optimise": ("optimise", "Allocation", "Constraints", "OBJECTIVES",
                                        "SolverError"),
}
_MODULES = {"samples": "riskshare.core.samples", "claims": "riskshare.agreements.claims",
            "games": "riskshare.games"}
_WHERE = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [*_WHERE, *_MODULES]


#: The subpackages, reachable as attributes (rs.workshop, rs.agreements, ...) at first use.
_SUBPACKAGES = ("core", "solver", "scenarios", "agreements", "reconciliation", "optimisation",
                "games", "reports", "inyear", "risks", "years", "workshop")


def __getattr__(name: str):
    """Load a public name from its home module at first use (PEP 562)."""
    if name in _MODULES:
        value = importlib.import_module(_MODULES[name])
    elif name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
    elif name in _SUBPACKAGES:
        value = importlib.import_module(f"riskshare.{name}")
    elif name in _MOVED:     # an old flat module reached as an attribute (rs.errors)
        warnings.warn(f"riskshare.{name} has moved to {_new_home(name)}; the old name goes in "
                      "the next release", DeprecationWarning, stacklevel=2)
        value = importlib.import_module(f"riskshare.{name}")
    else:
        raise AttributeError(f"module 'riskshare' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*__all__, *_SUBPACKAGES, "__version__"})


# Modules that lived flat in riskshare/ before the subpackages: `import riskshare.engine` and
# `from riskshare.session import ...` keep working for one release, with a DeprecationWarning
# naming the new home, and give the very same module object as the new path. An old module whose
# contents went to two homes (report) is a read-only view of both.
_MOVED: dict[str, tuple[str, ...]] = {
    "errors": ("core.errors",), "lazy": ("core.lazy",), "sources": ("core.sources",),
    "cells": ("core.cells",), "money": ("core.money",), "format": ("core.format",),
    "schema": ("core.schema",), "system": ("core.system",), "io": ("core.io",),
    "excel": ("core.excel",), "samples": ("core.samples",), "lp": ("solver.lp",),
    "conditions": ("solver.conditions",), "infeasibility": ("solver.infeasibility",),
    "shocks": ("scenarios.shocks",), "agreement": ("agreements.spec",),
    "presets": ("agreements.presets",), "claims": ("agreements.claims",),
    "engine": ("agreements.engine",), "outcome": ("agreements.outcome",),
    "risk": ("agreements.risk",), "optimise_octs": ("reconciliation.rebalance_lp",),
    "alternatives": ("optimisation.mga",), "charts": ("reports.charts",),
    "report": ("reports.workbooks", "workshop.report"), "printable": ("workshop.printable",),
    "session": ("workshop.session",),
    # these old module names are also public functions: the alias never replaces the function
    "simulate": ("scenarios.simulate",), "incentives": ("agreements.incentives",),
    "reconcile": ("reconciliation.reconcile",), "rebalance": ("reconciliation.rebalance",),
    "optimise": ("optimisation.optimise",),
}


def _new_home(old: str) -> str:
    return " and ".join(f"riskshare.{home}" for home in _MOVED[old])


class _MovedModules(MetaPathFinder, Loader):
    def __init__(self) -> None:
        self._specs: dict[str, ModuleSpec] = {}

    def find_spec(self, fullname, path=None, target=None):
        head, _, tail = fullname.partition(".")
        # riskshare.workshop is a package now: only the old names that are not packages alias
        if head == "riskshare" and tail in _MOVED and tail not in _SUBPACKAGES:
            return ModuleSpec(fullname, self)
        return None

    def create_module(self, spec):
        old = spec.name.partition(".")[2]
        warnings.warn(f"{spec.name} has moved to {_new_home(old)}; the old name goes in the next "
                      "release", DeprecationWarning, stacklevel=2)
        homes = [importlib.import_module(f"riskshare.{home}") for home in _MOVED[old]]
        if len(homes) == 1:
            self._specs[homes[0].__name__] = homes[0].__spec__
            return homes[0]
        view = types.ModuleType(spec.name, f"Moved: see {_new_home(old)}.")

        def lookup(name: str):
            for home in homes:
                if hasattr(home, name):
                    return getattr(home, name)
            raise AttributeError(f"{spec.name} has no attribute {name!r} (it moved to "
                                 f"{_new_home(old)})")
        view.__getattr__ = lookup  # type: ignore[method-assign]  # PEP 562 on a module object
        return view

    def exec_module(self, module):
        # the import system stamped the alias's spec on the real module: give it back its own
        spec = self._specs.pop(module.__name__, None)
        if spec is not None:
            module.__spec__ = spec


class _Package(types.ModuleType):
    def __setattr__(self, name, value):
        # an old module name imported through the alias must not shadow the public function
        if isinstance(value, types.ModuleType) and name in _WHERE:
            return
        super().__setattr__(name, value)


if not any(isinstance(f, _MovedModules) for f in sys.meta_path):
    sys.meta_path.append(_MovedModules())
sys.modules[__name__].__class__ = _Package

if TYPE_CHECKING:  # the same names, for type checkers and editors
    from riskshare import games
    from riskshare.agreements import claims
    from riskshare.agreements.incentives import Incentives, incentives
    from riskshare.agreements.outcome import Outcome, apply
    from riskshare.agreements.risk import compare, risk_table
    from riskshare.agreements.spec import Agreement, load_agreement
    from riskshare.core import samples
    from riskshare.core.errors import (
        ArgumentTypeError,
        BudgetError,
        Conflict,
        InfeasibleError,
        InputFileError,
        NotFoundError,
        Problem,
        RiskshareError,
        UnknownSampleError,
        UsageError,
        ValidationError,
    )
    from riskshare.core.io import load_system
    from riskshare.core.register import Register, load_register
    from riskshare.core.samples import (
        list_samples,
        load_sample,
        load_sample_monthly,
        load_sample_register,
    )
    from riskshare.core.schema import KINDS, ORG_COLUMNS
    from riskshare.core.system import System
    from riskshare.optimisation.optimise import (
        OBJECTIVES,
        Allocation,
        Constraints,
        SolverError,
        optimise,
    )
    from riskshare.reconciliation.rebalance import Rebalancing, rebalance
    from riskshare.reconciliation.reconcile import Reconciliation, reconcile
    from riskshare.risks.adjusted import RiskAdjusted, risk_adjusted
    from riskshare.risks.ranking import rank_events, rank_items
    from riskshare.risks.reserve import ReserveSizing, reserve_needed
    from riskshare.scenarios.shocks import Shock, list_shocks, load_shock, shocked_variances
    from riskshare.scenarios.simulate import Scenarios, register_latents, simulate, with_register
    from riskshare.years.project import Projection, project
    from riskshare.years.rules import Rules, list_rules, load_rules
    from riskshare.years.underlying import Underlying, underlying
