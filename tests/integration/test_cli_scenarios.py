"""The scenario commands: `riskshare simulate` and `riskshare compare`."""

from __future__ import annotations

import openpyxl
import pytest

import riskshare as rs
from riskshare.core.format import money_m
from tests.integration.cli_runner import run, run_subprocess

N = "2000"


def flat(text: str) -> str:
    """The output with line wrapping undone (rich wraps long lines at the console width)."""
    return " ".join(text.split())


@pytest.mark.parametrize("sample", ["northshire_2018_19", "workshop_4"])
def test_simulate_prints_each_member_and_the_system(sample, capsys):
    code, out, err = run(["simulate", "gain_loss_50_50_deadband", sample, "-n", N, "--seed",
                          "3"], capsys)
    assert code == 0, err
    system = rs.load_sample(sample)
    for org_id in list(system.members) + ["SYSTEM"]:
        assert f"| {org_id} " in out
    assert "2,000 scenarios (normal; correlation 0.3; seed 3)" in flat(out)
    # the figures are the library's, for the same seed
    table = rs.risk_table("gain_loss_50_50_deadband", system, rs.simulate(system, 2000, seed=3))
    first = system.members[0]
    assert money_m(table.loc[first, "mean_final"], 2) in out
    assert money_m(table.loc["SYSTEM", "cvar95"], 2) in out


def test_simulate_with_shocks_and_a_workbook(tmp_path, capsys):
    path = tmp_path / "risk.xlsx"
    code, out, err = run(["simulate", "standalone", "northshire_2018_19", "-n", N,
                          "--shock", "winter_pressure", "--shock", "efficiency_slip",
                          "--distribution", "t", "--df", "6", "--xlsx", str(path)], capsys)
    assert code == 0, err
    assert ("shocks: Winter pressure: acute −2% of turnover, Efficiency plans slip by 30%"
            in flat(out))
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["cover", "members", "system", "scenarios"]
    system = rs.load_sample("northshire_2018_19")
    scenarios = rs.simulate(system, 2000, seed=0, distribution="t", df=6,
                            shocks=["winter_pressure", "efficiency_slip"])
    table = rs.risk_table("standalone", system, scenarios)
    rows = list(wb["members"].iter_rows(values_only=True))
    header = rows[1]                                # row 1: readable headings; row 2: names
    ngh = dict(zip(header, next(r for r in rows if r[0] == "NGH"), strict=True))
    assert ngh["mean_final"] == pytest.approx(table.loc["NGH", "mean_final"], abs=0.01)
    assert ngh["p_worse_off"] == pytest.approx(0.0)  # standalone is never worse than itself
    # the members only; the whole system in one row on its own sheet
    assert [r[0] for r in rows[2:]] == list(system.members)
    whole = list(wb["system"].iter_rows(values_only=True))
    assert len(whole) == 3 and whole[1][0] == "mean_final"
    assert whole[2][0] == pytest.approx(table.loc["SYSTEM", "mean_final"], abs=0.01)


def test_compare_shows_every_agreement_and_who_is_worse_off(tmp_path, capsys):
    path = tmp_path / "compare.xlsx"
    code, out, err = run(["compare", "workshop_4", "standalone", "full_pooling_turnover",
                          "-n", N, "--xlsx", str(path)], capsys)
    assert code == 0, err
    assert "Standalone (no sharing)" in out and "Full pooling pro rata to net turnover" in out
    out = flat(out)
    system = rs.load_sample("workshop_4")
    table = rs.compare(["standalone", "full_pooling_turnover"], system,
                       rs.simulate(system, 2000, seed=0))
    worse = table[(table.org_id != "SYSTEM") & (table.p_worse_off >= 0.5)]
    pooled = worse[worse.agreement == "Full pooling pro rata to net turnover"]
    assert ("Under Full pooling pro rata to net turnover, more often worse off than alone: "
            + ", ".join(pooled.org_id) + ".") in out
    wb = openpyxl.load_workbook(path)
    rows = list(wb["members"].iter_rows(values_only=True))
    assert len(rows) == 2 + 2 * system.n              # two header rows, then the members
    assert len(list(wb["system"].iter_rows(values_only=True))) == 2 + 2   # one per agreement


@pytest.mark.parametrize("args, fragment", [
    (["-n", "0"], "key 'n': 0 must be a whole number of scenarios, at least 1"),
    (["--correlation", "1.5"], "key 'correlation': 1.5 must lie in [0, 1]"),
    (["--distribution", "t", "--df", "2"], "key 'df': 2 degrees of freedom must be greater"),
    (["--distribution", "lognormal"], "key 'distribution': 'lognormal' must be one of: "
                                      "normal, t"),
    (["--shock", "provider_10m"], "'NGH' is not a member of Workshop system 2019/20"),
    (["--shock", "no_such_shock"], "'no_such_shock' is neither a shock preset"),
])
def test_bad_scenario_settings_are_one_clear_message(args, fragment, capsys):
    code, out, err = run(["simulate", "standalone", "workshop_4", *args], capsys)
    assert code == 2
    assert fragment in err
    assert "Traceback" not in err


def test_compare_through_the_real_entry_point():
    result = run_subprocess("compare", "workshop_4", "standalone", "gain_loss_50_50_deadband",
                            "-n", "1000")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "SYSTEM" in result.stdout
