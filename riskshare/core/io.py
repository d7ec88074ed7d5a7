"""Reading systems (writing them is `riskshare.core.write`).

Formats (round-tripping exactly):
- a folder with `organisations.csv` (one row per member, `org_id` first) and `system.toml`
  (`name`, `year`, optional `control_total` in £; absent = sum of OCTs);
- a single `.csv` (a `system.toml` beside it is used when present);
- a `system.toml` naming its table with `organisations = "file.csv"`;
- an `.xlsx` workbook with sheets `organisations` (as the CSV) and `system` (columns `key`,
  `value`; rows `name`, `year`, `control_total`). Other sheets (e.g. the template's `guide`) are
  ignored.

Row numbers in error messages match the CSV line / spreadsheet row (the header is row 1).
"""

from __future__ import annotations

import csv
import dataclasses
import io as _io
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from riskshare.core.errors import (
    CONTROL,
    INVISIBLE,
    ArgumentTypeError,
    InputFileError,
    ValidationError,
    problem,
    raise_if_errors,
)
from riskshare.core.schema import (
    INDEX,
    MAX_EXTRA_COLUMNS,
    MONEY_COLUMNS,
    ORG_COLUMNS,
    control_character,
    is_blank,
)
from riskshare.core.sources import exists, is_dir, is_file, parse_toml, read_bytes, read_text
from riskshare.core.sources import short as _short
from riskshare.core.system import System
from riskshare.core.write import (
    ORGS_FILE,
    ORGS_SHEET,
    SYSTEM_FILE,
    SYSTEM_KEYS,
    SYSTEM_SHEET,
    excel_bytes,
    system_meta,
    template_workbook,
    write_excel,
    write_folder,
)


@dataclass(frozen=True)
class SystemSettings:
    """A system's own settings as a file gives them: name, year, the SCT in £ (None: the sum of
    the organisational control totals) and where they came from, for messages ("system.toml",
    "'system' sheet"; "" when the file gave none). Checked by `System.from_frame`."""

    name: Any = ""            # as the file has it: System.from_frame checks each
    year: Any = ""
    control_total: Any = None
    source: str = ""

    @classmethod
    def of(cls, values: dict, source: str) -> SystemSettings:
        return cls(values.get("name", ""), values.get("year", ""), values.get("control_total"),
                   source)


PERCENT_COLUMNS = tuple(c.name for c in ORG_COLUMNS if c.kind == "percent")
COLUMN_NAMES = (INDEX, *(c.name for c in ORG_COLUMNS))


# -- reading ------------------------------------------------------------------------------------
def load_system(path) -> System:
    """Load a system from a folder, a .csv, a system .toml or an .xlsx workbook.

    `path` is a path (text or a pathlib.Path); bytes from an upload go to `load_bytes`. The
    formats are described in the module docstring and docs/data.md; figures are read to whole
    pennies, and the system's `warnings` say what the load changed.

    Parameters
    ----------
    path : str or os.PathLike
        A folder holding organisations.csv (and optionally system.toml), a .csv file (a
        system.toml beside it is used when present), a system .toml naming its table
        (`organisations = "file.csv"`), or an .xlsx/.xlsm workbook with sheets organisations
        and system. Money in the files is in £.

    Returns
    -------
    System
        The validated members (index org_id; money in £, volatility in % of turnover) and the
        system control total (£; the sum of the OCTs when the file gives none).

    Raises
    ------
    InputFileError
        When the file or folder is missing, of an unsupported type, or cannot be read as a
        table (not UTF-8, a missing sheet, columns separated by tabs, ...).
    ValidationError
        When the table or the system's settings have problems (every one listed, by row and
        column).
    ArgumentTypeError
        When `path` is not a path (bytes from an upload, or another type).
    """
    if isinstance(path, (bytes, bytearray)):
        raise ArgumentTypeError("load_system() takes a path; for a file's bytes (an upload) use "
                                "riskshare.core.io.load_bytes(data, filename)")
    if not isinstance(path, (str, os.PathLike)):
        raise ArgumentTypeError(f"load_system() takes the path of a folder, .csv, .toml or .xlsx "
                                f"file, not {type(path).__name__}")
    if not str(path).strip():
        raise InputFileError("no file given: name a folder, .csv, .toml or .xlsx file")
    path = Path(path)
    if not exists(path):
        raise InputFileError(f"{_short(path)}: no such file or folder")
    if is_dir(path):
        if not exists(path / ORGS_FILE):
            raise InputFileError(f"{path}: a system folder needs '{ORGS_FILE}' "
                                 f"(and optionally '{SYSTEM_FILE}')")
        settings = (_read_system_toml(path / SYSTEM_FILE)[0] if exists(path / SYSTEM_FILE)
                    else SystemSettings())
        return _from_csv(path / ORGS_FILE, settings, f"{path.name}/{ORGS_FILE}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        beside = path.parent / SYSTEM_FILE
        settings = (_read_system_toml(beside)[0] if exists(beside)
                    else SystemSettings(name=_name_of(path)))
        return _from_csv(path, settings, path.name)
    if suffix == ".toml":
        settings, named = _read_system_toml(path, allow_table=True)
        table = _table_beside(path, named)
        return _from_csv(path.parent / table, settings, table)
    if suffix in (".xlsx", ".xlsm"):
        return _from_excel(read_bytes(path), str(path))
    raise InputFileError(f"{path}: unsupported file type '{suffix}' "
                         "(use a folder, .csv, .toml or .xlsx)")


def _name_of(filename) -> str:
    """A system's name taken from its file's name ('Northshire 2024.csv' -> 'Northshire 2024'),
    without any control or invisible character the file name held (it is not the file's
    content, so it is cleaned rather than refused)."""
    return re.sub(f"[{CONTROL}{INVISIBLE}]", "", Path(str(filename)).stem)


def load_bytes(data: bytes, filename: str) -> System:
    """Load an uploaded file (`.csv` or `.xlsx`) from its bytes; `filename` picks the format."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        return _from_csv(bytes(data), SystemSettings(name=_name_of(filename)), filename)
    if suffix in (".xlsx", ".xlsm"):
        return _from_excel(data, filename)
    raise InputFileError(f"{filename}: unsupported file type '{suffix}' (use .csv or .xlsx)")


#: Columns a members file may have in all: riskshare's own and MAX_EXTRA_COLUMNS more.
MAX_COLUMNS = len(ORG_COLUMNS) + 1 + MAX_EXTRA_COLUMNS


def _from_csv(source, settings: SystemSettings, label: str) -> System:
    """`source`: a path or the bytes of an upload; `label` names it in messages (see
    `csv_grid` for how the file is read)."""
    grid, sep, rows, header_at, width = csv_grid(source, label, MAX_COLUMNS,
                                                 "its own columns and up to "
                                                 f"{MAX_EXTRA_COLUMNS} sharing bases and scales")
    ambiguous = _point_thousands(rows, header_at, width) if sep == ";" else []
    if not ambiguous:
        return _build(grid, settings, label)
    try:                     # every other problem of the file in the same message, in row order
        _build(grid, settings, label)
        others: list = []
    except ValidationError as exc:      # a cell that reads two ways is not also misread
        cells = {(p.row, p.column) for p in ambiguous}
        others = [p for p in exc.problems if (p.row, p.column) not in cells]
    found = sorted(ambiguous + others, key=lambda p: (p.row is not None, p.row or 0))
    raise ValidationError(found, label)


def csv_grid(source, label: str, max_columns: int, allowed: str):
    """A CSV file as a grid of text cells (a DataFrame of str, header row included), with how
    it was read: (grid, separator, rows, header row position, width). `source` is a path or
    the bytes of an upload; `label` names it in messages; `allowed` says what the
    `max_columns` columns are ("its own columns and ...").

    Columns are separated by commas, or by semicolons when the header uses them (as European
    spreadsheets save CSV); either way a decimal comma in a figure is refused by validation,
    never read as a thousands separator. A row with more cells than the header (an unquoted
    comma inside a figure splits it) is refused by line number."""
    if not isinstance(source, bytes) and not is_file(source):
        raise InputFileError(f"{label}: file not found")
    data = source if isinstance(source, bytes) else read_bytes(source)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{label}: not a readable CSV table: it is not UTF-8 text (byte "
                             f"{exc.start + 1} cannot be read); save it as 'CSV UTF-8' and try "
                             "again") from None
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    sep = ";" if first.count(";") > first.count(",") else ","
    if "\t" in first and first.count("\t") > first.count(sep):
        raise InputFileError(f"{label}: the columns are separated by tabs; riskshare reads CSV "
                             "separated by commas (or semicolons): save the sheet as 'CSV UTF-8 "
                             "(comma delimited)'")
    try:
        rows = list(csv.reader(_io.StringIO(text, newline=""), delimiter=sep,
                               skipinitialspace=True, strict=True))
    except csv.Error as exc:
        raise InputFileError(f"{label}: not a readable CSV table ({exc})") from None
    if not any(any(cell.strip() for cell in row) for row in rows):
        raise InputFileError(f"{label}: not a readable CSV table (the file is empty)")
    header_at = next(i for i, row in enumerate(rows) if any(cell.strip() for cell in row))
    width = len(rows[header_at])
    problems = []
    if width > max_columns:
        raise InputFileError(f"{label}: the header has {width:,} columns; riskshare reads at most "
                             f"{max_columns:,} ({allowed})")
    for i, row in enumerate(rows[header_at + 1:], start=header_at + 2):
        # even a blank cell past the header counts: '1,500' split in two shifts every figure
        # after it, and a blank last column would hide that
        if len(row) > width and any(cell.strip() for cell in row):
            problems.append(problem(
                f"has {len(row)} cells but the header has {width} columns: a {sep!r} inside an "
                "unquoted figure (such as 2,5 or 1,000) splits it into two cells, and every "
                "figure after it moves one column along; put the figure in quotes, or write it "
                "without the separator (a separator at the end of the row counts too)", row=i))
    raise_if_errors(problems, label)
    grid = [row[:width] + [""] * (width - len(row)) for row in rows]
    return pd.DataFrame(grid, dtype=object), sep, rows, header_at, width


# One point or one comma and exactly three digits after it ("750.000", "-1.500", "£980.500",
# "1,500"): in a comma-separated file a decimal point or a comma between thousands, but in a
# semicolon-separated one (as a European spreadsheet saves CSV) as likely the other way round.
# Which one the user meant cannot be told, so it is refused.
_POINT_THOUSANDS = re.compile(r"^\(?[+\-\u2212]?\s*£?\s*[+\-\u2212]?\d{1,3}([.,])\d{3}\s*%?\s*\)?$")
_TEXT_COLUMNS = ("org_id", "name", "kind")


def _point_thousands(rows: list, header_at: int, width: int) -> list:
    """A problem for each figure of a semicolon-separated file that reads two ways."""
    header = [str(c).strip() for c in rows[header_at]]
    id_at = header.index("org_id") if "org_id" in header else None
    out = []
    for i, row in enumerate(rows[header_at + 1:], start=header_at + 2):
        member = row[id_at].strip() if id_at is not None and id_at < len(row) else ""
        member = member if member and not control_character(member) else None
        for j, cell in enumerate(row[:width]):
            if header[j].lower() in _TEXT_COLUMNS:
                continue
            two_ways = _POINT_THOUSANDS.match(cell.strip())
            if two_ways and two_ways.group(1) == ".":
                out.append(problem(
                    "reads two ways in a file separated by semicolons: a point between "
                    "thousands (as European spreadsheets write 750.000 for 750,000) or a decimal "
                    "point (750.0); write it without the point (750000) or with one or two "
                    "decimals (750.0)", row=i, member=member, column=header[j],
                    value=cell.strip()))
            elif two_ways:
                out.append(problem(
                    "reads two ways in a file separated by semicolons: a decimal comma (as "
                    "European spreadsheets write 1,500 for 1.5) or a comma between thousands "
                    "(1500); write it without the comma (1500) or with a decimal point (1.5)",
                    row=i, member=member, column=header[j], value=cell.strip()))
    return out


def _is_percent_format(number_format) -> bool:
    """Whether an Excel number format shows its value as a percentage (a % outside quotes
    and escapes: '0.0%' is, '0.00"%"' is not)."""
    text = re.sub(r'"[^"]*"|\\.', "", str(number_format or ""))
    return "%" in text


def open_workbook(data: bytes, name: str):
    """The bytes of an .xlsx workbook opened with openpyxl (read-only, the values saved in its
    cells), once `_check_unzipped_size` has passed; InputFileError naming `name` when they are
    not a readable workbook. The caller closes it."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    _check_unzipped_size(data, name)
    try:
        return load_workbook(_io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, ValueError, KeyError, OSError,
            TypeError) as exc:
        raise InputFileError(f"{name}: not a readable .xlsx workbook ({exc})") from None
    except Exception as exc:    # noqa: BLE001 — XML that cannot be parsed (entities, a DTD, …)
        raise InputFileError(f"{name}: not a readable .xlsx workbook ({type(exc).__name__}: "
                             f"{str(exc)[:120]})") from None


def _from_excel(data: bytes, label: str) -> System:
    name = Path(label).name
    wb = open_workbook(data, name)
    try:
        lower = {k.strip().lower(): k for k in wb.sheetnames}
        sheet_note: tuple = ()
        if ORGS_SHEET not in lower and len(wb.sheetnames) == 1:
            # a user's own one-sheet workbook ('Members'): its only sheet is the members table,
            # said in a note so nobody wonders which sheet was read
            only = wb.sheetnames[0]
            lower[ORGS_SHEET] = only
            sheet_note = (problem(f"the workbook has one sheet, '{only}', read as the members "
                                  f"table (the template names it '{ORGS_SHEET}')",
                                  severity="warning"),)
        if ORGS_SHEET not in lower:
            raise InputFileError(f"{name}: no '{ORGS_SHEET}' sheet (found: "
                                 f"{', '.join(wb.sheetnames) or 'none'}); download the template "
                                 "to see the layout")
        settings = SystemSettings()
        found: list = []
        if SYSTEM_SHEET in lower:
            values, formats = _sheet_grid(wb[lower[SYSTEM_SHEET]], name)
            if values.isna().any().any():
                _unsaved_formulas(data, lower[SYSTEM_SHEET], values)
            for j in range(values.shape[1]):
                _percent_money(values, formats, range(values.shape[0]), j)
            settings, found = _read_system_sheet(with_header(values), name)
        values, formats = _sheet_grid(wb[lower[ORGS_SHEET]], name)
        if sheet_note and not _has_index_header(values):
            # the only sheet is not a members table either: say what the template expects
            raise InputFileError(f"{name}: no '{ORGS_SHEET}' sheet (found: "
                                 f"{', '.join(wb.sheetnames)}), and its only sheet has no "
                                 f"'{INDEX}' column; download the template to see the layout")
    finally:
        wb.close()
    if values.isna().any().any():
        _unsaved_formulas(data, lower[ORGS_SHEET], values)
    notes = sheet_note + tuple(_percent_cells(values, formats))
    if settings.name is None or (isinstance(settings.name, str) and not settings.name.strip()):
        # no name in the workbook: the file's, as for a CSV ('Northshire.xlsx' -> 'Northshire')
        settings = dataclasses.replace(settings, name=_name_of(name))
    return _build(values, settings, name, notes, found)


#: The most a workbook may hold once unzipped (a members workbook holds well under 1 MB; a
#: 1.5 MB file that unzips to gigabytes is refused before anything is parsed).
MAX_UNZIPPED = 64 * 1024**2


def _check_unzipped_size(data: bytes, name: str) -> None:
    try:
        with zipfile.ZipFile(_io.BytesIO(data)) as archive:
            total = sum(item.file_size for item in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return                  # load_workbook says it is not a readable workbook
    if total > MAX_UNZIPPED:
        raise InputFileError(f"{name}: the workbook unzips to {total / 1024**2:,.0f} MB, more than "
                             f"the {MAX_UNZIPPED // 1024**2} MB riskshare reads; a members "
                             "workbook is far smaller (is this the right file?)")


class UnsavedFormula(str):
    """A cell holding a formula whose result was never saved (the formula's text): refused
    wherever a value is needed, named as what it is."""


def _unsaved_formulas(data: bytes, sheet: str, values: pd.DataFrame) -> None:
    """A blank cell that holds a formula (a workbook saved by a tool that did not calculate it)
    is put back as its formula, so validation says so rather than calling the cell blank."""
    from openpyxl import load_workbook

    wb = load_workbook(_io.BytesIO(data), read_only=True, data_only=False)
    try:
        rows = wb[sheet].iter_rows(max_row=values.shape[0], max_col=values.shape[1])
        for i, row in enumerate(rows):
            for j, cell in enumerate(row):
                if (values.iat[i, j] is None and isinstance(cell.value, str)
                        and cell.value.startswith("=")):
                    values.iat[i, j] = UnsavedFormula(cell.value)
    except Exception:       # noqa: BLE001 — a second look only; the values stand without it
        pass
    finally:
        wb.close()


#: The most rows a sheet may hold (a members table has dozens).
MAX_SHEET_ROWS = 100_000


def _sheet_grid(ws, name: str = "") -> tuple[pd.DataFrame, pd.DataFrame]:
    """A sheet's cell values and number formats as two frames of the same shape.

    Read within bounds (MAX_SHEET_ROWS rows, MAX_COLUMNS columns): a sheet with data beyond
    them is refused, and a sheet whose stated size is vast but whose cells are blank costs
    nothing. A sheet whose XML cannot be parsed is refused as unreadable."""
    values, formats = [], []
    too_wide = InputFileError(f"{name}: sheet '{ws.title}' has data beyond column "
                              f"{MAX_COLUMNS:,}; riskshare reads at most {MAX_COLUMNS:,} columns "
                              f"(its own and up to {MAX_EXTRA_COLUMNS} sharing bases and scales)")
    try:
        for row in ws.iter_rows(max_row=MAX_SHEET_ROWS + 1, max_col=MAX_COLUMNS + 1):
            cells = [cell.value for cell in row]
            if len(cells) > MAX_COLUMNS and cells[MAX_COLUMNS] is not None:
                raise too_wide
            values.append(cells[:MAX_COLUMNS])
            formats.append([getattr(cell, "number_format", None) for cell in row][:MAX_COLUMNS])
        if (ws.max_column or 0) > MAX_COLUMNS:  # a header far to the right would be missed
            for row in ws.iter_rows(max_row=20, min_col=MAX_COLUMNS + 1, values_only=True):
                if any(v is not None for v in row):
                    raise too_wide
    except InputFileError:
        raise
    except Exception as exc:    # noqa: BLE001 — malformed XML inside the workbook
        raise InputFileError(f"{name}: not a readable .xlsx workbook (sheet '{ws.title}' cannot "
                             f"be read: {type(exc).__name__}: {str(exc)[:120]})") from None
    if len(values) > MAX_SHEET_ROWS and any(v is not None for v in values[-1]):
        raise InputFileError(f"{name}: sheet '{ws.title}' has more than {MAX_SHEET_ROWS:,} "
                             "rows; a members table has one row per member")
    values, formats = values[:MAX_SHEET_ROWS], formats[:MAX_SHEET_ROWS]
    used = [max((j + 1 for j, v in enumerate(r) if v is not None), default=0) for r in values]
    width = max(used, default=0)
    pad = [r[:width] + [None] * (width - len(r[:width])) for r in values]
    fpad = [r[:width] + [None] * (width - len(r[:width])) for r in formats]
    return pd.DataFrame(pad, dtype=object), pd.DataFrame(fpad, dtype=object)


def table_sheet(data: bytes, filename: str, sheet: str, columns: tuple[str, ...],
                money: tuple[str, ...] = (), what: str = "table") -> tuple[pd.DataFrame, str]:
    """One table of a workbook (the bytes of an .xlsx file) as a grid of its cell values, and
    the title of the sheet read. Row i of the grid is sheet row i + 1, so `with_header` numbers
    rows as the sheet does.

    The sheet is the one named `sheet` (in any case), else the workbook's only sheet when it has
    just one and its header names every one of `columns` (the required ones); otherwise
    InputFileError says which sheets there are. The header is the first non-blank row, or the
    row under it when that row is a row of readable headings over the column names (as
    riskshare's result workbooks have them); the headings are then left out. Cells of
    the `money` columns that Excel shows as percentages are put back as the text shown, and a
    formula whose result was never saved as its text, so validation names them."""
    name = Path(filename).name
    wb = open_workbook(data, name)
    try:
        lower = {k.strip().lower(): k for k in wb.sheetnames}
        only = len(wb.sheetnames) == 1
        title = lower.get(sheet.lower()) or (wb.sheetnames[0] if only else None)
        if title is None:
            raise InputFileError(f"{name}: no '{sheet}' sheet (found: "
                                 f"{', '.join(wb.sheetnames) or 'none'}); the {what} is a sheet "
                                 f"named '{sheet}' (columns {', '.join(columns)}, ...): download "
                                 "the template to see the layout")
        values, formats = _sheet_grid(wb[title], name)
    finally:
        wb.close()
    if values.isna().any().any():
        _unsaved_formulas(data, title, values)
    header = _names_row(values, columns)
    if title.strip().lower() != sheet.lower():
        names = ([] if header is None else
                 [str(v).strip() for v in values.iloc[header] if not is_blank(v)])
        missing = [repr(c) for c in columns if c not in names]
        if missing:
            raise InputFileError(f"{name}: no '{sheet}' sheet, and its only sheet, '{title}', "
                                 f"has no {' or '.join(missing)} column: the {what} is a sheet "
                                 f"named '{sheet}' (columns {', '.join(columns)}, ...); download "
                                 "the template to see the layout")
    if header is not None:
        values.iloc[:header] = None         # readable headings above the column names
        names = ["" if is_blank(v) else str(v).strip() for v in values.iloc[header]]
        for j, column in enumerate(names):
            if column in money:
                _percent_money(values, formats, range(header + 1, len(values)), j)
    return values, title


def _names_row(values: pd.DataFrame, columns: tuple[str, ...]) -> int | None:
    """The position of a sheet's row of column names: the first non-blank row, unless it names
    none of `columns` and the next non-blank row names the first of them (a heading row over the
    names). None for a blank sheet."""
    filled: list[int] = []
    for i in range(len(values)):
        if any(not is_blank(v) for v in values.iloc[i]):
            filled.append(i)
            if len(filled) == 2:
                break
    if not filled:
        return None

    def names(i: int) -> set[str]:
        return {str(v).strip() for v in values.iloc[i] if not is_blank(v)}

    if len(filled) == 2 and not names(filled[0]) & set(columns) \
            and columns[0] in names(filled[1]):
        return filled[1]
    return filled[0]


def _has_index_header(values: pd.DataFrame) -> bool:
    """True when the first non-blank row of a sheet names an `org_id` column."""
    for i in range(len(values)):
        row = [str(v).strip().lower() for v in values.iloc[i] if not is_blank(v)]
        if row:
            return INDEX in row
    return False


def _percent_cells(values: pd.DataFrame, formats: pd.DataFrame) -> tuple:
    """Cells of a percent column (volatility) that Excel shows as a percentage hold 2% as 0.02:
    read them as the percent the user sees (2.0), in place, and say so in one warning."""
    filled = [i for i in range(len(values)) if any(not is_blank(v) for v in values.iloc[i])]
    if not filled:
        return ()
    head = filled[0]
    header = ["" if is_blank(v) else str(v).strip() for v in values.iloc[head]]
    changed, notes = [], []
    for j, column in enumerate(header):
        if column in MONEY_COLUMNS:
            _percent_money(values, formats, filled[1:], j)
        if column and column not in PERCENT_COLUMNS and column not in COLUMN_NAMES:
            shown = [i for i in filled[1:] if isinstance(values.iat[i, j], (int, float))
                     and not isinstance(values.iat[i, j], bool)
                     and _is_percent_format(formats.iat[i, j])]
            if shown:      # an extra column: kept as stored, but not without a word
                v = float(values.iat[shown[0], j])
                notes.append(problem(
                    f"{len(shown)} cell{'s are' if len(shown) > 1 else ' is'} formatted as a "
                    f"percentage in Excel and read as the number Excel stores ({v * 100:g}% as "
                    f"{v:g}); as a sharing basis only the proportions matter, but as a scale "
                    "write the figures themselves", column=column, severity="warning"))
        if column not in PERCENT_COLUMNS:
            continue
        for i in filled[1:]:
            value = values.iat[i, j]
            if (isinstance(value, (int, float)) and not isinstance(value, bool)
                    and _is_percent_format(formats.iat[i, j])):
                values.iat[i, j] = round(float(value) * 100.0, 10)
                changed.append(f"row {i + 1}: {float(value) * 100:g}% read as "
                               f"{values.iat[i, j]:g}")
    if not changed:
        return tuple(notes)
    volatility = problem(f"{len(changed)} cell{'s are' if len(changed) > 1 else ' is'} "
                         "formatted as a percentage in Excel (which stores 2% as 0.02) and read "
                         "as the percent shown: " + "; ".join(changed[:4])
                         + ("; …" if len(changed) > 4 else ""),
                         column=PERCENT_COLUMNS[0] if len(PERCENT_COLUMNS) == 1 else None,
                         severity="warning")
    return (*notes, volatility)


def _percent_money(values: pd.DataFrame, formats: pd.DataFrame, rows, j: int) -> None:
    """A £ cell Excel shows as a percentage is not a sum of money anyone meant: it is put back
    as the text shown ('-1.5%'), so validation refuses it with the file's other problems
    ('is a percentage, but this column is in £') rather than reading 0.015 as £0.02."""
    for i in rows:
        value = values.iat[i, j]
        if (isinstance(value, (int, float)) and not isinstance(value, bool)
                and _is_percent_format(formats.iat[i, j])):
            values.iat[i, j] = f"{float(value) * 100:g}%"


def side_table_path(path, file_name: str, what: str):
    """The file of a table kept beside a system (the monthly table, the risk register): `path`
    itself (a .csv or .xlsx/.xlsm), or `file_name` inside it when it is a system folder.
    InputFileError when missing or of another type."""
    from pathlib import Path

    from riskshare.core.errors import InputFileError
    from riskshare.core.sources import exists, is_dir, short

    path = Path(path)
    if is_dir(path):
        if not exists(path / file_name):
            raise InputFileError(f"{short(path)}: the folder has no '{file_name}' (a system "
                                 f"folder keeps its {what} there)")
        path = path / file_name
    if not exists(path):
        raise InputFileError(f"{short(path)}: no such file")
    if path.suffix.lower() not in (".csv", ".xlsx", ".xlsm"):
        raise InputFileError(f"{path.name}: unsupported file type '{path.suffix}' (use a system "
                             "folder, a .csv file or an .xlsx workbook)")
    return path


def side_table(data: bytes, filename: str, sheet: str, required: tuple[str, ...],
               columns: tuple[str, ...], money: tuple[str, ...], what: str, allowed: str):
    """A table kept beside a system, from the bytes of a .csv file or an .xlsx workbook (its
    sheet `sheet`, any case, or its only sheet): (frame with the header row applied, the source
    named for messages, the file line / sheet row of each row). `required` are the columns a
    workbook's only sheet must name to be read as the table, `columns` all the table's columns
    and `money` those read as money in a workbook; `allowed` says them in words."""
    from pathlib import Path

    from riskshare.core.errors import InputFileError

    name = Path(str(filename)).name
    suffix = Path(name).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        grid, title = table_sheet(bytes(data), name, sheet, required, money, what)
        source = f"{name}, sheet '{title}'"
    elif suffix == ".csv":
        grid = csv_grid(bytes(data), name, len(columns), allowed)[0]
        source = name
    else:
        raise InputFileError(f"{name}: unsupported file type '{suffix}' (use .csv or .xlsx)")
    frame = with_header(grid)
    return frame.reset_index(drop=True), source, frame.index.to_numpy()


def with_header(raw: pd.DataFrame) -> pd.DataFrame:
    """First non-blank row as the header, kept as written (duplicates are not renamed, so
    validation can report them); blank rows dropped; the index is the 1-based file line /
    sheet row of each remaining row."""
    blank = raw.apply(lambda r: all(is_blank(v) for v in r), axis=1)
    rows = raw[~blank.astype(bool)]
    if rows.empty:
        return pd.DataFrame()
    header = ["" if is_blank(v) else str(v).strip() for v in rows.iloc[0]]
    body = rows.iloc[1:].copy()
    body.columns = header
    body.index = body.index + 1  # 0-based position in the file -> line / row number
    # drop trailing unnamed, empty columns (spreadsheets often carry them)
    keep = [i for i, h in enumerate(header)
            if h != "" or not all(is_blank(v) for v in body.iloc[:, i])]
    return body.iloc[:, keep]


def _build(raw: pd.DataFrame, settings: SystemSettings, label: str, notes: tuple = (),
           found=()) -> System:
    frame = with_header(raw)
    return System.from_frame(frame.reset_index(drop=True), settings.control_total,
                             settings.name, settings.year, source=label,
                             row_numbers=frame.index.to_numpy(), notes=notes,
                             settings_source=settings.source, found=found)


def _table_beside(path: Path, table) -> str:
    """The `organisations` key of a system.toml: the name of a .csv file in the same folder.
    A path (a folder, '..', an absolute path) is refused without being opened (the file rule,
    see `sources`): the file the user named may only point beside itself."""
    if (not isinstance(table, str) or Path(table).name != table or table in ("", ".", "..")
            or not table.lower().endswith(".csv") or "\\" in table):
        raise_if_errors([problem("must be the name of a .csv file in the same folder as "
                                 f"{path.name} (such as 'organisations.csv'), not a path",
                                 key="organisations", value=table)], path.name)
    return table


def _read_system_toml(path: Path, allow_table: bool = False) -> tuple[SystemSettings, object]:
    """The settings in a system.toml, and (with `allow_table`) its `organisations` key: the
    table beside it (default organisations.csv)."""
    values = parse_toml(read_text(path), path.name)
    valid = SYSTEM_KEYS + (("organisations",) if allow_table else ())
    unknown = [k for k in values if k not in valid]
    if unknown:
        raise_if_errors([problem(f"unknown key (valid keys: {', '.join(valid)})", key=k)
                         for k in unknown], path.name)
    return SystemSettings.of(values, path.name), values.get("organisations", ORGS_FILE)


def _read_system_sheet(sheet: pd.DataFrame, label: str) -> tuple[SystemSettings, list]:
    """The system sheet's settings and the problems with them (reported with the members
    sheet's, so one message lists both)."""
    cols = {str(c).strip().lower(): c for c in sheet.columns}
    if not {"key", "value"} <= set(cols):
        raise InputFileError(f"{label}: the '{SYSTEM_SHEET}' sheet needs columns 'key' and "
                             "'value'")
    values: dict = {}
    problems: list = []
    seen: dict[str, int] = {}     # key -> the row it was first given on
    for i, key, value in zip(sheet.index, sheet[cols["key"]], sheet[cols["value"]], strict=True):
        if is_blank(key):
            if not is_blank(value):
                problems.append(problem(f"has a value but no key in the '{SYSTEM_SHEET}' sheet "
                                        f"(keys: {', '.join(SYSTEM_KEYS)})", row=int(i),
                                        value=value))
            continue
        key = str(key).strip()
        if key not in SYSTEM_KEYS:
            problems.append(problem(f"unknown key in the '{SYSTEM_SHEET}' sheet (valid keys: "
                                    f"{', '.join(SYSTEM_KEYS)})", key=key, row=int(i)))
            continue
        if key in seen:
            problems.append(problem(f"is given twice in the '{SYSTEM_SHEET}' sheet (also row "
                                    f"{seen[key]}): keep one", key=key, row=int(i)))
            continue
        seen[key] = int(i)
        if not is_blank(value):
            values[key] = value
    return SystemSettings.of(values, f"'{SYSTEM_SHEET}' sheet"), problems


__all__ = ["load_system", "load_bytes", "write_folder", "write_excel", "excel_bytes",
           "template_workbook", "system_meta"]
