"""The risk-share engine on figures worked out by hand: every preset on its sample, the layers
(schedule, distribution, reserve, caps, claims, support) on small systems, `Outcome.system` and
`Outcome.explain`.

Money in £, surplus/favourable +. Percent figures are % of the agreement's scale column.
"""

from __future__ import annotations

from dataclasses import replace as dc_replace

import numpy as np
import pandas as pd
import pytest

import riskshare as rs
from riskshare.agreements.outcome import SYSTEM_LINES
from riskshare.agreements.presets import list_presets, load_preset
from riskshare.core.format import money_m

M = 1_000_000.0


def m(x: float) -> str:
    """How explain() writes £ in its sentences: £m to two decimals."""
    return money_m(x, dp=2)


def run(preset_or_text: str, sample: str, variances=None) -> rs.Outcome:
    agreement = load_preset(preset_or_text) if preset_or_text in list_presets() \
        else rs.load_agreement(preset_or_text)
    return rs.apply(agreement, rs.load_sample(sample), variances)


def col(outcome: rs.Outcome, column: str) -> dict[str, float]:
    return dict(zip(outcome.base.members, outcome[column].tolist(), strict=True))


def approx(d: dict, abs_=0.01):
    return pytest.approx(d, abs=abs_)


def assert_ledger_consistent(o: rs.Outcome) -> None:
    """The identities between the columns (docs/agreements.md), and money conserved."""
    t = o.table
    np.testing.assert_allclose(t["retained"], t["variance"] - t["pooled"], atol=1e-6)
    np.testing.assert_allclose(t["net_transfer"], t["received"] - t["pooled"], atol=1e-6)
    np.testing.assert_allclose(t["outturn"], t["control_total"] + t["retained"] + t["received"],
                               atol=1e-6)
    np.testing.assert_allclose(t["final"], t["outturn"] + t["support_earned"], atol=1e-6)
    np.testing.assert_allclose(t["vs_standalone"], t["final"] - t["standalone"], atol=1e-6)
    s = o.system
    assert t["received"].sum() + s["unallocated"] == pytest.approx(t["pooled"].sum(), abs=0.005)
    assert s["pool"] == pytest.approx(t["pooled"].sum(), abs=0.005)
    # the system lines cover the members inside the SCT (docs/reconciliation.md); money is conserved over
    # every member, inside or outside the SCT
    inside = o.base.inside
    assert s["system_outturn"] == pytest.approx(t["outturn"][inside].sum(), abs=0.005)
    assert t["outturn"].sum() + s["unallocated"] == pytest.approx(
        (t["control_total"] + t["variance"]).sum(), abs=0.005)
    assert s["sct_variance"] == pytest.approx(s["system_outturn"] - o.base.control_total,
                                              abs=0.005)
    assert s["support_earned_total"] == pytest.approx(t["support_earned"].sum(), abs=0.005)
    # at stake: Σ support; under the 2020/21 FRF keys (issue 16) only deficit members' support
    # (control total < 0) with `deficit_only`, plus `surplus_reward` % of scale for the members
    # inside the SCT with a control total ≥ 0
    sup = o.agreement.support
    at_stake = t["support"].where(t["control_total"] < 0, 0.0) if sup.deficit_only \
        else t["support"]
    if sup.surplus_reward:
        scale = o.base.orgs[o.agreement.scale].to_numpy(dtype=float)
        eligible = (t["control_total"].to_numpy() >= 0) & inside
        at_stake = at_stake.sum() + (sup.surplus_reward / 100.0 * scale[eligible]).sum()
    else:
        at_stake = at_stake.sum()
    assert s["support_at_stake"] == pytest.approx(at_stake, abs=0.005)
    assert s["support_lost"] == pytest.approx(s["support_at_stake"] - s["support_earned_total"],
                                              abs=0.005)
    assert s["system_final"] == pytest.approx(t["final"][inside].sum(), abs=0.005)


# -- a small hand-made system for the claims rules and caps ---------------------------------------
def four_equal(forecast, control_total=(0.0, 0.0, 0.0, 0.0), sct=None, support=None) -> rs.System:
    """Members X, Y, Z, W, each with turnover £100m."""
    frame = pd.DataFrame({"org_id": list("XYZW"), "name": ["Ex", "Why", "Zed", "Dub"],
                          "kind": ["acute"] * 4, "turnover": [100 * M] * 4,
                          "control_total": list(control_total), "forecast": list(forecast)})
    if support is not None:
        frame["support"] = list(support)
    return rs.System.from_frame(frame, sct, "Four equal members", "test")


# == every preset on its sample ===================================================================
def test_aca_corridor_on_corridor_2_payer_pays_410k():
    # PLAN: variance −£1m on a £10m target = 10% adverse. ACA bands: 0% of 0–3%, 50% of 3–8%,
    # 80% beyond 8%: pooled = 0.5·(8 − 3)% + 0.8·(10 − 8)% = 2.5% + 1.6% = 4.1% of £10m
    # = £410,000, passed to the PAYER (exempt counterparty).
    o = run("aca_risk_corridors", "corridor_2")
    assert col(o, "pooled") == approx({"PLAN": -410_000, "PAYER": 0})
    assert col(o, "retained") == approx({"PLAN": -590_000, "PAYER": 0})
    assert col(o, "received") == approx({"PLAN": 0, "PAYER": -410_000})
    assert col(o, "final") == approx({"PLAN": -590_000, "PAYER": -410_000})
    assert col(o, "standalone") == approx({"PLAN": -1_000_000, "PAYER": 0})
    assert col(o, "vs_standalone") == approx({"PLAN": 410_000, "PAYER": -410_000})
    assert o.system["pool"] == pytest.approx(-410_000)
    assert o.system["unallocated"] == 0
    assert_ledger_consistent(o)


def test_aca_corridor_gain_and_inside_the_corridor():
    o = run("aca_risk_corridors", "corridor_2", [1 * M, 0.0])
    # a 10% gain: the plan passes 4.1% (£410,000) of it to the payer and keeps £590,000
    assert col(o, "final") == approx({"PLAN": 590_000, "PAYER": 410_000})
    # a 2.5% loss is inside the ±3% corridor: the plan bears all of it
    o = run("aca_risk_corridors", "corridor_2", [-250_000, 0.0])
    assert col(o, "final") == approx({"PLAN": -250_000, "PAYER": 0})
    # a 5% loss: 50% of (5 − 3)% = 1% of £10m = £100,000 to the payer
    o = run("aca_risk_corridors", "corridor_2", [-500_000, 0.0])
    assert col(o, "final") == approx({"PLAN": -400_000, "PAYER": -100_000})


def test_part_d_corridor_on_corridor_2_payer_pays_250k():
    # 10% loss; Part D bands 0% of 0–5%, 50% of 5–10%, 80% beyond: 0.5·5% = 2.5% of £10m.
    o = run("medicare_part_d_corridors", "corridor_2")
    assert col(o, "received") == approx({"PLAN": 0, "PAYER": -250_000})
    assert col(o, "final") == approx({"PLAN": -750_000, "PAYER": -250_000})
    # a 12% loss: 2.5% + 0.8·(12 − 10)% = 4.1% = £410,000
    o = run("medicare_part_d_corridors", "corridor_2", [-1.2 * M, 0.0])
    assert col(o, "final") == approx({"PLAN": -790_000, "PAYER": -410_000})
    assert_ledger_consistent(o)


def test_mssp_one_sided_on_mssp_2_aco_keeps_2m():
    # Savings £5m = 5% of the £100m benchmark ≥ the 2% MSR: pooled = 0.6·5% = 3% (£3m) to CMS,
    # the ACO keeps 40%: £2m (below the 10% performance payment limit).
    o = run("mssp_one_sided", "mssp_2")
    assert col(o, "retained") == approx({"ACO": 2 * M, "CMS": 0})
    assert col(o, "final") == approx({"ACO": 2 * M, "CMS": 3 * M})
    assert o.system["pool"] == pytest.approx(3 * M)
    assert_ledger_consistent(o)


@pytest.mark.parametrize("savings, keeps", [
    (1.5 * M, 0.0),          # 1.5% < 2% MSR: below the threshold all of it is pooled
    (1_999_999.0, 0.0),      # just below the MSR
    (2 * M, 800_000.0),      # at the MSR: 40% from the first dollar
    (30 * M, 10 * M),        # 40% of £30m = £12m > the 10% limit: keeps £10m
    (-4 * M, 0.0),           # one-sided: a loss is all CMS's
])
def test_mssp_one_sided_msr_and_limit(savings, keeps):
    o = run("mssp_one_sided", "mssp_2", [savings, 0.0])
    assert col(o, "final") == approx({"ACO": keeps, "CMS": savings - keeps})


def test_mssp_two_sided_on_mssp_2_aco_keeps_3_75m():
    # 5% savings ≥ 2%: pooled 0.25·5% = 1.25% (£1.25m); the ACO keeps 75% = £3.75m.
    o = run("mssp_two_sided", "mssp_2")
    assert col(o, "final") == approx({"ACO": 3.75 * M, "CMS": 1.25 * M})
    assert_ledger_consistent(o)


@pytest.mark.parametrize("loss, bears", [
    (-1.5 * M, 0.0),          # 1.5% < the 2% minimum loss rate: all pooled to CMS
    (-3 * M, -1.2 * M),       # 3%: shared from the first dollar at 40%: 0.4·£3m
    (-20 * M, -8 * M),        # 20%: 0.4·£20m = £8m, under the 15% (£15m) loss sharing limit
    (-50 * M, -15 * M),       # 50%: 0.4·£50m = £20m > £15m: the limit binds
])
def test_mssp_two_sided_losses(loss, bears):
    o = run("mssp_two_sided", "mssp_2", [loss, 0.0])
    assert col(o, "final") == approx({"ACO": bears, "CMS": loss - bears})


def test_nec_overrun_on_nec_2_contractor_bears_2m():
    # Overrun £3m = 15% of the £20m target. Losses: pooled 50% of 0–10% and 0% beyond:
    # 0.5·10% = 5% = £1m to the client; the contractor bears £2m.
    o = run("nec_target_cost", "nec_2")
    assert col(o, "final") == approx({"CON": -2 * M, "CLI": -1 * M})
    assert_ledger_consistent(o)


def test_nec_underrun_contractor_keeps_1_25m():
    # Underrun £3m = 15%: gains pooled 50% of 0–10% (£1m) and 75% of 10–15% (0.75·£1m):
    # the contractor keeps 0.5·£2m + 0.25·£1m = £1.25m, the client gets £1.75m.
    o = run("nec_target_cost", "nec_2", [3 * M, 0.0])
    assert col(o, "retained") == approx({"CON": 1.25 * M, "CLI": 0})
    assert col(o, "final") == approx({"CON": 1.25 * M, "CLI": 1.75 * M})


def test_pooled_budget_reserve_on_pooled_budget_2():
    # Both lines overspend: ICB −£1.8m, NSC −£2.9m, all pooled: pool −£4.7m. The ICB's £1m
    # reserve absorbs £1m first (charged to the ICB); the remaining −£3.7m is shared by
    # contribution 48.2 : 31.5 (total 79.7):
    #   ICB −3.7·48.2/79.7 = −£2,237,641.15, plus the reserve −£1m = −£3,237,641.15
    #   NSC −3.7·31.5/79.7 = −£1,462,358.85
    o = run("pooled_budget_reserve", "pooled_budget_2")
    icb = -3.7 * M * 48.2 / 79.7 - 1 * M
    nsc = -3.7 * M * 31.5 / 79.7
    assert icb == pytest.approx(-3_237_641.15, abs=0.01)
    assert nsc == pytest.approx(-1_462_358.85, abs=0.01)
    assert col(o, "pooled") == approx({"ICB": -1.8 * M, "NSC": -2.9 * M})
    assert col(o, "received") == approx({"ICB": icb, "NSC": nsc})
    assert col(o, "final") == approx({"ICB": icb, "NSC": nsc})
    assert o.system["pool"] == pytest.approx(-4.7 * M)
    assert o.system["reserve_used"] == pytest.approx(1 * M)
    assert o.system["unallocated"] == 0
    assert_ledger_consistent(o)


def test_pooled_budget_reserve_larger_than_the_loss_and_a_gain():
    # A −£0.5m pool is absorbed by the £1m reserve entirely: all charged to the ICB as holder.
    o = run("pooled_budget_reserve", "pooled_budget_2", [-300_000, -200_000])
    assert o.system["reserve_used"] == pytest.approx(500_000)
    assert col(o, "received") == approx({"ICB": -500_000, "NSC": 0})
    # A gain does not touch the reserve: +£1.5m shared 48.2 : 31.5
    o = run("pooled_budget_reserve", "pooled_budget_2", [1 * M, 0.5 * M])
    assert o.system["reserve_used"] == 0
    assert col(o, "received") == approx({"ICB": 1.5 * M * 48.2 / 79.7,
                                         "NSC": 1.5 * M * 31.5 / 79.7})


@pytest.mark.parametrize("sample", rs.list_samples())
def test_standalone_is_the_identity(sample):
    o = run("standalone", sample)
    np.testing.assert_array_equal(o["pooled"], 0.0)
    np.testing.assert_array_equal(o["received"], 0.0)
    np.testing.assert_array_equal(o["final"], o["standalone"])
    np.testing.assert_array_equal(o["vs_standalone"], 0.0)
    np.testing.assert_array_equal(o["retained"], o["variance"])
    assert o.worse_off == []
    assert_ledger_consistent(o)


def test_full_pooling_on_workshop_4():
    # variances A −6m, B +1m, C +1m, D −2m, all pooled: pool −£6m, shared by turnover
    # 500 : 200 : 200 : 1000 (of 1,900): A −6·500/1900 = −£1,578,947.37, B and C −£631,578.95,
    # D −£3,157,894.74.
    o = run("full_pooling_turnover", "workshop_4")
    share = {"A": 500 / 1900, "B": 200 / 1900, "C": 200 / 1900, "D": 1000 / 1900}
    assert col(o, "pooled") == approx({"A": -6 * M, "B": 1 * M, "C": 1 * M, "D": -2 * M})
    assert col(o, "retained") == approx({k: 0.0 for k in "ABCD"})
    assert col(o, "received") == approx({k: -6 * M * w for k, w in share.items()})
    assert col(o, "received")["A"] == pytest.approx(-1_578_947.37, abs=0.01)
    # outturn = control total + received (nothing retained)
    assert col(o, "outturn") == approx({"A": -10 * M - 6 * M * share["A"],
                                        "B": 2 * M - 6 * M * share["B"],
                                        "C": -6 * M * share["C"], "D": -6 * M * share["D"]})
    # support (organisation test after sharing, cliff): every member is short after sharing,
    # so nobody earns; on their own B and C would each earn their £2m.
    assert col(o, "support_earned") == approx({k: 0.0 for k in "ABCD"})
    assert col(o, "standalone") == approx({"A": -16 * M, "B": 5 * M, "C": 3 * M, "D": -2 * M})
    assert o.worse_off == ["B", "C", "D"]
    s = o.system
    assert s["pool"] == pytest.approx(-6 * M)
    assert s["system_outturn"] == pytest.approx(-14 * M)        # ΣOCT −8m + Σvariance −6m
    assert s["sct_variance"] == pytest.approx(-9 * M)           # against the SCT −5m
    assert s["support_at_stake"] == pytest.approx(14 * M)
    assert s["support_lost"] == pytest.approx(14 * M)
    assert s["system_final"] == pytest.approx(-14 * M)
    assert_ledger_consistent(o)


def test_gain_loss_50_50_deadband_on_workshop_4():
    # A: −£6m = 1.2% of £500m: pooled 0.5·(1.2 − 0.5)% = 0.35% of £500m = −£1.75m.
    # B, C: +£1m = 0.5% of £200m, exactly at the deadband edge: nothing pooled.
    # D: −£2m = 0.2% of £1,000m, inside: nothing pooled.
    # Pool −£1.75m by turnover (of 1,900): A −£460,526.3158, B, C −£184,210.5263,
    # D −£921,052.6316; all within max_charge 1% of turnover (A £5m, B, C £2m, D £10m).
    # In whole pennies by largest remainder: the floors of the magnitudes, 46,052,631 +
    # 2 × 18,421,052 + 92,105,263 = 174,999,998p, leave 2p for the largest fractions (B .63,
    # C .63, ahead of A .58 and D .16): A −£460,526.31, B, C −£184,210.53, D −£921,052.63,
    # adding up to −£1,750,000.00 exactly.
    o = run("gain_loss_50_50_deadband", "workshop_4")
    assert col(o, "pooled") == approx({"A": -1.75 * M, "B": 0, "C": 0, "D": 0})
    assert col(o, "retained") == approx({"A": -4.25 * M, "B": 1 * M, "C": 1 * M, "D": -2 * M})
    received = {"A": -460_526.31, "B": -184_210.53, "C": -184_210.53, "D": -921_052.63}
    assert col(o, "received") == approx(received)
    assert received["A"] == pytest.approx(-1.75 * M * 500 / 1900, abs=0.01)
    assert col(o, "outturn") == approx({"A": -10 * M - 4.25 * M + received["A"],
                                        "B": 3 * M + received["B"],
                                        "C": 1 * M + received["C"],
                                        "D": -2 * M + received["D"]})
    # support: organisation test after sharing. A −4.71m: loses £10m; B +£815,789.47 and
    # C +£815,789.47 still ahead: earn £2m each.
    assert col(o, "support_earned") == approx({"A": 0, "B": 2 * M, "C": 2 * M, "D": 0})
    assert o.system["unallocated"] == 0
    assert_ledger_consistent(o)


def test_gain_loss_50_50_deadband_max_charge_binds_for_everyone():
    # C alone £40m adverse = 20% of £200m: pooled 0.5·(20 − 0.5)% = 9.75% = −£19.5m.
    # By turnover A would be charged 19.5·500/1900 = £5.13m > its 1% cap £5m, B and C £2.05m >
    # £2m, D £10.26m > £10m: everyone is capped, Σcaps = £19m, and −£0.5m is unallocated.
    o = run("gain_loss_50_50_deadband", "workshop_4", [0.0, 0.0, -40 * M, 0.0])
    assert col(o, "pooled")["C"] == pytest.approx(-19.5 * M)
    assert col(o, "received") == approx({"A": -5 * M, "B": -2 * M, "C": -2 * M, "D": -10 * M})
    assert o.system["unallocated"] == pytest.approx(-0.5 * M)
    assert "£0.50m" in o.explain("C") and "unallocated" in o.explain("C")
    assert_ledger_consistent(o)


def test_support_cliff_on_workshop_4():
    # No sharing; support tested on each member's own variance before sharing, cliff edge:
    # A −£6m fails (loses £10m), B +£1m and C +£1m earn £2m each, D has none at stake.
    o = run("support_cliff_2018_19", "workshop_4")
    assert col(o, "support_earned") == approx({"A": 0, "B": 2 * M, "C": 2 * M, "D": 0})
    assert col(o, "final") == approx({"A": -16 * M, "B": 5 * M, "C": 3 * M, "D": -2 * M})
    np.testing.assert_array_equal(o["final"], o["standalone"])
    s = o.system
    assert s["support_earned_total"] == pytest.approx(4 * M)
    assert s["support_lost"] == pytest.approx(10 * M)
    assert s["system_final"] == pytest.approx(-10 * M)     # −14m outturn + 4m support
    assert_ledger_consistent(o)


def test_support_cliff_on_northshire():
    # Members at or above their own control total (variance = forecast − OCT ≥ 0) earn their
    # support (the sample has no ae_performance column, so all of it follows the test):
    # NCH 1.45 − 1.10 = +0.35m (0.55m), NVP 1.05 − 0.80 = +0.25m (0.85m),
    # NCC 4.65 − 3.20 = +1.45m (0.75m): £2.15m earned. The others fall short: NGH −13.4m,
    # SVH −1.3m, RAS −0.23m, CCG −5.8m (NSC and VGP have none at stake).
    # At stake 12.3 + 8.1 + 0.55 + 0.85 + 1.0 + 0.75 + 6.0 = £29.55m, so £27.4m is lost.
    o = run("support_cliff_2018_19", "northshire_2018_19")
    earned = col(o, "support_earned")
    assert {k for k, v in earned.items() if v > 0} == {"NCH", "NVP", "NCC"}
    assert o.system["support_earned_total"] == pytest.approx(2.15 * M)
    assert o.system["support_lost"] == pytest.approx(27.4 * M)


def test_system_support_taper_on_workshop_4():
    # Half of each member's support on its own position, half on the system's, each earned
    # linearly over 1% of scale below target. No sharing, so positions are the variances.
    # Own part: A −£6m over a 1% width of £5m: 1 − 6/5 < 0 → 0; B, C +£1m → 1.
    # System part: outturn −£14m against the SCT −£5m: −£9m over 1% of Σturnover £1,900m = £19m:
    #   1 − 9/19 = 10/19.
    # A: 10m·(0.5·0 + 0.5·10/19) = £2,631,578.95; B, C: 2m·(0.5 + 5/19) = £1,526,315.79.
    # (The mechanism for every member: the preset's FRF rule for deficit members only and its
    # surplus reward, issue 16 §3, are switched off here; they are checked just below.)
    preset = load_preset("system_support_taper_2020_21")
    o = rs.apply(dc_replace(preset, support=dc_replace(preset.support, deficit_only=False,
                                                       surplus_reward=0.0)),
                 rs.load_sample("workshop_4"))
    earned = {"A": 10 * M * 5 / 19, "B": 2 * M * (0.5 + 5 / 19), "C": 2 * M * (0.5 + 5 / 19),
              "D": 0.0}
    assert earned["A"] == pytest.approx(2_631_578.95, abs=0.01)
    assert earned["B"] == pytest.approx(1_526_315.79, abs=0.01)
    assert col(o, "support_earned") == approx(earned)
    # standalone: own test with the taper: A earns 0, B and C all of theirs
    assert col(o, "standalone") == approx({"A": -16 * M, "B": 5 * M, "C": 3 * M, "D": -2 * M})
    assert o.worse_off == ["B", "C"]
    assert o.system["support_earned_total"] == pytest.approx(sum(earned.values()))
    assert_ledger_consistent(o)
    assert "26% earned" in o.explain("A") and m(earned["A"]) in o.explain("A")


def test_system_support_taper_preset_pays_frf_to_deficit_members_and_rewards_surplus():
    # The preset as published (2020/21): A's control total is a deficit (−£10m): its FRF as
    # above, £2,631,578.95. B (+£2m) and C (£0) planned breakeven or a surplus: no FRF, but a
    # reward of 0.5% of turnover (£200m → £1m each) for an outturn ≥ 0 (B +£3m, C +£1m).
    # D (£0, outturn −£2m): no reward. At stake: A £10m + rewards £1m + £1m + £0 (D's
    # turnover £1,000m → £5m reward at stake) = £17m.
    o = run("system_support_taper_2020_21", "workshop_4")
    assert col(o, "support_earned") == approx({"A": 10 * M * 5 / 19, "B": 1 * M, "C": 1 * M,
                                                "D": 0.0})
    assert o.system["support_at_stake"] == pytest.approx(17 * M, abs=0.01)
    # lost: D's £5m reward and A's £10m − £2,631,578.95
    assert o.system["support_lost"] == pytest.approx(17 * M - 10 * M * 5 / 19 - 2 * M,
                                                     abs=0.01)
    # no sharing: money is conserved trivially (nothing pooled, nothing received)
    assert float(np.sum(o["pooled"])) == 0.0 and float(np.sum(o["received"])) == 0.0


@pytest.mark.parametrize("name", list_presets())
def test_every_preset_on_its_sample_keeps_the_ledger(name):
    a = load_preset(name)
    o = rs.apply(a, rs.load_sample(a.sample))
    assert_ledger_consistent(o)
    assert list(o.table.index) == list(o.base.members)


def test_optimised_pool_levels_the_worst_placed_within_caps():
    # workshop_4 (turnover A 500, B 200, C 200, D 1,000 £m; variances A −6, B +1, C +1, D −2 £m).
    # Half of every variance pooled: pooled A −3, B +0.5, C +0.5, D −1; net pool −£3m.
    # Without caps the level is L = (Σretained + pool)/Σturnover = −6/1,900 = −0.3158%.
    # max_charge 0.4% caps B and C at −£0.8m, so A and D share the rest: x_A + x_D = −£1.4m with
    # x_A = L·£5m + £3m and x_D = L·£10m + £1m per % of level: L = −0.36%, x_A = +£1.2m,
    # x_D = −£2.6m. Positions: A and D at −0.36% of turnover, B and C at −0.15%.
    half = ('name = "half, optimised"\n[gains]\nbands = [{ pool = 0.5 }]\n'
            '[losses]\nbands = [{ pool = 0.5 }]\n[pool]\ndistribute = "optimise"\n')
    o = run(half, "workshop_4")
    level = -6 * M / 1_900           # £ per £m of turnover
    assert col(o, "received") == approx({"A": level * 500 + 3 * M, "B": level * 200 - 0.5 * M,
                                         "C": level * 200 - 0.5 * M, "D": level * 1000 + 1 * M})
    o = run(half + "max_charge = 0.4\n", "workshop_4")
    assert col(o, "received") == approx({"A": 1.2 * M, "B": -0.8 * M, "C": -0.8 * M,
                                         "D": -2.6 * M})
    position = {k: v - c for (k, v), c in zip(col(o, "outturn").items(),
                                               o.base.orgs["control_total"], strict=True)}
    assert position == approx({"A": -1.8 * M, "B": -0.3 * M, "C": -0.3 * M, "D": -3.6 * M})
    assert o.system["unallocated"] == pytest.approx(0.0, abs=0.005)
    assert_ledger_consistent(o)
    assert "as well placed as possible" in o.explain("A")


# == distribution: caps, re-spreading and unallocated ============================================
FULL_EQUAL = 'name = "full, equal"\n[gains]\nbands = [{ pool = 1.0 }]\n' \
             '[losses]\nbands = [{ pool = 1.0 }]\n[pool]\nbasis = "equal"\n'


def test_max_charge_re_spreads_over_the_uncapped():
    # Pool −£6m, equal shares £1.5m. max_charge 0.4%: caps A £2m, B £0.8m, C £0.8m, D £4m.
    # Round 1: B, C capped at £0.8m; £4.4m left over A and D: £2.2m each.
    # Round 2: A capped at £2m; £2.4m left for D (under its £4m cap).
    o = run(FULL_EQUAL + "max_charge = 0.4\n", "workshop_4")
    assert col(o, "received") == approx({"A": -2 * M, "B": -0.8 * M, "C": -0.8 * M,
                                         "D": -2.4 * M})
    assert o.system["unallocated"] == 0
    assert_ledger_consistent(o)


def test_max_charge_leaves_unallocated_when_everyone_is_capped():
    # max_charge 0.2%: caps A £1m, B £0.4m, C £0.4m, D £2m = £3.8m < £6m: −£2.2m unallocated.
    o = run(FULL_EQUAL + "max_charge = 0.2\n", "workshop_4")
    assert col(o, "received") == approx({"A": -1 * M, "B": -0.4 * M, "C": -0.4 * M, "D": -2 * M})
    assert o.system["unallocated"] == pytest.approx(-2.2 * M)
    assert_ledger_consistent(o)
    # max_charge 0: nobody can be charged, the whole pool is unallocated
    o = run(FULL_EQUAL + "max_charge = 0.0\n", "workshop_4")
    np.testing.assert_array_equal(o["received"], 0.0)
    assert o.system["unallocated"] == pytest.approx(-6 * M)


def test_max_award_re_spreads_a_gain():
    # Gains +6, +1, +1, +2 (£m): pool +£10m, equal shares £2.5m. max_award 1%: caps A £5m,
    # B, C £2m, D £10m: B and C capped at £2m, the other £6m to A and D, £3m each.
    o = run(FULL_EQUAL + "max_award = 1.0\n", "workshop_4", [6 * M, 1 * M, 1 * M, 2 * M])
    assert col(o, "received") == approx({"A": 3 * M, "B": 2 * M, "C": 2 * M, "D": 3 * M})
    assert o.system["unallocated"] == 0
    # the charge cap does not touch a gain
    o = run(FULL_EQUAL + "max_charge = 0.0\n", "workshop_4", [6 * M, 1 * M, 1 * M, 2 * M])
    assert col(o, "received") == approx({k: 2.5 * M for k in "ABCD"})


def test_counterparty_cap_leaves_the_rest_unallocated():
    # ACA corridor with the payer capped at 0.001% of its £1,000m target (£10,000).
    aca = load_preset("aca_risk_corridors")
    capped = aca.replace(pool=dc_replace(aca.pool, max_charge=0.001))
    o = rs.apply(capped, rs.load_sample("corridor_2"))
    assert col(o, "received") == approx({"PLAN": 0, "PAYER": -10_000})
    assert o.system["unallocated"] == pytest.approx(-400_000)


def test_exempt_member_pools_nothing_but_shares_the_pool():
    # Full pooling with D exempt: pool = −6 + 1 + 1 = −£4m, shared by turnover (of 1,900),
    # D keeps its own −£2m and is charged 4·1000/1900.
    o = run('name = "x"\nexempt = ["D"]\n[gains]\nbands = [{ pool = 1.0 }]\n'
            '[losses]\nbands = [{ pool = 1.0 }]\n', "workshop_4")
    assert col(o, "pooled")["D"] == 0
    assert col(o, "received")["D"] == pytest.approx(-4 * M * 1000 / 1900)
    assert col(o, "retained")["D"] == pytest.approx(-2 * M)


def test_inline_weights():
    # Pool −£6m by weights 1 : 1 : 1 : 3
    o = run(FULL_EQUAL.replace('"equal"', "{ A = 1, B = 1, C = 1, D = 3 }"), "workshop_4")
    assert col(o, "received") == approx({"A": -1 * M, "B": -1 * M, "C": -1 * M, "D": -3 * M})


def test_bands_threshold_max_pool_and_max_keep():
    # One member X (£100m turnover) with a 4% gain, schedule: 0% to 1%, 50% of 1–3%, 100% beyond.
    base = 'name = "s"\nexempt = ["Y", "Z", "W"]\n[gains]\n' \
           'bands = [{ upto = 1.0, pool = 0.0 }, { upto = 3.0, pool = 0.5 }, { pool = 1.0 }]\n'
    system = four_equal([4 * M, 0, 0, 0])
    # 0.5·2% + 1.0·1% = 2% = £2m pooled
    assert rs.apply(base, system)["pooled"][0] == pytest.approx(2 * M)
    # max_pool 1.5%: £1.5m
    assert rs.apply(base + "max_pool = 1.5\n", system)["pooled"][0] == pytest.approx(1.5 * M)
    # max_keep 1%: keeps at most £1m, so £3m pooled
    assert rs.apply(base + "max_keep = 1.0\n", system)["pooled"][0] == pytest.approx(3 * M)
    # both: max_keep wins (applied after max_pool): pooled £3m
    assert rs.apply(base + "max_pool = 1.5\nmax_keep = 1.0\n", system)["pooled"][0] == \
        pytest.approx(3 * M)
    # a threshold of 5% not reached: below_threshold_pool 0.25 of the whole £4m = £1m
    text = base + "threshold = 5.0\nbelow_threshold_pool = 0.25\n"
    assert rs.apply(text, system)["pooled"][0] == pytest.approx(1 * M)
    # threshold reached (4% ≥ 3.5%): the bands from zero: £2m
    text = base + "threshold = 3.5\nbelow_threshold_pool = 0.25\n"
    assert rs.apply(text, system)["pooled"][0] == pytest.approx(2 * M)


# == distribute = "claims" =======================================================================
def claims_text(rule: str, extra: str = "") -> str:
    return (f'name = "claims {rule}"\n[gains]\nbands = [{{ pool = 1.0 }}]\n'
            f'[pool]\ndistribute = "claims"\nrule = "{rule}"\nbasis = "equal"\n{extra}')


# X +3m and Y +2m are pooled in full (net pool +£5m); Z −6m and W −2m keep their losses (the
# losses schedule pools nothing), so after retention they are short by claims 6 and 2 (Σ 8 > 5).
#   proportional: 5·6/8 = 3.75, 5·2/8 = 1.25
#   cea:          min(c, λ) with λ = 3: 3, 2
#   cel:          c − μ with (6 − μ) + (2 − μ) = 5, μ = 1.5: 4.5, 0.5
#   talmud:       E = 5 > Σc/2 = 4: c/2 + CEL(1 on half-claims 3, 1): (3 − μ) = 1 with W at 0:
#                 μ = 2 → 3 + 1 = 4, 1 + 0 = 1
#   random_arrival: Z first takes 5, W first takes 2 and Z 3: averages 4, 1
CLAIM_AWARDS = {"proportional": (3.75, 1.25), "cea": (3.0, 2.0), "cel": (4.5, 0.5),
                "talmud": (4.0, 1.0), "random_arrival": (4.0, 1.0)}


@pytest.mark.parametrize("rule", sorted(CLAIM_AWARDS))
def test_claims_rules_cover_shortfalls(rule):
    system = four_equal([3 * M, 2 * M, -6 * M, -2 * M])
    o = rs.apply(claims_text(rule), system)
    z, w = CLAIM_AWARDS[rule]
    assert col(o, "received") == approx({"X": 0, "Y": 0, "Z": z * M, "W": w * M})
    assert col(o, "final") == approx({"X": 0, "Y": 0, "Z": (z - 6) * M, "W": (w - 2) * M})
    assert o.system["unallocated"] == 0
    assert_ledger_consistent(o)
    assert f"({rule} rule)" in o.explain("Z")


@pytest.mark.parametrize("rule", sorted(CLAIM_AWARDS))
def test_claims_surplus_goes_by_basis(rule):
    # X +10m, Y +2m: pool +£12m covers the claims (6 + 2) in full, the other £4m goes equally.
    system = four_equal([10 * M, 2 * M, -6 * M, -2 * M])
    o = rs.apply(claims_text(rule), system)
    assert col(o, "received") == approx({"X": 1 * M, "Y": 1 * M, "Z": 7 * M, "W": 3 * M})
    assert col(o, "final") == approx({"X": 1 * M, "Y": 1 * M, "Z": 1 * M, "W": 1 * M})


def test_claims_negative_pool_is_charged_by_basis():
    # Losses pooled too: X +3, Y +2, Z −6, W −2 (£m) all pooled: net −£3m charged equally.
    text = claims_text("talmud").replace("[pool]", "[losses]\nbands = [{ pool = 1.0 }]\n[pool]")
    o = rs.apply(text, four_equal([3 * M, 2 * M, -6 * M, -2 * M]))
    assert col(o, "received") == approx({k: -0.75 * M for k in "XYZW"})


def test_claims_count_shortfalls_after_retention():
    # Half of every loss pooled: Z retains −3 and W −1 (claims 3 and 1), the pool is
    # 3 + 2 − 3 − 1 = +£1m: proportional gives Z 0.75 and W 0.25.
    text = claims_text("proportional").replace(
        "[pool]", "[losses]\nbands = [{ pool = 0.5 }]\n[pool]")
    o = rs.apply(text, four_equal([3 * M, 2 * M, -6 * M, -2 * M]))
    assert col(o, "received") == approx({"X": 0, "Y": 0, "Z": 0.75 * M, "W": 0.25 * M})


def test_claims_awards_respect_max_award():
    # max_award 1% of £100m = £1m per member: Z and W can take at most £1m each of the +£5m
    # pool; the rest goes to X and Y (£1m each) and £1m is unallocated.
    system = four_equal([3 * M, 2 * M, -6 * M, -2 * M])
    o = rs.apply(claims_text("talmud", "max_award = 1.0\n"), system)
    assert (o["received"] <= 1 * M + 1e-6).all(), col(o, "received")


# == support ======================================================================================
def test_unearned_support_redistributed_to_members_that_earned_all():
    # support_cliff with unearned = "redistribute": A's lost £10m goes to B and C (each earned
    # all of its £2m) pro rata to support: £5m each, so each ends with £7m; nothing is lost.
    cliff = load_preset("support_cliff_2018_19")
    text = cliff.replace(support=dc_replace(cliff.support, unearned="redistribute")).to_toml()
    assert 'unearned = "redistribute"' in text
    o = run(text, "workshop_4")
    assert col(o, "support_earned") == approx({"A": 0, "B": 7 * M, "C": 7 * M, "D": 0})
    assert o.system["support_lost"] == pytest.approx(0, abs=0.01)
    assert "including redistributed support" in o.explain("B")
    assert_ledger_consistent(o)


def test_unearned_support_is_lost_when_nobody_earns_all():
    text = ('name = "x"\n[support]\ntest = "system"\nunearned = "redistribute"\n')
    o = run(text, "workshop_4")       # the system is £9m short of its SCT: nobody earns
    np.testing.assert_array_equal(o["support_earned"], 0.0)
    assert o.system["support_lost"] == pytest.approx(14 * M)


def test_system_support_test_cliff():
    # test = "system": every member earns all or nothing on the system's position.
    text = 'name = "x"\n[support]\ntest = "system"\n'
    o = run(text, "workshop_4")                     # −£14m vs SCT −£5m: fails
    assert o.system["support_earned_total"] == 0
    o = run(text, "workshop_4", [1 * M] * 4)        # −£8m + £4m = −£4m ≥ −£5m: passes
    assert col(o, "support_earned") == approx({"A": 10 * M, "B": 2 * M, "C": 2 * M, "D": 0})


def test_support_test_none_earns_everything():
    o = run('name = "x"\n[support]\ntest = "none"\n', "workshop_4")
    assert o.system["support_earned_total"] == pytest.approx(14 * M)
    np.testing.assert_array_equal(o["final"], o["standalone"])


def test_support_before_and_after_sharing():
    # Full pooling on workshop_4: after sharing every member is short (nobody earns); before
    # sharing B and C (+£1m each) earn their £2m.
    after = run("full_pooling_turnover", "workshop_4")
    before = run(load_preset("full_pooling_turnover").to_toml()
                 + "\n[support]\nafter_sharing = false\n", "workshop_4")
    assert after.system["support_earned_total"] == 0
    assert col(before, "support_earned") == approx({"A": 0, "B": 2 * M, "C": 2 * M, "D": 0})


# == variances, scenarios and the Outcome API =====================================================
def test_two_dimensional_variances_give_one_row_per_scenario():
    v = np.array([[-6 * M, 1 * M, 1 * M, -2 * M], [0.0, 0.0, -40 * M, 0.0]])
    o = run("gain_loss_50_50_deadband", "workshop_4", v)
    assert o.n_scenarios == 2 and o["final"].shape == (2, 4)
    assert isinstance(o.system, pd.DataFrame) and list(o.system.columns) == list(SYSTEM_LINES)
    assert o.system["unallocated"].tolist() == pytest.approx([0.0, -0.5 * M])
    assert o.table.index.names == ["scenario", "org_id"] and len(o.table) == 8
    for k in range(2):
        one = run("gain_loss_50_50_deadband", "workshop_4", v[k])
        np.testing.assert_allclose(o["final"][k], one["final"], atol=1e-6)
        np.testing.assert_allclose(o.scenario(k)["received"], one["received"], atol=1e-6)
    with pytest.raises(ValueError, match="per scenario"):
        _ = o.worse_off
    assert "(scenario 0 of 2" in o.explain("A")


def test_default_variances_are_forecast_minus_control_total():
    o = run("standalone", "workshop_4")
    assert col(o, "variance") == approx({"A": -6 * M, "B": 1 * M, "C": 1 * M, "D": -2 * M})
    np.testing.assert_array_equal(run("standalone", "workshop_4",
                                      [-6 * M, 1 * M, 1 * M, -2 * M])["final"], o["final"])


@pytest.mark.parametrize("variances, fragment", [
    ([1.0, 2.0, 3.0], "must have one column per member (4); got shape (3,)"),
    (np.zeros((2, 5)), "must have one column per member (4); got shape (2, 5)"),
    ([1.0, np.nan, 0.0, 0.0], "must be finite numbers of pounds"),
    ([1.0, np.inf, 0.0, 0.0], "must be finite numbers of pounds"),
])
def test_malformed_variances_are_refused(variances, fragment):
    with pytest.raises(rs.ValidationError) as info:
        run("standalone", "workshop_4", variances)
    assert "column 'variances'" in str(info.value) and fragment in str(info.value)


def test_outcome_system_lines_and_table_columns():
    o = run("gain_loss_50_50_deadband", "workshop_4")
    assert isinstance(o.system, pd.Series)
    assert list(o.system.index) == list(SYSTEM_LINES)
    assert o.system.name == load_preset("gain_loss_50_50_deadband").name
    assert list(o.table.columns[:3]) == ["name", "control_total", "support"]
    assert o.table.loc["A", "name"] == "Acute trust"


def test_apply_accepts_toml_text_and_a_path(tmp_path):
    text = load_preset("full_pooling_turnover").to_toml()
    path = tmp_path / "a.toml"
    path.write_text(text)
    a = run("full_pooling_turnover", "workshop_4")["final"]
    np.testing.assert_array_equal(rs.apply(text, rs.load_sample("workshop_4"))["final"], a)
    np.testing.assert_array_equal(rs.apply(path, rs.load_sample("workshop_4"))["final"], a)


# == explain =======================================================================================
def test_explain_aca_payer():
    text = run("aca_risk_corridors", "corridor_2").explain("PAYER")
    lines = text.splitlines()
    assert lines[0] == "Payer (HHS) (PAYER) under “ACA risk corridors”"
    assert [line.split(".")[0] for line in lines[1:]] == [str(i) for i in range(1, 9)]
    assert "exempt" in lines[2]
    assert lines[4].startswith("4. Received: -£0.41m") and "counterparty PAYER" in lines[4]
    assert lines[8].startswith("8. Final position: -£0.41m")
    assert "£0.41m worse off" in lines[8]


def test_explain_aca_plan():
    text = run("aca_risk_corridors", "corridor_2").explain("PLAN")
    assert "= -£1.00m (10.00% of target, adverse)" in text
    assert "2. Pooled: -£0.41m" in text and "50% of 3–8%, 80% beyond 8%" in text
    assert "3. Retained: -£0.59m" in text
    assert "£0.41m better off" in text


def test_explain_gain_loss_deadband_member_a():
    o = run("gain_loss_50_50_deadband", "workshop_4")
    text = o.explain("A")
    row = o.table.loc["A"]
    for figure in (-6 * M, -1.75 * M, row["retained"], row["received"], row["outturn"],
                   row["final"], row["standalone"], -1.75 * M):
        assert m(figure) in text, (m(figure), text)
    assert m(-6 * M) == "-£6.00m" and m(-1.75 * M) == "-£1.75m"
    assert "(1.20% of turnover, adverse)" in text
    assert "0% of 0–0.5%, 50% beyond 0.5%" in text
    assert "10.00m at stake" in text and "0% earned" in text
    assert f"{m(row['vs_standalone'])} better off" in text


def test_explain_reserve_holder():
    text = run("pooled_budget_reserve", "pooled_budget_2").explain("ICB")
    assert "Received: -£3.24m" in text
    assert "reserve held by ICB absorbs £1.00m (charged to this member as holder)" in text
    assert "net pool of -£4.70m" in text


def test_explain_member_on_target_and_exactly_as_well_off():
    text = run("standalone", "workshop_4", [0.0, 1 * M, 1 * M, -2 * M]).explain("A")
    assert "on target" in text and "exactly as well off" in text


def test_explain_of_a_schedule_that_pools_nothing_reads_once():
    text = run("standalone", "workshop_4").explain("A")
    assert "the agreement the agreement" not in text


def test_explain_unknown_member():
    with pytest.raises(KeyError, match=r"'Q' is not a member \(members: A, B, C, D\)"):
        run("standalone", "workshop_4").explain("Q")


def test_a_loss_the_caps_leave_with_nobody_still_counts_against_the_system_test():
    """Two members, £100m turnover each, OCTs 0, SCT −£1m. A forecasts −£10m, B on plan; each has
    £5m support tied to the system test. All of A's loss is pooled, but no member may be charged
    more than 0.1% of turnover (£0.1m): £0.2m is charged, £9.8m is left with nobody. The system
    still ends at −£10m, £9m short of the SCT, so the system test fails and all £10m of support
    is lost — as it is when the test is before sharing. (Found by the fresh-user review: the
    test used to see only the £0.2m the members were charged, and paid all £10m.)"""
    frame = pd.DataFrame({"org_id": ["A", "B"], "name": ["A", "B"], "kind": ["acute", "acute"],
                          "turnover": [100e6, 100e6], "control_total": [0.0, 0.0],
                          "forecast": [-10e6, 0.0], "support": [5e6, 5e6]})
    system = rs.System.from_frame(frame, -1e6, "two", "2025/26")
    capped = ('name = "capped"\n[losses]\nbands = [{pool = 1.0}]\n[pool]\nmax_charge = 0.1\n'
              '[support]\ntest = "system"\n')
    after = rs.apply(capped, system).system
    assert after["unallocated"] == -9_800_000.00
    assert after["support_earned_total"] == 0.00
    assert after["support_lost"] == 10_000_000.00
    before = rs.apply(capped + "after_sharing = false\n", system).system
    assert before["support_earned_total"] == after["support_earned_total"]
