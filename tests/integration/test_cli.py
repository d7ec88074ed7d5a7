"""The `riskshare` command line, in process (`riskshare.cli.main`) and as a real subprocess."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

import riskshare as rs
from riskshare.cli.commands import main
from riskshare.core.format import money_m
from riskshare.core.write import template_workbook
from tests.bad_inputs import BAD_INPUTS, GOOD_CSV, BadInput, bad_input_params, representative
from tests.integration.cli_runner import ANSI, run, run_subprocess


# -- samples ---------------------------------------------------------------------------------------
def test_samples_lists_every_sample(capsys):
    code, out, err = run(["samples"], capsys)
    assert code == 0 and err == ""
    for name in rs.list_samples():
        assert name in out
        assert rs.samples.SAMPLES[name].title in out
    assert re.search(r"northshire_2018_19\s*\|\s*9\s*\|", out)
    assert re.search(r"workshop_4\s*\|\s*4\s*\|", out)


# -- reconcile -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", rs.list_samples())
def test_reconcile_every_sample(name, capsys):
    code, out, err = run(["reconcile", name], capsys)
    assert code == 0, err
    assert err == ""
    system = rs.load_sample(name)
    rec = rs.reconcile(system)
    assert f"{system.label} — {system.n} members" in out
    for key, row in rec.statement.iterrows():
        # each statement line with its amount in £m to 2 dp, on one row of the table
        amount = re.escape(money_m(row["amount"], 2))
        assert re.search(re.escape(row["label"]) + r"\s*\|\s*" + amount, out), key
    for org_id in system.members:
        assert re.search(rf"\| {re.escape(org_id)}\s+\|", out), org_id
    assert out.count("UNREALISTIC") == len(rec.unrealistic)
    sct = f"£{abs(system.control_total):,.2f}"
    assert f"sum to {'-' if system.control_total < 0 else ''}{sct}, the SCT" in out
    for sentence in rec.flags:
        assert sentence[:60] in " ".join(out.split())


def test_reconcile_workshop_figures(capsys):
    code, out, _ = run(["reconcile", "workshop_4"], capsys)
    assert code == 0
    # A: OCT -10m, forecast -16m, variance -6m (-1.20%), revised -9.21m (+0.79m)
    assert re.search(r"\| A\s+\| Acute trust\s+\|\s+-£10\.00m \|\s+-£16\.00m \|\s+-£6\.00m \|"
                     r"\s+-1\.20% \| UNREALISTIC \|\s+-£9\.21m \|\s+\+£0\.79m \|", out)
    assert re.search(r"\| D\s+\| Integrated care board\s+\|\s+£0\.00m \|\s+-£2\.00m \|"
                     r"\s+-£2\.00m \|\s+-0\.20% \|\s+\|\s+£1\.58m \|\s+\+£1\.58m \|", out)
    assert "is shared pro rata to turnover, in whole pennies." in " ".join(out.split())
    assert "Revised OCTs sum to -£5,000,000.00, the SCT -£5,000,000.00." in out
    assert "misses its control total by £9.00m" in out


def test_reconcile_a_path_folder_csv_and_xlsx(tmp_path, capsys):
    system = rs.load_sample("workshop_4")
    folder = system.to_folder(tmp_path / "ws")
    system.to_excel(tmp_path / "ws.xlsx")
    for target in (folder, folder / "organisations.csv", tmp_path / "ws.xlsx"):
        code, out, err = run(["reconcile", str(target)], capsys)
        assert code == 0, err
        assert "Workshop system 2019/20 — 4 members" in out
        assert "UNREALISTIC" in out


def test_reconcile_writes_a_workbook_matching_the_library(tmp_path, capsys):
    target = tmp_path / "out.xlsx"
    code, out, err = run(["reconcile", "northshire_2018_19", "--xlsx", str(target)], capsys)
    assert code == 0, err
    assert "Wrote" in out and target.is_file()
    system = rs.load_sample("northshire_2018_19")
    rec, reb = rs.reconcile(system), rs.rebalance(system)
    wb = openpyxl.load_workbook(target)
    assert wb.sheetnames == ["cover", "statement", "members", "rebalancing", "settings", "flags"]
    # each table: row 1 the readable headings, row 2 the column names, the figures from row 3
    rows = list(wb["statement"].iter_rows(values_only=True))
    assert rows[0] == ("Line key", "Line", "Amount (£)")
    assert rows[1] == ("line", "label", "amount")
    assert [r[0] for r in rows[2:]] == list(rec.statement.index)
    for key, label, amount in rows[2:]:
        assert label == rec.statement.loc[key, "label"]
        assert amount == pytest.approx(rec.amount(key), abs=1e-6)
    assert wb["statement"]["C3"].number_format.startswith("£")
    members = list(wb["members"].iter_rows(values_only=True))
    header = members[1]
    assert header[0] == "org_id"
    assert [r[0] for r in members[2:]] == list(system.members)
    flagged = [r[0] for r in members[2:] if r[header.index("unrealistic")]]
    assert flagged == rec.unrealistic == ["NGH", "VGP"]
    reb_rows = list(wb["rebalancing"].iter_rows(values_only=True))
    revised = {r[0]: r[reb_rows[1].index("revised")] for r in reb_rows[2:]}
    assert revised == pytest.approx(reb.revised.to_dict(), abs=1e-9)
    assert [r[0] for r in wb["flags"].iter_rows(min_row=3, values_only=True)] == list(rec.flags)


def test_unrealistic_pct_option(capsys):
    code, out, _ = run(["reconcile", "workshop_4", "--unrealistic-pct", "1.5"], capsys)
    assert code == 0
    assert "UNREALISTIC" not in out
    assert "No member's forecast is adverse to its control total by more than 1.5% of turnover." \
        in " ".join(out.split())
    code, out, _ = run(["reconcile", "workshop_4", "--unrealistic-pct", "0.1"], capsys)
    assert code == 0
    assert out.count("UNREALISTIC") == 2  # A (-1.2%) and D (-0.2%)


def test_negative_unrealistic_pct_is_a_clear_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["reconcile", "workshop_4", "--unrealistic-pct", "-1"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "unrealistic_pct must be a percent number ≥ 0 (got -1.0)" in err


def test_basis_option(capsys):
    code, out, _ = run(["reconcile", "northshire_2018_19", "--basis", "contribution"], capsys)
    assert code == 0
    assert "pro rata to contribution" in out
    # the gap SCT − ΣOCT inside the SCT is −4.50 − (1.80 − 9.40 + 1.10 + 0.80 + 0.35 + 3.20
    # − 6.00 = −8.15) = £3.65m; of the members inside the SCT only the CCG has a contribution
    # (£48.2m), so it takes all £3.65m: −6.00 + 3.65 = −£2.35m. NSC (contribution £31.5m) is
    # outside the SCT and keeps its OCT of £0; the others nothing
    assert re.search(r"\| CCG\s+\|.*\|\s+-£2\.35m \|\s+\+£3\.65m \|", out)
    assert re.search(r"\| NSC\s+\|.*\|\s+£0\.00m \|\s+£0\.00m \|", out)
    with pytest.raises(SystemExit) as exit_info:
        main(["reconcile", "workshop_4", "--basis", "name"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "column 'name': is not a numeric column of the system" in err


# -- template --------------------------------------------------------------------------------------
def test_template_writes_the_blank_workbook(tmp_path, capsys):
    target = tmp_path / "blank.xlsx"
    code, out, err = run(["template", str(target)], capsys)
    assert code == 0, err
    assert "Wrote" in out
    wb = openpyxl.load_workbook(target)
    assert wb.sheetnames == ["cover", "organisations", "system", "monthly", "risks",
                             "guide"]
    assert [c.value for c in wb["organisations"][1]] == ["org_id"] + [c.name for c in
                                                                    rs.ORG_COLUMNS]
    expected = openpyxl.load_workbook(io.BytesIO(template_workbook()))
    for sheet in wb.sheetnames[1:]:     # the cover carries the date it was written
        assert list(wb[sheet].iter_rows(values_only=True)) == list(
            expected[sheet].iter_rows(values_only=True))


def test_template_into_a_missing_folder_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["template", str(tmp_path / "no" / "such" / "blank.xlsx")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("Error:") and "Traceback" not in err


# -- bad inputs ------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", bad_input_params(representative(every=2)))
def test_bad_input_exits_2_with_the_message(case: BadInput, tmp_path, capsys):
    path = tmp_path / "organisations.csv"
    path.write_text(case.csv, encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["reconcile", str(path)])
    assert exit_info.value.code == 2
    out, err = capsys.readouterr()
    err = ANSI.sub("", err)
    assert "Traceback" not in err and "Traceback" not in out
    assert err.startswith("Error: ")
    missing = [f for f in case.expected if f not in err]
    assert not missing, f"fragments {missing} not on stderr:\n{err}"
    assert "members" not in out  # nothing was reported as if loaded


def test_bad_inputs_through_the_real_entry_point(tmp_path):
    # one subprocess per file would be slow: check the worst case and a single-problem one
    for case in (c for c in BAD_INPUTS if c.id in ("several_problems", "unknown_kind")):
        path = tmp_path / f"{case.id}.csv"
        path.write_text(case.csv, encoding="utf-8")
        result = run_subprocess("reconcile", str(path))
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        for fragment in case.expected:
            assert fragment.replace("organisations.csv", path.name) in result.stderr


@pytest.mark.parametrize("target", ["no_such_sample", "missing/folder", "nothing.csv"])
def test_unknown_sample_or_missing_path(target, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["reconcile", target])
    assert exit_info.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip() == (f"Error: '{target}' is neither a sample "
                           f"({', '.join(rs.list_samples())}) nor an existing file or folder")
    assert len(err.strip().splitlines()) == 1


def test_a_folder_without_organisations_is_a_one_line_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["reconcile", str(tmp_path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "a system folder needs 'organisations.csv'" in err


def test_real_entry_point_success_and_failure(tmp_path):
    ok = run_subprocess("reconcile", "workshop_4", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "Gap: SCT − ΣOCT" in ok.stdout and "£3.00m" in ok.stdout
    bad = run_subprocess("reconcile", "no_such_sample", cwd=tmp_path)
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    assert "'no_such_sample' is neither a sample" in bad.stderr


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "riskshare"
    if not script.exists():
        pytest.skip("the riskshare console script is not installed in this environment")
    result = subprocess.run([str(script), "samples"], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "NO_COLOR": "1"})
    assert result.returncode == 0 and "workshop_4" in result.stdout


# -- usage errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [
    ["reconcile", "workshop_4", "--unrealistic-pct", "abc"],
    ["frobnicate"],
    ["reconcile"],
])
def test_usage_errors_are_messages_not_tracebacks(args):
    result = run_subprocess(*args)
    assert "Traceback" not in result.stderr
    assert result.returncode == 2
    assert "Usage" in result.stderr or "Error" in result.stderr


def test_help_lists_the_commands(capsys):
    code, out, _ = run(["--help"], capsys)
    assert code == 0
    for command in ("samples", "reconcile", "template"):
        assert command in out


def test_good_csv_through_the_cli(tmp_path, capsys):
    path = tmp_path / "members.csv"
    path.write_text(GOOD_CSV)
    code, out, err = run(["reconcile", str(path)], capsys)
    assert code == 0, err
    # no system.toml beside it: the SCT defaults to ΣOCT, so there is no gap
    assert "members — 4 members" in out
    assert re.search(r"Gap: SCT − ΣOCT\s*\|\s*£0\.00m", out)
