"""The worked cases of the system boundary and the elective recovery fund on the command line
(figures worked by hand; the library's tests hold the same cases)."""

from __future__ import annotations

from tests.integration.cli_runner import run
from tests.unit.test_boundary import worked


def test_reconcile_states_the_boundary_worked_case(tmp_path, capsys):
    folder = worked().to_folder(tmp_path / "case")
    code, out, err = run(["reconcile", str(folder)], capsys)
    assert code == 0, err
    lines = {line.split("|")[1].strip(): line.split("|")[2].strip()
             for line in out.splitlines() if line.count("|") == 3}
    # ΣOCT −2.15, gap +3.65, forecast −20.83, variance against the SCT −22.33 (£m)
    assert lines["Sum of organisational control totals (ΣOCT)"] == "-£2.15m"
    assert lines["Gap: SCT − ΣOCT"] == "£3.65m"
    assert lines["Forecast system outturn (excluding support)"] == "-£20.83m"
    assert lines["Forecast variance against the SCT"] == "-£22.33m"
    flat = " ".join(out.split())
    assert "Revised OCTs inside the SCT sum to £1,500,000.00, the SCT £1,500,000.00." in flat
    assert "Outside the SCT, NSC and VGP keep their OCTs." in flat
    assert "outside SCT" in out


def test_apply_erf_shows_the_clawback(capsys):
    # target 104% × £500.0m = £520.0m, delivered £505.0m: 0.75 × 15.0 = £11.25m clawed back
    code, out, err = run(["apply", "erf_2022_23", "erf_2"], capsys)
    assert code == 0, err
    row = next(line for line in out.splitlines() if line.startswith("| ACUTE"))
    assert "-£11.25m" in row
