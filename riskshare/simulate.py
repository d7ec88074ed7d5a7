"""Monte Carlo scenarios of members' variances (DOMAIN §6; issue 4).

`simulate(system, n, seed=..., correlation=..., ...)` returns `Scenarios`: an (n × members)
array of variances (£, forecast − control total plus a random draw plus any shocks) and what made
them. Same seed, same numbers.

The draw for member i in scenario s is

    volatility_i% × turnover_i × ( √ρ·Z_s + √ρ_k·K_{s,kind(i)} + √(1 − ρ − ρ_k)·ε_{s,i} )

with Z the common system factor, K one factor per kind of member (optional, `kind_correlation`
ρ_k) and ε independent, all standard normal; so any two members correlate at ρ (ρ + ρ_k within a
kind) and each has standard deviation volatility% of turnover. Volatility comes from the
`volatility` column, else the default for the member's kind (`schema.KINDS`).

With `distribution="t"` the normal vector of each scenario is divided by √(W/df), W ~ χ²(df),
and rescaled by √((df − 2)/df): a multivariate t with the same standard deviations and
correlations but fatter, jointly occurring tails (df > 2).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from .errors import problem, raise_if_errors
from .system import System

DISTRIBUTIONS = ("normal", "t")


@dataclass(frozen=True, eq=False)
class Scenarios:
    """Simulated variances and their recipe.

    variances:  (n, members) £, forecast − control total + draw + shocks.
    base:       (members,) £, forecast − control total.
    draws:      (n, members) £, the random part.
    shock:      (members,) £, the deterministic shock added to every scenario.
    volatility: (members,) % of turnover used.
    """

    system: System
    variances: np.ndarray
    base: np.ndarray
    draws: np.ndarray
    shock: np.ndarray
    volatility: np.ndarray
    seed: int | None
    correlation: float
    kind_correlation: float
    distribution: str
    df: float | None
    shocks: tuple = field(default=())

    @property
    def n(self) -> int:
        return self.variances.shape[0]

    def frame(self) -> pd.DataFrame:
        """The variances as a DataFrame (scenario × org_id)."""
        return pd.DataFrame(self.variances, columns=self.system.members,
                            index=pd.RangeIndex(self.n, name="scenario"))

    def describe(self) -> str:
        dist = "normal" if self.distribution == "normal" else f"t with {self.df:g} d.f."
        text = (f"{self.n:,} scenarios ({dist}; correlation {self.correlation:g}"
                + (f", within kind +{self.kind_correlation:g}" if self.kind_correlation else "")
                + f"; seed {self.seed})")
        if self.shocks:
            text += "; shocks: " + ", ".join(s.name for s in self.shocks)
        return text


def _real(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def check_settings(n, correlation, kind_correlation, distribution, df, volatility_scale,
                   prefix: str = "") -> list:
    """Every problem with a set of simulation settings (keys prefixed with `prefix`, e.g.
    "scenarios." for a session file); [] when they can be simulated."""
    problems = []
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
        problems.append(problem("must be a whole number of scenarios, at least 1",
                                key=f"{prefix}n", value=n))
    for key, value in (("correlation", correlation), ("kind_correlation", kind_correlation)):
        if not _real(value) or not 0.0 <= value <= 1.0:
            problems.append(problem("must lie in [0, 1]", key=f"{prefix}{key}", value=value))
    if _real(correlation) and _real(kind_correlation) and correlation + kind_correlation > 1.0:
        problems.append(problem(f"correlation + kind_correlation must be at most 1 (got "
                                f"{correlation + kind_correlation:g})",
                                key=f"{prefix}kind_correlation"))
    if distribution not in DISTRIBUTIONS:
        problems.append(problem(f"must be one of: {', '.join(DISTRIBUTIONS)}",
                                key=f"{prefix}distribution", value=distribution))
    if distribution == "t" and not (_real(df) and df > 2):
        problems.append(problem("degrees of freedom must be greater than 2 (so the variance "
                                "exists)", key=f"{prefix}df", value=df))
    if not _real(volatility_scale) or not volatility_scale >= 0:
        problems.append(problem("must be a number ≥ 0", key=f"{prefix}volatility_scale",
                                value=volatility_scale))
    return problems


def simulate(system: System, n: int, seed: int | None = 0, correlation: float = 0.3,
             distribution: str = "normal", df: float = 5.0, shocks=(),
             kind_correlation: float = 0.0, volatility_scale: float = 1.0) -> Scenarios:
    """Draw `n` scenarios of variances for `system` (see the module docstring).

    shocks: Shock objects (or shock .toml paths / preset names) added to every scenario.
    volatility_scale: multiplies every member's volatility (1.0 = as given).
    """
    from .shocks import load_shock, total_shock

    problems = check_settings(n, correlation, kind_correlation, distribution, df,
                              volatility_scale)
    shocks = tuple(load_shock(s) for s in (shocks or ()))
    raise_if_errors(problems, "simulation settings")
    shock = total_shock(system, shocks)

    rng = np.random.default_rng(seed)
    m = system.n
    kinds = system.orgs["kind"].to_numpy()
    unique, kind_index = np.unique(kinds, return_inverse=True)
    rho, rho_k = float(correlation), float(kind_correlation)
    z = rng.standard_normal((n, 1))
    eps = rng.standard_normal((n, m))
    x = np.sqrt(rho) * z + np.sqrt(max(1.0 - rho - rho_k, 0.0)) * eps
    if rho_k > 0:
        k = rng.standard_normal((n, len(unique)))
        x += np.sqrt(rho_k) * k[:, kind_index]
    if distribution == "t":
        w = rng.chisquare(df, size=(n, 1))
        x *= np.sqrt((df - 2.0) / w)
    vol = system.volatility().to_numpy(dtype=float) * float(volatility_scale)
    sd = vol / 100.0 * system.orgs["turnover"].to_numpy(dtype=float)
    draws = x * sd
    base = system.variance.to_numpy(dtype=float)
    variances = base + shock + draws
    return Scenarios(system, variances, base, draws, shock, vol, seed, rho, rho_k, distribution,
                     float(df) if distribution == "t" else None, shocks)


@dataclass(frozen=True)
class ScenarioSettings:
    """The recipe for `simulate` as one value (what the app's scenario widgets and a workshop
    session hold): shocks by name, scenario count, correlations, distribution, volatility scale
    and seed. The same settings always give the same scenarios."""

    shocks: tuple[str, ...] = ()
    n: int = 1_000
    correlation: float = 0.3
    kind_correlation: float = 0.0
    distribution: str = "normal"
    df: float = 5.0
    volatility_scale: float = 1.0
    seed: int = 0

    def simulate(self, system: System, shocks=None) -> Scenarios:
        """The scenarios for `system`; `shocks` (Shock objects) replace the named ones."""
        return simulate(system, self.n, seed=self.seed, correlation=self.correlation,
                        distribution=self.distribution, df=self.df,
                        shocks=self.shocks if shocks is None else shocks,
                        kind_correlation=self.kind_correlation,
                        volatility_scale=self.volatility_scale)

    def kwargs(self) -> dict:
        return asdict(self)
