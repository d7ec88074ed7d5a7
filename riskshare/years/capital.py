"""Capital consequences of revenue plans: a rule linking each year's planned position to the
capital envelope (`rules.Capital`, in a rules file's `[capital]` table).

For a plan P (£, + surplus) against an envelope E and a fair share F (£):

    P < 0 (a deficit plan):       penalty = min(penalty_rate × (−P), penalty_cap % × E)
    P ≥ 0 (breakeven or better):  bonus   = bonus_share % × max(F − E, 0)
    capital = E − penalty + bonus

The plan is the planned position before any risk share (the plan a regulator reads), with the
conditional support at stake that year when `with_support` (the default: a submitted plan counts
the support it expects): the system's inside the SCT when the envelope is the system's (£), each
member's when it is a column.
Worked case (hand-checked): E £80.0m, £1 per £1, cap 10% ⇒ plan −£6.0m: £74.0m; plan −£12.0m:
£72.0m (the cap, £8.0m); breakeven with 30% of the £10.0m gap to a fair share of £90.0m: £83.0m.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskshare.core.constants import HALF_PENNY
from riskshare.years.rules import Capital

COLUMNS = ("planned_position", "envelope", "fair_share", "penalty", "bonus", "capital")


def capital_for(rule: Capital, plan, envelope, fair_share) -> dict[str, np.ndarray]:
    """The rule on plans, envelopes and fair shares (arrays of one shape, £): the penalty,
    bonus and capital (£, whole pennies)."""
    plan = np.asarray(plan, dtype=float)
    envelope = np.broadcast_to(np.asarray(envelope, dtype=float), plan.shape)
    fair = np.broadcast_to(np.asarray(fair_share, dtype=float), plan.shape)
    deficit = plan <= -HALF_PENNY
    penalty = np.where(deficit, np.minimum(rule.penalty_rate * -plan,
                                           rule.penalty_cap / 100.0 * envelope), 0.0)
    bonus = np.where(~deficit, rule.bonus_share / 100.0 * np.maximum(fair - envelope, 0.0), 0.0)
    penalty, bonus = np.round(penalty, 2) + 0.0, np.round(bonus, 2) + 0.0
    return {"penalty": penalty, "bonus": bonus,
            "capital": np.round(envelope - penalty + bonus, 2) + 0.0}


def capital_table(rule: Capital, table: pd.DataFrame, system) -> pd.DataFrame:
    """Capital by (year, who) from a projection's table: the SYSTEM rows when the envelope is
    the system's, each member's rows when it is a column. Columns `COLUMNS` (£)."""
    who = table.index.get_level_values("org_id")
    if rule.by_member:
        rows = table[who != "SYSTEM"]
        members = rows.index.get_level_values("org_id")
        envelope = system.column(str(rule.envelope)).reindex(members).to_numpy(dtype=float)
        fair = (system.column(str(rule.fair_share)).reindex(members).to_numpy(dtype=float)
                if rule.fair_share is not None else envelope)
    else:
        rows = table[who == "SYSTEM"]
        envelope = np.full(len(rows), float(rule.envelope))
        fair = np.full(len(rows), float(rule.fair_share if rule.fair_share is not None
                                        else rule.envelope))
    plan = rows["planned"].to_numpy(dtype=float)
    if rule.with_support:
        plan = np.round(plan + rows["support"].to_numpy(dtype=float), 2)
    out = pd.DataFrame({"planned_position": plan, "envelope": envelope, "fair_share": fair,
                        **capital_for(rule, plan, envelope, fair)}, index=rows.index)
    out.insert(0, "year_label", rows["year_label"].to_numpy())
    return out


__all__ = ["capital_for", "capital_table", "COLUMNS"]
