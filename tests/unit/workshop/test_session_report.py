"""The workshop session's reports: the Excel workbook, the printable HTML page and its PDF.

What a finance director relies on: every figure in the workbook is the library's figure to the
penny (outcomes, the comparison across scenarios, fairness, the reconciliation, each step's
table), money is formatted as £, headers stay in view, each step's chart is a real picture, and
text typed into a session can never run as a spreadsheet formula. The HTML page needs nothing
but itself (no scripts, no network), shows every step's figures and escapes every piece of text.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest
from PIL import Image

import riskshare as rs
from riskshare import workshop
from riskshare.agreements.risk import SYSTEM_ROW
from riskshare.core.excel import MONEY_FORMAT
from riskshare.core.samples import synthetic
from riskshare.games import certificate
from riskshare.reconciliation.reconcile import reconcile
from riskshare.workshop import printable
from riskshare.workshop.report import session_sheets, session_workbook
from riskshare.workshop.session import load_session, read_session_dict

PENNY = 0.01
FORMULA_START = ("=", "+", "-", "@")
GENERATED = dt.date(2026, 3, 14)
SHEETS = ["summary", "inputs", "agreements", "scenarios", "reconciliation", "1 baseline",
          "2 shock", "3 compare", "4 walk away", "5 fairer", "outcome A", "outcome B",
          "outcome C", "comparison", "comparison system", "fairness B", "walk away B",
          "fairness C", "walk away C", "charts"]


# -- built once ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def session():
    return load_session("northshire_workshop")


@pytest.fixture(scope="module")
def views(session):
    return workshop.views(session)


@pytest.fixture(scope="module")
def workbook_data(session, views):
    return session_workbook(session, views)


@pytest.fixture(scope="module")
def book(workbook_data):
    return openpyxl.load_workbook(io.BytesIO(workbook_data))


@pytest.fixture(scope="module")
def page(session, views):
    return printable.html_report(session, views, generated=GENERATED)


@pytest.fixture(scope="module")
def scenarios(session):
    """The session's scenarios around the forecast after the shock (steps 3 to 5)."""
    return session.scenarios.simulate(workshop.system_at(session, 3))


NAMES_ROW = 2   # row 1: the readable headings; row 2: the column names; the table from row 3


def records(ws) -> list[dict]:
    rows = ws.iter_rows(min_row=NAMES_ROW, values_only=True)
    header = next(rows)
    out = []
    for row in rows:
        if all(v is None for v in row):
            break                                        # the table ends (charts: captions)
        out.append(dict(zip(header, row, strict=True)))
    return out


def header(ws) -> list[str]:
    return [c.value for c in ws[NAMES_ROW]]


def headings(ws) -> dict[str, str]:
    """{column name: the readable heading above it}."""
    return dict(zip(header(ws), [c.value for c in ws[1]], strict=True))


def assert_sheet_is_frame(ws, frame: pd.DataFrame, percent=()) -> None:
    """Every cell of the sheet's table is the frame's value: text exactly, numbers to the penny;
    a `percent` column (percent numbers, 2.5 for 2.5%) holds the fraction (0.025)."""
    assert header(ws) == [str(c) for c in frame.columns]
    rows = records(ws)
    assert len(rows) == len(frame)
    for got, (_, want) in zip(rows, frame.iterrows(), strict=True):
        for col in frame.columns:
            value, expected = got[str(col)], want[col]
            if col in percent and not pd.isna(expected):
                expected = expected / 100
            if isinstance(expected, (float, np.floating)) and np.isnan(expected):
                assert value is None, col
            elif isinstance(expected, (int, float, np.integer, np.floating)) \
                    and not isinstance(expected, (bool, np.bool_)):
                assert value == pytest.approx(float(expected), abs=PENNY / 2), col
            else:
                assert value == expected, col


# -- the workbook ----------------------------------------------------------------------------------
def test_the_workbook_has_every_sheet(book):
    assert book.sheetnames == ["cover", *SHEETS]


def test_the_cover_names_the_settings_in_words(book):
    cover = {r[0]: r[1] for r in book["cover"].iter_rows(min_row=3, values_only=True) if r[0]}
    assert cover["Setting: scenarios"] == 1000
    assert cover["Setting: extra correlation within a kind"] == 0
    assert cover["Setting: degrees of freedom (t)"] == "not used (normal)"
    assert cover["Setting: how much bad years weigh (risk aversion)"] == 0.5
    assert not [k for k in cover if k.startswith("Setting:") and "_" in k]


def test_summary_holds_every_steps_figures_and_findings(book, session, views):
    rows = records(book["summary"])
    assert rows[0]["title"] == session.title and rows[0]["text"] == session.description
    texts = {(r["step"], r["kind"], r["text"]) for r in rows}
    for v in views:
        for f in v.figures:
            text = f"{f.label}: {f.text}" + (f" ({f.delta})" if f.delta else "")
            assert (v.number, "figure", text) in texts
        for line in v.sentences:
            assert (v.number, "finding", line) in texts
    assert {r["title"] for r in rows if r["step"]} == {v.title for v in views}


def test_inputs_agreements_and_settings(book, session):
    # volatility is the percent number itself (NGH 2.0 means 2% of turnover), as in the system
    # workbook that loads back: shown 0.00 under a heading that says "% of turnover"
    assert_sheet_is_frame(book["inputs"], session.system.to_frame())
    ws = book["inputs"]
    j = header(ws).index("volatility") + 1
    assert headings(ws)["volatility"] == "Volatility (% of turnover)"
    assert ws.cell(row=3, column=j).value == 2 and records(ws)[0]["org_id"] == "NGH"
    assert {ws.cell(row=r, column=j).number_format for r in range(3, 3 + session.system.n)} \
        == {"0.00"}
    lines = records(book["agreements"])
    for label, a in session.agreements:
        # (a blank line of TOML is an empty cell)
        assert [r["toml"] or "" for r in lines if r["label"] == label] == \
            a.to_toml().splitlines()
        assert {r["name"] for r in lines if r["label"] == label} == {a.name}
    settings = {r["setting"]: r["value"] for r in records(book["scenarios"])}
    # numbers stored as numbers, not as text
    assert settings["scenarios"] == 1000 and settings["seed"] == 2018
    assert settings["correlation"] == 0.3 and settings["risk_aversion"] == 0.5
    assert settings["distribution"] == "normal" and settings["df"] == "not used (normal)"
    assert settings["step 1 shocks"] == "none"
    for k in range(2, 6):
        assert settings[f"step {k} shocks"] == "Winter pressure: acute −2% of turnover"


def test_reconciliation_is_the_librarys(book, session):
    assert_sheet_is_frame(book["reconciliation"], reconcile(session.system).statement
                          .reset_index())


def test_each_step_sheet_is_the_steps_table(book, views):
    for v, title in zip(views, SHEETS[5:10], strict=True):
        assert_sheet_is_frame(book[title], v.table.reset_index(), percent=("variance_pct",))


@pytest.mark.parametrize("label,first_step", [("A", 3), ("B", 3), ("C", 5)])
def test_outcome_sheets_are_rs_apply_at_the_first_step_showing_the_agreement(
        book, session, label, first_step):
    system = workshop.system_at(session, first_step)
    expected = rs.apply(session.agreement(label), system).table.reset_index()
    assert_sheet_is_frame(book[f"outcome {label}"], expected)
    # the shock of step 2 is in force
    assert records(book[f"outcome {label}"])[0]["variance"] != session.system.variance.iloc[0]


def test_comparison_is_rs_compare(book, session, scenarios):
    expected = rs.compare([session.agreement("A"), session.agreement("B")],
                          workshop.system_at(session, 3), scenarios)
    # the members on one sheet; the whole system (any member, against ΣOCT) on its own
    members = expected[expected["org_id"] != SYSTEM_ROW].reset_index(drop=True)
    assert_sheet_is_frame(book["comparison"], members)
    assert SYSTEM_ROW not in {r["org_id"] for r in records(book["comparison"])}
    whole = expected[expected["org_id"] == SYSTEM_ROW].reset_index(drop=True)
    columns = ["agreement", "mean_final", "sd_final", "mean_standalone", "sd_standalone",
               "p_miss_control_total", "p_lose_support", "p_worse_off", "var95", "cvar95"]
    assert_sheet_is_frame(book["comparison system"], whole[columns])
    assert headings(book["comparison system"])["p_worse_off"] == \
        "Chance any member is worse off than alone (%)"


@pytest.mark.parametrize("label,step", [("B", 4), ("C", 5)])
def test_fairness_sheets_are_the_certificate(book, session, scenarios, label, step):
    cert = certificate(workshop.system_at(session, step), session.agreement(label), scenarios,
                       session.risk_aversion)
    assert_sheet_is_frame(book[f"fairness {label}"], cert.table.rename_axis("org_id")
                          .reset_index())
    assert_sheet_is_frame(book[f"walk away {label}"], cert.violations.drop(columns=["players"]))
    assert len(records(book[f"walk away {label}"])) == len(cert.violations)


MONEY_COLUMNS = {
    "inputs": ["turnover", "control_total", "forecast", "support"],
    "reconciliation": ["amount"],
    "1 baseline": ["control_total", "forecast", "variance", "support"],
    "2 shock": ["variance_before", "shock", "variance_after", "control_total"],
    "3 compare": ["A final", "A vs alone", "B final", "B vs alone", "A mean final",
                  "B mean final"],
    "4 walk away": ["alone", "agreement", "gain_agreement", "gain_shapley", "gain_nucleolus"],
    "5 fairer": ["B gain", "C gain", "Shapley gain", "nucleolus gain",
                 "side payment to reach it"],
    "outcome A": ["control_total", "support", "variance", "pooled", "retained", "received",
                  "net_transfer", "outturn", "support_earned", "final", "standalone",
                  "vs_standalone"],
    "comparison": ["mean_final", "sd_final", "var95", "cvar95"],
    "fairness B": ["alone", "agreement", "shapley", "nucleolus", "gain_agreement"],
    "walk away C": ["value", "allocation", "shortfall"],
}


def test_money_columns_carry_the_pound_format(book):
    for title, columns in MONEY_COLUMNS.items():
        ws = book[title]
        names = header(ws)
        for col in columns:
            j = names.index(col) + 1
            cells = [ws.cell(row=r, column=j) for r in range(3, len(records(ws)) + 3)]
            assert cells, (title, col)
            assert all(c.number_format == MONEY_FORMAT for c in cells), (title, col)
    # text and counts are not money; chances are fractions shown as percentages
    ws = book["3 compare"]
    for name in ("A P(worse than alone)", "B P(worse than alone)"):
        j = header(ws).index(name) + 1
        cells = [ws.cell(row=r, column=j) for r in range(3, len(records(ws)) + 3)]
        assert {c.number_format for c in cells} == {"0.0%"}
        assert all(0 <= c.value <= 1 for c in cells)
    assert book["1 baseline"].cell(row=3, column=2).number_format != MONEY_FORMAT


def test_headers_are_frozen_and_bold(book):
    for ws in book.worksheets[1:]:                      # every sheet after the cover
        assert ws.freeze_panes == ("B3" if ws.max_column > 1 else "A3"), ws.title
        assert all(c.font.bold for c in ws[1]), ws.title


def test_the_charts_sheet_holds_one_picture_per_step(book, workbook_data, views):
    ws = book["charts"]
    assert [(r["step"], r["chart"]) for r in records(ws)] == \
        [(v.number, f"Step {v.number}: {v.title}") for v in views]
    captions = [c.value for c in ws["A"] if isinstance(c.value, str)
                and c.value.startswith("Step ") and c.row > len(views) + 2]
    assert captions == [f"Step {v.number}: {v.title}" for v in views]
    images = ws._images
    assert len(images) == len(views)
    assert all(not other._images for other in book.worksheets if other.title != "charts")
    with zipfile.ZipFile(io.BytesIO(workbook_data)) as z:
        media = sorted(n for n in z.namelist() if n.startswith("xl/media/"))
        assert len(media) == len(views)
        for name in media:
            data = z.read(name)
            assert data.startswith(b"\x89PNG\r\n\x1a\n")
            with Image.open(io.BytesIO(data)) as picture:
                picture.verify()
            with Image.open(io.BytesIO(data)) as picture:
                assert picture.format == "PNG" and min(picture.size) > 100


def test_no_cell_in_the_workbook_is_a_formula(book):
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate)


def test_session_sheets_without_images_has_no_charts_sheet(session, views):
    titles = [s.title for s in session_sheets(session, views, images=False)]
    assert titles == SHEETS[:-1]


# -- formula-like text -----------------------------------------------------------------------------
HOSTILE = {
    "title": '=HYPERLINK("http://x","y")',
    "description": "+1+1",
    "agreement": "@SUM(A1)",
    "step": "-2+3 is the answer",
    "notes": "=1+1",
    "member": "=SUM(A1:A9)",
}


@pytest.fixture(scope="module")
def hostile_session():
    s = load_session("northshire_workshop").with_system(synthetic(5, seed=3))
    data = s.to_dict()
    data["title"] = HOSTILE["title"]
    data["description"] = HOSTILE["description"]
    data["agreements"] = {"A": data["agreements"]["B"]}
    data["agreements"]["A"]["name"] = HOSTILE["agreement"]
    data["steps"] = [
        {"kind": "baseline", "title": HOSTILE["step"], "notes": HOSTILE["notes"]},
        {"kind": "agreement", "title": "@the share", "agreements": ["A"]},
    ]
    data["system"]["orgs"][0]["name"] = HOSTILE["member"]
    return read_session_dict(data)


def test_formula_like_text_is_stored_as_text(hostile_session):
    book = openpyxl.load_workbook(io.BytesIO(session_workbook(hostile_session)))
    found = {}
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
                    assert cell.data_type == "s", (ws.title, cell.coordinate)
                    assert cell.quotePrefix, (ws.title, cell.coordinate, cell.value)
                    found.setdefault(cell.value, set()).add(ws.title)
    # each piece of the session's text is there, as typed
    assert "summary" in found[HOSTILE["title"]]
    assert "summary" in found[HOSTILE["description"]]
    assert "summary" in found[HOSTILE["step"]] and "summary" in found["@the share"]
    assert "agreements" in found[HOSTILE["agreement"]]
    assert {"inputs", "1 baseline", "2 agreement", "outcome A"} <= found[HOSTILE["member"]]


# -- the printable HTML ----------------------------------------------------------------------------
SVG_NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def test_the_html_page_is_self_contained(page):
    lower = page.lower()
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in lower
    for outside in ("<link", "<img", "<iframe", "src=", "href=", "url(", "@import"):
        assert outside not in lower, outside
    # the only addresses in it are the SVG namespace names, which are never fetched
    assert set(re.findall(r"https?://[^\s\"'<>)]*", page)) <= SVG_NAMESPACES


def test_the_html_page_shows_every_step(page, session, views):
    assert html.escape(session.title) in page
    assert GENERATED.strftime("%-d %B %Y") in page
    for v in views:
        assert f"<h2>{v.number}. {html.escape(v.title)}</h2>" in page
        for f in v.figures:
            assert f'<div class="value">{html.escape(f.text)}</div>' in page
            assert html.escape(f.label) in page
        for line in v.sentences[:printable.MAX_FINDINGS]:
            assert f"<li>{html.escape(line)}</li>" in page
    chosen = printable.key_views(views)
    assert [v.number for v in chosen] == [2, 3, 5]
    assert page.count("<svg") == len(chosen) == printable.MAX_CHARTS
    for v in chosen:
        assert f"Step {v.number}: {html.escape(v.title)}</div><svg" in page


def test_text_from_the_session_is_escaped():
    s = load_session("northshire_workshop").with_system(synthetic(5, seed=3))
    data = s.to_dict()
    data["title"] = "<script>alert(1)</script>"
    data["description"] = 'Fish & chips "quoted" <b>bold</b>'
    data["agreements"]["B"]["name"] = "<img src=x onerror=alert(2)>"
    data["system"]["orgs"][0]["name"] = "<i>Trust</i> & co"
    data["steps"] = [{"kind": "baseline", "title": "<h1>Start</h1>"},
                     {"kind": "compare", "title": "A & B", "agreements": ["A", "B"]}]
    hostile = read_session_dict(data)
    page = printable.html_report(hostile, generated=GENERATED)
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Fish &amp; chips &quot;quoted&quot; &lt;b&gt;bold&lt;/b&gt;" in page
    assert "&lt;h1&gt;Start&lt;/h1&gt;" in page and "<h1>Start</h1>" not in page
    assert "<i>Trust</i>" not in page and "<b>bold</b>" not in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page


# -- the PDF ---------------------------------------------------------------------------------------
def pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", pdf))


@pytest.mark.skipif(not printable.pdf_available(), reason="no Chromium to print a PDF with "
                    "(set RISKSHARE_CHROMIUM or install chromium)")
def test_the_pdf_prints_on_one_or_two_pages(page):
    pdf = printable.pdf_bytes(page)
    assert pdf.startswith(b"%PDF")
    assert 1 <= pages(pdf) <= 2
    assert pdf.rstrip().endswith(b"%%EOF")


def test_no_chromium_is_a_clear_error(monkeypatch, tmp_path, page):
    monkeypatch.setenv("RISKSHARE_CHROMIUM", str(tmp_path / "no-such-chromium"))
    assert not printable.pdf_available()
    with pytest.raises(printable.PdfUnavailableError, match="Chromium"):
        printable.pdf_bytes(page)
    assert isinstance(printable.PdfUnavailableError("x"), rs.core.errors.RiskshareError)
