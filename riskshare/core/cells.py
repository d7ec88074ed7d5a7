"""How riskshare writes text and numbers into the cells of the files it exports.

Text a spreadsheet would run as a formula ("=HYPERLINK(…)", "+1+1", "-2+3", "@SUM(…)") is
neutralised wherever riskshare writes it: in workbooks it is stored as text with Excel's quote
prefix (`excel.neutralise`); in CSV files, which carry no formats, it is written with a leading
apostrophe, the CSV convention spreadsheets show as text. Numbers stay numbers, written without
float noise (420000000, not 420000000.0), and £ columns (`core.columns.money_columns`) in whole
pennies (a scenario mean of 1234567.891 is written 1234567.89). When riskshare reads a CSV or workbook back, a text
cell written this way ("'=x") is read as the text it stands for ("=x"), so a file riskshare
wrote loads back unchanged.
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pandas as pd

from riskshare.core.columns import money_columns

FORMULA_START = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_LEADING = " \t\r\n\u00a0\u3000"


def is_formula_like(value) -> bool:
    """Text a spreadsheet would treat as a formula: starting with = + - @ (or their full-width
    forms), also after leading spaces, tabs or line breaks, or starting with a tab or carriage
    return at all (OWASP's list for CSV injection)."""
    return isinstance(value, str) and (value.lstrip(_LEADING).startswith(FORMULA_START)
                                       or value.startswith(("\t", "\r")))


def unquote(text: str) -> str:
    """A cell read from a file: "'=x" (riskshare's neutralised text) back to "=x"."""
    if text.startswith("'") and is_formula_like(text[1:]):
        return text[1:]
    return text


def csv_value(value) -> str:
    """One value as CSV text: formula-like text behind an apostrophe, numbers without float
    noise (money to the penny reads 1234.5, 420000000), blanks for NaN and None."""
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return ""
        return np.format_float_positional(float(value), precision=10, trim="-")
    text = str(value)
    return "'" + text if is_formula_like(text) else text


def penny(value):
    """A £ figure rounded to the penny (-0.0 becomes 0.0); anything else unchanged."""
    if isinstance(value, (float, np.floating)) and not math.isnan(value):
        return round(float(value), 2) + 0.0
    return value


def csv_text(frame: pd.DataFrame, index: bool = False,
             money: tuple[str, ...] | None = None) -> str:
    """`frame` as CSV text (a header row of the column names, then one row per record), every
    cell through `csv_value`; the index is written first when `index`. The `money` columns
    (default: those `core.columns.money_columns` knows as £) are rounded to whole pennies."""
    frame = frame.reset_index() if index else frame
    money = money_columns(frame) if money is None else tuple(money)
    rounded = [str(c) in money for c in frame.columns]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([csv_value(str(c)) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        writer.writerow([csv_value(penny(v) if r else v)
                         for v, r in zip(row, rounded, strict=True)])
    return out.getvalue()


__all__ = ["FORMULA_START", "is_formula_like", "unquote", "csv_value", "penny", "csv_text"]
