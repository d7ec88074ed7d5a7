"""The `vale_2025_26` sample: today's regime (issue 16 §2), checked against figures worked by hand
from sample_data/vale_2025_26/organisations.csv."""

from __future__ import annotations

import pytest

import riskshare as rs
from riskshare.core.samples import SAMPLES

M = 1_000_000.0

# vale_2025_26 (£m), as written in organisations.csv:
#   id   kind            in_sct  turnover  net_turn    OCT   forecast  support
#   VGH  acute           true      912.4     173.8   -34.0   -47.6      28.0
#   EVH  acute           true      486.7      77.4   -17.5   -18.1      17.5
#   VCH  community       true      214.8      37.1     1.2     1.5       0
#   VWM  mental_health   true      356.2      60.7     0.8     0.2       0
#   VAS  ambulance       true      298.5     112.3    -6.5    -9.9       6.5
#   VOC  specialist      true      268.9      92.5     2.4     3.3       0
#   ICB  commissioner    true     3148.6    3148.6     1.6     0.4       0
#   VCC  local_authority false     548.3     486.9     0.0    -3.1       0
#   SCT (system.toml) = -52.0
#
# Inside the SCT (the council VCC left out):
# ΣOCT        = -34.0 - 17.5 + 1.2 + 0.8 - 6.5 + 2.4 + 1.6 = -52.0
# support     = 28.0 + 17.5 + 6.5                         =  52.0  (ΣOCT + support = 0: breakeven)
# gap         = SCT − ΣOCT = -52.0 − (-52.0)              =   0.0
# forecast    = -47.6 - 18.1 + 1.5 + 0.2 - 9.9 + 3.3 + 0.4
#             = -75.6 + 5.4                               = -70.2
# variance vs SCT = -70.2 − (-52.0)                       = -18.2
# (with the council it would have been ΣOCT -52.0 but forecast -73.3: the boundary matters)
MEMBERS = ["VGH", "EVH", "VCH", "VWM", "VAS", "VOC", "ICB", "VCC"]
NHS = ["VGH", "EVH", "VCH", "VWM", "VAS", "VOC", "ICB"]
DEFICIT = {"VGH": 28.0 * M, "EVH": 17.5 * M, "VAS": 6.5 * M}
ERF = ["erf_allocation", "erf_target", "erf_delivered"]
MH = ["mh_spend", "mh_spend_last_year"]


@pytest.fixture(scope="module")
def vale() -> rs.System:
    return rs.load_sample("vale_2025_26")


@pytest.fixture(scope="module")
def rec(vale) -> rs.Reconciliation:
    return rs.reconcile(vale)


def test_the_sample_is_registered_and_loads(vale):
    assert "vale_2025_26" in rs.list_samples()
    assert SAMPLES["vale_2025_26"].title == "Vale, 2025/26"
    assert list(vale.members) == MEMBERS
    assert vale.year == "2025/26"
    assert vale.control_total_set and vale.control_total == -52.0 * M
    assert vale.warnings == ()
    assert vale.equals(rs.load_system(SAMPLES["vale_2025_26"].path))
    kinds = vale.orgs["kind"].to_dict()
    assert kinds["ICB"] == "commissioner" and kinds["VCC"] == "local_authority"
    assert sorted(kinds[m] for m in NHS if m != "ICB") == [
        "acute", "acute", "ambulance", "community", "mental_health", "specialist"]


def test_the_council_is_outside_the_sct_and_the_rest_inside(vale, rec):
    assert vale.orgs["in_sct"].to_dict() == {m: m != "VCC" for m in MEMBERS}
    assert vale.outside_members == ["VCC"]
    assert rec.flags[0].startswith("Vale County Council (adult social care) (VCC) is outside "
                                   "the system control total")


def test_sum_of_octs_gap_and_forecast_worked_by_hand(vale, rec):
    a = rec.amount
    assert a("sum_oct") == pytest.approx(-52.0 * M)
    assert a("support") == pytest.approx(52.0 * M)
    assert a("sum_oct_incl_support") == pytest.approx(0.0, abs=0.005)
    assert a("sct") == pytest.approx(-52.0 * M)
    assert a("gap") == pytest.approx(0.0, abs=0.005)
    assert a("forecast") == pytest.approx(-70.2 * M)
    assert a("variance_vs_sct") == pytest.approx(-18.2 * M)
    assert vale.sum_control_totals == pytest.approx(-52.0 * M)
    assert vale.system_forecast == pytest.approx(-70.2 * M)


def test_the_flags_name_the_two_adverse_members(rec):
    # VGH: -47.6 − (-34.0) = -13.6, 13.6 / 912.4 = 1.49% of turnover > 1%
    # VAS: -9.9 − (-6.5)   = -3.4,   3.4 / 298.5 = 1.14% > 1%
    # next worst: VWM 0.6 / 356.2 = 0.17%, EVH 0.6 / 486.7 = 0.12%; VCC 3.1 / 548.3 = 0.57%
    assert rec.unrealistic == ["VGH", "VAS"]
    assert "add up exactly to the system control total" in rec.flags[1]
    assert rec.flags[2].startswith("On current forecasts the system misses its control total "
                                   "by £18.20m")
    assert rec.flags[3].startswith("Vale General Hospitals NHS Foundation Trust (VGH)")
    assert rec.flags[4].startswith("Vale Ambulance Service NHS Trust (VAS)")
    assert len(rec.flags) == 5


def test_net_turnover_is_at_most_the_turnover(vale):
    o = vale.orgs
    assert (o["net_turnover"] <= o["turnover"]).all()
    assert (o["net_turnover"] > 0).all()
    # the ICB has no income from other members; each trust's is mostly its ICB contract:
    # VGH 912.4 − 173.8 = 738.6 of income from members (81%)
    assert o.at["ICB", "net_turnover"] == o.at["ICB", "turnover"] == 3148.6 * M
    assert o.at["VGH", "turnover"] - o.at["VGH", "net_turnover"] == pytest.approx(738.6 * M)
    # Σ net turnover = 173.8 + 77.4 + 37.1 + 60.7 + 112.3 + 92.5 + 3148.6 + 486.9 = 4,189.3
    # against Σ turnover 912.4 + 486.7 + 214.8 + 356.2 + 298.5 + 268.9 + 3148.6 + 548.3 = 6,234.4
    assert o["net_turnover"].sum() == pytest.approx(4189.3 * M)
    assert o["turnover"].sum() == pytest.approx(6234.4 * M)


def test_erf_and_mh_columns_are_present_and_not_negative(vale):
    o = vale.orgs
    for column in ERF + MH + ["contribution"]:
        assert column in o.columns, column
        assert (o[column] >= 0).all(), column
    elective = ["VGH", "EVH", "VOC"]
    for column in ERF:
        assert sorted(o.index[o[column] > 0]) == sorted(elective), column
    # delivered − target: VGH 219.4 − 226.8 = -7.4, EVH 117.6 − 118.4 = -0.8, VOC 147.9 − 142.6
    # = +5.3
    short = (o["erf_delivered"] - o["erf_target"])[elective]
    assert short.to_dict() == pytest.approx({"VGH": -7.4 * M, "EVH": -0.8 * M, "VOC": 5.3 * M})
    # MH line only on the ICB: floor 262.5 × 1.044 = 262.5 + 11.55 = 274.05 ≤ planned 274.3
    assert list(o.index[o["mh_spend"] > 0]) == ["ICB"]
    assert list(o.index[o["mh_spend_last_year"] > 0]) == ["ICB"]
    floor = o.at["ICB", "mh_spend_last_year"] * 1.044
    assert floor == pytest.approx(274.05 * M)
    assert o.at["ICB", "mh_spend"] - floor == pytest.approx(0.25 * M)


def test_the_section_75_pool_is_the_icb_and_the_council(vale):
    pool = vale.orgs["contribution"]
    assert pool[pool > 0].to_dict() == {"ICB": 62.4 * M, "VCC": 41.8 * M}   # £104.2m pooled


def test_support_only_on_the_deficit_members(vale):
    o = vale.orgs
    assert o["support"][o["support"] > 0].to_dict() == DEFICIT
    # each plans a deficit before support; every other member plans breakeven or a surplus
    assert (o.loc[list(DEFICIT), "control_total"] < 0).all()
    others = [m for m in MEMBERS if m not in DEFICIT]
    assert (o.loc[others, "control_total"] >= 0).all()
    assert (o.loc[others, "support"] == 0).all()


def test_scale_is_2025_26_like(vale):
    o = vale.orgs
    assert 2_000 * M <= o.at["ICB", "turnover"] <= 5_000 * M
    acute = o.index[o["kind"] == "acute"]
    assert ((o.loc[acute, "turnover"] >= 400 * M) & (o.loc[acute, "turnover"] <= 1_000 * M)).all()
    assert 5 <= len([m for m in NHS if m != "ICB"]) <= 8
    assert o["volatility"].notna().all() and (o["volatility"] > 0).all()


def test_rebalancing_moves_only_the_nhs_members(vale):
    reb = rs.rebalance(vale)
    assert round(reb.total * 100) == round(-52.0 * M * 100)
    # the gap is nil, so nobody's OCT moves; the council's never would
    assert reb.revised["VCC"] == 0.0
    assert reb.revised.to_dict() == pytest.approx(vale.orgs["control_total"].to_dict())
