"""The risk register (the risk-adjusted plans issue): reading and validation. Every problem at
once, by row and column; nothing half-read."""

from __future__ import annotations

import pandas as pd
import pytest

import riskshare as rs
from riskshare.core.register import check_register, register_from_bytes, register_from_frame

M = 1_000_000.0


def one() -> rs.System:
    frame = pd.DataFrame({"org_id": ["A", "B"], "name": ["Acute A", "Community B"],
                          "kind": ["acute", "community"], "turnover": [400 * M, 100 * M],
                          "control_total": [-5 * M, 0.0], "forecast": [-5 * M, 0.0],
                          "support": [0.0, 0.0]})
    return rs.System.from_frame(frame, -5 * M, "Two", "2025/26")


#: the worked case's register for member A: risks 6.0 @ 0.5, 2.0 @ 0.25, 3.0 @ 0.4;
#: mitigations 1.5 @ 1.0, 2.0 @ 0.5 (£m)
CASE = pd.DataFrame({
    "org_id": ["A"] * 5,
    "item": ["Winter pressure", "Pay award gap", "CIP slippage", "Reserve release",
             "Vacancy slippage"],
    "type": ["risk", "risk", "risk", "mitigation", "mitigation"],
    "amount": [6 * M, 2 * M, 3 * M, 1.5 * M, 2 * M],
    "probability": [0.5, 0.25, 0.4, 1.0, 0.5]})


def test_the_worked_case_reads_as_given():
    register = register_from_frame(CASE, one())
    t = register.table
    assert list(t.columns) == ["org_id", "item", "type", "amount", "probability", "group",
                               "recurrent"]
    assert t["amount"].sum() == 14.5 * M                    # 6 + 2 + 3 + 1.5 + 2
    assert len(register.risks) == 3 and len(register.mitigations) == 2
    assert t["group"].tolist() == [""] * 5 and not t["recurrent"].any()


def test_percentages_flags_and_groups_are_read():
    frame = pd.DataFrame({"Org_ID": ["A", "B"], "Item": ["Pay award", "Pay award"],
                          "Type": ["Risk", "risk"], "Amount": ["£1,200,000", "300000"],
                          "Probability": ["40%", 0.4], "Group": ["pay", "pay"],
                          "Recurrent": ["yes", "TRUE"]})
    t = register_from_frame(frame, one()).table
    assert t["probability"].tolist() == [0.4, 0.4]
    assert t["amount"].tolist() == [1.2 * M, 0.3 * M]
    assert t["type"].tolist() == ["risk", "risk"] and t["recurrent"].all()


def test_every_problem_at_once_by_row_and_column():
    frame = pd.DataFrame({
        "org_id": ["A", "Z", "A", "A", "B", "A"],
        "item": ["Winter", "Winter", "", "Winter", "CIP", "Ward"],
        "type": ["risk", "risk", "risk", "risk", "opportunity", "risk"],
        "amount": [1 * M, 1 * M, 1 * M, -2 * M, "=cmd", 0.005],
        "probability": [0.5, 0.5, 1.5, 0.5, 0.5, "often"]})
    register, problems = check_register(frame, one())
    assert register is None
    found = {(p.row, p.column) for p in problems}
    assert found == {(2, "org_id"), (3, "item"), (3, "probability"), (4, "item"),
                     (4, "amount"), (5, "type"), (5, "amount"), (6, "amount"),
                     (6, "probability")}
    text = " ".join(p.rule for p in problems)
    assert "A has the item 'Winter' twice (rows 1 and 4)" in text
    assert "must be 0 or more" in text and "must be risk or mitigation" in text


def test_a_group_happens_together_so_its_items_share_one_probability():
    frame = CASE.assign(group=["winter", "", "", "", "winter"])   # 0.5 and 0.5: fine
    assert register_from_frame(frame, one()).table["group"].tolist()[0] == "winter"
    bad = CASE.assign(group=["winter", "winter", "", "", ""])      # 0.5 and 0.25
    with pytest.raises(rs.ValidationError, match="group 'winter' have probabilities 0.25 and "
                                                 "0.5"):
        register_from_frame(bad, one())


def test_headers_twice_missing_or_unknown_are_refused_before_reading_cells():
    frame = pd.DataFrame([["A", "x", "risk", 1, 0.5, 1]],
                         columns=["org_id", "item", "type", "amount", "amount", "likelihood"])
    register, problems = check_register(frame, one())
    assert register is None
    rules = {p.column: p.rule for p in problems}
    assert rules["amount"] == "appears more than once in the header"
    assert "missing required column 'probability'" in rules["probability"]
    assert "is not a column of the risk register" in rules["likelihood"]


def test_files_folders_and_workbooks(tmp_path):
    CASE.to_csv(tmp_path / "risks.csv", index=False)
    from_folder = rs.load_register(tmp_path, one())
    assert from_folder.fingerprint == register_from_frame(CASE, one()).fingerprint
    book = tmp_path / "system.xlsx"
    with pd.ExcelWriter(book) as writer:
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="organisations", index=False)
        CASE.to_excel(writer, sheet_name="Risks", index=False)
    assert rs.load_register(book, one()).table.equals(from_folder.table)
    empty = tmp_path / "empty_folder"
    empty.mkdir()
    with pytest.raises(rs.InputFileError, match="no 'risks.csv'"):
        rs.load_register(empty, one())
    bad = b"org_id,item,type,amount,probability\nA,Winter,risk,1000000,2\n"
    with pytest.raises(rs.ValidationError,
                       match=r"row 2 \(A\), column 'probability': '2' must be a chance"):
        register_from_bytes(bad, "risks.csv", one())
