"""The risk register: each member's named risks and mitigations, with a size and a likelihood.

One row per item: `org_id`, `item` (its name, unique within the member), `type` (`risk` or
`mitigation`), `amount` (£ ≥ 0: what it costs, or saves, if it happens), `probability` (0–1; a
percentage such as "40%" is read as 0.4), and optionally `group` (items of one group happen
together: one event, one probability) and `recurrent` (true/false: the item recurs next year).

`register_from_frame(frame, system)` validates a register against its system and gives a
`Register`; every problem is reported at once, each naming its row and column: unknown members,
an empty item, an item given twice for a member, a type other than risk or mitigation, negative
or unreadable amounts, probabilities outside 0–1, a group whose items have different
probabilities, flags that are not true/false, and money as elsewhere (finite, within ±£10¹², in
whole pennies). `load_register(path, system)` reads `risks.csv` in a system folder, a `risks`
sheet of a workbook, or a .csv / .xlsx of its own.

Money in £; a risk's amount is adverse if it happens, a mitigation's favourable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskshare.core.cells import unquote
from riskshare.core.errors import Problem, problem, raise_if_errors
from riskshare.core.format import listed, named
from riskshare.core.money import from_pennies, to_pennies
from riskshare.core.schema import MONEY_LIMIT, control_character, is_blank, read_flag, read_number
from riskshare.core.system import System

REQUIRED = ("org_id", "item", "type", "amount", "probability")
OPTIONAL = ("group", "recurrent")
COLUMNS = (*REQUIRED, *OPTIONAL)
TYPES = ("risk", "mitigation")
REGISTER_FILE = "risks.csv"
REGISTER_SHEET = "risks"
#: The most items a register may hold (a system's register runs to tens or hundreds).
MAX_ITEMS = 10_000


@dataclass(frozen=True, eq=False)
class Register:
    """A validated risk register (see the module docstring).

    table: one row per item in the order given, columns `COLUMNS`: org_id, item, type
           ("risk" or "mitigation"), amount (£ ≥ 0, whole pennies), probability (0–1), group
           ("" when the item is on its own) and recurrent (bool).
    """

    table: pd.DataFrame

    @property
    def fingerprint(self) -> str:
        """A digest of the register's content: caches key on it."""
        import hashlib

        digest = hashlib.sha256()
        for col in COLUMNS:
            digest.update("\x1f".join(map(str, self.table[col].tolist())).encode("utf-8"))
            digest.update(b"\x1e")
        return digest.hexdigest()

    def expected(self, members: pd.Index, recurrent_only: bool = False
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Σ amount × probability of the risks and of the mitigations, by member in the order
        of `members` (£, unrounded); with `recurrent_only`, of the recurrent items alone."""
        t = self.table[self.table["recurrent"]] if recurrent_only else self.table
        code = members.get_indexer(t["org_id"])
        weighted = (t["amount"] * t["probability"]).to_numpy(dtype=float)
        risk = (t["type"] == "risk").to_numpy()
        return (np.bincount(code[risk], weights=weighted[risk], minlength=len(members)),
                np.bincount(code[~risk], weights=weighted[~risk], minlength=len(members)))

    @property
    def risks(self) -> pd.DataFrame:
        return self.table[self.table["type"] == "risk"]

    @property
    def mitigations(self) -> pd.DataFrame:
        return self.table[self.table["type"] == "mitigation"]


def load_register(path, system: System) -> Register:
    """The risk register of `system` from a path: a system folder (its `risks.csv`), a .csv
    file, or an .xlsx workbook (its `risks` sheet, or its only sheet).

    Parameters
    ----------
    path : str or os.PathLike
        A system folder holding `risks.csv`, a .csv file, or an .xlsx/.xlsm workbook with a
        sheet named `risks`: columns org_id, item, type, amount, probability and optionally
        group and recurrent.
    system : System
        The system whose members the register names.

    Returns
    -------
    Register
        The items, validated (`Register.table`).

    Raises
    ------
    ValidationError
        Every problem of the register at once, by file line (sheet row) and column.
    InputFileError
        When the file is missing, neither a .csv nor an .xlsx workbook, cannot be read as a
        table, or is a workbook without a `risks` sheet.
    """
    from riskshare.core.io import side_table_path
    from riskshare.core.sources import read_bytes

    path = side_table_path(path, REGISTER_FILE, "risk register")
    return register_from_bytes(read_bytes(path, "risk register"), path.name, system)


def register_from_bytes(data: bytes, filename: str, system: System) -> Register:
    """The register from the bytes of a .csv file or an .xlsx workbook (an upload); messages
    cite file lines or sheet rows."""
    from riskshare.core.io import side_table

    frame, source, rows = side_table(data, filename, REGISTER_SHEET, REQUIRED, COLUMNS,
                                     ("amount",), "risk register",
                                     "org_id, item, type, amount, probability, group and "
                                     "recurrent")
    return register_from_frame(frame, system, source, row_numbers=rows)


def register_from_frame(frame: pd.DataFrame, system: System, source: str = "the risk register",
                        row_numbers=None) -> Register:
    """Validate `frame` (columns of `COLUMNS`) against `system`; ValidationError lists every
    problem. `row_numbers` (one per row) are the file lines or sheet rows messages cite
    (default 1, 2, 3, ...)."""
    register, problems = check_register(frame, system, row_numbers)
    raise_if_errors(problems, source)
    assert register is not None       # no errors: a register was built
    return register


def check_register(frame: pd.DataFrame, system: System, row_numbers=None
                   ) -> tuple[Register | None, list[Problem]]:
    """(the Register, or None when there are errors; every problem found)."""
    if not isinstance(frame, pd.DataFrame):
        return None, [problem("expected a table (a pandas DataFrame) of risks and mitigations")]
    problems: list[Problem] = []
    df = frame.copy()
    df.columns = [str(c).strip().lower() for c in df.columns]
    names = list(df.columns)
    for c in sorted({c for c in names if names.count(c) > 1}):
        problems.append(problem("appears more than once in the header", column=c))
    for c in REQUIRED:
        if c not in names:
            problems.append(problem(f"missing required column '{c}' (columns: "
                                    f"{', '.join(COLUMNS)})", column=c))
    for c in names:
        if c not in COLUMNS:
            problems.append(problem(f"is not a column of the risk register (columns: "
                                    f"{', '.join(COLUMNS)})", column=c))
    if len(df) > MAX_ITEMS:
        problems.append(problem(f"has {len(df):,} items: a register holds at most "
                                f"{MAX_ITEMS:,}"))
    if problems:
        return None, problems

    members = list(system.members)
    known = set(members)
    rows = (np.arange(1, len(df) + 1) if row_numbers is None
            else np.asarray(row_numbers)).tolist()
    out = []
    first: dict[tuple[str, str], int] = {}
    strangers: dict[str, list] = {}          # org_id not in the system: the rows naming it
    for k in range(len(df)):
        row = rows[k]
        org = _text(df["org_id"].iat[k])
        if not org:
            problems.append(problem("org_id is empty", column="org_id", row=row))
        elif org not in known:
            strangers.setdefault(org, []).append(row)
            org = ""
        member = org or None
        item = _text(df["item"].iat[k])
        why = control_character(item) if item else "is empty"
        if why:
            problems.append(problem(f"the item's name {why}", member=member, column="item",
                                    row=row))
        elif org:
            key = (org, item)
            if key in first:
                problems.append(problem(f"{org} has the item {item!r} twice (rows {first[key]} "
                                        f"and {row}): give each item once", member=org,
                                        column="item", row=row))
            first.setdefault(key, row)
        kind = _text(df["type"].iat[k]).lower()
        if kind not in TYPES:
            problems.append(problem("must be risk or mitigation", member=member, column="type",
                                    row=row, value=df["type"].iat[k]))
        amount = _amount(df["amount"].iat[k], row, member, problems)
        chance = _probability(df["probability"].iat[k], row, member, problems)
        group = _text(df["group"].iat[k]) if "group" in df.columns else ""
        if group and control_character(group):
            problems.append(problem(f"the group's name {control_character(group)}",
                                    member=member, column="group", row=row))
        recurrent = False
        if "recurrent" in df.columns and not is_blank(df["recurrent"].iat[k]):
            flag = read_flag(df["recurrent"].iat[k])
            if flag is None:
                problems.append(problem("must be true or false (also read: yes/no, y/n, 1/0)",
                                        member=member, column="recurrent", row=row,
                                        value=df["recurrent"].iat[k]))
            recurrent = bool(flag)
        out.append((org, item, kind, amount, chance, group, recurrent, row))
    # one problem per unknown member, naming its rows (a register of another system is a
    # handful of lines, not one per row)
    for org, where in strangers.items():
        rest = [str(r) for r in where[1:]]
        more = ("" if not rest else f"; also rows {named(rest)}" if len(rest) <= 10 else
                f"; also rows {', '.join(rest[:10])} and {len(rest) - 10:,} more")
        problems.append(problem(f"is not a member of the system (members: {listed(members)})"
                                + more, column="org_id", row=where[0], value=org))
    if any(p.severity == "error" for p in problems):
        return None, problems
    table = pd.DataFrame([r[:7] for r in out], columns=list(COLUMNS))
    for group, part in table[table["group"] != ""].groupby("group", sort=False):
        chances = sorted(set(part["probability"]))
        if len(chances) > 1:
            problems.append(problem(
                f"the items of group {group!r} have probabilities {named(chances)}: a group "
                "happens together, so give its items one probability", column="probability",
                row=out[int(part.index[-1])][7]))
    if any(p.severity == "error" for p in problems):
        return None, problems
    table["amount"] = table["amount"].astype(float)
    table["probability"] = table["probability"].astype(float)
    table["recurrent"] = table["recurrent"].astype(bool)
    return Register(table), problems


def _text(value) -> str:
    """A text cell, trimmed; "'=x" (text riskshare neutralised when it wrote risks.csv) reads
    as "=x", so a register written by riskshare reads back unchanged."""
    return "" if is_blank(value) else unquote(str(value).strip())


def _amount(value, row: int, member: str | None, problems: list) -> float:
    number, why = read_number(value, "money")
    if number is None or math.isnan(number):
        problems.append(problem(why or "is blank: give the item's size in £ (0 or more)",
                                member=member, column="amount", row=row, value=value))
        return math.nan
    if not math.isfinite(number) or abs(number) > MONEY_LIMIT:
        problems.append(problem("must lie within £0 to £1,000,000,000,000 (10¹²)",
                                member=member, column="amount", row=row, value=number))
        return math.nan
    if number < 0:
        problems.append(problem("must be 0 or more: a risk's amount is what it costs if it "
                                "happens, a mitigation's what it saves (the type gives the "
                                "direction)", member=member, column="amount", row=row,
                                value=number))
        return math.nan
    whole = float(from_pennies(int(to_pennies(number))))
    if abs(whole - number) > 1e-6:
        problems.append(problem(f"is given to a fraction of a penny: give whole pennies "
                                f"({whole:,.2f})", member=member, column="amount", row=row,
                                value=value))
        return math.nan
    return whole


def _probability(value, row: int, member: str | None, problems: list) -> float:
    percent = isinstance(value, str) and value.strip().endswith("%")
    number, why = read_number(value, "percent" if percent else "number")
    if number is None or math.isnan(number):
        problems.append(problem(why or "is blank: give the chance it happens, 0 to 1",
                                member=member, column="probability", row=row, value=value))
        return math.nan
    if percent:
        number = number / 100.0
    if not 0.0 <= number <= 1.0:
        problems.append(problem("must be a chance from 0 to 1 (or 0% to 100%)", member=member,
                                column="probability", row=row, value=value))
        return math.nan
    return float(number)


__all__ = ["Register", "COLUMNS", "REQUIRED", "TYPES", "REGISTER_FILE", "REGISTER_SHEET",
           "MAX_ITEMS", "load_register", "register_from_bytes", "register_from_frame",
           "check_register"]
