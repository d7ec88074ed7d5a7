"""Scenarios: the variances an agreement is judged on, beyond the single forecast.

`simulate` draws `Scenarios` (an (S, n) array of variances in £, one row per scenario) around the
forecasts: a common system factor, an optional factor per kind, normal or multivariate t, each
member's volatility (or its kind's default), plus named shocks; `ScenarioSettings` is that recipe
as one value. `shocks` are named, reusable moves of the forecast (all members, a kind, a member;
% of a column or £), and `shocked_variances`/`shocked_system` apply one deterministically.
"""

from riskshare.scenarios.shocks import (
    Shock,
    list_shocks,
    load_shock,
    shocked_system,
    shocked_variances,
)
from riskshare.scenarios.simulate import Scenarios, ScenarioSettings

__all__ = ["Scenarios", "ScenarioSettings", "Shock", "load_shock", "list_shocks",
           "shocked_variances", "shocked_system"]
