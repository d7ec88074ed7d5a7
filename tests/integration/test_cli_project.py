"""`riskshare project`: the years ahead through the command line — the worked bridge
(underlying −£37.0m → support halved +10.0 → repaid −5.0 → savings +15.0 → −£17.0m), the worked
carry-forward with its cap, the capital worked case, the samples' bundled rules, the workbook,
and one clear message for each bad input."""

from __future__ import annotations

from openpyxl import load_workbook

from riskshare.core.write import write_folder
from tests.integration.cli_runner import run
from tests.integration.test_cli_in_year import agreement, row, table
from tests.unit.years.test_project import CARRY, RECOVERY, WORKED_RULES, one, two

BRIDGE = "Bridge for the system"


def test_the_worked_bridge(tmp_path, capsys):
    write_folder(one(nr_support=20e6, nr_savings=12e6), tmp_path / "one")
    rules = agreement(tmp_path, WORKED_RULES, "rules.toml")
    code, out, err = run(["project", str(tmp_path / "one"), rules], capsys)
    assert code == 0, err
    steps = {r["step"]: r["2026/27"] for r in table(out, BRIDGE)}
    assert steps["opening (underlying / last year's recurrent position)"] == "-£37.00m"
    assert steps["support (one-off line)"] == "+£10.00m"
    assert steps["repayment of a prior deficit"] == "-£5.00m"
    assert steps["recurrent savings"] == "+£15.00m"
    assert steps["planned position"] == "-£17.00m"
    assert "savings (one-off line)" not in steps          # one-off savings do not recur
    assert "plans -£17.00m in 2026/27 (£17.00m short of the SCT)" in " ".join(out.split())


def test_the_worked_carry_forward_with_its_cap(tmp_path, capsys):
    write_folder(two(), tmp_path / "two")
    rules = agreement(tmp_path, RECOVERY, "rules.toml")
    capped = agreement(tmp_path, CARRY + "max_carry_amount = 4_000_000\n")
    code, out, err = run(["project", str(tmp_path / "two"), rules, "-a", capped], capsys)
    assert code == 0, err
    a = row(out, "Carried over the years", "A")
    # 6.0 short in year 1: 4.0 carried (2.0 into each of years 2 and 3), 2.0 written off
    assert (a["carried"], a["written off to the pool"], a["applied within the horizon"],
            a["beyond it"]) == ("-£4.00m", "-£2.00m", "+£4.00m", "£0.00m")
    members = row(out, "Members' planned positions", "A")
    # planned −6.0, +3.0, +3.0 against control totals 0.0, 2.0, 2.0 (as carried)
    assert (members["2026/27"], members["2027/28"], members["2028/29"]) == (
        "-£6.00m (-£6.00m)", "£3.00m (+£1.00m)", "£3.00m (+£1.00m)")


def test_capital_and_the_sample_rules(tmp_path, capsys):
    code, out, err = run(["project", "vale_2025_26", "--years", "2", "--xlsx",
                          str(tmp_path / "years.xlsx")], capsys)
    assert code == 0, err
    assert "2 years from 2026/27" in out
    capital = table(out, "Capital (£m)")
    # the system plans a deficit of more than 8.0 both years: the 10% cap, 80.0 − 8.0 = 72.0
    assert [c["capital"] for c in capital] == ["£72.00m", "£72.00m"]
    assert [c["penalty"] for c in capital] == ["£8.00m", "£8.00m"]
    book = load_workbook(tmp_path / "years.xlsx", read_only=True)
    assert {"projection", "sentences", "capital"} <= set(book.sheetnames)


def test_agreement_and_scenarios_over_the_horizon(capsys):
    code, out, err = run(["project", "northshire_2018_19", "-a", "gain_loss_50_50_deadband",
                          "-n", "500", "--seed", "3"], capsys)
    assert code == 0, err
    assert "over the horizon discounted at 3.5% a year" in " ".join(out.split())
    assert len(table(out, "The system inside the SCT by year")) == 3
    assert {r["org_id"] for r in table(out, "Each member over the horizon")} >= {"NGH", "SVH"}


def test_bad_input_gets_one_clear_message(tmp_path, capsys):
    write_folder(one(), tmp_path / "one")
    code, out, err = run(["project", str(tmp_path / "one")], capsys)
    assert code != 0 and "give RULES" in err and "Traceback" not in err
    bad = agreement(tmp_path, 'name = "r"\nyears = 12\n[all]\nsavings = -2\n', "bad.toml")
    code, out, err = run(["project", str(tmp_path / "one"), bad], capsys)
    assert code != 0 and "'years'" in err and "'all.savings'" in err and "Traceback" not in err
    code, out, err = run(["project", "vale_2025_26", "nowhere.toml"], capsys)
    assert code != 0 and "neither bundled rules" in err
    code, out, err = run(["project", "vale_2025_26", "--years", "0"], capsys)
    assert code != 0 and "from 1 to 10" in err and "Traceback" not in err
