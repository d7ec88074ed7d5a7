"""`riskshare optimise` and `riskshare reconcile --method`: every objective on every sample,
conditions from options and from a file, infeasible requests explained, workbooks, bad input."""

from __future__ import annotations

import openpyxl
import pytest

import riskshare as rs
from riskshare.core.format import money_m
from riskshare.optimisation.optimise import OBJECTIVES
from tests.integration.cli_runner import run, run_subprocess


def flat(text: str) -> str:
    return " ".join(text.split())


def _with_support(sample: str) -> bool:
    return bool((rs.load_sample(sample).orgs["support"] > 0).any())


CASES = [(s, o) for s in rs.list_samples() for o in OBJECTIVES
         if o != "max_support_earned" or _with_support(s)]


@pytest.mark.parametrize("sample,objective", CASES)
def test_every_objective_runs_on_every_sample(sample, objective, capsys):
    code, out, err = run(["optimise", sample, "--objective", objective, "--max-charge", "2"],
                         capsys)
    assert code == 0, err
    system = rs.load_sample(sample)
    result = rs.optimise(system, objective=objective, constraints={"max_charge": 2.0})
    assert result.value_text() in flat(out)          # the library's figures, not others
    for org_id in system.members:
        assert f"| {org_id} " in out
        assert money_m(result.received[org_id], 2) in out


def test_constraints_from_options_and_a_file_agree(tmp_path, capsys):
    path = tmp_path / "conditions.toml"
    path.write_text("[constraints]\nmax_charge = 0.5\nmin_retention = 0.2\n"
                    "fixed = { CCG = 0.0 }\n", encoding="utf-8")
    code_a, out_a, _ = run(["optimise", "northshire_2018_19", "--constraints", str(path)], capsys)
    code_b, out_b, _ = run(["optimise", "northshire_2018_19", "--max-charge", "0.5",
                            "--min-retention", "0.2", "--fixed", "CCG=0"], capsys)
    assert code_a == code_b == 0
    strip = lambda text: [line for line in text.splitlines() if " s" not in line[-12:]]
    assert strip(out_a) == strip(out_b)
    assert "Shadow prices" in out_a and "would lower the largest shortfall" in flat(out_a)


def test_an_agreement_alternatives_and_a_workbook(tmp_path, capsys):
    path = tmp_path / "allocation.xlsx"
    code, out, err = run(["optimise", "northshire_2018_19", "-a", "gain_loss_50_50_deadband",
                          "--floor", "-3", "--alternatives", "2", "--slack", "0.2",
                          "--xlsx", str(path)], capsys)
    assert code == 0, err
    assert "starting from “Gain/loss share 50:50" in flat(out)
    assert "Alternatives within 20% of the optimum" in flat(out)
    book = openpyxl.load_workbook(path)
    assert {"allocation", "conditions", "system", "alternatives"} <= set(book.sheetnames)
    header = [c.value for c in book["allocation"][2]]     # the column names, under headings
    assert {"org_id", "received", "net_transfer", "final", "shortfall_pct"} <= set(header)


def test_an_infeasible_request_is_explained_in_words(capsys):
    code, out, err = run(["optimise", "northshire_2018_19", "--fixed", "NGH=5000000",
                          "--max-award-gbp", "2000000"], capsys)
    assert code == 2
    text = flat(err)
    assert "No allocation of the pool meets every condition" in text
    assert "NGH's transfer is fixed at £5.00m" in text
    assert "NGH is awarded at most £2.00m" in text
    assert "The smallest change that makes it feasible" in text
    assert "£3.00m" in text
    assert "Traceback" not in err


@pytest.mark.parametrize("argv,expected", [
    (["--objective", "fastest"], "unknown objective"),
    (["--solver", "gurobi"], "unknown solver"),
    (["--fixed", "NGH"], "--fixed expects ORG_ID=AMOUNT"),
    (["--fixed", "XYZ=5"], "names 'XYZ', which is not a member"),
    (["--min-retention", "1.5"], "must be a share between 0 and 1"),
    (["--max-charge", "-1"], "must be ≥ 0"),
    (["-a", "no_such_preset"], "is neither a preset"),
    (["--objective", "max_support_earned"], "needs support that depends on the transfers"),
])
def test_bad_requests_give_one_clear_message(argv, expected, capsys):
    sample = "nec_2" if "max_support_earned" in argv else "northshire_2018_19"
    code, out, err = run(["optimise", sample, *argv], capsys)
    assert code == 2, out
    assert expected in flat(err)
    assert "Traceback" not in err


def test_a_bad_constraints_file_names_the_key(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text("[constraints]\nmax_chrage = 1.0\n", encoding="utf-8")
    code, _, err = run(["optimise", "northshire_2018_19", "--constraints", str(path)], capsys)
    assert code == 2
    assert "key 'max_chrage': is not a constraint (valid: pool, max_charge" in flat(err)


@pytest.mark.parametrize("method", ["minimax_change", "closest_to_forecast"])
def test_reconcile_with_an_optimised_method(method, capsys):
    code, out, err = run(["reconcile", "northshire_2018_19", "--method", method, "--keep",
                          "CCG", "--max-change", "3"], capsys)
    assert code == 0, err
    reb = rs.rebalance(rs.load_sample("northshire_2018_19"), method=method, keep=["CCG"],
                       max_change=3.0)
    assert reb.describe() in flat(out)
    assert money_m(reb.revised["NGH"], 2) in out


def test_reconcile_infeasible_rebalancing_exits_2(capsys):
    code, _, err = run(["reconcile", "northshire_2018_19", "--method", "minimax_change",
                        "--keep", "NGH", "--keep", "SVH", "--keep", "CCG", "--max-change",
                        "0.01"], capsys)
    # the £3.65m gap would fall on NCH, NVP, RAS and NCC, which may move 0.01% of turnover:
    # 0.0001 × (142.6 + 214.3 + 248.0 + 187.2 = £792.1m) = £79,210, far short (NSC and VGP are
    # outside the SCT and never rebalanced)
    assert code == 2
    assert "No rebalancing of Northshire and Vale 2018/19 meets every condition" in flat(err)


def test_the_real_entry_point(tmp_path):
    done = run_subprocess("optimise", "workshop_4", "--objective", "min_total_transfer",
                          "--floor", "-0.5")
    assert done.returncode == 0, done.stderr
    assert "Least money moved" in done.stdout
