"""riskshare: reconcile NHS system and organisational control totals, and test how risk-share
agreements move over- and underspends between members.

Money is in pounds; surplus/favourable positive, deficit/adverse negative;
variance = forecast − control total. See README.md and ARCHITECTURE.md.
"""

from . import claims, games, samples
from .agreement import Agreement, load_agreement
from .errors import (
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
from .incentives import Incentives, incentives
from .io import load_system
from .optimise import OBJECTIVES, Allocation, Constraints, SolverError, optimise
from .outcome import Outcome, apply
from .rebalance import Rebalancing, rebalance
from .reconcile import Reconciliation, reconcile
from .risk import compare, risk_table
from .samples import list_samples, load_sample
from .schema import KINDS, ORG_COLUMNS
from .shocks import Shock, list_shocks, load_shock, shocked_variances
from .simulate import Scenarios, simulate
from .system import System

__version__ = "0.1.0"

__all__ = [
    "System", "load_system", "load_sample", "list_samples", "samples",
    "reconcile", "Reconciliation", "rebalance", "Rebalancing",
    "Agreement", "load_agreement", "apply", "Outcome", "incentives", "Incentives", "claims",
    "games",
    "simulate", "Scenarios", "Shock", "load_shock", "list_shocks", "shocked_variances",
    "compare", "risk_table",
    "optimise", "Allocation", "Constraints", "OBJECTIVES", "InfeasibleError", "Conflict",
    "SolverError",
    "ORG_COLUMNS", "KINDS",
    "RiskshareError", "ValidationError", "InputFileError", "UnknownSampleError", "Problem",
    "NotFoundError", "UsageError", "ArgumentTypeError", "BudgetError",
]
