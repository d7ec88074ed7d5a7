"""How riskshare writes money and percentages for people (CLI, app, sentences).

One rule for money everywhere a figure is shown in £m (app metrics, tables, CLI, sentences):
£m to two decimals with thousands separators ("£1,684.00m", "-£13.40m", "+£0.44m"); `money` shows
whole pounds ("£1,234") where a figure is shown in £. Values are £ in, surplus positive, deficit
negative; a plain hyphen is used for negatives so text copies cleanly into spreadsheets. A value
that rounds to zero takes no sign ("£0.00m", never "-£0.00m" or "+£0.00m"), and a missing value
(None or NaN) is shown as "—" (MISSING), never as "None", "nan" or a blank.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

#: Figures from this size up (£10¹⁵, far past riskshare's ±£10¹² bound) are written in powers
#: of ten: they only ever appear in a message saying they are out of bounds.
HUGE = 1e15

#: Decimals of £m shown everywhere (metrics, tables, sentences, CLI).
MONEY_M_DP = 2

#: What a missing figure (None or NaN) is shown as.
MISSING = "—"


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


def _missing(value) -> bool:
    """None or NaN (a float, NumPy or pandas missing value, pandas' NA)."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def money_m(pounds: float | None, dp: int | None = MONEY_M_DP, sign: bool = False) -> str:
    """£ -> '£1,234.50m' / '-£13.40m' (two decimals, MONEY_M_DP); `sign=True` adds '+' to
    positives (for changes). A value that rounds to zero has no sign ('£0.00m'); None or NaN
    gives '—'.

    `dp=None` is the sentence mode: the same rule as tables and metrics (two decimals).
    """
    if pounds is None or _missing(pounds):
        return MISSING
    if not math.isfinite(float(pounds)) or abs(float(pounds)) >= HUGE:
        return _huge(float(pounds) / 1e6, "m")
    millions = Decimal(repr(float(pounds))) / Decimal(1_000_000)
    if dp is None:
        dp = MONEY_M_DP
    value = _round(float(millions), dp)
    prefix = "-" if value < 0 else ("+" if sign and value > 0 else "")
    return f"{prefix}£{abs(value):,.{dp}f}m"


def millions(value_m: float | None) -> str:
    """A figure already in £m as a table cell shows it: '1,234.57', '-13.40', '0.00' (never
    '-0.00'), '—' when missing — the number part of `money_m`."""
    if value_m is None or _missing(value_m):
        return MISSING
    if not math.isfinite(float(value_m)) or abs(float(value_m)) >= HUGE:
        return f"{float(value_m):.3g}"
    return f"{_round(value_m, MONEY_M_DP):,.{MONEY_M_DP}f}"


def amount(pounds: float | None, sign: bool = False) -> str:
    """For sentences: £m to two decimals (`money_m`), or whole pounds below £10,000 (so £9 does
    not read as £0.00m); a value that rounds to zero has no sign; None or NaN gives '—'."""
    if pounds is None or _missing(pounds):
        return MISSING
    if abs(pounds) < 10_000:
        text = money(pounds, 0)
        return ("+" + text) if sign and pounds > 0 and text != "£0" else text
    return money_m(pounds, sign=sign)


def money(pounds: float | None, dp: int = 0) -> str:
    """£ -> '£1,234,567' / '-£12,345.68' (dp=2), for figures shown in £; no sign on a value
    that rounds to zero; None or NaN gives '—'."""
    if pounds is None or _missing(pounds):
        return MISSING
    if not math.isfinite(float(pounds)) or abs(float(pounds)) >= HUGE:
        return _huge(float(pounds))
    value = _round(pounds, dp)
    return f"{'-' if value < 0 else ''}£{abs(value):,.{dp}f}"


def pounds_input(pounds: float) -> str:
    """£ as a person types it in an input box: thousands separators, no £ sign, whole pounds
    when the figure is whole ('-2,000,000') and pennies otherwise ('1,234,567.89'). The money
    reader (`schema.read_number`) reads it back to the same figure to the penny."""
    value = _round(pounds, 2)
    whole = value == int(value) if math.isfinite(value) else False
    return f"{'-' if value < 0 else ''}{abs(value):,.{0 if whole else 2}f}"


def pct(percent: float | None, dp: int = 1, sign: bool = False) -> str:
    """A percent number (3.0 means 3%) -> '3.0%'; no sign on a value that rounds to zero; None
    or NaN gives '—'."""
    if percent is None or _missing(percent):
        return MISSING
    value = _round(percent, dp)
    return f"{'+' if sign and value > 0 else ''}{value:.{dp}f}%"


def share(fraction: float | None, dp: int = 0) -> str:
    """A fraction (0.5 means half) as a percentage, by `pct`'s rule: 0.5 -> '50%'; a value
    that rounds to zero is '0%', never '-0%'; None or NaN gives '—'."""
    if fraction is None or _missing(fraction):
        return MISSING
    return pct(float(fraction) * 100, dp)


#: Items a sentence names before it says how many more there are ("A, B, … and 4,988 more").
LISTED = 12


def listed(items, limit: int = LISTED, sep: str = ", ") -> str:
    """Items for a sentence, at most `limit` of them: 'A, B, C'; beyond that the first `limit`
    and how many more ('A, B, … L and 4,988 more'), so a system of thousands of members does
    not fill a page with ids. Items are written with str() as given: escape them first where
    the sentence is Markdown."""
    items = [str(i) for i in items]
    if len(items) <= limit:
        return sep.join(items)
    return f"{sep.join(items[:limit])} and {len(items) - limit:,} more"


def named(items, limit: int = LISTED) -> str:
    """Items as a sentence names them: 'A', 'A and B', 'A, B and C' (beyond `limit`, as
    `listed` says them: 'A, B, … L and 4,988 more')."""
    items = [str(i) for i in items]
    if len(items) <= 1 or len(items) > limit:
        return listed(items, limit)
    return f"{', '.join(items[:-1])} and {items[-1]}"
