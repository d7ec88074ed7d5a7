"""Which risk or mitigation matters most: each register item's effect on the chance the system
meets its SCT and on its expected position (`rs.rank_items`), for the tornado chart.

The scenarios are drawn once with the whole register (`rs.simulate(..., register=...)`). An
item's effect is the difference its event makes in those same scenarios: the positions with
every event, less the positions with that event taken out (each event has its own random
stream, so the others are unchanged — common random numbers, no extra noise). The agreement is
applied by the one engine to both. For a group, every item of the group is taken out together.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from riskshare.agreements import engine
from riskshare.agreements.spec import load_agreement
from riskshare.core.constants import HALF_PENNY
from riskshare.core.errors import UsageError
from riskshare.core.register import Register
from riskshare.core.system import System, require_system
from riskshare.scenarios.simulate import THREADS, simulate


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

    def position(v: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        part = None if bridge is None or rows is None else bridge[rows]
        return engine.run(chosen, system, v, path=path,
                          bridge=bridge if rows is None else part).sct_variance

    base = _in_chunks(position, scenarios.variances, np.arange(scenarios.n))
    p_meet, mean = float((base >= -HALF_PENNY).mean()), float(base.mean())
    events = scenarios.event_set
    t = scenarios.register.table
    rows = []
    for label, without in zip(events.labels, _without_each(scenarios, base, position),
                              strict=True):
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


#: Rows (scenarios) of one engine run when the events' scenarios are stacked (`_without_each`),
#: worked out in chunks of CHUNK rows on threads.
BATCH_ROWS = 200_000
CHUNK = 12_500


def _in_chunks(position, v: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """`position(v, rows)` worked out in chunks of `CHUNK` rows on `simulate.THREADS` threads
    (the engine's numpy work releases the GIL; each chunk writes its own rows, so the figures
    are those of one run)."""
    starts = list(range(0, len(rows), CHUNK))
    if THREADS == 1 or len(starts) < 2:
        return position(v, rows)
    out = np.empty(len(rows))

    def one(start: int) -> None:
        out[start:start + CHUNK] = position(v[start:start + CHUNK], rows[start:start + CHUNK])

    with ThreadPoolExecutor(min(THREADS, len(starts))) as pool:
        list(pool.map(one, starts))
    return out


def _without_each(scenarios, base: np.ndarray, position):
    """For each event in turn, the system positions with that event taken out. Only the
    scenarios where it happens change, so only those are run again — several events' at once,
    stacked into one engine run of at most `BATCH_ROWS` rows (each scenario is judged on its
    own, so stacking changes nothing)."""
    effect = scenarios.event_set.effect
    happens = scenarios.happens
    pending: list[tuple[int, np.ndarray]] = []

    def flush():
        rows = np.concatenate([idx for _, idx in pending])
        v = scenarios.variances[rows] - np.concatenate(
            [np.broadcast_to(effect[k], (len(idx), effect.shape[1])) for k, idx in pending])
        out, start = _in_chunks(position, v, rows), 0
        for _, idx in pending:
            without = base.copy()
            without[idx] = out[start:start + len(idx)]
            start += len(idx)
            yield without
        pending.clear()

    size = 0
    for k in range(len(happens)):
        idx = np.flatnonzero(happens[k])
        if size + len(idx) > BATCH_ROWS and pending:
            yield from flush()
            size = 0
        pending.append((k, idx))
        size += len(idx)
    if pending:
        yield from flush()


__all__ = ["rank_items", "rank_events"]
