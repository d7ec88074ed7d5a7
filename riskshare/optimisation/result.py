"""The answer: `Allocation` (rounded to pennies summing to the pool, evaluated by the engine
exactly as `rs.apply` would), its binding conditions and shadow prices, and the objective measured
on the engine's outcome (`objective_value`, the one owner of what an allocation scores)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskshare.agreements import engine
from riskshare.agreements.outcome import Outcome
from riskshare.core.constants import HALF_PENNY
from riskshare.core.format import money_m, pct
from riskshare.core.money import round_to_total, to_pennies
from riskshare.optimisation.mga import near_optimal
from riskshare.optimisation.setup import Setup
from riskshare.optimisation.spec import OBJECTIVES
from riskshare.solver import lp


@dataclass(frozen=True)
class ShadowPrice:
    """The marginal value of relaxing one binding condition. value: change in the objective per
    £1 of relaxation (objective units per £); effect: the change for a relaxation of `step` £
    (negative lowers the objective); sentence: the same in words."""

    constraint: str
    family: str
    member: str | None
    value: float
    step: float
    effect: float
    sentence: str


@dataclass(frozen=True)
class Binding:
    """A condition that holds with no room to spare."""

    constraint: str
    family: str
    member: str | None
    text: str


@dataclass(frozen=True, eq=False)
class Allocation:
    """The answer of `rs.optimise` (money in £, whole pennies).

    status:        how the solve ended (`lp.SolveStatus`: status, termination, solver, seconds).
    objective:     the objective's key; value: its value on this allocation (unit in `unit`).
    received:      Series by org_id: the distribution chosen (sums to the pool).
    outcome:       the allocation evaluated exactly as `rs.apply` would (`Outcome`).
    table:         per member: name, control_total, variance, pooled, received, net_transfer,
                   outturn, support_earned, final, standalone, vs_standalone, shortfall_pct.
    binding:       conditions with no room to spare; shadow_prices: their marginal values
                   (LP objectives), each with a sentence.
    value:         the objective on this allocation as the engine pays it (in pennies);
    model_value:   the optimum the solver found (None for alternatives): equal to `value`
                   within the rounding to pennies, since the models are built from the
                   engine's own definitions.
    """

    setup: Setup
    objective: str
    status: lp.SolveStatus
    value: float
    received: pd.Series
    outcome: Outcome
    binding: tuple = ()
    shadow_prices: tuple = ()
    seconds: float = 0.0
    solver: str = "highs"
    note: str = ""
    model_value: float | None = None

    @property
    def unit(self) -> str:
        return OBJECTIVES[self.objective].unit

    @property
    def table(self) -> pd.DataFrame:
        t = self.outcome.table.drop(columns=["support"])
        scale = self.setup.scale
        t["shortfall_pct"] = -100.0 * (t["outturn"] - t["control_total"]).to_numpy() / scale
        return t

    @property
    def system(self) -> pd.Series:
        """System lines: pool distributed, money from outside the system, support, outturn."""
        a = self.outcome.arrays
        distributed = int(to_pennies(self.received).sum())      # whole pennies, summed exactly
        out = pd.Series({
            "pool_distributed": distributed / 100.0,
            "from_outside": (distributed - int(to_pennies(self.setup.internal))) / 100.0,
            "support_earned_total": float(a.support_earned_total[0]),
            "support_lost": float(a.support_lost[0]),
            "system_outturn": float(a.system_outturn[0]),
            "sct_variance": float(a.sct_variance[0]),
            "system_final": float(a.system_final[0]),
        }, name=self.objective)
        return out

    @property
    def money_moved(self) -> float:
        """Money moved between members (£): half the sum of every member's net transfer in or
        out."""
        return float(np.abs(self.outcome["net_transfer"]).sum()) / 2

    def short_value(self) -> str:
        """The objective's value for a metric tile (e.g. "1.25%", "4 of 7", "£3.10m")."""
        unit = OBJECTIVES[self.objective].unit
        if unit == "pct":
            return (pct(self.value, 2) if self.value > 0
                    else f"none ({pct(-self.value, 2)} ahead)")
        if unit == "members":
            return f"{self.value:.0f} of {self.setup.n}"
        return money_m(self.value, 2)

    def binding_sentences(self) -> list[str]:
        """The binding conditions in words, each a sentence. Members with no favourable variance
        trivially "pay out at most £0.00m" under a minimum retention: they are said once,
        together."""
        variance = self.table["variance"]
        idle = [b.member for b in self.binding
                if b.family == "min_retention" and b.member in variance.index
                and variance[b.member] <= 0]
        lines = []
        for b in self.binding:
            if b.member in idle and b.family == "min_retention":
                continue
            line = b.text[:1].upper() + b.text[1:]
            if b.family == "pool":
                line += " (the pool being shared out)"
            lines.append(line)
        if idle:
            who = ", ".join(idle[:-1]) + (" and " if len(idle) > 1 else "") + idle[-1]
            one = len(idle) == 1
            lines.append(f"{who} {'pays' if one else 'pay'} nothing out: "
                         f"{'it has' if one else 'they have'} no favourable variance, and "
                         "members keep the agreed share of their gains")
        return lines

    @property
    def boundary_warning(self) -> str:
        """A sentence when members outside the SCT pay, net, to lift the members inside it to
        the SCT (the condition `system_meets_control_total`): "" otherwise. A deal may not allow
        it; capping what partners can be charged (max_charge_gbp) stops it."""
        system = self.setup.system
        if not (self.setup.constraints.system_meets_control_total and system.has_outside):
            return ""
        net = self.outcome.table["net_transfer"]
        outside = [m for m in system.outside_members if net[m] < -HALF_PENNY]
        paid = -float(net[outside].sum()) if outside else 0.0
        if paid <= HALF_PENNY:
            return ""
        who = ", ".join(f"{m} {money_m(-float(net[m]), 2)}" for m in outside)
        return (f"To meet the system control total, members outside it pay {money_m(paid, 2)} "
                f"net into the members inside it ({who}). If the deal does not allow that, cap "
                "what they can be charged (max_charge_gbp).")

    def value_text(self) -> str:
        return value_text(self.setup, self.objective, self.value)

    def describe(self) -> str:
        """A paragraph for a finance director."""
        obj = OBJECTIVES[self.objective]
        lines = [f"{obj.label}: {self.value_text()} "
                 f"({self.status.solver.upper()}, {self.status.status}, "
                 f"{self.seconds:.2f} s)."]
        moved = float(np.abs(self.outcome["net_transfer"]).sum()) / 2
        lines.append(f"Transfers move {money_m(moved, dp=None)} between members; "
                     f"{len(self.outcome.worse_off)} member(s) end worse off than on their own.")
        if self.binding:
            lines.append("Binding: " + "; ".join(b.text for b in self.binding[:8])
                         + ("; …" if len(self.binding) > 8 else "") + ".")
        lines += [s.sentence for s in self.shadow_prices[:8]]
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)

    def alternatives(self, k: int = 3, slack: float = 0.05, min_difference: float | None = None,
                     seed: int = 0) -> list[Allocation]:
        """Up to `k` materially different allocations whose objective is within `slack` of this
        optimum, each evaluated as `rs.apply` would (the search: `riskshare.optimisation.mga`).

        Parameters
        ----------
        k : int, default 3
            The most alternatives wanted, from 1 to 20.
        slack : float, default 0.05
            How far an alternative's objective may fall short of the optimum, as a fraction of
            it (0.05 = within 5%), from 0 to 1. Where the optimum is zero or tiny, a fraction
            of a natural unit instead: 1 percentage point of scale for minimax_shortfall, 1% of
            the total scale for £ objectives, one member for counts.
        min_difference : float, optional
            The least any two allocations kept may differ by (£, the sum over members of the
            difference in what they receive). None: 5% of the sum of |received| in this
            allocation, but at least 0.1% of the total scale and at least £1.
        seed : int, default 0
            Seeds the random weights that vary the search (same seed, same alternatives).

        Returns
        -------
        list of Allocation
            The alternatives found (possibly fewer than `k`, or none), in the order found,
            each with a `note` and `model_value` None.

        Raises
        ------
        ValidationError
            When `k`, `slack` or `min_difference` is out of range (every problem named).
        """
        found = near_optimal(self.setup, self.objective, self.value,
                           self.received.to_numpy(), self.solver, k=k, slack=slack,
                           min_difference=min_difference, seed=seed)
        return [finish(self.setup, self.objective, x, status, seconds=status.seconds,
                       solver=self.solver,
                       note=f"An alternative within {float(slack):.0%} of the optimum.")
                for x, status in found]


def value_text(st: Setup, objective: str, value: float) -> str:
    """An objective's value in words: "largest shortfall 1.25% of turnover" (or "every member
    at least … ahead"), "4 of 7 members meet their control total", or the £ objective in £m."""
    unit = OBJECTIVES[objective].unit
    scale = st.agreement.scale
    if unit == "pct":
        if value <= 0:
            return f"every member at least {pct(-value, 2)} of {scale} ahead of its control total"
        return f"largest shortfall {pct(value, 2)} of {scale}"
    if unit == "members":
        return f"{value:.0f} of {st.n} members meet their control total"
    return f"{OBJECTIVES[objective].words} {money_m(value, dp=None)}"


def step_for(st: Setup) -> float:
    """A round £ step for shadow-price sentences: a power of ten near 1% of a typical member's
    scale (£1m for members of £100m–£1bn)."""
    typical = float(np.median(st.scale)) / 100.0
    return float(10 ** math.floor(math.log10(max(typical, 1.0))))


def _effect_words(st: Setup, objective: str, effect: float) -> str:
    unit = OBJECTIVES[objective].unit
    verb = "lower" if effect < 0 else "raise"
    if unit == "pct":
        return (f"{verb} the largest shortfall by {abs(effect):.3g} percentage points of "
                f"{st.agreement.scale}")
    return f"{verb} {OBJECTIVES[objective].words} by {money_m(abs(effect), dp=None)}"


def objective_value(st: Setup, objective: str, outcome: Outcome) -> float:
    """The objective evaluated on an allocation as `rs.apply` would show it (`outcome`, in
    whole pennies): the engine is the one owner of what an allocation pays. Sums are exact
    (math.fsum), so the same members in another row order give the same value to the bit."""
    a = outcome.arrays
    position = (a.outturn[0] - st.oct)
    if objective == "minimax_shortfall":
        return float(np.max(-100.0 * position / st.scale))
    if objective == "min_total_transfer":
        return math.fsum(np.abs(a.net_transfer[0]))
    if objective == "closest_to_basis":
        share = math.fsum(position) * st.weights / math.fsum(st.weights)
        return math.fsum(np.abs(position - share))
    if objective == "max_meeting_control_total":
        return float((position >= -HALF_PENNY).sum())
    return float(a.support_earned_total[0])


def finish(st: Setup, objective: str, received: np.ndarray, status, binding=(), prices=(),
           seconds: float = 0.0, solver: str = "highs", note: str = "",
           model_value: float | None = None) -> Allocation:
    """Round to pennies summing to the pool, evaluate with the engine, wrap as an Allocation."""
    locked = ~np.isnan(st.fixed)
    received = np.where(locked, np.nan_to_num(st.fixed), received)
    total = float(np.sum(received))      # the pool, unless a solve let it give (diagnosis)
    if abs(total - st.total) < 0.01 * st.n + 0.01:
        total = st.total
    position = {m: k for k, m in enumerate(st.members)}      # the system's own row order
    binding = sorted(binding, key=lambda b: position.get(b.member, -1))
    exact = received
    received = round_to_total(received, total, locked=locked, tiebreak=st.members.to_numpy())
    received = keep_thresholds(st, exact, received, locked)
    arrays = engine.run(st.agreement, st.system, st.variance[None, :], received=received[None, :])
    outcome = Outcome.of(st.agreement, st.system, arrays, True)
    value = objective_value(st, objective, outcome)
    return Allocation(st, objective, status, value, pd.Series(received, index=st.members,
                                                               name="received"),
                      outcome, tuple(binding), tuple(prices), seconds, solver, note, model_value)


def keep_thresholds(st: Setup, exact: np.ndarray, received: np.ndarray,
                    locked: np.ndarray) -> np.ndarray:
    """Rounding to whole pennies moves each member's receipt by under a penny, which can take a
    member the optimiser placed exactly on its control total (or a taper's full-support point)
    just below it, as `engine.run` judges it (the control total is met at −half a penny, a
    taper pays in full from zero). Each such member gets a penny back from the member with the
    most room, within the caps, so the allocation in pennies passes every test the optimum
    passed: the objective the optimiser maximised is the one the engine pays."""
    received = received.copy()
    ids = np.asarray(st.members, dtype=object).astype(str)
    position = st.base + exact
    met = position >= -1e-4                     # on or above the threshold at the optimum
    need = np.where(st.taper > 0, -1e-9, -HALF_PENNY)
    for _ in range(st.n):
        now = st.base + received
        short = np.flatnonzero(met & (now < need) & ~locked & (received + 0.01 <= st.high + 1e-9))
        if not len(short):
            break
        # room above its own threshold; a member on no threshold gives first (one with no
        # support that the penny could move before one inside a taper)
        room = np.where(met, now - need - 0.01,
                        np.where(st.support_var > 0, 1e14, 1e15))
        room[locked | (received - 0.01 < st.low - 1e-9)] = -np.inf
        room[short] = -np.inf
        best = np.flatnonzero(room == room.max())
        donor = int(best[np.argmin(ids[best])])   # ties by org_id: row order changes nothing
        if room[donor] < 0:
            break
        i = int(short[np.argmin(ids[short])])
        received[i] = round(received[i] + 0.01, 2)
        received[donor] = round(received[donor] - 0.01, 2)
    return received
