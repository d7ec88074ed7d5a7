"""A risk register drawn as events: each item, or each group of items that happen together,
happens in a scenario with its probability (`rs.simulate(..., register=...)`).

An event is an item on its own, or a group (`group` in the register: one event, one
probability). In a scenario an event happens when its own standard normal draw falls below
Φ⁻¹(p), so it happens with probability p exactly; with `correlation` ρ > 0 the draws share a
common factor (√ρ·Z + √(1 − ρ)·ε), so bad events tend to come together (a Gaussian copula: each
event's own probability is unchanged). Each event's draws come from its own stream, named by
its group or its member and item, so the same seed gives each event the same draws whatever the
order of the register.

When it happens, a risk takes its amount off its member's position and a mitigation adds its
amount: the mean over scenarios is the risk-adjusted forecast (`rs.risk_adjusted`).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from riskshare.core.register import Register
from riskshare.core.system import System


@dataclass(frozen=True)
class Events:
    """The register as events: `labels` (E,), `probability` (E,), `effect` (E, members) £ — a
    risk's amount negative, a mitigation's positive — in the system's member order."""

    labels: tuple[str, ...]
    probability: np.ndarray
    effect: np.ndarray


def register_events(register: Register, system: System) -> Events:
    """The events of `register` for `system` (see the module docstring)."""
    t = register.table
    members = list(system.members)
    labels: list[str] = []
    chance: list[float] = []
    rows: list[np.ndarray] = []
    where: dict[str, int] = {}
    for org, item, kind, amount, p, group in zip(t["org_id"], t["item"], t["type"], t["amount"],
                                                 t["probability"], t["group"], strict=True):
        label = f"group\x1f{group}" if group else f"item\x1f{org}\x1f{item}"
        if label not in where:
            where[label] = len(labels)
            labels.append(label)
            chance.append(float(p))
            rows.append(np.zeros(len(members)))
        signed = -float(amount) if kind == "risk" else float(amount)
        rows[where[label]][members.index(org)] += signed
    effect = np.vstack(rows) if rows else np.zeros((0, len(members)))
    return Events(tuple(labels), np.asarray(chance, dtype=float), effect)


def event_latents(events: Events, n: int, correlation: float, stream, threads: int = 1
                  ) -> np.ndarray:
    """(E, n) float32: each event's standard normal draws (with the common factor when
    `correlation` > 0), which do not depend on the probabilities: an event happens where its
    draw is below Φ⁻¹(p) (`event_happens`), so a changed probability is a new threshold on the
    same draws. `stream(*label)` is the simulation's named random stream."""
    rho = float(correlation)
    out = np.empty((len(events.labels), n), dtype=np.float32)
    common = stream("event", "common").standard_normal(n) if rho > 0 else None
    own, shared = np.sqrt(1.0 - rho), np.sqrt(rho)

    def fill(rows: range) -> None:       # each event's own stream into its own row
        x = np.empty(n)
        for k in rows:
            stream("event", events.labels[k]).standard_normal(out=x)
            if common is not None:
                x *= own
                x += shared * common
            out[k] = x

    _by_parts(fill, len(events.labels), n, threads)
    return out


def event_happenings(events: Events, n: int, correlation: float, stream, threads: int = 1
                     ) -> np.ndarray:
    """(E, n) bool: where each event happens, exactly as `event_happens(event_latents(...))`
    gives it (each draw rounded to float32 and compared with Φ⁻¹(p) as float32), without
    keeping the draws: what `simulate` needs, in a fifth of the memory."""
    rho = float(correlation)
    out = np.empty((len(events.labels), n), dtype=bool)
    common = stream("event", "common").standard_normal(n) if rho > 0 else None
    own, shared = np.sqrt(1.0 - rho), np.sqrt(rho)
    cut = thresholds(events.probability)

    def fill(rows: range) -> None:       # each event's own stream into its own row
        x, x32 = np.empty(n), np.empty(n, dtype=np.float32)
        for k in rows:
            stream("event", events.labels[k]).standard_normal(out=x)
            if common is not None:
                x *= own
                x += shared * common
            x32[:] = x
            np.less(x32, cut[k], out=out[k])

    _by_parts(fill, len(events.labels), n, threads)
    return out


def _by_parts(work, count: int, n: int, threads: int = 1) -> None:
    """`work(rows)` over `range(count)` split into contiguous parts, on up to `threads` threads
    (the simulation passes `simulate.THREADS`) when the work is large (numpy's draws and loops
    release the GIL). Each row is written by one part alone, so the result is the same
    whatever the number of threads."""
    threads = min(int(threads), count)
    if threads <= 1 or count * n < 1_000_000:
        work(range(count))
        return
    from concurrent.futures import ThreadPoolExecutor

    parts = 4 * threads                  # small parts: an uneven part does not hold up the rest
    bounds = [count * i // parts for i in range(parts + 1)]
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, [range(bounds[i], bounds[i + 1]) for i in range(parts)
                             if bounds[i + 1] > bounds[i]]))


def thresholds(probability: np.ndarray) -> np.ndarray:
    """Φ⁻¹(p) for each probability (−∞ at 0: never; +∞ at 1: always), float32 like the draws."""
    inv = NormalDist().inv_cdf
    return np.array([-np.inf if p <= 0.0 else np.inf if p >= 1.0 else inv(float(p))
                     for p in probability], dtype=np.float32)


def event_happens(latents: np.ndarray, probability: np.ndarray) -> np.ndarray:
    """(E, n) bool: where each event happens, its draws (`event_latents`) below Φ⁻¹(p)."""
    return latents < thresholds(probability)[:, None]


def sum_events(effect: np.ndarray, happens: np.ndarray, threads: int = 1) -> np.ndarray:
    """(n, members) £: the sum of the events that happen in each scenario, event by event in
    the register's order (`effect` (E, members), `happens` (E, n))."""
    out = np.zeros((effect.shape[1], happens.shape[1]))
    on = [np.flatnonzero(effect[:, j]) for j in range(effect.shape[1])]

    def add(members: range) -> None:     # each member's row, its events in order
        step = np.empty(happens.shape[1])
        for j in members:
            for k in on[j]:
                np.multiply(happens[k], effect[k, j], out=step)
                out[j] += step

    _by_parts(add, effect.shape[1], happens.size // max(effect.shape[1], 1), threads)
    return out.T


def event_draws(events: Events, n: int, correlation: float, stream):
    """Each event's scenarios, (label, happens (n,) bool, effect (members,) £), in the
    register's order (see `draw_events`)."""
    happens = event_happens(event_latents(events, n, correlation, stream), events.probability)
    yield from zip(events.labels, happens, events.effect, strict=True)


def draw_events(events: Events, n: int, correlation: float, stream) -> np.ndarray:
    """(n, members) £: the sum of the events that happen in each scenario. `stream(*label)` is
    the simulation's named random stream (`simulate._stream` with the seed bound)."""
    happens = event_happens(event_latents(events, n, correlation, stream), events.probability)
    return sum_events(events.effect, happens)


__all__ = ["Events", "register_events", "event_latents", "event_happenings", "thresholds",
           "event_happens",
           "sum_events", "event_draws", "draw_events"]
