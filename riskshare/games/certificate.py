"""The participation certificate: is an agreement attractive to every member and every group?

`certificate(system, agreement, scenarios=None, risk_aversion=0.5)` builds the game the
agreement defines (`pooling.from_agreement`) and sets what the agreement actually gives each
member beside what each would secure alone and what the fair allocations give:

- the agreement's allocation x: each member's final position (£) under the agreement, or with
  scenarios its certainty equivalent (`pooling.certainty_equivalent`), so x adds up to v(N);
- every member or coalition that would be better off alone or in a smaller deal of its own
  (v(S) > x(S) by more than half a penny), with by how much;
- the least-core ε (≤ 0: some allocation leaves every group at least |ε| better off than alone;
  > 0: whatever the split, some group is at least ε better off alone);
- the Shapley value and the nucleolus (the prenucleolus when the imputation set is empty), as £
  and as shares of the cooperative gain v(N) − Σ v({i}).

Money is in £ and rounded to the penny; every allocation column adds up to v(N) to the penny.
Above MAX_EXACT members not every coalition can be checked: the Shapley value is sampled, the
coalitions checked are the members alone and each group of all but one member, and the least
core and nucleolus are left out; `notes` says so.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskshare.agreements import engine
from riskshare.agreements.outcome import in_pennies
from riskshare.agreements.risk import ALPHA
from riskshare.agreements.spec import Agreement, load_agreement
from riskshare.core.constants import HALF_PENNY
from riskshare.core.errors import UsageError
from riskshare.core.format import LISTED, amount, listed
from riskshare.core.money import round_to_total
from riskshare.core.system import System, require_system
from riskshare.games.core import (
    core_violations,
    least_core,
    nucleolus,
    prenucleolus,
    violation_table,
)
from riskshare.games.game import MAX_EXACT, EmptyImputationSetError, Game, SampledShapleyWarning
from riskshare.games.pooling import (
    RISK_AVERSION,
    certainty_equivalent,
    from_agreement,
    scenario_variances,
)
from riskshare.games.shapley import shapley

METHODS = ("agreement", "shapley", "nucleolus", "least_core")


@dataclass(frozen=True, eq=False)
class Certificate:
    """The result of `certificate` (see the module docstring). Money in £.

    basis:      what the figures are, in words ("at the forecast", or the certainty equivalent
                over how many scenarios).
    table:      per member (index org_id): name, alone (v({i})), agreement (x_i), shapley,
                nucleolus (or prenucleolus), least_core, and for each allocation its gain over
                alone (gain_*) and share of the cooperative gain (share_*, a fraction; NaN when
                there is no gain to share). Sampled Shapley adds shapley_se.
    violations: coalitions better off on their own, worst first: coalition, players, size,
                value (v(S)), allocation (x(S) under the agreement), shortfall.
    epsilon:    the least-core ε (None above MAX_EXACT members).
    fair:       "nucleolus", "prenucleolus" (empty imputation set) or "" (not computed).
    checked:    how many coalitions were checked; exhaustive: whether that is all of them.
    """

    agreement: Agreement
    system: System
    game: Game
    basis: str
    table: pd.DataFrame
    violations: pd.DataFrame
    epsilon: float | None
    fair: str
    checked: int
    exhaustive: bool
    notes: tuple[str, ...] = ()

    @property
    def passes(self) -> bool:
        """No member and no coalition would be better off in a smaller deal (of those checked)."""
        return self.violations.empty

    @property
    def grand(self) -> float:
        return float(self.table["agreement"].sum())

    @property
    def alone_total(self) -> float:
        return float(self.table["alone"].sum())

    @property
    def gain(self) -> float:
        """The cooperative gain v(N) − Σ v({i}) (£; negative: pooling loses money)."""
        return round(self.grand - self.alone_total, 2)

    @property
    def members_worse_off(self) -> pd.DataFrame:
        return self.violations[self.violations["size"] == 1]

    @property
    def groups_worse_off(self) -> pd.DataFrame:
        return self.violations[self.violations["size"] > 1]

    def summary(self, notes: bool = True) -> list[str]:
        """The certificate in plain sentences, verdict first; then `notes` unless notes=False."""
        n = self.system.n
        lines = [self._verdict(), self._gain_sentence()]
        members = self.members_worse_off
        if len(members):
            who = listed([f"{p[0]} by {amount(s)}" for p, s in
                          zip(members["players"].iloc[:LISTED], members["shortfall"].iloc[:LISTED],
                              strict=True)] + list(members["players"].iloc[LISTED:]), sep="; ")
            lines.append(f"Better off alone: {who}.")
        groups = self.groups_worse_off
        if len(groups):
            top = groups.iloc[0]
            lines.append(f"The group with most to gain from a smaller deal of its own "
                         f"({describe_group(top['players'], self.system.members)}) would be "
                         f"{amount(top['shortfall'])} better off.")
        if self.epsilon is not None:
            lines.append(self._epsilon_sentence(self.epsilon))
        share = self._share_sentence()
        if share:
            lines.append(share)
        scope = ("every one of the " if self.exhaustive else "") + f"{self.checked:,} coalitions"
        lines.append(f"Checked: {scope} of {n} members"
                     + ("." if self.exhaustive else " (each member alone and each group of all "
                        "but one member)."))
        return lines + (list(self.notes) if notes else [])

    def _verdict(self) -> str:
        name = self.agreement.name or "the agreement"
        if self.passes:
            return (f"Participation certificate: passed. Under '{name}', no member and no group "
                    f"of members would do better in a smaller deal of its own.")
        parts = []
        k, m = len(self.members_worse_off), len(self.groups_worse_off)
        if k:
            parts.append(f"{k} of the {self.system.n} members would be better off alone")
        if m:
            parts.append(f"{m:,} group{'s' if m != 1 else ''} of two or more would do better "
                         f"in a smaller deal of {'their' if m != 1 else 'its'} own")
        return f"Participation certificate: not passed. Under '{name}', " + " and ".join(
            parts) + "."

    def _gain_sentence(self) -> str:
        if abs(self.gain) <= HALF_PENNY:
            effect = "neither creates nor costs anything"
        else:
            effect = ("creates " if self.gain > 0 else "costs ") + amount(abs(self.gain))
        return (f"Together the members end at {amount(self.grand)} ({self.basis}); each on its "
                f"own they would end at {amount(self.alone_total)}: pooling under this "
                f"agreement {effect}.")

    def _epsilon_sentence(self, eps: float) -> str:
        if eps <= HALF_PENNY:
            margin = f"at least {amount(-eps)} better off" if eps < -HALF_PENNY else "no worse off"
            return (f"Least-core ε = {amount(eps)}: the core is not empty, so some split "
                    f"leaves every group {margin} than going it alone.")
        return (f"Least-core ε = {amount(eps)}: the core is empty, so whatever the split some "
                f"group would be at least {amount(eps)} better off alone; the "
                f"{self.fair or 'nucleolus'} keeps the worst-treated groups as close as it can.")

    def _share_sentence(self) -> str:
        """Where the agreement's split of the gain departs most from the Shapley value."""
        t = self.table
        if self.gain <= HALF_PENNY:
            return ""
        who = (t["gain_agreement"] - t["gain_shapley"]).abs().idxmax()
        fair = (f" (the {self.fair}: {amount(t.at[who, 'gain_' + self.fair])})"
                if self.fair else "")
        return (f"Of the cooperative gain of {amount(self.gain)}, the agreement's split "
                f"departs most from the Shapley value for {who}: it gives {who} "
                f"{amount(t.at[who, 'gain_agreement'])}, where the Shapley value would give "
                f"{amount(t.at[who, 'gain_shapley'])}{fair}.")


def describe_group(players, everyone) -> str:
    """A group by its members ("SVH, NCH"), or by who is left out when it holds more than half
    of `everyone` ("all but NGH, VGP")."""
    players = tuple(players)
    if len(players) > 1 and len(players) > len(everyone) / 2:
        return "all but " + ", ".join(str(m) for m in everyone if m not in players)
    return ", ".join(map(str, players))


def certificate(system: System, agreement, scenarios=None,
                risk_aversion: float = RISK_AVERSION, alpha: float = ALPHA,
                max_seconds: float | None = None) -> Certificate:
    """The participation certificate of `agreement` on `system` (see the module docstring).
    scenarios: None (the forecast), a `Scenarios` or an (S, n) array of variances (£).
    max_seconds: the most the judgement may take by its estimate (default the time budget,
    `pooling.time_budget`); above it BudgetError says how long; math.inf runs regardless.

    Parameters
    ----------
    system : System
        The members (at least two), their control totals, forecasts, turnover and support
        (£), and the SCT.
    agreement : Agreement, str or pathlib.Path
        An Agreement, a preset name, a .toml path or TOML text (see `load_agreement`).
    scenarios : Scenarios or array-like, optional
        None: the forecast variances. Else variances, forecast − control total (£): one set
        (a 1-D array), or a `Scenarios` or an (S, n) array, one row per scenario.
    risk_aversion : float, default 0.5
        λ of the certainty equivalent, from 0 (the mean) to 1 (the tail mean); used with more
        than one scenario.
    alpha : float, default 0.95
        The confidence level of the tail, from 0.5 to below 1 (0.95: the worst 5%).
    max_seconds : float, optional
        The most the judgement may take by its estimate, in seconds (> 0). None: the time
        budget; math.inf: go ahead whatever the estimate.

    Returns
    -------
    Certificate
        `.passes` (no member or group checked is better off alone), `.table` per member (alone,
        the agreement, Shapley, nucleolus and least core, £ in whole pennies; gains in £ and
        shares of the cooperative gain as fractions), `.violations` (£), `.epsilon` (£) and
        `.summary()` in sentences.

    Raises
    ------
    UsageError
        When the system has a single member, or `max_seconds` (or RISKSHARE_TIME_BUDGET) is
        not a positive number of seconds.
    ValidationError
        When the agreement has problems or does not fit the system, risk_aversion or alpha is
        out of range, or the scenarios are malformed or empty.
    BudgetError
        When the estimated time exceeds `max_seconds` (the message says how long).
    InputFileError
        When the agreement cannot be read (see `load_agreement`).
    GameSolveError
        When HiGHS cannot solve one of the game's LPs.
    """
    require_system(system, "certificate")
    agreement = load_agreement(agreement)
    if isinstance(system, System) and system.n < 2:
        raise UsageError(f"the system ({system.label}) has one member: participation is about who "
                         "would rather share with fewer members, so it needs at least two")
    game = from_agreement(system, agreement, scenarios, risk_aversion, alpha, max_seconds)
    variances, deterministic = scenario_variances(system, scenarios)
    x = agreement_allocation(agreement, system, variances, risk_aversion, alpha)
    notes: list[str] = []
    grand = round(float(x.sum()), 2)
    alone = game.singletons.to_numpy()
    allocations = {"agreement": x}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SampledShapleyWarning)
        phi = shapley(game)
    if phi.attrs.get("method") == "sampled":
        notes.append(f"With {system.n} members (more than {MAX_EXACT}) the Shapley value is "
                     f"estimated from {phi.attrs['samples']:,} random orders of joining, not "
                     f"computed exactly; its largest standard error is "
                     f"{amount(phi.attrs['standard_error'].max())}.")
    allocations["shapley"] = phi.to_numpy()
    epsilon, fair = None, ""
    if game.exact:
        try:
            allocations["nucleolus"] = nucleolus(game).to_numpy()
            fair = "nucleolus"
        except EmptyImputationSetError:
            allocations["nucleolus"] = prenucleolus(game).to_numpy()
            fair = "prenucleolus"
            notes.append("Pooling under this agreement leaves the members with less in total "
                         "than acting alone, so no split can leave every member at least as "
                         "well off as alone (the imputation set is empty); the prenucleolus "
                         "is shown in place of the nucleolus.")
        lc, epsilon = least_core(game)
        allocations["least_core"] = lc.to_numpy()
        violations = core_violations(game, x, tol=HALF_PENNY)
        checked = (1 << system.n) - 1
    else:
        rows = np.vstack([np.eye(system.n, dtype=bool), ~np.eye(system.n, dtype=bool)])
        masks = rows.astype(np.int64) @ (1 << np.arange(system.n, dtype=np.int64))
        violations = violation_table(game, masks, game.value_of(rows), rows @ x, HALF_PENNY)
        checked = len(rows)
    table = _table(system, game, alone, allocations, grand, fair)
    if "standard_error" in phi.attrs:
        table["shapley_se"] = phi.attrs["standard_error"].round(2)
    violations = violations.assign(value=violations["value"].round(2),
                                   allocation=violations["allocation"].round(2),
                                   shortfall=violations["shortfall"].round(2))
    return Certificate(agreement, system, game, _basis(scenarios, variances, risk_aversion, alpha), table,
                       violations, None if epsilon is None else round(epsilon, 2), fair, checked,
                       game.exact, tuple(notes))


def agreement_allocation(agreement: Agreement, system: System, variances, risk_aversion: float,
                         alpha: float) -> np.ndarray:
    """What the agreement gives each member (£) for variances (K, n): final positions when
    K = 1 — in whole pennies, exactly as `rs.apply`'s table shows them — else each member's
    certainty equivalent across the scenarios."""
    arrays = engine.run(agreement, system, variances)
    if len(variances) == 1:
        return in_pennies(arrays, system)["final"][0]
    return certainty_equivalent(arrays.final, risk_aversion, alpha, axis=0)


def _table(system: System, game: Game, alone: np.ndarray, allocations: dict, grand: float,
           fair: str) -> pd.DataFrame:
    members = list(system.members)
    alone = round_to_total(alone, round(float(np.sum(alone)), 2), tiebreak=members)
    table = pd.DataFrame({"name": system.orgs["name"], "alone": alone}, index=system.members)
    gain = grand - float(table["alone"].sum())
    for method, values in allocations.items():
        column = fair if method == "nucleolus" else method
        table[column] = round_to_total(values, grand, tiebreak=members)
    for method in allocations:
        column = fair if method == "nucleolus" else method
        table[f"gain_{column}"] = (table[column] - table["alone"]).round(2)
        table[f"share_{column}"] = (table[f"gain_{column}"] / gain) if gain > HALF_PENNY else math.nan
    return table


def _basis(scenarios, variances, risk_aversion: float, alpha: float) -> str:
    if scenarios is None:
        return "at the forecast"
    if len(variances) == 1:
        return "at the given variances"
    tail = f"{1 - alpha:.0%}"
    return (f"certainty equivalent over {len(variances):,} scenarios: the mean less "
            f"{risk_aversion:g} × the expected shortfall below it in the worst {tail}")
