"""Sharing bases: the weights by which money is shared between members.

A basis is a numeric column of the organisations table (e.g. `turnover`), "equal", or a mapping
of weights by org_id. Weights are proportions (≥ 0, not all zero); only their ratios matter.
Rebalancing shares the gap by them and agreements share pooled money by them.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from riskshare.core.errors import problem, raise_if_errors
from riskshare.core.system import System

__all__ = ["WEIGHT_LIMIT", "NOT_A_BASIS", "basis_weights", "bases"]

#: The largest basis weight (a turnover of £10¹², or any proportion): large enough for any
#: basis, small enough that the weights of ten thousand members add up exactly.
WEIGHT_LIMIT = 1e12


def _plain(value):
    """A numpy scalar as the Python value it holds, so a message shows -1, not np.int64(-1)."""
    return value.item() if isinstance(value, np.generic) else value


def basis_weights(system: System, basis) -> np.ndarray:
    """Weights (≥ 0, not all zero) in member order for `basis`; raises ValidationError if bad."""
    orgs = system.orgs
    if isinstance(basis, pd.Series):
        basis = basis.to_dict()
    if isinstance(basis, Mapping):
        unknown = [k for k in basis if k not in orgs.index]
        missing = [k for k in orgs.index if k not in basis]
        problems = [problem("is not a member", member=str(k), column="basis") for k in unknown]
        problems += [problem("has no weight in the basis", member=str(k), column="basis")
                     for k in missing]
        raise_if_errors(problems, "basis weights")
        weights = pd.Series(basis).reindex(orgs.index)
        label = "basis weights"
    elif basis == "equal":
        return np.ones(len(orgs))
    elif isinstance(basis, str):
        usable = system.numeric_columns()
        if basis not in orgs.columns or basis not in usable:
            raise_if_errors([problem(f"is not a numeric column of the system (choose 'equal' or "
                                     f"one of: {', '.join(usable)})", column=str(basis))],
                            "basis")
        weights = system.column(basis)
        label = f"basis column '{basis}'"
    else:
        raise_if_errors([problem("basis must be a column name, 'equal' or a mapping of weights "
                                 "by org_id", value=basis)], "basis")
    typed = weights.map(lambda x: isinstance(x, (bool, np.bool_, str)))   # True is not 1
    w = pd.to_numeric(weights.where(~typed.astype(bool)), errors="coerce")
    values = w.to_numpy(dtype=float)
    bad = ~(np.isfinite(values) & (values >= 0))
    big = ~bad & (values > WEIGHT_LIMIT)
    problems = [problem("must be a finite number ≥ 0", member=str(m), value=_plain(weights[m]))
                for m in orgs.index[bad]]
    problems += [problem(f"must be at most {WEIGHT_LIMIT:,.0f} (weights are proportions; "
                         "scale them down)", member=str(m), value=_plain(weights[m]))
                 for m in orgs.index[big]]
    if not problems and w.sum() <= 0:
        problems.append(problem("is zero for every member, so it cannot share anything"))
    raise_if_errors(problems, label)
    return w.to_numpy(dtype=float)


#: Numeric columns that are positions or rates, never a size to share by or scale by.
NOT_A_BASIS = ("control_total", "forecast", "volatility")


def bases(system: System) -> list[str]:
    """The columns money can be shared by (a basis) or an agreement scaled by (its scale):
    the numeric columns that measure a member's size, turnover first, the rest in table order.
    Every page and command that offers a basis offers these (plus "equal" for a basis)."""
    usable = [c for c in system.numeric_columns() if c not in NOT_A_BASIS]
    return sorted(usable, key=lambda c: c != "turnover")
