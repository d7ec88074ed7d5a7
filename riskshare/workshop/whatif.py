"""The what-if knobs: live changes a facilitator makes to one step on screen.

`KNOBS` names each slider (unit, range, scope); `knobs(session, number)` lists those that apply
to a step with their prepared values; `changed_agreement` applies a what-if to an agreement
(re-validated) and `changed_register` to the session's risk register; `describe_changes` says in
words what is in force. Values are in the knob's unit: shares as fractions, percentages as % of
the agreement's scale (the savings as % of cost), the reserve in £m.

The probability knob changes one risk register item, chosen like the agreement knobs' target:
the what-if's `item` ("org_id: item"), else `target_item` (the mitigation whose outcome is most
in doubt). An item in a group moves with its group (a group happens together, so its items share
one probability). It applies on the steps that draw the register: risks steps, and steps judged
across scenarios when the session's `[scenarios] register` is "add" or "instead".

The savings knob changes a years step's projection rules (`changed_rules`): the recurrent
savings of every member that takes the rules' `[all]` savings, as % of last year's cost, the
same each year; a member with its own savings rule keeps it (as the Years ahead page's quick
control). It is offered when some member takes `[all]`'s savings and `[all]` does not give them
in £ (`savings_amount`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import pandas as pd

from riskshare.agreements.spec import Agreement, Band, Schedule
from riskshare.core.register import Register
from riskshare.core.system import System
from riskshare.years.rules import Rules, rules_from_dict

if TYPE_CHECKING:   # the session holds what-ifs and checks them against KNOBS
    from riskshare.workshop.session import Session, WhatIf

__all__ = ["LIMITS", "Knob", "KNOBS", "KnobSetting", "target_label", "knobs",
           "changed_agreement", "describe_changes", "item_labels", "target_item",
           "uses_register", "changed_register", "changed_rules"]

# What a saved what-if value may be, by unit (a slider's own range is narrower: see Knob).
LIMITS = {"x": (0.0, 10.0), "share": (0.0, 1.0), "%": (0.0, 100.0), "£m": (0.0, 1e6)}


@dataclass(frozen=True)
class Knob:
    """One what-if slider. unit: "x" (multiplier), "share" (0-1), "%" (of the agreement's
    scale; the savings knob's of each member's cost) or "£m"; scope: "step" (the step as a whole), "agreement" (the chosen one) or
    "item" (the chosen risk register item, with its group).
    low/high: the slider's usual range, widened to include the prepared value (`knobs`);
    any value within LIMITS[unit] is accepted."""

    key: str
    label: str
    low: float
    high: float
    step: float
    unit: str
    scope: str
    help: str


KNOBS = {k.key: k for k in (
    Knob("shock_scale", "Size of the shock", 0.0, 3.0, 0.1, "x", "step",
         "Multiplies every shock in force at this step (1× = as prepared; 0 = no shock)."),
    Knob("pool_share", "Share pooled beyond the deadband", 0.0, 1.0, 0.05, "share",
         "agreement", "Every band that pools something pools this share instead."),
    Knob("deadband", "Deadband: variance each member keeps in full", 0.0, 5.0, 0.1, "%",
         "agreement", "The first band, which pools nothing, ends here (% of the scale)."),
    Knob("cap", "Cap on charges and awards from the pool", 0.1, 10.0, 0.1, "%", "agreement",
         "No member is charged (or awarded) more than this % of its scale from the pool."),
    Knob("reserve", "Reserve that absorbs a net pooled loss first", 0.0, 50.0, 0.5, "£m",
         "agreement", "The contingency held back to absorb a net loss before members pay."),
    Knob("system_share", "Support tied to the system test", 0.0, 1.0, 0.05, "share",
         "agreement", "The part of each member's support earned only if the system meets its "
                      "control total."),
    Knob("taper", "Support taper (0 = cliff edge)", 0.0, 5.0, 0.1, "%", "agreement",
         "Support is earned linearly over this % of the scale below target instead of all "
         "or nothing."),
    Knob("risk_aversion", "How much bad years weigh (λ)", 0.0, 1.0, 0.05, "share", "step",
         "0: judge each member by its average year; 1: by its worst 1-in-20 years."),
    Knob("probability", "Probability", 0.0, 1.0, 0.05, "share", "item",
         "The chance the chosen risk or mitigation happens (its whole group with it, if it is "
         "in one): the risk-adjusted forecast, the ranking, the reserve and the scenarios "
         "drawing the register follow."),
    Knob("savings", "Recurrent savings a year (% of cost)", 0.0, 10.0, 0.25, "%", "step",
         "Every member's recurrent savings each year, % of last year's cost, as the rules' "
         "[all] savings (a member with its own savings rule keeps it): each year's plan, "
         "capital and the agreement over the years follow."),
)}


@dataclass(frozen=True)
class KnobSetting:
    """A knob as it applies to one step: its range for that agreement and its current value;
    `item`: the register item an item knob changes."""

    knob: Knob
    value: float
    low: float
    high: float
    item: str | None = None


def target_label(session: Session, number: int, what_if: WhatIf | None = None) -> str | None:
    """The agreement the agreement knobs change: the what-if's choice if the step shows it,
    else the step's last agreement (the proposal under discussion)."""
    step = session.steps[number - 1]
    if not step.agreements:
        return None
    if what_if is not None and what_if.agreement in step.agreements:
        return what_if.agreement
    return step.agreements[-1]


def knobs(session: Session, number: int, label: str | None = None,
          item: str | None = None) -> list[KnobSetting]:
    """The knobs that apply to step `number` (1-based) with their current values; agreement
    knobs refer to agreement `label` (default: `target_label`), the probability knob to
    register item `item` (default: `target_item`)."""
    step = session.steps[number - 1]
    out: list[KnobSetting] = []
    if session.shocks_at(number - 1) and step.kind not in ("baseline", "in_year"):
        out.append(_setting("shock_scale", 1.0))
    label = label or target_label(session, number)
    if label is not None:
        out += _agreement_knobs(session.agreement(label), session.system)
    if step.judge == "scenarios" and step.kind in ("walk_away", "fairer"):
        out.append(_setting("risk_aversion", session.risk_aversion))
    if step.kind == "years":
        savings = _savings(step.projection_rules(), session.system)
        if savings is not None:
            out.append(_setting("savings", savings))
    if uses_register(session, number) and session.register is not None:
        chosen = item or target_item(session.register)
        rows = _item_rows(session.register, chosen)
        if rows.any():
            p = float(session.register.table.loc[rows, "probability"].iloc[0])
            out.append(replace(_setting("probability", p), item=chosen))
    return out


# -- the projection rules ---------------------------------------------------------------------------
def _savings(rules: Rules, system: System) -> float | None:
    """The savings knob's prepared value on `rules`: [all]'s first year's savings (% of cost;
    0 when [all] gives none); None when no member of `system` takes [all]'s savings or [all]
    gives them in £ (the knob would reach no one, or replace a £ rule with a %)."""
    if "savings_amount" in rules.all:
        return None
    own = {m for m, keys in rules.members
           if any(k in ("savings", "savings_amount") for k, _ in keys)}
    if set(system.members) <= own:
        return None
    return float(rules.all.get("savings", (0.0,))[0])


def changed_rules(rules: Rules, what_if: WhatIf, system: System) -> Rules:
    """`rules` with the what-if's savings (% of cost, every year) as [all]'s savings, named so
    (the author's description dropped: it no longer holds); the rules themselves when the
    what-if has none, it is [all]'s already, or the knob does not apply to `rules` on `system`
    (no member takes [all]'s savings, or [all] gives them in £)."""
    value = what_if.get("savings")
    if value is None or _savings(rules, system) is None \
            or rules.all.get("savings", (0.0,)) == (float(value),):
        return rules
    data = rules.to_dict()
    data.setdefault("all", {})["savings"] = float(value)
    # the author's description no longer holds: the name says what changed
    data.pop("description", None)
    data["name"] = f"{rules.name}, with savings of {float(value):g}% of cost a year (what-if)"
    return rules_from_dict(data, f"the rules '{rules.name}' (what-if)")


# -- the risk register item -----------------------------------------------------------------------
def item_labels(register: Register) -> list[str]:
    """Each register item as the what-if names it, "org_id: item", in the register's order."""
    t = register.table
    return [f"{org}: {item}" for org, item in zip(t["org_id"], t["item"], strict=True)]


def target_item(register: Register, what_if: WhatIf | None = None) -> str:
    """The item the probability knob changes: the what-if's choice when it names one of the
    register's items, else the mitigation whose outcome is most in doubt (largest amount ×
    p × (1 − p), then largest amount), else the risk most in doubt; the first such in the
    register's order ("" for an empty register)."""
    labels = item_labels(register)
    if what_if is not None and what_if.item in labels:
        return what_if.item
    if not labels:                     # an empty register: nothing to change
        return ""
    t = register.table
    doubt = (t["amount"] * t["probability"] * (1.0 - t["probability"])).to_numpy()
    ranked = sorted(range(len(t)), key=lambda k: (t["type"].iat[k] != "mitigation",
                                                  -round(float(doubt[k]), 2),
                                                  -float(t["amount"].iat[k]), k))
    return labels[ranked[0]]


def uses_register(session: Session, number: int) -> bool:
    """Whether step `number` (1-based) draws the session's risk register: a risks step, or a
    step judged across scenarios when the session's scenarios draw it."""
    if session.register is None:
        return False
    step = session.steps[number - 1]
    return step.kind == "risks" or (step.judge == "scenarios"
                                    and session.scenarios.uses_register())


def _item_rows(register: Register, item: str) -> pd.Series:
    """The rows the probability knob on `item` changes: the item, or its whole group."""
    t = register.table
    rows = pd.Series([label == item for label in item_labels(register)], index=t.index)
    groups = set(t.loc[rows, "group"]) - {""}
    if groups:
        rows |= t["group"].isin(groups)
    return rows


def changed_register(register: Register, what_if: WhatIf) -> Register:
    """`register` with the what-if's probability set on its item (`target_item`) and the rest
    of the item's group; the register itself when the what-if changes nothing."""
    p = what_if.get("probability")
    if p is None:
        return register
    rows = _item_rows(register, target_item(register, what_if))
    t = register.table
    if not rows.any() or (t.loc[rows, "probability"] == float(p)).all():
        return register
    table = t.copy()
    table.loc[rows, "probability"] = float(p)
    return Register(table)


def _chance(p: float) -> str:
    """A probability as a percentage, to the decimal it needs: 0.5 -> "50%", 0.125 -> "12.5%"."""
    return f"{round(p * 100, 4):g}%"


def _item_words(register: Register, item: str) -> str:
    """The item as a change names it: "VGH: Vacancy slippage", with its group when it has
    one ("VGH: Pay award funding gap (with its group 'pay award')")."""
    t = register.table
    group = t.loc[_item_rows(register, item) & (t["group"] != ""), "group"]
    return f"{item} (with its group '{group.iloc[0]}')" if len(group) else item


def _setting(key: str, value: float, low=None, high=None) -> KnobSetting:
    k = KNOBS[key]
    low = min(k.low if low is None else low, value)
    high = max(k.high if high is None else high, value)
    return KnobSetting(k, float(value), float(low), float(high))


def _pooling_bands(a: Agreement) -> list[Band]:
    return [b for s in (a.gains, a.losses) for b in s.bands if b.pool > 0]


def _deadband(s: Schedule) -> float | None:
    """The end of a leading band that pools nothing, when more bands follow it."""
    if len(s.bands) > 1 and s.bands[0].pool == 0 and s.bands[0].upto is not None:
        return s.bands[0].upto
    return None


def _agreement_knobs(a: Agreement, system: System) -> list[KnobSetting]:
    out = []
    bands = _pooling_bands(a)
    if bands:
        out.append(_setting("pool_share", max(b.pool for b in bands)))
    deadbands = [(s, _deadband(s)) for s in (a.gains, a.losses)]
    ends = [(s, d) for s, d in deadbands if d is not None]
    if ends:
        nxt = [s.bands[1].upto for s, _ in ends if s.bands[1].upto is not None]
        high = min([KNOBS["deadband"].high] + [u - KNOBS["deadband"].step for u in nxt])
        out.append(_setting("deadband", max(d for _, d in ends), high=high))
    caps = [c for c in (a.pool.max_charge, a.pool.max_award) if c is not None]
    if caps:
        out.append(_setting("cap", max(caps)))
    if a.reserve is not None:
        m = a.reserve.amount / 1e6
        out.append(_setting("reserve", m, high=max(KNOBS["reserve"].high, 2 * m)))
    has_support = bool((system.orgs["support"] > 0).any())
    if has_support and a.support.test == "organisation":
        out.append(_setting("system_share", a.support.system_share))
    if has_support and a.support.test != "none":
        out.append(_setting("taper", a.support.taper))
    return out


def changed_agreement(a: Agreement, what_if: WhatIf) -> Agreement:
    """`a` with the what-if's agreement knobs applied (re-validated)."""
    gains, losses, pool, reserve, support = a.gains, a.losses, a.pool, a.reserve, a.support
    share = what_if.get("pool_share")
    if share is not None and _pooling_bands(a):
        def pooled(s: Schedule) -> Schedule:
            return replace(s, bands=tuple(replace(b, pool=share) if b.pool > 0 else b
                                          for b in s.bands))
        gains, losses = pooled(gains), pooled(losses)
    dead = what_if.get("deadband")
    if dead is not None:
        def moved(s: Schedule) -> Schedule:
            if _deadband(s) is None:
                return s
            if dead == 0:   # no deadband: the next band starts from the first pound
                return replace(s, bands=s.bands[1:])
            return replace(s, bands=(replace(s.bands[0], upto=dead),) + s.bands[1:])
        gains, losses = moved(gains), moved(losses)
    cap = what_if.get("cap")
    if cap is not None:
        pool = replace(pool, max_charge=cap if pool.max_charge is not None else None,
                       max_award=cap if pool.max_award is not None else None)
    res = what_if.get("reserve")
    if res is not None and reserve is not None:
        reserve = replace(reserve, amount=round(res * 1e6, 2))
    for key in ("system_share", "taper"):
        value = what_if.get(key)
        if value is not None and support.test != "none":
            if key == "system_share" and support.test != "organisation":
                continue
            support = replace(support, **{key: value})
    if (gains, losses, pool, reserve, support) == (a.gains, a.losses, a.pool, a.reserve,
                                                   a.support):
        return a
    return a.replace(gains=gains, losses=losses, pool=pool, reserve=reserve, support=support)


def describe_changes(session: Session, number: int, what_if: WhatIf) -> tuple[str, ...]:
    """The what-if changes in force, in words ("Shock at 1.5×", "B: pool share 75%")."""
    if not what_if:
        return ()
    item = (target_item(session.register, what_if) if session.register is not None
            else None)
    settings = {s.knob.key: s for s in knobs(session, number, target_label(session, number,
                                                                           what_if), item)}
    label = target_label(session, number, what_if)
    out = []
    for key, value in what_if.values:
        s = settings.get(key)
        if s is None or abs(value - s.value) < 1e-12:
            continue
        k = s.knob
        if k.scope == "item" and session.register is not None and s.item is not None:
            out.append(f"{_item_words(session.register, s.item)} probability "
                       f"{_chance(s.value)} → {_chance(value)}")
            continue
        shown = (f"{value:g}×" if k.unit == "x" else f"{value:.0%}" if k.unit == "share"
                 and key != "risk_aversion" else f"λ = {value:g}" if key == "risk_aversion"
                 else f"{value:g}%" if k.unit == "%" else f"£{value:g}m")
        was = (f"{s.value:g}×" if k.unit == "x" else f"{s.value:.0%}" if k.unit == "share"
               and key != "risk_aversion" else f"{s.value:g}" if key == "risk_aversion"
               else f"{s.value:g}%" if k.unit == "%" else f"£{s.value:g}m")
        who = f"{label}: " if k.scope == "agreement" else ""
        out.append(f"{who}{k.label.lower()} {shown} (prepared: {was})")
    return tuple(out)


