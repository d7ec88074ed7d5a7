"""The risks workbook (`risks_workbook`): the risk-adjusted forecast of the DOMAIN section 11
worked case (one member, forecast −£5.0m against 0; risks 6.0 @ 0.5, 2.0 @ 0.25, 3.0 @ 0.4;
mitigations 1.5 @ 1.0, 2.0 @ 0.5, £m) with readable headings and kinds from core.columns, the
register as loaded, and text a spreadsheet would run as a formula kept as text."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd

import riskshare as rs
from riskshare.core.excel import MONEY_FORMAT, PERCENT_FORMAT, PROBABILITY_FORMAT
from riskshare.core.register import register_from_frame
from riskshare.reports.workbooks import risks_workbook

M = 1_000_000.0


def worked_case(first_item: str = "Winter pressure"):
    frame = pd.DataFrame({"org_id": ["A"], "name": ["Acute A"], "kind": ["acute"],
                          "turnover": [400 * M], "control_total": [0.0],
                          "forecast": [-5 * M]})
    system = rs.System.from_frame(frame, 0.0, "Case", "2025/26")
    register = register_from_frame(pd.DataFrame({
        "org_id": ["A"] * 5,
        "item": [first_item, "CIP slippage", "Pay award gap", "Reserve release",
                 "Vacancy slippage"],
        "type": ["risk", "risk", "risk", "mitigation", "mitigation"],
        "amount": [6 * M, 2 * M, 3 * M, 1.5 * M, 2 * M],
        "probability": [0.5, 0.25, 0.4, 1.0, 0.5]}), system)
    return system, register


def rows(wb, name: str) -> list[dict]:
    values = list(wb[name].iter_rows(values_only=True))
    return [dict(zip(values[1], r, strict=True)) for r in values[2:]]


def test_the_worked_case_without_scenarios():
    system, register = worked_case()
    wb = openpyxl.load_workbook(io.BytesIO(risks_workbook(rs.risk_adjusted(system, register),
                                                          source="risks.csv")))
    assert wb.sheetnames == ["cover", "risk adjusted", "sentences", "register"]
    cover = {r[0]: r[1] for r in wb["cover"].iter_rows(min_row=3, values_only=True) if r[0]}
    assert cover["System"] == "Case 2025/26"
    assert cover["Agreement"] == "not applicable"
    assert cover["Setting: risk register"] == "risks.csv"
    assert cover["Setting: register items"] == "5 (3 risks, 2 mitigations)"
    assert "A probability is the chance itself, from 0 to 1" in cover["Conventions"]
    a, whole = rows(wb, "risk adjusted")
    assert (a["org_id"], whole["org_id"]) == ("A", "SYSTEM")
    # 3.0 + 0.5 + 1.2 = 4.7; 1.5 + 1.0 = 2.5; net 2.2; −5.0 − 2.2; −5 − 11 + 1.5; −5 + 3.5
    assert (a["expected_risk"], a["expected_mitigation"], a["net_risk"]) == (4.7 * M, 2.5 * M,
                                                                             2.2 * M)
    assert (a["risk_adjusted"], a["worst"], a["best"]) == (-7.2 * M, -14.5 * M, -1.5 * M)
    assert whole["risk_adjusted_vs_control_total"] == -7.2 * M
    heads = [c.value for c in wb["risk adjusted"][1]]
    assert "Risk-adjusted forecast: forecast − net risk (£)" in heads
    assert "Net risk: expected risk − expected mitigation (£)" in heads
    assert wb["risk adjusted"]["K3"].number_format == MONEY_FORMAT
    register = rows(wb, "register")
    assert [r["probability"] for r in register] == [0.5, 0.25, 0.4, 1, 0.5]
    assert wb["register"]["E3"].number_format == PROBABILITY_FORMAT
    assert [c.value for c in wb["register"][1]][4] == "Probability it happens (0–1)"


def test_with_a_sizing_and_a_ranking(tmp_path):
    system, register = worked_case()
    scenarios = rs.simulate(system, 500, seed=3, register=register, register_mode="instead")
    sizing = rs.reserve_needed(system, scenarios)
    ranking = rs.rank_items(system, register, n=500, seed=3, register_mode="instead")
    data = risks_workbook(rs.risk_adjusted(system, register), sizing, ranking,
                          scenarios=scenarios)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["cover", "risk adjusted", "sentences", "reserve",
                             "reserve members", "ranking", "register"]
    cover = {r[0]: r[1] for r in wb["cover"].iter_rows(min_row=3, values_only=True) if r[0]}
    assert cover["Agreement"].startswith("Standalone")
    assert cover["Setting: scenarios"] == 500 and cover["Setting: seed"] == 3
    assert cover["Setting: register events (add: on top of the volatility; instead: alone)"] \
        == "instead"
    reserve = rows(wb, "reserve")
    assert [r["reserve"] for r in reserve] == sizing.levels["reserve"].tolist()
    assert wb["reserve"]["A3"].number_format == PERCENT_FORMAT      # the level, 80.0%
    (a,) = rows(wb, "reserve members")
    # one member: its contribution is the whole reserve
    assert a["contribution_80"] == sizing.levels.loc[0.8, "reserve"]
    ranked = rows(wb, "ranking")
    assert [r["event"] for r in ranked] == ranking["event"].tolist()
    certain = next(r for r in ranked if r["event"] == "A: Reserve release")
    assert certain["delta_mean"] == 1.5 * M            # a certain mitigation: its amount


def test_formula_like_items_stay_text():
    system, register = worked_case("=HYPERLINK(\"http://x\")")
    wb = openpyxl.load_workbook(io.BytesIO(risks_workbook(rs.risk_adjusted(system,
                                                                           register))))
    cell = wb["register"]["B3"]
    assert cell.value == "=HYPERLINK(\"http://x\")"
    assert cell.data_type == "s" and cell.quotePrefix
    # the sentences name the largest risk: "A: =HYPERLINK(...)" is text, not a formula
    texts = [r["text"] for r in rows(wb, "sentences")]
    assert any("=HYPERLINK" in t for t in texts)
