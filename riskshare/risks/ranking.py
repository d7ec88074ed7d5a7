"""Which risk or mitigation matters most: each register item's effect on the chance the system
meets its SCT and on its expected position (`rs.rank_items`), for the tornado chart.

The scenarios are drawn once with the whole register (`rs.simulate(..., register=...)`). An
item's effect is the difference its event makes in those same scenarios: the positions with
every event, less the positions with that event taken out (each event has its own random
stream, so the others are unchanged — common random numbers, no extra noise). The agreement is
applied by the one engine to both. For a group, every item of the group is taken out together.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskshare.agreements import engine
from riskshare.agreements.spec import load_agreement
from riskshare.core.constants import HALF_PENNY
from riskshare.core.errors import UsageError
from riskshare.core.register import Register
from riskshare.core.system import System, require_system
from riskshare.scenarios.simulate import simulate


def rank_items(system: System, register: Register, agreement="standalone", n: int = 10_000,
               seed: int = 0, register_mode: str = "add", event_correlation: float = 0.0,
               **settings) -> pd.DataFrame:
    """Each event's effect on P(the system meets its SCT) and on the system's mean position.

    Parameters
    ----------
    system : System
        The members and the SCT.
    register : Register
        The system's risk register (`rs.load_register`).
    agreement : Agreement or str, default "standalone"
        Applied to every scenario; the system position is its outturn inside the SCT after
        the risk share, before support, less the SCT.
    n : int, default 10,000
        Scenarios to draw.
    seed : int, default 0
        A whole number: the same seed gives the same scenarios and effects.
    register_mode : {"add", "instead"}, default "add"
        The register's events on top of the members' volatility, or alone (`rs.simulate`).
    event_correlation : float, default 0.0
        The correlation between events, 0 to 1.
    settings : keyword arguments
        Other settings of `rs.simulate` (correlation, distribution, shocks, ...).

    Returns
    -------
    pandas.DataFrame
        One row per event (an item, or a group), largest effect on P(meet) first: event
        (the item's "org_id: item", or "group: name"), type, amount (£, the event's total),
        probability, delta_p_meet (P(meet) with the event less without it: negative for a
        risk) and delta_mean (the mean system position with less without, £).
    """
    require_system(system, "rank_items")
    sc = simulate(system, n, seed=seed, register=register, register_mode=register_mode,
                  event_correlation=event_correlation, **settings)
    return rank_events(system, sc, agreement)


def rank_events(system: System, scenarios, agreement="standalone") -> pd.DataFrame:
    """Each event's effect on P(meet the SCT) and the mean system position, on `scenarios`
    drawn with a register (`rs.simulate(..., register=...)`; see `rank_items`).

    Parameters
    ----------
    system : System
        The members and the SCT.
    scenarios : Scenarios
        Drawn with the register: their `.happens` say where each event happens.
    agreement : Agreement or str, default "standalone"
        Applied to every scenario.

    Returns
    -------
    pandas.DataFrame
        As `rank_items`.
    """
    require_system(system, "rank_events")
    if scenarios.happens is None:
        raise UsageError("these scenarios have no register drawn in: simulate with "
                         "register=... to rank its items")
    chosen = load_agreement(agreement)
    path, bridge = engine.year_of(scenarios)          # an in-year simulation's year, as everywhere

    def position(v: np.ndarray) -> np.ndarray:
        return engine.run(chosen, system, v, path=path, bridge=bridge).sct_variance

    base = position(scenarios.variances)
    p_meet, mean = float((base >= -HALF_PENNY).mean()), float(base.mean())
    events = scenarios.event_set
    t = scenarios.register.table
    rows = []
    for label, happens, effect in zip(events.labels, scenarios.happens, events.effect,
                                      strict=True):
        if not happens.any():
            without = base
        else:
            without = position(scenarios.variances - happens[:, None] * effect[None, :])
        kind, name = label.split("\x1f", 1)
        if kind == "group":
            items = t[t["group"] == name]
            shown = f"group: {name}"
        else:
            org, item = name.split("\x1f", 1)
            items = t[(t["org_id"] == org) & (t["item"] == item)]
            shown = f"{org}: {item}"
        types = sorted(set(items["type"]))
        rows.append({"event": shown, "type": types[0] if len(types) == 1 else "mixed",
                     "amount": round(float(items["amount"].sum()), 2),
                     "probability": float(items["probability"].iloc[0]),
                     "delta_p_meet": p_meet - float((without >= -HALF_PENNY).mean()),
                     "delta_mean": round(mean - float(without.mean()), 2)})
    out = pd.DataFrame(rows, columns=["event", "type", "amount", "probability",
                                      "delta_p_meet", "delta_mean"])
    order = np.lexsort((-out["delta_mean"].abs().to_numpy(),
                        -out["delta_p_meet"].abs().to_numpy()))
    return out.iloc[order].reset_index(drop=True)


__all__ = ["rank_items", "rank_events"]
