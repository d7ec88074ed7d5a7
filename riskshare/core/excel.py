"""Writing workbooks a finance director is happy to open: £ formats, bold frozen headers,
sensible widths, and text that a spreadsheet would treat as a formula stored as plain text.

Every workbook riskshare writes goes through `write_workbook`, so these rules hold everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskshare.core.cells import is_formula_like

MONEY_FORMAT = '£#,##0;-£#,##0;£0'
PERCENT_NUMBER_FORMAT = '0.00"%"'
SHARE_FORMAT = '0.0%'          # fractions (0.25) shown as 25.0%
HEADER_COLOUR = "005EB8"       # NHS blue; openpyxl is loaded only when a workbook is written


@dataclass(frozen=True)
class Sheet:
    """One sheet: a table, which columns hold £ and which hold percent numbers."""

    title: str
    frame: pd.DataFrame
    money: tuple[str, ...] = ()
    percent: tuple[str, ...] = ()
    shares: tuple[str, ...] = ()
    index: bool = False
    images: tuple[tuple[str, bytes], ...] = ()   # (caption, PNG bytes), placed below the table


def _cell_value(value):
    """Plain Python values for openpyxl; NaN becomes an empty cell."""
    if value is None:
        return None
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def neutralise(cell) -> None:
    """Text a spreadsheet would treat as a formula ("=...", "+...", "-...", "@...") is stored as
    text and marked with Excel's quote prefix, so it shows, edits and copies as the text it is."""
    if is_formula_like(cell.value):
        cell.data_type = "s"
        cell.quotePrefix = True


def write_sheet(ws, sheet: Sheet) -> None:
    """Write `sheet` onto the openpyxl worksheet `ws`: a bold header row, £, percent-number and
    share formats on the columns the sheet names, formula-like text kept as text, fitted column
    widths, panes frozen below the header, and any images below the table."""
    from openpyxl.styles import Alignment, Font, PatternFill

    frame = sheet.frame.reset_index() if sheet.index else sheet.frame
    columns = [str(c) for c in frame.columns]
    ws.append(columns)
    for row in frame.itertuples(index=False, name=None):
        ws.append([_cell_value(v) for v in row])
    for row in ws.iter_rows(min_row=1):
        for cell in row:
            neutralise(cell)
    for j, name in enumerate(columns, start=1):
        head = ws.cell(row=1, column=j)
        head.font = Font(bold=True, color="FFFFFF")
        head.fill = PatternFill("solid", fgColor=HEADER_COLOUR)
        head.alignment = Alignment(vertical="center")
        fmt = (MONEY_FORMAT if name in sheet.money else
               PERCENT_NUMBER_FORMAT if name in sheet.percent else
               SHARE_FORMAT if name in sheet.shares else None)
        if fmt:
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.number_format = fmt
        width = max([len(name)] + [len(str(v)) for v in frame.iloc[:, j - 1].head(200)])
        ws.column_dimensions[head.column_letter].width = min(max(width + 2, 10), 60)
    ws.freeze_panes = "B2" if len(columns) > 1 else "A2"
    _place_images(ws, sheet.images, first_row=len(frame) + 3)


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


def write_workbook(target, sheets: Iterable[Sheet]) -> None:
    """Write `sheets` to `target` (a path or a binary buffer) as one .xlsx workbook.

    A path gets the finished bytes in one write: a disk that fails half-way raises OSError
    once, with no half-built zip left to complain again when it is collected."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
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


def workbook_bytes(sheets: Iterable[Sheet]) -> bytes:
    """The .xlsx workbook of `sheets` as bytes (for a download), written by `write_workbook`."""
    import io

    buffer = io.BytesIO()
    write_workbook(buffer, sheets)
    return buffer.getvalue()
