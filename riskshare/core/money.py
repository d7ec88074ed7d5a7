"""Money to the penny: rounding and exact pro-rata allocation in whole pennies.

Floats carry pounds everywhere in riskshare, but where a result must add up exactly (revised
control totals summing to the system control total, a pool distributed in full) the arithmetic is
done in integer pennies and converted back, so sums agree to the penny.
"""

from __future__ import annotations

import numpy as np


def to_pennies(pounds) -> np.ndarray:
    """Pounds (float or array) -> int64 pennies, rounded half away from zero."""
    p = np.asarray(pounds, dtype=float) * 100.0
    return (np.sign(p) * np.floor(np.abs(p) + 0.5 + 1e-9)).astype(np.int64)


def from_pennies(pennies) -> np.ndarray:
    """Whole pennies (int or array) -> pounds as floats."""
    return np.asarray(pennies, dtype=np.int64) / 100.0


def allocate(total: float, weights, tiebreak=None) -> np.ndarray:
    """Split `total` pounds pro rata to non-negative `weights`, in whole pennies, summing exactly.

    Largest-remainder method: each share is floored to the penny, then the pennies left over go
    one each to the largest fractional remainders. Ties go in the order of `tiebreak` (e.g. the
    org_ids, so that reordering members never changes who gets a penny), else by position.
    Negative totals are allocated as the mirror image of the positive ones.
    """
    w = np.asarray(weights, dtype=float)
    if w.ndim != 1 or len(w) == 0:
        raise ValueError("weights must be a non-empty 1-D array")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("weights must be finite, non-negative and not all zero")
    cents = int(to_pennies(total))
    sign, cents = (-1 if cents < 0 else 1), abs(cents)
    exact = cents * (w / w.sum())
    floors = np.floor(exact).astype(np.int64)  # so 0 <= left < len(w)
    left = cents - int(floors.sum())
    if left:
        remainder = exact - floors
        order_key = np.arange(len(w)) if tiebreak is None else np.argsort(np.argsort(
            np.asarray(tiebreak, dtype=object).astype(str), kind="stable"), kind="stable")
        # sort by remainder descending, then by the tiebreak rank ascending
        ranked = np.lexsort((order_key, -np.round(remainder, 9)))
        floors[ranked[:left]] += 1
    return from_pennies(sign * floors)


def round_to_total(values, total: float, locked=None, tiebreak=None) -> np.ndarray:
    """Round `values` (£) to whole pennies so that they sum exactly to `total` (£, rounded to
    the penny). Each value is floored to the penny and the pennies still needed go, one each, to
    the largest remainders (ties in `tiebreak` order); members marked `locked` (e.g. fixed
    transfers) keep their own rounding. The values must already sum to `total` within a few
    pennies per member: this fixes rounding, it does not distribute money."""
    v = np.asarray(values, dtype=float)
    locked = np.zeros(len(v), bool) if locked is None else np.asarray(locked, bool)
    cents = np.where(locked, to_pennies(v), np.floor(v * 100.0 + 1e-7).astype(np.int64))
    left = int(to_pennies(total)) - int(cents.sum())
    free = np.flatnonzero(~locked)
    if left and len(free):
        remainder = v[free] * 100.0 - cents[free]
        key = np.arange(len(free)) if tiebreak is None else np.argsort(np.argsort(
            np.asarray(tiebreak, dtype=object)[free].astype(str), kind="stable"), kind="stable")
        step = 1 if left > 0 else -1
        order = np.lexsort((key, -remainder if left > 0 else remainder))
        count = abs(left)
        reps, extra = divmod(count, len(free))
        cents[free] += step * reps
        cents[free[order[:extra]]] += step
    return from_pennies(cents)
