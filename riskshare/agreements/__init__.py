"""Agreements: the declarative risk-share format and the one engine that applies it.

An `Agreement` (bands per side, a pool, a reserve, conditional support) is read from TOML and
validated by key path (`spec`); `presets` are the bundled files in `models/`; `engine.run` applies
an agreement to (scenarios × members) variances in one vectorised pass — the only place the rules
are computed, shared by `apply` (`outcome`), `incentives`, `risk` (metrics across scenarios and
`compare`), the optimiser, the games and the workshop. Money in £; variance = forecast − control
total (surplus +); a member's position is its final outturn − its own control total (OCT).
"""

from riskshare.agreements.engine import EngineResult
from riskshare.agreements.incentives import Incentives
from riskshare.agreements.outcome import Outcome, apply
from riskshare.agreements.presets import list_presets, load_preset
from riskshare.agreements.risk import compare, risk_table
from riskshare.agreements.spec import (
           Agreement,
           Band,
           Carry,
           Pool,
           Reserve,
           Schedule,
           Support,
           load_agreement,
)

__all__ = ["Agreement", "Band", "Carry", "Schedule", "Pool", "Reserve", "Support", "load_agreement",
           "load_preset", "list_presets", "apply", "Outcome", "Incentives", "compare",
           "risk_table", "EngineResult"]
