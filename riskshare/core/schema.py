"""The organisations table: every column, its unit, default and rule, described in one place.

`ORG_COLUMNS` drives validation (`check_orgs`), the app's column configuration, the blank template
workbook's guide sheet and the README table, so a column is described once and used everywhere.

Units and signs (docs/glossary.md): money in pounds, surplus/favourable positive,
deficit/adverse negative; percentages are percent numbers (3.0 means 3%).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskshare.core.cells import unquote
from riskshare.core.errors import CONTROL, INVISIBLE, Problem, problem

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
          "percent" (finite percent number), "flag" (true/false: TRUE, yes, 1 …).
    required: must be present; otherwise `default` fills it (None: stays blank, meaning "use the
          documented fallback").
    minimum / strict: lower bound, and whether it is excluded or not (support ≥ 0).
    maximum: upper bound (volatility ≤ 100% of turnover). Money columns also lie within
          ±MONEY_LIMIT and are held in whole pennies.
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
    maximum: float | None = None


ORG_COLUMNS: tuple[Column, ...] = (
    Column("name", "text", True, "", "Display name of the member."),
    Column("kind", "kind", True, "",
           "Type of member: " + ", ".join(KINDS) + "."),
    Column("turnover", "money", True, "£",
           "Annual income (at least £1); the default scale for percentages and the default "
           "sharing basis.", minimum=1.0),
    Column("control_total", "money", True, "£",
           "Organisational control total (OCT): agreed surplus (+) / deficit (−), "
           "excluding conditional support."),
    Column("forecast", "money", True, "£",
           "Forecast year-end outturn on the same basis as the control total."),
    Column("support", "money", False, "£",
           "Conditional support funding at stake (PSF/CSF/FRF-like), earned by passing the "
           "support test.", default=0.0, minimum=0.0),
    Column("volatility", "percent", False, "% of turnover",
           "Standard deviation of outturn, for simulation (0–100); blank uses the default for "
           "the kind. A cell formatted as a percentage in Excel (2%) is read as 2.",
           default=None, minimum=0.0, blank_allowed=True, maximum=100.0),
    Column("in_sct", "flag", False, "true/false",
           "Whether the member counts towards the system control total (SCT): true for the ICB "
           "and the NHS trusts mapped to the system; false for partners outside it (a council "
           "in a section 75 pool, a GP federation, a voluntary partner). Members outside the "
           "SCT pool and receive under an agreement like any other, but are left out of ΣOCT, "
           "the gap, the system forecast, rebalancing and the system support test.",
           default=True),
    Column("net_turnover", "money", False, "£",
           "Turnover less income from other members of the system (a trust's contract income "
           "from the ICB, say): a sharing basis that does not count the commissioner's "
           "allocation twice (it pays the trusts). At least £0 and at most the turnover; blank "
           "means the turnover (no income from other members).",
           default=None, minimum=0.0, blank_allowed=True),
    Column("non_recurrent", "money", False, "£",
           "One-off benefit inside the forecast (non-recurrent support, income and savings), at "
           "least £0: the underlying (recurrent) position is the forecast less it. Its lines, "
           "if any, are columns named nr_… (nr_support, nr_savings, nr_income), each at least "
           "£0, and it is their total; blank means the total of its lines, or 0 without any.",
           default=None, minimum=0.0, blank_allowed=True),
)
#: Extra columns named with this prefix (nr_support, nr_savings, nr_income, …) are the lines of
#: a member's `non_recurrent`, which is their total (`_non_recurrent`).
NR_PREFIX = "nr_"
COLUMNS: dict[str, Column] = {c.name: c for c in ORG_COLUMNS}
REQUIRED = tuple(c.name for c in ORG_COLUMNS if c.required)
MONEY_COLUMNS = tuple(c.name for c in ORG_COLUMNS if c.kind == "money")
FLAG_COLUMNS = tuple(c.name for c in ORG_COLUMNS if c.kind == "flag")
_TRUE = frozenset({"true", "t", "yes", "y", "1", "in"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "out"})


def read_flag(value: object) -> bool | None:
    """A true/false cell: True/False, 1/0, or text true/false, t/f, yes/no, y/n, in/out, 1/0 in
    any case; None when it is none of these. Blank is handled by the caller (the default)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return None

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_GROUPED = re.compile(r"^\d{1,3}(?:(,)\d{3}|( )\d{3})+(\.\d*)?$")   # 1,234,567.50 or 1 234
_EUROPEAN = re.compile(r"^(\d+,\d+|\d{1,3}(\.\d{3})+,\d*|\d{1,3}( \d{3})+,\d*|"
                       r"\d{1,3}(\.\d{3}){2,})$")                 # 2,5  1.000,50  1 000,5  1.000.000
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2212": "-"})
_DASHES = ("-", "\u2013", "\u2014")

#: The largest £ figure riskshare takes, in either direction: far beyond any NHS budget, and
#: small enough that sums of thousands of members stay exact in whole pennies (int64).
MONEY_LIMIT = 1e12
#: Columns a members table may carry besides riskshare's own (sharing bases, scales, notes):
#: a real table has a handful; a table with thousands is refused before each is checked.
MAX_EXTRA_COLUMNS = 200
#: The longest name or other text cell a members table may hold (the longest NHS trust names
#: run to about 70 characters).
MAX_TEXT = 200
MAX_ID = 64             # an org_id: a short code such as 'RXQ' or 'NGH'
MAX_NOTE = 20_000       # a description or a facilitator's note
NOT_A_NUMBER = "is not a number"
FORMULA = ("is a formula with no saved result: riskshare reads the values a spreadsheet saves, "
           "so open the file in Excel and save it (Excel stores each formula's result), or "
           "paste the figures as values")
DECIMAL_COMMA = ("is not a number riskshare reads: a decimal comma or points between "
                 "thousands are not accepted; use a point for decimals and, if you like, commas "
                 "between thousands (2.5, -1.5, 1,000.50)")


def read_number(value: object, kind: str = "number") -> tuple[float | None, str]:
    """A cell as (number, "") — NaN when blank — or (None, why not).

    Accepts what finance spreadsheets export: "£1,234.50", "1 234", "(1,234)" for a negative,
    a Unicode minus, and by `kind`: in a "money" column an accounting dash ("-") for zero, in a
    "percent" column a percent sign ("2.0%" is 2.0). Refused with a reason: a decimal comma or
    European thousands ("2,5", "1.000,50"; never silently read as 25 or 1.0005), a percentage in
    a money column, and units ("£5m": units are never guessed)."""
    if value is None:
        return math.nan, ""
    if isinstance(value, (bool, np.bool_)):
        return None, NOT_A_NUMBER
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value), ""
    if not isinstance(value, str):
        return None, NOT_A_NUMBER
    text = value.translate(_SPACES).strip()
    if text == "":
        return math.nan, ""
    if text.startswith("="):
        return None, FORMULA
    foreign = next((ch for ch in text if ch.isdigit() and not ch.isascii()), None)
    if foreign is not None:     # '١٢٣' or '１２３': read as written only with the digits 0-9
        return None, (f"uses a digit other than 0–9 ({foreign!r}, U+{ord(foreign):04X}): retype "
                      "the figure with the digits 0–9")
    bare = text.replace("£", "").replace(" ", "")
    if bare in _DASHES:
        return (0.0, "") if kind == "money" else (None, NOT_A_NUMBER)
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1].strip()
    sign, text = _sign(text)
    if text.startswith("£"):
        text = text[1:].strip()
        if not sign:
            sign, text = _sign(text)
    if text.endswith("%"):
        if kind != "percent":
            return None, ("is a percentage, but this column is in £" if kind == "money" else
                          "has a % sign: give the number alone")
        text = text[:-1].strip()
    if (negative and sign) or text[:1] in ("+", "-"):
        return None, NOT_A_NUMBER
    grouped = _GROUPED.match(text)
    if grouped and not (grouped.group(1) and grouped.group(2)):
        text = text.replace(",", "").replace(" ", "")
    elif _EUROPEAN.match(text):
        return None, DECIMAL_COMMA
    if not _NUMBER.match(text):
        return None, NOT_A_NUMBER
    number = float(sign + text)
    return (-number if negative else number), ""


def _sign(text: str) -> tuple[str, str]:
    if text[:1] in ("+", "-"):
        return text[0], text[1:].strip()
    return "", text


def parse_number(value: object, kind: str = "number") -> float | None:
    """A cell as a float, NaN when blank, or None when it is not a number (see `read_number`,
    which also says why)."""
    return read_number(value, kind)[0]


def is_blank(value: object) -> bool:
    """None, NaN or an empty/whitespace string: a cell with nothing in it."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def _text(value: object) -> str:
    """A text cell, trimmed; "'=x" (text riskshare neutralised on export) reads as "=x"."""
    return "" if is_blank(value) else unquote(str(value).strip())


def _as_numbers(series: pd.Series, kind: str = "number") -> tuple[pd.Series, pd.Series]:
    """(numbers with NaN where blank or unparseable, why each unparseable cell is refused:
    "" where it was read)."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.astype(float), pd.Series("", index=series.index, dtype=object)
    read = [read_number(v, kind) for v in series]  # not Series.map: it turns None into NaN
    why = pd.Series([reason for _, reason in read], index=series.index, dtype=object)
    numbers = pd.Series([math.nan if v is None else v for v, _ in read], index=series.index,
                        dtype=float)
    return numbers, why


_CONTROL = re.compile(f"[{CONTROL}]")
_INVISIBLE = re.compile(f"[{INVISIBLE}]")   # see errors.INVISIBLE


def control_character(text: str, multiline: bool = False) -> str:
    """'' if `text` can be shown as it is, else a rule saying why not: it holds a control
    character (named, U+0007) or an invisible one (zero-width spaces, direction overrides,
    U+2028 line separators: they make a name read as something it is not), or it is longer than
    MAX_TEXT characters (MAX_NOTE for `multiline` text, which may also hold line breaks and
    tabs: descriptions, notes)."""
    for ch in _CONTROL.findall(text):
        if multiline and ch in "\n\r\t":
            continue
        words = {"\n": ", a line break", "\r": ", a carriage return", "\t": ", a tab"}
        return (f"contains a control character (U+{ord(ch):04X}{words.get(ch, '')}), which "
                "cannot be shown or exported: remove it")
    hidden = _INVISIBLE.search(text)
    if hidden:
        ch = hidden.group()
        name = unicodedata.name(ch, "").lower()
        return (f"contains an invisible character (U+{ord(ch):04X}{', ' + name if name else ''}), "
                "which can make text read as something else: remove it")
    limit = MAX_NOTE if multiline else MAX_TEXT
    if len(text) > limit:
        return (f"is {len(text):,} characters long: at most {limit:,} "
                + ("(a note, not a document)" if multiline else "(a name, not a note)"))
    return ""



def text_key(data: dict, key: str, problems: list, *, needed_by: str = "",
             multiline: bool = False, path: str = "") -> str:
    """The text under `key` in a section of a parsed file (an agreement, shock or session),
    checked by the one rule every file kind shares: when `needed_by` names the kind ("agreement",
    "step") it must be there and not blank ("every agreement needs a non-empty 'name'"); it must
    be text; it must hold no control or invisible character (line breaks and tabs allowed when
    `multiline`). A problem is recorded under `path` (default `key`) and "" returned when the
    value cannot be used; an optional key that is absent gives ""."""
    where = path or key
    value = data.get(key)
    if value is None or (needed_by and isinstance(value, str) and not value.strip()):
        if needed_by:
            problems.append(problem(f"every {needed_by} needs a non-empty '{key}'", key=where))
        return ""
    if not isinstance(value, str):
        problems.append(problem(f'must be text, in quotes ({key} = "…")', key=where,
                                value=value))
        return ""
    bad = control_character(value, multiline=multiline)
    if bad:
        problems.append(problem(bad, key=where))
        return ""
    return value

def normalise_kind(value: object) -> str | None:
    """'Mental health' / 'mental-health' / 'MENTAL_HEALTH' -> 'mental_health'; None if unknown."""
    if not isinstance(value, str):
        return None
    key = re.sub(r"[\s\-]+", "_", value.strip().lower())
    aliases = {"icb": "commissioner", "ccg": "commissioner", "la": "local_authority",
               "council": "local_authority", "gp": "primary_care", "mh": "mental_health"}
    key = aliases.get(key, key)
    return key if key in KINDS else None


def _header_key(header: str) -> str:
    """A header as the column name it most likely means: 'Control total (£)', 'CONTROL TOTAL'
    and 'control-total' all give 'control_total'. Used only to suggest a rename, never to
    rename: riskshare reads columns by their exact names."""
    text = re.sub(r"\([^)]*\)|\[[^\]]*\]|[£%]", " ", header.lower())
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def _renames(missing: list, near: dict) -> str:
    """'; rename 'Control total (£)' to 'control_total'' for each missing column a header
    resembles ('' when none does)."""
    pairs = [f"'{near[m]}' to '{m}'" for m in missing if m in near]
    return f"; rename {', '.join(pairs)} (headers are read exactly as written)" if pairs else ""


def check_orgs(frame: pd.DataFrame, row_numbers=None) -> tuple[pd.DataFrame, list[Problem]]:
    """Validate and normalise an organisations table.

    `frame` has `org_id` either as a column or as the index. Returns the clean table (index
    `org_id`, schema columns first in schema order, then extra columns) and every problem found.
    Row numbers in problems are `row_numbers[position]` when given (a file loader passes the CSV
    line or spreadsheet row of each member), else the 1-based position in the table.

    Money is held in whole pennies: a figure given to a fraction of a penny is rounded to the
    nearest penny, and a warning says which. A totals row (a blank or "Total" id whose figures
    are the sums of the rows above) gets its own message asking for it to be removed.
    """
    problems: list[Problem] = []
    df = frame.copy()
    df.columns = [str(c).strip() for c in df.columns]
    for c in df.columns:
        bad = control_character(c)
        if bad:
            problems.append(problem(f"the column name {bad}", column=c))
    extra = [c for c in df.columns if c not in COLUMNS and c != INDEX]
    if len(extra) > MAX_EXTRA_COLUMNS:     # refused before any per-column work on the table
        problems.append(problem(
            f"the table has {len(extra):,} columns besides riskshare's own: at most "
            f"{MAX_EXTRA_COLUMNS} extra columns (sharing bases and scales) are read; keep the "
            "ones an agreement uses", column=str(extra[MAX_EXTRA_COLUMNS])[:40]))
        df = df.loc[:, [c in COLUMNS or c == INDEX for c in df.columns]]
    near = {_header_key(c): c for c in df.columns if c not in COLUMNS and c != INDEX}
    if INDEX in df.columns:
        df = df.set_index(INDEX)
    elif df.index.name != INDEX:
        problems.append(problem(f"no '{INDEX}' column (one unique id per member is required)"
                                + _renames([INDEX], near), column=INDEX))
        df.index = pd.Index([f"#{i + 1}" for i in range(len(df))], name=INDEX)

    dup_cols = df.columns[df.columns.duplicated()].unique()
    for c in dup_cols:
        problems.append(problem("appears more than once in the header", column=c))
    df = df.loc[:, ~df.columns.duplicated()]

    numbers = np.arange(1, len(df) + 1) if row_numbers is None else np.asarray(row_numbers)
    if len(numbers) != len(df):
        raise ValueError("row_numbers must give one number per row")
    totals = _totals_rows(df)
    i: int | np.integer         # a row position: from a list, enumerate or np.flatnonzero
    for i in totals:
        problems.append(problem("looks like a totals row (its figures are the sums of the "
                                "members' rows): remove it and load the file again",
                                row=int(numbers[i])))
    if totals:
        keep = np.setdiff1d(np.arange(len(df)), totals)
        df, numbers = df.iloc[keep], numbers[keep]
    rows = pd.Series(numbers, index=range(len(df)))
    ids = pd.Series(df.index, index=range(len(df)))
    blank_id = ids.map(is_blank).astype(bool)
    ids = ids.map(lambda v: str(int(v)) if isinstance(v, float) and v.is_integer() and
                  not is_blank(v) else _text(v))
    for i in np.flatnonzero(blank_id.to_numpy()):
        problems.append(problem(f"{INDEX} is empty", column=INDEX, row=int(rows[i])))
    for i, text in enumerate(ids):
        bad = control_character(text) if len(text) <= MAX_ID else ""
        if bad:
            problems.append(problem(bad, column=INDEX, row=int(rows[i]),
                                    value=text))
        elif len(text) > MAX_ID:
            problems.append(problem(f"is {len(text):,} characters long: an id is at most "
                                    f"{MAX_ID}", column=INDEX, row=int(rows[i]),
                                    value=text[:20] + "…"))
    dup = ids.duplicated(keep=False) & ~blank_id
    for i in np.flatnonzero(dup.to_numpy()):
        problems.append(problem("is used by more than one row", member=ids[i], column=INDEX,
                                row=int(rows[i]), value=ids[i]))
    # ids that differ only in case, full-width forms or how an accent is encoded read as one
    seen: dict[str, int] = {}
    for i, text in enumerate(ids):
        if blank_id.iat[i] or dup.iat[i]:
            continue
        key = unicodedata.normalize("NFKC", text).casefold()
        if key in seen and ids[seen[key]] != text:
            j = seen[key]
            problems.append(problem(
                f"looks the same as {ids[j]!r} (row {int(rows[j])}): org_ids must differ by more "
                "than case, full-width forms or how an accent is encoded", member=None,
                column=INDEX, row=int(rows[i]), value=text))
        seen.setdefault(key, i)
    df.index = pd.Index(ids, name=INDEX)
    hidden = blank_id.to_numpy() | np.array([bool(control_character(t)) or len(t) > MAX_ID
                                             for t in ids], dtype=bool)
    who = [None if h else t for t, h in zip(ids, hidden, strict=True)]

    def where(i: int | np.integer) -> dict:
        return {"member": who[i], "row": int(rows[i])}

    if len(df) == 0:
        problems.append(problem("the table has no members"))

    missing = [c.name for c in ORG_COLUMNS if c.required and c.name not in df.columns]
    if missing:
        problems.append(problem("missing required column" + ("s " if len(missing) > 1 else " ")
                                + ", ".join(f"'{m}'" for m in missing)
                                + f" (required: {', '.join(REQUIRED)})" + _renames(missing, near)))
    for c in ORG_COLUMNS:   # an optional column under another spelling would be silently ignored
        if not c.required and c.name not in df.columns and c.name in near:
            problems.append(problem(f"looks like the '{c.name}' column but is not read as it "
                                    f"(headers are read exactly as written): rename it to "
                                    f"'{c.name}'", column=near[c.name]))

    out: dict = {}     # built column by column, made a table once (no fragmented frame)
    rounded: list[str] = []
    for col in ORG_COLUMNS:
        if col.name not in df.columns:
            if not col.required:
                out[col.name] = np.nan if col.default is None else col.default
            continue
        raw = df[col.name].reset_index(drop=True)
        if col.kind == "text":
            out[col.name] = _check_text(raw, col.name, where, problems).to_numpy()
        elif col.kind == "kind":
            kinds = raw.map(normalise_kind)
            for i in np.flatnonzero(kinds.isna().to_numpy()):
                problems.append(problem(f"is not a known kind (valid: {', '.join(KINDS)})",
                                        column=col.name, value=raw[i], **where(i)))
            out[col.name] = kinds.to_numpy()
        elif col.kind == "flag":
            out[col.name] = _check_flags(raw, col, where, problems)
        else:
            values, found = _check_numbers(raw, col, where)
            problems += found
            if col.kind == "money":
                values = _whole_pennies(values, col.name, where, rounded)
            out[col.name] = values.to_numpy()
    _net_turnover(out, where, problems)
    if rounded:
        problems.append(problem(
            f"{len(rounded)} money figure{'s were' if len(rounded) > 1 else ' was'} given to a "
            "fraction of a penny and rounded to the nearest penny: " + "; ".join(rounded[:3])
            + ("; …" if len(rounded) > 3 else ""), severity="warning"))

    for name in [c for c in df.columns if c not in COLUMNS]:
        if name == "" or name.lower().startswith("unnamed:"):
            if df[name].isna().all():
                continue  # an empty spreadsheet column with no header
            problems.append(problem("a column has no header", column=name))
            continue
        raw = df[name].reset_index(drop=True)
        values, why = _as_numbers(raw)
        bad = why != ""
        filled = ~(values.isna() & ~bad)  # blank cells say nothing about the column's type
        if (len(raw) and bad[filled].all() and filled.any()
                and not (why == DECIMAL_COMMA).any()):
            problems.append(problem(
                "is text, so it is kept for display only and cannot be a sharing basis or scale",
                column=name, severity="warning"))
            out[name] = _check_text(raw, name, where, problems, required=False).to_numpy()
            continue
        values, found = _check_numbers(
            raw, Column(name, "number", False, "", "extra column"), where,
            not_number="is not a number (extra columns must be numeric so they can serve as a "
                       "sharing basis or scale)",
            blank="is blank (extra numeric columns need a value for every member)")
        problems += found
        out[name] = values.to_numpy()
    _non_recurrent(out, where, problems)
    return pd.DataFrame(out, index=df.index), problems


def nr_lines(columns) -> list[str]:
    """The columns among `columns` that are lines of `non_recurrent` (named nr_…)."""
    return [str(c) for c in columns if str(c).startswith(NR_PREFIX) and len(str(c)) > 3]


def _non_recurrent(out: dict, where, problems: list) -> None:
    """`non_recurrent` as the total of its nr_ lines: each line at least £0 in every row; a
    blank total is the lines' total (0 without lines); a total given beside its lines must be
    their total to the penny."""
    lines = nr_lines(out)
    given = np.asarray(out["non_recurrent"], dtype=float)
    if not lines:
        out["non_recurrent"] = np.where(np.isnan(given), 0.0, given)
        return
    parts = np.column_stack([np.asarray(out[c], dtype=float) for c in lines])
    for name, column in zip(lines, parts.T, strict=True):
        for i in np.flatnonzero(column < 0):
            problems.append(problem(f"a line of non_recurrent must be at least £0 (one-off "
                                    f"benefit; a one-off cost is not non-recurrent benefit): "
                                    f"got {column[i]:,.2f}", column=name, **where(i)))
    total = np.round(np.nansum(parts, axis=1), 2)
    for i in np.flatnonzero(~np.isnan(given) & (np.abs(given - total) >= 0.005)):
        problems.append(problem(
            f"is £{given[i]:,.2f} but its lines ({', '.join(lines)}) add up to "
            f"£{total[i]:,.2f}: give the total of its lines, or leave it blank",
            column="non_recurrent", **where(i)))
    out["non_recurrent"] = np.where(np.isnan(given), total, given)


_TOTAL_WORDS = re.compile(r"^(grand\s+)?(totals?|sum|all members|system)$", re.IGNORECASE)
_TOTAL_COLUMNS = ("turnover", "control_total", "forecast")


def _totals_rows(df: pd.DataFrame) -> list[int]:
    """Positions of rows that look like a spreadsheet's totals row: a blank id (or one such as
    "Total"), and turnover, control total and forecast each equal to the sum of the other rows."""
    present = [c for c in _TOTAL_COLUMNS if c in df.columns]
    if len(df) < 3 or len(present) < 2:
        return []
    ids = [_text(v) for v in df.index]
    names = [_text(v) for v in df["name"]] if "name" in df.columns else [""] * len(df)
    labelled = [(i == "" or _TOTAL_WORDS.match(i) is not None)
                and (n == "" or _TOTAL_WORDS.match(n) is not None)
                for i, n in zip(ids, names, strict=True)]
    candidates = [k for k, flag in enumerate(labelled) if flag]
    if not candidates:
        return []
    values = pd.DataFrame({c: _as_numbers(df[c].reset_index(drop=True), "money")[0]
                           for c in present})
    found = []
    others = values.drop(index=candidates)
    summable = [c for c in present if others[c].notna().all()]   # a bad cell leaves a column out
    sums = others[summable].sum()
    for k in candidates:
        row = values.iloc[k]
        checked = [c for c in summable if not np.isnan(row[c])]
        if len(checked) >= 2 and all(abs(row[c] - sums[c]) <= 0.5 + 1e-9 * abs(sums[c])
                                     for c in checked):
            found.append(k)
    return found


def _check_text(raw: pd.Series, name: str, where, problems: list,
                required: bool = True) -> pd.Series:
    """A text column: trimmed; blanks (when required) and control characters refused."""
    text = raw.map(_text)
    for i, value in enumerate(text):
        if type(raw.iat[i]).__name__ == "UnsavedFormula":   # a formula with no saved result
            problems.append(problem(FORMULA, column=name, **where(i), value=str(raw.iat[i])))
            continue
        if value == "" and required:
            problems.append(problem("is empty", column=name, **where(i)))
        bad = control_character(value)
        if bad:
            problems.append(problem(bad, column=name, **where(i),
                                    value=value if len(value) <= MAX_TEXT else value[:40] + "…"))
    return text


def _net_turnover(out: dict, where, problems: list) -> None:
    """Net turnover: more than the turnover is refused (blank stays blank: it means the
    turnover, see `resolved`, so a later change of turnover carries through)."""
    if "net_turnover" not in out or "turnover" not in out:
        return
    net = np.asarray(out["net_turnover"], dtype=float)
    turnover = np.asarray(out["turnover"], dtype=float)
    for i in np.flatnonzero(np.isfinite(net) & np.isfinite(turnover) & (net > turnover)):
        problems.append(problem(f"is more than the turnover (£{turnover[i]:,.2f}): net turnover "
                                "is the turnover less income from other members",
                                column="net_turnover", value=float(net[i]), **where(i)))


def _check_flags(raw: pd.Series, col: Column, where, problems: list) -> np.ndarray:
    """A true/false column: blanks take the default; anything else unreadable is a problem."""
    flags = np.full(len(raw), bool(col.default), dtype=bool)
    for i, value in enumerate(raw):
        if is_blank(value):
            continue
        read = read_flag(value)
        if read is None:
            problems.append(problem("must be true or false (also read: t/f, yes/no, y/n, 1/0, "
                                    f"in/out; blank means {str(bool(col.default)).lower()})",
                                    column=col.name, value=value, **where(i)))
        else:
            flags[i] = read
    return flags


def _whole_pennies(values: pd.Series, name: str, where, rounded: list) -> pd.Series:
    """Money to the nearest penny (half away from zero); the cells that changed are listed."""
    from riskshare.core.money import from_pennies, to_pennies

    finite = np.isfinite(values.to_numpy()) & (np.abs(values.to_numpy()) <= MONEY_LIMIT)
    exact = values.to_numpy(dtype=float)
    pennies = np.where(finite, exact, 0.0)
    whole = from_pennies(to_pennies(pennies))
    changed = finite & (np.abs(pennies * 100.0 - whole * 100.0) > 1e-6)
    for i in np.flatnonzero(changed):
        w = where(i)
        who = f"row {w['row']}" + (f" ({w['member']})" if w["member"] else "")
        rounded.append(f"{who}, column '{name}': {float(exact[i])!r} → {whole[i]:,.2f}")
    return pd.Series(np.where(finite, whole, exact), index=values.index)


def _check_numbers(raw: pd.Series, col: Column, where, *, not_number: str = NOT_A_NUMBER,
                   blank: str = "is blank (a number is required)"):
    """Parse one numeric column; return (values, problems): unparseable cells, blanks (unless
    the column has a default or allows blanks), infinities, values outside the column's bounds
    and, for money and extra columns, beyond ±MONEY_LIMIT."""
    problems: list[Problem] = []
    kind = "money" if col.kind == "money" else "percent" if col.kind == "percent" else "number"
    values, why = _as_numbers(raw, kind)
    for i in np.flatnonzero((why != "").to_numpy()):
        rule = not_number if why[i] == NOT_A_NUMBER else why[i]
        problems.append(problem(rule, column=col.name, value=raw[i], **where(i)))
    empty = values.isna() & (why == "")
    if col.default is not None:
        values = values.where(~empty, col.default)
    elif not col.blank_allowed:
        for i in np.flatnonzero(empty.to_numpy()):
            problems.append(problem(blank, column=col.name, **where(i)))
    v = values.to_numpy(dtype=float)
    for i in np.flatnonzero(np.isinf(v)):
        problems.append(problem("is infinite", column=col.name, value=raw[i], **where(i)))
    if col.minimum is not None:
        low = v <= col.minimum if col.strict else v < col.minimum
        unit = "£" if col.kind == "money" and col.minimum > 0 else ""
        rule = (f"must be greater than {unit}{col.minimum:g}" if col.strict
                else f"must be at least {unit}{col.minimum:g}")
        for i in np.flatnonzero(low):
            problems.append(problem(rule, column=col.name, value=float(v[i]), **where(i)))
    if col.maximum is not None:
        for i in np.flatnonzero(v > col.maximum):
            problems.append(problem(f"must be at most {col.maximum:g}", column=col.name,
                                    value=float(v[i]), **where(i)))
    if col.kind in ("money", "number"):
        unit = "£" if col.kind == "money" else ""
        for i in np.flatnonzero(np.isfinite(v) & (np.abs(v) > MONEY_LIMIT)):
            problems.append(problem(f"must lie within ±{unit}1,000,000,000,000 (10¹²)",
                                    column=col.name, value=float(v[i]), **where(i)))
    return values, problems


#: Columns whose blank cells mean another column's value (`resolved`).
FALLBACKS = {"net_turnover": "turnover"}


def resolved(orgs: pd.DataFrame, name: str) -> pd.Series:
    """Column `name` of an organisations table as a basis or scale reads it: blank cells of a
    column in FALLBACKS take the other column's value (blank net turnover is the turnover)."""
    values = orgs[name]
    other = FALLBACKS.get(name)
    if other is not None and other in orgs.columns:
        values = values.astype(float).fillna(orgs[other].astype(float))
    return values


def numeric_columns(orgs: pd.DataFrame) -> list[str]:
    """Columns that can serve as a sharing basis or a scale (numeric, finite once blanks that
    mean another column are filled: see `resolved`). One-off benefit (`non_recurrent` and its
    nr_ lines) is not one: it describes the forecast, it does not size a member."""
    one_offs = {"non_recurrent", *nr_lines(orgs.columns)}
    return [c for c in orgs.columns if c not in ("name", "kind", *FLAG_COLUMNS, *one_offs) and
            pd.api.types.is_numeric_dtype(orgs[c]) and not pd.api.types.is_bool_dtype(orgs[c])
            and bool(np.isfinite(resolved(orgs, c)).all())]


def column_guide() -> pd.DataFrame:
    """One row per column of the organisations table: required (default), unit, meaning.
    Used by the template workbook's guide sheet and the app's column guide."""
    def required(c: Column) -> str:
        if c.required:
            return "yes"
        if c.default is None:
            return "no (blank)"
        return f"no ({str(c.default).lower()})" if c.kind == "flag" else f"no ({c.default:g})"

    rows = [(INDEX, "yes", "", "Unique id of the member (short text, e.g. 'NGH').")]
    rows += [(c.name, required(c), c.unit, c.description) for c in ORG_COLUMNS]
    rows += [("(any other column)", "no", "", "Extra numeric columns are kept and can be used "
              "as a sharing basis or scale (e.g. 'contribution').")]
    return pd.DataFrame(rows, columns=["column", "required (default)", "unit", "meaning"])
