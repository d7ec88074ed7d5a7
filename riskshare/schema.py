"""The organisations table: every column, its unit, default and rule, described in one place.

`ORG_COLUMNS` drives validation (`check_orgs`), the app's column configuration, the blank template
workbook's guide sheet and the README table, so a column is described once and used everywhere.

Units and signs (DOMAIN §2): money in pounds, surplus/favourable positive, deficit/adverse negative;
percentages are percent numbers (3.0 means 3%).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import Problem, problem

INDEX = "org_id"


@dataclass(frozen=True)
class Kind:
    """A kind of member. `default_volatility` (% of turnover, standard deviation of outturn) is
    used by simulation when a member has no `volatility` of its own."""

    key: str
    label: str
    default_volatility: float


KINDS: dict[str, Kind] = {
    k.key: k
    for k in (
        Kind("acute", "Acute trust", 2.0),
        Kind("community", "Community trust", 1.0),
        Kind("mental_health", "Mental health trust", 1.0),
        Kind("ambulance", "Ambulance trust", 1.5),
        Kind("specialist", "Specialist trust", 2.0),
        Kind("commissioner", "Commissioner (ICB)", 0.75),
        Kind("local_authority", "Local authority", 1.0),
        Kind("primary_care", "Primary care", 2.0),
        Kind("other", "Other", 1.5),
    )
}


@dataclass(frozen=True)
class Column:
    """One column of the organisations table.

    kind: "text" (non-empty string), "kind" (one of KINDS), "money" (finite £),
          "percent" (finite percent number).
    required: must be present; otherwise `default` fills it (None: stays blank, meaning "use the
          documented fallback").
    minimum / strict: lower bound, and whether it is excluded (turnover > 0) or not (support ≥ 0).
    """

    name: str
    kind: str
    required: bool
    unit: str
    description: str
    default: float | None = None
    minimum: float | None = None
    strict: bool = False
    blank_allowed: bool = False


ORG_COLUMNS: tuple[Column, ...] = (
    Column("name", "text", True, "", "Display name of the member."),
    Column("kind", "kind", True, "",
           "Type of member: " + ", ".join(KINDS) + "."),
    Column("turnover", "money", True, "£",
           "Annual income; the default scale for percentages and the default sharing basis.",
           minimum=0.0, strict=True),
    Column("control_total", "money", True, "£",
           "Organisational control total (OCT): agreed surplus (+) / deficit (−), "
           "excluding conditional support."),
    Column("forecast", "money", True, "£",
           "Forecast year-end outturn on the same basis as the control total."),
    Column("support", "money", False, "£",
           "Conditional support funding at stake (PSF/CSF/FRF-like), earned by passing the "
           "support test.", default=0.0, minimum=0.0),
    Column("volatility", "percent", False, "% of turnover",
           "Standard deviation of outturn, for simulation; blank uses the default for the kind.",
           default=None, minimum=0.0, blank_allowed=True),
)
COLUMNS: dict[str, Column] = {c.name: c for c in ORG_COLUMNS}
REQUIRED = tuple(c.name for c in ORG_COLUMNS if c.required)
MONEY_COLUMNS = tuple(c.name for c in ORG_COLUMNS if c.kind == "money")

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def parse_number(value: object) -> float | None:
    """A cell as a float, or None when it is not a number.

    Accepts what finance spreadsheets export: "£1,234.50", "1 234", "(1,234)" for a negative,
    a Unicode minus. "£5m" is *not* accepted: units are never guessed. Blank gives NaN.
    """
    if value is None:
        return math.nan
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    if not isinstance(value, str):
        return None
    text = value.strip().replace("\u2212", "-").replace("£", "").replace(",", "").replace(" ", "")
    if text == "":
        return math.nan
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1]
    if not _NUMBER.match(text):
        return None
    number = float(text)
    return -number if negative else number


def is_blank(value: object) -> bool:
    """None, NaN or an empty/whitespace string: a cell with nothing in it."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def _text(value: object) -> str:
    return "" if is_blank(value) else str(value).strip()


def _as_numbers(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(numbers with NaN where blank or unparseable, mask of unparseable cells)."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.astype(float), pd.Series(False, index=series.index)
    parsed = [parse_number(v) for v in series]  # not Series.map: it turns None into NaN
    bad = pd.Series([v is None for v in parsed], index=series.index, dtype=bool)
    numbers = pd.Series([math.nan if v is None else v for v in parsed], index=series.index,
                        dtype=float)
    return numbers, bad


def normalise_kind(value: object) -> str | None:
    """'Mental health' / 'mental-health' / 'MENTAL_HEALTH' -> 'mental_health'; None if unknown."""
    if not isinstance(value, str):
        return None
    key = re.sub(r"[\s\-]+", "_", value.strip().lower())
    aliases = {"icb": "commissioner", "ccg": "commissioner", "la": "local_authority",
               "council": "local_authority", "gp": "primary_care", "mh": "mental_health"}
    key = aliases.get(key, key)
    return key if key in KINDS else None


def check_orgs(frame: pd.DataFrame, row_numbers=None) -> tuple[pd.DataFrame, list[Problem]]:
    """Validate and normalise an organisations table.

    `frame` has `org_id` either as a column or as the index. Returns the clean table (index
    `org_id`, schema columns first in schema order, then extra columns) and every problem found.
    Row numbers in problems are `row_numbers[position]` when given (a file loader passes the CSV
    line or spreadsheet row of each member), else the 1-based position in the table.
    """
    problems: list[Problem] = []
    df = frame.copy()
    df.columns = [str(c).strip() for c in df.columns]
    if INDEX in df.columns:
        df = df.set_index(INDEX)
    elif df.index.name != INDEX:
        problems.append(problem(f"no '{INDEX}' column (one unique id per member is required)",
                                column=INDEX))
        df.index = pd.Index([f"#{i + 1}" for i in range(len(df))], name=INDEX)

    dup_cols = df.columns[df.columns.duplicated()].unique()
    for c in dup_cols:
        problems.append(problem("appears more than once in the header", column=c))
    df = df.loc[:, ~df.columns.duplicated()]

    numbers = np.arange(1, len(df) + 1) if row_numbers is None else np.asarray(row_numbers)
    if len(numbers) != len(df):
        raise ValueError("row_numbers must give one number per row")
    rows = pd.Series(numbers, index=range(len(df)))
    ids = pd.Series(df.index, index=range(len(df)))
    blank_id = ids.map(is_blank).astype(bool)
    ids = ids.map(lambda v: str(int(v)) if isinstance(v, float) and v.is_integer() and
                  not is_blank(v) else _text(v))
    for i in np.flatnonzero(blank_id.to_numpy()):
        problems.append(problem(f"{INDEX} is empty", column=INDEX, row=int(rows[i])))
    dup = ids.duplicated(keep=False) & ~blank_id
    for i in np.flatnonzero(dup.to_numpy()):
        problems.append(problem("is used by more than one row", member=ids[i], column=INDEX,
                                row=int(rows[i]), value=ids[i]))
    df.index = pd.Index(ids, name=INDEX)
    who = ids.where(~blank_id, None)

    def where(i: int) -> dict:
        return {"member": who[i], "row": int(rows[i])}

    if len(df) == 0:
        problems.append(problem("the table has no members"))

    missing = [c.name for c in ORG_COLUMNS if c.required and c.name not in df.columns]
    if missing:
        problems.append(problem("missing required column" + ("s " if len(missing) > 1 else " ")
                                + ", ".join(f"'{m}'" for m in missing)
                                + f" (required: {', '.join(REQUIRED)})"))

    out = pd.DataFrame(index=df.index)
    for col in ORG_COLUMNS:
        if col.name not in df.columns:
            if not col.required:
                out[col.name] = np.nan if col.default is None else col.default
            continue
        raw = df[col.name].reset_index(drop=True)
        if col.kind == "text":
            text = raw.map(_text)
            for i in np.flatnonzero((text == "").to_numpy()):
                problems.append(problem("is empty", column=col.name, **where(i)))
            out[col.name] = text.to_numpy()
        elif col.kind == "kind":
            kinds = raw.map(normalise_kind)
            for i in np.flatnonzero(kinds.isna().to_numpy()):
                problems.append(problem(f"is not a known kind (valid: {', '.join(KINDS)})",
                                        column=col.name, value=raw[i], **where(i)))
            out[col.name] = kinds.to_numpy()
        else:
            values, found = _check_numbers(raw, col, where)
            problems += found
            out[col.name] = values.to_numpy()

    for name in df.columns:
        if name in COLUMNS:
            continue
        if name == "" or name.lower().startswith("unnamed:"):
            if df[name].isna().all():
                continue  # an empty spreadsheet column with no header
            problems.append(problem("a column has no header", column=name))
            continue
        raw = df[name].reset_index(drop=True)
        values, bad = _as_numbers(raw)
        filled = ~(values.isna() & ~bad)  # blank cells say nothing about the column's type
        if len(raw) and bad[filled].all() and filled.any():
            problems.append(problem(
                "is text, so it is kept for display only and cannot be a sharing basis or scale",
                column=name, severity="warning"))
            out[name] = raw.map(_text).to_numpy()
            continue
        values, found = _check_numbers(
            raw, Column(name, "number", False, "", "extra column"), where,
            not_number="is not a number (extra columns must be numeric so they can serve as a "
                       "sharing basis or scale)",
            blank="is blank (extra numeric columns need a value for every member)")
        problems += found
        out[name] = values.to_numpy()
    return out, problems


def _check_numbers(raw: pd.Series, col: Column, where, *, not_number: str = "is not a number",
                   blank: str = "is blank (a number is required)"):
    """Parse one numeric column; return (values, problems): unparseable cells, blanks (unless
    the column has a default or allows blanks), infinities and values below the minimum."""
    problems: list[Problem] = []
    values, bad = _as_numbers(raw)
    for i in np.flatnonzero(bad.to_numpy()):
        problems.append(problem(not_number, column=col.name, value=raw[i], **where(i)))
    empty = values.isna() & ~bad
    if col.default is not None:
        values = values.where(~empty, col.default)
    elif not col.blank_allowed:
        for i in np.flatnonzero(empty.to_numpy()):
            problems.append(problem(blank, column=col.name, **where(i)))
    for i in np.flatnonzero(np.isinf(values.to_numpy())):
        problems.append(problem("is infinite", column=col.name, value=raw[i], **where(i)))
    if col.minimum is not None:
        low = values <= col.minimum if col.strict else values < col.minimum
        rule = (f"must be greater than {col.minimum:g}" if col.strict
                else f"must be at least {col.minimum:g}")
        for i in np.flatnonzero(low.to_numpy()):
            problems.append(problem(rule, column=col.name, value=float(values[i]), **where(i)))
    return values, problems


def numeric_columns(orgs: pd.DataFrame) -> list[str]:
    """Columns that can serve as a sharing basis or a scale (numeric, finite)."""
    return [c for c in orgs.columns if c not in ("name", "kind") and
            pd.api.types.is_numeric_dtype(orgs[c]) and bool(np.isfinite(orgs[c]).all())]


def column_guide() -> pd.DataFrame:
    """One row per column of the organisations table: required (default), unit, meaning.
    Used by the template workbook's guide sheet and the app's column guide."""
    def required(c: Column) -> str:
        if c.required:
            return "yes"
        return "no (blank)" if c.default is None else f"no ({c.default:g})"

    rows = [(INDEX, "yes", "", "Unique id of the member (short text, e.g. 'NGH').")]
    rows += [(c.name, required(c), c.unit, c.description) for c in ORG_COLUMNS]
    rows += [("(any other column)", "no", "", "Extra numeric columns are kept and can be used "
              "as a sharing basis or scale (e.g. 'contribution').")]
    return pd.DataFrame(rows, columns=["column", "required (default)", "unit", "meaning"])
