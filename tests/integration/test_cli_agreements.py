"""The agreement commands of the `riskshare` CLI: presets, apply (with --xlsx), explain, and every
bad agreement refused with exit status 2 and a one-message error (no traceback)."""

from __future__ import annotations

import re

import numpy as np
import openpyxl
import pandas as pd
import pytest

import riskshare as rs
from riskshare.agreements.outcome import SYSTEM_LINES
from riskshare.agreements.presets import list_presets, load_preset
from riskshare.core.format import money_m
from tests.bad_agreements import BAD_AGREEMENTS, BAD_TOML_SYNTAX, GOOD_AGREEMENT, BadAgreement
from tests.integration.cli_runner import run, run_subprocess


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("Error: ")
    return lines[0]


# -- presets ---------------------------------------------------------------------------------------
def test_presets_lists_every_preset_with_its_sample(capsys):
    code, out, err = run(["presets"], capsys)
    assert code == 0 and err == ""
    for name in list_presets():
        a = load_preset(name)
        assert re.search(rf"{re.escape(name)}\s*\|\s*{re.escape(a.sample)}\s*\|", out), name
    assert "Standalone (no sharing)" in out


# -- apply -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list_presets())
def test_apply_every_preset_on_its_sample(name, capsys):
    a = load_preset(name)
    code, out, err = run(["apply", name, a.sample], capsys)
    assert code == 0, err
    assert err == ""
    system = rs.load_sample(a.sample)
    assert out.startswith(f"{a.name} on {system.label}")
    outcome = rs.apply(a, system)
    for org_id, row in outcome.table.iterrows():
        cells = [money_m(row[c], 2) for c in ("variance", "pooled", "retained", "received",
                                              "outturn", "support_earned", "final",
                                              "standalone")]
        cells.append(money_m(row["vs_standalone"], 2, sign=True))
        pattern = r"\|\s*" + re.escape(org_id) + r"\s*\|" + r"\|".join(
            rf"\s*{re.escape(c)}\s*" for c in cells) + r"\|"
        assert re.search(pattern, out), (org_id, cells)
    for label in SYSTEM_LINES.values():
        assert label in out
    worse = rs.incentives(a, system).worse_off
    assert f"Worse off than on their own: {', '.join(worse) if worse else 'nobody'}." in out


def test_apply_aca_shows_the_payer_paying_410k(capsys):
    code, out, _ = run(["apply", "aca_risk_corridors", "corridor_2"], capsys)
    assert code == 0
    assert re.search(r"\|\s*PAYER\s*\|\s*£0\.00m\s*\|\s*£0\.00m\s*\|\s*£0\.00m\s*\|\s*-£0\.41m",
                     out)
    assert re.search(r"Net pool \(Σ pooled; \+ gain, − loss\)\s*\|\s*-£0\.41m", out)


def test_apply_xlsx_writes_the_library_figures(tmp_path, capsys):
    target = tmp_path / "out.xlsx"
    code, out, err = run(["apply", "gain_loss_50_50_deadband", "workshop_4", "--xlsx",
                          str(target)], capsys)
    assert code == 0, err
    assert f"Wrote {target}" in out.replace("\n", "")
    wb = openpyxl.load_workbook(target)
    assert wb.sheetnames == ["cover", "members", "system", "incentives", "agreement"]

    def frame(sheet: str) -> pd.DataFrame:
        rows = list(wb[sheet].iter_rows(values_only=True))
        return pd.DataFrame(rows[2:], columns=rows[1])     # row 2: the column names

    a = load_preset("gain_loss_50_50_deadband")
    system = rs.load_sample("workshop_4")
    outcome = rs.apply(a, system)
    inc = rs.incentives(a, system)

    members = frame("members").set_index("org_id")
    assert list(members.index) == ["A", "B", "C", "D"]
    for c in ("control_total", "support", "variance", "pooled", "retained", "received",
              "net_transfer", "outturn", "support_earned", "final", "standalone",
              "vs_standalone"):
        np.testing.assert_allclose(members[c].astype(float), outcome.table[c], atol=1e-6,
                                   err_msg=c)
    # −£1.75m × 500/1,900 = −£460,526.3158, in the whole pennies that add up to the pool:
    # −£460,526.31 (see test_engine.test_gain_loss_50_50_deadband_on_workshop_4)
    assert members.loc["A", "received"] == -460_526.31
    assert wb["members"]["F3"].number_format.startswith("£")

    sys_sheet = frame("system").set_index("line")["amount"]
    assert list(sys_sheet.index) == list(SYSTEM_LINES)
    np.testing.assert_allclose(sys_sheet.astype(float), outcome.system.to_numpy(), atol=1e-6)

    incs = frame("incentives").set_index("org_id")
    for c in ("retention_gain", "retention_loss", "support_per_pound", "cliff_exposure",
              "vs_standalone"):
        np.testing.assert_allclose(incs[c].astype(float), inc.table[c], atol=1e-9, err_msg=c)
    assert incs["worse_off"].tolist() == inc.table["worse_off"].tolist()

    toml_lines = [v or "" for (v,) in wb["agreement"].iter_rows(min_row=3, values_only=True)]
    assert toml_lines == a.to_toml().splitlines()
    assert rs.load_agreement("\n".join(toml_lines) + "\n") == a


def test_apply_a_toml_file_to_workshop_4(tmp_path, capsys):
    path = tmp_path / "my agreement.toml"
    path.write_text(GOOD_AGREEMENT, encoding="utf-8")
    code, out, err = run(["apply", str(path), "workshop_4"], capsys)
    assert code == 0, err
    assert out.startswith("Test agreement on Workshop system 2019/20")
    for org_id in "ABCD":
        assert re.search(rf"\|\s*{org_id}\s*\|", out)


def test_apply_a_toml_file_as_a_subprocess(tmp_path):
    path = tmp_path / "full.toml"
    path.write_text(load_preset("full_pooling_turnover").to_toml(), encoding="utf-8")
    proc = run_subprocess("apply", str(path), "workshop_4")
    assert proc.returncode == 0, proc.stderr
    # the preset shares by net_turnover (issue 16); workshop_4 has no such column, so its
    # turnover is the basis
    assert "Full pooling pro rata to net turnover on Workshop system 2019/20" in proc.stdout
    # A is charged −6m·500/1900 = −£1.58m
    assert "-£1.58m" in proc.stdout


# -- explain ---------------------------------------------------------------------------------------
def test_explain_aca_payer_prints_the_eight_step_ledger(capsys):
    code, out, err = run(["explain", "aca_risk_corridors", "corridor_2", "PAYER"], capsys)
    assert code == 0 and err == ""
    lines = out.strip().splitlines()
    assert lines[0] == "Payer (HHS) (PAYER) under “ACA risk corridors”"
    assert [line.split(".")[0] for line in lines[1:]] == [str(i) for i in range(1, 9)]
    assert lines[4].startswith("4. Received: -£0.41m")
    assert lines[8].startswith("8. Final position: -£0.41m")
    assert out.strip() == rs.apply(load_preset("aca_risk_corridors"),
                                   rs.load_sample("corridor_2")).explain("PAYER")


def test_explain_as_a_subprocess():
    proc = run_subprocess("explain", "nec_target_cost", "nec_2", "CON")
    assert proc.returncode == 0, proc.stderr
    assert "3. Retained: -£2.00m" in proc.stdout
    assert "8. Final position: -£2.00m" in proc.stdout


# -- errors: status 2, one message, no traceback ---------------------------------------------------
@pytest.mark.parametrize("case", BAD_AGREEMENTS, ids=lambda c: c.id)
def test_every_bad_agreement_exits_2_with_its_message(case: BadAgreement, tmp_path, capsys):
    path = tmp_path / f"{case.id}.toml"
    path.write_text(case.toml, encoding="utf-8")
    code, out, err = run(["apply", str(path), case.system], capsys)
    assert code == 2
    assert "Traceback" not in err and "Traceback" not in out
    missing = [f for f in case.expected if f not in err]
    assert not missing, f"fragments {missing} not in:\n{err}"
    assert err.startswith("Error: ")
    if case.at == "load":
        assert f" in {case.id}.toml:" in err.splitlines()[0]


def test_invalid_toml_exits_2(tmp_path, capsys):
    path = tmp_path / "broken.toml"
    path.write_text(BAD_TOML_SYNTAX.toml)
    code, _, err = run(["apply", str(path), "workshop_4"], capsys)
    assert code == 2 and "Traceback" not in err
    assert one_line_error(err).startswith("Error: broken.toml: not valid TOML (")


def test_a_bad_agreement_as_a_subprocess(tmp_path):
    case = next(c for c in BAD_AGREEMENTS if c.id == "bands_out_of_order")
    path = tmp_path / "bad.toml"
    path.write_text(case.toml)
    proc = run_subprocess("apply", str(path), "workshop_4")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert all(f in proc.stderr for f in case.expected)


def test_explain_with_a_bad_agreement_exits_2(tmp_path, capsys):
    case = next(c for c in BAD_AGREEMENTS if c.id == "counterparty_not_a_member")
    path = tmp_path / "bad.toml"
    path.write_text(case.toml)
    code, _, err = run(["explain", str(path), "workshop_4", "A"], capsys)
    assert code == 2 and "Traceback" not in err
    assert all(f in err for f in case.expected)


def test_unknown_preset_exits_2_with_one_line(capsys):
    code, out, err = run(["apply", "no_such_preset", "workshop_4"], capsys)
    assert code == 2 and out == ""
    line = one_line_error(err)
    assert "'no_such_preset' is neither a preset (" in line
    assert all(name in line for name in list_presets())
    assert "nor an existing .toml file" in line


def test_unknown_member_exits_2_with_one_line(capsys):
    code, out, err = run(["explain", "aca_risk_corridors", "corridor_2", "NOPE"], capsys)
    assert code == 2 and out == ""
    assert one_line_error(err) == ("Error: 'NOPE' is not a member of Risk corridor: one plan and "
                                   "its payer illustrative (members: PLAN, PAYER)")


def test_unknown_system_exits_2_with_one_line(capsys):
    code, _, err = run(["apply", "standalone", "no_such_sample"], capsys)
    assert code == 2
    assert "'no_such_sample' is neither a sample (" in one_line_error(err)


def test_preset_on_a_system_without_its_columns_exits_2(capsys):
    # the corridor presets measure against a 'target' column the workshop system lacks
    code, _, err = run(["apply", "aca_risk_corridors", "workshop_4"], capsys)
    assert code == 2 and "Traceback" not in err
    assert "key 'scale': 'target' is not a numeric column of the system" in err
