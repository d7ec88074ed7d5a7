"""Reading and writing systems: exact round trips, the template workbook, and clear file errors."""

from __future__ import annotations

import io
import tomllib

import openpyxl
import pandas as pd
import pytest

import riskshare as rs
from riskshare.core.excel import MONEY_FORMAT, PERCENT_NUMBER_FORMAT
from riskshare.core.io import load_bytes
from riskshare.core.samples import synthetic
from riskshare.core.write import excel_bytes, template_workbook
from tests.bad_inputs import GOOD_CSV

SCHEMA_COLUMNS = ["name", "kind", "turnover", "control_total", "forecast", "support",
                  "volatility"]


def systems() -> list[pytest.param]:
    cases = [pytest.param(lambda n=name: rs.load_sample(n), id=name) for name in rs.list_samples()]
    cases.append(pytest.param(lambda: synthetic(23, seed=7), id="synthetic_23"))
    cases.append(pytest.param(lambda: awkward_system(), id="awkward"))
    return cases


def awkward_system() -> rs.System:
    """Text a spreadsheet could misread, pennies, blank volatility, extra columns, defaulted SCT."""
    df = rs.load_sample("workshop_4").to_frame()
    df["name"] = ["=SUM(A1:A9)", "Trust, \"quoted\"", "Ünïcödé £ trust", "+44 not a number"]
    df["control_total"] = [-10_000_000.01, 2_000_000.99, 0.1, -0.07]
    df.loc[2, "volatility"] = float("nan")
    df["contribution"] = [1.5, 0.0, 2.25, 1e9]
    df["note"] = ["x", "=1+1", "-", "note"]
    return rs.System.from_frame(df, None, "Awkward, \"system\"", "2024/25")


def read_workbook(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


# -- round trips -----------------------------------------------------------------------------------
@pytest.mark.parametrize("make", systems())
def test_folder_round_trip_is_exact(make, tmp_path):
    system = make()
    folder = system.to_folder(tmp_path / "sys")
    assert sorted(p.name for p in folder.iterdir()) == ["organisations.csv", "system.toml"]
    back = rs.load_system(folder)
    assert back.equals(system)
    # the same CSV loaded on its own, with the system.toml beside it
    assert rs.load_system(folder / "organisations.csv").equals(system)


@pytest.mark.parametrize("make", systems())
def test_excel_round_trip_is_exact(make, tmp_path):
    system = make()
    system.to_excel(tmp_path / "sys.xlsx")
    assert rs.load_system(tmp_path / "sys.xlsx").equals(system)
    assert load_bytes(excel_bytes(system), "upload.xlsx").equals(system)
    assert (tmp_path / "sys.xlsx").read_bytes()[:2] == b"PK"


@pytest.mark.parametrize("make", systems())
def test_csv_bytes_round_trip_keeps_the_table_exactly(make, tmp_path):
    system = make()
    csv_bytes = (system.to_folder(tmp_path / "sys") / "organisations.csv").read_bytes()
    back = load_bytes(csv_bytes, "members.csv")
    # a bare CSV carries only the table: the name comes from the file, the SCT defaults
    pd.testing.assert_frame_equal(back.orgs, system.orgs, check_exact=True)
    assert back.name == "members"
    assert back.control_total_set is False
    assert back.control_total == back.sum_control_totals


def test_a_defaulted_sct_stays_defaulted(tmp_path):
    system = rs.load_sample("workshop_4").replace(control_total=None)
    assert system.control_total_set is False
    folder = system.to_folder(tmp_path / "f")
    meta = tomllib.loads((folder / "system.toml").read_text())
    assert meta == {"name": "Workshop system", "year": "2019/20"}  # no control_total key
    for back in (rs.load_system(folder), load_bytes(excel_bytes(system), "x.xlsx")):
        assert back.control_total_set is False
        assert back.control_total == -8_000_000.0
        assert back.equals(system)
    wb = read_workbook(excel_bytes(system))
    values = {r[0]: r[1] for r in wb["system"].iter_rows(min_row=2, values_only=True)}
    assert values == {"name": "Workshop system", "year": "2019/20", "control_total": None}


def test_folder_files_are_what_a_person_would_write(tmp_path):
    folder = rs.load_sample("workshop_4").to_folder(tmp_path / "w")
    text = (folder / "organisations.csv").read_text()
    assert text.splitlines()[0] == ",".join(["org_id"] + SCHEMA_COLUMNS)
    # numbers as a person writes them: no float noise (500000000, not 500000000.0)
    assert text.splitlines()[1].startswith("A,Acute trust,acute,500000000,-10000000,")
    assert tomllib.loads((folder / "system.toml").read_text()) == {
        "name": "Workshop system", "year": "2019/20", "control_total": -5_000_000.0}


def test_a_system_toml_can_name_its_table(tmp_path):
    (tmp_path / "members.csv").write_text(GOOD_CSV)
    (tmp_path / "my_system.toml").write_text(
        'organisations = "members.csv"\nname = "Named"\nyear = "2020/21"\ncontrol_total = 1\n')
    system = rs.load_system(tmp_path / "my_system.toml")
    assert (system.name, system.year, system.control_total) == ("Named", "2020/21", 1.0)
    assert list(system.members) == ["A", "B", "C", "D"]


def test_a_lone_csv_takes_its_name_from_the_file(tmp_path):
    (tmp_path / "Vale ICS.csv").write_text(GOOD_CSV)
    system = rs.load_system(tmp_path / "Vale ICS.csv")
    assert system.name == "Vale ICS" and system.control_total_set is False


def test_csv_with_bom_and_spaces_after_commas_loads():
    text = "\ufeff" + GOOD_CSV.replace(",", ", ")
    system = load_bytes(text.encode("utf-8"), "organisations.csv")
    assert list(system.members) == ["A", "B", "C", "D"]
    assert system.orgs.loc["A", "name"] == "Acute trust"
    assert system.orgs["turnover"].sum() == 1_900_000_000.0


# -- the template workbook -------------------------------------------------------------------------
def test_template_workbook_layout():
    wb = read_workbook(template_workbook())
    # a cover first (the loader reads the organisations and system sheets by name; the
    # monthly sheet is read by rs.load_monthly, the risks sheet by rs.load_register)
    assert wb.sheetnames == ["cover", "organisations", "system", "monthly", "risks", "guide"]
    lines = list(wb["cover"].iter_rows(min_row=3, values_only=True))
    cover = {r[0]: r[1] for r in lines if r[0]}
    assert cover["What-if"] == "not applicable (input data)"
    assert ("The organisations, system, monthly and risks sheets keep one header row of the "
            "column names riskshare reads") in " ".join(str(r[1]) for r in lines)
    orgs = wb["organisations"]
    assert [c.value for c in orgs[1]] == ["org_id"] + [c.name for c in rs.ORG_COLUMNS]
    assert [c.value for c in orgs[1]] == ["org_id"] + SCHEMA_COLUMNS + ["in_sct", "net_turnover", "non_recurrent"]
    assert orgs.max_row == 1
    assert list(wb["system"].iter_rows(values_only=True)) == [
        ("key", "value"), ("name", None), ("year", None), ("control_total", None)]
    guide = list(wb["guide"].iter_rows(values_only=True))
    # readable headings over the column names
    assert guide[0] == ("Column name", "Heading", "Required (default)", "Unit", "Meaning")
    assert guide[1] == ("column", "heading", "required (default)", "unit", "meaning")
    described = [row[0] for row in guide[2:]]
    for column in ["org_id"] + SCHEMA_COLUMNS:
        assert column in described, column
    headings = {row[0]: row[1] for row in guide[2:]}
    assert headings["control_total"] == "Organisational control total (£)"
    assert headings["volatility"] == "Volatility (% of turnover)"
    required = {row[0]: row[2] for row in guide[2:]}
    assert required["turnover"] == "yes" and required["support"] == "no (0)"
    assert required["volatility"] == "no (blank)"
    kinds = next(row[4] for row in guide[2:] if row[0] == "kind")
    assert all(k in kinds for k in rs.KINDS)


def test_a_filled_in_template_loads(tmp_path):
    wb = read_workbook(template_workbook())
    ws = wb["organisations"]
    for line in GOOD_CSV.splitlines()[1:]:
        cells = line.split(",")
        ws.append(cells[:3] + [float(v) for v in cells[3:]])
    ws.append(["E", "Vale GP Federation", "GP", 27_600_000, 150_000, -380_000, None, None])
    system_sheet = wb["system"]
    system_sheet["B2"] = "Filled in"
    system_sheet["B3"] = 2019
    system_sheet["B4"] = -5_000_000
    wb.save(tmp_path / "filled.xlsx")
    system = rs.load_system(tmp_path / "filled.xlsx")
    assert list(system.members) == ["A", "B", "C", "D", "E"]
    assert (system.name, system.year, system.control_total) == ("Filled in", "2019", -5e6)
    e = system.orgs.loc["E"]
    assert e["kind"] == "primary_care" and e["support"] == 0.0 and pd.isna(e["volatility"])
    assert system.sum_control_totals == -7_850_000.0
    # loading the bytes gives the same system
    assert load_bytes((tmp_path / "filled.xlsx").read_bytes(), "filled.xlsx").equals(system)


def test_a_blank_template_loads_as_an_empty_table_error():
    with pytest.raises(rs.ValidationError, match="the table has no members"):
        load_bytes(template_workbook(), "template.xlsx")


# -- spreadsheet hygiene ---------------------------------------------------------------------------
def test_text_that_looks_like_a_formula_is_stored_as_text_and_round_trips():
    system = awkward_system()
    wb = read_workbook(excel_bytes(system))
    ws = wb["organisations"]
    header = [c.value for c in ws[1]]
    name_cell = ws.cell(row=2, column=header.index("name") + 1)
    assert name_cell.value == "=SUM(A1:A9)"
    assert name_cell.data_type == "s"
    note_cell = ws.cell(row=3, column=header.index("note") + 1)
    assert note_cell.value == "=1+1" and note_cell.data_type == "s"
    back = load_bytes(excel_bytes(system), "x.xlsx")
    assert back.orgs.loc["A", "name"] == "=SUM(A1:A9)"
    assert back.equals(system)


def test_money_and_percent_number_formats():
    system = rs.load_sample("northshire_2018_19")
    wb = read_workbook(excel_bytes(system))
    ws = wb["organisations"]
    header = [c.value for c in ws[1]]
    assert MONEY_FORMAT.startswith("£")
    for row in range(2, system.n + 2):
        for column in ("turnover", "control_total", "forecast", "support"):
            assert ws.cell(row=row, column=header.index(column) + 1).number_format == MONEY_FORMAT
        assert ws.cell(row=row, column=header.index("volatility") + 1).number_format == (
            PERCENT_NUMBER_FORMAT)
        assert ws.cell(row=row, column=header.index("name") + 1).number_format == "General"
    # values stay numbers (formats only change how they look)
    assert ws.cell(row=2, column=header.index("turnover") + 1).value == 512_400_000
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "B2"


# -- errors ----------------------------------------------------------------------------------------
def test_missing_path(tmp_path):
    with pytest.raises(rs.InputFileError) as info:
        rs.load_system(tmp_path / "nowhere")
    assert str(info.value) == f"{tmp_path / 'nowhere'}: no such file or folder"


@pytest.mark.parametrize("suffix", [".txt", ".json", ".xls", ""])
def test_unsupported_suffix(tmp_path, suffix):
    path = tmp_path / f"members{suffix}"
    path.write_text(GOOD_CSV)
    with pytest.raises(rs.InputFileError) as info:
        rs.load_system(path)
    assert f"unsupported file type '{suffix}'" in str(info.value)
    assert "use a folder, .csv, .toml or .xlsx" in str(info.value)


def test_load_bytes_unsupported_suffix():
    with pytest.raises(rs.InputFileError, match=r"x\.json: unsupported file type '\.json' "
                                                r"\(use \.csv or \.xlsx\)"):
        load_bytes(GOOD_CSV.encode(), "x.json")


def test_folder_without_organisations_csv(tmp_path):
    (tmp_path / "system.toml").write_text('name = "x"\n')
    with pytest.raises(rs.InputFileError) as info:
        rs.load_system(tmp_path)
    assert "a system folder needs 'organisations.csv'" in str(info.value)


def test_toml_naming_a_missing_table(tmp_path):
    (tmp_path / "s.toml").write_text('organisations = "gone.csv"\n')
    with pytest.raises(rs.InputFileError, match="gone.csv: file not found"):
        rs.load_system(tmp_path / "s.toml")


def test_xlsx_without_an_organisations_sheet():
    wb = openpyxl.Workbook()
    wb.active.title = "Members"
    buffer = io.BytesIO()
    wb.save(buffer)
    with pytest.raises(rs.InputFileError) as info:
        load_bytes(buffer.getvalue(), "book.xlsx")
    # one sheet, but not a members table (no org_id column): nothing is guessed
    assert str(info.value) == ("book.xlsx: no 'organisations' sheet (found: Members), and its "
                               "only sheet has no 'org_id' column; download the template to see "
                               "the layout")


@pytest.mark.parametrize("data", [b"not a workbook", GOOD_CSV.encode(), b"",
                                  template_workbook()[:200]])
def test_corrupt_xlsx_bytes(data):
    with pytest.raises(rs.InputFileError, match=r"^bad\.xlsx: not a readable \.xlsx workbook"):
        load_bytes(data, "bad.xlsx")


def test_unreadable_csv():
    with pytest.raises(rs.InputFileError, match="not a readable CSV table"):
        load_bytes(b"", "empty.csv")
    with pytest.raises(rs.InputFileError, match="not a readable CSV table"):
        load_bytes("org_id,name\nA,\xe9".encode("latin-1"), "latin.csv")


def test_unknown_key_in_system_toml(tmp_path):
    (tmp_path / "organisations.csv").write_text(GOOD_CSV)
    (tmp_path / "system.toml").write_text('name = "x"\ncolour = "red"\nsct = 5\n')
    with pytest.raises(rs.ValidationError) as info:
        rs.load_system(tmp_path)
    message = str(info.value)
    assert message.startswith("2 problems in system.toml:")
    assert "'colour': unknown key (valid keys: name, year, control_total)" in message
    assert "'sct': unknown key (valid keys: name, year, control_total)" in message


def test_organisations_key_is_only_valid_in_a_named_toml(tmp_path):
    (tmp_path / "organisations.csv").write_text(GOOD_CSV)
    (tmp_path / "system.toml").write_text('organisations = "organisations.csv"\n')
    with pytest.raises(rs.ValidationError, match="'organisations': unknown key"):
        rs.load_system(tmp_path)


def test_invalid_toml(tmp_path):
    (tmp_path / "organisations.csv").write_text(GOOD_CSV)
    (tmp_path / "system.toml").write_text('name = "unterminated\n')
    with pytest.raises(rs.InputFileError, match=r"^system\.toml: not valid TOML"):
        rs.load_system(tmp_path)


def test_bad_sct_in_system_toml(tmp_path):
    (tmp_path / "organisations.csv").write_text(GOOD_CSV)
    (tmp_path / "system.toml").write_text('control_total = "five million"\n')
    with pytest.raises(rs.ValidationError) as info:
        rs.load_system(tmp_path)
    assert "'five million' the system control total must be a finite number" in str(info.value)


def test_unknown_key_in_the_system_sheet():
    wb = read_workbook(excel_bytes(rs.load_sample("workshop_4")))
    wb["system"].append(["colour", "red"])
    buffer = io.BytesIO()
    wb.save(buffer)
    with pytest.raises(rs.ValidationError) as info:
        load_bytes(buffer.getvalue(), "book.xlsx")
    message = str(info.value)
    assert message.startswith("1 problem in book.xlsx:")
    # header is row 1, then name, year, control_total: colour is row 5
    assert ("row 5, key 'colour': unknown key in the 'system' sheet (valid keys: name, year, "
            "control_total)") in message


def test_system_sheet_without_key_and_value_columns():
    wb = read_workbook(excel_bytes(rs.load_sample("workshop_4")))
    wb["system"]["A1"] = "setting"
    buffer = io.BytesIO()
    wb.save(buffer)
    with pytest.raises(rs.InputFileError, match="the 'system' sheet needs columns 'key' and "
                                                "'value'"):
        load_bytes(buffer.getvalue(), "book.xlsx")


def test_bad_member_in_xlsx_names_the_sheet_row():
    wb = read_workbook(excel_bytes(rs.load_sample("workshop_4")))
    ws = wb["organisations"]
    ws["D4"] = 0          # C's turnover, on sheet row 4
    ws["C5"] = "hospital"  # D's kind
    buffer = io.BytesIO()
    wb.save(buffer)
    with pytest.raises(rs.ValidationError) as info:
        load_bytes(buffer.getvalue(), "book.xlsx")
    message = str(info.value)
    assert message.startswith("2 problems in book.xlsx:")
    assert "row 4 (C), column 'turnover': 0 must be at least £1" in message
    assert "row 5 (D), column 'kind': 'hospital' is not a known kind" in message


# -- file layout quirks ----------------------------------------------------------------------------
def _workshop_workbook_edited(edit) -> bytes:
    """The workshop_4 workbook with `edit(organisations_sheet)` applied, as bytes."""
    wb = read_workbook(excel_bytes(rs.load_sample("workshop_4")))
    edit(wb["organisations"])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_xlsx_row_numbers_after_a_blank_row_match_the_sheet():
    def edit(ws):
        ws.insert_rows(3)  # B moves to row 4, C to row 5
        ws["D5"] = 0       # C's turnover

    with pytest.raises(rs.ValidationError) as info:
        load_bytes(_workshop_workbook_edited(edit), "book.xlsx")
    assert "row 5 (C), column 'turnover': 0 must be at least £1" in str(info.value)


def test_xlsx_blank_rows_are_ignored_when_valid():
    data = _workshop_workbook_edited(lambda ws: ws.insert_rows(3))
    assert load_bytes(data, "book.xlsx").equals(rs.load_sample("workshop_4"))


def test_xlsx_duplicate_header_is_reported():
    def edit(ws):
        ws.cell(row=1, column=9, value="forecast")
        for row in range(2, 6):
            ws.cell(row=row, column=9, value=0)

    with pytest.raises(rs.ValidationError) as info:
        load_bytes(_workshop_workbook_edited(edit), "book.xlsx")
    assert "column 'forecast': appears more than once in the header" in str(info.value)


def test_csv_with_an_empty_trailing_column_loads():
    # a trailing comma on every line, as spreadsheet exports often write
    text = "".join(line + ",\n" for line in GOOD_CSV.splitlines())
    system = load_bytes(text.encode(), "organisations.csv")
    pd.testing.assert_frame_equal(system.orgs,
                                  load_bytes(GOOD_CSV.encode(), "organisations.csv").orgs)


def test_csv_blank_lines_are_ignored_when_valid():
    text = GOOD_CSV.replace("\nC,", "\n\n\nC,") + "\n\n"
    system = load_bytes(text.encode(), "organisations.csv")
    assert list(system.members) == ["A", "B", "C", "D"]
    pd.testing.assert_frame_equal(system.orgs,
                                  load_bytes(GOOD_CSV.encode(), "organisations.csv").orgs)


def test_text_column_with_a_blank_cell_is_kept_with_a_warning():
    text = "".join(line + f",{v}\n" for line, v in zip(
        GOOD_CSV.splitlines(), ["note", "host", "", "new chair", "ICB"], strict=True))
    system = load_bytes(text.encode(), "organisations.csv")
    assert system.orgs["note"].tolist() == ["host", "", "new chair", "ICB"]
    assert [w.column for w in system.warnings] == ["note"]


def test_a_column_with_values_but_no_header_is_refused():
    text = "".join(line + f",{v}\n" for line, v in zip(GOOD_CSV.splitlines(),
                                                         ["", "1", "2", "3", "4"], strict=True))
    with pytest.raises(rs.ValidationError, match="a column has no header"):
        load_bytes(text.encode(), "organisations.csv")


def test_a_workbook_without_a_name_is_named_after_its_file_as_a_csv_is():
    """An uploaded .xlsx with no 'system' sheet takes its file's name, like a .csv
    ('Vale plan.xlsx' -> 'Vale plan'), never 'Unnamed system'; a name in the workbook wins."""
    import io as _io

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "organisations"
    ws.append(["org_id", "name", "kind", "turnover", "control_total", "forecast"])
    ws.append(["A", "Acute trust", "acute", 100_000_000, 0, -1_000_000])
    buffer = _io.BytesIO()
    wb.save(buffer)
    assert rs.core.io.load_bytes(buffer.getvalue(), "Vale plan.xlsx").name == "Vale plan"
    named = _io.BytesIO()
    rs.load_sample("workshop_4").to_excel(named)
    assert rs.core.io.load_bytes(named.getvalue(), "other.xlsx").name == "Workshop system"


def test_a_one_sheet_workbook_is_read_whatever_its_sheet_is_called():
    """A finance director's own workbook with one sheet named 'Members' is the members table,
    said in a note; with two sheets and no 'organisations', nothing is guessed."""
    import io as _io

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Members"
    ws.append(["org_id", "name", "kind", "turnover", "control_total", "forecast"])
    ws.append(["A", "Acute trust", "acute", 100_000_000, 0, -1_000_000])
    buffer = _io.BytesIO()
    wb.save(buffer)
    system = rs.core.io.load_bytes(buffer.getvalue(), "fd.xlsx")
    assert system.n == 1 and system.orgs.loc["A", "forecast"] == -1_000_000
    assert [str(w) for w in system.warnings] == [
        "the workbook has one sheet, 'Members', read as the members table (the template names "
        "it 'organisations')"]
    wb.create_sheet("Notes")
    two = _io.BytesIO()
    wb.save(two)
    with pytest.raises(rs.core.errors.InputFileError, match="no 'organisations' sheet"):
        rs.core.io.load_bytes(two.getvalue(), "fd.xlsx")
