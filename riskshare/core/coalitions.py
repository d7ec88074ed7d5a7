"""Coalitions as bit masks, and the Shapley value read off a game's values by mask.

Coalition S of n players is the mask m with bit i set for player i (0 ≤ m < 2ⁿ). The Shapley
value weighs each marginal contribution v(S ∪ i) − v(S) by |S|!(n − |S| − 1)!/n!. Both the
bankruptcy rule "random arrival" (`agreements.claims`) and the cooperative games (`games`) use
these: the rule once per scenario, the games once per game.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["shapley_weights", "mask_sizes", "shapley_by_mask"]


def shapley_weights(n: int) -> np.ndarray:
    """w(s) = s!(n − s − 1)!/n! for s = 0 … n − 1: the chance a player arrives just after a
    given coalition of s others."""
    return np.array([1.0 / (n * math.comb(n - 1, s)) for s in range(n)])


def mask_sizes(n: int) -> np.ndarray:
    """(2ⁿ,) the number of players in each coalition mask, built by doubling (int64)."""
    sizes = np.zeros(1, dtype=np.int64)
    for _ in range(n):
        sizes = np.concatenate([sizes, sizes + 1])
    return sizes


def shapley_by_mask(v: np.ndarray, n: int) -> np.ndarray:
    """The Shapley value of each game in `v` (shape (..., 2ⁿ): v by coalition mask, v[..., 0]
    the empty coalition) as shape (..., n), in the units of v. O(2ⁿ·n) per game: marginal
    contributions are read off a (…, 2, 2^i) reshape, never by looping over coalitions."""
    v = np.asarray(v, dtype=float)
    lead = v.shape[:-1]
    size = 1 << n
    weights = np.r_[shapley_weights(n), 0.0][mask_sizes(n)]
    out = np.empty((*lead, n))
    for i in range(n):
        vv = v.reshape(*lead, size >> (i + 1), 2, 1 << i)
        w = weights.reshape(size >> (i + 1), 2, 1 << i)[:, 0, :]
        out[..., i] = ((vv[..., 1, :] - vv[..., 0, :]) * w).sum(axis=(-2, -1))
    return out
