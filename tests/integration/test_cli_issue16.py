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
    assert _final(out, "ACUTE") == "-£11.25m"
    assert _final(out, "ICB") == "£11.25m"


def _final(out: str, member: str) -> str:
    """The member's `final` cell in the members table printed by `riskshare apply`."""
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("| org_id"))
    names = [c.strip() for c in header.split("|")[1:-1]]
    row = next(line for line in lines if line.startswith(f"| {member} "))
    return [c.strip() for c in row.split("|")[1:-1]][names.index("final")]


def _erf_delivered(tmp_path, delivered_m: float) -> str:
    """erf_2 with the trust delivering `delivered_m` £m of elective activity."""
    import riskshare as rs

    system = rs.load_sample("erf_2")
    orgs = system.orgs.copy()
    orgs.loc["ACUTE", "erf_delivered"] = delivered_m * 1e6
    return str(system.replace(orgs=orgs).to_folder(tmp_path / f"erf_{delivered_m:g}"))


def test_apply_erf_floors_the_clawback_and_pays_in_full_from_2023(tmp_path, capsys):
    # £470.0m delivered: 0.75 × (520 − 470) = £37.5m, floored at 75% × £40.0m = −£30.0m
    code, out, err = run(["apply", "erf_2022_23", _erf_delivered(tmp_path, 470.0)], capsys)
    assert code == 0, err
    assert _final(out, "ACUTE") == "-£30.00m"
    # the 2023/24 rule, £530.0m delivered: (530 − 520) at 100% = +£10.0m
    code, out, err = run(["apply", "erf_2023_24", _erf_delivered(tmp_path, 530.0)], capsys)
    assert code == 0, err
    assert _final(out, "ACUTE") == "£10.00m"
