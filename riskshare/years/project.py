"""`rs.project(system, rules, years=N)`: the years ahead, member by member, from the underlying
position (docs/years.md).

Each member starts from its underlying (recurrent) position (`rs.underlying`: the forecast less
its one-offs). Income starts at its turnover and cost at turnover − underlying, so position =
income − cost. Each projected year t = 1 … N (1 = next year), in £ (+ surplus, − deficit):

    opening          last year's recurrent position (year 1: the underlying position)
    <nr_ line>       what a one-off line still pays this year: its share (rules `lines`) of
                     this year's amount; lines not named are gone (non-recurrent)
    repayment        − this year's part of a prior deficit repaid (rules `repay`)
    savings          + recurrent savings: % of last year's cost, or £
    growth           + income growth: % of last year's income
    cost_pressure    − cost growth: % of last year's cost
    recurrent_risks  − (year 1) the expected net of the risk register's recurrent items
    planned          opening + every column above: the planned position
    recurrent_position  planned less the one-off lines and the repayment: next year's opening

Every effect is rounded to the penny, so the bridge adds up exactly. The control total is the
rules' for the year, or this year's held; the SYSTEM row adds up the members inside the SCT and
its control total is the rules' SCT for the year, or this year's SCT moved by the members'
control-total changes (so the gap is held).

With an agreement, it is applied year by year to the planned positions (variance = planned −
the control total as carried), and its `[carry]` section carries each member's position into
later control totals (`carry_in`, + raised: a repayment due; − eased: a surplus banked;
`carried` and `written_off` in the sign of the position). Across scenarios (`scenarios=`), the
drawn shocks and the register's recurrent items persist into every later year (a shock drawn in
year t stays in t + 1 …), each later year draws fresh shocks on top, and the register's
non-recurrent items (this year's) do not reach the years ahead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskshare.agreements import engine
from riskshare.agreements.spec import Agreement, Carry, load_agreement
from riskshare.core.constants import HALF_PENNY
from riskshare.core.errors import (
    ArgumentTypeError,
    BudgetError,
    UsageError,
    problem,
    raise_if_errors,
)
from riskshare.core.format import money_m, named
from riskshare.core.register import Register
from riskshare.core.schema import nr_lines
from riskshare.core.system import System, require_system
from riskshare.years.capital import capital_table
from riskshare.years.rules import (
    MAX_YEARS,
    SUPPORT_LINE,
    Rules,
    at,
    capital_words,
    financial_year,
    load_rules,
)
from riskshare.years.underlying import SYSTEM_ROW, underlying

#: The bridge's effect columns after the one-off lines, in the order a bridge chart reads them.
EFFECTS = ("repayment", "savings", "growth", "cost_pressure", "recurrent_risks")
#: The effects that recur (carried into next year's opening); the one-off lines and the
#: repayment count in their own year only.
RECURRING = ("savings", "growth", "cost_pressure", "recurrent_risks")
#: How each bridge column reads (a one-off line reads as its own name: `step_words`).
STEP_WORDS = {"opening": "opening (underlying / last year's recurrent position)",
              "non_recurrent": "one-offs still paid", "repayment": "repayment of a prior deficit",
              "savings": "recurrent savings", "growth": "income growth",
              "cost_pressure": "cost pressure", "recurrent_risks": "recurrent risks (expected)",
              "planned": "planned position"}


def step_words(step: str) -> str:
    """A bridge column in words ('nr_support' → 'support (one-off line)')."""
    if step.startswith("nr_"):
        return f"{step[3:].replace('_', ' ')} (one-off line)"
    return STEP_WORDS.get(step, step)


#: The agreement's columns in a projection's table (money in £; see the module docstring).
AGREEMENT_COLUMNS = ("carry_in", "control_total_carried", "variance", "pooled", "received",
                     "net_transfer", "outturn", "support_earned", "final", "standalone",
                     "vs_standalone", "carried", "rolled", "written_off")


@dataclass(frozen=True, eq=False)
class Projection:
    """A projection (see the module docstring).

    table:         by (year, org_id), the members and a SYSTEM row per year: year_label, name,
                   in_sct, the bridge (`bridge_columns`), recurrent_position, control_total,
                   planned_vs_control_total, and with an agreement `AGREEMENT_COLUMNS` and
                   unallocated (the SYSTEM row: what caps left with nobody; 0 for members)
    bridge_columns: opening, the one-off lines that continue, `EFFECTS`, planned
    capital:       with a `[capital]` rule, by (year, SYSTEM or org_id): plan, envelope,
                   fair_share, penalty, bonus, capital (£)
    participation: with an agreement, per member: the discounted sum over the years of its
                   final position in the agreement and alone, the difference, and whether it
                   would be better off outside (`discount_rate` % a year, year t discounted by
                   (1 + r)^t)
    carry:         with a carry, per member: carried (Σ over the years), written_off, applied
                   (Σ carry_in within the horizon), beyond (falling after it); carried =
                   −(applied + beyond) to the penny
    risk:          across scenarios, by (year, org_id and SYSTEM): mean and standard deviation
                   of the position, P(short of the control total as carried), with an agreement
                   the mean final and P(worse off than alone that year)
    horizon_risk:  across scenarios, with an agreement, per member: the mean and 5th percentile
                   of the discounted Σ (final − alone), and P(worse off over the horizon)
    """

    system: System
    rules: Rules
    years: int
    labels: tuple[str, ...]
    table: pd.DataFrame
    bridge_columns: tuple[str, ...]
    agreement: Agreement | None = None
    capital: pd.DataFrame | None = None
    participation: pd.DataFrame | None = None
    carry: pd.DataFrame | None = None
    risk: pd.DataFrame | None = None
    horizon_risk: pd.DataFrame | None = None
    n_scenarios: int = 0
    #: the risk register's recurrent items counted (0: no register, or none recurrent)
    register_items: int = 0

    def of(self, who: str = SYSTEM_ROW) -> pd.DataFrame:
        """One member's rows (or the SYSTEM's), by year."""
        return self.table.xs(who, level="org_id")

    def capital_words(self) -> str:
        """The capital rule in words, an assumed parameter marked so ("" without one)."""
        return "" if self.rules.capital is None else capital_words(self.rules.capital)

    @property
    def carried(self) -> bool:
        """True when the agreement carries positions into later control totals."""
        return self.agreement is not None and self.agreement.carry is not None

    def target(self, who: str = SYSTEM_ROW) -> str:
        """What a plan is judged against, in words: 'SCT' or 'control total', 'as carried'
        when the agreement carries positions forward."""
        return (("SCT" if who == SYSTEM_ROW else "control total")
                + (" as carried" if self.carried else ""))

    def bridge_table(self, who: str = SYSTEM_ROW) -> pd.DataFrame:
        """The bridge of `who` (a member or the SYSTEM) as a table, a column per year (£):
        a row per step that is not zero in every year (the opening and the plan always, each
        in words: `step_words`), then the control total it is judged against, the plan
        against it, and the support at stake when there is any (not in the plan)."""
        rows = self.of(who)
        years = [str(y) for y in rows["year_label"]]
        steps = [c for c in self.bridge_columns if c in ("opening", "planned")
                 or (rows[c].abs() >= HALF_PENNY).any()]
        target = self.target(who)
        column = "control_total_carried" if self.agreement is not None else "control_total"
        lines = [(step_words(c), rows[c]) for c in steps]
        lines += [(target, rows[column]), (f"planned − {target}",
                                           rows["planned_vs_control_total"])]
        if (rows["support"].abs() >= HALF_PENNY).any():
            lines.append(("support at stake (not in the plan)", rows["support"]))
        out = pd.DataFrame([[w, *map(float, values)] for w, values in lines],
                           columns=["step", *years])
        return out

    def bridge(self, who: str = SYSTEM_ROW) -> pd.DataFrame:
        """The bridge from the underlying position to each year's plan, long form: year,
        year_label, step (a bridge column), amount (£); the opening and planned rows are
        levels, the steps between them changes."""
        rows = self.of(who)
        out = []
        for year, row in rows.iterrows():
            for step in self.bridge_columns:
                out.append({"year": year, "year_label": row["year_label"], "step": step,
                            "amount": float(row[step])})
        return pd.DataFrame(out)

    def better_off_outside(self) -> list[str]:
        """Members whose discounted total is higher alone than in the agreement."""
        if self.participation is None:
            return []
        p = self.participation
        return [str(m) for m in p.index[p["better_off_outside"]]]

    def sentences(self) -> list[str]:
        """The projection in sentences for a board paper, each figure naming its reference."""
        s = self.of(SYSTEM_ROW)
        where = "the system inside the SCT" if self.system.outside_members else "the system"
        first, last = s.iloc[0], s.iloc[-1]
        target = self.target()
        out = [f"From an underlying position of {money_m(first['opening'])}, {where} plans "
               f"{money_m(first['planned'])} in {first['year_label']} "
               f"({_against(first['planned_vs_control_total'], target)})" +
               ("." if self.years == 1 else
                f" and {money_m(last['planned'])} in {last['year_label']} "
                f"({_against(last['planned_vs_control_total'], target)}).")]
        # the steps that recur add up over the years; the one-off lines and the repayment
        # count in their own year only: so the underlying position plus the first and the last
        # year's one-offs make the last year's plan
        steps = self.bridge_columns[1:-1]
        recurring = [(c, float(s[c].sum())) for c in steps if c in RECURRING]
        recurring = [(c, v) for c, v in recurring if abs(v) >= HALF_PENNY]
        once = [(c, float(last[c])) for c in steps if c not in RECURRING]
        once = [(c, v) for c, v in once if abs(v) >= HALF_PENNY]
        label = last["year_label"]
        if recurring or once:
            parts = named([f"{step_words(c)} {money_m(v, sign=True)}" for c, v in recurring])
            over = f" over the {self.years} years" if self.years > 1 and recurring else ""
            tail = (f"for {label} only, " + named([f"{step_words(c)} {money_m(v, sign=True)}"
                                                   for c, v in once])
                    if once else f"no one-offs or repayment left in {label}")
            out.append(f"From the underlying position to the {label} plan: "
                       + (f"{parts}{over}, and {tail}." if recurring else f"{tail}."))
        if self.capital is not None and SYSTEM_ROW in self.capital.index.get_level_values(1):
            c = self.capital.xs(SYSTEM_ROW, level="org_id")
            out.append("Capital: " + named([f"{money_m(r['capital'])} in {r['year_label']}"
                                            for _, r in c.iterrows()]) +
                       f" against an envelope of {money_m(c['envelope'].iloc[0])}.")
        if self.carry is not None:
            c = self.carry.sum()
            if abs(float(c["carried"])) >= HALF_PENNY or abs(float(c["written_off"])) >= HALF_PENNY:
                out.append(
                    f"Carried into later control totals over the {self.years} years: "
                    f"{money_m(c['new'], sign=True)} of the members' own positions and "
                    f"{money_m(c['rolled'], sign=True)} of earlier carries not met, rolled "
                    f"forward (− a shortfall to repay, + a surplus banked); "
                    f"{money_m(c['written_off'], sign=True)} written off to the pool; "
                    f"{money_m(-c['beyond'], sign=True)} of it falls after the last year.")
        outside = self.better_off_outside()
        if self.participation is not None:
            out.append("Over the horizon, discounted at "
                       f"{self.rules.discount_rate:g}% a year, " +
                       ("every member is at least as well off in the agreement as alone."
                        if not outside else named(outside) +
                        " would be better off outside the agreement."))
        return out


def _against(gap: float, what: str) -> str:
    gap = float(gap)
    if abs(gap) < HALF_PENNY:
        return f"meeting the {what} exactly"
    return f"{money_m(abs(gap))} {'better than' if gap > 0 else 'short of'} the {what}"


# -- labels ------------------------------------------------------------------------------------------
def year_labels(system: System, rules: Rules, years: int) -> tuple[str, ...]:
    """'2026/27', '2027/28', … after the system's year (or from the rules' first_year);
    'Year +1', … when neither reads as a financial year."""
    for text, step in ((rules.first_year, 0), (str(system.year), 1)):
        first = financial_year(text)
        if first is not None:
            start = first + step
            return tuple(f"{start + t}/{(start + t + 1) % 100:02d}" for t in range(years))
    return tuple(f"Year +{t + 1}" for t in range(years))


# -- the plan ----------------------------------------------------------------------------------------
def _split(amount: np.ndarray, parts: int, exact: bool = True) -> np.ndarray:
    """`amount` (£, any shape) in `parts` equal parts to the penny, the last taking what
    rounding leaves: (parts, *shape), adding up to the amount exactly (`exact`; else equal
    parts, unrounded)."""
    amount = np.asarray(amount, dtype=float)
    if not exact:
        return np.broadcast_to(amount / parts, (parts, *amount.shape))
    each = np.round(amount / parts, 2)
    out = np.repeat(each[None, ...], parts, axis=0)
    out[-1] = np.round(amount - each * (parts - 1), 2)
    return out


def _plan(system: System, rules: Rules, years: int, register: Register | None):
    """The bridge, year by year: a dict of (years, n) arrays (£, whole pennies)."""
    orgs = system.orgs
    members = system.members
    n = len(members)
    u = underlying(system).table.loc[members]
    lines = tuple(nr_lines(orgs.columns)) or ("non_recurrent",)
    amounts = {line: orgs[line].to_numpy(dtype=float) for line in lines}
    each = [rules.for_member(m) for m in members]
    income = orgs["turnover"].to_numpy(dtype=float).copy()
    position = u["underlying"].to_numpy(dtype=float).copy()
    cost = income - position
    _cost_base(members, income, position, each)
    forecast = orgs["forecast"].to_numpy(dtype=float)
    repay = np.zeros((years, n))
    for i, r in enumerate(each):
        if r.repay is not None:
            amount = max(-forecast[i], 0.0) if r.repay.amount == "deficit" else r.repay.amount
            parts = _split(np.asarray(round(float(amount), 2)), r.repay.over)
            for t in range(min(years, r.repay.over)):
                repay[t, i] = -parts[t]
    risks = np.zeros(n)
    if register is not None:
        risk, mitigation = register.expected(members, recurrent_only=True)
        use = np.array([r.register for r in each])
        risks = np.where(use, -np.round(risk - mitigation, 2), 0.0)
    out: dict[str, np.ndarray] = {k: np.zeros((years, n)) for k in
                                  ("opening", *lines, *EFFECTS, "planned", "recurrent_position",
                                   "control_total", "support")}
    support0 = orgs["support"].to_numpy(dtype=float)
    ct0 = orgs["control_total"].to_numpy(dtype=float)
    for t in range(years):
        year = t + 1

        def rate(key: str, year: int = year) -> np.ndarray:
            return np.array([at(getattr(r, key), year) for r in each]) / 100.0

        growth = np.round(income * rate("growth"), 2)
        pressure = np.round(-cost * rate("cost_pressure"), 2) + 0.0
        by_amount = np.array([r.savings_amount is not None for r in each])
        amount = np.array([at(r.savings_amount, year) if r.savings_amount is not None else 0.0
                           for r in each])
        savings = np.round(np.where(by_amount, amount, cost * rate("savings")), 2)
        risk_now = risks if t == 0 else np.zeros(n)
        out["opening"][t] = position
        out["growth"][t], out["cost_pressure"][t] = growth, pressure
        out["savings"][t], out["recurrent_risks"][t] = savings, risk_now
        out["repayment"][t] = repay[t]
        one_offs = np.zeros(n)
        for line in lines:
            share = np.array([r.line(line).share(year) for r in each])
            paid = np.round(amounts[line] * share, 2)
            out[line][t] = paid
            one_offs += paid
        position = np.round(position + growth + pressure + savings + risk_now, 2)
        income = income + growth
        cost = cost - pressure - savings - risk_now
        out["recurrent_position"][t] = position + 0.0
        out["planned"][t] = np.round(position + one_offs + repay[t], 2)
        out["support"][t] = np.round(
            support0 * np.array([r.line(SUPPORT_LINE).share(year) for r in each]), 2) + 0.0
        out["control_total"][t] = [at(r.control_total, year) if r.control_total is not None
                                   else ct0[i] for i, r in enumerate(each)]
    shown = tuple(line for line in lines if np.any(np.abs(out[line]) >= HALF_PENNY)
                  or np.any(amounts[line] >= HALF_PENNY))
    return out, lines, shown


def _cost_base(members, income: np.ndarray, position: np.ndarray, each) -> None:
    """ValidationError, naming each member, when savings or cost pressure are a % of a cost
    base (turnover − underlying position) that is not above 0: a surplus as large as the
    turnover is a turnover given in the wrong unit, and a rate of it would flip its sign."""
    problems = []
    for k, (m, r) in enumerate(zip(members, each, strict=True)):
        rated = (r.savings_amount is None and any(v != 0 for v in r.savings)) or any(
            v != 0 for v in r.cost_pressure)
        if rated and income[k] - position[k] <= HALF_PENNY:
            problems.append(problem(
                f"its cost base (turnover {money_m(income[k])} − underlying position "
                f"{money_m(position[k])}) is not above £0, so savings and cost pressure as a % "
                "of cost cannot apply: is its turnover in £? (or give savings_amount in £ and "
                "no cost_pressure)", member=m, column="turnover"))
    raise_if_errors(problems, "the years ahead")


def _sct(system: System, rules: Rules, control_totals: np.ndarray) -> np.ndarray:
    """The SCT each year (years,): the rules' or this year's moved with the members'."""
    years = len(control_totals)
    inside = system.inside
    ct0 = system.orgs["control_total"].to_numpy(dtype=float)
    moved = system.control_total + ((control_totals - ct0) * inside).sum(axis=1)
    if rules.system_control_total is not None:
        return np.array([at(rules.system_control_total, t + 1) for t in range(years)])
    return np.round(moved, 2)


# -- the agreement over the years -------------------------------------------------------------------
def _year_system(system: System, control_totals: np.ndarray, sct: float,
                 planned: np.ndarray, support: np.ndarray) -> System:
    """The system as planned for one year (control totals, plan as the forecast, support at
    stake); the one-off columns are this year's and are left out."""
    orgs = system.orgs.copy()
    orgs["control_total"] = control_totals
    orgs["forecast"] = planned
    orgs["support"] = support
    if "non_recurrent" in orgs.columns:
        orgs = orgs.drop(columns=[c for c in orgs.columns
                                  if c == "non_recurrent" or c.startswith("nr_")])
    return System.from_frame(orgs, float(sct), system.name, system.year)


def _caps(carry: Carry, scale: np.ndarray) -> np.ndarray:
    cap = np.full(scale.shape, np.inf)
    if carry.max_carry is not None:
        cap = np.minimum(cap, carry.max_carry / 100.0 * scale)
    if carry.max_carry_amount is not None:
        cap = np.minimum(cap, carry.max_carry_amount)
    return cap


def carry_amounts(carry: Carry, position: np.ndarray, cap: np.ndarray, exact: bool = True
                  ) -> tuple[np.ndarray, np.ndarray]:
    """What of a position (£, against the control total as carried; any shape) is carried
    forward and what is written off, both in the position's sign: a shortfall is carried
    when `adverse` is "repay", a surplus when `favourable` is "bank", each up to `cap` (£);
    carried + written_off = the position where it is carried from, else both are 0. `exact`:
    in whole pennies (the plan); across scenarios the figures are left unrounded (they are
    only summarised)."""
    if exact:
        position = np.round(position, 2)
    on = np.where(position < 0, carry.adverse == "repay", carry.favourable == "bank")
    on &= np.abs(position) >= HALF_PENNY
    size = np.minimum(np.abs(position), cap)
    if exact:
        size = np.round(size, 2)
    carried = np.where(on, np.copysign(size, position), 0.0)
    written = np.where(on, position - carried, 0.0)
    if exact:
        written = np.round(written, 2)
    return carried + 0.0, written + 0.0


@dataclass
class _Years:
    """The agreement over the years for S scenarios: each year's engine result as money."""

    columns: dict[str, list[np.ndarray]]
    unallocated: list[np.ndarray]
    beyond: np.ndarray


def _agreement_over_years(agreement: Agreement, systems: list[System], positions,
                          keep: tuple[str, ...] = AGREEMENT_COLUMNS,
                          on_year=None, exact: bool = True) -> _Years:
    """Apply `agreement` year by year: `positions(t)` gives year t's positions (S, n) £. The
    carry moves later control totals (as a shift of the variance, so the engine runs on the
    year's own control totals); `on_year(t, arrays)` sees each year's arrays as they come
    (scenarios keep summaries, not the arrays). `exact`: carried amounts in whole pennies."""
    carry = agreement.carry
    years = len(systems)
    cols: dict[str, list[np.ndarray]] = {c: [] for c in keep}
    unallocated: list[np.ndarray] = []
    pending: list[np.ndarray] = []          # carry_in of the years to come
    beyond = None
    shape: tuple[int, ...] = (1, systems[0].n)
    for t, year_system in enumerate(systems):
        position = positions(t)
        shape = position.shape
        ct = year_system.orgs["control_total"].to_numpy(dtype=float)
        carry_in = pending.pop(0) if pending else None
        v = position - ct if carry_in is None else position - ct - carry_in
        # alone there is no carry: the member's own variance against its own control total
        r = engine.run(agreement, year_system, v,
                       alone=None if carry_in is None else position - ct)
        if carry_in is None:
            carry_in = np.zeros((1, shape[1]))
        final = r.final + carry_in
        arrays = {"carry_in": carry_in, "control_total_carried": ct + carry_in, "variance": v,
                  "final": final, "standalone": r.standalone}
        if keep:
            arrays.update(pooled=r.pooled, received=r.received, net_transfer=r.net_transfer,
                          outturn=r.outturn + carry_in, support_earned=r.support_earned,
                          vs_standalone=final - r.standalone)
        if carry is not None:
            x = (r.retained + r.received) if carry.after_sharing else v
            scale = year_system.column(agreement.scale).to_numpy(dtype=float)
            carried, written = carry_amounts(carry, x, _caps(carry, scale), exact)
            parts = _split(-carried, carry.years, exact)     # the target's rise, year by year
            for j in range(carry.years):
                if t + 1 + j < years:
                    while len(pending) <= j:
                        pending.append(np.zeros(shape))
                    pending[j] = pending[j] + parts[j]
                else:
                    beyond = parts[j] if beyond is None else beyond + parts[j]
        else:
            carried = written = np.zeros((1, shape[1]))
        arrays["carried"], arrays["written_off"] = carried, written
        if "rolled" in keep:
            arrays["rolled"] = _rolled(carried, carry_in)
        for c in keep:
            cols[c].append(np.broadcast_to(arrays[c], shape))
        unallocated.append(r.unallocated)
        if on_year is not None:
            on_year(t, arrays, r)
    return _Years(cols, unallocated, np.zeros(shape) if beyond is None else beyond)


# -- the projection ----------------------------------------------------------------------------------
def project(system: System, rules=None, years: int | None = None, agreement=None,
            register: Register | None = None, scenarios=None) -> Projection:
    """Roll `system` forward from its underlying position (see the module docstring).

    Parameters
    ----------
    system : System
        The members this year: forecast, `non_recurrent` and its nr_ lines, turnover (£).
    rules : Rules, str or pathlib.Path, optional
        Projection rules (`load_rules`: a bundled name, a .toml path or TOML text); None: no
        rules (each member's underlying position held, one-offs gone).
    years : int, optional
        The horizon, 1–10 years (default: the rules' `years`, else 3).
    agreement : Agreement, str or pathlib.Path, optional
        Applied year by year to the planned positions, its `[carry]` section carrying each
        member's position into later control totals.
    register : Register, optional
        The risk register: its recurrent items' expected net enters year 1 and persists
        (scenarios draw them as events that persist).
    scenarios : Scenarios, optional
        `rs.simulate(system, n, …)`: year 1 draws these shocks; each later year draws fresh
        shocks by the same recipe, and every shock persists.

    Returns
    -------
    Projection
        `.table` by (year, org_id) with the SYSTEM row, `.bridge(who)`, `.capital`,
        `.participation`, `.carry`, `.risk`, `.horizon_risk` and `.sentences()`.

    Raises
    ------
    ValidationError
        When the rules or agreement have problems, or `years` is not 1–10.
    ArgumentTypeError
        When `system`, `register` or `scenarios` is of the wrong type.
    """
    require_system(system, "project")
    rules = Rules() if rules is None else load_rules(rules, system)
    raise_if_errors(rules.check(system), f"rules '{rules.name}' on {system.label}")
    horizon = rules.years if years is None else years
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) \
            or not 1 <= horizon <= MAX_YEARS:
        raise_if_errors([problem(f"must be a whole number of years from 1 to {MAX_YEARS}",
                                 key="years", value=horizon)], "project")
    horizon = int(horizon)
    if register is not None and not isinstance(register, Register):
        raise ArgumentTypeError("register must be a Register (rs.load_register), not "
                                f"{type(register).__name__}")
    if register is not None:
        strangers = sorted(set(register.table["org_id"]) - set(system.members))
        if strangers:
            raise UsageError(f"register: it names {named(strangers)}, not members of this "
                             "system: load it against this system")
    if agreement is not None:
        agreement = load_agreement(agreement, system)
        raise_if_errors(agreement.check(system),
                        f"agreement '{agreement.name}' on {system.label}")

    plan, lines, shown = _plan(system, rules, horizon, register)
    labels = year_labels(system, rules, horizon)
    sct = _sct(system, rules, plan["control_total"])
    bridge = ("opening", *shown, *EFFECTS, "planned")
    members = system.members
    inside = system.inside
    frames = []
    for t in range(horizon):
        f = pd.DataFrame({"year_label": labels[t], "name": system.orgs["name"],
                          "in_sct": inside,
                          **{c: plan[c][t] for c in (*bridge, "recurrent_position", "control_total",
                                                     "support")}},
                         index=members)
        frames.append(f)
    systems = [_year_system(system, plan["control_total"][t], sct[t], plan["planned"][t],
                            plan["support"][t]) for t in range(horizon)]
    years_result = None
    if agreement is not None:
        years_result = _agreement_over_years(agreement, systems,
                                             lambda t: plan["planned"][t][None, :])
        for t, f in enumerate(frames):
            for c in AGREEMENT_COLUMNS:
                f[c] = np.round(years_result.columns[c][t][0], 2) + 0.0
            f["unallocated"] = 0.0
    table = _with_system(frames, labels, sct, inside, agreement is not None,
                         None if years_result is None else
                         [float(u[0]) for u in years_result.unallocated])
    capital = (capital_table(rules.capital, table, system) if rules.capital is not None
               else None)
    participation = carry = None
    if years_result is not None:
        participation = _participation(system, rules, years_result)
        if agreement.carry is not None:
            carry = _carry_table(system, years_result)
    risk = horizon_risk = None
    n = 0
    if scenarios is not None:
        risk, horizon_risk, n = _across_scenarios(system, rules, plan, systems, sct, labels,
                                                  agreement, register, scenarios)
    items = 0 if register is None else int(register.table["recurrent"].sum())
    return Projection(system, rules, horizon, labels, table, bridge, agreement, capital,
                      participation, carry, risk, horizon_risk, n, items)


def _with_system(frames: list[pd.DataFrame], labels, sct, inside, with_agreement: bool,
                 unallocated: list[float] | None = None) -> pd.DataFrame:
    """The members' rows and each year's SYSTEM row (the members inside the SCT added up,
    against the SCT); with an agreement the SYSTEM row's `unallocated` is what caps left with
    nobody that year (0 on the members' rows)."""
    rows = []
    for t, f in enumerate(frames):
        total: dict[str, object] = {c: round(float(f.loc[inside, c].sum()), 2)
                                    for c in f.columns if c not in ("year_label", "name",
                                                                    "in_sct")}
        total.update(year_label=labels[t], name="System (inside the SCT)", in_sct=True,
                     control_total=float(sct[t]))
        if unallocated is not None:
            total["unallocated"] = round(unallocated[t], 2) + 0.0
        if with_agreement:
            total["control_total_carried"] = round(float(sct[t]) + float(f.loc[inside, "carry_in"].sum()), 2)
        g = pd.concat([f, pd.DataFrame([total], index=[SYSTEM_ROW])])
        target = "control_total_carried" if with_agreement else "control_total"
        g["planned_vs_control_total"] = (g["planned"] - g[target]).round(2) + 0.0
        g.index.name = "org_id"
        g.insert(0, "year", t + 1)
        rows.append(g.reset_index())
    table = pd.concat(rows, ignore_index=True).set_index(["year", "org_id"])
    table["in_sct"] = table["in_sct"].astype(bool)
    return table


def _discounts(rules: Rules, years: int) -> np.ndarray:
    return 1.0 / (1.0 + rules.discount_rate / 100.0) ** np.arange(1, years + 1)


def _participation(system: System, rules: Rules, result: _Years) -> pd.DataFrame:
    d = _discounts(rules, len(result.columns["final"]))
    final = sum(d[t] * result.columns["final"][t][0] for t in range(len(d)))
    alone = sum(d[t] * result.columns["standalone"][t][0] for t in range(len(d)))
    out = pd.DataFrame({"name": system.orgs["name"],
                        "discounted_final": np.round(final, 2),
                        "discounted_standalone": np.round(alone, 2)}, index=system.members)
    out["vs_standalone"] = (out["discounted_final"] - out["discounted_standalone"]).round(2)
    out["better_off_outside"] = out["vs_standalone"] <= -HALF_PENNY
    out.index.name = "org_id"
    return out


def _rolled(carried: np.ndarray, carry_in: np.ndarray) -> np.ndarray:
    """The part of what a year carries forward that is an earlier year's carry not met this
    year (in the position's sign): a shortfall carried while the control total was raised, up
    to the raise; a surplus banked while it was eased, up to the easing."""
    unmet = np.where(carried < 0, np.minimum(-carried, np.maximum(carry_in, 0.0)),
                     np.minimum(carried, np.maximum(-carry_in, 0.0)))
    return np.round(np.copysign(unmet, carried), 2) + 0.0


def _carry_table(system: System, result: _Years) -> pd.DataFrame:
    """Per member over the horizon: carried (Σ, of which `rolled` forward from earlier years'
    carries not met), written off, applied within the horizon and beyond it."""
    rolled = np.sum(result.columns["rolled"], axis=0)[0]
    carried = np.sum(result.columns["carried"], axis=0)[0]
    written = np.sum(result.columns["written_off"], axis=0)[0]
    applied = np.sum(result.columns["carry_in"], axis=0)[0]
    out = pd.DataFrame({"carried": np.round(carried, 2), "new": np.round(carried - rolled, 2),
                        "rolled": np.round(rolled, 2),
                        "written_off": np.round(written, 2),
                        "applied": np.round(applied, 2),
                        "beyond": np.round(result.beyond[0], 2)}, index=system.members)
    out.index.name = "org_id"
    return out + 0.0


# -- across scenarios --------------------------------------------------------------------------------
def _recurrent_events(scenarios, system: System) -> np.ndarray | None:
    """The register's recurrent items' part of each scenario (S, n) £, from the events drawn
    (the recurrent items as events of their own, `scenarios.events.register_events`, matched
    to the events drawn by label: a group keeps only its recurrent items' effect)."""
    from riskshare.scenarios.events import register_events

    reg = getattr(scenarios, "register", None)
    happens = getattr(scenarios, "happens", None)
    events = getattr(scenarios, "event_set", None)
    if reg is None or happens is None or events is None:
        return None
    recurrent = register_events(Register(reg.table[reg.table["recurrent"]]), system)
    where = {label: k for k, label in enumerate(events.labels)}
    rows = [where[label] for label in recurrent.labels]
    return happens[rows].T.astype(float) @ recurrent.effect


def _fresh_draws(system: System, scenarios, year: int) -> np.ndarray:
    """Shocks for projected year `year` ≥ 2 by the scenarios' recipe (volatility alone)."""
    from riskshare.scenarios.simulate import simulate

    if getattr(scenarios, "register_mode", "") == "instead":
        return np.zeros_like(scenarios.draws)
    orgs = system.orgs.copy()
    orgs["volatility"] = scenarios.volatility
    drawn = System.from_frame(orgs, system.control_total, system.name, system.year)
    seed = None if scenarios.seed is None else (int(scenarios.seed) + 7919 * year) % 2**32
    return simulate(drawn, scenarios.n, seed=seed, correlation=scenarios.correlation,
                    distribution=scenarios.distribution, df=scenarios.df or 5.0,
                    kind_correlation=scenarios.kind_correlation).draws


#: Threads the scenarios' blocks run on (each block runs the years on its own rows).
THREADS = max(1, min(4, os.cpu_count() or 1))
#: Cells (scenarios × members) in one block of scenarios.
CHUNK_CELLS = 400_000


def _across_scenarios(system, rules, plan, systems, sct, labels, agreement, register,
                      scenarios):
    from riskshare.scenarios.simulate import Scenarios

    if not isinstance(scenarios, Scenarios):
        raise ArgumentTypeError("scenarios must be Scenarios (rs.simulate), not "
                                f"{type(scenarios).__name__}")
    if not scenarios.system.members.equals(system.members):
        raise UsageError("scenarios: they were drawn for another system (other members): "
                         "simulate this system")
    members = system.members
    n_s, n = scenarios.n, system.n
    horizon = len(systems)
    within_budget(n_s, n, horizon)
    # what persists from year 1: the shocks drawn (and any fixed shock), and the register's
    # recurrent items as drawn, in place of their expected net in the plan
    first = scenarios.draws + scenarios.shock[None, :]
    recurrent = _recurrent_events(scenarios, system)
    if recurrent is not None:
        expected = plan["recurrent_risks"][0] if register is not None else np.zeros(n)
        first = first + recurrent - expected[None, :]
    draws = [first] + [_fresh_draws(system, scenarios, t + 1) for t in range(1, horizon)]
    inside = system.inside.astype(float)
    d = _discounts(rules, horizon)
    ct_plan = plan["control_total"]

    def work(rows: slice) -> dict:
        """The years for scenarios `rows`: sums the summaries are made of."""
        k = len(range(n_s)[rows])
        out = {"pos": np.zeros((horizon, n + 1)), "pos2": np.zeros((horizon, n + 1)),
               "short": np.zeros((horizon, n + 1)), "final": np.zeros((horizon, n + 1)),
               "worse": np.zeros((horizon, n)), "gain": np.zeros((k, n))}
        drift = np.zeros((k, n))

        def positions(t: int) -> np.ndarray:
            nonlocal drift
            drift = drift + draws[t][rows]
            return plan["planned"][t][None, :] + drift

        def summarise(t, position, target, final=None, alone=None):
            sys_pos = position @ inside
            sys_target = sct[t] + (target - ct_plan[t][None, :]) @ inside
            out["pos"][t, :n] += position.sum(axis=0)
            out["pos"][t, n] += sys_pos.sum()
            out["pos2"][t, :n] += np.einsum("ij,ij->j", position, position)
            out["pos2"][t, n] += sys_pos @ sys_pos
            out["short"][t, :n] += np.count_nonzero(position - target < -HALF_PENNY, axis=0)
            out["short"][t, n] += np.count_nonzero(sys_pos - sys_target < -HALF_PENNY)
            if final is not None:
                out["final"][t, :n] += final.sum(axis=0)
                out["final"][t, n] += (final @ inside).sum()
                diff = final - alone
                out["worse"][t] += np.count_nonzero(diff < -HALF_PENNY, axis=0)
                out["gain"] += d[t] * diff

        if agreement is None:
            for t in range(horizon):
                summarise(t, positions(t), ct_plan[t][None, :])
        else:
            def on_year(t, arrays, r):
                target = np.broadcast_to(arrays["control_total_carried"], (k, n))
                summarise(t, arrays["variance"] + target, target, arrays["final"],
                          arrays["standalone"])

            _agreement_over_years(agreement, systems, positions, keep=(), on_year=on_year,
                                  exact=False)
        return out

    # blocks of about CHUNK_CELLS cells keep each year's arrays in the processor's cache (the
    # engine's steps are many passes over the same arrays); the blocks share the threads
    blocks = max(1, round(n_s * n / CHUNK_CELLS))
    parts = [slice(a, b) for a, b in _chunks(n_s, blocks)]
    if len(parts) > 1 and THREADS > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(min(THREADS, len(parts))) as pool:   # numpy releases the GIL
            done = list(pool.map(work, parts))
    else:
        done = [work(part) for part in parts]
    total = {key: sum(part[key] for part in done) for key in ("pos", "pos2", "short", "final",
                                                               "worse")}
    mean = total["pos"] / n_s
    sd = np.sqrt(np.maximum(total["pos2"] / n_s - mean * mean, 0.0))
    rows = []
    for t in range(horizon):
        frame = pd.DataFrame({"year": t + 1, "year_label": labels[t],
                              "org_id": [*members, SYSTEM_ROW], "mean_position": mean[t],
                              "sd_position": sd[t], "p_short": total["short"][t] / n_s})
        if agreement is not None:
            frame["mean_final"] = total["final"][t] / n_s
            frame["p_worse_than_alone"] = [*(total["worse"][t] / n_s), np.nan]
        rows.append(frame)
    risk = pd.concat(rows, ignore_index=True).set_index(["year", "org_id"])
    horizon_risk = None
    if agreement is not None:
        gain = np.concatenate([part["gain"] for part in done])
        horizon_risk = pd.DataFrame({
            "name": system.orgs["name"], "mean_gain": gain.mean(axis=0),
            "p5_gain": np.percentile(gain, 5, axis=0),
            "p_worse_off": (gain < -HALF_PENNY).mean(axis=0)}, index=members)
        horizon_risk.index.name = "org_id"
    return risk, horizon_risk, n_s


#: Bytes per scenario, member and year the years hold at once: each year's fresh shocks (8)
#: while its own draw is made (about 3 × 8 for the normals and their correlation), and the
#: gain over the horizon.
YEAR_BYTES_PER_CELL = 8
#: Arrays of (scenarios × members) held besides one per year: the scenarios themselves, a
#: year's draw in the making, the blocks' working arrays and the gain (measured: a 10-year run
#: peaked at about (10 + 9) × 8 bytes a cell).
WORKING_ARRAYS = 9


def within_budget(n_s: int, n: int, horizon: int) -> None:
    """BudgetError when `horizon` years of `n_s` scenarios × `n` members would exceed the
    memory budget (`scenarios.simulate.memory_budget`): checked again by the projection, and
    best checked before drawing the scenarios (the CLI does)."""
    from riskshare.scenarios.simulate import _size, memory_budget

    need = (horizon + WORKING_ARRAYS) * n_s * n * YEAR_BYTES_PER_CELL
    budget = memory_budget()
    if need > budget:
        fits = budget // ((horizon + WORKING_ARRAYS) * n * YEAR_BYTES_PER_CELL)
        raise BudgetError(f"the years ahead: {horizon} years of {n_s:,} scenarios × {n:,} "
                          f"members would need about {_size(need)} of memory, above "
                          f"riskshare's budget of {_size(budget)}: use at most {fits:,} "
                          "scenarios for this horizon, or fewer years (on a larger machine, "
                          "raise the budget with the environment variable "
                          "RISKSHARE_MEMORY_BUDGET, e.g. 8GB)")


def _chunks(n: int, k: int) -> list[tuple[int, int]]:
    """`n` rows in `k` contiguous parts (as equal as may be)."""
    edges = np.linspace(0, n, k + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]


__all__ = ["Projection", "project", "within_budget", "year_labels", "carry_amounts", "step_words", "EFFECTS",
           "AGREEMENT_COLUMNS", "STEP_WORDS"]
