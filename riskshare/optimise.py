"""`rs.optimise`: allocations chosen by linear and mixed-integer programming.

The decision is how the pool is distributed: `received` per member (£, + receives, − is
charged), summing to the pool — the agreement's net pool after any reserve, or zero without an
agreement (a pure redistribution between members), or a `pool` the caller gives. Everything
else follows from it exactly as in `rs.apply` (the allocation is evaluated by `engine.run`):

    position  = retained + received (+ a reserve holder's charge)   outturn − control total, £
    final     = outturn + support earned

Objectives (OBJECTIVES): minimax_shortfall (the largest shortfall against control total as % of
the scale column, minimised; negative means every member is at least that far ahead),
min_total_transfer (Σ |net transfer|, £), closest_to_basis (Σ |position − basis share of the
system's position|, £), and two MILPs: max_meeting_control_total (members with outturn ≥ control
total) and max_support_earned (all the support `engine.run` pays, £: the organisation test the
transfers move, cliff edge or taper, plus the system-tied part, which the transfers cannot move,
and, with `unearned = "redistribute"`, everything at stake once one member earns all its own).
An allocation's `value` is the objective evaluated by the engine on the allocation in whole
pennies; `model_value` is the solver's optimum. Models are built in org_id order.

Constraints (`Constraints`, all optional): pool, max_charge / max_award (% of scale, or £ with
the `_gbp` keys; a number for all members or a mapping by org_id), no_worse_than_standalone,
min_retention (a member keeps at least this share of its favourable variance, so it pays out at
most (1 − share) × its favourable variance; a member with none pays nothing), floor / floor_gbp
(final − control total ≥ floor), fixed (£ received by named members), system_meets_control_total.
The agreement's own `[pool] max_charge / max_award` apply unless the constraints set them.

Solving: PuLP models, HiGHS (default) or CBC; the status is checked before any value is read.
Among equally good allocations riskshare picks the one that moves the least money (a second,
tie-breaking solve with the objective held at its optimum). Results come back in whole pennies,
summing to the pool exactly. Shadow prices (LP objectives only) are quoted in words for a
relaxation of a round step; `Allocation.alternatives` finds materially different allocations
within a slack of the optimum. An infeasible request raises `InfeasibleError` naming the
conditions in conflict and the smallest set that would have to give (see `infeasibility.py`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

import numpy as np
import pandas as pd

from . import conditions, engine, lp
from .agreement import PERCENT_LIMIT, Agreement, load_agreement
from .errors import RiskshareError, problem, raise_if_errors
from .format import money_m, pct
from .infeasibility import diagnose
from .lazy import lazy_module
from .money import round_to_total, to_pennies
from .outcome import Outcome
from .rebalance import basis_weights
from .schema import MONEY_LIMIT
from .system import System, require_system

pulp = lazy_module("pulp")   # the solver library loads at the first model built

NO_AGREEMENT = Agreement(name="No risk share",
                         description="Each member keeps its own variance; support is tested on "
                                     "each member's own position (cliff edge).")


@dataclass(frozen=True)
class Objective:
    key: str
    label: str
    unit: str           # "pct" (percentage points of scale), "gbp" or "members"
    maximise: bool
    mip: bool
    words: str          # the quantity, for sentences ("the largest shortfall")


OBJECTIVES = {o.key: o for o in (
    Objective("minimax_shortfall", "Smallest largest shortfall (% of scale)", "pct", False, False,
              "the largest shortfall"),
    Objective("min_total_transfer", "Least money moved between members", "gbp", False, False,
              "the total of net transfers in and out"),
    Objective("closest_to_basis", "Positions closest to a basis share of the system's position",
              "gbp", False, False, "the distance from the basis shares"),
    Objective("max_meeting_control_total", "Most members meeting their control total (MILP)",
              "members", True, True, "the number of members meeting their control total"),
    Objective("max_support_earned", "Most support funding earned (MILP)", "gbp", True, True,
              "the support earned"),
)}


class SolverError(RiskshareError):
    """The solver stopped without a usable answer (time limit with no solution, numerical
    trouble); `.status` says how it ended."""

    def __init__(self, message: str, status: lp.SolveStatus):
        super().__init__(message)
        self.status = status


# -- constraints ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Constraints:
    """Conditions on the allocation (see the module docstring). Per-member values are a number
    (all members) or a tuple of (org_id, value) pairs; build from a dict with `from_dict`."""

    pool: float | None = None
    max_charge: object = None
    max_charge_gbp: object = None
    max_award: object = None
    max_award_gbp: object = None
    no_worse_than_standalone: bool = False
    min_retention: float | None = None
    floor: object = None
    floor_gbp: object = None
    fixed: tuple = ()
    system_meets_control_total: bool = False

    HELP = {
        "pool": "£ the transfers sum to (default: the agreement's net pool, or 0)",
        "max_charge": "% of scale: most any member is charged (a number, or by org_id)",
        "max_charge_gbp": "£: most any member is charged (a number, or by org_id)",
        "max_award": "% of scale: most any member is awarded (a number, or by org_id)",
        "max_award_gbp": "£: most any member is awarded (a number, or by org_id)",
        "no_worse_than_standalone": "true: every member ends at least as well off as on its own",
        "min_retention": "0–1: each member keeps at least this share of its favourable variance",
        "floor": "% of scale: final − control total is at least this (e.g. -1.0)",
        "floor_gbp": "£: final − control total is at least this (a number, or by org_id)",
        "fixed": "£ received, by org_id (a table of org_id = amount)",
        "system_meets_control_total": "true: the system's outturn meets the system control total",
    }

    @classmethod
    def from_dict(cls, data: Mapping | None, source: str = "constraints") -> Constraints:
        """Validate a mapping of constraint keys; raise ValidationError listing every problem."""
        if data is None:
            return cls()
        if isinstance(data, Constraints):
            return data
        problems = []
        if not isinstance(data, Mapping):
            raise_if_errors([problem("must be a table of constraint keys", value=data)], source)
        valid = [f.name for f in fields(cls)]
        out = {}
        for key, value in data.items():
            if key not in valid:
                problems.append(problem(f"is not a constraint (valid: {', '.join(valid)})",
                                        key=str(key)))
                continue
            if value is None:
                continue
            if key in ("no_worse_than_standalone", "system_meets_control_total"):
                if not isinstance(value, (bool, np.bool_)):
                    problems.append(problem("must be true or false", key=key, value=value))
                    continue
                out[key] = bool(value)
            elif key == "fixed":
                out[key] = _per_member(key, value, problems, allow_scalar=False,
                                       non_negative=False)
            elif key == "min_retention":
                number = _number(key, value, problems)
                if number is not None and not 0.0 <= number <= 1.0:
                    problems.append(problem("must be a share between 0 and 1", key=key,
                                            value=value))
                out[key] = number
            elif key == "pool":
                out[key] = _number(key, value, problems)
            else:
                out[key] = _per_member(key, value, problems, allow_scalar=True,
                                       non_negative=not key.startswith("floor"))
        raise_if_errors(problems, source)
        return cls(**out)

    def to_dict(self) -> dict:
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value in (None, False, ()):
                continue
            out[f.name] = dict(value) if isinstance(value, tuple) else value
        return out

    def check(self, system: System) -> list:
        """Problems that need the system: members named that are not members."""
        members = set(system.members)
        problems = []
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                problems += [problem(f"names '{k}', which is not a member of the system",
                                     key=f"{f.name}.{k}") for k, _ in value if k not in members]
        return problems

    def per_member(self, key: str, members: pd.Index) -> np.ndarray:
        """Values of a per-member key in member order (NaN where none applies)."""
        value = getattr(self, key)
        if value is None:
            return np.full(len(members), np.nan)
        if isinstance(value, tuple):
            return pd.Series(dict(value), dtype=float).reindex(members).to_numpy()
        return np.full(len(members), float(value))


_MONEY_KEYS = ("pool", "max_charge_gbp", "max_award_gbp", "floor_gbp", "fixed")
_PERCENT_KEYS = ("max_charge", "max_award", "floor")


def _number(key, value, problems):
    """A finite number within its key's bounds: £ keys within ±MONEY_LIMIT, % keys within
    ±PERCENT_LIMIT of the scale."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        problems.append(problem("must be a number", key=key, value=value))
        return None
    if not math.isfinite(float(value)):
        problems.append(problem("must be a finite number", key=key, value=value))
        return None
    base = key.split(".")[0]
    if base in _MONEY_KEYS and abs(float(value)) > MONEY_LIMIT:
        problems.append(problem("must lie within ±£1,000,000,000,000 (10¹²)", key=key,
                                value=float(value)))
        return None
    if base in _PERCENT_KEYS and abs(float(value)) > PERCENT_LIMIT:
        problems.append(problem(f"must lie within ±{PERCENT_LIMIT:,.0f} (% of the scale)",
                                key=key, value=float(value)))
        return None
    return float(value)


def _per_member(key, value, problems, allow_scalar: bool, non_negative: bool):
    if isinstance(value, Mapping):
        pairs = []
        for k, v in value.items():
            n = _number(f"{key}.{k}", v, problems)
            if n is not None and non_negative and n < 0:
                problems.append(problem("must be ≥ 0", key=f"{key}.{k}", value=v))
            elif n is not None:
                pairs.append((str(k), n))
        return tuple(sorted(pairs))
    if not allow_scalar:
        problems.append(problem("must be a table of amounts by org_id", key=key, value=value))
        return ()
    n = _number(key, value, problems)
    if n is not None and non_negative and n < 0:
        problems.append(problem("must be ≥ 0", key=key, value=value))
        return None
    return n


# -- the problem data -----------------------------------------------------------------------------
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
    support: np.ndarray = None  # support at stake (£)
    redistribute: bool = False  # unearned support goes to members that earn all theirs

    MONEY_FIELDS = ("scale", "oct", "variance", "pooled", "base", "holder", "total", "internal",
                    "support_const", "support_var", "taper", "standalone", "low", "high",
                    "floor", "fixed", "big", "sct", "support")

    @property
    def n(self) -> int:
        return len(self.members)

    MEMBER_FIELDS = ("scale", "oct", "variance", "pooled", "base", "holder", "support_const",
                     "support_var", "taper", "standalone", "weights", "low", "high", "floor",
                     "fixed", "support")

    def in_model_units(self) -> Setup:
        """The same setup with every £ figure in model units (`lp.MONEY`)."""
        return replace(self, **{f: getattr(self, f) / lp.MONEY for f in self.MONEY_FIELDS})

    def by_org_id(self) -> tuple[Setup, np.ndarray]:
        """The setup with its members in org_id order, and that order (positions in the
        original order). Models are always built in org_id order, so the same members in any
        row order give the same model, and the same answer to the penny."""
        order = np.argsort(np.asarray(self.members, dtype=object).astype(str), kind="stable")
        moved = {f: np.asarray(getattr(self, f))[order] for f in self.MEMBER_FIELDS}
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
    scale = orgs[agreement.scale].to_numpy(dtype=float)
    v = system.variance.to_numpy(dtype=float)
    zero = engine.run(agreement, system, v[None, :], received=np.zeros((1, len(v))))
    pooled = zero["pooled"][0]
    holder = zero["received"][0]
    base = zero["retained"][0] + holder
    internal = float(zero["pool"][0] + zero["reserve_used"][0])
    total = internal if cons.pool is None else cons.pool

    s = agreement.support
    support = orgs["support"].to_numpy(dtype=float)
    oct_ = orgs["control_total"].to_numpy(dtype=float)
    taper = s.taper / 100.0 * scale
    if s.test == "none":
        const, var = support, np.zeros_like(support)
    elif not s.after_sharing:
        const, var = zero["support_earned"][0], np.zeros_like(support)
    else:
        sys_position = math.fsum([*(oct_ + base), total, -system.control_total])
        sys_frac = float(engine._earned_fraction(np.array([sys_position]),
                                                 s.taper / 100.0 * scale.sum(), s.taper)[0])
        share = 1.0 if s.test == "system" else s.system_share
        const = support * share * sys_frac
        var = support * (1.0 - share)

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
        np.abs(base), [abs(total)], support, np.abs(fixed[~np.isnan(fixed)]),
        np.abs(floor[~np.isnan(floor)]), np.abs(zero["standalone"][0] - oct_ - base)]))
    big = 2.0 * money + 1000.0
    # with redistribution, a member earns all its support (so may receive others') only if
    # its system-tied part is earned in full too
    redistribute = (s.unearned == "redistribute" and s.test == "organisation"
                    and s.after_sharing and bool((var > 0).any())
                    and (s.system_share == 0 or bool(np.all(const >= support * s.system_share
                                                            - 1e-9))))
    return Setup(system, agreement, cons, members, scale, oct_, v, pooled, base, holder,
                 float(total), internal, const, var, taper, zero["standalone"][0], weights,
                 np.where(np.isnan(charge), -np.inf, -charge),
                 np.where(np.isnan(award), np.inf, award), floor, fixed, big,
                 float(system.control_total), support, redistribute)


# -- building models ------------------------------------------------------------------------------
@dataclass
class Built:
    """A model and the handles later steps need."""

    model: lp.Model
    x: list
    objective: list                     # objective terms (var, coef)
    binaries: list = field(default_factory=list)
    support_terms: list = field(default_factory=list)   # per member: terms of support earned
    order: np.ndarray | None = None     # x[k] is member order[k] (models are in org_id order)


def _name(family: str, i: int | None = None) -> str:
    return family if i is None else f"{family}_{i:05d}"


def needs_support(st: Setup, objective: str) -> bool:
    """Whether support earned must be modelled (binaries): it depends on the transfers and the
    objective or a constraint looks at final positions."""
    c = st.constraints
    uses_final = (objective == "max_support_earned" or c.no_worse_than_standalone
                  or not np.all(np.isnan(st.floor)))
    return uses_final and bool((st.support_var > 0).any())


def build(st: Setup, objective: str, *, elastic: bool = False, near: tuple | None = None,
          fix_binaries: dict | None = None,
          least_movement: bool = False, movement_weights: np.ndarray | None = None,
          shift: dict | None = None) -> Built:
    """The model for `objective` under the setup's constraints.

    elastic: relaxable rows get elastic variables (infeasibility diagnosis).
    near: (sense, bound): hold the objective within a bound (">=" or "<=" bound; tie-breaks
          and alternatives) and minimise money moved instead;
    fix_binaries: {var name: 0/1}; shift: {row name: £} moves those rows' right-hand sides
    (re-solves that check shadow prices);
    least_movement: minimise Σ w_i |net transfer_i| instead
    (weights `movement_weights`, default 1)."""
    obj = OBJECTIVES[objective]
    st, order = st.in_model_units().by_org_id()
    if movement_weights is not None:
        movement_weights = np.asarray(movement_weights, dtype=float)[order]
    model = lp.Model(objective, maximise=obj.maximise and near is None)
    model.elastic_on = elastic
    model.shift = {k: v / lp.MONEY for k, v in (shift or {}).items()}
    model.big = st.big
    n = st.n
    who = st.labels()
    x = [model.var(f"x_{i:05d}", -st.big, st.big) for i in range(n)]

    def add(terms, sense, rhs, family, i=None, figure=None):
        model.add(terms, sense, rhs, lp.Row(_name(family, i), family,
                                            None if i is None else who[i], sense, float(rhs),
                                            True, None if figure is None else float(figure)))

    def bound(i, sense, value, family, figure=None):
        model.bound(x[i], sense, value, lp.Row(_name(family, i), family, who[i], sense,
                                               float(value), True,
                                               None if figure is None else float(figure)))

    add([(xi, 1.0) for xi in x], "==", st.total, "pool")
    c = st.constraints
    pays = (1.0 - (c.min_retention or 0.0)) * np.maximum(st.variance, 0.0)
    for i in range(n):       # conditions on one member's transfer are kept as its bounds
        if np.isfinite(st.low[i]):
            bound(i, ">=", st.low[i], "max_charge", figure=-st.low[i])
        if np.isfinite(st.high[i]):
            bound(i, "<=", st.high[i], "max_award")
        if not np.isnan(st.fixed[i]):
            bound(i, "==", st.fixed[i], "fixed")
        if c.min_retention is not None:    # net transfer = x + holder − pooled ≥ −pays
            bound(i, ">=", st.pooled[i] - st.holder[i] - pays[i], "min_retention",
                  figure=pays[i])
    if c.system_meets_control_total:
        add([(xi, 1.0) for xi in x], ">=",
            st.sct - float((st.oct + st.base).sum()), "system_ct")

    built = Built(model, x, [], order=order)
    support = needs_support(st, objective)
    if support:
        _support_rows(st, built, fix_binaries)
    else:
        built.support_terms = [[] for _ in range(n)]
    for i in range(n):   # final − control total = base + x + support earned
        const = st.support_const[i]
        if not np.isnan(st.floor[i]):
            add([(x[i], 1.0), *built.support_terms[i]], ">=", st.floor[i] - st.base[i] - const,
                "floor", i, figure=st.floor[i])
        if c.no_worse_than_standalone:
            add([(x[i], 1.0), *built.support_terms[i]], ">=",
                st.standalone[i] - st.oct[i] - st.base[i] - const, "standalone", i)

    terms = _objective_terms(st, objective, built, fix_binaries)
    built.objective = terms
    if near is not None:
        sense, bound = near
        model.add(terms, sense, bound, lp.Row("near_optimal", "near_optimal", None, sense,
                                                   bound, relaxable=False))
    if least_movement:
        w = np.ones(n) if movement_weights is None else movement_weights
        model.set_objective([(a, float(wi)) for (a, _), wi in
                             zip(_abs_terms(model, x, st.pooled - st.holder, "move"), w)])
    else:
        model.set_objective(terms)
    return built


def _support_rows(st: Setup, built: Built, fix_binaries: dict | None) -> None:
    """Organisation-test support earned as a function of position: binary z_i = 'passes' (cliff
    edge) or 'within the taper' (f_i ∈ [0, 1] earned share, f_i ≤ 1 + position/width)."""
    model, x = built.model, built.x
    n = st.n
    who = st.labels()
    terms_per = []
    for i in range(n):
        at_stake = st.support_var[i]
        if at_stake <= 0:
            terms_per.append([])
            continue
        z = model.var(f"z_{i:05d}", 0, 1, integer=True)
        if fix_binaries is not None:
            z.lowBound = z.upBound = fix_binaries[z.name]
        built.binaries.append(z)
        m_i = st.big + abs(st.base[i]) + st.taper[i] + 1.0
        width = st.taper[i]
        # position + width ≥ −M (1 − z):  x − M z ≥ −M − base − width
        model.add([(x[i], 1.0), (z, -m_i)], ">=", -m_i - st.base[i] - width,
                  lp.Row(_name("support_test", i), "support_test", who[i], ">=",
                         0.0, relaxable=False))
        if width <= 0:
            terms_per.append([(z, at_stake)])
            continue
        f = model.var(f"f_{i:05d}", 0, 1)
        model.add([(f, 1.0), (z, -1.0)], "<=", 0.0,
                  lp.Row(_name("taper_on", i), "taper", who[i], "<=", 0.0, False))
        k = m_i / width + 1.0
        # f ≤ 1 + (base + x)/width + k (1 − z)  →  width f − x + k width z ≤ width + base + k width
        model.add([(f, width), (x[i], -1.0), (z, k * width)], "<=",
                  width + st.base[i] + k * width,
                  lp.Row(_name("taper", i), "taper", who[i], "<=", 0.0, False))
        terms_per.append([(f, at_stake)])
    built.support_terms = terms_per


def _abs_terms(model: lp.Model, x: list, target: np.ndarray, prefix: str) -> list:
    """Terms Σ a_i with a_i ≥ |x_i − target_i| (rows are structural)."""
    terms = []
    for i, xi in enumerate(x):
        a = model.var(f"{prefix}_{i:05d}", 0)
        model.add([(a, 1.0), (xi, -1.0)], ">=", -float(target[i]),
                  lp.Row(_name(prefix + "_up", i), prefix, None, ">=", 0.0, False))
        model.add([(a, 1.0), (xi, 1.0)], ">=", float(target[i]),
                  lp.Row(_name(prefix + "_down", i), prefix, None, ">=", 0.0, False))
        terms.append((a, 1.0))
    return terms


def _objective_terms(st: Setup, objective: str, built: Built, fix_binaries) -> list:
    model, x = built.model, built.x
    n = st.n
    who = st.labels()
    if objective == "minimax_shortfall":
        s = model.var("largest_shortfall")
        for i in range(n):   # shortfall_i = −(base + x)/unit ≤ s  →  x + unit s ≥ −base
            model.add([(x[i], 1.0), (s, st.scale[i] / 100.0)], ">=", -st.base[i],
                      lp.Row(_name("level", i), "level", who[i], ">=", 0.0, False))
        return [(s, 1.0)]
    if objective == "min_total_transfer":
        return _abs_terms(model, x, st.pooled - st.holder, "transfer")
    if objective == "closest_to_basis":
        return _abs_terms(model, x, basis_targets(st) - st.base, "distance")
    if objective == "max_meeting_control_total":
        return [(_on_target(st, built, i, "meets", "meets", fix_binaries), 1.0)
                for i in range(n)]
    if objective == "max_support_earned":
        return _support_objective(st, built, fix_binaries)
    raise AssertionError(objective)


def _support_objective(st: Setup, built: Built, fix_binaries) -> list:
    """Support earned as `engine.run` pays it, in model units: the organisation-tied part that
    depends on the transfers, plus the system-tied part (fixed: the transfers add up to the
    pool, so the system's position does not move), and, when unearned support is
    redistributed, everything at stake as soon as one member earns all of its own."""
    model = built.model
    terms = [t for member in built.support_terms for t in member]
    fixed = float(st.support_const.sum())
    if fixed:
        terms.append((model.var("support_system_tied", fixed, fixed), 1.0))
    if not st.redistribute:
        return terms
    total = float(st.support.sum())
    anyone = model.var("someone_earns_all", 0, 1)
    full = []
    for i in np.flatnonzero(st.support > 0):      # earns all its support: position ≥ 0
        full.append((_on_target(st, built, i, "full", "earns_all", fix_binaries,
                                family="support_test"), -1.0))
    model.add([(anyone, 1.0), *full], "<=", 0.0,
              lp.Row("someone_earns_all", "support_test", None, "<=", 0.0, False))
    earned = model.var("support_earned", 0, total)
    model.add([(earned, 1.0), *[(v, -c) for v, c in terms], (anyone, -total)], "<=", 0.0,
              lp.Row("redistributed", "support_test", None, "<=", 0.0, False))
    return [(earned, 1.0)]


def _on_target(st: Setup, built: Built, i: int, var: str, row: str, fix_binaries,
               family: str = "meets"):
    """A binary that may be 1 only when member `i` ends on or above its control total
    (base_i + x_i ≥ 0), by big-M; fixed to its value in `fix_binaries` when given (the LP
    re-solve for shadow prices)."""
    z = built.model.var(f"{var}_{i:05d}", 0, 1, integer=True)
    if fix_binaries is not None:
        z.lowBound = z.upBound = fix_binaries[z.name]
    built.binaries.append(z)
    m_i = st.big + abs(st.base[i]) + 1.0
    built.model.add([(built.x[i], 1.0), (z, -m_i)], ">=", -m_i - st.base[i],
                    lp.Row(_name(row, i), family, str(st.members[i]), ">=", 0.0, False))
    return z


def basis_targets(st: Setup) -> np.ndarray:
    """Each member's basis share of the system's position after transfers (£)."""
    w = st.weights
    return (st.base.sum() + st.total) * w / w.sum()


def objective_value(st: Setup, objective: str, outcome: Outcome) -> float:
    """The objective evaluated on an allocation as `rs.apply` would show it (`outcome`, in
    whole pennies): the engine is the one owner of what an allocation pays."""
    a = outcome.arrays
    position = (a["outturn"][0] - st.oct)
    if objective == "minimax_shortfall":
        return float(np.max(-100.0 * position / st.scale))
    if objective == "min_total_transfer":
        return float(np.abs(a["net_transfer"][0]).sum())
    if objective == "closest_to_basis":
        return float(np.abs(position - position.sum() * st.weights / st.weights.sum()).sum())
    if objective == "max_meeting_control_total":
        return float((position >= -engine.HALF_PENNY).sum())
    return float(a["support_earned_total"][0])


# -- results --------------------------------------------------------------------------------------
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
            "support_earned_total": float(a["support_earned_total"][0]),
            "support_lost": float(a["support_lost"][0]),
            "system_outturn": float(a["system_outturn"][0]),
            "sct_variance": float(a["sct_variance"][0]),
            "system_final": float(a["system_final"][0]),
        }, name=self.objective)
        return out

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
        optimum (see `alternatives.py`)."""
        from .alternatives import alternatives
        return alternatives(self, k=k, slack=slack, min_difference=min_difference, seed=seed)


def value_text(st: Setup, objective: str, value: float) -> str:
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


def received_of(built: Built) -> np.ndarray:
    """What each member receives (£) in a solved model."""
    values = lp.MONEY * np.array([xi.value() or 0.0 for xi in built.x])
    if built.order is None:
        return values
    out = np.empty_like(values)
    out[built.order] = values
    return out


def to_model(objective: str, value: float) -> float:
    """An objective value in the model's units (£ objectives are in £ thousands there)."""
    return value / lp.MONEY if OBJECTIVES[objective].unit == "gbp" else value


def _read(built: Built, st: Setup, objective: str, status: lp.SolveStatus, duals: bool):
    model = built.model
    received = received_of(built)
    per_pound = (1.0 if OBJECTIVES[objective].unit == "gbp" else 1.0 / lp.MONEY)
    binding, prices = [], []
    for name, row in model.rows.items():
        if not row.relaxable:
            continue
        slack = model.slack(name)
        if row.sense != "==" and slack > lp.FEASIBILITY_TOL * max(1.0, abs(row.rhs)):
            continue
        if row.family == "pool" and not duals:
            continue
        text = conditions.condition(row.family, row.member, row.shown)
        y = model.dual(name) * per_pound if duals else 0.0
        if model.maximise:
            y = -y
        if row.family != "pool" or abs(y) > 1e-12:
            binding.append(Binding(name, row.family, row.member, text))
        if duals and abs(y) > 1e-12:
            prices.append((abs(y), name, row, y * conditions.FAMILIES[row.family].direction))
    prices.sort(key=lambda p: -p[0])
    return received, tuple(binding), tuple(p[1:] for p in prices)


MAX_PRICES = 4          # shadow prices checked by re-solving (two solves each)


def _verified_prices(st: Setup, objective: str, candidates, optimum: float, solver: str):
    """Shadow prices that hold: for the conditions with the largest duals, re-solve with the
    condition relaxed by a small amount (the marginal rate per £) and by the quoted step (the
    effect in the sentence, exact for that step). A dual at a degenerate optimum can promise
    what relaxing does not deliver; only what the re-solves show is quoted."""
    step = step_for(st)
    prices = []
    for name, row, _dual in candidates[:MAX_PRICES]:
        family = conditions.FAMILIES[row.family]
        changes = []
        for amount in (step / 1000.0, step):
            value = _relaxed_value(st, objective, name, row, family.direction * amount, solver)
            if value is None:
                break
            changes.append(value - optimum)
        if len(changes) < 2 or abs(changes[1]) < 1e-9 * max(1.0, abs(optimum)):
            continue
        rate, effect = changes[0] / (step / 1000.0), changes[1]
        sentence = (f"{conditions.relax(row.family, row.member, step)} would "
                    f"{_effect_words(st, objective, effect)}.")
        prices.append(ShadowPrice(name, row.family, row.member, rate, step, effect, sentence))
    prices.sort(key=lambda p: -abs(p.effect))
    return tuple(prices)


def _relaxed_value(st: Setup, objective: str, name: str, row, delta: float, solver: str):
    """The optimum (£ or % as the objective's unit) with row `name`'s right-hand side moved by
    `delta` £; the pool moves the setup's total, so basis targets follow it."""
    if row.family == "pool":
        built = build(replace(st, total=st.total + delta), objective)
    else:
        built = build(st, objective, shift={name: delta})
    status = lp.solve(built.model, solver)
    return to_pound(objective, status_value(built.model)) if status.ok else None


def to_pound(objective: str, value: float) -> float:
    return value * lp.MONEY if OBJECTIVES[objective].unit == "gbp" else value


def status_value(model: lp.Model) -> float:
    return float(pulp.value(model.prob.objective) or 0.0)


def _binary_values(built: Built) -> dict:
    return {z.name: int(round(z.value() or 0.0)) for z in built.binaries}


def solve_setup(st: Setup, objective: str, solver: str = "highs",
                time_limit: float | None = None) -> Allocation:
    """Solve a prepared request (see `optimise`)."""
    obj = OBJECTIVES[objective]
    if objective == "max_support_earned" and not (st.support_var > 0).any():
        raise_if_errors([problem(
            "needs support that depends on the transfers: the system has no support at stake "
            "on the organisation test after sharing (check the support column and the "
            "agreement's [support] section)", column="objective", value=objective)],
            "optimisation request")
    start = time.perf_counter()
    built = build(st, objective)
    status = lp.solve(built.model, solver, time_limit)
    if status.status in ("infeasible", "unbounded") or (
            status.status == "not_solved" and "nfeasib" in status.termination):
        # feasibility does not depend on the objective: diagnose without its whole-number
        # bookkeeping (the LP objective's rows are always satisfiable)
        raise diagnose(lambda: build(st, "minimax_shortfall", elastic=True).model, solver,
                       f"No allocation of the pool meets every condition for {st.system.label}")
    if status.status == "time_limit" and not _has_solution(built):
        raise SolverError(f"The solver stopped at its time limit without an allocation "
                          f"({status.termination}).", status)
    if status.status not in ("optimal", "time_limit"):
        raise SolverError(f"The solver could not optimise ({status.termination}).", status)
    optimum = status_value(built.model)
    received, binding, candidates = _read(built, st, objective, status, duals=not obj.mip)
    prices = ()
    note = ""
    fix = _binary_values(built) if built.binaries else None
    if obj.mip:
        note = ("Shadow prices are not quoted for whole-number objectives: the value of "
                "relaxing a condition is not a smooth rate there.")
        # polish: with the whole-number choices fixed, the continuous part solved exactly
        polish = build(st, objective, fix_binaries=fix)
        polish_status = lp.solve(polish.model, solver, time_limit)
        if polish_status.ok:
            optimum = status_value(polish.model)
            received = received_of(polish)
    else:
        prices = _verified_prices(st, objective, candidates, to_pound(objective, optimum),
                                  solver)
    # tie-break: among allocations this good, the one that moves the least money
    if objective not in ("min_total_transfer",):
        tol = 1e-9 * max(1.0, abs(optimum)) if obj.unit != "members" else 0.5
        near = (">=" if obj.maximise else "<=", optimum - tol if obj.maximise else optimum + tol)
        tie = build(st, objective, near=near, fix_binaries=fix, least_movement=True)
        tie_status = lp.solve(tie.model, solver, time_limit)
        if tie_status.ok:
            received = received_of(tie)
            _, binding, _ = _read(tie, st, objective, tie_status, duals=False)
            binding = _merge_binding(binding, prices, built.model.rows)
    seconds = time.perf_counter() - start
    return finish(st, objective, received, status, binding, prices, seconds, solver, note,
                  model_value=to_pound(objective, optimum))


def _merge_binding(binding, prices, rows):
    """The tie-break's binding conditions plus any the optimum's shadow prices name."""
    names = {b.constraint for b in binding}
    return binding + tuple(Binding(p.constraint, p.family, p.member,
                                   conditions.condition(p.family, p.member,
                                                        rows[p.constraint].shown))
                           for p in prices if p.constraint not in names)


def _has_solution(built: Built) -> bool:
    return all(xi.value() is not None for xi in built.x)


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
    need = np.where(st.taper > 0, -1e-9, -engine.HALF_PENNY)
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


def optimise(system: System, agreement=None, objective: str = "minimax_shortfall",
             constraints=None, solver: str = "highs", time_limit: float | None = None
             ) -> Allocation:
    """Choose how the pool is distributed by linear or mixed-integer programming.

    system: a System; agreement: None (no risk share: members keep their own variance and the
    transfers sum to zero), an Agreement, a preset name, a path or TOML text; objective: a key
    of OBJECTIVES; constraints: a `Constraints` or a dict of its keys; solver: "highs" | "cbc".
    Returns an `Allocation`. Raises ValidationError for bad parameters (every problem named),
    InfeasibleError when no allocation meets every condition, SolverError when the solver
    fails."""
    problems = []
    if objective not in OBJECTIVES:
        problems.append(problem(f"unknown objective (valid: {', '.join(OBJECTIVES)})",
                                value=objective, column="objective"))
    if solver not in lp.SOLVERS:
        problems.append(problem(f"unknown solver (valid: {', '.join(lp.SOLVERS)})",
                                value=solver, column="solver"))
    raise_if_errors(problems, "optimisation request")
    st = setup(system, agreement, constraints)
    return solve_setup(st, objective, solver, time_limit)
