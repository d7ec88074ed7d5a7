"""A session saved with a what-if in force (issue 15): every figure computed under the what-if
says so where it stands, and each report is internally consistent — the sheets without
"what-if" in their names hold the figures as prepared, the what-if's figures sit on sheets named
"what-if" beside the agreement as changed, and the agreements sheet's parameters are the ones
that made each sheet's figures.

The Northshire session at step 3 ("The current deal against a 50:50 gain/loss share") with B's
pool share moved from 50% to 65%. NGH, worked by hand: turnover £512.4m, OCT +£1.8m, forecast
−£11.6m, and the winter shock in force from step 2 costs each acute trust 2% of turnover
(−£10.248m), so its variance is −£11.6m − £1.8m − £10.248m = −£23.648m. B pools nothing up to
0.5% of turnover (£2.562m) and the pool share beyond it: −£21.086m × 50% = −£10.543m as
prepared, −£21.086m × 65% = −£13.7059m under the what-if.
"""

from __future__ import annotations

import io

import openpyxl
import pytest

import riskshare as rs
from riskshare import workshop
from riskshare.workshop import printable
from riskshare.workshop.report import session_workbook
from riskshare.workshop.session import WhatIf, load_session

CHANGE = "B: share pooled beyond the deadband 65% (prepared: 50%)"


@pytest.fixture(scope="module")
def session():
    return load_session("northshire_workshop").at_step(3, WhatIf.of("B", pool_share=0.65))


@pytest.fixture(scope="module")
def views(session):
    return workshop.views(session)


@pytest.fixture(scope="module")
def book(session, views):
    return openpyxl.load_workbook(io.BytesIO(session_workbook(session, views)))


def table(ws) -> list[dict]:
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    out = []
    for r in rows[1:]:
        if all(v is None for v in r):
            break
        out.append(dict(zip(rows[0], r, strict=True)))
    return out


def headings(ws) -> dict:
    return dict(zip([c.value for c in ws[2]], [c.value for c in ws[1]], strict=True))


def agreement_from_sheet(book, label: str):
    """The agreement the agreements sheet records under `label`, read back from its TOML."""
    lines = [r["toml"] or "" for r in table(book["agreements"]) if r["label"] == label]
    assert lines, label
    return rs.load_agreement("\n".join(lines) + "\n")


def ngh(ws) -> dict:
    return next(r for r in table(ws) if r["org_id"] == "NGH")


def test_the_view_on_screen_is_the_what_if(views):
    assert views[2].changes == (CHANGE,)
    assert not any(v.changes for v in views[:2] + views[3:])


def test_the_what_if_has_its_own_sheets_and_the_cover_names_it(book):
    names = book.sheetnames
    assert names[:2] == ["cover", "summary"]
    assert names.index("3 compare what-if") == names.index("3 compare") + 1
    assert {"outcome B", "comparison", "what-if outcome B", "what-if comparison"} <= set(names)
    # A is not changed by the what-if, so it has no what-if outcome of its own
    assert "what-if outcome A" not in names
    cover = {r[0]: r[1] for r in book["cover"].iter_rows(min_row=3, values_only=True) if r[0]}
    assert cover["What-if"].startswith(f"step 3: {CHANGE} — its figures are on the sheets "
                                       "named 'what-if'")


def test_the_agreements_sheet_holds_the_parameters_of_each_sheets_figures(book, session):
    prepared = agreement_from_sheet(book, "B")
    changed = agreement_from_sheet(book, "B what-if, step 3")
    assert prepared == session.agreement("B")
    assert {b.pool for b in prepared.losses.bands} == {0.0, 0.5}
    assert {b.pool for b in changed.losses.bands} == {0.0, 0.65}
    names = {r["name"] for r in table(book["agreements"]) if r["label"] == "B what-if, step 3"}
    assert names == {f"{session.agreement('B').name} (what-if: {CHANGE})"}
    system = workshop.system_at(session, 3)
    for sheet, agreement in (("outcome B", prepared), ("what-if outcome B", changed)):
        expected = rs.apply(agreement, system).table
        for row in table(book[sheet]):
            for column in ("pooled", "received", "final", "vs_standalone"):
                assert row[column] == pytest.approx(expected.loc[row["org_id"], column],
                                                    abs=0.005), (sheet, column)


def test_ngh_pooled_worked_by_hand(book):
    assert ngh(book["outcome B"])["variance"] == -23_648_000
    assert ngh(book["outcome B"])["pooled"] == -10_543_000           # 50% of −£21.086m
    assert ngh(book["what-if outcome B"])["pooled"] == -13_705_900   # 65% of −£21.086m
    # the step sheets: as prepared, and under the what-if
    assert ngh(book["what-if outcome B"])["retained"] == -23_648_000 + 13_705_900


def test_every_what_if_figure_is_headed_what_if(book, session):
    for sheet in ("3 compare what-if", "what-if outcome B", "what-if comparison",
                  "what-if comparison system"):
        heads = headings(book[sheet])
        figures = [c for c in heads if c not in ("org_id", "name", "agreement")]
        assert figures and all(heads[c].endswith(", what-if") for c in figures), sheet
    assert headings(book["outcome B"])["final"] == "Final position (£)"
    name = session.agreement("B").name
    agreements = {r["agreement"] for r in table(book["what-if comparison"])}
    assert agreements == {session.agreement("A").name, f"{name} (what-if)"}
    assert {r["agreement"] for r in table(book["comparison"])} == {
        session.agreement("A").name, name}
    # the whole system apart, one row per agreement, under the what-if too
    assert [r["agreement"] for r in table(book["what-if comparison system"])] == [
        session.agreement("A").name, f"{name} (what-if)"]
    assert headings(book["what-if comparison system"])["p_lose_support"] == \
        "Chance any member loses support (%), what-if"


def test_the_summary_keeps_the_prepared_figures_and_marks_the_what_ifs(book, session, views):
    rows = table(book["summary"])
    prepared = workshop.view(session, 3, WhatIf())
    step3 = [(r["kind"], r["text"]) for r in rows if r["step"] == 3]
    for f in prepared.figures:
        assert ("figure", f"{f.label}: {f.text}" + (f" ({f.delta})" if f.delta else "")) in step3
    for f in views[2].figures:
        assert ("what-if figure",
                f"{f.label}: {f.text}" + (f" ({f.delta})" if f.delta else "")) in step3
    assert ("what-if", CHANGE) in step3
    # the what-if moves B's findings (how much each member is worse off by)
    assert prepared.sentences != views[2].sentences
    for line in views[2].sentences:
        assert ("what-if finding", line) in step3


def test_the_printable_report_labels_the_what_if_figures(session, views):
    page = printable.html_report(session, views)
    assert f"What-if in force — step 3: {CHANGE}." in page
    prepared = workshop.view(session, 3, WhatIf())
    step3 = page.split("<h2>3. ")[1].split("<h2>4. ")[0]
    for f in prepared.figures:
        assert f'<div class="label">{f.label}</div>' in step3
    for f in views[2].figures:
        assert f'<div class="label">What-if: {f.label}</div>' in step3
    assert "What-if (as shown in the room): " + CHANGE in step3


def test_a_session_without_a_what_if_says_so():
    s = load_session("northshire_workshop")
    page = printable.html_report(s, workshop.views(s)[:1])
    assert "What-if in force — none: every figure is as prepared." in page
