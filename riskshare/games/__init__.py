"""Cooperative games: who gains what from pooling (docs/games.md; issue 6).

    g = rs.games.Game(players, v)                 # v: {frozenset: value} or a callable
    g = rs.games.Game.from_vector(players, values) # by coalition size, then lexicographic
    rs.games.shapley(g); rs.games.nucleolus(g); rs.games.prenucleolus(g)   # -> pd.Series
    x, eps = rs.games.least_core(g)
    rs.games.core_violations(g, x)                # coalitions better off alone, worst first
    g = rs.games.from_agreement(system, agreement, scenarios=None, risk_aversion=0.5)
    cert = rs.games.certificate(system, agreement)  # the participation certificate

Modules: `game` (the Game and coalition masks), `shapley`, `core` (least core, nucleolus,
core checks), `pooling` (the game an agreement defines), `certificate`.
"""

from riskshare.games.certificate import Certificate, certificate
from riskshare.games.core import (
                   GameSolveError,
                   core_violations,
                   excesses,
                   is_in_core,
                   least_core,
                   nucleolus,
                   prenucleolus,
)
from riskshare.games.game import (
                   MAX_EXACT,
                   EmptyImputationSetError,
                   Game,
                   SampledShapleyWarning,
                   TooManyPlayersError,
)
from riskshare.games.pooling import coalition_target, estimate_seconds, from_agreement, time_budget
from riskshare.games.shapley import shapley

__all__ = [
    "Game", "MAX_EXACT", "EmptyImputationSetError", "TooManyPlayersError",
    "SampledShapleyWarning", "GameSolveError",
    "shapley", "least_core", "nucleolus", "prenucleolus", "core_violations", "is_in_core",
    "excesses", "from_agreement", "coalition_target", "certificate", "Certificate",
    "estimate_seconds", "time_budget",
]
