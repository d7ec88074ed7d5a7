"""What an optimisation request may ask for: the objectives (`OBJECTIVES`), the conditions
(`Constraints`, validated with every problem named) and `SolverError`. Money in £; caps and floors
as % of the agreement's scale unless the key ends in `_gbp`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from riskshare.agreements.spec import PERCENT_LIMIT, Agreement
from riskshare.core.constants import Objective as ObjectiveKey
from riskshare.core.constants import ObjectiveName
from riskshare.core.errors import RiskshareError, problem, raise_if_errors
from riskshare.core.format import money
from riskshare.core.schema import MONEY_LIMIT
from riskshare.core.system import System
from riskshare.reconciliation import ringfence
from riskshare.solver import lp

NO_AGREEMENT = Agreement(name="No risk share",
                         description="Each member keeps its own variance; support is tested on "
                                     "each member's own position (cliff edge).")


@dataclass(frozen=True)
class Objective:
    """One objective: its key, label, unit ("pct", "gbp" or "members"), direction and
    whether it needs whole numbers (a MILP)."""

    key: ObjectiveKey | ObjectiveName
    label: str
    unit: str           # "pct" (percentage points of scale), "gbp" or "members"
    maximise: bool
    mip: bool
    words: str          # the quantity, for sentences ("the largest shortfall")
    short: str = ""     # a metric's caption ("Largest shortfall")
    help: str = ""      # what it asks for, in a sentence; "{scale}" stands for the scale column

    def label_for(self, scale: str) -> str:
        """The label with the scale column named ("% of turnover", not "% of scale")."""
        return self.label.replace("% of scale", f"% of {scale}")

    def help_for(self, scale: str) -> str:
        return self.help.replace("{scale}", scale)


OBJECTIVES: dict[str, Objective] = {o.key: o for o in (
    Objective(ObjectiveKey.MINIMAX_SHORTFALL, "Smallest largest shortfall (% of scale)", "pct",
              False, False, "the largest shortfall", "Largest shortfall",
              "Make the worst-placed member as well placed as possible: the largest shortfall "
              "against a control total, as % of {scale}, is as small as it can be."),
    Objective(ObjectiveKey.MIN_TOTAL_TRANSFER, "Least money moved between members", "gbp", False,
              False, "the total of net transfers in and out", "Net transfers in and out",
              "Move as little money between members as the conditions allow."),
    Objective(ObjectiveKey.CLOSEST_TO_BASIS,
              "Positions closest to a basis share of the system's position", "gbp", False, False,
              "the distance from the basis shares", "Distance from basis shares",
              "Leave each member as close as possible to its fair share (pro rata to the "
              "agreement's basis) of the system's overall position."),
    Objective(ObjectiveKey.MAX_MEETING_CONTROL_TOTAL,
              "Most members meeting their control total (MILP)", "members", True, True,
              "the number of members meeting their control total",
              "Members meeting their control total",
              "Get as many members as possible to their control total (a whole-number model)."),
    Objective(ObjectiveKey.MAX_SUPPORT_EARNED, "Most support funding earned (MILP)", "gbp", True,
              True, "the support earned", "Support earned",
              "Earn as much of the conditional support funding as possible (a whole-number "
              "model)."),
)}


def setting_text(key: str, value, scale: str) -> str:
    """A condition's value in words for a report: £, % of the scale column, a share, or yes."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {setting_text(key, v, scale)}" for k, v in value.items())
    if key == "ring_fence":
        if isinstance(value, (int, float)):
            return f"at least last year + {value:g}%"
        return (f"{value.get('line')} at least {value.get('last_year')} + "
                f"{value.get('growth', 0):g}%")
    if key in ("pool", "fixed") or key.endswith("_gbp"):
        return money(value)
    if key == "min_retention":
        return f"{value:g} (share kept)"
    return f"{value:g}% of {scale}"


class SolverError(RiskshareError):
    """The solver stopped without a usable answer (time limit with no solution, numerical
    trouble); `.status` says how it ended."""

    def __init__(self, message: str, status: lp.SolveStatus):
        super().__init__(message)
        self.status = status


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
    ring_fence: tuple = ()

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
        "system_meets_control_total": "true: the system's outturn (the members inside the SCT) meets the system control total",
        "ring_fence": "growth % by org_id (or {growth, line, last_year}): the member's "
                      "ring-fenced line (mh_spend) stays ≥ last year (mh_spend_last_year) × "
                      "(1 + growth); a net charge falls on it pro rata to line / turnover",
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
        out: dict = {}
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
            elif key == "ring_fence":
                out[key] = ringfence.parse(value, key, problems)
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
            if f.name == "ring_fence":
                out[f.name] = {r.member: r.to_value() for r in value}
                continue
            out[f.name] = dict(value) if isinstance(value, tuple) else value
        return out

    def check(self, system: System) -> list:
        """Problems that need the system: members named that are not members."""
        members = set(system.members)
        problems = []
        problems += ringfence.check(self.ring_fence, system, "ring_fence")
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple) and f.name != "ring_fence":
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
