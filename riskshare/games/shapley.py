"""The Shapley value: each player's average marginal contribution over all orders of arrival.

φ_i = Σ_{S ∌ i} |S|!(n − |S| − 1)!/n! · (v(S ∪ {i}) − v(S)).

Exact up to MAX_EXACT players, by one vectorised pass over the 2ⁿ coalition values per player.
Above that (or when `samples` is given) it is estimated from random orders of arrival, drawn in
antithetic pairs (an order and its reverse); every order hands out exactly v(N), so the estimate
is efficient too. The estimate carries a standard error per player in
`result.attrs["standard_error"]` and a `SampledShapleyWarning` says it is not exact.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from riskshare.core.coalitions import shapley_by_mask
from riskshare.core.errors import problem, raise_if_errors
from riskshare.games.game import MAX_EXACT, Game, SampledShapleyWarning

DEFAULT_SAMPLES = 4000


def shapley(g: Game, *, samples: int | None = None, seed=0) -> pd.Series:
    """The Shapley value of `g` (a Series indexed by player, same units as v).

    samples: None for exact (n ≤ MAX_EXACT; above, DEFAULT_SAMPLES orders are sampled), or a
    number of random orders of arrival to sample instead. `attrs["method"]` is "exact" or
    "sampled"; sampled results also carry `attrs["standard_error"]` (a Series) and
    `attrs["samples"]`.

    Parameters
    ----------
    g : Game
        The game (`Game`, or `from_agreement` for an agreement's game, v in £).
    samples : int, optional
        Keyword only. None: exact up to MAX_EXACT players, else DEFAULT_SAMPLES (4,000) orders
        sampled. A whole number ≥ 2: that many random orders of arrival, sampled even when
        exact is possible (drawn in antithetic pairs, so an odd number is rounded up).
    seed : int or numpy seed, default 0
        Keyword only. Seeds the sampled orders (same seed, same estimate); not used when exact.

    Returns
    -------
    pandas.Series
        Each player's Shapley value (index the players, name "shapley"), in the units of v;
        the values add up to v(N).

    Raises
    ------
    ValidationError
        When `samples` is not a whole number ≥ 2.

    Warns
    -----
    SampledShapleyWarning
        When the value is estimated from sampled orders, not computed exactly.
    """
    if samples is None and g.exact:
        out = g.series(_exact(g.values, g.n), "shapley")
        out.attrs["method"] = "exact"
        return out
    m = DEFAULT_SAMPLES if samples is None else samples
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 2:
        raise_if_errors([problem("must be a whole number of orders ≥ 2", column="samples",
                                 value=m)], "shapley")
    value, se = _sampled(g, int(m), seed)
    out = g.series(value, "shapley")
    out.attrs.update(method="sampled", samples=int(m) + (int(m) % 2),
                     standard_error=g.series(se, "standard_error"))
    reason = (f"{g.n} players is more than the {MAX_EXACT} riskshare enumerates exactly"
              if not g.exact else "sampling was asked for")
    warnings.warn(f"Shapley value estimated, not exact ({reason}): the average over "
                  f"{out.attrs['samples']:,} random orders of arrival (seed {seed!r}); largest "
                  f"standard error {se.max():,.4g}", SampledShapleyWarning, stacklevel=2)
    return out


def _exact(v: np.ndarray, n: int) -> np.ndarray:
    """The exact Shapley value from the values by mask (`core.coalitions.shapley_by_mask`)."""
    return shapley_by_mask(v, n)


def _sampled(g: Game, m: int, seed) -> tuple[np.ndarray, np.ndarray]:
    n = g.n
    rng = np.random.default_rng(seed)
    half = (m + 1) // 2
    orders = rng.permuted(np.tile(np.arange(n), (half, 1)), axis=1)
    orders = np.concatenate([orders, orders[:, ::-1]])          # antithetic pairs
    k = len(orders)
    rank = np.argsort(orders, axis=1)                          # rank[o, i]: when i arrives
    # prefix coalitions: after the t-th arrival of order o, player i is in iff rank[o, i] <= t
    prefixes = rank[:, None, :] <= np.arange(n)[None, :, None]  # (k, n, n)
    values = g.value_of(prefixes.reshape(k * n, n)).reshape(k, n)
    marginal_in_order = np.diff(values, axis=1, prepend=0.0)
    marginal = np.take_along_axis(marginal_in_order, rank, axis=1)  # back to player order
    value = marginal.mean(axis=0)
    pairs = 0.5 * (marginal[:half] + marginal[half:])
    se = pairs.std(axis=0, ddof=1) / np.sqrt(half) if half > 1 else np.full(n, np.nan)
    return value, se
