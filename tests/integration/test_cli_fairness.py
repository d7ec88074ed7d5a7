"""`riskshare fairness`: the participation certificate for every preset on its sample, at the
forecast and across scenarios, the workbook, and bad input."""

from __future__ import annotations

import openpyxl
import pytest

import riskshare as rs
from riskshare.agreements.presets import list_presets, load_preset
from riskshare.core.format import money_m
from tests.integration.cli_runner import run, run_subprocess


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("preset", list_presets())
def test_every_preset_on_its_sample(preset, capsys):
    agreement = load_preset(preset)
    sample = agreement.sample or "northshire_2018_19"
    code, out, err = run(["fairness", preset, sample], capsys)
    assert code == 0, err
    cert = rs.games.certificate(rs.load_sample(sample), agreement)
    text = flat(out)
    for line in cert.summary():                      # the library's sentences, word for word
        assert flat(line) in text
    for org_id, row in cert.table.iterrows():
        assert f"| {org_id} " in out
        assert money_m(row["shapley"], 2) in out
        assert money_m(row["agreement"], 2) in out
    if cert.passes:
        assert "Better off on their own" not in out
    else:
        assert f"Better off on their own ({len(cert.violations):,};" in out


def test_scenarios_and_risk_aversion(capsys):
    code, out, err = run(["fairness", "gain_loss_50_50_deadband", "northshire_2018_19",
                          "-n", "300", "--seed", "4", "--risk-aversion", "0.25"], capsys)
    assert code == 0, err
    system = rs.load_sample("northshire_2018_19")
    scenarios = rs.simulate(system, 300, seed=4, correlation=0.3)
    cert = rs.games.certificate(system, load_preset("gain_loss_50_50_deadband"), scenarios,
                                risk_aversion=0.25)
    assert "certainty equivalent over 300 scenarios" in flat(out)
    assert flat(cert.summary()[1]) in flat(out)
    assert money_m(cert.table["shapley"].iloc[0], 2) in out


def test_workbook_matches_the_certificate(tmp_path, capsys):
    target = tmp_path / "fair.xlsx"
    code, out, err = run(["fairness", "full_pooling_turnover", "northshire_2018_19", "--xlsx",
                          str(target)], capsys)
    assert code == 0, err
    cert = rs.games.certificate(rs.load_sample("northshire_2018_19"),
                                load_preset("full_pooling_turnover"))
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["cover", "certificate", "members", "violations"]
    findings = [r[0] for r in book["certificate"].iter_rows(min_row=3, values_only=True)]
    assert findings == cert.summary()
    members = book["members"]
    header = [c.value for c in members[2]]      # row 1: readable headings; row 2: names
    rows = {r[0]: dict(zip(header, r, strict=True))
            for r in members.iter_rows(min_row=3, values_only=True)}
    for org_id, row in cert.table.iterrows():
        assert rows[org_id]["shapley"] == pytest.approx(row["shapley"], abs=0.005)
        assert rows[org_id][cert.fair] == pytest.approx(row[cert.fair], abs=0.005)
    assert members.freeze_panes == "B3"           # header rows and org_id column frozen
    assert book["violations"].max_row == len(cert.violations) + 2


def test_bad_input_is_one_message(capsys):
    code, out, err = run(["fairness", "gain_loss_50_50_deadband", "northshire_2018_19", "-n",
                          "200", "--risk-aversion", "2"], capsys)
    assert code == 2
    assert "risk_aversion" in err and "Traceback" not in err
    code, out, err = run(["fairness", "no_such_preset", "northshire_2018_19"], capsys)
    assert code == 2 and "neither a preset" in err
    code, out, err = run(["fairness", "aca_risk_corridors", "northshire_2018_19"], capsys)
    assert code == 2 and "PAYER" in err


def test_the_real_entry_point():
    result = run_subprocess("fairness", "support_cliff_2018_19", "northshire_2018_19")
    assert result.returncode == 0, result.stderr
    assert "Participation certificate: passed" in result.stdout
