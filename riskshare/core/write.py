"""Writing systems: a folder (`organisations.csv` + `system.toml`), a workbook (sheets
organisations, system, guide, after a cover sheet) or the blank template. What is written reads
back exactly through `riskshare.core.io.load_system`, which reads the organisations and system
sheets by name and ignores the others (cover, monthly, guide). Given a monthly table, the folder
gets `monthly.csv` and the workbook a `monthly` sheet, which `riskshare.core.monthly.load_monthly`
reads back; the template has a `monthly` sheet with two example rows. Given a risk register,
the folder gets `risks.csv` and the workbook a `risks` sheet, which
`riskshare.core.register.load_register` reads back identically; the template has a `risks` sheet
with one example row. The sheets read back keep
one header row of the column names the loaders read; the guide gives each column's readable
heading, unit and meaning.
Money in £ to the penny; volatility as the percent number it is (2.0 for 2% of turnover), shown
2.00 (format "0.00", as in every workbook riskshare writes)."""

from __future__ import annotations

import calendar
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import tomli_w

from riskshare.core.cells import csv_text
from riskshare.core.columns import heading
from riskshare.core.excel import Cover, Sheet, workbook_bytes, write_workbook
from riskshare.core.format import money
from riskshare.core.schema import INDEX, MONEY_COLUMNS, ORG_COLUMNS, column_guide

if TYPE_CHECKING:   # System calls these writers, so they take it without importing it
    from riskshare.core.monthly import Monthly
    from riskshare.core.register import Register
    from riskshare.core.system import System

__all__ = ["system_meta", "system_cover", "write_folder", "write_excel", "excel_bytes",
           "template_workbook", "monthly_frame", "monthly_guide", "register_frame",
           "register_guide"]

ORGS_FILE = "organisations.csv"
SYSTEM_FILE = "system.toml"
SYSTEM_KEYS = ("name", "year", "control_total")
ORGS_SHEET, SYSTEM_SHEET, GUIDE_SHEET = "organisations", "system", "guide"
MONTHLY_FILE, MONTHLY_SHEET = "monthly.csv", "monthly"   # as core.monthly reads them
MONTHLY_COLUMNS = ("org_id", "month", "plan", "actual", "forecast")
MONTHLY_MONEY = ("plan", "actual", "forecast")
#: The guide's headings for the monthly sheet's columns ("forecast" there is the submitted
#: in-month forecast, not the organisations table's forecast outturn).
MONTHLY_HEADINGS = {"org_id": "Member ID", "month": "Month (1 is April)",
                    "plan": "Planned in month (£)", "actual": "Actual in month (£)",
                    "forecast": "Submitted forecast in month (£)"}
#: The template's example rows: a closed month and a month still to come.
MONTHLY_EXAMPLE = (("EXAMPLE", 1, -1_000_000.0, -1_250_000.0, None),
                   ("EXAMPLE", 10, -1_000_000.0, None, -900_000.0))
REGISTER_FILE, REGISTER_SHEET = "risks.csv", "risks"     # as core.register reads them
REGISTER_COLUMNS = ("org_id", "item", "type", "amount", "probability", "group", "recurrent")
REGISTER_MONEY = ("amount",)
#: The template's example row: a risk of £2.0m with an even chance, recurring next year.
REGISTER_EXAMPLE = (("EXAMPLE", "CIP slippage", "risk", 2_000_000.0, 0.5, None, True),)


def system_meta(system: System) -> dict:
    """The system file's keys: name, year and the SCT when it was given."""
    meta: dict[str, str | float] = {"name": system.name, "year": system.year}
    if system.control_total_set:
        meta["control_total"] = system.control_total
    return meta


def file_frame(system: System) -> pd.DataFrame:
    """The organisations table as a file holds it: `org_id` first, and `in_sct` only when some
    member is outside the SCT (blank means true, so a system wholly inside reads back the
    same without it), `net_turnover` only when some member has one, `non_recurrent` only when
    some member has a one-off."""
    frame = system.to_frame()
    if not system.has_outside:
        frame = frame.drop(columns="in_sct")
    if frame["net_turnover"].isna().all():
        frame = frame.drop(columns="net_turnover")
    if (frame["non_recurrent"] == 0).all():
        frame = frame.drop(columns="non_recurrent")
    return frame


def monthly_frame(monthly: Monthly, system: System | None = None) -> pd.DataFrame:
    """The monthly table as a file holds it: one row per member and month (org_id, month, plan,
    actual, forecast; £), blank where the table has nothing. A member whose plan was phased
    evenly from its control total keeps its plan blank, so it reads back phased the same way;
    a plan phased by another profile is written month by month, so it reads back the same
    whichever profile is asked for. With `system`, the table must be of that system's members
    (UsageError otherwise)."""
    from riskshare.core.errors import ArgumentTypeError, UsageError
    from riskshare.core.format import listed

    # a Monthly, known by what it holds (core.monthly reads with these writers' names, so this
    # module does not import it)
    if not (isinstance(getattr(monthly, "table", None), pd.DataFrame)
            and list(monthly.table.index.names) == ["org_id", "month"]
            and hasattr(monthly, "phased")):
        raise ArgumentTypeError(f"monthly must be a monthly table (rs.load_monthly), not "
                                f"{type(monthly).__name__}")
    frame = monthly.table.reset_index()
    members = list(dict.fromkeys(frame["org_id"]))
    if system is not None and members != list(system.members):
        raise UsageError(f"the monthly table is of members {listed(members)}, not of this "
                         f"system's ({listed(system.members)}): load it against this system")
    if monthly.profile == "even":
        frame.loc[frame["org_id"].isin(monthly.phased), "plan"] = float("nan")
    frame["month"] = frame["month"].astype(int)
    return frame[list(MONTHLY_COLUMNS)]


def register_frame(register: Register, system: System | None = None) -> pd.DataFrame:
    """The risk register as a file holds it: one row per item, columns org_id, item, type,
    amount (£), probability (0–1), group ("" when on its own) and recurrent (true/false), in
    the order loaded. With `system`, the register must name only that system's members
    (UsageError otherwise)."""
    from riskshare.core.errors import ArgumentTypeError, UsageError
    from riskshare.core.format import listed

    # a Register, known by what it holds (core.register reads through core.io, which imports
    # these writers, so this module does not import it)
    table = getattr(register, "table", None)
    if not (isinstance(table, pd.DataFrame) and tuple(table.columns) == REGISTER_COLUMNS):
        raise ArgumentTypeError(f"register must be a risk register (rs.load_register), not "
                                f"{type(register).__name__}")
    if system is not None:
        strangers = list(dict.fromkeys(m for m in table["org_id"] if m not in system.members))
        if strangers:
            raise UsageError(f"the risk register names {listed(strangers)}, not members of this "
                             f"system ({listed(system.members)}): load it against this system")
    return table[list(REGISTER_COLUMNS)].reset_index(drop=True)


def write_folder(system: System, path, monthly: Monthly | None = None,
                 register: Register | None = None) -> Path:
    """Write `organisations.csv` and `system.toml` into folder `path` (created if needed),
    `monthly.csv` when given the system's `monthly` table (`monthly_frame`) and `risks.csv`
    when given its risk `register` (`register_frame`)."""
    table = None if monthly is None else monthly_frame(monthly, system)
    items = None if register is None else register_frame(register, system)
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / ORGS_FILE).write_text(csv_text(file_frame(system)), encoding="utf-8")
    (path / SYSTEM_FILE).write_text(tomli_w.dumps(system_meta(system)), encoding="utf-8")
    if table is not None:
        (path / MONTHLY_FILE).write_text(csv_text(table, money=MONTHLY_MONEY), encoding="utf-8")
    if items is not None:
        (path / REGISTER_FILE).write_text(csv_text(items, money=REGISTER_MONEY),
                                          encoding="utf-8")
    return path


def monthly_guide() -> pd.DataFrame:
    """One row per column of the monthly table: required (default), unit, meaning (as
    `core.schema.column_guide` is for the organisations table)."""
    rows = [
        ("org_id", "yes", "", "The member: an org_id of the organisations sheet. One row per "
         "member and month; a member may be left out (its control total is phased)."),
        ("month", "yes", "1–12", "Month of the financial year: 1 is April, 12 is March."),
        ("plan", "no (the control total phased evenly)", "£",
         "Planned in-month surplus (+) or deficit (−). Give all twelve months of a member, "
         "adding up to its organisational control total, or none."),
        ("actual", "no (blank: not yet closed)", "£",
         "In-month surplus (+) or deficit (−) of a closed month. Months close in order: an "
         "actual needs every earlier month's."),
        ("forecast", "no (blank)", "£",
         "Submitted in-month forecast for a month not yet closed (the 'submitted' forecast "
         "method: year-to-date actual plus the remaining forecast)."),
    ]
    return pd.DataFrame(rows, columns=["column", "required (default)", "unit", "meaning"])


def _monthly_guide() -> pd.DataFrame:
    """The guide's rows for the monthly sheet (column named "(monthly sheet) plan", ...)."""
    guide = monthly_guide()
    guide.insert(1, "heading", [MONTHLY_HEADINGS.get(c, "") for c in guide["column"]])
    guide["column"] = "(monthly sheet) " + guide["column"]
    return guide


def register_guide() -> pd.DataFrame:
    """One row per column of the risk register: required (default), unit, meaning (as
    `core.schema.column_guide` is for the organisations table)."""
    rows = [
        ("org_id", "yes", "", "The member whose risk or mitigation it is: an org_id of the "
         "organisations sheet. One row per item."),
        ("item", "yes", "", "The item's name, once per member (e.g. CIP slippage, winter "
         "pressure, vacancy slippage)."),
        ("type", "yes", "risk | mitigation", "risk: adverse if it happens (its amount comes "
         "off the forecast); mitigation: favourable if it happens (its amount is added)."),
        ("amount", "yes", "£ ≥ 0", "The item's size if it happens, in whole pennies; the "
         "type gives the direction."),
        ("probability", "yes", "0–1", "The chance it happens (0.4, or 40%). The "
         "risk-adjusted forecast takes off amount × probability."),
        ("group", "no (blank: on its own)", "", "Items with the same group happen together, "
         "as one event: give them one probability."),
        ("recurrent", "no (false)", "true | false", "Whether the item recurs next year (for "
         "the years ahead)."),
    ]
    return pd.DataFrame(rows, columns=["column", "required (default)", "unit", "meaning"])


def _register_guide() -> pd.DataFrame:
    """The guide's rows for the risks sheet (column named "(risks sheet) amount", ...)."""
    guide = register_guide()
    guide.insert(1, "heading", [heading(c).label for c in guide["column"]])
    guide["column"] = "(risks sheet) " + guide["column"]
    return guide


def _workbook_sheets(system: System | None, monthly: Monthly | None = None,
                     register: Register | None = None) -> list[Sheet]:
    """The sheets of a system workbook (`system` None: the template, with an example monthly
    sheet and an example risks sheet; otherwise a monthly sheet only when `monthly` is given
    and a risks sheet only when `register` is given)."""
    if system is None:
        orgs = pd.DataFrame(columns=[INDEX] + [c.name for c in ORG_COLUMNS])
        meta = pd.DataFrame({"key": ["name", "year", "control_total"], "value": [None] * 3})
    else:
        orgs = file_frame(system)
        meta_d = system_meta(system)
        meta = pd.DataFrame({"key": ["name", "year", "control_total"],
                             "value": [meta_d.get(k) for k in ("name", "year", "control_total")]})
    guide = pd.concat([column_guide(), pd.DataFrame(
        [("(system sheet) control_total", "no (sum of OCTs)", "£",
          "System control total (SCT); blank means the sum of the control totals of the members inside it (in_sct true).")],
        columns=["column", "required (default)", "unit", "meaning"])], ignore_index=True)
    guide.insert(1, "heading", [heading(c).label if c.isidentifier() else ""
                                for c in guide["column"]])
    sheets = [Sheet(ORGS_SHEET, orgs, money=MONEY_COLUMNS, percent=("volatility",),
                    names_only=True),
              Sheet(SYSTEM_SHEET, meta, names_only=True)]
    months = (pd.DataFrame(MONTHLY_EXAMPLE, columns=list(MONTHLY_COLUMNS)) if system is None
              else None if monthly is None else monthly_frame(monthly, system))
    if months is not None:
        sheets.append(Sheet(MONTHLY_SHEET, months, money=MONTHLY_MONEY, counts=("month",),
                            names_only=True))
        guide = pd.concat([guide, _monthly_guide()], ignore_index=True)
    items = (pd.DataFrame(REGISTER_EXAMPLE, columns=list(REGISTER_COLUMNS)) if system is None
             else None if register is None else register_frame(register, system))
    if items is not None:
        items = items.astype(object)
        items.loc[items["group"] == "", "group"] = None     # an empty cell, not ""
        sheets.append(Sheet(REGISTER_SHEET, items, money=REGISTER_MONEY, names_only=True))
        guide = pd.concat([guide, _register_guide()], ignore_index=True)
    return sheets + [Sheet(GUIDE_SHEET, guide, labels={
        "column": "Column name", "heading": "Heading", "required (default)": "Required (default)",
        "unit": "Unit", "meaning": "Meaning"})]


def system_cover(system: System | None, monthly: Monthly | None = None,
                 register: Register | None = None) -> Cover:
    """The system workbook's cover: the system, its members and SCT, how far its monthly
    table has closed when it has one and how many items its risk register holds when it has
    one (or a blank template)."""
    if system is None:
        return Cover("blank input workbook (template)", what_if="not applicable (input data)",
                     notes=("Fill in the organisations sheet (one row per member) and the "
                            "system sheet, then load the workbook on the System page or with "
                            "the riskshare command line.",
                            "For the year in progress, fill in the monthly sheet too (one row "
                            "per member and month; the guide sheet describes its columns), "
                            "replacing its two example rows (org_id EXAMPLE).",
                            "For the risks and mitigations members have named, fill in the "
                            "risks sheet (one row per item; the guide sheet describes its "
                            "columns), replacing its example row (org_id EXAMPLE), or delete "
                            "the sheet if there is no register.",))
    sct = (money(system.control_total, 2) + ("" if system.control_total_set
                                             else " (the sum of the members' OCTs)"))
    settings: tuple[tuple[str, object], ...] = (("members", system.n),
                                                ("system control total", sct))
    if monthly is not None:
        m = monthly.month       # month 1 is April: calendar month (m + 2) % 12 + 1
        closed = (f"closed to month {m} ({calendar.month_name[(m + 2) % 12 + 1]}) for every "
                  "member" if m else "no month closed for every member")
        settings += (("monthly table", closed),)
    if register is not None:
        types = list(register_frame(register)["type"])
        risks, mitigations = types.count("risk"), types.count("mitigation")
        settings += (("risk register", f"{len(types):,} item{'s' if len(types) != 1 else ''} "
                      f"({risks:,} risk{'s' if risks != 1 else ''}, {mitigations:,} "
                      f"mitigation{'s' if mitigations != 1 else ''})"),)
    return Cover("system (input workbook)", system=system.label,
                 what_if="not applicable (input data)", settings=settings,
                 notes=("This workbook loads back into riskshare unchanged.",))


def write_excel(system: System, target, monthly: Monthly | None = None,
                register: Register | None = None) -> None:
    """Write the system as a workbook (cover, then sheets organisations, system, guide) to a
    path or buffer; given the system's `monthly` table, a `monthly` sheet before the guide,
    and given its risk `register`, a `risks` sheet before the guide."""
    write_workbook(target, _workbook_sheets(system, monthly, register),
                   system_cover(system, monthly, register))


def excel_bytes(system: System, monthly: Monthly | None = None,
                register: Register | None = None) -> bytes:
    """The system as .xlsx bytes (cover, organisations, system, guide; the `monthly` sheet
    when given the system's monthly table and the `risks` sheet when given its risk
    register), for a download."""
    return workbook_bytes(_workbook_sheets(system, monthly, register),
                          system_cover(system, monthly, register))


def template_workbook() -> bytes:
    """A blank workbook with a cover, the right sheets (organisations, system, monthly with two
    example rows, risks with one), headers and a guide to every column."""
    return workbook_bytes(_workbook_sheets(None), system_cover(None))
