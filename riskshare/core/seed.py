"""Random seeds: the one rule for what a seed may be (simulation, synthetic systems, sessions)."""

from __future__ import annotations

import numpy as np

from riskshare.core.errors import problem

__all__ = ["SEED_MAX", "check_seed"]

#: The largest seed numpy's generators take from a whole number (2³² − 1).
SEED_MAX = 2**32 - 1


def check_seed(seed, key: str = "seed") -> list:
    """The seed must be None (fresh randomness) or a whole number from 0 to 4,294,967,295."""
    if seed is None:
        return []
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not (
            0 <= seed <= SEED_MAX):
        return [problem(f"the seed must be a whole number from 0 to {SEED_MAX:,}", key=key,
                        value=seed)]
    return []
