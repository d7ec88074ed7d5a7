"""The risk register in system files: risks.csv in a system folder and a `risks` sheet in the
system workbook (written by `core.write`, read back by `rs.load_register` unchanged), and the
template's `risks` sheet with its example row and guide. Figures are the samples' own
(risks.csv) written as literals, counts made by hand."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

import riskshare as rs
from riskshare.core import register as core_register
from riskshare.core import write
from riskshare.core.register import register_from_bytes, register_from_frame
from riskshare.core.write import excel_bytes, template_workbook, write_excel, write_folder

M = 1_000_000.0


def sample(name: str) -> tuple[rs.System, rs.Register]:
    register = rs.load_sample_register(name)
    assert register is not None
    return rs.load_sample(name), register


def pair() -> rs.System:
    frame = pd.DataFrame({"org_id": ["A", "B"], "name": ["A", "B"], "kind": ["acute", "community"],
                          "turnover": [400 * M, 100 * M], "control_total": [0.0, 1.2 * M],
                          "forecast": [-5 * M, 1.2 * M]})
    return rs.System.from_frame(frame, None, "Pair", "2025/26")


def test_the_writers_use_the_names_the_register_reads():
    assert write.REGISTER_FILE == core_register.REGISTER_FILE == "risks.csv"
    assert write.REGISTER_SHEET == core_register.REGISTER_SHEET == "risks"
    assert write.REGISTER_COLUMNS == core_register.COLUMNS


# -- a system folder -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["vale_2025_26", "northshire_2018_19"])
def test_a_system_folder_gets_risks_csv_and_reads_back_unchanged(tmp_path, name):
    system, register = sample(name)
    folder = write_folder(system, tmp_path / name, register=register)
    back = rs.load_register(folder, rs.load_system(folder))
    assert back.table.equals(register.table)
    assert back.fingerprint == register.fingerprint


def test_risks_csv_is_the_register_as_the_sample_ships_it(tmp_path):
    system, register = sample("vale_2025_26")
    lines = (write_folder(system, tmp_path / "v", register=register) / "risks.csv").read_text(
        encoding="utf-8").splitlines()
    assert lines[0] == "org_id,item,type,amount,probability,group,recurrent"
    assert lines[1] == "VGH,ERF under-delivery,risk,4000000,0.4,,false"
    assert lines[5] == "VGH,Pay award funding gap,risk,2200000,0.6,pay award,true"
    assert len(lines) == 1 + 15
    # without a register the folder is as before
    write_folder(system, tmp_path / "plain")
    assert not (tmp_path / "plain" / "risks.csv").exists()


def test_formula_like_and_odd_text_reads_back_as_written(tmp_path):
    system = pair()
    frame = pd.DataFrame({"org_id": ["A", "A", "B"],
                          "item": ["=cmd()", "+1 bed, \"winter\"", "[bold]x"],
                          "type": ["risk", "mitigation", "risk"],
                          "amount": [1_234_567.89, 0.01, 0.0],
                          "probability": [0.125, 1.0, 0.0], "group": ["-g", "", ""],
                          "recurrent": [True, False, False]})
    register = register_from_frame(frame, system)
    folder = write_folder(system, tmp_path / "odd", register=register)
    text = (folder / "risks.csv").read_text(encoding="utf-8")
    assert "'=cmd()" in text and "'-g" in text        # neutralised for a spreadsheet
    assert rs.load_register(folder, system).table.equals(register.table)
    data = excel_bytes(system, register=register)
    assert register_from_bytes(data, "odd.xlsx", system).table.equals(register.table)
    cell = openpyxl.load_workbook(io.BytesIO(data))["risks"]["B2"]
    assert cell.value == "=cmd()" and cell.data_type == "s" and cell.quotePrefix


# -- a system workbook -----------------------------------------------------------------------------
def test_the_system_workbook_carries_a_risks_sheet_and_reads_back_unchanged(tmp_path):
    system, register = sample("vale_2025_26")
    monthly = rs.load_sample_monthly("vale_2025_26")
    data = excel_bytes(system, monthly, register)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["cover", "organisations", "system", "monthly", "risks", "guide"]
    ws = wb["risks"]
    assert [c.value for c in ws[1]] == ["org_id", "item", "type", "amount", "probability",
                                        "group", "recurrent"]
    assert [c.value for c in ws[2]] == ["VGH", "ERF under-delivery", "risk", 4_000_000, 0.4,
                                        None, False]
    assert ws["D2"].number_format == "£#,##0.00;-£#,##0.00"
    assert ws["E2"].number_format == "0.00##"
    assert ws.max_row == 1 + 15
    cover = {r[0]: r[1] for r in wb["cover"].iter_rows(values_only=True) if r[0]}
    # risks.csv: 15 items, of which 4 mitigations (contingency reserve release, vacancy
    # slippage, balance sheet release, private patient income)
    assert cover["Setting: risk register"] == "15 items (11 risks, 4 mitigations)"
    assert register_from_bytes(data, "vale.xlsx", system).table.equals(register.table)
    # the system and the monthly table still load from it
    path = tmp_path / "vale.xlsx"
    path.write_bytes(data)
    assert rs.load_system(path).equals(system)
    assert rs.load_monthly(path, system).table.equals(monthly.table)
    write_excel(system, tmp_path / "again.xlsx", register=register)
    again = openpyxl.load_workbook(tmp_path / "again.xlsx")
    assert again.sheetnames == ["cover", "organisations", "system", "risks", "guide"]
    assert rs.load_register(tmp_path / "again.xlsx", system).table.equals(register.table)
    # without a register the workbook is as before
    assert "risks" not in openpyxl.load_workbook(io.BytesIO(excel_bytes(system))).sheetnames


def test_a_register_of_another_system_is_refused_before_anything_is_written(tmp_path):
    _, register = sample("vale_2025_26")
    with pytest.raises(rs.UsageError, match="the risk register names VGH, EVH"):
        write_folder(rs.load_sample("workshop_4"), tmp_path / "w", register=register)
    assert not (tmp_path / "w").exists()
    with pytest.raises(rs.UsageError, match="not members of this system"):
        excel_bytes(pair(), register=register)
    with pytest.raises(rs.ArgumentTypeError, match="register must be a risk register"):
        excel_bytes(pair(), register=register.table)        # type: ignore[arg-type]


# -- the template ----------------------------------------------------------------------------------
def test_the_template_has_a_risks_sheet_with_an_example_and_a_guide():
    wb = openpyxl.load_workbook(io.BytesIO(template_workbook()))
    assert wb.sheetnames == ["cover", "organisations", "system", "monthly", "risks", "guide"]
    rows = list(wb["risks"].iter_rows(values_only=True))
    assert rows == [("org_id", "item", "type", "amount", "probability", "group", "recurrent"),
                    ("EXAMPLE", "CIP slippage", "risk", 2_000_000, 0.5, None, True)]
    guide = {r[0]: r for r in wb["guide"].iter_rows(min_row=3, values_only=True)}
    for column in ("org_id", "item", "type", "amount", "probability", "group", "recurrent"):
        assert f"(risks sheet) {column}" in guide
    assert guide["(risks sheet) probability"][1:4] == ("Probability it happens (0–1)", "yes",
                                                      "0–1")
    assert guide["(risks sheet) type"][3] == "risk | mitigation"
    assert guide["(risks sheet) group"][2] == "no (blank: on its own)"
    notes = " ".join(str(r[1]) for r in wb["cover"].iter_rows(values_only=True) if r[1])
    assert "replacing its example row (org_id EXAMPLE)" in notes
    # the example row names no member, and says so by row
    with pytest.raises(rs.ValidationError, match="row 2, column 'org_id': 'EXAMPLE' is not a "
                                                 "member of the system"):
        register_from_bytes(template_workbook(), "template.xlsx", pair())


def test_a_filled_in_template_risks_sheet_loads(tmp_path):
    wb = openpyxl.load_workbook(io.BytesIO(template_workbook()))
    ws = wb["risks"]
    ws.delete_rows(2, 1)
    ws.append(["A", "Winter pressure", "risk", 6_000_000, 0.5, None, None])
    ws.append(["A", "Reserve release", "mitigation", 1_500_000, 1, None, "no"])
    path = tmp_path / "filled.xlsx"
    wb.save(path)
    register = rs.load_register(path, pair())
    assert register.table["item"].tolist() == ["Winter pressure", "Reserve release"]
    # A: forecast −5.0; expected risk 6.0 × 0.5 = 3.0, mitigation 1.5 × 1.0 ⇒ net 1.5, −6.5
    adjusted = rs.risk_adjusted(pair(), register).table
    assert adjusted.loc["A", "risk_adjusted"] == -6.5 * M
