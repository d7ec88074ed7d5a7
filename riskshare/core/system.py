"""The System: a validated organisations table plus the system control total.

Build one with `System.from_frame` (or `rs.load_system` / `rs.load_sample`); every problem in
the input is reported at once in one `ValidationError`, and nothing is half-built.

Money is in pounds; surplus/favourable positive, deficit/adverse negative.
`variance = forecast − control_total` (positive = better than target).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from riskshare.core.errors import ArgumentTypeError, Problem, problem, raise_if_errors
from riskshare.core.money import from_pennies, to_pennies
from riskshare.core.schema import (
    INDEX,
    KINDS,
    MONEY_LIMIT,
    ORG_COLUMNS,
    check_orgs,
    control_character,
    is_blank,
    numeric_columns,
    read_number,
    resolved,
)


@dataclass(frozen=True, eq=False)
class System:
    """An integrated care system's members and its control totals.

    Attributes
    ----------
    orgs:          organisations table, index `org_id`; columns of `schema.ORG_COLUMNS` (money in
                   £, `volatility` in % of turnover, `in_sct` bool) then any extra columns.
                   Treat as read-only.
    control_total: the system control total (SCT), £; it covers the members with `in_sct`
                   true (the ICB and the NHS trusts mapped to the system), docs/reconciliation.md.
    name, year:    labels ("Northshire and Vale", "2018/19").
    control_total_set: False when the SCT was not given and defaults to the sum of OCTs.
    warnings:      problems that did not block loading (e.g. a text column that cannot be a basis).
    """

    orgs: pd.DataFrame
    control_total: float
    name: str = ""
    year: str = ""
    control_total_set: bool = True
    warnings: tuple[Problem, ...] = field(default=())

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def from_frame(cls, orgs: pd.DataFrame, control_total=None, name: str = "", year="",
                   *, source: str = "", row_numbers=None, notes=(),
                   settings_source: str = "", found=()) -> System:
        """Validate `orgs` (org_id as a column or the index) and build a System.

        control_total: the SCT in £; None (or blank) means the sum of organisational control
            totals. `source` names the input in error messages; `row_numbers` (one per row)
            are the file lines or sheet rows that messages cite (default: 1, 2, 3, ...);
            `notes` are warnings the loader found (kept in `warnings`); `settings_source` names
            where the SCT, name and year came from when that is not the table (a system.toml,
            a workbook's system sheet), so their problems point there; `found` are problems
            the loader found in the file itself, reported with the table's in one message.
        Raises `ValidationError` listing every problem.
        """
        if not isinstance(orgs, pd.DataFrame):
            raise_if_errors([problem(f"expected a pandas DataFrame of members, got "
                                     f"{type(orgs).__name__}")], source)
        clean, problems = check_orgs(orgs, row_numbers=row_numbers)
        settings_from = len(problems)
        # absent: None or an empty cell; a NaN given explicitly is refused, not taken as absent
        sct_set = not (control_total is None or (isinstance(control_total, str)
                                                  and control_total.strip() == ""))
        sct = math.nan
        if sct_set:
            parsed, why = read_number(control_total, "money")
            if parsed is None or not math.isfinite(parsed):
                extra = f" ({why})" if why and why != "is not a number" else ""
                problems.append(problem("the system control total must be a finite number of "
                                        f"pounds{extra}", column="control_total",
                                        value=control_total))
            elif abs(parsed) > MONEY_LIMIT:
                problems.append(problem("the system control total must lie within "
                                        "±£1,000,000,000,000 (10¹²)", column="control_total",
                                        value=parsed))
            else:
                sct = float(parsed)
        for key, value in (("name", name), ("year", year)):
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (str, int, float)) or (
                    isinstance(value, float) and not math.isfinite(value)):
                problems.append(problem(f"is {_shown(value)}, but must be text (or a number, "
                                        "for a year)", column=key))
            elif isinstance(value, str) and control_character(value):
                problems.append(problem(control_character(value), column=key))
        if settings_source:     # the settings' problems point at the file they came from
            problems[settings_from:] = [replace(p, label=f"{settings_source} key")
                                        for p in problems[settings_from:]]
        if len(clean) and "in_sct" in clean.columns and not clean["in_sct"].astype(bool).any():
            problems.append(problem("no member is inside the system control total: mark the "
                                    "ICB and the NHS trusts mapped to the system in_sct = true "
                                    "(only partners such as a council or a GP federation are "
                                    "outside it)", column="in_sct"))
        warnings = raise_if_errors([*found, *problems], source) + tuple(notes)
        if not sct_set:
            inside = clean["in_sct"].to_numpy(dtype=bool)
            sct = _sum(clean["control_total"].to_numpy(dtype=float)[inside])
        return cls(clean, float(sct), str(name or "").strip(), _year_text(year), sct_set,
                   warnings)

    # -- derived figures (all £) ------------------------------------------------------------
    @property
    def members(self) -> pd.Index:
        return self.orgs.index

    @property
    def n(self) -> int:
        return len(self.orgs)

    @property
    def variance(self) -> pd.Series:
        """Each member's variance, forecast − control_total (£; positive: better than target)."""
        return (self.orgs["forecast"] - self.orgs["control_total"]).rename("variance")

    @property
    def in_sct(self) -> pd.Series:
        """Whether each member counts towards the SCT (bool by org_id; docs/reconciliation.md,
        "The system boundary"). Members
        outside it take part in agreements but not in ΣOCT, the gap, the system forecast,
        rebalancing or the system support test."""
        return self.orgs["in_sct"].astype(bool).rename("in_sct")

    @property
    def inside(self) -> np.ndarray:
        """`in_sct` as a bool array in member order (for array code)."""
        return self.orgs["in_sct"].to_numpy(dtype=bool)

    @property
    def has_outside(self) -> bool:
        """True when some member is outside the SCT boundary."""
        return not bool(self.inside.all())

    @property
    def outside_members(self) -> list[str]:
        """org_ids of the members outside the SCT, in member order."""
        return [str(m) for m in self.members[~self.inside]]

    @property
    def sum_control_totals(self) -> float:
        """ΣOCT over the members inside the SCT (£), summed in whole pennies."""
        return _sum(self.orgs["control_total"].to_numpy(dtype=float)[self.inside])

    @property
    def system_forecast(self) -> float:
        """The system's forecast outturn: Σ forecast over the members inside the SCT (£)."""
        return _sum(self.orgs["forecast"].to_numpy(dtype=float)[self.inside])

    @property
    def gap(self) -> float:
        """SCT − ΣOCT (£, inside the SCT): positive when members' targets fall short of the
        system target."""
        return self.control_total - self.sum_control_totals

    @property
    def label(self) -> str:
        return " ".join(p for p in (self.name, self.year) if p) or "Unnamed system"

    def column(self, name: str) -> pd.Series:
        """A column as a sharing basis or scale reads it (blank net turnover is the turnover:
        `schema.resolved`)."""
        return resolved(self.orgs, name)

    def numeric_columns(self) -> list[str]:
        """Columns usable as a sharing basis or scale."""
        return numeric_columns(self.orgs)

    def volatility(self) -> pd.Series:
        """Volatility per member (% of turnover): the column, else the default for the kind."""
        default = self.orgs["kind"].map(lambda k: KINDS[k].default_volatility)
        return self.orgs["volatility"].fillna(default).rename("volatility")

    # -- changes give new, validated systems -------------------------------------------------
    def with_control_totals(self, control_totals: pd.Series) -> System:
        """A copy with new organisational control totals (e.g. a rebalancing); SCT unchanged."""
        orgs = self.orgs.copy()
        orgs["control_total"] = pd.Series(control_totals).reindex(orgs.index)
        return System.from_frame(orgs, self.control_total, self.name, self.year)

    def replace(self, **changes) -> System:
        """A copy with `orgs`, `control_total`, `name` or `year` changed, re-validated."""
        orgs = changes.pop("orgs", self.orgs)
        sct = changes.pop("control_total", self.control_total if self.control_total_set else None)
        name = changes.pop("name", self.name)
        year = changes.pop("year", self.year)
        if changes:
            raise ArgumentTypeError(f"cannot replace {', '.join(changes)} (only orgs, control_total, "
                                    "name and year)")
        return System.from_frame(orgs, sct, name, year)

    def to_frame(self) -> pd.DataFrame:
        """The organisations table with `org_id` as the first column (for files and editors)."""
        return self.orgs.reset_index()

    @property
    def fingerprint(self) -> str:
        """A digest of the system's content (members, every figure, labels, SCT): two systems
        with the same fingerprint are `equals`. Caches key on it instead of object identity."""
        digest = hashlib.sha256()
        for part in (self.name, str(self.year), repr(self.control_total),
                     str(self.control_total_set), "|".join(map(str, self.orgs.columns)),
                     "|".join(map(str, self.orgs.dtypes))):
            digest.update(part.encode("utf-8"))
            digest.update(b"\0")
        digest.update(pd.util.hash_pandas_object(self.orgs, index=True).to_numpy().tobytes())
        return digest.hexdigest()

    def equals(self, other: System) -> bool:
        """Same members, figures, labels and SCT (exactly)."""
        return (isinstance(other, System) and self.name == other.name and self.year == other.year
                and self.control_total_set == other.control_total_set
                and self.control_total == other.control_total
                and self.orgs.equals(other.orgs))

    # -- files (see riskshare.core.write) -----------------------------------------------------------
    def to_folder(self, path) -> Path:
        from riskshare.core.write import write_folder
        return write_folder(self, path)

    def to_excel(self, path_or_buffer) -> None:
        from riskshare.core.write import write_excel
        write_excel(self, path_or_buffer)

    def __repr__(self) -> str:
        return (f"<System {self.label!r}: {self.n} members, SCT £{self.control_total:,.0f}, "
                f"ΣOCT £{self.sum_control_totals:,.0f}>")


def require_system(value, caller: str) -> System:
    """`value` if it is a System, else ArgumentTypeError naming the call (every public entry
    point checks its system this way, so a file name or a table passed by mistake gets a
    sentence, not a traceback)."""
    if not isinstance(value, System):
        raise ArgumentTypeError(f"{caller}() takes a riskshare System (see rs.load_system or "
                                f"rs.System.from_frame), not {type(value).__name__}")
    return value


def _sum(pounds: np.ndarray) -> float:
    """A sum of £ figures in whole pennies (so the order of members changes nothing)."""
    return float(from_pennies(int(to_pennies(pounds).sum())))


def _shown(value) -> str:
    """A value of the wrong type, briefly ('a list', 'a table')."""
    shown: dict[type, str] = {list: "a list", dict: "a table", tuple: "a list"}
    return shown.get(type(value), repr(value)[:40])


def _year_text(year) -> str:
    """Years are labels: 2018 -> '2018', 2018.0 -> '2018', '2018/19' stays."""
    if is_blank(year):
        return ""
    if isinstance(year, float) and year.is_integer():
        return str(int(year))
    return str(year).strip()


__all__ = ["System", "INDEX", "ORG_COLUMNS", "require_system"]
