"""`riskshare report` and `riskshare sessions`: a workshop session's Excel and printable reports
from the command line, the figures it prints, and bad session files.

What a user relies on: the command prints every step's title and headline figures exactly as the
workshop shows them, writes the files asked for, and a bad session file gives one message naming
what is wrong, exit status 2, no traceback and no half-written file.
"""

from __future__ import annotations

import copy
import functools

import openpyxl
import pytest

from riskshare import workshop
from riskshare.core.samples import synthetic
from riskshare.workshop import printable
from riskshare.workshop.session import load_session, read_session_dict
from tests.integration.cli_runner import run, run_subprocess

SESSION_SHEETS = {"summary", "inputs", "agreements", "scenarios", "charts"}


def flat(text: str) -> str:
    return " ".join(text.split())


@functools.cache
def bundled_views() -> tuple:
    return tuple(workshop.views(load_session("northshire_workshop")))


@functools.cache
def small_document() -> dict:
    """The bundled steps on a five-member synthetic system, judged at the forecast (quick)."""
    data = load_session("northshire_workshop").with_system(synthetic(5, seed=3)).to_dict()
    data["title"] = "Five members, a hard winter"
    for step in data["steps"]:
        step.pop("judge", None)
    return data


def small_session_file(tmp_path):
    session = read_session_dict(copy.deepcopy(small_document()))
    return session, session.save(tmp_path / "five.toml")


def assert_prints_every_step(out: str, views) -> None:
    text = flat(out)
    for v in views:
        assert flat(f"{v.number}. {v.title}") in text
        for f in v.figures:
            line = f"{f.label}: {f.text}" + (f" ({f.delta})" if f.delta else "")
            assert flat(line) in text, line
        for sentence in v.sentences:
            assert flat(sentence) in text, sentence


# -- reports ---------------------------------------------------------------------------------------
def test_report_writes_the_workbook_and_the_page_and_prints_every_step(tmp_path, capsys):
    xlsx, page = tmp_path / "a.xlsx", tmp_path / "a.html"
    code, out, err = run(["report", "northshire_workshop", "--xlsx", str(xlsx), "--html",
                          str(page)], capsys)
    assert code == 0, err
    views = bundled_views()
    session = views[0].session
    assert flat(f"{session.title} — {session.system.label}, 5 steps") in flat(out)
    assert_prints_every_step(out, views)
    assert f"Wrote {xlsx}" in flat(out) and f"Wrote {page}" in flat(out)
    book = openpyxl.load_workbook(xlsx)
    assert SESSION_SHEETS <= set(book.sheetnames)
    assert [n for n in book.sheetnames if n[0].isdigit()] == [
        "1 baseline", "2 shock", "3 compare", "4 walk away", "5 fairer"]
    # the step sheets hold the same figures as the workshop views
    rows = list(book["5 fairer"].iter_rows(min_row=3, values_only=True))
    assert [r[0] for r in rows] == list(views[4].table.index)
    side = list(views[4].table.columns).index("side payment to reach it") + 1
    for r, want in zip(rows, views[4].table["side payment to reach it"], strict=True):
        assert r[side] == pytest.approx(want, abs=0.005)
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "<script" not in text.lower()
    assert text.count("<svg") == 3
    for v in views:
        assert f"{v.number}. " in text


def test_report_from_a_session_file(tmp_path, capsys):
    session, path = small_session_file(tmp_path)
    page = tmp_path / "five.html"
    code, out, err = run(["report", str(path), "--html", str(page)], capsys)
    assert code == 0, err
    assert_prints_every_step(out, workshop.views(session))
    assert "Five members, a hard winter" in page.read_text(encoding="utf-8")


@pytest.mark.skipif(not printable.pdf_available(), reason="no Chromium to print a PDF with "
                    "(set RISKSHARE_CHROMIUM or install chromium)")
def test_report_to_pdf(tmp_path, capsys):
    _, path = small_session_file(tmp_path)
    pdf = tmp_path / "five.pdf"
    code, out, err = run(["report", str(path), "--pdf", str(pdf)], capsys)
    assert code == 0, err
    assert pdf.read_bytes().startswith(b"%PDF")
    assert f"Wrote {pdf}" in flat(out)


def test_report_without_outputs_prints_the_summary_only(tmp_path, capsys, monkeypatch):
    session, path = small_session_file(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    code, out, err = run(["report", str(path)], capsys)
    assert code == 0, err
    assert_prints_every_step(out, workshop.views(session))
    assert "Wrote" not in out
    assert list(work.iterdir()) == []


def test_report_shows_the_saved_what_if(tmp_path, capsys):
    data = copy.deepcopy(small_document())
    data["step"] = 3
    data["what_if"] = {"agreement": "B", "pool_share": 0.75}
    session = read_session_dict(data)
    path = session.save(tmp_path / "what_if.toml")
    code, out, err = run(["report", str(path)], capsys)
    assert code == 0, err
    (change,) = workshop.view(session, 3).changes
    assert flat(f"What if: {change}") in flat(out)
    assert_prints_every_step(out, workshop.views(session))


def test_sessions_lists_the_bundled_session(capsys):
    code, out, err = run(["sessions"], capsys)
    assert code == 0, err
    session = load_session("northshire_workshop")
    row = next(line for line in out.splitlines() if "northshire_workshop" in line)
    cells = [c.strip() for c in row.split("|") if c.strip()]
    assert cells == ["northshire_workshop", session.system.label, "5", session.title]


# -- bad sessions ----------------------------------------------------------------------------------
BAD_TOML = 'title = "broken"\nstep = [\n'
INVALID = """
title = "Invalid"
[system]
sample = "northshire_2018_19"
[agreements.A]
preset = "support_cliff_2018_19"
[scenarios]
n = 0
[[steps]]
kind = "compare"
title = "Only one"
agreements = ["A"]
"""


@pytest.mark.parametrize("case,text,expected", [
    ("missing", None, ["neither a bundled session", "missing.toml"]),
    ("invalid_toml", BAD_TOML, ["not valid TOML", "bad.toml"]),
    ("validation", INVALID, ["2 problems in bad.toml", "key 'scenarios.n'",
                             "key 'steps[1].agreements'"]),
])
def test_a_bad_session_is_one_message_and_writes_nothing(case, text, expected, tmp_path,
                                                         capsys):
    path = tmp_path / ("missing.toml" if text is None else "bad.toml")
    if text is not None:
        path.write_text(text, encoding="utf-8")
    xlsx, page, pdf = tmp_path / "out.xlsx", tmp_path / "out.html", tmp_path / "out.pdf"
    code, out, err = run(["report", str(path), "--xlsx", str(xlsx), "--html", str(page),
                          "--pdf", str(pdf)], capsys)
    assert code == 2
    assert err.count("Error:") == 1 and "Traceback" not in err
    for words in expected:
        assert words in flat(err)
    assert not xlsx.exists() and not page.exists() and not pdf.exists()
    assert "Wrote" not in out


def test_a_bad_session_through_the_real_entry_point(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(INVALID, encoding="utf-8")
    xlsx = tmp_path / "out.xlsx"
    result = run_subprocess("report", str(path), "--xlsx", str(xlsx))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "scenarios.n" in result.stderr and "steps[1].agreements" in result.stderr
    assert not xlsx.exists()


def test_an_impossible_saved_what_if_is_refused(tmp_path, capsys):
    data = {
        "title": "Corridors",
        "step": 1,
        "system": {"sample": "corridor_2"},
        "agreements": {"A": {"preset": "medicare_part_d_corridors"}},
        "steps": [{"kind": "agreement", "title": "Corridors", "agreements": ["A"]}],
    }
    session = read_session_dict(data)
    path = session.save(tmp_path / "corridors.toml")
    text = path.read_text(encoding="utf-8") + '\n[what_if]\nagreement = "A"\ndeadband = 12.0\n'
    path.write_text(text, encoding="utf-8")
    xlsx = tmp_path / "out.xlsx"
    code, out, err = run(["report", str(path), "--xlsx", str(xlsx)], capsys)
    assert code == 2
    assert "Traceback" not in err and "upto" in err
    assert not xlsx.exists()


def test_no_chromium_means_no_files_at_all(tmp_path, capsys, monkeypatch):
    _, path = small_session_file(tmp_path)
    monkeypatch.setenv("RISKSHARE_CHROMIUM", str(tmp_path / "no-such-chromium"))
    xlsx, page, pdf = tmp_path / "out.xlsx", tmp_path / "out.html", tmp_path / "out.pdf"
    code, out, err = run(["report", str(path), "--xlsx", str(xlsx), "--html", str(page),
                          "--pdf", str(pdf)], capsys)
    assert code == 2
    assert "Chromium" in err and "Traceback" not in err
    assert not xlsx.exists() and not page.exists() and not pdf.exists()
