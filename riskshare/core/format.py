"""How riskshare writes money and percentages for people (CLI, app, sentences).

Money is shown in £m with thousands separators and one decimal by default ("£1,684.0m",
"-£13.4m"); a plain hyphen is used for negatives so text copies cleanly into spreadsheets.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

#: Figures from this size up (£10¹⁵, far past riskshare's ±£10¹² bound) are written in powers
#: of ten: they only ever appear in a message saying they are out of bounds.
HUGE = 1e15


def _huge(value: float, unit: str = "") -> str:
    return f"{'-' if value < 0 else ''}£{abs(value):.3g}{unit}"


def _round(value: float, dp: int) -> float:
    """Round half away from zero on the decimal written form (as a spreadsheet does):
    0.25 -> 0.3 at 1 dp, where Python's round gives 0.2."""
    value = float(value)
    if not math.isfinite(value) or abs(value) >= HUGE:
        return value            # beyond any penny: nothing to round (and Decimal would overflow)
    q = Decimal(repr(value)).quantize(Decimal(1).scaleb(-dp), rounding=ROUND_HALF_UP)
    return float(q) or 0.0  # no negative zero


def money_m(pounds: float, dp: int | None = 1, sign: bool = False) -> str:
    """£ -> '£1,234.5m' / '-£13.4m'; `sign=True` adds '+' to positives (for changes).

    `dp=None` picks the decimals for a sentence: 1 from £10m up, else 2 ('£0.38m').
    """
    if pounds is None or (isinstance(pounds, float) and math.isnan(pounds)):
        return ""
    if not math.isfinite(float(pounds)) or abs(float(pounds)) >= HUGE:
        return _huge(float(pounds) / 1e6, "m")
    millions = Decimal(repr(float(pounds))) / Decimal(1_000_000)
    if dp is None:
        dp = 1 if abs(_round(float(millions), 2)) >= 10 else 2
    value = _round(float(millions), dp)
    prefix = "-" if value < 0 else ("+" if sign and value > 0 else "")
    return f"{prefix}£{abs(value):,.{dp}f}m"


def amount(pounds: float, sign: bool = False) -> str:
    """For sentences: £m to two decimals, or whole pounds below £10,000 (so £9 does not read
    as £0.00m)."""
    if abs(pounds) < 10_000:
        text = money(pounds, 0)
        return ("+" + text) if sign and pounds > 0 else text
    return money_m(pounds, dp=2, sign=sign)


def money(pounds: float, dp: int = 0) -> str:
    """£ -> '£1,234,567' / '-£12,345.68' (dp=2)."""
    if pounds is None or (isinstance(pounds, float) and math.isnan(pounds)):
        return ""
    if not math.isfinite(float(pounds)) or abs(float(pounds)) >= HUGE:
        return _huge(float(pounds))
    value = _round(pounds, dp)
    return f"{'-' if value < 0 else ''}£{abs(value):,.{dp}f}"


def pct(percent: float, dp: int = 1, sign: bool = False) -> str:
    """A percent number (3.0 means 3%) -> '3.0%'."""
    if percent is None or (isinstance(percent, float) and math.isnan(percent)):
        return ""
    value = _round(percent, dp)
    return f"{'+' if sign and value > 0 else ''}{value:.{dp}f}%"
