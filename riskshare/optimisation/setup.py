"""The numbers every model is built from (`Setup`), in member order and £: the system, the
agreement, the positions before transfers, bounds from caps and floors, support at stake."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from riskshare.agreements import engine
from riskshare.agreements.spec import Agreement, load_agreement
from riskshare.core.basis import basis_weights
from riskshare.core.errors import RiskshareError, raise_if_errors
from riskshare.core.system import System, require_system
from riskshare.optimisation.spec import NO_AGREEMENT, Constraints
from riskshare.reconciliation import ringfence
from riskshare.solver import lp


@dataclass(frozen=True, eq=False)
class Setup:
    """Everything the models need, in member order (£ unless stated)."""

    system: System
    agreement: Agreement
    constraints: Constraints
    members: pd.Index
    scale: np.ndarray           # the agreement's scale column (£)
    oct: np.ndarray
    variance: np.ndarray
    pooled: np.ndarray
    base: np.ndarray            # position before the distribution: retained + holder charge
    holder: np.ndarray          # the reserve holder's charge (≤ 0)
    total: float                # what the transfers sum to
    internal: float             # the agreement's own net pool after reserve
    support_const: np.ndarray   # support earned whatever the transfers (£)
    support_var: np.ndarray     # support at stake on the organisation test after sharing (£)
    taper: np.ndarray           # taper width (£; 0 = cliff edge)
    standalone: np.ndarray      # standalone final position (£)
    weights: np.ndarray         # basis weights (for closest_to_basis and tie-breaks)
    low: np.ndarray             # lower bound on received (−charge cap; −inf)
    high: np.ndarray            # upper bound on received (award cap; +inf)
    floor: np.ndarray           # floor on final − control total (£; NaN none)
    fixed: np.ndarray           # fixed received (£; NaN none)
    big: float                  # bound on any member's received (£)
    sct: float                  # the system control total (£)
    support: np.ndarray | None = None   # support at stake (£); setup() always gives it
    redistribute: bool = False  # unearned support goes to members that earn all theirs
    inside: np.ndarray | None = None    # inside the SCT (bool); setup() gives it
    # With members outside the SCT, what they pay into or take from the pool moves the
    # system's position, so the system-tied support depends on the transfers: `system_var` is
    # each member's support on the system test then (£; zeros otherwise, when it is constant
    # and in support_const), `system_base` the system position before transfers to the
    # members inside (Σ inside (OCT + base) − SCT, £) and `system_taper` the system test's
    # taper width (£; 0 = cliff edge).
    system_var: np.ndarray | None = None
    system_base: float = 0.0
    system_taper: float = 0.0
    # Ring-fenced lines (`Constraints.ring_fence`, `reconciliation.ringfence`): the line (£),
    # its floor (£) and its share of turnover, NaN where none applies; setup() gives them.
    ring_line: np.ndarray | None = None
    ring_floor: np.ndarray | None = None
    ring_share: np.ndarray | None = None
    # The published-rule support keys when tested after sharing (`engine.support_parts`):
    # `reward` is the surplus reward at stake (£), earned when the member ends at breakeven or
    # better (OCT + base + x ≥ 0); `incentive_rate` matches each £ above the control total,
    # up to `incentive_cap` (£; inf: no cap). Zero when tested before sharing (then constant,
    # in support_const).
    reward: np.ndarray | None = None
    incentive_rate: float = 0.0
    incentive_cap: np.ndarray | None = None

    MONEY_FIELDS = ("scale", "oct", "variance", "pooled", "base", "holder", "total", "internal",
                    "support_const", "support_var", "taper", "standalone", "low", "high",
                    "floor", "fixed", "big", "sct", "support", "system_var", "system_base",
                    "system_taper", "ring_line", "ring_floor", "reward", "incentive_cap")

    @property
    def n(self) -> int:
        return len(self.members)

    MEMBER_FIELDS = ("scale", "oct", "variance", "pooled", "base", "holder", "support_const",
                     "support_var", "taper", "standalone", "weights", "low", "high", "floor",
                     "fixed", "support", "inside", "system_var", "ring_line", "ring_floor",
                     "ring_share", "reward", "incentive_cap")

    def in_model_units(self) -> Setup:
        """The same setup with every £ figure in model units (`lp.MONEY`)."""
        return replace(self, **{f: getattr(self, f) / lp.MONEY for f in self.MONEY_FIELDS})

    def by_org_id(self) -> tuple[Setup, np.ndarray]:
        """The setup with its members in org_id order, and that order (positions in the
        original order). Models are always built in org_id order, so the same members in any
        row order give the same model, and the same answer to the penny."""
        order = np.argsort(np.asarray(self.members, dtype=object).astype(str), kind="stable")
        moved: dict = {f: np.asarray(getattr(self, f))[order] for f in self.MEMBER_FIELDS}
        return replace(self, members=self.members[order], **moved), order

    def labels(self) -> list[str]:
        return [str(m) for m in self.members.tolist()]


def setup(system: System, agreement=None, constraints=None) -> Setup:
    """Validate the request and gather the numbers the models use."""
    require_system(system, "optimise")
    agreement = NO_AGREEMENT if agreement is None else load_agreement(agreement)
    cons = Constraints.from_dict(constraints)
    raise_if_errors(agreement.check(system) + cons.check(system),
                    f"optimisation of {system.label}")
    members = system.members
    orgs = system.orgs
    scale = system.column(agreement.scale).to_numpy(dtype=float)
    v = system.variance.to_numpy(dtype=float)
    zero = engine.run(agreement, system, v[None, :], received=np.zeros((1, len(v))))
    pooled = zero.pooled[0]
    holder = zero.received[0]
    base = zero.retained[0] + holder
    internal = float(zero.pool[0] + zero.reserve_used[0])
    total = internal if cons.pool is None else cons.pool

    s = agreement.support
    # the published-rule keys: support only for deficit control totals, a performance element
    # earned by a column whatever the transfers, a surplus reward and an incentive match
    at_stake, perf_share, perf_earned, reward = engine.support_parts(agreement, system, scale)
    support = at_stake * (1.0 - perf_share)           # what follows the tests
    performance = at_stake * perf_share * perf_earned   # earned whatever the transfers
    incentive_cap = (np.full(len(v), np.inf) if s.incentive_cap is None
                     else s.incentive_cap / 100.0 * scale)
    oct_ = orgs["control_total"].to_numpy(dtype=float)
    taper = s.taper / 100.0 * scale
    inside = system.inside
    system_var = np.zeros_like(support)
    system_base = math.fsum([*(oct_ + base)[inside], -system.control_total])
    system_taper = s.taper / 100.0 * float(scale[inside].sum())
    if not s.after_sharing:        # tested before sharing: the transfers move none of it
        const, var = zero.support_earned[0], np.zeros_like(support)
        reward, incentive_rate = np.zeros_like(support), 0.0
    elif system.has_outside and s.test != "none" and engine.system_tied(s) > 0:
        # the transfers between members inside and outside the SCT move the system's position
        tied = support * engine.system_tied(s)
        const, var, system_var = np.zeros_like(support), support - tied, tied
    else:                 # every transfer stays inside the SCT: the system's position is fixed
        sys_position = math.fsum([system_base, total])
        const, var = engine.support_split(agreement, support, sys_position, scale, inside)
    if s.after_sharing:
        const = const + performance
        incentive_rate = float(s.incentive_rate)

    pct_unit = scale / 100.0
    charge = np.fmin(cons.per_member("max_charge", members) * pct_unit,
                     cons.per_member("max_charge_gbp", members))
    award = np.fmin(cons.per_member("max_award", members) * pct_unit,
                    cons.per_member("max_award_gbp", members))
    pool_spec = agreement.pool
    if cons.max_charge is None and cons.max_charge_gbp is None and pool_spec.max_charge is not None:
        charge = pool_spec.max_charge * pct_unit
    if cons.max_award is None and cons.max_award_gbp is None and pool_spec.max_award is not None:
        award = pool_spec.max_award * pct_unit
    floor = np.fmax(cons.per_member("floor", members) * pct_unit,
                    cons.per_member("floor_gbp", members))
    fixed = cons.per_member("fixed", members)
    try:
        weights = basis_weights(system, dict(pool_spec.basis) if isinstance(
            pool_spec.basis, tuple) else pool_spec.basis)
    except RiskshareError:
        weights = scale.copy()
    # A bound on what any member could usefully receive or pay (£): twice all the money in
    # play. Kept as tight as is safe, because it is also the big-M of the whole-number models.
    # Summed exactly (math.fsum), so the same members in another row order give the same
    # bound to the last bit, and so the same model and the same answer.
    money = math.fsum(np.concatenate([
        np.abs(base), [abs(total)], at_stake, reward,
        # an incentive match pays for positions above target: as much as it can pay
        (np.where(np.isfinite(incentive_cap), incentive_cap, np.abs(v)) if incentive_rate > 0
         else []),
        np.abs(fixed[~np.isnan(fixed)]),
        np.abs(floor[~np.isnan(floor)]), np.abs(zero.standalone[0] - oct_ - base),
        ring_need(cons, system)]))
    big = 2.0 * money + 1000.0
    # with redistribution, a member earns all its support (so may receive others') only if
    # its system-tied part is earned in full too
    redistribute = (s.unearned == "redistribute" and s.test == "organisation"
                    and s.after_sharing and bool((var > 0).any())
                    and (s.system_share == 0 or bool(np.all(const >= support * s.system_share
                                                            - 1e-9))))
    return Setup(system, agreement, cons, members, scale, oct_, v, pooled, base, holder,
                 float(total), internal, const, var, taper, zero.standalone[0], weights,
                 np.where(np.isnan(charge), -np.inf, -charge),
                 np.where(np.isnan(award), np.inf, award), floor, fixed, big,
                 float(system.control_total), support, redistribute, inside, system_var,
                 system_base, system_taper, *ringfence.arrays(cons.ring_fence, system),
                 reward=reward, incentive_rate=incentive_rate, incentive_cap=incentive_cap)


def ring_need(cons: Constraints, system: System) -> np.ndarray:
    """What a ring fence could ask a member to receive (£): |floor − line| × turnover / line."""
    line, low, share = ringfence.arrays(cons.ring_fence, system)
    held = ~np.isnan(share)
    return np.abs(low[held] - line[held]) / share[held]


def basis_targets(st: Setup) -> np.ndarray:
    """Each member's basis share of the system's position after transfers (£)."""
    w = st.weights
    return (st.base.sum() + st.total) * w / w.sum()
