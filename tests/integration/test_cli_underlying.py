"""`riskshare reconcile` shows reported against underlying when members have one-offs: the
worked case of the years ahead (reported −£5.0m including £20.0m of deficit support and £12.0m
of non-recurrent savings ⇒ underlying −£37.0m), and nothing extra for a system without any."""

from __future__ import annotations

from riskshare.core.write import write_folder
from tests.integration.cli_runner import run
from tests.integration.test_cli_in_year import row
from tests.unit.years.test_underlying import system

TITLE = "Reported and underlying"


def test_the_worked_case_through_reconcile(tmp_path, capsys):
    write_folder(system(nr_support=[20e6, 0.0], nr_savings=[12e6, 0.0]), tmp_path / "two")
    code, out, err = run(["reconcile", str(tmp_path / "two")], capsys)
    assert code == 0, err
    a = row(out, TITLE, "A")
    # −5.0 − (20.0 + 12.0) = −37.0; as reported it meets its OCT of −5.0 (+0.00), underlying
    # 32.0 short
    assert (a["forecast"], a["non-recurrent"], a["nr_support"], a["nr_savings"]) == (
        "-£5.00m", "£32.00m", "£20.00m", "£12.00m")
    assert (a["underlying"], a["underlying vs OCT"], a["flag"]) == (
        "-£37.00m", "-£32.00m", "one-offs only")
    s = row(out, TITLE, "SYSTEM")
    # the system: −5.0 + 1.5 = −3.5 against the SCT −4.0; underlying −35.5, 31.5 short
    assert (s["reported vs OCT"], s["underlying vs OCT"]) == ("+£0.50m", "-£31.50m")
    assert "its underlying position is -£35.50m, £31.50m short of the SCT" in " ".join(
        out.split())


def test_no_one_offs_no_section(tmp_path, capsys):
    write_folder(system(), tmp_path / "plain")
    code, out, _ = run(["reconcile", str(tmp_path / "plain")], capsys)
    assert code == 0 and TITLE not in out
