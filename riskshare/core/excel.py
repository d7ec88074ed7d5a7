"""Writing workbooks a finance director can forward: a cover sheet first, readable headings,
£ and percentage formats, frozen headers, widths that show every heading, and text that a
spreadsheet would treat as a formula stored as plain text.

Every workbook riskshare writes goes through `write_workbook`, so these rules hold everywhere:

- **Cover** (`Cover`): what the workbook holds, the system, the agreement, the settings, any
  what-if in force ("none — prepared figures"), the date written, the riskshare version, the
  layout of the tables and a list of the sheets.
- **Headings**: each table has two header rows — row 1 the readable heading from
  `core.columns` ("Organisational control total (£)"), row 2 the column name riskshare uses
  (`control_total`; for scripts: `pandas.read_excel(path, sheet_name=..., header=1)`); both
  stay in view (frozen panes). A sheet riskshare reads back (the system workbook's
  organisations and system sheets, `Sheet.names_only`) keeps one row of column names.
- **Numbers**: £ to the penny (values rounded to 0.01, shown `£#,##0.00;-£#,##0.00`);
  percentages stored as fractions and shown `0.0%` (a percent number such as variance_pct 2.5
  is written 0.025); counts as whole numbers. One exception, the same in every workbook:
  volatility (kind "percent_number") is the percent number itself (2 means 2% of turnover),
  shown `0.00` under a heading saying "(% of turnover)", as the system workbook that loads back
  holds it. A probability (kind "probability": a risk register's chance 0–1) is the number
  itself (0.4), shown `0.00##` (0.40), as the register reads it back.
- **Settings** on the cover read as words (`core.columns.setting_name`: "kind_correlation" →
  "extra correlation within a kind").
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskshare.core.cells import is_formula_like
from riskshare.core.columns import heading, setting_name
from riskshare.core.format import named

MONEY_FORMAT = "£#,##0.00;-£#,##0.00"
PERCENT_FORMAT = "0.0%"        # fractions (0.25) shown as 25.0%
SHARE_FORMAT = PERCENT_FORMAT
PERCENT_NUMBER_FORMAT = "0.00"    # percent numbers kept as such (2 means 2%; volatility)
COUNT_FORMAT = "#,##0"
NUMBER_FORMAT = "#,##0.00####"
PROBABILITY_FORMAT = "0.00##"     # a chance 0–1 as the register holds it (0.4 shows 0.40)
FORMATS = {"money": MONEY_FORMAT, "percent": PERCENT_FORMAT, "share": SHARE_FORMAT,
           "percent_number": PERCENT_NUMBER_FORMAT, "count": COUNT_FORMAT,
           "number": NUMBER_FORMAT, "probability": PROBABILITY_FORMAT}
HEADER_COLOUR = "005EB8"       # NHS blue; openpyxl is loaded only when a workbook is written
NAMES_COLOUR = "E8EDEE"        # the row of column names under the headings
COVER_TITLE = "cover"
NO_WHAT_IF = "none — prepared figures"
MIN_WIDTH, MAX_WIDTH = 8, 90
LAYOUT_TWO_ROWS = ("Each table has two header rows: row 1 the heading to read, row 2 the column "
                   "name riskshare uses (for scripts: pandas.read_excel(file, sheet_name=…, "
                   "header=1)).")
LAYOUT_NAMES = ("The {sheets} sheet{s} keep{verb} one header row of the column names riskshare "
                "reads, so the workbook loads back into riskshare unchanged; the guide sheet "
                "gives each column's meaning and unit.")
CONVENTIONS = ("Money in £ to the penny: surplus or favourable positive, deficit or adverse "
               "negative. Percentages are stored as fractions (0.602 shows as 60.2%).")
CONVENTION_PERCENT_NUMBERS = ("Volatility is the percent number itself: 2 means 2% of "
                              "turnover (shown 2.00).")
CONVENTION_PROBABILITIES = ("A probability is the chance itself, from 0 to 1: 0.4 means a 40% "
                            "chance (shown 0.40).")


@dataclass(frozen=True)
class Sheet:
    """One sheet: a table and how to show its columns.

    money / percent / shares / counts: columns that are £, percent numbers (2.5 = 2.5%, written
    as the fraction 0.025), fractions (0.25 = 25%) and whole numbers; a column not named here
    takes its kind from `core.columns.HEADINGS`, and a column HEADINGS holds as a percent number
    (volatility: 2 means 2%) stays one whatever the sheet lists. `labels` overrides a readable
    heading for this sheet ({column: heading}). `names_only`: one header row of column names and
    percent numbers kept as they are (a sheet riskshare reads back)."""

    title: str
    frame: pd.DataFrame
    money: tuple[str, ...] = ()
    percent: tuple[str, ...] = ()
    shares: tuple[str, ...] = ()
    counts: tuple[str, ...] = ()
    index: bool = False
    images: tuple[tuple[str, bytes], ...] = ()   # (caption, PNG bytes), placed below the table
    labels: Mapping[str, str] = field(default_factory=dict)
    names_only: bool = False

    def kind(self, column: str) -> str:
        """The kind of `column` on this sheet (see `core.columns`)."""
        if heading(column).kind == "percent_number":
            return "percent_number"
        for kind, names in (("money", self.money), ("percent", self.percent),
                            ("share", self.shares), ("count", self.counts)):
            if column in names:
                return kind
        return heading(column).kind

    def label(self, column: str) -> str:
        """The readable heading of `column` on this sheet."""
        if column in self.labels:
            return self.labels[column]
        return heading(column, self.kind(column)).label


@dataclass(frozen=True)
class Cover:
    """The cover sheet: `title` (what the workbook holds), the system and agreement in words,
    `settings` ((setting, value) pairs: scenario count, seed, correlation, method, …), the
    what-if in force (NO_WHAT_IF for prepared figures), `notes` (sentences) and `written`
    (default today). The riskshare version and the list of sheets are added when written."""

    title: str
    system: str = ""
    agreement: str = "not applicable"
    settings: tuple[tuple[str, object], ...] = ()
    what_if: str = NO_WHAT_IF
    notes: tuple[str, ...] = ()
    written: _dt.date | None = None


def version() -> str:
    """The riskshare version installed (importlib.metadata), else the package's own."""
    from importlib import metadata

    try:
        return metadata.version("riskshare")
    except metadata.PackageNotFoundError:
        import riskshare

        return str(getattr(riskshare, "__version__", "unknown"))


def _cell_value(value, kind: str = "text", names_only: bool = False):
    """Plain Python values for openpyxl: NaN an empty cell, £ to the penny, percent numbers as
    fractions (unless `names_only`), counts as whole numbers."""
    if value is None:
        return None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (np.integer,)):
        value = int(value)
    if isinstance(value, (np.floating, float)):
        value = float(value)
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if kind == "money":
        return round(float(value), 2) + 0.0
    if kind == "percent" and not names_only:
        return float(value) / 100.0
    if kind == "count" and float(value).is_integer():
        return int(value)
    return value


def neutralise(cell) -> None:
    """Text a spreadsheet would treat as a formula ("=...", "+...", "-...", "@...") is stored as
    text and marked with Excel's quote prefix, so it shows, edits and copies as the text it is."""
    if is_formula_like(cell.value):
        cell.data_type = "s"
        cell.quotePrefix = True


def _shown(value, kind: str) -> str:
    """About how a cell reads in Excel, for the column width."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if kind == "money":
            return f"-£{abs(value):,.2f}"
        if kind in ("percent", "share"):
            return f"{value * 100:.1f}%"
        if kind in ("percent_number", "probability"):
            return f"{value:,.2f}"
        if kind == "count":
            return f"{value:,.0f}"
        return f"{value:,.4g}"
    return str(value)


def write_sheet(ws, sheet: Sheet) -> None:
    """Write `sheet` onto the openpyxl worksheet `ws`: the header row(s), the table with each
    column's number format, formula-like text kept as text, fitted widths, panes frozen below
    the header and right of the first column, and any images below the table."""
    from openpyxl.styles import Alignment, Font, PatternFill

    frame = sheet.frame.reset_index() if sheet.index else sheet.frame
    columns = [str(c) for c in frame.columns]
    kinds = [sheet.kind(c) for c in columns]
    heads = 1 if sheet.names_only else 2
    if not sheet.names_only:
        ws.append([sheet.label(c) for c in columns])
    ws.append(columns)
    rows = [[_cell_value(v, k, sheet.names_only) for v, k in zip(row, kinds, strict=True)]
            for row in frame.itertuples(index=False, name=None)]
    for row in rows:
        ws.append(row)
    for row in ws.iter_rows(min_row=1):
        for cell in row:
            neutralise(cell)
    blue = PatternFill("solid", fgColor=HEADER_COLOUR)
    grey = PatternFill("solid", fgColor=NAMES_COLOUR)
    for j, (name, kind) in enumerate(zip(columns, kinds, strict=True), start=1):
        top = ws.cell(row=1, column=j)
        top.font = Font(bold=True, color="FFFFFF")
        top.fill = blue
        top.alignment = Alignment(vertical="center", wrap_text=True)
        if heads == 2:
            names = ws.cell(row=2, column=j)
            names.font = Font(italic=True, color="425563")
            names.fill = grey
        fmt = (PERCENT_NUMBER_FORMAT if kind == "percent" and sheet.names_only
               else FORMATS.get(kind))
        if fmt:
            for (cell,) in ws.iter_rows(min_row=heads + 1, min_col=j, max_col=j):
                cell.number_format = fmt
        cells = [r[j - 1] for r in rows[:500]]
        width = max([len(name), len(sheet.label(name)) if heads == 2 else 0]
                    + [len(_shown(v, kind)) for v in cells])
        ws.column_dimensions[top.column_letter].width = min(max(width + 2, MIN_WIDTH), MAX_WIDTH)
    ws.freeze_panes = f"{'B' if len(columns) > 1 else 'A'}{heads + 1}"
    _place_images(ws, sheet.images, first_row=len(frame) + heads + 2)


IMAGE_WIDTH = 900   # px shown in the sheet (images are rendered at twice this for sharpness)
ROW_PX = 20         # a default row's height in pixels


def _place_images(ws, images, first_row: int) -> None:
    """Each image under its caption (bold), one below the other, from `first_row`."""
    import io

    from openpyxl.drawing.image import Image
    from openpyxl.styles import Font

    row = first_row
    for caption, png in images:
        cell = ws.cell(row=row, column=1, value=caption)
        cell.font = Font(bold=True)
        neutralise(cell)
        image = Image(io.BytesIO(png))
        ratio = min(1.0, IMAGE_WIDTH / image.width)
        image.width, image.height = int(image.width * ratio), int(image.height * ratio)
        ws.add_image(image, f"A{row + 1}")
        row += 2 + math.ceil(image.height / ROW_PX)


def cover_rows(cover: Cover, sheets: list[Sheet]) -> list[tuple[str, object]]:
    """The cover sheet's (item, value) rows, in order (blank item: a continuation line)."""
    written = cover.written or _dt.date.today()
    rows: list[tuple[str, object]] = [
        ("System", cover.system or "not applicable"),
        ("Agreement", cover.agreement or "not applicable"),
        ("What-if", cover.what_if or NO_WHAT_IF),
        ("Written", written.isoformat()),
        ("riskshare version", version()),
    ]
    rows += [(f"Setting: {setting_name(k)}", "" if v is None else v) for k, v in cover.settings]
    layout = []
    if any(not s.names_only for s in sheets):
        layout.append(LAYOUT_TWO_ROWS)
    read_back = [s.title for s in sheets if s.names_only]
    if read_back:
        many = len(read_back) > 1
        layout.append(LAYOUT_NAMES.format(sheets=named(read_back), s="s" if many else "",
                                          verb="" if many else "s"))
    rows += [("Layout" if i == 0 else "", line) for i, line in enumerate(layout)]
    conventions = [CONVENTIONS]
    if any(s.kind(str(c)) == "percent_number" for s in sheets for c in s.frame.columns):
        conventions.append(CONVENTION_PERCENT_NUMBERS)
    if any(s.kind(str(c)) == "probability" for s in sheets for c in s.frame.columns):
        conventions.append(CONVENTION_PROBABILITIES)
    rows.append(("Conventions", " ".join(conventions)))
    rows += [("Note" if i == 0 else "", line) for i, line in enumerate(cover.notes)]
    rows += [("Sheets" if i == 0 else "", s.title[:31]) for i, s in enumerate(sheets)]
    return rows


def write_cover(ws, cover: Cover, sheets: list[Sheet]) -> None:
    """The cover sheet: a title, then one (item, value) row per line of `cover_rows`."""
    from openpyxl.styles import Alignment, Font

    title = ws.cell(row=1, column=1, value=f"riskshare — {cover.title}")
    title.font = Font(bold=True, size=14, color=HEADER_COLOUR)
    neutralise(title)
    rows = cover_rows(cover, sheets)
    for i, (item, value) in enumerate(rows, start=3):
        a = ws.cell(row=i, column=1, value=item)
        a.font = Font(bold=True)
        b = ws.cell(row=i, column=2, value=_cell_value(value))
        b.alignment = Alignment(wrap_text=True, vertical="top")
        if isinstance(b.value, (int, float)) and not isinstance(b.value, bool):
            b.number_format = "General"
        neutralise(a)
        neutralise(b)
    ws.column_dimensions["A"].width = max([len(r[0]) for r in rows] + [12]) + 2
    longest = max([len(str(r[1])) for r in rows] + [20])
    ws.column_dimensions["B"].width = min(longest + 2, 110)


def write_workbook(target, sheets: Iterable[Sheet], cover: Cover | None = None) -> None:
    """Write the cover and `sheets` to `target` (a path or a binary buffer) as one .xlsx
    workbook. Without a `cover`, one naming only the date and version is written.

    A path gets the finished bytes in one write: a disk that fails half-way raises OSError
    once, with no half-built zip left to complain again when it is collected."""
    from openpyxl import Workbook

    sheets = list(sheets)
    wb = Workbook()
    wb.remove(wb.active)
    write_cover(wb.create_sheet(COVER_TITLE), cover or Cover("results"), sheets)
    for sheet in sheets:
        write_sheet(wb.create_sheet(sheet.title[:31]), sheet)
    if hasattr(target, "write"):
        wb.save(target)
        return
    import io
    from pathlib import Path

    buffer = io.BytesIO()
    wb.save(buffer)
    Path(target).write_bytes(buffer.getvalue())


def workbook_bytes(sheets: Iterable[Sheet], cover: Cover | None = None) -> bytes:
    """The .xlsx workbook of `cover` and `sheets` as bytes (for a download), written by
    `write_workbook`."""
    import io

    buffer = io.BytesIO()
    write_workbook(buffer, sheets, cover)
    return buffer.getvalue()

