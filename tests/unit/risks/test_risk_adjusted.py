"""The risk-adjusted forecast, the worked case of docs on risks and mitigations, every figure
worked by hand: forecast −£5.0m; risks 6.0 @ 0.5, 2.0 @ 0.25, 3.0 @ 0.4; mitigations 1.5 @ 1.0,
2.0 @ 0.5 (£m)."""

from __future__ import annotations

import pandas as pd
import pytest

import riskshare as rs
from riskshare.core.register import register_from_frame
from tests.unit.core.test_register import CASE, one

M = 1_000_000.0


def test_the_worked_case():
    # gross risk 6 + 2 + 3 = 11.0; expected risk 3.0 + 0.5 + 1.2 = 4.7; expected mitigation
    # 1.5 + 1.0 = 2.5; net 4.7 − 2.5 = 2.2; risk-adjusted −5.0 − 2.2 = −7.2; worst −5.0 − 11.0
    # + 1.5 (the certain mitigation) = −14.5; best −5.0 + 3.5 = −1.5
    out = rs.risk_adjusted(one(), register_from_frame(CASE, one()))
    a = out.table.loc["A"]
    assert (a["gross_risk"], a["expected_risk"], a["expected_mitigation"]) == (
        11.0 * M, 4.7 * M, 2.5 * M)
    assert (a["net_risk"], a["risk_adjusted"], a["worst"], a["best"]) == (
        2.2 * M, -7.2 * M, -14.5 * M, -1.5 * M)
    # against A's control total −5.0: −2.2, −9.5, +3.5
    assert (a["risk_adjusted_vs_control_total"], a["worst_vs_control_total"],
            a["best_vs_control_total"]) == (-2.2 * M, -9.5 * M, 3.5 * M)
    # B has nothing on the register; the SYSTEM row adds A and B, against the SCT −5.0
    s = out.table.loc["SYSTEM"]
    assert (s["risk_adjusted"], s["risk_adjusted_vs_control_total"]) == (-7.2 * M, -2.2 * M)
    assert out.table.loc["B", "net_risk"] == 0.0
    assert out.sentences()[0] == (
        "Risk-adjusted, the system forecasts -£7.20m, £2.20m short of the SCT: the forecast "
        "-£5.00m less a net risk of £2.20m (expected risks £4.70m less expected mitigations "
        "£2.50m).")
    assert "A: Winter pressure (£3.00m expected)" in out.sentences()[2]


def test_reordering_the_register_changes_nothing():
    a = rs.risk_adjusted(one(), register_from_frame(CASE, one())).table
    b = rs.risk_adjusted(one(), register_from_frame(CASE.iloc[::-1], one())).table
    pd.testing.assert_frame_equal(a, b)


def test_a_register_of_another_system_is_refused():
    other = register_from_frame(CASE, one())
    system = rs.load_sample("northshire_2018_19")
    with pytest.raises(rs.UsageError, match="names A, not members of this system"):
        rs.risk_adjusted(system, other)
    with pytest.raises(rs.ArgumentTypeError, match="register must be a Register"):
        rs.risk_adjusted(one(), CASE)


@pytest.mark.parametrize("sample", ["northshire_2018_19", "vale_2025_26"])
def test_the_sample_registers(sample):
    # ten to twenty items each, every member named a member of the sample; the risk-adjusted
    # system forecast is the forecast less Σ amount × p of the risks plus that of the
    # mitigations inside the SCT, summed here straight from risks.csv
    system = rs.load_sample(sample)
    register = rs.load_sample_register(sample)
    assert 10 <= len(register.table) <= 20
    csv = pd.read_csv(rs.samples.info(sample).path / "risks.csv")
    inside = csv[csv["org_id"].map(system.orgs["in_sct"]).astype(bool)]
    sign = inside["type"].map({"risk": -1.0, "mitigation": 1.0})
    expected = (float(system.orgs.loc[system.inside, "forecast"].sum())
                + float((sign * inside["amount"] * inside["probability"]).sum()))
    out = rs.risk_adjusted(system, register).table.loc["SYSTEM", "risk_adjusted"]
    assert out == pytest.approx(expected, abs=0.01)
    assert out < float(system.orgs.loc[system.inside, "forecast"].sum())   # net risk > 0
    assert rs.load_sample_register("workshop_4") is None
