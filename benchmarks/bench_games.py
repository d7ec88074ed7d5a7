"""Timing of the cooperative-game methods. Prints figures with their targets beside them;
asserts nothing.

    .venv/bin/python benchmarks/bench_games.py

Games timed (each best of 3, the game already built):
- the game an agreement defines on a synthetic system (`rs.games.from_agreement`, full pooling
  pro rata to turnover with organisational cliff-edge support), at the forecast;
- a bankruptcy game (estate 40% of the claims; its nucleolus is the Talmud rule, checked);
- a random superadditive game (values grow with coalition size, with noise).
Targets (issue 6): nucleolus for 12 players ≤ 1 s, 16 players ≤ 10 s; least core for 16 ≤ 2 s.
Also: building the agreement game (2ⁿ coalitions through the engine) and the certificate, and
sampled Shapley on 40 members.
"""

from __future__ import annotations

import warnings

import numpy as np
from _timing import best_of, line

import riskshare as rs
from riskshare.agreements.presets import load_preset
from riskshare.games.game import Game, bits

AGREEMENT = load_preset("full_pooling_turnover")


def agreement_game(n: int) -> Game:
    return rs.games.from_agreement(rs.samples.synthetic(n, seed=3), AGREEMENT)


def bankruptcy_game(n: int) -> tuple[Game, np.ndarray, float]:
    claims = np.random.default_rng(n).uniform(1.0, 10.0, n)
    estate = 0.4 * claims.sum()
    b = bits(n).astype(bool)
    outside = (~b * claims).sum(axis=1)
    values = np.maximum(0.0, estate - outside)
    values[0] = 0.0
    return Game._from_array(list(range(n)), values), claims, estate


def random_game(n: int) -> Game:
    rng = np.random.default_rng(n)
    b = bits(n)
    size = b.sum(axis=1)
    values = (b * rng.uniform(1, 3, n)).sum(axis=1) * (1 + 0.05 * size)
    values = values + rng.normal(0, 0.5, len(values)) * size
    values[0] = 0.0
    return Game._from_array(list(range(n)), values)


def main() -> None:
    print("Cooperative games (seconds, best of 3)")
    for n in (12, 16):
        t, _ = best_of(lambda: agreement_game(n), repeat=1 if n == 16 else 3)
        line(f"from_agreement, {n} members ({2 ** n - 1:,} coalitions)", f"{t:.2f} s",
             "interactive")
        games = {"agreement": agreement_game(n), "bankruptcy": bankruptcy_game(n)[0],
                 "random": random_game(n)}
        for label, g in games.items():
            try:
                t, _ = best_of(lambda: rs.games.nucleolus(g))
                name = "nucleolus"
            except rs.games.EmptyImputationSetError:
                t, _ = best_of(lambda: rs.games.prenucleolus(g))
                name = "prenucleolus (imputation set empty)"
            line(f"{name}, {label} game, {n} players", f"{t:.2f} s",
                 "≤ 1 s" if n == 12 else "≤ 10 s")
        for label, g in games.items():
            t, _ = best_of(lambda: rs.games.least_core(g))
            line(f"least core, {label} game, {n} players", f"{t:.2f} s",
                 "≤ 2 s" if n == 16 else "—")
        t, _ = best_of(lambda: rs.games.shapley(games["random"]))
        line(f"exact Shapley, {n} players", f"{t:.3f} s", "—")
    g, claims, estate = bankruptcy_game(16)
    error = np.abs(rs.games.nucleolus(g).to_numpy() - rs.claims.talmud(estate, claims)).max()
    print(f"check: nucleolus of the 16-claimant bankruptcy game vs the Talmud rule, largest "
          f"difference {error:.2e}")
    system = rs.samples.synthetic(12, seed=3)
    scenarios = rs.simulate(system, 1000, seed=1)
    t, _ = best_of(lambda: rs.games.certificate(system, AGREEMENT), repeat=3)
    line("certificate, 12 members, at the forecast", f"{t:.2f} s", "interactive")
    t, _ = best_of(lambda: rs.games.certificate(system, AGREEMENT, scenarios), repeat=1)
    line("certificate, 12 members, 1,000 scenarios", f"{t:.2f} s", "interactive")
    big = rs.samples.synthetic(40, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rs.games.SampledShapleyWarning)
        g40 = rs.games.from_agreement(big, AGREEMENT)
        t, phi = best_of(lambda: rs.games.shapley(g40), repeat=1)
    line("sampled Shapley, 40 members, 4,000 orders", f"{t:.2f} s", "—")
    print(f"  largest standard error: £{phi.attrs['standard_error'].max():,.0f}")


if __name__ == "__main__":
    main()
