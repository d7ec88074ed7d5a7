"""The monthly table: each member's plan and actuals month by month (in-month £, financial year
from April: month 1 is April, 12 is March).

Long form, one row per member and month: `org_id`, `month` (1–12), and optionally `plan`
(in-month planned surplus + / deficit −), `actual` (blank for a month not yet closed) and
`forecast` (a submitted in-month forecast for a month not yet closed). Rows may be left out: a
member with no plan has its organisational control total phased over the year (evenly, or by a
named profile, `PROFILES`, for every member or by kind, `PHASINGS`), and a month with no row has
no actual yet.

`monthly_from_frame(frame, system)` validates a table against its system and gives a `Monthly`
with all twelve months of every member; every problem is reported at once, each naming its row
and column: unknown members, months outside 1–12, a member and month given twice, an actual
after a month left blank (months close in order), plans that do not add up to the control total
(by how much; leave them blank to phase the control total instead), some months planned and not
others, and money as elsewhere (finite, within ±£10¹², in whole pennies).

Money in £; surplus/favourable positive, deficit/adverse negative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskshare.core.errors import Problem, problem, raise_if_errors
from riskshare.core.format import listed, money
from riskshare.core.money import allocate, from_pennies, to_pennies
from riskshare.core.schema import MONEY_LIMIT, is_blank, read_number
from riskshare.core.system import System

MONTHS = 12
MONTH_NAMES = ("Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan", "Feb",
               "Mar")
_MONTH_WORDS = ("April", "May", "June", "July", "August", "September", "October", "November",
                "December", "January", "February", "March")


def month_name(month: int) -> str:
    """'month 6 (September)'; 'month 0 (before April closes)': how every page, sheet and
    sentence names a month closed."""
    if month == 0:
        return "month 0 (before April closes)"
    return f"month {month} ({_MONTH_WORDS[month - 1]})"


REQUIRED = ("org_id", "month")
MONEY = ("plan", "actual", "forecast")
COLUMNS = (*REQUIRED, *MONEY)

#: How a year's planned position is spread over its months: weights (April first) that sum to
#: twelve. "winter_acute" gives the winter months more of the year's position — for a deficit
#: plan, more of the deficit in December and January (emergency pressure), less in spring.
PROFILES: dict[str, tuple[float, ...]] = {
    "even": (1.0,) * MONTHS,
    "winter_acute": (0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 1.0, 1.05, 1.15, 1.15, 1.05, 0.90),
}


#: Phasings that give members of some kinds a profile and the rest the even one: acute trusts
#: carry the winter's emergency pressure, commissioners, councils and most other providers do not.
BY_KIND: dict[str, dict[str, str]] = {"winter_for_acute": {"acute": "winter_acute"}}
#: Every phasing a monthly table can be read with: a profile for all members, or by kind.
PHASINGS: tuple[str, ...] = (*PROFILES, *BY_KIND)


def member_profiles(system: System, phasing: str = "even") -> dict[str, str]:
    """Each member's profile under `phasing` (`PHASINGS`): a profile of `PROFILES` for every
    member, or one of `BY_KIND` (its kinds' profiles, "even" for the others)."""
    if phasing in BY_KIND:
        kinds = BY_KIND[phasing]
        return {str(m): kinds.get(str(k), "even") for m, k in system.orgs["kind"].items()}
    return {str(m): phasing if phasing in PROFILES else "even" for m in system.members}


def phase(control_total: float, profile: str = "even") -> np.ndarray:
    """The control total (£) spread over twelve months by `profile` (`PROFILES`), in whole
    pennies that add up to it exactly (largest remainder)."""
    if profile not in PROFILES:
        raise_if_errors([problem(f"is not a phasing profile (profiles: {listed(PROFILES)})",
                                 value=profile, column="profile")], "phasing")
    return allocate(float(control_total), np.asarray(PROFILES[profile], dtype=float))


@dataclass(frozen=True, eq=False)
class Monthly:
    """A validated monthly table (see the module docstring).

    table:   index (org_id, month) for every member of the system and every month 1–12, in the
             system's member order; columns plan (£, whole pennies: given, or phased from the
             control total), actual and forecast (£, NaN where blank).
    phased:  org_ids whose plan was phased from their control total (no plan given).
    profile: the phasing used for them (`PHASINGS`; by kind: `member_profiles`).
    """

    table: pd.DataFrame
    phased: tuple[str, ...]
    profile: str = "even"

    @property
    def fingerprint(self) -> str:
        """A digest of the table's content (every member's plan, actual and forecast, and the
        phasing): caches key on it."""
        import hashlib

        digest = hashlib.sha256("|".join([*self.phased, self.profile]).encode("utf-8"))
        digest.update("|".join(self.table.index.get_level_values(0).astype(str)).encode())
        digest.update(np.ascontiguousarray(self.table.to_numpy(dtype=float)).tobytes())
        return digest.hexdigest()

    def closed(self) -> pd.Series:
        """Each member's latest closed month (0 when none has an actual yet), by org_id."""
        actual = self.table["actual"].notna()
        months = self.table.index.get_level_values("month")
        last = pd.Series(np.where(actual, months, 0), index=self.table.index)
        return last.groupby(level="org_id", sort=False).max().rename("closed")

    @property
    def month(self) -> int:
        """The latest month closed for every member (0 when some member has no actual)."""
        closed = self.closed()
        return int(closed.min()) if len(closed) else 0

    def uneven(self) -> str:
        """When members have closed different months, a sentence naming those behind (the
        year can be looked at only to the month every member has closed); "" when all have
        closed the same month. A forgotten member's rows show here, not as a silent month 0."""
        closed = self.closed()
        if closed.empty or closed.min() == closed.max():
            return ""
        latest = int(closed.max())
        behind = closed[closed < latest]
        none = [str(m) for m, c in behind.items() if c == 0]
        part = [f"{m} (to month {int(c)})" for m, c in behind.items() if c > 0]
        words = []
        if none:
            words.append(f"{listed(none)} {'has' if len(none) == 1 else 'have'} no actuals")
        if part:
            words.append(f"{listed(part)} {'is' if len(part) == 1 else 'are'} closed only "
                         "to an earlier month")
        return (f"{'; '.join(words)}, while other members are closed to month {latest}: the "
                f"year can be looked at only to month {self.month}, the latest closed for "
                "every member (give the missing months' actuals to go further).")


MONTHLY_FILE = "monthly.csv"
MONTHLY_SHEET = "monthly"
WORKBOOK_TYPES = (".xlsx", ".xlsm")


def load_monthly(path, system: System, profile: str = "even") -> Monthly:
    """The monthly table of `system` from a path: a system folder (its `monthly.csv`), a .csv
    file, or an .xlsx workbook (its `monthly` sheet, or its only sheet).

    Parameters
    ----------
    path : str or os.PathLike
        A system folder holding `monthly.csv`, a .csv file, or an .xlsx/.xlsm workbook with a
        sheet named `monthly` (a system workbook riskshare wrote, or the template filled in):
        columns org_id, month (1–12, April first) and optionally plan, actual and forecast
        (in-month £).
    system : System
        The system whose members the table covers (their control totals phase missing plans).
    profile : str, default "even"
        How a member's control total is phased when the table gives it no plan (`PHASINGS`:
        "even", "winter_acute" for every member, or "winter_for_acute": the winter profile
        for acute trusts and even for the others).

    Returns
    -------
    Monthly
        Every member's twelve months: plan (given or phased, £ in whole pennies), actual and
        forecast (£, NaN where blank).

    Raises
    ------
    ValidationError
        Every problem of the table at once, by file line (sheet row) and column.
    InputFileError
        When the file is missing, neither a .csv nor an .xlsx workbook, cannot be read as a
        table, or is a workbook without a `monthly` sheet.
    """
    from riskshare.core.io import side_table_path
    from riskshare.core.sources import read_bytes

    path = side_table_path(path, MONTHLY_FILE, "monthly table")
    return monthly_from_bytes(read_bytes(path, "monthly table"), path.name, system, profile)


def monthly_from_bytes(data: bytes, filename: str, system: System,
                       profile: str = "even") -> Monthly:
    """The monthly table from the bytes of a .csv file or an .xlsx workbook (an upload);
    `filename` names it and its ending picks the format. A workbook's table is its `monthly`
    sheet (any case), or its only sheet; messages cite file lines or sheet rows."""
    from riskshare.core.io import side_table

    frame, source, rows = side_table(data, filename, MONTHLY_SHEET, REQUIRED, COLUMNS, MONEY,
                                     "monthly table", "org_id, month, plan, actual and forecast")
    return monthly_from_frame(frame, system, profile, source, row_numbers=rows)


def monthly_from_frame(frame: pd.DataFrame, system: System, profile: str = "even",
                       source: str = "the monthly table", row_numbers=None) -> Monthly:
    """Validate `frame` (columns of `COLUMNS`) against `system`; ValidationError lists every
    problem. `row_numbers` (one per row) are the file lines or sheet rows messages cite
    (default: 1, 2, 3, ...)."""
    monthly, problems = check_monthly(frame, system, profile, row_numbers)
    raise_if_errors(problems, source)
    assert monthly is not None       # no errors: a table was built
    return monthly


def check_monthly(frame: pd.DataFrame, system: System, profile: str = "even",
                  row_numbers=None) -> tuple[Monthly | None, list[Problem]]:
    """(the Monthly, or None when there are errors; every problem found)."""
    problems: list[Problem] = []
    if profile not in PHASINGS:
        problems.append(problem(f"is not a phasing (phasings: {listed(PHASINGS)})",
                                value=profile, column="profile"))
    if not isinstance(frame, pd.DataFrame):
        return None, [problem("expected a table (a pandas DataFrame) of months")]
    df = frame.copy()
    df.columns = [str(c).strip().lower() for c in df.columns]   # "Org_ID" is org_id
    twice = sorted({c for c in df.columns if list(df.columns).count(c) > 1})
    for c in twice:
        problems.append(problem("appears more than once in the header", column=c))
    if twice:
        return None, problems
    rows = (np.arange(1, len(df) + 1) if row_numbers is None
            else np.asarray(row_numbers)).tolist()
    for c in REQUIRED:
        if c not in df.columns:
            problems.append(problem(f"missing required column '{c}' (columns: "
                                    f"{', '.join(COLUMNS)})", column=c))
    for c in df.columns:
        if c not in COLUMNS:
            problems.append(problem(f"is not a column of the monthly table (columns: "
                                    f"{', '.join(COLUMNS)})", column=c))
    if any(p.severity == "error" for p in problems):
        return None, problems

    members = list(system.members)
    known = set(members)
    cells: dict[tuple[str, int], dict] = {}
    where: dict[tuple[str, int], int] = {}
    for k in range(len(df)):
        row = rows[k]
        raw_id = df["org_id"].iat[k]
        org = "" if is_blank(raw_id) else str(raw_id).strip()
        ok = True
        if not org:
            problems.append(problem("org_id is empty", column="org_id", row=row))
            ok = False
        elif org not in known:
            problems.append(problem(f"is not a member of the system (members: "
                                    f"{listed(members)})", column="org_id", row=row, value=org))
            ok = False
        month = _month(df["month"].iat[k], row, org if ok else None, problems)
        values = {}
        for c in MONEY:
            if c not in df.columns:
                values[c] = math.nan
                continue
            value = _money(df[c].iat[k], c, row, org if ok else None, problems)
            values[c] = math.nan if value is None else value
        if not ok or month is None:
            continue
        key = (org, month)
        if key in cells:
            problems.append(problem(f"{org} month {month} is given twice (rows {where[key]} and "
                                    f"{row}): give each member's month once", member=org,
                                    column="month", row=row))
            continue
        cells[key] = values
        where[key] = row
    if any(p.severity == "error" for p in problems):
        return None, problems

    octs = system.orgs["control_total"]
    plan = np.full((len(members), MONTHS), np.nan)
    actual = np.full((len(members), MONTHS), np.nan)
    forecast = np.full((len(members), MONTHS), np.nan)
    for (org, month), values in cells.items():
        i = members.index(org)
        plan[i, month - 1] = values["plan"]
        actual[i, month - 1] = values["actual"]
        forecast[i, month - 1] = values["forecast"]
    # a submitted forecast is for the months still to come: one beside an actual is not read
    both = ~np.isnan(actual) & ~np.isnan(forecast)
    for i, m in zip(*np.nonzero(both), strict=True):
        problems.append(problem(
            f"month {m + 1} has an actual, so its forecast is not used (a submitted forecast "
            "is for the months still to come)", member=members[i], column="forecast",
            row=where.get((members[i], int(m) + 1)), severity="warning"))
    phased = []
    profiles = member_profiles(system, profile)
    for i, org in enumerate(members):
        given = ~np.isnan(plan[i])
        if not given.any():
            plan[i] = phase(float(octs[org]), profiles[org])
            phased.append(org)
        elif not given.all():
            problems.append(problem(
                f"has a plan for {int(given.sum())} of 12 months: give all twelve, or none to "
                "phase its control total over the year", member=org, column="plan"))
        else:
            total = float(from_pennies(int(to_pennies(plan[i]).sum())))
            gap = total - float(octs[org])
            if abs(gap) >= 0.005:
                problems.append(problem(
                    f"monthly plans add up to {money(total, 2)}, not its control total "
                    f"{money(float(octs[org]), 2)} ({money(abs(gap), 2)} "
                    f"{'above' if gap > 0 else 'below'} it): correct them, or leave plan blank "
                    "to phase the control total", member=org, column="plan"))
        closed = ~np.isnan(actual[i])
        if closed.any():
            last = int(np.flatnonzero(closed)[-1]) + 1
            gaps = [m + 1 for m in range(last - 1) if not closed[m]]
            if gaps:
                problems.append(problem(
                    f"has an actual for month {last} but none for month"
                    f"{'s' if len(gaps) > 1 else ''} {listed(gaps)}: months close in order, so "
                    "give every earlier month's actual", member=org, column="actual",
                    row=where.get((org, last))))
    if any(p.severity == "error" for p in problems):
        return None, problems
    index = pd.MultiIndex.from_product([members, range(1, MONTHS + 1)],
                                       names=["org_id", "month"])
    table = pd.DataFrame({"plan": plan.ravel(), "actual": actual.ravel(),
                          "forecast": forecast.ravel()}, index=index)
    return Monthly(table, tuple(phased), profile), problems


def _month(value, row: int, org: str | None, problems: list) -> int | None:
    import datetime as dt

    if isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
        problems.append(problem(f"is a date ({value:%d %b %Y}): give the month as a number "
                                "from 1 (April) to 12 (March)", member=org, column="month",
                                row=row))
        return None
    number, _ = read_number(value)
    if number is None or math.isnan(number) or not float(number).is_integer() \
            or not 1 <= number <= MONTHS:
        problems.append(problem("must be a whole month from 1 (April) to 12 (March)",
                                member=org, column="month", row=row, value=value))
        return None
    return int(number)


def _money(value, column: str, row: int, org: str | None, problems: list) -> float | None:
    """A money cell: NaN when blank, None (with a problem) when it cannot be read."""
    number, why = read_number(value, "money")
    if number is None:
        problems.append(problem(why, member=org, column=column, row=row, value=value))
        return None
    if math.isnan(number):
        return math.nan
    if not math.isfinite(number) or abs(number) > MONEY_LIMIT:
        problems.append(problem("must lie within ±£1,000,000,000,000 (10¹²)", member=org,
                                column=column, row=row, value=number))
        return None
    whole = float(from_pennies(int(to_pennies(number))))
    if abs(whole - number) > 1e-6:
        problems.append(problem(f"is given to a fraction of a penny: give whole pennies "
                                f"({whole:,.2f})", member=org, column=column, row=row,
                                value=number))
        return None
    return whole


__all__ = ["Monthly", "MONTHS", "MONTH_NAMES", "PROFILES", "BY_KIND", "PHASINGS",
           "member_profiles", "month_name", "phase", "monthly_from_frame",
           "monthly_from_bytes", "load_monthly", "check_monthly"]
