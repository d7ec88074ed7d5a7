"""The years ahead: a year's outturn leans on one-offs (deficit support, non-recurrent savings,
one-off income) whose removal sets next year's starting point.

`underlying.underlying` (rs.underlying) gives each member's and the system's underlying
(recurrent) position: the forecast less its non-recurrent benefit (`non_recurrent`, with its
`nr_` lines, in the organisations table), against the control totals, with the members that
meet their control total only through one-offs.
"""

from riskshare.years.underlying import Underlying, underlying

__all__ = ["Underlying", "underlying"]
