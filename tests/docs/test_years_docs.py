"""docs/years.md kept honest against the code, as test_docs.py keeps the other pages: every key
the projection rules accept (read from riskshare/years/rules.py's key tuples), every change of a
line, every column the underlying position and the projection produce, and every bundled set of
rules and capital preset must appear in the page as `code`; and the page's complete rules file
must load on the sample it is written for and read back unchanged."""

from __future__ import annotations

import re

import pytest

import riskshare as rs
from riskshare.years import rules
from riskshare.years.capital import COLUMNS as CAPITAL_COLUMNS
from riskshare.years.project import AGREEMENT_COLUMNS, EFFECTS, Projection
from tests.docs.test_docs import assert_mentioned, key_tuples, page

PAGE = "years.md"
CARRY = 'name = "carry"\n[carry]\nyears = 2\nfavourable = "bank"\nmax_carry = 0.5\n'


def example() -> str:
    """The page's first TOML block: the complete rules file."""
    found = re.search(r"```toml\n(.*?)```", page(PAGE), re.S)
    assert found, f"docs/{PAGE} has no TOML example"
    return found.group(1)


@pytest.fixture(scope="module")
def projection() -> Projection:
    system = rs.load_sample("northshire_2018_19")
    return rs.project(system, rs.load_rules(example(), system), agreement=CARRY,
                      scenarios=rs.simulate(system, 200, seed=0))


def test_years_names_every_key_the_rules_accept():
    tuples = key_tuples(rules)
    assert {"_TOP", "_MEMBER", "_LINE", "_REPAY", "_CAPITAL"} <= set(tuples), (
        f"rules.py's key tuples not found: {sorted(tuples)}")
    for name, keys in tuples.items():
        assert_mentioned(PAGE, keys, f"rules keys (rules.{name})")


def test_years_names_every_change_of_a_line_and_every_bundled_file():
    assert_mentioned(PAGE, [f'"{c}"' for c in rules.CHANGES], "line changes")
    assert_mentioned(PAGE, rules.list_rules(), "bundled rules")
    assert_mentioned(PAGE, rules.list_capital_presets(), "capital presets")


def test_years_names_every_column_of_the_underlying_position():
    table = rs.underlying(rs.load_sample("vale_2025_26")).table
    assert_mentioned(PAGE, [c for c in table.columns if not c.startswith("nr_")
                            and c not in ("name", "in_sct")], "underlying columns")


def test_years_names_every_column_of_a_projection(projection):
    p = projection
    assert_mentioned(PAGE, [*EFFECTS, *AGREEMENT_COLUMNS],
                     "projection effects and agreement columns")
    assert_mentioned(PAGE, [c for c in p.table.columns if not c.startswith("nr_")],
                     "projection columns")
    assert_mentioned(PAGE, [*CAPITAL_COLUMNS, *p.capital.columns], "capital columns")
    assert p.participation is not None and p.carry is not None
    assert_mentioned(PAGE, [c for c in p.participation.columns if c != "name"],
                     "participation columns")
    assert_mentioned(PAGE, p.carry.columns, "carry columns")
    assert p.risk is not None and p.horizon_risk is not None
    assert_mentioned(PAGE, [c for c in p.risk.columns if c != "year_label"], "risk columns")
    assert_mentioned(PAGE, [c for c in p.horizon_risk.columns if c != "name"],
                     "horizon risk columns")


def test_the_complete_example_loads_on_its_sample_and_reads_back(projection):
    loaded = projection.rules
    assert rs.load_rules(loaded.to_toml()) == loaded
    # every key of the example is in force: NGH's £1.5m of savings, its repayment of £3.0m in
    # the first year and its control totals; NCH's one-off income (£0.6m) kept in full
    ngh, nch = projection.of("NGH"), projection.of("NCH")
    assert list(ngh["savings"]) == [1_500_000.0] * 3
    assert list(ngh["repayment"]) == [-3_000_000.0, 0.0, 0.0]
    assert list(ngh["control_total"]) == [-8_000_000.0, -4_000_000.0, 0.0]
    assert list(nch["nr_income"]) == [600_000.0] * 3
    assert projection.labels == ("2019/20", "2020/21", "2021/22")
    assert list(projection.of("SYSTEM")["control_total"]) == [-6_000_000.0, -3_000_000.0, 0.0]
