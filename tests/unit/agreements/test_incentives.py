"""Incentive measures (docs/metrics.md) checked by hand on the workshop system: retention rates,
support per pound, cliff exposure and who is worse off than on their own."""

from __future__ import annotations

from dataclasses import replace as dc_replace

import numpy as np
import pandas as pd
import pytest

import riskshare as rs
from riskshare.agreements.presets import list_presets, load_preset

M = 1_000_000.0
TURNOVER = {"A": 500, "B": 200, "C": 200, "D": 1000}      # £m; Σ = 1,900


def table(preset: str, sample: str = "workshop_4", variances=None, agreement=None):
    a = agreement if agreement is not None else load_preset(preset)
    return rs.incentives(a, rs.load_sample(sample), variances).table


def test_retention_under_the_deadband_on_workshop_4():
    t = table("gain_loss_50_50_deadband")
    # A is 1.2% adverse, beyond the 0.5% deadband: of a marginal £ it pools 0.5, and the pool
    # (−£1.75m, charged by turnover, A's charge £0.46m well inside its 1% cap of £5m) gives it
    # back its turnover share of that half: keeps 0.5 + 0.5·500/1900 = 0.631579 either way.
    a_keeps = 0.5 + 0.5 * 500 / 1900
    assert a_keeps == pytest.approx(0.631579, abs=1e-6)
    assert t.loc["A", "retention_gain"] == pytest.approx(a_keeps, abs=1e-6)
    assert t.loc["A", "retention_loss"] == pytest.approx(a_keeps, abs=1e-6)
    # B and C sit exactly on the deadband edge (+£1m = 0.5% of £200m): one more £ of gain is
    # beyond it (keeps 0.5 + 0.5·200/1900 = 0.552632); one more £ of loss is inside (bears 1.0).
    b_keeps = 0.5 + 0.5 * 200 / 1900
    for org in "BC":
        assert t.loc[org, "retention_gain"] == pytest.approx(b_keeps, abs=1e-6)
        assert t.loc[org, "retention_loss"] == pytest.approx(1.0, abs=1e-6)
    # D is 0.2% adverse, inside the deadband both ways: keeps every marginal £.
    assert t.loc["D", "retention_gain"] == pytest.approx(1.0, abs=1e-6)
    assert t.loc["D", "retention_loss"] == pytest.approx(1.0, abs=1e-6)


def test_retention_inside_the_deadband_is_one():
    # With variances A −1m (0.2%), B +0.5m (0.25%), C −0.2m, D +1m (0.1%) nobody is near the
    # deadband edge, nothing is pooled, and every member keeps every marginal £.
    t = table("gain_loss_50_50_deadband", variances=[-1 * M, 0.5 * M, -0.2 * M, 1 * M])
    np.testing.assert_allclose(t[["retention_gain", "retention_loss"]], 1.0, atol=1e-6)


def test_retention_when_max_charge_binds():
    # C £40m adverse: everyone is charged at its 1% cap (see test_engine), so a marginal £ of C's
    # loss is pooled (0.5) but charged to nobody: C bears 0.5, and the others' charges do not
    # move. A marginal £ of gain for A shrinks the pool by 0.5 — still above Σcaps, so A's charge
    # stays at its cap: A keeps 1.0 of a marginal gain (it is inside the deadband).
    t = table("gain_loss_50_50_deadband", variances=[0.0, 0.0, -40 * M, 0.0])
    assert t.loc["C", "retention_loss"] == pytest.approx(0.5, abs=1e-6)
    assert t.loc["C", "retention_gain"] == pytest.approx(0.5, abs=1e-6)
    assert t.loc["A", "retention_gain"] == pytest.approx(1.0, abs=1e-6)


def test_full_pooling_retention_is_the_turnover_share():
    # Everything pooled and shared back by turnover: a member keeps its turnover share.
    t = table("full_pooling_turnover")
    for org, turnover in TURNOVER.items():
        assert t.loc[org, "retention_gain"] == pytest.approx(turnover / 1900, abs=1e-6)
        assert t.loc[org, "retention_loss"] == pytest.approx(turnover / 1900, abs=1e-6)


def test_standalone_retention_is_one_and_nobody_is_worse_off():
    t = table("standalone")
    np.testing.assert_allclose(t[["retention_gain", "retention_loss"]], 1.0)
    assert not t["worse_off"].any()


def test_corridor_retention():
    # ACA: the plan is 10% adverse, beyond 8%: it passes 0.8 of a marginal £ to the payer.
    t = table("aca_risk_corridors", "corridor_2")
    assert t.loc["PLAN", "retention_loss"] == pytest.approx(0.2, abs=1e-6)
    assert t.loc["PLAN", "retention_gain"] == pytest.approx(0.2, abs=1e-6)
    # the payer is exempt and bears all of its own variance
    assert t.loc["PAYER", "retention_gain"] == pytest.approx(1.0, abs=1e-6)
    # MSSP two-sided: 5% savings, sharing rate 75%
    t = table("mssp_two_sided", "mssp_2")
    assert t.loc["ACO", "retention_gain"] == pytest.approx(0.75, abs=1e-6)


def test_cliff_exposure_is_the_support_for_an_organisation_cliff_test():
    t = table("support_cliff_2018_19")
    support = rs.load_sample("workshop_4").orgs["support"]
    np.testing.assert_allclose(t["cliff_exposure"], support)            # A 10m, B 2m, C 2m, D 0
    # distance to the cliff: the position tested (the variance, before sharing); NaN without
    # support at stake
    assert t.loc["A", "distance_to_cliff"] == pytest.approx(-6 * M)
    assert t.loc["B", "distance_to_cliff"] == pytest.approx(1 * M)
    assert np.isnan(t.loc["D", "distance_to_cliff"])
    np.testing.assert_array_equal(t["support_per_pound"], 0.0)


def test_cliff_exposure_is_the_organisation_part_with_a_system_share():
    cliff = load_preset("support_cliff_2018_19")
    a = cliff.replace(support=dc_replace(cliff.support, system_share=0.25))
    t = table("", agreement=a)
    assert t.loc["A", "cliff_exposure"] == pytest.approx(7.5 * M)       # 75% of £10m
    assert t.loc["B", "cliff_exposure"] == pytest.approx(1.5 * M)


def test_cliff_exposure_is_zero_with_a_taper():
    # the taper mechanism for every member (the preset's deficit-only FRF and surplus reward,
    # issue 16 §3, switched off)
    preset = load_preset("system_support_taper_2020_21")
    t = table("", agreement=dc_replace(preset, support=dc_replace(
        preset.support, deficit_only=False, surplus_reward=0.0)))
    np.testing.assert_array_equal(t["cliff_exposure"], 0.0)
    assert t["distance_to_cliff"].isna().all()
    # Inside the taper support is earned per £: the system half tapers over 1% of Σturnover
    # (£19m), so A earns 0.5·10m/19m = 0.263158 per £ (its own half is beyond its £5m taper),
    # B and C 0.5·2m/19m = 0.052632 (their own half is fully earned), D nothing at stake.
    assert t.loc["A", "support_per_pound"] == pytest.approx(0.5 * 10 / 19, abs=1e-6)
    assert t.loc["B", "support_per_pound"] == pytest.approx(0.5 * 2 / 19, abs=1e-6)
    assert t.loc["D", "support_per_pound"] == 0


def test_cliff_exposure_is_zero_without_a_test():
    t = table("aca_risk_corridors", "corridor_2")
    np.testing.assert_array_equal(t["cliff_exposure"], 0.0)


@pytest.mark.parametrize("name", list_presets())
def test_worse_off_lists_exactly_the_members_below_standalone(name):
    a = load_preset(name)
    system = rs.load_sample(a.sample)
    inc = rs.incentives(a, system)
    vs = rs.apply(a, system)["vs_standalone"]
    expected = [m for m, d in zip(system.members, vs, strict=True) if d < -0.005]
    assert inc.worse_off == expected
    assert list(inc.table.index[inc.table["worse_off"]]) == expected
    np.testing.assert_allclose(inc.table["vs_standalone"], vs)


def test_worse_off_on_workshop_4_by_hand():
    # deadband: B, C pay £184,210.53 each and D £921,052.63 towards A's pooled loss
    assert rs.incentives(load_preset("gain_loss_50_50_deadband"),
                         rs.load_sample("workshop_4")).worse_off == ["B", "C", "D"]
    # a member exactly as well off (vs_standalone 0) is not worse off
    t = table("standalone")
    assert t["worse_off"].sum() == 0


@pytest.mark.parametrize("loss, worse, charge", [(0.0, [], 0.0), (-0.02, ["Y"], -0.01),
                                                 (-0.01, ["Y"], -0.01)])
def test_worse_off_is_a_whole_penny_worse(loss, worse, charge):
    # X's loss pooled in full and shared equally in whole pennies: Y is charged half of it,
    # 1p of 2p, and of 1p the odd penny (ties go by org_id: X's remainder ranks first, so X
    # keeps the odd penny back and Y is charged it). A penny worse off is worse off.
    system = rs.System.from_frame(pd.DataFrame({
        "org_id": ["X", "Y"], "name": ["X", "Y"], "kind": ["acute", "acute"],
        "turnover": [1e6, 1e6], "control_total": [0.0, 0.0], "forecast": [0.0, 0.0]}))
    a = rs.load_agreement('name = "x"\n[losses]\nbands = [{ pool = 1.0 }]\n'
                          '[pool]\nbasis = "equal"\n')
    inc = rs.incentives(a, system, [loss, 0.0])
    assert inc.table.loc["Y", "vs_standalone"] == charge
    assert inc.worse_off == worse
    assert rs.apply(a, system, [loss, 0.0]).worse_off == worse


def test_incentives_table_shape_and_single_position():
    t = table("gain_loss_50_50_deadband")
    assert list(t.index) == ["A", "B", "C", "D"]
    assert list(t.columns) == ["name", "retention_gain", "retention_loss", "support_per_pound",
                               "cliff_exposure", "distance_to_cliff", "vs_standalone",
                               "worse_off"]
    with pytest.raises(ValueError, match="one set of variances"):
        rs.incentives(load_preset("standalone"), rs.load_sample("workshop_4"), np.zeros((2, 4)))
