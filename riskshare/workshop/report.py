"""The workshop session report as a workbook: a summary of every step, the inputs, the
agreements, the scenario settings, a sheet per step, outcomes, the comparison, the fairness
tables and the charts. Money in £ with £ formats; the same views as the room saw."""

from __future__ import annotations

import pandas as pd

from riskshare.agreements.outcome import apply
from riskshare.core.excel import Sheet, workbook_bytes, write_workbook
from riskshare.reports import charts
from riskshare.reports.workbooks import OUTCOME_MONEY, RISK_MONEY, RISK_SHARES, fairness_sheets
from riskshare.workshop.steps import views as all_views

_PERCENT_WORDS = ("variance_pct",)


def _step_sheet_title(view) -> str:
    return f"{view.number} {view.step.kind.replace('_', ' ')}"[:31]


def session_sheets(session, views=None, images: bool = True) -> list[Sheet]:
    """The workshop report as sheets: summary (every step's figures and findings), inputs (the
    members), agreements (each one's TOML), scenarios (settings and the shocks by step),
    reconciliation, one sheet per step (its member table), the outcome of each agreement at the
    first step that shows it, the comparison across scenarios, the fairness tables and, when
    `images`, a charts sheet with each step's chart as a picture. Money in £ with £ formats."""
    views = list(views) if views is not None else all_views(session)
    system = session.system
    rows = []
    for v in views:
        for f in v.figures:
            rows.append({"step": v.number, "title": v.title, "kind": "figure",
                         "text": f"{f.label}: {f.text}" + (f" ({f.delta})" if f.delta else "")})
        for s in v.sentences:
            rows.append({"step": v.number, "title": v.title, "kind": "finding", "text": s})
        for c in v.changes:
            rows.append({"step": v.number, "title": v.title, "kind": "what if", "text": c})
    head = [{"step": None, "title": session.title, "kind": "session",
             "text": session.description or system.label},
            {"step": None, "title": "System", "kind": "session",
             "text": f"{system.label}: {system.n} members"}]
    sheets = [Sheet("summary", pd.DataFrame(head + rows)),
              Sheet("inputs", system.to_frame(),
                    money=("turnover", "control_total", "forecast", "support", "contribution",
                           "efficiency_plan"))]
    lines = [{"label": label, "name": a.name, "toml": line}
             for label, a in session.agreements for line in a.to_toml().splitlines()]
    sheets.append(Sheet("agreements", pd.DataFrame(lines)))
    s = session.scenarios
    settings = [("scenarios", s.n), ("seed", s.seed), ("correlation", s.correlation),
                ("kind_correlation", s.kind_correlation), ("distribution", s.distribution),
                ("df", s.df), ("volatility_scale", s.volatility_scale),
                ("risk_aversion", session.risk_aversion)]
    settings += [(f"step {k} shocks", ", ".join(session.shock(n).name for n in
                                                   session.shocks_at(k - 1)) or "none")
                 for k in range(1, len(session.steps) + 1)]
    sheets.append(Sheet("scenarios", pd.DataFrame(settings, columns=["setting", "value"])
                        .astype({"value": str})))
    rec = next((v.results["reconciliation"] for v in views if "reconciliation" in v.results),
               None)
    if rec is not None:
        sheets.append(Sheet("reconciliation", rec.statement.reset_index(), money=("amount",)))
    for v in views:
        table = v.table.reset_index()
        shares = tuple(c for c in table.columns if str(c).startswith("P("))
        sheets.append(Sheet(_step_sheet_title(v), table, money=v.money,
                            percent=tuple(c for c in _PERCENT_WORDS if c in table.columns),
                            shares=shares))
    outcomes: dict = {}
    for v in views:
        for label in v.step.agreements:
            if label in outcomes:
                continue
            done = v.results.get("outcomes", {})
            outcomes[label] = done[label] if label in done else apply(
                session.agreement(label), v.system)
    for label, o in outcomes.items():
        sheets.append(Sheet(f"outcome {label}", o.table.reset_index(), money=OUTCOME_MONEY))
    for v in views:
        if "comparison" in v.results:
            sheets.append(Sheet("comparison", v.results["comparison"], money=RISK_MONEY,
                                shares=RISK_SHARES))
            break
    seen = set()
    for v in views:
        for label, cert in v.results.get("certificates", {}).items():
            if label in seen:
                continue
            seen.add(label)
            members, violations = fairness_sheets(cert)[1:]
            sheets.append(Sheet(f"fairness {label}", members.frame, money=members.money,
                                shares=members.shares))
            sheets.append(Sheet(f"walk away {label}", violations.frame,
                                money=violations.money))
    if images:
        pictures = tuple((f"Step {v.number}: {v.title}", charts.to_png(v.chart))
                         for v in views if v.chart is not None)
        index = pd.DataFrame({"step": [v.number for v in views],
                              "chart": [f"Step {v.number}: {v.title}" for v in views]})
        sheets.append(Sheet("charts", index, images=pictures))
    return sheets


def write_session_report(session, target, views=None) -> None:
    """Write the workshop session workbook (`session_sheets`) to `target`, a path or a binary
    buffer."""
    write_workbook(target, session_sheets(session, views))


def session_workbook(session, views=None) -> bytes:
    """The workshop session workbook (`session_sheets`) as .xlsx bytes, for a download."""
    return workbook_bytes(session_sheets(session, views))
