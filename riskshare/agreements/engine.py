"""Applying an agreement to a system: one vectorised code path for one or many scenarios.

Every step works on arrays of shape (S, n), S scenarios by n members; the deterministic case is
S = 1. Money in £, surplus/favourable positive. Per member (docs/agreements.md):

    pooled          part of the variance passed to the pool (same sign as the variance)
    retained        variance − pooled
    received        share of the distributed net pool (negative = charged; includes the
                    reserve holder's charge)
    net_transfer    received − pooled
    outturn         control_total + retained + received
    support_earned  conditional support earned (after any redistribution)
    final           outturn + support_earned
    standalone      control_total + variance + support earned on its own (organisation test)
    vs_standalone   final − standalone

Money is conserved: Σ received + unallocated = Σ pooled in every scenario.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from riskshare.agreements.claims import apply_rule
from riskshare.agreements.spec import Agreement, Schedule
from riskshare.core.basis import basis_weights
from riskshare.core.constants import HALF_PENNY
from riskshare.core.errors import BudgetError, problem, raise_if_errors
from riskshare.core.forecast import YearPath, quarter_variances
from riskshare.core.system import System, require_system
from riskshare.scenarios.simulate import BYTES_PER_CELL as SIMULATED_BYTES_PER_CELL
from riskshare.scenarios.simulate import Scenarios, memory_budget
from riskshare.scenarios.simulate import _size as size_text

VARIANCE_LIMIT = 2e12   # £
COLUMNS = ("variance", "pooled", "retained", "received", "net_transfer", "outturn",
           "support_earned", "final", "standalone", "vs_standalone")
#: The system arrays of an `EngineResult` (one value per scenario).
SYSTEM_ARRAYS = ("pool", "reserve_used", "unallocated", "support_at_stake",
                 "support_earned_total", "support_lost", "system_outturn", "sct_variance",
                 "system_final")


@dataclass(frozen=True, eq=False)
class EngineResult:
    """What `run` computes: per-member arrays of shape (S, n) (S scenarios, n members in the
    system's row order) and per-scenario system arrays of shape (S,). Money in £; variance =
    forecast − control total (surplus +); received and net_transfer + means money in.

    Per member (S, n):
      variance        forecast − OCT, as given (shocked or simulated)
      pooled          what the schedule puts into the pool (+ from a favourable variance)
      retained        variance − pooled
      received        the member's share of the net pool (after any reserve; a reserve
                      holder's charge included)
      net_transfer    received − pooled
      outturn         OCT + retained + received (before support)
      support_earned  conditional support earned (£)
      final           outturn + support_earned
      standalone      where the member would end alone: OCT + variance + support it would
                      earn on its own test
      vs_standalone   final − standalone (+ better off in the agreement)
      fraction        the share of each member's support earned (0–1)
    Per scenario (S,):
      pool            Σ pooled (the net pool before any reserve)
      reserve_used    what the reserve absorbed of a net pooled loss
      unallocated     what caps left with nobody (or, with `received` given, the net pool
                      minus what was distributed)
      support_at_stake, support_earned_total, support_lost   Σ support (£)
      system_outturn  Σ outturn over the members inside the SCT (`in_sct`, docs/reconciliation.md);
                      sct_variance: system_outturn − the SCT (or the coalition's target);
                      system_final: Σ final inside the SCT
    """

    variance: np.ndarray
    pooled: np.ndarray
    retained: np.ndarray
    received: np.ndarray
    net_transfer: np.ndarray
    outturn: np.ndarray
    support_earned: np.ndarray
    final: np.ndarray
    standalone: np.ndarray
    vs_standalone: np.ndarray
    fraction: np.ndarray
    pool: np.ndarray
    reserve_used: np.ndarray
    unallocated: np.ndarray
    support_at_stake: np.ndarray
    support_earned_total: np.ndarray
    support_lost: np.ndarray
    system_outturn: np.ndarray
    sct_variance: np.ndarray
    system_final: np.ndarray
    #: with `[support] period = "quarter"`: (S, n, 4) the share of each quarter's support
    #: earned (after any catch-up); None for support judged on the year
    quarter_fraction: np.ndarray | None = None

    def __getitem__(self, name: str) -> np.ndarray:
        """An array by its name (for code that loops over `COLUMNS` or `SYSTEM_ARRAYS`)."""
        if name not in _FIELDS:
            raise KeyError(name)
        return getattr(self, name)

    @property
    def n_scenarios(self) -> int:
        return len(self.pool)

    def rows(self, rows: slice) -> EngineResult:
        """The same result for a slice of the scenarios."""
        return replace(self, **{f: getattr(self, f)[rows] for f in _FIELDS
                                if getattr(self, f) is not None})

    def replaced(self, **arrays: np.ndarray) -> EngineResult:
        """A copy with some arrays replaced (e.g. the same run in whole pennies)."""
        return replace(self, **arrays)


_FIELDS = tuple(f.name for f in fields(EngineResult))


# -- layer 1: the schedule --------------------------------------------------------------------------
def pooled_pct(size_pct: np.ndarray, schedule: Schedule,
               cap_unit: np.ndarray | None = None, threshold: np.ndarray | None = None,
               quality: np.ndarray | None = None) -> np.ndarray:
    """Pooled amount (% of scale, ≥ 0) for a variance of |size_pct| % of scale. `cap_unit`
    (n,): what one percent of the caps' column is in % of scale (`Schedule.caps_of`; None: the
    caps are % of scale)."""
    a = np.asarray(size_pct, dtype=float)
    pooled = np.zeros_like(a)
    low = 0.0
    for band in schedule.bands:
        high = np.inf if band.upto is None else band.upto
        if band.pool:
            part = a - low                       # the part of |variance| inside this band
            np.maximum(part, 0.0, out=part)
            if high != np.inf:
                np.minimum(part, high - low, out=part)
            part *= band.pool
            pooled += part
        low = high
    if schedule.threshold is not None:
        pooled = np.where(a < schedule.threshold, schedule.below_threshold_pool * a, pooled)
    if threshold is not None:           # per member (`threshold_by`, see `member_rules`)
        pooled = np.where(a < threshold, schedule.below_threshold_pool * a, pooled)
    if quality is not None:             # what the member keeps × its quality score
        pooled = a - (a - pooled) * quality
    unit = 1.0 if cap_unit is None else cap_unit
    if schedule.max_pool is not None:
        pooled = np.minimum(pooled, schedule.max_pool * unit)
    if schedule.max_keep is not None:
        pooled = np.maximum(pooled, a - schedule.max_keep * unit)
    return pooled


def pooled_amounts(variance: np.ndarray, scale: np.ndarray, agreement: Agreement,
                   shared: np.ndarray, system: System) -> np.ndarray:
    """£ pooled per member: gains schedule on favourable, losses on adverse variance; caps
    measured on another column than the scale (`caps_of`) and per-member thresholds and
    quality scores are read from `system`."""
    size = np.abs(variance) * (100.0 / scale)
    gain_unit, loss_unit = cap_units(agreement, system, scale)
    gain_rule, loss_rule = (member_rules(agreement.gains, system),
                            member_rules(agreement.losses, system))
    if agreement.gains == agreement.losses:           # symmetric: one schedule for both signs
        pct = pooled_pct(size, agreement.gains, gain_unit, **gain_rule)
    else:
        pct = np.where(variance > 0, pooled_pct(size, agreement.gains, gain_unit, **gain_rule),
                       pooled_pct(size, agreement.losses, loss_unit, **loss_rule))
    pooled = np.copysign(pct * (scale / 100.0), variance)
    if not shared.all():
        pooled = np.where(shared, pooled, 0.0)
    return pooled + 0.0  # no -0.0


def cap_units(agreement: Agreement, system: System, scale: np.ndarray):
    """For each schedule whose caps are % of another column (`caps_of`), one percent of that
    column in % of scale, per member (n,); None where the caps are % of the scale."""
    def unit(schedule: Schedule):
        if schedule.caps_of is None:
            return None
        return system.column(schedule.caps_of).to_numpy(dtype=float) / scale
    return unit(agreement.gains), unit(agreement.losses)


def line_variance(agreement: Agreement, system: System, variances: np.ndarray) -> np.ndarray:
    """The variance the schedules read (S, n): the given variances, or the agreement's own line
    (`[variance]`: actual − plan, or plan − actual when under plan is favourable), the same in
    every scenario (docs/agreements.md, `[variance]`)."""
    line = agreement.variance
    if line is None:
        return variances
    actual = system.column(line.actual).to_numpy(dtype=float)
    plan = system.column(line.plan).to_numpy(dtype=float)
    diff = actual - plan if line.favourable == "over" else plan - actual
    return np.broadcast_to(diff + 0.0, variances.shape)


def member_rules(schedule: Schedule, system: System) -> dict:
    """A schedule's per-member inputs read from the system (n,): the threshold (% of scale)
    from `threshold_by` through `threshold_table` (linear between its points, flat beyond the
    ends: the MSSP minimum savings rate by assigned beneficiaries), and the quality score
    (`quality_by`). Blanks (members whose variance is not shared) read as 0."""
    out: dict = {}
    if schedule.threshold_by is not None and schedule.threshold_table:
        values = np.nan_to_num(system.orgs[schedule.threshold_by].to_numpy(dtype=float))
        points = np.array(schedule.threshold_table, dtype=float)
        out["threshold"] = np.interp(values, points[:, 0], points[:, 1])
    if schedule.quality_by is not None:
        out["quality"] = np.nan_to_num(system.orgs[schedule.quality_by].to_numpy(dtype=float))
    return out


def support_parts(agreement: Agreement, system: System, scale: np.ndarray):
    """The support keys for published rules, per member (n,): (support at stake on the tests —
    nothing for members with a control total ≥ 0 under `deficit_only` —, the share of it that is
    a performance element, the share of that element earned (`performance_by`), the surplus
    reward at stake (£, members inside the SCT with a control total ≥ 0))."""
    s = agreement.support
    orgs = system.orgs
    oct_ = orgs["control_total"].to_numpy(dtype=float)
    support = orgs["support"].to_numpy(dtype=float)
    if s.deficit_only:
        support = np.where(oct_ < 0, support, 0.0)
    share = np.zeros(len(oct_))
    earned = np.zeros(len(oct_))
    if s.performance_share > 0 and s.performance_by in orgs.columns:
        perf = orgs[s.performance_by].to_numpy(dtype=float)
        has = ~np.isnan(perf)
        share = np.where(has, s.performance_share, 0.0)
        earned = np.where(has, np.nan_to_num(perf), 0.0)
    # the reward is for NHS bodies planning a surplus: members inside the SCT (docs/reconciliation.md)
    reward = np.where((oct_ >= 0) & system.inside, s.surplus_reward / 100.0 * scale, 0.0)
    return support, share, earned, reward


def incentive(agreement: Agreement, position: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Incentive funding (£, ≥ 0): `incentive_rate` × the position above the control total,
    capped at `incentive_cap` % of scale."""
    s = agreement.support
    if s.incentive_rate <= 0:
        return np.zeros_like(position)
    paid = s.incentive_rate * np.maximum(position, 0.0)
    if s.incentive_cap is not None:
        paid = np.minimum(paid, s.incentive_cap / 100.0 * scale)
    return paid + 0.0


# -- layer 2: distribution ---------------------------------------------------------------------------
def spread(amount: np.ndarray, weights: np.ndarray, cap: np.ndarray | None):
    """Spread `amount` (S,) pro rata to `weights` (n,), or (S, n) for a coalition's members in
    each row (`run`'s `members`), no member above `cap` (£ ≥ 0, in magnitude; (n,) for all
    scenarios or (S, n) per scenario); what capped members cannot take goes to the uncapped
    ("water-filling"). Returns (allocation (S, n) with the sign of amount, unallocated (S,));
    a row with no weight leaves its whole amount unallocated.

    Every row is spread at once and only rows where a cap binds are water-filled. With one cap
    and one set of weights for all scenarios, a cap binds exactly when |amount| exceeds
    min_i cap_i·Σw / w_i."""
    amount = np.asarray(amount, dtype=float)
    w = np.asarray(weights, dtype=float)
    wsum = w.sum(axis=-1)
    per = np.divide(amount, wsum, out=np.zeros_like(amount), where=wsum > 0)
    alloc = per[:, None] * w
    unallocated = np.where(wsum > 0, 0.0, amount)
    if cap is None:
        return alloc, unallocated
    cap = np.asarray(cap, dtype=float)
    if cap.ndim == 1 and w.ndim == 1:
        positive = w > 0
        threshold = np.min(cap[positive] * wsum / w[positive]) if positive.any() else np.inf
        rows = np.flatnonzero(np.abs(amount) > threshold + 1e-9)
        row_cap, row_w = cap, w
    else:
        cap = np.broadcast_to(cap, alloc.shape)
        rows = np.flatnonzero((np.abs(alloc) > cap + 1e-9).any(axis=1))
        row_cap, row_w = cap[rows], (w if w.ndim == 1 else w[rows])
    if len(rows):
        sub, left = _water_fill(np.abs(amount[rows]), row_w, row_cap)
        sign = np.sign(amount[rows])
        alloc[rows] = sub * sign[:, None]
        unallocated[rows] = left * sign
    return alloc, unallocated


def _water_fill(total: np.ndarray, w: np.ndarray, cap: np.ndarray):
    """Capped pro-rata allocation of `total` (R,) by weights (n,) or (R, n) under caps (n,) or
    (R, n)."""
    alloc = np.zeros((len(total), w.shape[-1]))
    active = np.broadcast_to(w > 0, alloc.shape).copy()
    remaining = total.copy()
    open_rows = remaining > 0
    for _ in range(w.shape[-1] + 1):
        if not open_rows.any():
            break
        wa = np.where(active & open_rows[:, None], w, 0.0)
        tot = wa.sum(axis=1)
        per = np.divide(remaining, tot, out=np.zeros_like(remaining), where=tot > 0)
        share = per[:, None] * wa
        over = (alloc + share > cap + 1e-9) & (wa > 0)
        rows_over = over.any(axis=1)
        settle = open_rows & ~rows_over
        alloc = np.where(settle[:, None], alloc + share, alloc)
        alloc = np.where(over, cap, alloc)
        active &= ~over
        remaining = np.where(settle, 0.0, total - alloc.sum(axis=1))
        open_rows = open_rows & rows_over & (remaining > 1e-9) & active.any(axis=1)
    left = total - alloc.sum(axis=1)
    return alloc, np.where(left > 1e-9, left, 0.0)


def level(amount: np.ndarray, position: np.ndarray, scale: np.ndarray, low, high):
    """Distribute `amount` (S,) so the worst-placed member is as well placed as possible: the
    optimiser's minimax_shortfall objective with caps, solved exactly for every scenario at once.

    Member i receives x_i = clip(L·scale_i/100 − position_i, low_i, high_i) (£; low ≤ 0 ≤ high,
    ±inf for no cap), where the level L (% of scale, one per scenario) makes Σ x = amount. Of all
    allocations that minimise the largest shortfall (position + x)/scale this is the most even
    one (lexicographic max-min). What the caps leave over is unallocated. Returns (x (S, n),
    unallocated (S,))."""
    amount = np.asarray(amount, dtype=float)
    pos = np.asarray(position, dtype=float)
    unit = np.asarray(scale, dtype=float) / 100.0
    low = np.broadcast_to(np.asarray(low, dtype=float), pos.shape)
    high = np.broadcast_to(np.asarray(high, dtype=float), pos.shape)
    cap_low, cap_high = low.sum(axis=1), high.sum(axis=1)
    target = np.clip(amount, cap_low, cap_high)
    # the level lies between the lowest and highest breakpoint (pos + bound)/unit of any member
    rel = pos / unit
    spread_ = (np.abs(amount) + np.abs(pos).sum(axis=1)) / unit.min() + 1.0
    lo_l = rel.min(axis=1) - spread_
    hi_l = rel.max(axis=1) + spread_
    for _ in range(200):                    # bisection on a monotone piecewise-linear sum
        mid = 0.5 * (lo_l + hi_l)
        total = np.clip(mid[:, None] * unit - pos, low, high).sum(axis=1)
        below = total < target
        lo_l = np.where(below, mid, lo_l)
        hi_l = np.where(below, hi_l, mid)
        if np.all(hi_l - lo_l <= 1e-12 * np.maximum(1.0, np.abs(hi_l))):
            break
    mid = 0.5 * (lo_l + hi_l)
    x = np.clip(mid[:, None] * unit - pos, low, high)
    # exact level on the segment found: members strictly inside their caps move with L
    free = (x > low) & (x < high)
    fixed_sum = np.where(free, 0.0, x).sum(axis=1)
    free_unit = np.where(free, unit, 0.0).sum(axis=1)
    free_pos = np.where(free, pos, 0.0).sum(axis=1)
    exact = np.divide(target - fixed_sum + free_pos, free_unit, out=mid.copy(),
                      where=free_unit > 0)
    x = np.where(free, exact[:, None] * unit - pos, x)
    x = np.clip(x, low, high)
    return x + 0.0, amount - x.sum(axis=1)


def _weights(agreement: Agreement, system: System, members: np.ndarray | None = None):
    """Distribution weights (n,), or (S, n) for coalitions: outside members get nothing, and a
    coalition without the counterparty shares its pool by the agreement's basis."""
    pool = agreement.pool
    basis = dict(pool.basis) if isinstance(pool.basis, tuple) else pool.basis
    if pool.distribute == "counterparty":
        weights = (system.members == pool.counterparty).astype(float)
        if members is not None:
            with_cp = (members * weights).any(axis=1, keepdims=True)
            weights = np.where(with_cp, weights, basis_weights(system, basis))
    else:
        weights = basis_weights(system, basis)
    return weights if members is None else weights * members


def distribute(net: np.ndarray, retained: np.ndarray, agreement: Agreement, system: System,
               scale: np.ndarray, holder_charge: np.ndarray | float = 0.0,
               members: np.ndarray | None = None):
    """Share the net pool (S,) between members: (received (S, n), unallocated (S,)).
    `holder_charge` (≤ 0, the reserve holder's charge) counts in the positions that
    "optimise" levels, as it does in rs.optimise. `members` (S, n) bool: only these members
    take part in each row (see `run`)."""
    pool = agreement.pool
    if pool.distribute == "optimise":
        lo = -np.inf if pool.max_charge is None else -pool.max_charge * scale / 100.0
        hi = np.inf if pool.max_award is None else pool.max_award * scale / 100.0
        if members is not None:
            lo, hi = np.where(members, lo, 0.0), np.where(members, hi, 0.0)
        return level(net, retained + holder_charge, scale, lo, hi)
    weights = _weights(agreement, system, members)
    charge_cap = None if pool.max_charge is None else pool.max_charge * scale / 100.0
    award_cap = None if pool.max_award is None else pool.max_award * scale / 100.0
    if pool.distribute != "claims" and (
            (charge_cap is None and award_cap is None)
            or (charge_cap is not None and award_cap is not None
                and np.array_equal(charge_cap, award_cap))):
        return spread(net, weights, charge_cap)      # one pass: the same caps either way
    losses = np.minimum(net, 0.0)
    gains = np.maximum(net, 0.0)
    charged, unalloc_loss = spread(losses, weights, charge_cap)
    if pool.distribute == "claims":
        claims = np.maximum(-retained, 0.0)            # shortfalls after retention
        if members is not None:
            claims = claims * members
        estate = np.minimum(gains, claims.sum(axis=1))
        covered = apply_rule(pool.rule, estate, claims)
        if award_cap is not None:                     # max_award caps claims awards too
            covered = np.minimum(covered, award_cap)
        rest_cap = None if award_cap is None else np.maximum(award_cap - covered, 0.0)
        rest, unalloc_gain = spread(gains - covered.sum(axis=1), weights, rest_cap)
        awarded = covered + rest
    else:
        awarded, unalloc_gain = spread(gains, weights, award_cap)
    return charged + awarded, unalloc_loss + unalloc_gain


# -- layer 3: support -------------------------------------------------------------------------------
def _earned_fraction(position: np.ndarray, width: np.ndarray | float, taper: float):
    """1 at or above target (position ≥ 0), 0 below (cliff), or linear over `width` £. A width
    of 0 (a coalition with nobody inside the SCT, whose scale is then nil) is a cliff edge."""
    cliff = (position >= -HALF_PENNY).astype(float)
    if taper <= 0:
        return cliff
    width = np.broadcast_to(np.asarray(width, dtype=float), np.shape(position))
    linear = np.clip(1.0 + np.divide(position, width, out=np.zeros(np.shape(position)),
                                     where=width > 0), 0.0, 1.0)
    return np.where(width > 0, linear, cliff)


def system_tied(support) -> float:
    """The share of each member's support that follows the system test: all of it under the
    system test, `system_share` under the organisation test (the rest follows the member)."""
    return 1.0 if support.test == "system" else float(support.system_share)


def support_fraction(agreement: Agreement, org_position, system_position, scale,
                     system_scale=None):
    """Share of each member's support earned (S, n) before any redistribution.
    system_scale: the total scale the system test's taper refers to (default Σ scale; `run`
    passes Σ scale inside the SCT, (S,) for coalitions)."""
    s = agreement.support
    if s.test == "none":
        return np.ones_like(org_position)
    width_sys = s.taper / 100.0 * (scale.sum() if system_scale is None else system_scale)
    sys = _earned_fraction(system_position, width_sys, s.taper)[:, None]
    share = system_tied(s)
    if share == 1.0:
        return np.broadcast_to(sys, org_position.shape).astype(float)
    org = _earned_fraction(org_position, s.taper / 100.0 * scale, s.taper)
    if share == 0.0:
        return org
    return (1.0 - share) * org + share * sys


def support_split(agreement: Agreement, support: np.ndarray, system_position: float,
                  scale: np.ndarray, inside: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Each member's support (£, (n,)) split for one scenario whose system position (outturn −
    SCT, £) is already known: (what the system test pays, what is still at stake on the member's
    own test). The same rule as `support_fraction`: with test "none" everything is paid; with
    "system" the whole support follows the system; with "organisation" the `system_share` part
    follows the system and the rest the member's own position. The optimiser builds its models
    on this split, so it pays what `run` pays."""
    s = agreement.support
    if s.test == "none":
        return support.astype(float), np.zeros_like(support, dtype=float)
    width = s.taper / 100.0 * (scale.sum() if inside is None else scale[inside].sum())
    earned = float(_earned_fraction(np.array([system_position]), width, s.taper)[0])
    share = system_tied(s)
    return support * share * earned, support * (1.0 - share)


def redistribute(earned: np.ndarray, support: np.ndarray, fraction: np.ndarray,
                 members: np.ndarray | None = None) -> np.ndarray:
    """Give unearned support to members that earned all of theirs, pro rata to their support
    (within each row's `members`, when given)."""
    inside = 1.0 if members is None else members
    lost = ((support - earned) * inside).sum(axis=1)
    full = (fraction >= 1.0 - 1e-12) & (support > 0)
    if members is not None:
        full &= members
    weight = np.where(full, support, 0.0)
    tot = weight.sum(axis=1)
    extra = np.divide(lost, tot, out=np.zeros_like(lost), where=tot > 0)[:, None] * weight
    return earned + extra


# -- the whole agreement ----------------------------------------------------------------------------
def quarterly_fractions(agreement: Agreement, quarters: np.ndarray, in_year: tuple,
                        year_end: tuple, system_quarters: np.ndarray, scale: np.ndarray,
                        system_scale, year: np.ndarray, closed: int = 0) -> np.ndarray:
    """The share of each quarter's support earned, (S, n, 4), under `[support] period =
    "quarter"` (docs/in_year.md).

    quarters (S, n, 4): each member's year to date against plan to date at months 3, 6, 9 and
    12 (£, `core.forecast.quarter_variances`); system_quarters (S, 4): the same summed inside
    the SCT. The year's risk share and the gap between the SCT and the control totals accrue
    evenly through the year: `year_end` = (org (S, n), system (S,)) is what they add to the
    year-end positions the annual test reads, and a twelfth of it is added per month at the
    year end; `in_year` is the same pair for the months before it (in year, what is expected
    at the forecast; otherwise the year end's own).
    Arrears judge quarter q at its own end; advance at the previous quarter's end, Q1 paid on
    the agreed plan. A quarter judged at month j is the annual rule on the year to date scaled
    to a year (× 12 / j), so a taper runs over the same share of the year to date's scale as
    of the year's. With `catch_up`, a quarter earns at least what the year-end test earns
    (`year`, (S, n)).

    `closed`: the months closed (in year, for the whole system rather than a coalition). A
    quarter judged on a closed month reads the same actuals in every scenario, so when what
    it adds to them is the same in every scenario too it is worked out once and broadcast:
    the same figures, a fraction of the work."""
    s = agreement.support
    judged = (3, 6, 9, 12) if s.timing == "arrears" else (0, 3, 6, 9)
    out = np.empty((4, *quarters.shape[:2]))      # quarter-major, as quarter_variances
    for q, j in enumerate(judged):
        if j == 0:
            out[q] = 1.0                  # paid on the agreed plan
            continue
        k = j // 3 - 1
        org_shift, system_shift = year_end if j == 12 else in_year
        rows = (slice(0, 1) if j <= closed and _same_rows(org_shift)
                and (system_tied(s) == 0.0 or _same_rows(system_shift)) else slice(None))
        org = (quarters[rows, :, k] + org_shift[rows] * (j / 12.0)) * (12.0 / j)
        sys_ = (system_quarters[rows, k] + system_shift[rows] * (j / 12.0)) * (12.0 / j)
        out[q] = support_fraction(agreement, org, sys_, scale, system_scale)
        if s.catch_up:
            np.maximum(out[q], year, out=out[q])
    return np.moveaxis(out, 0, -1)


def _same_rows(a: np.ndarray) -> bool:
    """Whether every scenario (row) of `a` is the same by construction: one row, or a
    broadcast (stride 0) along the scenarios."""
    return a.ndim == 0 or a.shape[0] == 1 or a.strides[0] == 0


def over_quarters(quarters, weights: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The share of the year's support earned from each quarter's share, (S, n) = `shape`:
    Σ weight × share, written as the first quarter's share plus the weighted differences from
    it, so a member earning the same share of every quarter earns exactly that share of the
    year (0.15 + 0.20 + 0.30 + 0.35 is not exactly 1 in floating point). `quarters`: the four
    shares, each (S, n) or a row (1, n) the same in every scenario."""
    first, *rest = quarters
    out = np.broadcast_to(first, shape).copy()
    for k, share in enumerate(rest, start=1):
        part = share - first
        part *= weights[k]
        out += part
    return out


def run(agreement: Agreement, system: System, variances: np.ndarray,
        received: np.ndarray | None = None, members: np.ndarray | None = None,
        target: np.ndarray | None = None, path: YearPath | None = None,
        bridge: np.ndarray | None = None, alone: np.ndarray | None = None) -> EngineResult:
    """Apply `agreement` to `system` for variances (S, n) in £. Returns an `EngineResult`:
    arrays (S, n) per member column (`COLUMNS` and the support fraction) and system arrays (S,)
    (`SYSTEM_ARRAYS`).

    received: optionally, a distribution of the net pool (after any reserve) chosen elsewhere
    (the optimiser's transfers, (n,) or (S, n), £); it replaces the `[pool]` rule, and
    `unallocated` is then the net pool minus what was distributed (negative: money from outside
    the system).

    members / target: optionally, each row is a coalition pooling on its own (the cooperative
    game, `games.pooling`): `members` (S, n) bool says who is in it, `target` (S,) is its
    system control total (£). Outsiders pool nothing and receive nothing, a reserve counts only
    when its holder is in, and the system test compares the coalition's total with `target`;
    the system arrays then add up members only. Outsiders' own columns are not meaningful.

    path / bridge: with `[support] period = "quarter"`, the year month by month (a YearPath)
    and an in-year simulation's bridge (S, n, 4) give each member's year to date against plan
    at the quarter ends (`core.forecast.quarter_variances`); without a path the variance
    accrues evenly over the year, which judges every quarter as the year is judged.

    alone: optionally, the variances (S, n) `standalone` is worked out on, when a member alone
    would have another variance than the one shared (over the years ahead, an earlier year's
    position carried into this year's control total is the agreement's, not the member's own);
    the standalone position is then its own control total + that variance + its support.
    Default: the variances shared."""
    require_system(system, "apply")
    raise_if_errors(agreement.check(system), f"agreement '{agreement.name}' on {system.label}")
    orgs = system.orgs
    v = np.asarray(variances, dtype=float)
    oct_ = orgs["control_total"].to_numpy(dtype=float)
    scale = system.column(agreement.scale).to_numpy(dtype=float)
    support = orgs["support"].to_numpy(dtype=float)
    shared = ~system.members.isin(agreement.exempt)
    sct: float | np.ndarray = system.control_total     # per scenario with `members`
    system_scale: float | np.ndarray = float(scale[system.inside].sum())   # inside the SCT
    if members is not None:
        members = np.broadcast_to(np.asarray(members, dtype=bool), v.shape)
        shared = shared & members
        sct = np.asarray(target, dtype=float)
        system_scale = (scale * (members & system.inside)).sum(axis=1)

    # the schedules read the variance, or the agreement's own line; the member keeps the rest of
    # its whole variance either way (outturn = forecast + net transfer on a line)
    pooled = pooled_amounts(line_variance(agreement, system, v), scale, agreement, shared,
                            system)
    retained = v - pooled
    net = pooled.sum(axis=1)
    reserve_used = np.zeros(len(v))
    holder_charge = np.zeros(v.shape)
    if agreement.reserve is not None:
        reserve_used = np.minimum(agreement.reserve.amount, np.maximum(-net, 0.0))
        holder = system.members.get_loc(agreement.reserve.holder)
        if members is not None:
            reserve_used = np.where(members[:, holder], reserve_used, 0.0)
        holder_charge[:, holder] = -reserve_used
    by_rule = received is None          # the agreement's own distribution (not one given)
    if by_rule:
        received, unallocated = distribute(net + reserve_used, retained, agreement, system,
                                           scale, holder_charge, members)
        # what the caps left with nobody is still the system's money (or loss)
        still_inside = unallocated
    else:
        received = np.broadcast_to(np.asarray(received, dtype=float), v.shape)
        unallocated = net + reserve_used - received.sum(axis=1)
        still_inside = np.zeros_like(unallocated)    # a chosen pool may bring money from outside
    received = received + holder_charge
    outturn = oct_ + retained + received

    after = agreement.support.after_sharing
    org_position = (retained + received) if after else v

    def total(a):                      # Σ over the members in each row
        return a.sum(axis=1) if members is None else np.where(members, a, 0.0).sum(axis=1)

    inside = system.inside           # the SCT boundary (docs/reconciliation.md)
    boundary = inside if members is None else members & inside

    inside_weights = boundary.astype(float) if members is None else None

    def within(a):                     # Σ over the members inside the SCT in each row
        if inside_weights is not None:      # one boundary for every row: a product is faster
            return np.asarray(a, dtype=float) @ inside_weights
        return np.where(boundary, a, 0.0).sum(axis=1)

    # the system test is on the system's whole position inside the SCT: a pooled loss that caps
    # left with no member is still the system's loss (Σ outturn + unallocated = Σ (OCT +
    # variance)); members outside the SCT count only through what they pay into or take out of
    # the pool of the members inside it
    system_total = within(outturn) + still_inside if after else within(oct_ + v)
    fraction = support_fraction(agreement, org_position, system_total - sct, scale,
                                system_scale)
    quarter_fraction = None
    by_quarter = agreement.support.period == "quarter"
    if by_quarter:
        d = quarter_variances(path, v, oct_, bridge)
        weights = np.asarray(agreement.support.quarter_weights, dtype=float)
        # months closed for the whole system (coalitions' system tests scale by coalition)
        closed = path.month if path is not None and members is None else 0
        # the year's risk share and the SCT's gap to the control totals accrue evenly
        # (before sharing the member's position is its variance: nothing accrues, exactly)
        org_shift = org_position - v if after else np.broadcast_to(0.0, v.shape)
        sys_shift = system_total - sct - within(v)
        in_year = (org_shift, sys_shift)
        if path is not None and after and members is None and by_rule:
            # in year, the ledgers accrue the risk share expected at the forecast (the same in
            # every scenario); only the year end settles each scenario's own
            at = run(replace(agreement, support=replace(agreement.support, period="year")),
                     system, (path.outturn - oct_)[None, :])
            in_year = (np.broadcast_to(at.retained + at.received - at.variance, v.shape),
                       np.broadcast_to(at.system_outturn + at.unallocated - sct
                                       - (at.variance * inside).sum(axis=1), (len(v),)))
        quarter_fraction = quarterly_fractions(
            agreement, d, in_year, (org_shift, sys_shift), within_q(d, boundary), scale,
            system_scale, fraction, closed)
        fraction = over_quarters([quarter_fraction[:, :, k] for k in range(4)], weights,
                                 v.shape)
    # published rules (issue 16 §3): support only for deficit control totals, a performance
    # element earned by a column, a reward for delivering a surplus plan, an incentive match
    support, perf_share, perf_earned, reward = support_parts(agreement, system, scale)
    fraction = (1.0 - perf_share) * fraction + perf_share * perf_earned
    earned = fraction * support
    if agreement.support.unearned == "redistribute":
        earned = redistribute(earned, np.broadcast_to(support, v.shape), fraction, members)
    rewarded = reward * (oct_ + org_position >= -HALF_PENNY)
    bonus = incentive(agreement, org_position, scale)
    earned = earned + rewarded + bonus
    own = v if alone is None else np.asarray(alone, dtype=float)
    if by_quarter and alone is not None:
        d = quarter_variances(path, own, oct_, bridge)
    standalone = _standalone(agreement, own, oct_, scale, (support, perf_share, perf_earned,
                                                           reward),
                             (d, weights, closed) if by_quarter else None)
    final = outturn + earned

    support = support + reward          # what is at stake: support and any reward
    at_stake = (np.full(len(v), support.sum()) if members is None
                else total(np.broadcast_to(support, v.shape)))
    system_outturn = within(outturn)
    return EngineResult(
        variance=v, pooled=pooled, retained=retained, received=received,
        net_transfer=received - pooled, outturn=outturn, support_earned=earned, final=final,
        standalone=standalone, vs_standalone=final - standalone, fraction=fraction,
        pool=net, reserve_used=reserve_used, unallocated=unallocated,
        support_at_stake=at_stake, support_earned_total=total(earned),
        support_lost=at_stake - total(earned - bonus), system_outturn=system_outturn,
        sct_variance=system_outturn - sct, system_final=within(final),
        quarter_fraction=quarter_fraction)


def _standalone(agreement: Agreement, v: np.ndarray, oct_: np.ndarray, scale: np.ndarray,
                parts: tuple, by_quarter: tuple | None) -> np.ndarray:
    """Where each member would end alone (S, n) £: control total + variance + the support it
    would earn on its own test (and any reward or incentive), with no risk share. `parts` are
    `support_parts`; `by_quarter` (quarter variances, weights, months closed) when support is
    paid by quarter."""
    support, perf_share, perf_earned, reward = parts
    alone = _earned_fraction(v, agreement.support.taper / 100.0 * scale,
                             agreement.support.taper)
    alone = np.ones_like(v) if agreement.support.test == "none" else alone
    if by_quarter is not None and agreement.support.test != "none":
        d, weights, closed = by_quarter
        alone = _alone_by_quarter(agreement, d, scale, alone, weights, closed)
    alone = (1.0 - perf_share) * alone + perf_share * perf_earned
    return (oct_ + v + alone * support + reward * (oct_ + v >= -HALF_PENNY)
            + incentive(agreement, v, scale))


def standalone(agreement: Agreement, system: System, variances: np.ndarray) -> np.ndarray:
    """Where each member would end alone for variances (S, n) £ (`EngineResult.standalone` of
    `run` on the same variances, without the rest of the agreement; support by quarter accrues
    evenly over the year, as `run` judges it without a path)."""
    v = np.asarray(variances, dtype=float)
    oct_ = system.orgs["control_total"].to_numpy(dtype=float)
    scale = system.column(agreement.scale).to_numpy(dtype=float)
    by_quarter = None
    if agreement.support.period == "quarter":
        by_quarter = (quarter_variances(None, v, oct_, None),
                      np.asarray(agreement.support.quarter_weights, dtype=float), 0)
    return _standalone(agreement, v, oct_, scale, support_parts(agreement, system, scale),
                       by_quarter)


def within_q(quarters: np.ndarray, boundary: np.ndarray) -> np.ndarray:
    """Σ over the members inside the SCT (`boundary`, (n,) or (S, n)) at each quarter end:
    (S, n, 4) -> (S, 4)."""
    b = np.broadcast_to(boundary, quarters.shape[:2])
    return np.einsum("snq,sn->sq", quarters, b.astype(float))


def _alone_by_quarter(agreement: Agreement, quarters: np.ndarray, scale: np.ndarray,
                      year: np.ndarray, weights: np.ndarray, closed: int = 0) -> np.ndarray:
    """(S, n) the share of the year's support a member would earn on its own test, alone,
    quarter by quarter (its year to date, no risk share; catch-up as in
    `quarterly_fractions`), summed over the quarters as `over_quarters` sums them (without
    keeping the four quarters in one array). A quarter judged on a month closed (`closed`) is
    the same in every scenario: worked out once, a row broadcast."""
    s = agreement.support
    judged = (3, 6, 9, 12) if s.timing == "arrears" else (0, 3, 6, 9)
    shape = quarters.shape[:2]

    def share(j: int) -> np.ndarray:
        if j == 0:
            return np.ones((1, shape[1]))                 # paid on the agreed plan
        rows = slice(0, 1) if j <= closed else slice(None)
        out = _earned_fraction(quarters[rows, :, j // 3 - 1] * (12.0 / j),
                               s.taper / 100.0 * scale, s.taper)
        return np.maximum(out, year) if s.catch_up else out

    return over_quarters([share(j) for j in judged], weights, shape)


def year_of(scenarios) -> tuple[YearPath | None, np.ndarray | None]:
    """The year an in-year simulation's `Scenarios` carry (its YearPath and bridge), or
    (None, None) for anything else."""
    return getattr(scenarios, "path", None), getattr(scenarios, "bridge", None)


def as_variances(system: System, variances, bytes_per_cell: int | None = None
                 ) -> tuple[np.ndarray, bool]:
    """(S, n) variances and whether the input was deterministic (None or 1-D). Variances are
    £ within ±VARIANCE_LIMIT (a forecast and a control total each within ±£10¹²).

    A pandas Series or a dict labelled by org_id (or a DataFrame with one column per org_id) is
    matched to members by label, in any order; a Scenarios object gives its variances; labels that are not exactly the members are refused, not
    read by position. Plain lists and arrays are in member order. True/False, text and complex
    numbers are refused rather than read as numbers. A table of scenarios must fit the memory
    budget at `bytes_per_cell` (default: a simulation's, for work done in chunks; a single run
    of the engine over every scenario at once passes BYTES_PER_CELL)."""
    require_system(system, "apply")
    if variances is None:
        return system.variance.to_numpy(dtype=float)[None, :], True
    if isinstance(variances, Scenarios):
        if list(variances.system.members) != list(system.members):
            raise_if_errors([problem("are scenarios of another system (its members differ): "
                                     "simulate this system", column="variances")], "variances")
        variances = variances.variances
    elif isinstance(variances, dict):
        import pandas as pd

        variances = pd.Series(variances, dtype=object)   # {org_id: £}, matched by label
    variances = _by_org_id(system, variances)
    _within_memory(variances, bytes_per_cell)
    problems: list = []
    arr = _numbers(variances, problems)
    if arr is None:
        raise_if_errors(problems or [problem(
            "must be numbers of pounds, one per member (or a table of scenarios × members)",
            column="variances")], "variances")
    assert arr is not None      # _numbers gives None only with an error: raised just above
    if arr.ndim not in (1, 2) or arr.shape[-1] != system.n:
        problems.append(problem(f"must have one column per member ({system.n}); got shape "
                                f"{arr.shape}", column="variances"))
    elif arr.ndim == 2 and arr.shape[0] == 0:
        problems.append(problem("holds no scenarios: give at least one row (scenarios × "
                                "members)", column="variances"))
    elif not np.isfinite(arr).all():
        problems.append(problem("must be finite numbers of pounds (found NaN or infinity)",
                                column="variances"))
    elif np.abs(arr).max(initial=0.0) > VARIANCE_LIMIT:
        problems.append(problem("must lie within ±£2,000,000,000,000 (a forecast and a control "
                                "total each within ±£10¹²)", column="variances"))
    raise_if_errors(problems, "variances")
    return (arr[None, :], True) if arr.ndim == 1 else (arr, False)


#: Bytes an agreement's run needs per scenario and member (the variances as floats and the
#: engine's working arrays, measured at about 120 on 10 million × 4).
BYTES_PER_CELL = 128


def _within_memory(variances, bytes_per_cell: int | None = None) -> None:
    """BudgetError when a table of scenarios is too big to run within the memory budget —
    judged from its shape, before it is copied or converted (a broadcast view of 10⁹ rows
    costs nothing until then)."""
    shape = getattr(variances, "shape", None)
    if shape is None or len(shape) != 2:
        return
    per_cell = bytes_per_cell or SIMULATED_BYTES_PER_CELL   # one budget for every run
    rows, members = int(shape[0]), int(shape[1])
    need, budget = rows * members * per_cell, memory_budget()
    if need > budget:
        fits = budget // (max(members, 1) * per_cell)
        raise BudgetError(f"variances: {rows:,} scenarios × {members:,} members would need about "
                          f"{size_text(need)} of memory to run, above riskshare's budget "
                          f"of {size_text(budget)}: use at most {fits:,} scenarios at a time (on a "
                          "larger machine, raise the budget with the environment variable "
                          "RISKSHARE_MEMORY_BUDGET, e.g. 8GB)")


def _by_org_id(system: System, variances):
    """A labelled pandas Series/DataFrame put in member order (by org_id); anything else as is.
    A Series or frame still on its default 0, 1, 2… labels is taken in member order."""
    import pandas as pd  # pandas is loaded already wherever a pandas object is passed

    if isinstance(variances, pd.Series):
        labels, axis = variances.index, "index"
    elif isinstance(variances, pd.DataFrame):
        labels, axis = variances.columns, "columns"
    else:
        return variances
    if isinstance(labels, pd.RangeIndex) and labels.start == 0 and labels.step == 1:
        return variances.to_numpy()
    members = list(system.members)
    given = [str(x) for x in labels]
    if sorted(given) != sorted(members) or len(set(given)) != len(given):
        missing = [m for m in members if m not in given]
        extra = sorted({g for g in given if g not in members})
        parts = ([f"missing {', '.join(missing[:10])}"] if missing else []) + \
            ([f"not members: {', '.join(extra[:10])}"] if extra else []) + \
            (["an org_id given twice"] if len(set(given)) != len(given) else [])
        raise_if_errors([problem(f"its {axis} must be the members' org_ids, each once "
                                 f"({'; '.join(parts)})", column="variances")], "variances")
    frame = variances.set_axis(given, axis=0 if axis == "index" else 1)
    return (frame.reindex(members) if axis == "index" else frame[members]).to_numpy()


def _numbers(values, problems: list) -> np.ndarray | None:
    """`values` as a float array, or None with a problem naming what is not a number."""
    arr = np.asarray(values) if not isinstance(values, np.ndarray) else values
    kind = arr.dtype.kind
    if kind in "iuf":
        return arr.astype(float)
    if kind == "b":
        problems.append(problem("must be numbers of pounds, not True/False", column="variances"))
        return None
    if kind == "c":
        problems.append(problem("must be real numbers of pounds, not complex numbers",
                                column="variances"))
        return None
    if kind == "O":
        import numbers
        from decimal import Decimal

        flat = arr.ravel()
        for x in flat:
            if isinstance(x, bool) or isinstance(x, np.bool_) or not (
                    isinstance(x, (numbers.Real, Decimal)) or x is None):
                problems.append(problem(f"must be numbers of pounds (found {type(x).__name__} "
                                        f"{str(x)[:30]!r})", column="variances"))
                return None
        return np.array([np.nan if x is None else float(x) for x in flat],
                        dtype=float).reshape(arr.shape)
    problems.append(problem(f"must be numbers of pounds, not text ({str(arr.ravel()[0])[:30]!r})"
                            if arr.size and kind in "US" else "must be numbers of pounds",
                            column="variances"))
    return None
