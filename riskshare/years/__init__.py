"""The years ahead: a year's outturn leans on one-offs (deficit support, non-recurrent savings,
one-off income) whose removal sets next year's starting point.

- `underlying` (rs.underlying): each member's and the system's underlying (recurrent) position,
  the forecast less its non-recurrent benefit (`non_recurrent` and its `nr_` lines), against the
  control totals, with the members meeting theirs only through one-offs;
- `rules` (rs.load_rules): the projection rules file, validated by key path;
- `project` (rs.project): the years ahead from the underlying position, as a bridge by (year,
  member), with an agreement applied year by year (its `[carry]`), across scenarios;
- `capital`: capital consequences of each year's plan.
"""

from riskshare.years.capital import capital_for
from riskshare.years.project import Projection, project
from riskshare.years.rules import Capital, Rules, list_capital_presets, list_rules, load_rules
from riskshare.years.underlying import Underlying, underlying

__all__ = ["Underlying", "underlying", "Rules", "Capital", "load_rules", "list_rules",
           "list_capital_presets", "Projection", "project", "capital_for"]
