"""Writing systems: a folder (`organisations.csv` + `system.toml`), a workbook (sheets
organisations, system, guide, after a cover sheet) or the blank template. What is written reads
back exactly through `riskshare.core.io.load_system`, which reads the organisations and system
sheets by name and ignores the others (cover, guide). Those two sheets keep one header row of the
column names the loader reads; the guide gives each column's readable heading, unit and meaning.
Money in £ to the penny; volatility as the percent number it is (2.0 for 2% of turnover), shown
2.00 (format "0.00", as in every workbook riskshare writes)."""

from __future__ import annotations

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
    from riskshare.core.system import System

__all__ = ["system_meta", "system_cover", "write_folder", "write_excel", "excel_bytes",
           "template_workbook"]

ORGS_FILE = "organisations.csv"
SYSTEM_FILE = "system.toml"
SYSTEM_KEYS = ("name", "year", "control_total")
ORGS_SHEET, SYSTEM_SHEET, GUIDE_SHEET = "organisations", "system", "guide"


def system_meta(system: System) -> dict:
    """The system file's keys: name, year and the SCT when it was given."""
    meta: dict[str, str | float] = {"name": system.name, "year": system.year}
    if system.control_total_set:
        meta["control_total"] = system.control_total
    return meta


def file_frame(system: System) -> pd.DataFrame:
    """The organisations table as a file holds it: `org_id` first, and `in_sct` only when some
    member is outside the SCT (blank means true, so a system wholly inside reads back the
    same without it), `net_turnover` only when some member has one."""
    frame = system.to_frame()
    if not system.has_outside:
        frame = frame.drop(columns="in_sct")
    if frame["net_turnover"].isna().all():
        frame = frame.drop(columns="net_turnover")
    return frame


def write_folder(system: System, path) -> Path:
    """Write `organisations.csv` and `system.toml` into folder `path` (created if needed)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / ORGS_FILE).write_text(csv_text(file_frame(system)), encoding="utf-8")
    (path / SYSTEM_FILE).write_text(tomli_w.dumps(system_meta(system)), encoding="utf-8")
    return path


def _workbook_sheets(system: System | None) -> list[Sheet]:
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
    return [Sheet(ORGS_SHEET, orgs, money=MONEY_COLUMNS, percent=("volatility",),
                  names_only=True),
            Sheet(SYSTEM_SHEET, meta, names_only=True),
            Sheet(GUIDE_SHEET, guide, labels={"column": "Column name", "heading": "Heading",
                                              "required (default)": "Required (default)",
                                              "unit": "Unit", "meaning": "Meaning"})]


def system_cover(system: System | None) -> Cover:
    """The system workbook's cover: the system, its members and SCT (or a blank template)."""
    if system is None:
        return Cover("blank input workbook (template)", what_if="not applicable (input data)",
                     notes=("Fill in the organisations sheet (one row per member) and the "
                            "system sheet, then load the workbook on the System page or with "
                            "the riskshare command line.",))
    sct = (money(system.control_total, 2) + ("" if system.control_total_set
                                             else " (the sum of the members' OCTs)"))
    return Cover("system (input workbook)", system=system.label,
                 what_if="not applicable (input data)",
                 settings=(("members", system.n), ("system control total", sct)),
                 notes=("This workbook loads back into riskshare unchanged.",))


def write_excel(system: System, target) -> None:
    """Write the system as a workbook (cover, then sheets organisations, system, guide) to a
    path or buffer."""
    write_workbook(target, _workbook_sheets(system), system_cover(system))


def excel_bytes(system: System) -> bytes:
    """The system as .xlsx bytes (cover, organisations, system, guide), for a download."""
    return workbook_bytes(_workbook_sheets(system), system_cover(system))


def template_workbook() -> bytes:
    """A blank workbook with a cover, the right sheets, headers and a guide to every column."""
    return workbook_bytes(_workbook_sheets(None), system_cover(None))
