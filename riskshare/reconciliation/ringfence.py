"""Ring-fenced floors (the mental health investment standard): a named member's
spending on a line must be at least last year × (1 + growth).

The rule linking the line to a decision: a change to a member's position falls on its spending
pro rata to the line's share of its turnover. A member asked for a higher control total (in
rebalancing), or charged money (net of what it pays in, in `rs.optimise`), spends that much less,
and the line's part of it is change × line / turnover:

    line after = line − change × line / turnover ≥ floor = last year × (1 + growth / 100)

So the most a member's position may move against it is (line − floor) × turnover / line.
Worked case: last year £150.0m, growth 4.4% ⇒ floor £156.6m; with the line at £157.5m and
turnover £1,575.0m (a share of 10%), the control total may rise by at most £9.0m.

A request is a mapping of org_id to the growth % (the line and last year's spend then are the
columns `mh_spend` and `mh_spend_last_year`), or to a table {growth, line, last_year} naming
other columns.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from riskshare.core.errors import Problem, problem
from riskshare.core.format import listed
from riskshare.core.schema import numeric_columns

LINE = "mh_spend"
LAST_YEAR = "mh_spend_last_year"
KEYS = ("growth", "line", "last_year")


@dataclass(frozen=True)
class RingFence:
    """A ring-fenced line of one member: `line` and `last_year` name columns (£), `growth` is
    a percent number (4.4 = 4.4%)."""

    member: str
    growth: float
    line: str = LINE
    last_year: str = LAST_YEAR

    def to_value(self) -> object:
        """The request's value for this member: the growth alone on the default columns."""
        if self.line == LINE and self.last_year == LAST_YEAR:
            return self.growth
        return {"growth": self.growth, "line": self.line, "last_year": self.last_year}


def parse(value, key: str, problems: list[Problem]) -> tuple[RingFence, ...]:
    """Ring fences from a request (see the module docstring); every problem named by key."""
    if value is None:
        return ()
    if isinstance(value, tuple) and all(isinstance(v, RingFence) for v in value):
        return value
    if not isinstance(value, Mapping):
        problems.append(problem("must be a table of org_id = growth % (or = { growth, line, "
                                "last_year })", key=key, value=value))
        return ()
    out = []
    for org_id, spec in value.items():
        where = f"{key}.{org_id}"
        columns = {"line": LINE, "last_year": LAST_YEAR}
        if isinstance(spec, Mapping):
            bad = [k for k in spec if k not in KEYS]
            for k in bad:
                problems.append(problem(f"unknown key (valid keys: {', '.join(KEYS)})",
                                        key=f"{where}.{k}"))
            for k in ("line", "last_year"):
                if k in spec:
                    if not isinstance(spec[k], str) or not spec[k]:
                        problems.append(problem("must name a numeric column (£)",
                                                key=f"{where}.{k}", value=spec[k]))
                    else:
                        columns[k] = spec[k]
            growth = spec.get("growth")
            gkey = f"{where}.growth"
        else:
            growth, gkey = spec, where
        if isinstance(growth, bool) or not isinstance(growth, (int, float, np.integer,
                                                               np.floating)) \
                or not math.isfinite(float(growth)):
            problems.append(problem("must be a finite number (growth, % a year)", key=gkey,
                                    value=growth))
            continue
        if not 0.0 <= float(growth) <= 1000.0:      # a floor grows on last year's spend
            problems.append(problem("must lie between 0 and 1,000 (% a year: a ring-fenced "
                                    "line grows on last year's spend)", key=gkey, value=growth))
            continue
        out.append(RingFence(str(org_id), float(growth), columns["line"],
                             columns["last_year"]))
    return tuple(sorted(out, key=lambda r: r.member))


def check(fences: tuple[RingFence, ...], system, key: str) -> list[Problem]:
    """Problems the ring fences meet on `system`: members, columns, turnover and line > 0."""
    problems: list[Problem] = []
    usable = numeric_columns(system.orgs)
    for fence in fences:
        where = f"{key}.{fence.member}"
        if fence.member not in system.members:
            problems.append(problem(f"names '{fence.member}', which is not a member of the "
                                    f"system (members: {listed(system.members)})", key=where))
            continue
        for name, column in (("line", fence.line), ("last_year", fence.last_year)):
            if column not in usable:
                problems.append(problem(f"'{column}' is not a numeric column of the system "
                                        f"(numeric columns: {listed(usable)})",
                                        key=f"{where}.{name}"))
        if fence.line in usable and not system.column(fence.line)[fence.member] > 0:
            problems.append(problem(f"the ring-fenced line '{fence.line}' of {fence.member} "
                                    "must be above 0", key=where))
    return problems


def floor(fence: RingFence, system) -> float:
    """The floor: last year × (1 + growth) (£)."""
    return float(system.column(fence.last_year)[fence.member]) * (1.0 + fence.growth / 100.0)


def arrays(fences: tuple[RingFence, ...], system) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per member (in member order): the line (£), its floor (£) and its share of turnover
    (line / turnover); NaN where no ring fence applies."""
    n = system.n
    line, low, share = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    turnover = system.orgs["turnover"]
    for fence in fences:
        i = system.members.get_loc(fence.member)
        line[i] = float(system.column(fence.line)[fence.member])
        low[i] = floor(fence, system)
        share[i] = line[i] / float(turnover[fence.member])
    return line, low, share


def ring_fenced(system) -> list[str]:
    """Members with a line to ring-fence on the default columns (`mh_spend` and
    `mh_spend_last_year` both above 0): what the app offers a ring fence for."""
    usable = numeric_columns(system.orgs)
    if LINE not in usable or LAST_YEAR not in usable:
        return []
    held = (system.column(LINE) > 0) & (system.column(LAST_YEAR) > 0)
    return [str(m) for m in system.members[held.to_numpy()]]
