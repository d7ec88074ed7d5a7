"""In year: the year month by month (docs/in_year.md).

`position.in_year` (rs.in_year) says where each member and the system stand at a month — year
to date against plan, the forecast outturn by method, its movements and flags in words;
`fan.landing` (rs.landing) simulates the months still to come with an agreement applied: the
year-end fan, P(meeting control totals) and P(earning each quarter's support). The monthly
table and the forecast rules themselves live in `core.monthly` and `core.forecast`; quarterly
support is judged by the one engine (`agreements.engine`).
"""

from riskshare.inyear.fan import Landing, landing
from riskshare.inyear.position import InYear, in_year

__all__ = ["InYear", "in_year", "Landing", "landing"]
