"""Reserve sizing: the system risk reserve needed to meet the SCT with probability p, and each
member's part in it (`rs.reserve_needed`).

Across scenarios (for example drawn from the risk register, `rs.simulate(..., register=...)`),
the agreement is applied by the one engine and the system's position is its outturn inside the
SCT after the risk share, before support, less the SCT (x, £; + better). The reserve at p is
the smallest R ≥ 0 such that x + R ≥ 0 in at least a share p of the scenarios: with the
positions sorted, R = max(0, −x₍ₘ₎) where m = ⌊(1 − p)·n⌋ (0-based) — the (1 − p) quantile
of the system shortfall.

Each member's **Euler contribution** is its share of the shortfall around that quantile: minus
its own position (outturn − control total, after the risk share) averaged over the scenarios
whose system position is nearest the quantile (the m-th sorted and `window` either side),
scaled so the contributions add up to R to the penny. A member may contribute less than
nothing (its position tends to be good when the system's is bad). Funding the reserve **by
basis** splits R by the members' turnover inside the SCT; **by risk contribution** splits it by
the positive contributions.

The agreement is applied without any `[reserve]` of its own: R is the system's reserve in all,
and `with_reserve` puts it into the agreement in place of the one it had, so sizing again gives
the same R.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from riskshare.agreements import engine
from riskshare.agreements.spec import Agreement, Reserve, load_agreement
from riskshare.core.errors import ValidationError, problem, raise_if_errors
from riskshare.core.format import money_m
from riskshare.core.money import allocate
from riskshare.core.system import System, require_system

LEVELS = (0.80, 0.90, 0.95)
#: Scenarios per run of the engine.
CHUNK = 12_500
#: Ways of funding the reserve (`ReserveSizing.funding`).
FUNDING = ("basis", "contribution")


@dataclass(frozen=True, eq=False)
class ReserveSizing:
    """The reserve at each level (see the module docstring), £ in whole pennies.

    levels:  index p; columns reserve (R), share_meeting_without (the share of scenarios
             meeting the SCT with no reserve), share_meeting_with (with R).
    members: index org_id; for each level p, columns contribution_p (Euler), by_basis_p and
             by_contribution_p (two ways of funding R); members outside the SCT are 0.
    """

    levels: pd.DataFrame
    members: pd.DataFrame
    agreement: Agreement
    n: int
    #: the system's mean position against the SCT across the scenarios, before any reserve (£)
    mean: float = 0.0

    def amount(self, p: float) -> float:
        """The reserve (£, whole pennies) to meet the SCT with probability `p`, one of the
        sized levels."""
        if p not in self.levels.index:
            sized = ", ".join(f"{q:.0%}" for q in self.levels.index)
            raise ValidationError([problem(f"was not sized (sized: {sized})", key="p",
                                           value=p)], "reserve level")
        return float(self.levels.loc[p, "reserve"])

    def funding(self, p: float, by: str = "basis") -> pd.Series:
        """Each member's part in funding the reserve at `p` (£, whole pennies, adding up to
        it): `by` "basis" (turnover inside the SCT) or "contribution" (the positive Euler
        contributions)."""
        if by not in FUNDING:
            raise ValidationError([problem(f"must be one of: {', '.join(FUNDING)}", key="by",
                                           value=by)], "reserve funding")
        self.amount(p)
        return self.members[f"by_{by}_{round(p * 100):d}"].rename(f"funding_{by}")

    def reserve(self, p: float, holder: str) -> Reserve:
        """The agreement's `[reserve]` for the reserve at `p`, held by member `holder` (who
        is charged what it absorbs of a net pooled loss)."""
        if holder not in self.members.index:
            raise ValidationError([problem("is not a member of this system", key="holder",
                                           value=holder)], "reserve holder")
        return Reserve(holder, self.amount(p))

    def with_reserve(self, p: float, holder: str) -> Agreement:
        """The sized agreement with its `[reserve]` set to the reserve at `p` held by
        `holder` (any reserve it had is replaced); its name says so."""
        reserve = self.reserve(p, holder)
        return self.agreement.replace(
            name=f"{self.agreement.name} + reserve {money_m(reserve.amount)} ({p:.0%})",
            reserve=reserve)


def reserve_needed(system: System, scenarios, agreement="standalone", levels=LEVELS,
                   window: int | None = None) -> ReserveSizing:
    """The system risk reserve needed to meet the SCT with probability p, for each p in
    `levels`, and how it splits between the members (see the module docstring).

    Parameters
    ----------
    system : System
        The members and the SCT.
    scenarios : Scenarios
        The simulated years (`rs.simulate`, with or without a register).
    agreement : Agreement or str, default "standalone"
        Applied to every scenario before the system position is read, without any
        `[reserve]` of its own (the reserve sized here is the system's in all, and
        `with_reserve` replaces the agreement's).
    levels : iterable of float, default (0.80, 0.90, 0.95)
        Chances of meeting the SCT, each in (0, 1).
    window : int, optional
        Scenarios either side of the quantile averaged for the Euler contributions (default
        max(1, n // 200)).

    Returns
    -------
    ReserveSizing
        `.levels` (the reserve at each p) and `.members` (contributions and funding).

    Raises
    ------
    ValidationError
        When a level is not a chance strictly between 0 and 1.
    """
    require_system(system, "reserve_needed")
    chosen = load_agreement(agreement)
    levels = tuple(levels)
    raise_if_errors([problem("must be a chance strictly between 0 and 1", key="levels",
                             value=p) for p in levels
                     if isinstance(p, bool) or not isinstance(p, (int, float))
                     or not 0 < p < 1], "reserve levels")
    # the reserve the system needs in all: sized on the agreement without any reserve of its
    # own (which the one sized here would replace), so sizing again after `with_reserve`
    # gives the same reserve
    sized = chosen if chosen.reserve is None else replace(chosen, reserve=None)
    v, _ = engine.as_variances(system, scenarios)
    path, bridge = engine.year_of(scenarios)
    x = np.empty(len(v))                                   # (S,) system vs SCT
    own = np.empty(v.shape)                                # (S, n) outturn − control total
    control = system.orgs["control_total"].to_numpy(dtype=float)
    for start in range(0, len(v), CHUNK):                  # in chunks: the memory stays bounded
        stop = start + CHUNK
        out = engine.run(sized, system, v[start:stop], path=path,
                         bridge=None if bridge is None else bridge[start:stop])
        x[start:stop] = out.sct_variance
        np.subtract(out.outturn, control, out=own[start:stop])
    inside = system.inside
    n = len(x)
    order = np.argsort(x, kind="stable")
    w = max(1, n // 200) if window is None else max(0, int(window))
    turnover = np.where(inside, system.orgs["turnover"].to_numpy(dtype=float), 0.0)
    rows, cols = [], {}
    for p in levels:
        m = min(n - 1, math.floor((1.0 - p) * n + 1e-9))
        reserve = round(max(0.0, -float(x[order[m]])), 2)
        near = order[max(0, m - w): m + w + 1]
        raw = np.where(inside, -own[near].mean(axis=0), 0.0)
        total = float(raw.sum())
        if reserve <= 0 or total <= 0:
            contribution = np.zeros(system.n)
        else:
            contribution = _pennies(raw / total * reserve, reserve)
        positive = np.clip(contribution, 0.0, None)
        by_contribution = (allocate(reserve, positive) if positive.sum() > 0
                           else np.zeros(system.n))
        by_basis = allocate(reserve, turnover) if reserve > 0 else np.zeros(system.n)
        rows.append({"p": p, "reserve": reserve,
                     "share_meeting_without": float((x >= -0.005).mean()),
                     "share_meeting_with": float((x + reserve >= -0.005).mean())})
        label = f"{round(p * 100):d}"
        cols[f"contribution_{label}"] = contribution
        cols[f"by_basis_{label}"] = by_basis
        cols[f"by_contribution_{label}"] = by_contribution
    table = pd.DataFrame(rows).set_index("p")
    members = pd.DataFrame(cols, index=system.members)
    members.index.name = "org_id"
    return ReserveSizing(table, members, chosen, n, round(float(x.mean()), 2))


def _pennies(values: np.ndarray, total: float) -> np.ndarray:
    """`values` (which may be negative) in whole pennies adding up to `total` exactly."""
    pennies = np.round(values * 100.0)
    pennies[int(np.argmax(np.abs(values)))] += round(total * 100) - pennies.sum()
    return pennies / 100.0


__all__ = ["ReserveSizing", "reserve_needed", "LEVELS"]
