"""Building the optimisation models: decision variables (what each member receives, in £
thousands in the model), the objective's rows, the conditions (each an `lp.Row` with its family
and member) and the whole-number support tests of the MILP objectives."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from riskshare.core.lazy import lazy_module
from riskshare.optimisation.setup import Setup, basis_targets
from riskshare.optimisation.spec import OBJECTIVES
from riskshare.solver import lp

pulp = lazy_module("pulp")   # the solver library loads at the first model built


@dataclass
class Built:
    """A model and the handles later steps need."""

    model: lp.Model
    x: list
    objective: list                     # objective terms (var, coef)
    binaries: list = field(default_factory=list)
    support_terms: list = field(default_factory=list)   # per member: terms of support earned
    order: np.ndarray | None = None     # x[k] is member order[k] (models are in org_id order)


def _name(family: str, i: int | np.integer | None = None) -> str:
    return family if i is None else f"{family}_{i:05d}"


def needs_support(st: Setup, objective: str) -> bool:
    """Whether support earned must be modelled (binaries): it depends on the transfers and the
    objective or a constraint looks at final positions."""
    c = st.constraints
    uses_final = (objective == "max_support_earned" or c.no_worse_than_standalone
                  or not np.all(np.isnan(st.floor)))
    return uses_final and bool((st.support_var > 0).any() or depends_on_system(st)
                               or depends_on_rules(st))


def depends_on_rules(st: Setup) -> bool:
    """Whether a surplus reward or an incentive match depends on the transfers."""
    return (st.reward is not None and bool((st.reward > 0).any())) or st.incentive_rate > 0


def depends_on_system(st: Setup) -> bool:
    """Whether system-tied support depends on the transfers (members outside the SCT)."""
    return st.system_var is not None and bool((st.system_var > 0).any())


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
    assert st.ring_share is not None and st.ring_line is not None and st.ring_floor is not None
    for k in np.flatnonzero(~np.isnan(st.ring_share)):   # line + share × net transfer ≥ floor
        share = float(st.ring_share[k])                     # (in £ of the line)
        add([(x[k], share)], ">=",
            st.ring_floor[k] - st.ring_line[k] - share * (st.holder[k] - st.pooled[k]),
            "ring_fence", int(k), figure=st.ring_floor[k])
    inside = np.ones(n, dtype=bool) if st.inside is None else st.inside
    if c.system_meets_control_total:     # Σ inside the SCT (OCT + base + x) ≥ SCT
        add([(xi, 1.0) for xi, i in zip(x, inside, strict=True) if i], ">=",
            st.sct - float((st.oct + st.base)[inside].sum()), "system_ct")

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
        sense, limit = near
        model.add(terms, sense, limit, lp.Row("near_optimal", "near_optimal", None, sense,
                                                   limit, relaxable=False))
    if least_movement:
        w = np.ones(n) if movement_weights is None else movement_weights
        model.set_objective([(a, float(wi)) for (a, _), wi in
                             zip(_abs_terms(model, x, st.pooled - st.holder, "move"), w,
                                 strict=True)])
    else:
        model.set_objective(terms)
    return built


def _support_rows(st: Setup, built: Built, fix_binaries: dict | None) -> None:
    """Organisation-test support earned as a function of position: binary z_i = 'passes' (cliff
    edge) or 'within the taper' (f_i ∈ [0, 1] earned share, f_i ≤ 1 + position/width)."""
    model, x = built.model, built.x
    n = st.n
    who = st.labels()
    terms_per: list[list] = []      # per member: its (variable, coefficient) terms
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
    if depends_on_system(st):
        assert st.system_var is not None and st.inside is not None
        unit = _system_test(st, built, fix_binaries)
        for k in np.flatnonzero(st.system_var > 0).tolist():
            terms_per[k] = [*terms_per[k], (unit, float(st.system_var[k]))]
    if depends_on_rules(st):
        _rule_rows(st, built, fix_binaries, terms_per)
    built.support_terms = terms_per


def _rule_rows(st: Setup, built: Built, fix_binaries: dict | None, terms_per: list) -> None:
    """The surplus reward (binary r_i = 'ends at breakeven or better': OCT + base + x ≥ 0, as
    `engine.run` pays it) and the incentive match (binary w_i = 'above its control total'; then
    b_i ≤ rate × (base + x), else b_i = 0; 0 ≤ b_i ≤ cap: the most it can be is what the engine
    pays, min(rate × position⁺, cap))."""
    model, x = built.model, built.x
    who = st.labels()
    reward = np.zeros(st.n) if st.reward is None else st.reward
    for i in np.flatnonzero(reward > 0).tolist():
        r = model.var(f"r_{i:05d}", 0, 1, integer=True)
        if fix_binaries is not None:
            r.lowBound = r.upBound = fix_binaries[r.name]
        built.binaries.append(r)
        m_i = st.big + abs(st.base[i]) + abs(st.oct[i]) + 1.0
        # OCT + base + x ≥ −M (1 − r):  x − M r ≥ −M − base − OCT
        model.add([(x[i], 1.0), (r, -m_i)], ">=", -m_i - st.base[i] - st.oct[i],
                  lp.Row(_name("reward_test", i), "support_test", who[i], ">=", 0.0, False))
        terms_per[i] = [*terms_per[i], (r, float(reward[i]))]
    if st.incentive_rate <= 0:
        return
    cap = np.full(st.n, np.inf) if st.incentive_cap is None else st.incentive_cap
    for i in range(st.n):
        # w = 'ends above its control total' (base + x ≥ 0); b ≤ rate (base + x) when it does,
        # b = 0 when it does not, b ≤ cap: so b is at most min(rate × position⁺, cap)
        m_i = st.incentive_rate * (st.big + abs(st.base[i])) + 1.0
        w = model.var(f"w_{i:05d}", 0, 1, integer=True)
        if fix_binaries is not None:
            w.lowBound = w.upBound = fix_binaries[w.name]
        built.binaries.append(w)
        b = model.var(f"b_{i:05d}", 0, None if not np.isfinite(cap[i]) else float(cap[i]))
        # base + x ≥ −M (1 − w):  x − M w ≥ −M − base
        model.add([(x[i], 1.0), (w, -m_i)], ">=", -m_i - st.base[i],
                  lp.Row(_name("incentive_on", i), "support_test", who[i], ">=", 0.0, False))
        # b ≤ rate (base + x) + M (1 − w)  →  b − rate x + M w ≤ rate base + M
        model.add([(b, 1.0), (x[i], -st.incentive_rate), (w, m_i)], "<=",
                  st.incentive_rate * st.base[i] + m_i,
                  lp.Row(_name("incentive", i), "support_test", who[i], "<=", 0.0, False))
        # b ≤ M w
        model.add([(b, 1.0), (w, -m_i)], "<=", 0.0,
                  lp.Row(_name("incentive_off", i), "support_test", who[i], "<=", 0.0, False))
        terms_per[i] = [*terms_per[i], (b, 1.0)]


def _system_test(st: Setup, built: Built, fix_binaries: dict | None):
    """The system test when members outside the SCT make it depend on the transfers: binary
    y = 'the system passes' (cliff edge) or g ∈ [0, 1] its earned share within the taper, on
    the system's position Σ inside (base + x) + Σ inside OCT − SCT (`system_base` + Σ inside
    x). Returns the variable whose value is the share of system-tied support earned."""
    model, x = built.model, built.x
    assert st.inside is not None
    inside_x = [(x[i], 1.0) for i in np.flatnonzero(st.inside)]
    y = model.var("system_passes", 0, 1, integer=True)
    if fix_binaries is not None:
        y.lowBound = y.upBound = fix_binaries[y.name]
    built.binaries.append(y)
    width = st.system_taper
    m = st.big * st.n + abs(st.system_base) + width + 1.0
    # position + width ≥ −M (1 − y):  Σ x − M y ≥ −M − system_base − width
    model.add([*inside_x, (y, -m)], ">=", -m - st.system_base - width,
              lp.Row("system_support_test", "support_test", None, ">=", 0.0, relaxable=False))
    if width <= 0:
        return y
    g = model.var("system_earned", 0, 1)
    model.add([(g, 1.0), (y, -1.0)], "<=", 0.0,
              lp.Row("system_taper_on", "taper", None, "<=", 0.0, False))
    k = m / width + 1.0
    # g ≤ 1 + position/width + k (1 − y)
    model.add([(g, width), *[(v, -1.0) for v, _ in inside_x], (y, k * width)], "<=",
              width + st.system_base + k * width,
              lp.Row("system_taper", "taper", None, "<=", 0.0, False))
    return g


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
    assert st.support is not None       # setup() always gives it
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


def _on_target(st: Setup, built: Built, i: int | np.integer, var: str, row: str, fix_binaries,
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


def to_pound(objective: str, value: float) -> float:
    """An objective value from the model's units back to the user's (£ objectives: £ thousands
    to £); the inverse of `to_model`."""
    return value * lp.MONEY if OBJECTIVES[objective].unit == "gbp" else value


def status_value(model: lp.Model) -> float:
    """The objective value of a solved model, in the model's units (£ thousands for £
    objectives; 0.0 when the solver gave none)."""
    return float(pulp.value(model.prob.objective) or 0.0)


def _binary_values(built: Built) -> dict:
    return {z.name: int(round(z.value() or 0.0)) for z in built.binaries}


def _has_solution(built: Built) -> bool:
    return all(xi.value() is not None for xi in built.x)
