"""Constants and named choices, each defined once.

Money tolerances are in £. The enumerations are `StrEnum`s: each member *is* its string
("basis" == Distribute.BASIS), so files, messages and comparisons read as before, while code and
type checkers see the closed set. The `Literal` aliases name the same sets for signatures.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

__all__ = ["PENNY", "HALF_PENNY", "HALF_SHOWN_M", "Distribute", "SupportTest", "Unearned",
           "Objective", "Status", "StepKind", "Judge", "Reference", "DistributeName",
           "SupportTestName", "UnearnedName", "ObjectiveName", "StatusName", "StepKindName",
           "JudgeName", "ReferenceName", "ForecastMethod", "SupportPeriod", "SupportTiming",
           "ForecastMethodName", "SupportPeriodName", "SupportTimingName", "values"]

#: One penny (£): every figure riskshare shows or writes is in whole pennies.
PENNY = 0.01
#: Half a penny (£): a difference smaller than this is rounding, not money. A member whose
#: outturn is within half a penny below its control total meets it; a "better off" must be at
#: least half a penny.
HALF_PENNY = 0.005
#: Half the last digit of a figure shown in £m to two places (£5,000, written in £m): smaller
#: amounts read as zero on a chart label, so they are worded as "none" or "as well off".
HALF_SHOWN_M = 0.005


class Distribute(StrEnum):
    """How an agreement's net pool reaches the members (`[pool] distribute`)."""

    BASIS = "basis"                 # pro rata to a basis column or weights
    COUNTERPARTY = "counterparty"   # all to (or from) one named member
    CLAIMS = "claims"               # a bankruptcy rule over members' claims
    OPTIMISE = "optimise"           # the minimax distribution, solved exactly per scenario


class SupportTest(StrEnum):
    """What conditional support is tested on (`[support] test`)."""

    ORGANISATION = "organisation"   # each member against its own control total
    SYSTEM = "system"               # the system against the SCT, for every member at once
    NONE = "none"                   # paid whatever happens


class Unearned(StrEnum):
    """What happens to support a member does not earn (`[support] unearned`)."""

    LOST = "lost"
    REDISTRIBUTE = "redistribute"   # to members that earned all of theirs, pro rata


class Objective(StrEnum):
    """What `rs.optimise` optimises (`OBJECTIVES` holds each one's label and unit)."""

    MINIMAX_SHORTFALL = "minimax_shortfall"
    MIN_TOTAL_TRANSFER = "min_total_transfer"
    CLOSEST_TO_BASIS = "closest_to_basis"
    MAX_MEETING_CONTROL_TOTAL = "max_meeting_control_total"
    MAX_SUPPORT_EARNED = "max_support_earned"


class Status(StrEnum):
    """How a solve ended (`lp.SolveStatus.status`)."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    TIME_LIMIT = "time_limit"
    NOT_SOLVED = "not_solved"


class StepKind(StrEnum):
    """What a workshop step shows (`[[steps]] kind`)."""

    BASELINE = "baseline"
    SHOCK = "shock"
    AGREEMENT = "agreement"
    COMPARE = "compare"
    WALK_AWAY = "walk_away"
    FAIRER = "fairer"
    IN_YEAR = "in_year"
    RISKS = "risks"
    YEARS = "years"


class Judge(StrEnum):
    """What a workshop step is judged on (`[[steps]] judge`)."""

    FORECAST = "forecast"           # one year at the forecast, plus any shocks
    SCENARIOS = "scenarios"         # across the session's simulated scenarios


class Reference(StrEnum):
    """What a system figure is measured against: every table and sentence names one."""

    OCT = "OCT"                     # each member's own organisational control total
    SUM_OCT = "ΣOCT"                # the sum of the members' control totals
    SCT = "SCT"                     # the system control total


class ForecastMethod(StrEnum):
    """How the months still to come are forecast in year (`rs.in_year`)."""

    PLAN = "plan"                   # YTD actual + the remaining plan
    RUN_RATE = "run_rate"           # YTD actual × 12 / months closed
    SUBMITTED = "submitted"         # YTD actual + the remaining submitted forecast


class SupportPeriod(StrEnum):
    """How often conditional support is judged and paid (`[support] period`)."""

    YEAR = "year"                   # once, on the year-end position
    QUARTER = "quarter"             # in four parts, each on the year to date at a quarter end


class SupportTiming(StrEnum):
    """When a quarter's support is judged (`[support] timing`)."""

    ARREARS = "arrears"             # on the year to date at the quarter's own end (PSF 2018/19)
    ADVANCE = "advance"             # on the year to date at the previous quarter's end (Q1 on
                                    # the agreed plan): deficit support revenue today


DistributeName = Literal["basis", "counterparty", "claims", "optimise"]
SupportTestName = Literal["organisation", "system", "none"]
UnearnedName = Literal["lost", "redistribute"]
ObjectiveName = Literal["minimax_shortfall", "min_total_transfer", "closest_to_basis",
                        "max_meeting_control_total", "max_support_earned"]
StatusName = Literal["optimal", "infeasible", "unbounded", "time_limit", "not_solved"]
StepKindName = Literal["baseline", "shock", "agreement", "compare", "walk_away", "fairer",
                       "in_year", "risks", "years"]
JudgeName = Literal["forecast", "scenarios"]
ReferenceName = Literal["OCT", "ΣOCT", "SCT"]
ForecastMethodName = Literal["plan", "run_rate", "submitted"]
SupportPeriodName = Literal["year", "quarter"]
SupportTimingName = Literal["arrears", "advance"]


def values(choices: type[StrEnum]) -> tuple[str, ...]:
    """The strings of an enumeration, in order (for messages: "must be one of: ...")."""
    return tuple(m.value for m in choices)
