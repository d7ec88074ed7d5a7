"""One shared table of bad organisations.csv inputs, for the library, CLI and app tests.

Every case is the workshop_4 sample (`GOOD_CSV`) with one defect (or, for `several_problems`,
four), and the fragments that must ALL appear in the error message. Row numbers count the CSV
header as row 1, so members A, B, C, D are rows 2, 3, 4, 5. The fragments name the row (and
member), the column and the rule, so a test passing on them proves the message is precise.

A case whose `bug` is non-empty exposes a known library bug: the expected fragments are what the
message *should* say. Use `bad_input_params()` to parametrise a test: it marks those cases
`xfail(strict=True)`, so the suite passes today and fails loudly once the bug is fixed (then clear
`bug` here).
"""

from __future__ import annotations

from dataclasses import dataclass

#: The workshop_4 organisations.csv, byte for byte (tests/unit/core/test_validation.py checks this).
GOOD_CSV = (
    "org_id,name,kind,turnover,control_total,forecast,support,volatility\n"
    "A,Acute trust,acute,500000000,-10000000,-16000000,10000000,2.0\n"
    "B,Community trust,community,200000000,2000000,3000000,2000000,1.0\n"
    "C,Mental health trust,mental_health,200000000,0,1000000,2000000,1.0\n"
    "D,Integrated care board,commissioner,1000000000,0,-2000000,0,0.5\n"
)

VALID_KINDS = ("valid: acute, community, mental_health, ambulance, specialist, commissioner, "
               "local_authority, primary_care, other")


@dataclass(frozen=True)
class BadInput:
    id: str                    # short slug
    csv: str                   # a whole organisations.csv text (header + rows)
    expected: tuple[str, ...]  # fragments that must ALL appear in the error message
    bug: str = ""              # non-empty: a known library bug makes this case fail today


# -- building the cases from GOOD_CSV ------------------------------------------------------------
def _table(text: str = GOOD_CSV) -> tuple[list[str], list[list[str]]]:
    header, *rows = text.strip("\n").split("\n")
    return header.split(","), [r.split(",") for r in rows]


def _csv(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join(",".join(r) for r in [header, *rows]) + "\n"


def _set(*changes: tuple[str, str, str]) -> str:
    """GOOD_CSV with cells changed: (org_id, column, new text)."""
    header, rows = _table()
    for org_id, column, value in changes:
        (row,) = [r for r in rows if r[0] == org_id]
        row[header.index(column)] = value
    return _csv(header, rows)


def _drop(column: str) -> str:
    header, rows = _table()
    j = header.index(column)
    return _csv([h for i, h in enumerate(header) if i != j],
                [[v for i, v in enumerate(r) if i != j] for r in rows])


def _add(column: str, values: list[str]) -> str:
    header, rows = _table()
    return _csv(header + [column], [r + [v] for r, v in zip(rows, values, strict=True)])


def _blank_line_before(org_id: str, text: str) -> str:
    lines = text.split("\n")
    i = next(k for k, line in enumerate(lines) if line.startswith(org_id + ","))
    return "\n".join(lines[:i] + [""] + lines[i:])


BAD_INPUTS: tuple[BadInput, ...] = (
    BadInput("missing_forecast_column", _drop("forecast"),
             ("1 problem", "missing required column 'forecast'",
              "required: name, kind, turnover, control_total, forecast")),
    BadInput("missing_org_id_column", _drop("org_id"),
             ("column 'org_id'", "no 'org_id' column", "one unique id per member is required")),
    BadInput("empty_org_id", _set(("B", "org_id", "")),
             ("row 3, column 'org_id'", "org_id is empty")),
    BadInput("duplicate_org_id", _set(("B", "org_id", "A")),
             ("2 problems", "row 2 (A), column 'org_id'", "row 3 (A), column 'org_id'",
              "'A' is used by more than one row")),
    BadInput("empty_name", _set(("C", "name", "")),
             ("row 4 (C), column 'name'", "is empty")),
    BadInput("unknown_kind", _set(("B", "kind", "hospital")),
             ("row 3 (B), column 'kind'", "'hospital' is not a known kind", VALID_KINDS)),
    BadInput("turnover_zero", _set(("C", "turnover", "0")),
             ("row 4 (C), column 'turnover'", "0 must be at least £1")),
    BadInput("turnover_negative", _set(("D", "turnover", "-1000000000")),
             ("row 5 (D), column 'turnover'", "-1,000,000,000.00 must be at least £1")),
    BadInput("turnover_with_unit", _set(("A", "turnover", "12m")),
             ("row 2 (A), column 'turnover'", "'12m' is not a number")),
    BadInput("control_total_blank", _set(("B", "control_total", "")),
             ("row 3 (B), column 'control_total'", "is blank (a number is required)")),
    BadInput("control_total_nan", _set(("C", "control_total", "NaN")),
             ("row 4 (C), column 'control_total'", "'NaN' is not a number")),
    BadInput("forecast_infinite", _set(("C", "forecast", "inf")),
             ("row 4 (C), column 'forecast'", "'inf' is not a number")),
    BadInput("support_negative", _set(("B", "support", "-2000000")),
             ("row 3 (B), column 'support'", "-2,000,000.00 must be at least 0")),
    BadInput("volatility_negative", _set(("A", "volatility", "-1")),
             ("row 2 (A), column 'volatility'", "-1 must be at least 0")),
    BadInput("extra_column_text_value", _add("contribution", ["10", "20", "abc", "40"]),
             ("row 4 (C), column 'contribution'", "'abc' is not a number",
              "extra columns must be numeric")),
    BadInput("extra_column_blank", _add("contribution", ["10", "", "30", "40"]),
             ("row 3 (B), column 'contribution'",
              "is blank (extra numeric columns need a value for every member)")),
    BadInput("no_members", GOOD_CSV.split("\n")[0] + "\n",
             ("1 problem", "the table has no members")),
    BadInput("several_problems",
             _set(("A", "turnover", "12m"), ("B", "kind", "hospital"), ("C", "support", "-1"),
                  ("D", "forecast", "")),
             ("4 problems in organisations.csv",
              "row 2 (A), column 'turnover': '12m' is not a number",
              "row 3 (B), column 'kind': 'hospital' is not a known kind",
              "row 4 (C), column 'support': -1 must be at least 0",
              "row 5 (D), column 'forecast': is blank (a number is required)")),
    # A second 'forecast' column (say, last month's) must be refused, not silently dropped
    # (pandas.read_csv on its own would rename it 'forecast.1' and keep it as an extra column).
    BadInput("duplicate_header_column", _add("forecast", ["0", "0", "0", "0"]),
             ("column 'forecast'", "appears more than once in the header")),
    # Row numbers must match the file line even when the file has a blank line in it (C is on
    # line 5 here, not data row 4).
    BadInput("row_number_after_blank_line",
             _blank_line_before("C", _set(("C", "turnover", "0"))),
             ("row 5 (C), column 'turnover'", "0 must be at least £1")),
    # -- numbers never silently reinterpreted (issue 13) ------------------------------------------
    # A decimal comma or European thousands would once load as another number ("2,5" as 25).
    BadInput("decimal_comma_quoted", _set(("A", "turnover", '"500000000,5"')),
             ("row 2 (A), column 'turnover'", "'500000000,5' is not a number riskshare reads",
              "a decimal comma", "use a point for decimals", "1,000.50")),
    BadInput("decimal_comma_negative", _set(("A", "forecast", '"-1,5"')),
             ("row 2 (A), column 'forecast'", "'-1,5' is not a number riskshare reads")),
    BadInput("european_thousands_and_decimals", _set(("B", "control_total", '"1.000,50"')),
             ("row 3 (B), column 'control_total'", "'1.000,50' is not a number riskshare reads")),
    BadInput("points_between_thousands", _set(("D", "turnover", "1.000.000.000")),
             ("row 5 (D), column 'turnover'", "'1.000.000.000' is not a number riskshare reads",
              "points between thousands")),
    BadInput("spaces_and_decimal_comma", _set(("C", "forecast", '"1 000 000,5"')),
             ("row 4 (C), column 'forecast'", "'1 000 000,5' is not a number riskshare reads")),
    BadInput("decimal_comma_in_volatility", _set(("A", "volatility", '"2,5"')),
             ("row 2 (A), column 'volatility'", "'2,5' is not a number riskshare reads")),
    BadInput("decimal_commas_in_an_extra_column",
             _add("contribution", ['"1,5"', '"2,5"', '"3,5"', '"4,5"']),
             ("row 2 (A), column 'contribution'", "'1,5' is not a number riskshare reads",
              "row 5 (D), column 'contribution'")),
    # unquoted, a decimal comma splits the figure into two cells
    BadInput("unquoted_decimal_comma_splits_the_row", _set(("A", "forecast", "-16000000,5")),
             ("row 2: has 9 cells but the header has 8 columns", "unquoted figure",
              "such as 2,5 or 1,000")),
    BadInput("semicolon_csv_with_decimal_commas",
             GOOD_CSV.replace(",", ";").replace(";2.0\n", ";2,0\n"),
             ("row 2 (A), column 'volatility'", "'2,0' is not a number riskshare reads")),
    # In a semicolon-separated file (as European spreadsheets save CSV) "750.000" may be 750 or
    # 750,000: refused, never read as 750. In a comma-separated file it is the decimal 750.0.
    # (found together with the file's other problems: here an unknown kind)
    BadInput("semicolon_csv_with_point_thousands",
             GOOD_CSV.replace(",", ";").replace(";2000000;3000000;", ";2000000;3.000;")
             .replace(";0;1000000;", ";0;-980.500;").replace(";commissioner;", ";hospital;"),
             ("3 problems", "row 5 (D), column 'kind': 'hospital' is not a known kind", "row 3 (B), column 'forecast': '3.000' reads two ways",
              "row 4 (C), column 'forecast': '-980.500' reads two ways",
              "write it without the point")),
    # headers are read exactly as written; one that resembles a column is named with its rename
    BadInput("headers_with_units_and_capitals",
             GOOD_CSV.replace("org_id,name,kind,turnover,control_total",
                              "Org ID,Name,kind,Turnover (£),Control total (£)"),
             ("no 'org_id' column", "rename 'Org ID' to 'org_id'",
              "missing required columns 'name', 'turnover', 'control_total'",
              "'Turnover (£)' to 'turnover', 'Control total (£)' to 'control_total'")),
    # an optional column under another spelling would otherwise be ignored (support read as 0)
    BadInput("optional_column_under_another_spelling",
             GOOD_CSV.replace(",support,", ",Support (£),"),
             ("1 problem", "column 'Support (£)': looks like the 'support' column",
              "rename it to 'support'")),
    BadInput("percentage_in_a_money_column", _set(("B", "support", "5%")),
             ("row 3 (B), column 'support'", "'5%' is a percentage, but this column is in £")),
    BadInput("percent_sign_in_an_extra_column", _add("contribution", ["10%", "20", "30", "40"]),
             ("row 2 (A), column 'contribution'", "'10%' has a % sign: give the number alone")),
    BadInput("accounting_dash_in_a_percent_column", _set(("C", "volatility", "-")),
             ("row 4 (C), column 'volatility'", "'-' is not a number")),
    BadInput("double_minus", _set(("B", "forecast", "--3000000")),
             ("row 3 (B), column 'forecast'", "'--3000000' is not a number")),
    BadInput("brackets_and_a_minus", _set(("B", "forecast", "(-3000000)")),
             ("row 3 (B), column 'forecast'", "'(-3000000)' is not a number")),
    # a totals row, as spreadsheets often end a table: its own message, not "org_id is empty"
    BadInput("totals_row_with_a_blank_id",
             GOOD_CSV + ",,,1900000000,-8000000,-14000000,14000000,\n",
             ("1 problem", "row 6: looks like a totals row", "remove it")),
    BadInput("totals_row_labelled_total",
             GOOD_CSV + "Total,Total,,1900000000,-8000000,-14000000,14000000,\n",
             ("1 problem", "row 6: looks like a totals row")),
    # a totals row is still recognised when another cell of the file is wrong
    BadInput("totals_row_and_a_decimal_comma",
             _set(("A", "turnover", '"500000000,5"'))
             + ",,,1900000000,-8000000,-14000000,14000000,\n",
             ("2 problems", "row 2 (A), column 'turnover'", "row 6: looks like a totals row")),
    # -- money bounded: ±£10¹², turnover at least £1, volatility at most 100% ----------------------
    BadInput("turnover_below_one_pound", _set(("B", "turnover", "0.5")),
             ("row 3 (B), column 'turnover'", "0.5 must be at least £1")),
    BadInput("control_total_beyond_the_limit", _set(("A", "control_total", "1e13")),
             ("row 2 (A), column 'control_total'",
              "must lie within ±£1,000,000,000,000 (10¹²)")),
    BadInput("forecast_beyond_the_limit", _set(("D", "forecast", "-2000000000000")),
             ("row 5 (D), column 'forecast'", "must lie within ±£1,000,000,000,000")),
    BadInput("turnover_beyond_the_limit", _set(("D", "turnover", "1e17")),
             ("row 5 (D), column 'turnover'", "must lie within ±£1,000,000,000,000")),
    BadInput("support_beyond_the_limit", _set(("B", "support", "1e15")),
             ("row 3 (B), column 'support'", "must lie within ±£1,000,000,000,000")),
    BadInput("extra_column_beyond_the_limit", _add("contribution", ["1", "2", "3", "1e13"]),
             ("row 5 (D), column 'contribution'", "must lie within ±1,000,000,000,000")),
    BadInput("volatility_above_100", _set(("A", "volatility", "150")),
             ("row 2 (A), column 'volatility'", "150 must be at most 100")),
    # -- control characters never reach an export -------------------------------------------------
    BadInput("bell_in_a_name", _set(("A", "name", "Acute\x07trust")),
             ("row 2 (A), column 'name'", "contains a control character (U+0007)",
              "remove it")),
    BadInput("line_break_in_an_org_id", _set(("B", "org_id", '"B\nX"')),
             ("column 'org_id'", "contains a control character (U+000A, a line break)")),
    BadInput("tab_in_a_name", _set(("C", "name", "Mental\thealth")),
             ("row 4 (C), column 'name'", "(U+0009, a tab)")),
    BadInput("control_character_in_a_header", _add("contribution\x01", ["1", "2", "3", "4"]),
             ("the column name contains a control character (U+0001)",)),
)

assert len({c.id for c in BAD_INPUTS}) == len(BAD_INPUTS), "BadInput ids must be unique"


def representative(cases: tuple[BadInput, ...] = BAD_INPUTS, every: int = 4) -> tuple:
    """Every `every`-th case plus the one with several problems: the sample replayed through
    the CLI and the app (the library replays the whole table)."""
    return tuple(c for i, c in enumerate(cases) if i % every == 0 or c.id == "several_problems")


def bad_input_params(cases: tuple[BadInput, ...] = BAD_INPUTS) -> list:
    """`pytest.param`s with ids, known-bug cases marked `xfail(strict=True)`."""
    import pytest

    return [pytest.param(c, id=c.id,
                         marks=[pytest.mark.xfail(strict=True, reason="BUG: " + c.bug)]
                         if c.bug else [])
            for c in cases]


__all__ = ["BadInput", "BAD_INPUTS", "GOOD_CSV", "VALID_KINDS", "bad_input_params",
           "representative"]
