"""How riskshare writes money and percentages for people (CLI, app, sentences).

Money is shown in £m with thousands separators and one decimal by default ("£1,684.0m",
"-£13.4m"); a plain hyphen is used for negatives so text copies cleanly into spreadsheets.
"""

from __future__ import annotations

import math

import pandas as pd


def money_m(pounds: float, dp: int | None = 1, sign: bool = False) -> str:
    """£ -> '£1,234.5m' / '-£13.4m'; `sign=True` adds '+' to positives (for changes).

    `dp=None` picks the decimals for a sentence: 1 from £10m up, else 2 ('£0.38m').
    """
    if pounds is None or (isinstance(pounds, float) and math.isnan(pounds)):
        return ""
    if dp is None:
        dp = 1 if abs(pounds) >= 9.95e6 else 2
    value = round(pounds / 1e6, dp)
    if value == 0:
        value = 0.0  # no "-£0.0m"
    prefix = "-" if value < 0 else ("+" if sign and value > 0 else "")
    return f"{prefix}£{abs(value):,.{dp}f}m"


def money(pounds: float, dp: int = 0) -> str:
    """£ -> '£1,234,567' / '-£12,345.68' (dp=2)."""
    if pounds is None or (isinstance(pounds, float) and math.isnan(pounds)):
        return ""
    value = round(pounds, dp)
    if value == 0:
        value = 0.0
    return f"{'-' if value < 0 else ''}£{abs(value):,.{dp}f}"


def pct(percent: float, dp: int = 1, sign: bool = False) -> str:
    """A percent number (3.0 means 3%) -> '3.0%'."""
    if percent is None or (isinstance(percent, float) and math.isnan(percent)):
        return ""
    value = round(percent, dp)
    if value == 0:
        value = 0.0
    return f"{'+' if sign and value > 0 else ''}{value:.{dp}f}%"


def money_frame(frame: pd.DataFrame, money_cols, pct_cols=(), dp: int = 1) -> pd.DataFrame:
    """A copy of `frame` with money columns as '£…m' text and percent columns as '…%' text."""
    out = frame.copy()
    for c in money_cols:
        if c in out:
            out[c] = out[c].map(lambda v: money_m(v, dp))
    for c in pct_cols:
        if c in out:
            out[c] = out[c].map(lambda v: pct(v, 2))
    return out
