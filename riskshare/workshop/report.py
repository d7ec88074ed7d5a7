"""The workshop session report as a workbook: a cover, a summary of every step, the inputs, the
agreements, the scenario settings, a sheet per step, outcomes, the comparison (members, and the
whole system on its own sheet), the fairness tables and the charts. Numbers are stored as
numbers; chances as fractions shown 0.0%; volatility as the percent number (2 means 2%).
Money in £ to the penny with £ formats; the same views as the room saw.

A risks step adds its ranking (each event's effect on the chance of meeting the SCT) and the
reserve needed (the levels, and each member's contribution and funding), and the session's risk
register has a sheet of its own when a step draws it. A years step adds its projection's sheets
(`reports.workbooks.projection_sheets`, each titled with the step's number: the projection by
year and member, the board-paper sentences and, as present, capital, participation over the
horizon and the carry) and the projection rules it ran under, as TOML.

What-ifs: every sheet without "what-if" in its name holds the figures **as prepared** (the
agreements in the agreements sheet, the session's shocks). A step shown with a what-if in force
(`StepView.changes`) adds sheets named "… what-if" with its figures under the what-if, and the
agreements sheet adds the agreement as changed ("B what-if, step 3"), so each figure sits beside
the parameters that made it. The cover names the what-if in force.
"""

from __future__ import annotations

import pandas as pd

from riskshare.agreements.outcome import apply
from riskshare.core.excel import NO_WHAT_IF, Cover, Sheet, workbook_bytes, write_workbook
from riskshare.reports import charts
from riskshare.reports.workbooks import (
    OUTCOME_MONEY,
    RISK_MONEY,
    RISK_SHARES,
    fairness_sheets,
    projection_sheets,
    scenario_settings,
    split_system,
    system_sheet,
)
from riskshare.workshop.session import WhatIf
from riskshare.workshop.steps import system_at, view
from riskshare.workshop.steps import views as all_views
from riskshare.workshop.whatif import changed_agreement, target_label, uses_register

_PERCENT_WORDS = ("variance_pct",)
WHAT_IF = "what-if"


def _step_sheet_title(view, what_if: bool = False) -> str:
    head = f"{view.number} {view.step.kind.replace('_', ' ')}"
    return (f"{head} {WHAT_IF}" if what_if else head)[:31]


def prepared_views(session, views) -> list:
    """`views` with any step shown under a what-if replaced by the step as prepared."""
    return [v if not v.changes else view(session, v.number, WhatIf()) for v in views]


def what_if_label(view) -> str:
    """How a step's what-if reads on a cover or a heading: "step 3: B: pool share … 65%
    (prepared: 50%)"."""
    return f"step {view.number}: " + "; ".join(view.changes)


def what_if_agreement(session, view):
    """(label, agreement as changed) for a step under a what-if that changes an agreement;
    None when the what-if changes only the step (the shock's size, how bad years weigh)."""
    label = target_label(session, view.number, view.what_if)
    if label is None:
        return None
    changed = changed_agreement(session.agreement(label), view.what_if)
    return None if changed is session.agreement(label) else (label, changed)


def session_cover(session, views=None) -> Cover:
    """The session workbook's cover: the session, the system, the agreements, the scenario
    settings and the what-if in force (or "none — prepared figures")."""
    views = list(views) if views is not None else all_views(session)
    changed = [v for v in views if v.changes]
    what_if = ("; ".join(what_if_label(v) for v in changed)
               + " — its figures are on the sheets named 'what-if'; every other sheet holds the "
                 "figures as prepared") if changed else NO_WHAT_IF
    settings = [*[(k, v) for k, v in scenario_settings(session.scenarios) if k != "shocks"],
                ("shocks", "by step: see the scenarios sheet"),
                ("risk_aversion", session.risk_aversion),
                ("steps", len(session.steps))]
    notes = (session.title,) + ((session.description,) if session.description else ())
    return Cover("workshop session report", system=f"{session.system.label}: "
                                                   f"{session.system.n} members",
                 agreement="; ".join(f"{label}: {a.name}" for label, a in session.agreements),
                 settings=tuple(settings), what_if=what_if, notes=notes)


def _summary_rows(v, what_if: bool) -> list[dict]:
    kind = f"{WHAT_IF} " if what_if else ""
    rows = [{"step": v.number, "title": v.title, "kind": f"{kind}figure",
             "text": f"{f.label}: {f.text}" + (f" ({f.delta})" if f.delta else "")}
            for f in v.figures]
    rows += [{"step": v.number, "title": v.title, "kind": f"{kind}finding", "text": s}
             for s in v.sentences]
    if what_if:
        rows = [{"step": v.number, "title": v.title, "kind": WHAT_IF, "text": c}
                for c in v.changes] + rows
    return rows


def _step_sheet(v, what_if: bool) -> Sheet:
    table = v.table.reset_index()
    # chances as fractions, shown 0.0%: "P(worse than alone)", "A P(worse than alone)"
    shares = tuple(c for c in table.columns if "P(" in str(c))
    percent = tuple(c for c in _PERCENT_WORDS if c in table.columns)
    sheet = Sheet(_step_sheet_title(v, what_if), table, money=v.money, percent=percent,
                  shares=shares)
    if not what_if:
        return sheet
    return Sheet(sheet.title, table, money=v.money, percent=percent, shares=shares,
                 labels=_kinds_marked(sheet))


def _kinds_marked(sheet: Sheet) -> dict:
    """Every figure's heading on `sheet` with ", what-if" after it."""
    return {str(c): f"{sheet.label(str(c))}, {WHAT_IF}" for c in sheet.frame.columns
            if str(c) not in ("org_id", "name", "agreement")}


def _result_sheets(v, session) -> list[Sheet]:
    """A step under a what-if: the outcomes, comparison and fairness tables its what-if moves
    (those of the agreement it changes; every one when it changes the shock's size; the
    fairness tables when it changes how bad years weigh), each figure headed "what-if"."""
    changed = what_if_agreement(session, v)
    target = changed[0] if changed is not None else None
    scaled = abs(v.what_if.get("shock_scale", 1.0) - 1.0) > 1e-12
    weighed = abs(v.what_if.get("risk_aversion", session.risk_aversion)
                  - session.risk_aversion) > 1e-12
    sheets = []
    for label, o in v.results.get("outcomes", {}).items():
        if scaled or label == target:
            s = Sheet(f"{WHAT_IF} outcome {label}", o.table.reset_index(), money=OUTCOME_MONEY)
            sheets.append(Sheet(s.title, s.frame, money=s.money, labels=_kinds_marked(s)))
    if "comparison" in v.results:
        frame = v.results["comparison"].copy()
        if changed is not None:
            frame["agreement"] = frame["agreement"].replace(
                {changed[1].name: f"{changed[1].name} ({WHAT_IF})"})
        members, whole = split_system(frame)
        s = Sheet(f"{WHAT_IF} comparison", members, money=RISK_MONEY, shares=RISK_SHARES)
        sheets.append(Sheet(s.title, members, money=RISK_MONEY, shares=RISK_SHARES,
                            labels={**_kinds_marked(s), "agreement": "Agreement"}))
        s = system_sheet(whole, f"{WHAT_IF} comparison system")
        sheets.append(Sheet(s.title, s.frame, money=s.money, shares=s.shares,
                            labels={**_kinds_marked(s), "agreement": "Agreement"}))
    for label, cert in v.results.get("certificates", {}).items():
        if not (scaled or weighed or label == target):
            continue
        members, violations = fairness_sheets(cert)[1:]
        for title, s in ((f"{WHAT_IF} fairness {label}", members),
                         (f"{WHAT_IF} walk away {label}", violations)):
            s = Sheet(title, s.frame, money=s.money, shares=s.shares, labels=s.labels)
            sheets.append(Sheet(title, s.frame, money=s.money, shares=s.shares,
                                labels=_kinds_marked(s)))
    return sheets


def _risk_sheets(v, what_if: bool = False) -> list[Sheet]:
    """A risks step's ranking and reserve (levels, then members), headed "what-if" when
    worked out under one."""
    if "ranking" not in v.results:
        return []
    mark = f" {WHAT_IF}" if what_if else ""
    ranking = v.results["ranking"].reset_index(drop=True)
    ranking.insert(0, "rank", range(1, len(ranking) + 1))
    sizing = v.results["reserve"]
    levels = sizing.levels.reset_index().rename(columns={"p": "level"})
    members = sizing.members.reset_index()
    members.insert(1, "name", v.system.orgs["name"].reindex(members["org_id"]).to_numpy())
    sheets = [Sheet(f"{v.number} ranking{mark}"[:31], ranking, money=("amount", "delta_mean"),
                    shares=("probability", "delta_p_meet"), counts=("rank",)),
              Sheet(f"{v.number} reserve{mark}"[:31], levels, money=("reserve",),
                    shares=("level", "share_meeting_without", "share_meeting_with")),
              Sheet(f"{v.number} reserve members{mark}"[:31], members,
                    money=tuple(c for c in members.columns if c not in ("org_id", "name")))]
    if not what_if:
        return sheets
    return [Sheet(s.title, s.frame, money=s.money, shares=s.shares, counts=s.counts,
                  labels=_kinds_marked(s)) for s in sheets]


def _years_sheets(v, what_if: bool = False) -> list[Sheet]:
    """A years step's projection (`projection_sheets`) and the rules it ran under (their TOML,
    line by line), titled "<step> …" and headed "what-if" when worked out under one."""
    if "projection" not in v.results:
        return []
    mark = f" {WHAT_IF}" if what_if else ""
    rules = v.results["rules"]
    sheets = [Sheet(f"{v.number} {s.title}{mark}"[:31], s.frame, money=s.money,
                    percent=s.percent, shares=s.shares, counts=s.counts, labels=s.labels)
              for s in projection_sheets(v.results["projection"])]
    sheets.append(Sheet(f"{v.number} rules{mark}"[:31],
                        pd.DataFrame({"toml": rules.to_toml().splitlines()}),
                        labels={"toml": f"Projection rules: {rules.name}"}))
    if not what_if:
        return sheets
    return [Sheet(s.title, s.frame, money=s.money, percent=s.percent, shares=s.shares,
                  counts=s.counts, labels={**s.labels, **_kinds_marked(s)}) for s in sheets]


def _register_sheet(session, views) -> list[Sheet]:
    """The session's risk register as prepared, when a step drew it."""
    if session.register is None or not any(uses_register(session, v.number) for v in views):
        return []
    return [Sheet("risk register", session.register.table, money=("amount",),
                  shares=("probability",))]


def session_sheets(session, views=None, images: bool = True) -> list[Sheet]:
    """The workshop report as sheets (the cover is `session_cover`): summary (every step's
    figures and findings), inputs (the members), agreements (each one's TOML, and any agreement
    as changed by a what-if), scenarios (settings and the shocks by step), reconciliation, one
    sheet per step (its member table), the outcome of each agreement at the first step that
    shows it, the comparison across scenarios (the members; the whole system on a sheet of
    its own, `reports.workbooks.system_sheet`), the fairness tables, the what-if sheets of a
    step shown under a what-if and, when `images`, a charts sheet with each step's chart as a
    picture. Money in £ with £ formats."""
    views = list(views) if views is not None else all_views(session)
    prepared = prepared_views(session, views)
    changed = [v for v in views if v.changes]
    system = session.system
    rows = []
    for v, p in zip(views, prepared, strict=True):
        rows += _summary_rows(p, what_if=False)
        if v.changes:
            rows += _summary_rows(v, what_if=True)
    head = [{"step": None, "title": session.title, "kind": "session",
             "text": session.description or system.label},
            {"step": None, "title": "System", "kind": "session",
             "text": f"{system.label}: {system.n} members"}]
    head += [{"step": v.number, "title": v.title, "kind": WHAT_IF,
              "text": what_if_label(v) + " (its figures: the rows and sheets marked what-if)"}
             for v in changed]
    sheets = [Sheet("summary", pd.DataFrame(head + rows), counts=("step",),
                    labels={"kind": "Kind of line"}),
              Sheet("inputs", system.to_frame(),
                    money=("turnover", "control_total", "forecast", "support", "contribution",
                           "efficiency_plan"))]
    lines = [{"label": label, "name": a.name, "toml": line}
             for label, a in session.agreements for line in a.to_toml().splitlines()]
    for v in changed:
        found = what_if_agreement(session, v)
        if found is not None:
            label, a = found
            lines += [{"label": f"{label} {WHAT_IF}, step {v.number}",
                       "name": f"{a.name} ({WHAT_IF}: {'; '.join(v.changes)})", "toml": line}
                      for line in a.to_toml().splitlines()]
    sheets.append(Sheet("agreements", pd.DataFrame(lines),
                        labels={"label": "Agreement label", "name": "Agreement name"}))
    settings = [(k, v) for k, v in scenario_settings(session.scenarios) if k != "shocks"]
    settings.append(("risk_aversion", session.risk_aversion))
    settings += [(f"step {k} shocks", ", ".join(session.shock(n).name for n in
                                                   session.shocks_at(k - 1)) or "none")
                 for k in range(1, len(session.steps) + 1)]
    settings += [(f"step {v.number} {WHAT_IF}", "; ".join(v.changes)) for v in changed]
    # numbers stay numbers (1000, 0.3), text as text
    sheets.append(Sheet("scenarios", pd.DataFrame(settings, columns=["setting", "value"])))
    rec = next((v.results["reconciliation"] for v in prepared if "reconciliation" in v.results),
               None)
    if rec is not None:
        sheets.append(Sheet("reconciliation", rec.statement.reset_index(), money=("amount",)))
    for v, p in zip(views, prepared, strict=True):
        sheets.append(_step_sheet(p, what_if=False))
        if v.changes:
            sheets.append(_step_sheet(v, what_if=True))
    sheets += _register_sheet(session, prepared)
    for v, p in zip(views, prepared, strict=True):
        sheets += _risk_sheets(p) + _years_sheets(p)
        if v.changes:
            sheets += _risk_sheets(v, what_if=True) + _years_sheets(v, what_if=True)
    outcomes: dict = {}
    for v in prepared:
        for label in v.step.agreements:
            if label in outcomes:
                continue
            done = v.results.get("outcomes", {})
            outcomes[label] = done[label] if label in done else apply(
                session.agreement(label), system_at(session, v.number))
    for label, o in outcomes.items():
        sheets.append(Sheet(f"outcome {label}", o.table.reset_index(), money=OUTCOME_MONEY))
    for v in prepared:
        if "comparison" in v.results:     # the members, then the whole system apart
            members, whole = split_system(v.results["comparison"])
            sheets.append(Sheet("comparison", members, money=RISK_MONEY,
                                shares=RISK_SHARES, labels={"agreement": "Agreement"}))
            sheets.append(system_sheet(whole, "comparison system"))
            break
    seen = set()
    for v in prepared:
        for label, cert in v.results.get("certificates", {}).items():
            if label in seen:
                continue
            seen.add(label)
            members, violations = fairness_sheets(cert)[1:]
            sheets.append(Sheet(f"fairness {label}", members.frame, money=members.money,
                                shares=members.shares, labels=members.labels))
            sheets.append(Sheet(f"walk away {label}", violations.frame,
                                money=violations.money, labels=violations.labels))
    for v in changed:
        sheets += _result_sheets(v, session)
    if images:
        shown = [(p, f"Step {p.number}: {p.title}") for p in prepared]
        shown += [(v, f"Step {v.number}: {v.title} ({WHAT_IF}: {'; '.join(v.changes)})")
                  for v in changed]
        pictures = tuple((caption, charts.to_png(v.chart)) for v, caption in shown
                         if v.chart is not None)
        index = pd.DataFrame({"step": [v.number for v, _ in shown],
                              "chart": [caption for _, caption in shown]})
        sheets.append(Sheet("charts", index, counts=("step",), images=pictures))
    return sheets


def write_session_report(session, target, views=None) -> None:
    """Write the workshop session workbook (`session_cover`, `session_sheets`) to `target`, a
    path or a binary buffer."""
    views = list(views) if views is not None else all_views(session)
    write_workbook(target, session_sheets(session, views), session_cover(session, views))


def session_workbook(session, views=None) -> bytes:
    """The workshop session workbook (`session_cover`, `session_sheets`) as .xlsx bytes, for a
    download."""
    views = list(views) if views is not None else all_views(session)
    return workbook_bytes(session_sheets(session, views), session_cover(session, views))
