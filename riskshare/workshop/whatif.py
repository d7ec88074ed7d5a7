"""The what-if knobs: live changes a facilitator makes to one step on screen.

`KNOBS` names each slider (unit, range, scope); `knobs(session, number)` lists those that apply
to a step with their prepared values; `changed_agreement` applies a what-if to an agreement
(re-validated); `describe_changes` says in words what is in force. Values are in the knob's unit:
shares as fractions, percentages as % of the agreement's scale, the reserve in £m.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from riskshare.agreements.spec import Agreement, Band, Schedule
from riskshare.core.system import System

if TYPE_CHECKING:   # the session holds what-ifs and checks them against KNOBS
    from riskshare.workshop.session import Session, WhatIf

__all__ = ["LIMITS", "Knob", "KNOBS", "KnobSetting", "target_label", "knobs",
           "changed_agreement", "describe_changes"]

# What a saved what-if value may be, by unit (a slider's own range is narrower: see Knob).
LIMITS = {"x": (0.0, 10.0), "share": (0.0, 1.0), "%": (0.0, 100.0), "£m": (0.0, 1e6)}


@dataclass(frozen=True)
class Knob:
    """One what-if slider. unit: "x" (multiplier), "share" (0-1), "%" (of the agreement's
    scale) or "£m"; scope: "step" (the step as a whole) or "agreement" (the chosen one).
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
)}


@dataclass(frozen=True)
class KnobSetting:
    """A knob as it applies to one step: its range for that agreement and its current value."""

    knob: Knob
    value: float
    low: float
    high: float


def target_label(session: Session, number: int, what_if: WhatIf | None = None) -> str | None:
    """The agreement the agreement knobs change: the what-if's choice if the step shows it,
    else the step's last agreement (the proposal under discussion)."""
    step = session.steps[number - 1]
    if not step.agreements:
        return None
    if what_if is not None and what_if.agreement in step.agreements:
        return what_if.agreement
    return step.agreements[-1]


def knobs(session: Session, number: int, label: str | None = None) -> list[KnobSetting]:
    """The knobs that apply to step `number` (1-based) with their current values; agreement
    knobs refer to agreement `label` (default: `target_label`)."""
    step = session.steps[number - 1]
    out: list[KnobSetting] = []
    if session.shocks_at(number - 1) and step.kind not in ("baseline", "in_year"):
        out.append(_setting("shock_scale", 1.0))
    label = label or target_label(session, number)
    if label is not None:
        out += _agreement_knobs(session.agreement(label), session.system)
    if step.judge == "scenarios" and step.kind in ("walk_away", "fairer"):
        out.append(_setting("risk_aversion", session.risk_aversion))
    return out


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
    settings = {s.knob.key: s for s in knobs(session, number, target_label(session, number,
                                                                           what_if))}
    label = target_label(session, number, what_if)
    out = []
    for key, value in what_if.values:
        s = settings.get(key)
        if s is None or abs(value - s.value) < 1e-12:
            continue
        k = s.knob
        shown = (f"{value:g}×" if k.unit == "x" else f"{value:.0%}" if k.unit == "share"
                 and key != "risk_aversion" else f"λ = {value:g}" if key == "risk_aversion"
                 else f"{value:g}%" if k.unit == "%" else f"£{value:g}m")
        was = (f"{s.value:g}×" if k.unit == "x" else f"{s.value:.0%}" if k.unit == "share"
               and key != "risk_aversion" else f"{s.value:g}" if key == "risk_aversion"
               else f"{s.value:g}%" if k.unit == "%" else f"£{s.value:g}m")
        who = f"{label}: " if k.scope == "agreement" else ""
        out.append(f"{who}{k.label.lower()} {shown} (prepared: {was})")
    return tuple(out)


