"""Where we will land: the year-end fan from a month, with an agreement applied (docs/in_year.md).

`landing(system, monthly, agreement, month=...)` simulates only the months still to come
(`rs.simulate(..., monthly=...)`: the volatility scaled to the remaining share of the year, a
bridge between the quarter ends, and any shocks) and applies the agreement to every scenario
with the one engine (`engine.run`, chunked), so the fan narrows as the year closes and has no
spread at month 12. Per member and for the system inside the SCT:

    p_meet                P(outturn ≥ control total), outturn after the risk share and before
                          support (the risk table's rule); SYSTEM: P(Σ outturn ≥ SCT)
    p5 … p95              percentiles of the year-end final position (£, after the risk share
                          and support; without an agreement, the forecast outturn)
    mean_final, mean_net_transfer, mean_support   expected year-end figures (£)
    p_q1 … p_q4           P(earning all of each quarter's support), for members with support
                          under `[support] period = "quarter"` (a closed quarter is 0 or 1)

`.months` gives the percentiles of the cumulative position at the month and at each quarter end
still to come (for the fan on the cumulative chart).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from riskshare.agreements import engine
from riskshare.agreements.spec import Agreement, load_agreement
from riskshare.core.constants import HALF_PENNY
from riskshare.core.forecast import QUARTER_ENDS, QUARTERS, quarter_variance
from riskshare.core.system import System, require_system
from riskshare.scenarios.simulate import Scenarios, simulate

SYSTEM_ROW = "SYSTEM"
PERCENTILES = (5, 25, 50, 75, 95)
CHUNK = 12_500
#: Threads applying the engine to chunks of scenarios at once (numpy releases the GIL in its
#: loops): the chunks are independent, written to their own rows and summed in order, so the
#: figures are the same whatever the number of threads.
WORKERS = max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True, eq=False)
class Landing:
    """The year-end fan (see the module docstring). Money in £.

    table:      per member and SYSTEM: p_meet, p5…p95, mean_final, mean_net_transfer,
                mean_support, p_q1…p_q4.
    scenarios:  the in-year scenarios drawn; agreement: the agreement applied (or None).
    months:     (a property) percentiles of the cumulative position (£) by (org_id, month) for
                the month and each quarter end to come, columns p5…p95: the fan on the
                cumulative chart, worked out from the scenarios when first asked for and kept.
                `slim()` keeps it and lets the scenarios go.
    """

    table: pd.DataFrame
    scenarios: Scenarios
    agreement: Agreement | None
    fan: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def months(self) -> pd.DataFrame:
        if self.fan is None:
            sc = self.scenarios
            assert sc.path is not None                  # landing always simulates in year
            system = sc.system
            oct_ = system.orgs["control_total"].to_numpy(dtype=float)
            object.__setattr__(self, "fan", _months(system, sc.path, sc.variances, oct_,
                                                    sc.bridge, system.inside))
        assert self.fan is not None
        return self.fan

    def slim(self) -> Landing:
        """The same landing without the scenarios' arrays (a few kilobytes, e.g. to cache):
        its table, fan (`months`), settings and year stay."""
        fan = self.months
        empty = np.empty((0, self.scenarios.system.n))
        scenarios = replace(self.scenarios, variances=empty, draws=empty, bridge=None)
        return replace(self, scenarios=scenarios, fan=fan)

    @property
    def month(self) -> int:
        assert self.scenarios.path is not None      # landing always simulates in year
        return self.scenarios.path.month


def landing(system: System, monthly, agreement=None, month: int | None = None,
            forecast: str = "plan", n: int = 10_000, seed: int | None = 0,
            correlation: float = 0.3, shocks=(), volatility_scale: float = 1.0,
            chunk: int = CHUNK, register=None, register_mode: str = "add",
            event_correlation: float = 0.0) -> Landing:
    """The year-end fan from `month`, with `agreement` applied (see the module docstring).

    Parameters
    ----------
    system : System
        The members, control totals, support, turnover and volatility, and the SCT.
    monthly : Monthly
        The system's monthly table (`rs.load_monthly`).
    agreement : Agreement, str or pathlib.Path, optional
        Applied to every scenario (a preset name, a .toml path or TOML text); None: the
        positions without an agreement ("standalone").
    month : int, optional
        The months closed, 0–12 (default the latest closed for every member).
    forecast : {"plan", "run_rate", "submitted"}, default "plan"
        How the months to come are forecast (the centre of the fan).
    n : int, default 10,000
        Scenarios to draw (as `rs.simulate`).
    seed : int or None, default 0
        The same seed gives the same fan.
    correlation : float, default 0.3
        The correlation between any two members' months to come.
    shocks : Shock, str or iterable of them, default ()
        Shocks landing over the months to come (as `rs.simulate`).
    volatility_scale : float, default 1.0
        Multiplies every member's volatility.
    chunk : int, default 12,500
        Scenarios per run of the engine (bounds the memory used); chunks run on up to
        `WORKERS` threads, with the same figures as one after another.
    register : Register, optional
        The system's risk register: its items drawn as events in the year-end outturns (as
        `rs.simulate`); they land at the year end, not in the quarters' year to date.
    register_mode : {"add", "instead"}, default "add"
        The events on top of the months' volatility, or alone.
    event_correlation : float, default 0.0
        The correlation between events, 0 to 1.

    Returns
    -------
    Landing
        `.table` (per member and SYSTEM), `.months` (the fan by month), `.scenarios`.

    Raises
    ------
    ValidationError
        When a setting, the month or the forecast method is invalid, or the agreement does not
        fit the system.
    """
    require_system(system, "landing")
    chosen = load_agreement("standalone" if agreement is None else agreement)
    scenarios = simulate(system, n, seed=seed, correlation=correlation, shocks=shocks,
                         volatility_scale=volatility_scale, monthly=monthly, month=month,
                         forecast=forecast, register=register, register_mode=register_mode,
                         event_correlation=event_correlation)
    path, bridge = scenarios.path, scenarios.bridge
    assert path is not None                     # simulated in year
    v = scenarios.variances
    s, size = v.shape
    support = system.orgs["support"].to_numpy(dtype=float)
    inside = system.inside
    final = np.empty((s, size))
    meet = np.empty((s, size), dtype=bool)
    sys_meet = np.empty(s, dtype=bool)
    transfer = np.zeros(size)
    earned = np.zeros(size)
    by_quarter = chosen.support.period == "quarter"
    quarter_full = np.zeros((size, 4))

    def work(start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """One chunk: its rows of final/meet written in place; its sums returned."""
        stop = min(start + chunk, s)
        out = engine.run(chosen, system, v[start:stop], path=path,
                         bridge=None if bridge is None else bridge[start:stop])
        final[start:stop] = out.final
        meet[start:stop] = out.retained + out.received >= -HALF_PENNY
        sys_meet[start:stop] = out.sct_variance >= -HALF_PENNY
        full = (None if not by_quarter or out.quarter_fraction is None else
                (out.quarter_fraction >= 1.0 - 1e-9).sum(axis=0))
        return out.net_transfer.sum(axis=0), out.support_earned.sum(axis=0), full

    starts = range(0, s, chunk)
    if WORKERS > 1 and len(starts) > 1:
        with ThreadPoolExecutor(min(WORKERS, len(starts))) as pool:
            sums = list(pool.map(work, starts))          # in chunk order
    else:
        sums = [work(start) for start in starts]
    for moved, got, full in sums:                         # added in order: the same figures
        transfer += moved
        earned += got
        if full is not None:
            quarter_full += full
    total = final[:, inside].sum(axis=1)
    q = _percentiles(final)                                    # (5, n)
    q_sys = np.percentile(total, PERCENTILES)
    rows = {f"p{p}": np.append(q[k], q_sys[k]) for k, p in enumerate(PERCENTILES)}
    table = pd.DataFrame({
        "p_meet": np.append(meet.mean(axis=0), sys_meet.mean()),
        **rows,
        "mean_final": np.append(final.mean(axis=0), total.mean()),
        "mean_net_transfer": np.append(transfer / s, transfer[inside].sum() / s),
        "mean_support": np.append(earned / s, earned[inside].sum() / s),
    }, index=pd.Index([*system.members, SYSTEM_ROW], name="org_id"))
    for k, name in enumerate(QUARTERS):
        col = np.where(support > 0, quarter_full[:, k] / s, np.nan) if by_quarter else \
            np.full(size, np.nan)
        table[f"p_{name.lower()}"] = np.append(col, np.nan)
    return Landing(table, scenarios, None if agreement is None else chosen)


def _percentiles(values: np.ndarray) -> np.ndarray:
    """PERCENTILES of each column of (S, n) `values`, (5, n): the columns split between up to
    WORKERS threads (each column's percentiles are its own, so the figures do not change)."""
    n = values.shape[1]
    if WORKERS == 1 or n < 2 or values.size < 1_000_000:
        return np.percentile(values, PERCENTILES, axis=0)
    parts = np.array_split(np.arange(n), min(WORKERS, n))
    with ThreadPoolExecutor(len(parts)) as pool:
        done = list(pool.map(lambda cols: np.percentile(values[:, cols], PERCENTILES, axis=0),
                             parts))
    return np.concatenate(done, axis=1)


def _months(system: System, path, v, oct_, bridge, inside) -> pd.DataFrame:
    """Percentiles of the cumulative position (before the agreement) at the month and at each
    quarter end to come: the cumulative plan plus each scenario's year to date against it
    (`quarter_variance`, as the engine judges quarterly support on it)."""
    plan_cum = np.cumsum(path.plan, axis=1)                        # (n, 12)
    rows = []
    at = path.month
    now = path.position[:, :at].sum(axis=1)
    for org_id, value in zip([*system.members, SYSTEM_ROW],
                             [*now, now[inside].sum()], strict=True):
        rows.append((org_id, at, *([float(value)] * len(PERCENTILES))))
    for k, e in enumerate(QUARTER_ENDS):
        if e <= at:
            continue
        cum = quarter_variance(path, v, oct_, bridge, k)           # (S, n)
        cum += plan_cum[:, e - 1]
        q = _percentiles(cum)
        sys_q = np.percentile(cum[:, inside].sum(axis=1), PERCENTILES)
        for i, org_id in enumerate(system.members):
            rows.append((org_id, e, *q[:, i]))
        rows.append((SYSTEM_ROW, e, *sys_q))
    frame = pd.DataFrame(rows, columns=["org_id", "month", *(f"p{p}" for p in PERCENTILES)])
    return frame.set_index(["org_id", "month"]).sort_index()


__all__ = ["Landing", "landing", "PERCENTILES"]
