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


_OUTCOME_MONEY = ("control_total", "support", "variance", "pooled", "retained", "received",
                  "net_transfer", "outturn", "support_earned", "final", "standalone",
                  "vs_standalone")


def outcome_sheets(outcome, incentives) -> list[Sheet]:
    """Sheets members, system, incentives and agreement (the TOML, one line per row)."""
    system = outcome.system
    return [
        Sheet("members", outcome.table.reset_index(), money=_OUTCOME_MONEY),
        Sheet("system", pd.DataFrame({"line": list(system.index),
                                      "amount": system.to_numpy()}), money=("amount",)),
        Sheet("incentives", incentives.table.reset_index(),
              money=("cliff_exposure", "distance_to_cliff", "vs_standalone")),
        Sheet("agreement", pd.DataFrame({"toml": outcome.agreement.to_toml().splitlines()})),
    ]


def write_outcome(outcome, incentives, target) -> None:
    write_workbook(target, outcome_sheets(outcome, incentives))


def outcome_workbook(outcome, incentives) -> bytes:
    return workbook_bytes(outcome_sheets(outcome, incentives))
