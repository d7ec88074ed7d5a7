"""Workbooks of results (one place, so the CLI's --xlsx and the app's downloads agree)."""

from __future__ import annotations

import pandas as pd

from riskshare.agreements.risk import REFERENCE
from riskshare.core.excel import Sheet, workbook_bytes, write_workbook
from riskshare.reconciliation.rebalance import Rebalancing
from riskshare.reconciliation.reconcile import Reconciliation

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
    """Write the reconciliation workbook (`reconciliation_sheets`) to `target`, a path or a
    binary buffer."""
    write_workbook(target, reconciliation_sheets(rec, reb))


def reconciliation_workbook(rec: Reconciliation, reb: Rebalancing) -> bytes:
    """The reconciliation workbook (`reconciliation_sheets`) as .xlsx bytes, for a download."""
    return workbook_bytes(reconciliation_sheets(rec, reb))


OUTCOME_MONEY = ("control_total", "support", "variance", "pooled", "retained", "received",
                  "net_transfer", "outturn", "support_earned", "final", "standalone",
                  "vs_standalone")


def outcome_sheets(outcome, incentives) -> list[Sheet]:
    """Sheets members, system, incentives and agreement (the TOML, one line per row)."""
    system = outcome.system
    return [
        Sheet("members", outcome.table.reset_index(), money=OUTCOME_MONEY),
        Sheet("system", pd.DataFrame({"line": list(system.index),
                                      "amount": system.to_numpy()}), money=("amount",)),
        Sheet("incentives", incentives.table.reset_index(),
              money=("cliff_exposure", "distance_to_cliff", "vs_standalone")),
        Sheet("agreement", pd.DataFrame({"toml": outcome.agreement.to_toml().splitlines()})),
    ]


def write_outcome(outcome, incentives, target) -> None:
    """Write an agreement's outcome and incentives (`outcome_sheets`) to `target`, a path or a
    binary buffer."""
    write_workbook(target, outcome_sheets(outcome, incentives))


def outcome_workbook(outcome, incentives) -> bytes:
    """An agreement's outcome and incentives (`outcome_sheets`) as .xlsx bytes."""
    return workbook_bytes(outcome_sheets(outcome, incentives))


RISK_MONEY = ("mean_final", "sd_final", "mean_standalone", "sd_standalone", "var95", "cvar95",
               "tail_contribution")
RISK_SHARES = ("p_miss_control_total", "p_lose_support", "p_worse_off", "retention_gain",
                "retention_loss")


def risk_sheets(table: pd.DataFrame, scenarios) -> list[Sheet]:
    """A comparison (or one agreement's risk table) and the scenario settings."""
    frame = table.reset_index() if "org_id" not in table.columns else table
    settings = pd.DataFrame({"setting": ["scenarios", "seed", "correlation",
                                         "kind_correlation", "distribution", "df", "shocks",
                                         "figures are against"],
                             "value": [scenarios.n, scenarios.seed, scenarios.correlation,
                                       scenarios.kind_correlation, scenarios.distribution,
                                       scenarios.df, ", ".join(s.name for s in scenarios.shocks),
                                       table.attrs.get("reference", REFERENCE)]})
    return [Sheet("metrics", frame, money=RISK_MONEY, shares=RISK_SHARES),
            Sheet("scenarios", settings)]


def write_risk(table: pd.DataFrame, scenarios, target) -> None:
    """Write a risk table or comparison and its scenario settings (`risk_sheets`) to `target`,
    a path or a binary buffer."""
    write_workbook(target, risk_sheets(table, scenarios))


def risk_workbook(table: pd.DataFrame, scenarios) -> bytes:
    """A risk table or comparison and its scenario settings (`risk_sheets`) as .xlsx bytes."""
    return workbook_bytes(risk_sheets(table, scenarios))


_ALLOCATION_MONEY = ("control_total", "variance", "pooled", "retained", "received",
                     "net_transfer", "outturn", "support_earned", "final", "standalone",
                     "vs_standalone")


def allocation_sheets(allocation, alternatives=()) -> list[Sheet]:
    """Sheets allocation (per member), conditions (binding, shadow prices in words), system
    and, when given, alternatives (received per member for the optimum and each alternative)."""
    table = allocation.table.reset_index()
    lines = [{"kind": "objective", "text": allocation.value_text()}]
    lines += [{"kind": "binding", "text": b.text} for b in allocation.binding]
    lines += [{"kind": "shadow price", "text": p.sentence} for p in allocation.shadow_prices]
    if allocation.note:
        lines.append({"kind": "note", "text": allocation.note})
    system = allocation.system.rename("amount").rename_axis("line").reset_index()
    sheets = [
        Sheet("allocation", table, money=_ALLOCATION_MONEY),
        Sheet("conditions", pd.DataFrame(lines)),
        Sheet("system", system, money=("amount",)),
    ]
    if alternatives:
        frame = pd.DataFrame({"optimum": allocation.received})
        for k, alt in enumerate(alternatives, start=1):
            frame[f"alternative {k}"] = alt.received
        values = pd.DataFrame([{"allocation": name, "value": a.value_text()} for name, a in
                               zip(frame.columns, [allocation, *alternatives], strict=True)])
        sheets.append(Sheet("alternatives", frame.rename_axis("org_id").reset_index(),
                            money=tuple(frame.columns)))
        sheets.append(Sheet("alternative values", values))
    return sheets


def write_allocation(allocation, target, alternatives=()) -> None:
    """Write an optimised allocation and any alternatives (`allocation_sheets`) to `target`, a
    path or a binary buffer."""
    write_workbook(target, allocation_sheets(allocation, alternatives))


def allocation_workbook(allocation, alternatives=()) -> bytes:
    """An optimised allocation and any alternatives (`allocation_sheets`) as .xlsx bytes."""
    return workbook_bytes(allocation_sheets(allocation, alternatives))


def fairness_sheets(cert) -> list[Sheet]:
    """Sheets certificate (the summary in sentences), members (alone, the agreement and the fair
    allocations, gains and shares of the gain) and violations (coalitions better off alone)."""
    table = cert.table.rename_axis("org_id").reset_index()
    money = tuple(c for c in table.columns if c not in ("org_id", "name")
                  and not c.startswith("share_"))
    shares = tuple(c for c in table.columns if c.startswith("share_"))
    violations = cert.violations.drop(columns=["players"])
    return [
        Sheet("certificate", pd.DataFrame({"finding": cert.summary()})),
        Sheet("members", table, money=money, shares=shares),
        Sheet("violations", violations, money=("value", "allocation", "shortfall")),
    ]


def write_fairness(cert, target) -> None:
    """Write a participation certificate (`fairness_sheets`) to `target`, a path or a binary
    buffer."""
    write_workbook(target, fairness_sheets(cert))


def fairness_workbook(cert) -> bytes:
    """A participation certificate (`fairness_sheets`) as .xlsx bytes, for a download."""
    return workbook_bytes(fairness_sheets(cert))
