"""Result workbooks a finance director can forward (issue 15): a cover sheet first naming the
system, the agreement, the settings, the what-if (none), the date and the version; readable
headings over the column names; £ to the penny with a £ format; percentages stored as fractions
with a % format; frozen header rows; widths that show every heading; one share-of-the-gap column
in the reconciliation, with the method, the members kept and the cap recorded; the members and
the whole system on separate sheets; the outcome's turnover and forecast beside each variance;
settings named in words.

The figures are worked out by hand from workshop_4 (four members, round numbers: turnover
£500m, £200m, £200m, £1,000m = £1,900m; ΣOCT −£8m; SCT −£5m, a +£3m gap).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import openpyxl
import pytest

import riskshare as rs
from riskshare.agreements.incentives import incentives
from riskshare.agreements.presets import load_preset
from riskshare.agreements.risk import SYSTEM_ROW, compare, risk_table
from riskshare.core.excel import MONEY_FORMAT, PERCENT_FORMAT
from riskshare.reconciliation.rebalance import rebalance
from riskshare.reconciliation.reconcile import reconcile
from riskshare.reports.workbooks import (
    compare_workbook,
    fairness_workbook,
    outcome_workbook,
    reconciliation_workbook,
    scenarios_workbook,
)
from riskshare.scenarios.simulate import ScenarioSettings

TODAY = dt.date.today().isoformat()


@pytest.fixture(scope="module")
def system():
    return rs.load_sample("workshop_4")


def book(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data))


def cover(wb) -> dict:
    """The cover's items (continuation lines joined to the item above)."""
    out: dict = {}
    last = None
    for item, value in wb["cover"].iter_rows(min_row=3, values_only=True):
        if item:
            last = item
            out[item] = value
        elif last is not None and value is not None:
            out[last] = f"{out[last]}\n{value}"
    return out


def table(ws) -> tuple[dict, list[dict]]:
    """({column name: heading}, rows as {column name: value}) of a two-header-row table."""
    rows = list(ws.iter_rows(values_only=True))
    names = list(rows[1])
    heads = dict(zip(names, rows[0], strict=True))
    body = [dict(zip(names, r, strict=True)) for r in rows[2:] if any(v is not None for v in r)]
    return heads, body


def column(ws, name: str) -> list:
    """The cells under column `name` (row 2 holds the names)."""
    j = [c.value for c in ws[2]].index(name) + 1
    return [ws.cell(row=r, column=j) for r in range(3, ws.max_row + 1)]


# -- the reconciliation ----------------------------------------------------------------------------
def test_the_reconciliation_records_one_gap_share_and_how_it_was_shared(system):
    wb = book(reconciliation_workbook(reconcile(system), rebalance(system)))
    assert wb.sheetnames == ["cover", "statement", "members", "rebalancing", "settings", "flags"]
    c = cover(wb)
    assert c["System"] == "Workshop system 2019/20"
    assert c["What-if"] == "none — prepared figures"
    assert c["Written"] == TODAY and c["riskshare version"] == rs.__version__
    assert c["Setting: rebalancing method"] == "basis (pro rata to a basis)"
    assert c["Setting: shared pro rata to"] == "turnover"
    assert c["Setting: gap: SCT − ΣOCT"] == "£3,000,000.00"
    # one share-of-the-gap column, clearly named: the rebalancing's change
    names = [c.value for ws in wb.worksheets[1:] for c in ws[2]]
    assert "gap_share" not in names
    heads, rows = table(wb["rebalancing"])
    assert heads["change"] == "Share of the gap: change to the control total (£)"
    # +£3m pro rata to turnover in whole pennies: A 3m × 500/1,900 = 789,473.684… → 789,473.68
    # plus one of the two pennies left over (remainders: D .84, A .42, B .37, C .37)
    changes = {r["org_id"]: r["change"] for r in rows}
    assert changes == {"A": 789_473.69, "B": 315_789.47, "C": 315_789.47, "D": 1_578_947.37}
    assert all(cell.number_format == MONEY_FORMAT for cell in column(wb["rebalancing"],
                                                                      "change"))


def test_an_optimised_rebalancing_records_the_members_kept_and_the_cap(system):
    reb = rebalance(system, method="minimax_change", keep=["A"], max_change=5.0)
    wb = book(reconciliation_workbook(reconcile(system), reb))
    c = cover(wb)
    assert c["Setting: rebalancing method"].startswith("minimax_change (smallest largest change")
    assert c["Setting: members kept (OCT unchanged)"] == "A"
    assert c["Setting: cap on any change"] == "5% of turnover"
    settings = {r["setting"]: r["value"] for r in table(wb["settings"])[1]}
    assert settings["members kept (OCT unchanged)"] == "A"
    assert settings["cap on any change"] == "5% of turnover"
    assert {r["org_id"]: r["change"] for r in table(wb["rebalancing"])[1]}["A"] == 0


def test_headings_formats_and_frozen_rows(system):
    wb = book(reconciliation_workbook(reconcile(system), rebalance(system)))
    ws = wb["members"]
    heads, rows = table(ws)
    assert heads["control_total"] == "Organisational control total (£)"
    assert heads["variance_pct"] == "Variance (% of turnover)"
    a = next(r for r in rows if r["org_id"] == "A")
    # A: forecast −£16m against an OCT of −£10m: −£6m, −1.2% of £500m, stored as −0.012
    assert a["variance"] == -6_000_000
    assert a["variance_pct"] == pytest.approx(-0.012, abs=1e-12)
    assert all(c.number_format == PERCENT_FORMAT for c in column(ws, "variance_pct"))
    assert all(c.number_format == MONEY_FORMAT for c in column(ws, "turnover"))
    for sheet in wb.worksheets[1:]:
        assert sheet.freeze_panes in ("B3", "A3"), sheet.title
        assert all(c.font.bold for c in sheet[1])
        for cell in sheet[1]:     # every heading fits its column
            width = sheet.column_dimensions[cell.column_letter].width
            assert width >= min(len(str(cell.value)), 90), (sheet.title, cell.value)
    assert MONEY_FORMAT == "£#,##0.00;-£#,##0.00"


# -- an agreement's outcome ------------------------------------------------------------------------
def test_the_outcome_members_sheet_lets_a_reader_check_the_variance(system):
    wb = book(outcome_workbook(rs.apply("standalone", system), incentives("standalone",
                                                                         system)))
    heads, rows = table(wb["members"])
    assert list(heads)[:7] == ["org_id", "name", "turnover", "control_total", "forecast",
                               "variance", "support"]
    assert (heads["turnover"], heads["forecast"]) == ("Turnover (£)", "Forecast outturn (£)")
    # sample_data/workshop_4/organisations.csv, by hand: variance = forecast − control total
    # A: −£16m − (−£10m) = −£6m; B: £3m − £2m = +£1m; C: £1m − 0 = +£1m; D: −£2m − 0 = −£2m
    by_id = {r["org_id"]: r for r in rows}
    assert [(by_id[m]["turnover"], by_id[m]["control_total"], by_id[m]["forecast"],
             by_id[m]["variance"]) for m in "ABCD"] == [
        (500_000_000, -10_000_000, -16_000_000, -6_000_000),
        (200_000_000, 2_000_000, 3_000_000, 1_000_000),
        (200_000_000, 0, 1_000_000, 1_000_000),
        (1_000_000_000, 0, -2_000_000, -2_000_000)]
    for name in ("turnover", "forecast"):
        assert all(c.number_format == MONEY_FORMAT for c in column(wb["members"], name))


def test_the_outcome_cover_names_the_agreement_and_the_figures_are_pennies(system):
    a = load_preset("gain_loss_50_50_deadband")
    wb = book(outcome_workbook(rs.apply(a, system), incentives(a, system)))
    c = cover(wb)
    assert c["Agreement"].startswith(a.name + " (fingerprint ")
    assert c["What-if"] == "none — prepared figures"
    heads, rows = table(wb["members"])
    assert heads["received"] == "Received from the pool (− pays in) (£)"
    # A pools half of its £6m adverse variance beyond 0.5% of £500m (£2.5m): −£1.75m; the pool
    # (−£1.75m) is shared by turnover: A receives −£1.75m × 500/1,900 = −£460,526.3158 → .31
    a_row = next(r for r in rows if r["org_id"] == "A")
    assert a_row["pooled"] == -1_750_000 and a_row["received"] == -460_526.31
    lines = {r["line"]: r for r in table(wb["system"])[1]}
    assert lines["pool"]["amount"] == -1_750_000


# -- risk across scenarios -------------------------------------------------------------------------
def test_the_compare_workbook_records_the_settings_and_rounds_to_pennies(system):
    settings = ScenarioSettings(n=200, seed=7, correlation=0.25)
    agreements = [load_preset("standalone"), load_preset("full_pooling_turnover")]
    result = compare(agreements, system, settings.simulate(system))
    wb = book(compare_workbook(result, settings, system))
    assert wb.sheetnames == ["cover", "members", "system", "scenarios"]
    c = cover(wb)
    assert c["System"] == "Workshop system 2019/20"
    # the presets' names as their TOML gives them (full pooling shares by net turnover since
    # issue 16; workshop_4 has no net_turnover column, so that is its turnover)
    assert c["Agreement"] == "Standalone (no sharing); Full pooling pro rata to net turnover"
    assert (c["Setting: scenarios"], c["Setting: seed"],
            c["Setting: correlation between members"]) == (200, 7, 0.25)
    assert c["Setting: shocks"] == "none"
    heads, rows = table(wb["members"])
    assert heads["p_worse_off"] == "Chance of being worse off than alone (%)"
    # the members only: two agreements × four members, no SYSTEM row to sum or filter by mistake
    assert len(rows) == 2 * system.n
    assert {r["org_id"] for r in rows} == {"A", "B", "C", "D"}
    members = result[result["org_id"] != SYSTEM_ROW]
    for r, (_, want) in zip(rows, members.iterrows(), strict=True):
        assert r["mean_final"] == round(want["mean_final"], 2)     # whole pennies
        assert r["p_worse_off"] == want["p_worse_off"]              # a fraction, as computed
    # standalone is never worse off than itself
    assert all(r["p_worse_off"] == 0 for r in rows if r["agreement"].startswith("Standalone"))
    assert all(cell.number_format == PERCENT_FORMAT for cell in column(wb["members"],
                                                                        "p_worse_off"))
    # the whole system, one row per agreement, on its own sheet with headings that say what
    # its figures are measured against
    heads, whole = table(wb["system"])
    assert [r["agreement"] for r in whole] == ["Standalone (no sharing)",
                                               "Full pooling pro rata to net turnover"]
    assert heads["p_lose_support"] == "Chance any member loses support (%)"
    assert heads["p_worse_off"] == "Chance any member is worse off than alone (%)"
    assert heads["p_miss_control_total"] == \
        "Chance the system misses its control total (SCT) (%)"
    assert heads["cvar95"] == ("Average of the worst 5% of years, against the sum of the "
                               "members' control totals (ΣOCT), CVaR 95% (£)")
    assert "tail_contribution" not in heads and "retention_gain" not in heads
    # standing alone, the system's final position is every member's position alone
    alone = whole[0]
    assert alone["mean_final"] == alone["mean_standalone"] and alone["p_worse_off"] == 0
    assert all(cell.number_format == PERCENT_FORMAT for cell in column(wb["system"],
                                                                        "p_lose_support"))
    assert all(cell.number_format == MONEY_FORMAT for cell in column(wb["system"], "cvar95"))


def test_the_scenarios_workbook_holds_the_risk_table_with_names(system):
    settings = ScenarioSettings(n=100, seed=3, shocks=("winter_pressure",))
    a = load_preset("full_pooling_turnover")
    scenarios = settings.simulate(system)
    risk = risk_table(a, system, scenarios)
    wb = book(scenarios_workbook(risk, settings, a, system))
    assert wb.sheetnames == ["cover", "members", "system", "scenarios"]
    c = cover(wb)
    assert c["Agreement"].startswith("Full pooling pro rata to net turnover (fingerprint ")
    assert c["Setting: shocks"] == "winter_pressure"
    _, rows = table(wb["members"])
    assert [r["org_id"] for r in rows] == ["A", "B", "C", "D"]
    assert [r["name"] for r in rows] == ["Acute trust", "Community trust",
                                         "Mental health trust", "Integrated care board"]
    heads, whole = table(wb["system"])
    assert len(whole) == 1 and "org_id" not in heads
    # worked from the engine's arrays, not from the risk table: in how many scenarios is *any*
    # member worse off than alone, or short of its support (by more than half a penny)
    out = rs.apply(a, system, scenarios)
    final, alone = out["final"], out["standalone"]
    any_worse = ((final - alone) < -0.005).any(axis=1).mean()
    any_short = ((out["support_earned"] - system.orgs["support"].to_numpy()) < -0.005) \
        .any(axis=1).mean()
    assert whole[0]["p_worse_off"] == pytest.approx(any_worse, abs=1e-12)
    assert whole[0]["p_lose_support"] == pytest.approx(any_short, abs=1e-12)
    assert heads["var95"] == ("1-in-20 bad year, against the sum of the members' control "
                              "totals (ΣOCT), VaR 95% (£)")
    assert "The whole system's figures are on the system sheet" in c["Note"]
    settings_rows = {r["setting"]: r["value"] for r in table(wb["scenarios"])[1]}
    assert settings_rows["scenarios"] == 100 and settings_rows["seed"] == 3


def test_covers_name_settings_in_words_not_keys(system):
    settings = ScenarioSettings(n=50, seed=1, kind_correlation=0.2, distribution="t", df=4)
    a = load_preset("standalone")
    risk = risk_table(a, system, settings.simulate(system))
    c = cover(book(scenarios_workbook(risk, settings, a, system)))
    assert c["Setting: extra correlation within a kind"] == 0.2
    assert c["Setting: degrees of freedom (t)"] == 4
    assert c["Setting: volatility scale (× each member's volatility)"] == 1
    assert not [k for k in c if k.startswith("Setting:") and "_" in k]


def test_cover_text_that_looks_like_a_formula_stays_text(system):
    a = dataclasses.replace(load_preset("standalone"), name="=HYPERLINK(\"http://x\",\"y\")")
    cert = rs.games.certificate(system, a)
    wb = book(fairness_workbook(cert))
    cell = next(c for c in wb["cover"]["B"] if c.value and str(c.value).startswith("=HYPER"))
    assert cell.data_type == "s" and cell.quotePrefix
