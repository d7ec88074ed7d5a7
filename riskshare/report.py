"""Workbooks of results (one place, so the CLI's --xlsx and the app's downloads agree)."""

from __future__ import annotations

import pandas as pd

from .excel import Sheet, workbook_bytes, write_workbook
from .rebalance import Rebalancing
from .reconcile import Reconciliation

_MEMBER_MONEY = ("turnover", "control_total", "forecast", "support", "variance", "gap_share")
_REBALANCE_MONEY = ("turnover", "control_total", "revised", "change", "forecast",
                    "variance_revised")


def reconciliation_sheets(rec: Reconciliation, reb: Rebalancing) -> list[Sheet]:
    """Sheets statement, members, rebalancing and flags (money in £ with £ number formats)."""
    return [
        Sheet("statement", rec.statement.reset_index(), money=("amount",)),
        Sheet("members", rec.orgs.reset_index(), money=_MEMBER_MONEY,
              percent=("variance_pct",)),
        Sheet("rebalancing", reb.table.reset_index(), money=_REBALANCE_MONEY,
              percent=("change_pct",)),
        Sheet("flags", pd.DataFrame({"finding": list(rec.flags)})),
    ]


def write_reconciliation(rec: Reconciliation, reb: Rebalancing, target) -> None:
    write_workbook(target, reconciliation_sheets(rec, reb))


def reconciliation_workbook(rec: Reconciliation, reb: Rebalancing) -> bytes:
    return workbook_bytes(reconciliation_sheets(rec, reb))
