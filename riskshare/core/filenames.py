"""File names for downloads and written reports: `riskshare-<system>-<what>-<yyyy-mm-dd>.<ext>`,
lower case, with anything but letters, digits and single hyphens taken out, so a name is safe
on every operating system and says what the file holds and when it was made."""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata

__all__ = ["slug", "export_name"]

MAX_PART = 40   # characters of the system's or the file's description


def slug(text: object, limit: int = MAX_PART) -> str:
    """`text` as a file-name part: ASCII letters and digits joined by single hyphens, lower
    case, at most `limit` characters ("Northshire & Vale 2018/19" → "northshire-vale-2018-19").
    A longer text is cut at the end of a word ("a-hard-winter" at 10 → "a-hard"); only a first
    word longer than `limit` is itself cut."""
    ascii_text = (unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore")
                  .decode("ascii"))
    words = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(words) <= limit:
        return words
    if words[limit] == "-":            # the cut falls between two words
        return words[:limit]
    kept = words[:limit]
    return kept.rsplit("-", 1)[0] if "-" in kept else kept


def export_name(system: object, what: str, ext: str, day: _dt.date | None = None) -> str:
    """The download's file name: riskshare-<system>-<what>-<yyyy-mm-dd>.<ext>; a part that is
    empty once sanitised is left out ("riskshare-reconciliation-2026-03-14.xlsx")."""
    day = day or _dt.date.today()
    parts = ["riskshare", slug(system), slug(what)]
    stem = "-".join(p for p in parts if p)
    return f"{stem}-{day.isoformat()}.{slug(ext, 8) or 'txt'}"
