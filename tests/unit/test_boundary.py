"""The system boundary (docs/reconciliation.md): members outside the SCT take part in agreements
but are left out of ΣOCT, the gap, the system forecast and its variance, rebalancing and the system test.

The worked case is docs/reconciliation.md's, checked by hand (£m):
  inside  NGH +1.80/−11.60, SVH −9.40/−10.70, NCH +1.10/+1.45, NVP +0.80/+1.05,
          RAS +0.35/+0.12, NCC +3.20/+4.65, ICB 0.00/−5.80 (OCT/forecast)
  outside NSC 0.00/−2.90 (council), VGP +0.15/−0.38 (GP federation); SCT +1.50
  ΣOCT  = 1.80 − 9.40 + 1.10 + 0.80 + 0.35 + 3.20 + 0.00               = −2.15
  gap   = 1.50 − (−2.15)                                                 = +3.65
  system forecast = −11.60 − 10.70 + 1.45 + 1.05 + 0.12 + 4.65 − 5.80    = −20.83
  variance against the SCT = −20.83 − 1.50                              = −22.33
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import riskshare as rs
from riskshare.games.pooling import coalition_target
from tests.agreement_texts import full_pooling

M = 1_000_000.0

ROWS = [  # org_id, kind, turnover £m, OCT £m, forecast £m, in_sct
    ("NGH", "acute", 512.4, 1.80, -11.60, True),
    ("SVH", "acute", 368.9, -9.40, -10.70, True),
    ("NCH", "community", 142.6, 1.10, 1.45, True),
    ("NVP", "mental_health", 214.3, 0.80, 1.05, True),
    ("RAS", "ambulance", 248.0, 0.35, 0.12, True),
    ("NCC", "specialist", 187.2, 3.20, 4.65, True),
    ("ICB", "commissioner", 1684.0, 0.00, -5.80, True),
    ("NSC", "local_authority", 436.5, 0.00, -2.90, False),
    ("VGP", "primary_care", 27.6, 0.15, -0.38, False),
]


def worked(order=None, sct=1.50) -> rs.System:
    rows = ROWS if order is None else [ROWS[i] for i in order]
    frame = pd.DataFrame({
        "org_id": [r[0] for r in rows], "name": [f"{r[0]} name" for r in rows],
        "kind": [r[1] for r in rows], "turnover": [r[2] * M for r in rows],
        "control_total": [r[3] * M for r in rows], "forecast": [r[4] * M for r in rows],
        "in_sct": [r[5] for r in rows]})
    return rs.System.from_frame(frame, None if sct is None else sct * M, "Worked case", "")


def test_domain_worked_case_statement():
    system = worked()
    rec = rs.reconcile(system)
    assert rec.amount("sum_oct") == pytest.approx(-2.15 * M, abs=0.005)
    assert rec.amount("sct") == pytest.approx(1.50 * M, abs=0.005)
    assert rec.amount("gap") == pytest.approx(3.65 * M, abs=0.005)
    assert rec.amount("forecast") == pytest.approx(-20.83 * M, abs=0.005)
    assert rec.amount("variance_vs_sct") == pytest.approx(-22.33 * M, abs=0.005)
    # against ΣOCT: −20.83 − (−2.15) = −18.68
    assert rec.amount("variance_vs_oct") == pytest.approx(-18.68 * M, abs=0.005)
    assert system.gap == pytest.approx(3.65 * M, abs=0.005)
    assert system.outside_members == ["NSC", "VGP"]
    # the outside members are listed, take no share of the gap, and are named in a sentence
    assert list(rec.orgs.index) == [r[0] for r in ROWS]
    assert rec.orgs.loc[["NSC", "VGP"], "gap_share"].tolist() == [0.0, 0.0]
    assert rec.orgs["gap_share"].sum() == pytest.approx(3.65 * M, abs=0.005)
    assert "outside the system control total" in rec.flags[0]
    assert "NSC" in rec.flags[0] and "VGP" in rec.flags[0]
    # VGP is still judged against its own control total: 0.53 adverse on 27.6 = 1.92% > 1%
    assert "VGP" in rec.unrealistic


def test_default_sct_is_the_sum_inside():
    assert worked(sct=None).control_total == pytest.approx(-2.15 * M, abs=0.005)


@pytest.mark.parametrize("method", ["basis", "minimax_change", "closest_to_forecast"])
def test_rebalancing_moves_only_the_nhs_members(method):
    system = worked()
    reb = rs.rebalance(system, method=method)
    revised = reb.revised
    assert revised["NSC"] == 0.0 and revised["VGP"] == 0.15 * M      # never change
    inside = [r[0] for r in ROWS if r[5]]
    # the seven NHS members sum to the SCT to the penny
    assert round(float(revised[inside].sum()), 2) == 1.50 * M
    assert reb.total == pytest.approx(1.50 * M, abs=0.005)
    moved = (revised - system.orgs["control_total"]).abs() > 0.005
    assert not moved["NSC"] and not moved["VGP"]
    assert moved[inside].any()
    rebalanced = reb.apply()
    assert rebalanced.gap == pytest.approx(0.0, abs=0.005)


def test_basis_rebalancing_shares_by_inside_turnover():
    # gap 3.65m shared over the NHS members' turnover, 3,357.4m in all:
    # NGH 3.65 × 512.4 / 3357.4 = 0.557048… m → £557,048.31 (hand: 3,650,000 × 512.4 / 3,357.4)
    reb = rs.rebalance(worked(), method="basis", basis="turnover")
    change = reb.table["change"]
    assert change["NGH"] == pytest.approx(3_650_000 * 512.4 / 3357.4, abs=0.01)
    assert change["ICB"] == pytest.approx(3_650_000 * 1684.0 / 3357.4, abs=0.01)


def test_reordering_members_changes_nothing():
    a = rs.reconcile(worked())
    b = rs.reconcile(worked(order=[8, 3, 0, 7, 6, 1, 5, 2, 4]))
    pd.testing.assert_frame_equal(a.statement, b.statement)
    for method in ("basis", "minimax_change"):
        ra = rs.rebalance(worked(), method=method).revised
        rb = rs.rebalance(worked(order=[8, 3, 0, 7, 6, 1, 5, 2, 4]), method=method).revised
        pd.testing.assert_series_equal(ra.sort_index(), rb.sort_index())


SYSTEM_TEST = full_pooling("System-tested support, full pooling", test="system",
                           after_sharing=False)


def two_plus_partner(partner_forecast: float, in_sct: bool = False) -> rs.System:
    frame = pd.DataFrame({
        "org_id": ["A", "B", "LA"], "name": ["Acute", "ICB", "Council"],
        "kind": ["acute", "commissioner", "local_authority"],
        "turnover": [100 * M, 300 * M, 100 * M], "control_total": [0.0, 0.0, 0.0],
        "forecast": [1 * M, 0.0, partner_forecast], "support": [2 * M, 0.0, 0.0],
        "in_sct": [True, True, in_sct]})
    return rs.System.from_frame(frame, 0.0, "Partner", "")


def test_system_support_test_ignores_a_partner_outside():
    # inside: A +1m, B 0 ⇒ system +1m ≥ SCT 0 (tested before sharing): A earns its £2m
    # even though the council is £5m adverse — it is outside the SCT
    out = rs.apply(SYSTEM_TEST, two_plus_partner(-5 * M))
    assert out.table.loc["A", "support_earned"] == pytest.approx(2 * M)
    # the council still pools: Σ pooled = 1 + 0 − 5 = −4m, shared by turnover (1:3:1):
    # A −0.8m, B −2.4m, LA −0.8m; the system outturn is A + B only: −0.8 − 2.4 = −3.2m
    assert out.table.loc["LA", "received"] == pytest.approx(-0.8 * M, abs=0.005)
    assert out.system["system_outturn"] == pytest.approx(-3.2 * M, abs=0.005)
    assert out.system["sct_variance"] == pytest.approx(-3.2 * M, abs=0.005)
    # system final = −3.2 + A's support 2.0 = −1.2m (the council's final is not in it)
    assert out.system["system_final"] == pytest.approx(-1.2 * M, abs=0.005)
    # had the council been inside, the system (−4m) would fail and A lose its support
    inside = rs.apply(SYSTEM_TEST, two_plus_partner(-5 * M, in_sct=True))
    assert inside.table.loc["A", "support_earned"] == 0.0


def test_after_sharing_a_partner_moves_the_system_position_through_the_pool():
    # after sharing: inside outturn = A (1 − 1 + received) + B: the pool of −4m gives A −0.8m
    # and B −2.4m, so the inside position is 0 + 0 + (−0.8 − 2.4) + 1 = ... computed below by hand:
    # A: OCT 0 + retained 0 + received −0.8 = −0.8; B: 0 + 0 − 2.4 = −2.4 ⇒ inside −3.2 < 0
    text = full_pooling("System-tested support after sharing", test="system",
                        after_sharing=True)
    out = rs.apply(text, two_plus_partner(-5 * M))
    assert out.system["system_outturn"] == pytest.approx(-3.2 * M, abs=0.005)
    assert out.table.loc["A", "support_earned"] == 0.0


def test_optimiser_system_condition_counts_only_the_inside():
    # A −1m (inside), the council +5m (outside); full pooling: net pool −1 + 0 + 5 = +4m.
    # Fewest £ moved without the condition: each member gets its own back (A −1, LA +5), and
    # the members inside end at −1m < SCT 0. With the condition, £1m must cross the boundary:
    # A and B (who pooled −1m in all) receive 0 in all — a net transfer of +1m into the SCT —
    # and the council, who pooled +5m, receives +4m (its net transfer −1m).
    system = two_plus_partner(5 * M)
    system = system.replace(orgs=system.orgs.assign(forecast=[-1 * M, 0.0, 5 * M]))
    free = rs.optimise(system, "full_pooling_turnover", objective="min_total_transfer")
    assert free.table["received"]["A"] == pytest.approx(-1 * M, abs=0.02)
    res = rs.optimise(system, "full_pooling_turnover", objective="min_total_transfer",
                      constraints={"system_meets_control_total": True})
    received = res.table["received"]
    assert received["A"] + received["B"] == pytest.approx(0.0, abs=0.02)
    assert received["LA"] == pytest.approx(4 * M, abs=0.02)
    assert res.system["sct_variance"] >= -0.01
    # and it says so: the council pays £1m net across the boundary (pooled 5, received 4)
    assert res.boundary_warning.startswith(
        "To meet the system control total, members outside it pay £1.00m net into the members "
        "inside it (LA £1.00m).")
    assert free.boundary_warning == ""


def test_coalition_targets_leave_out_members_outside():
    system = worked()
    masks = np.array([[r[0] in ("NGH", "NSC") for r in ROWS],
                      [r[0] == "NSC" for r in ROWS],
                      [True] * len(ROWS)])
    target = coalition_target(system, masks)
    # NGH + NSC: NGH's OCT 1.80 + its share of the gap by inside turnover 3.65 × 512.4/3357.4
    assert target[0] == pytest.approx(1.80 * M + 3.65 * M * 512.4 / 3357.4, abs=0.01)
    assert target[1] == 0.0                             # the council alone: nothing to meet
    assert target[2] == pytest.approx(1.50 * M, abs=0.01)  # the grand coalition: the SCT


def test_in_sct_is_read_in_the_spellings_of_a_spreadsheet():
    base = worked().to_frame()
    for text, expected in (("FALSE", False), ("no", False), ("0", False), ("out", False),
                           ("TRUE", True), ("Yes", True), ("", True), ("1", True), ("f", False), ("T", True)):
        frame = base.copy()
        frame["in_sct"] = frame["in_sct"].astype(object)
        frame.loc[frame["org_id"] == "NSC", "in_sct"] = text
        system = rs.System.from_frame(frame, 1.5 * M)
        assert bool(system.in_sct["NSC"]) is expected, text


def test_a_bad_in_sct_cell_is_named():
    frame = worked().to_frame()
    frame["in_sct"] = frame["in_sct"].astype(object)
    frame.loc[frame["org_id"] == "NSC", "in_sct"] = "maybe"
    with pytest.raises(rs.ValidationError) as err:
        rs.System.from_frame(frame, 1.5 * M)
    message = str(err.value)
    assert "row 8 (NSC), column 'in_sct'" in message and "must be true or false" in message


def test_boundary_survives_files(tmp_path):
    system = worked()
    back = rs.load_system(system.to_folder(tmp_path / "w"))
    assert back.equals(system) and back.outside_members == ["NSC", "VGP"]
    text = (tmp_path / "w" / "organisations.csv").read_text()
    assert text.splitlines()[0].endswith(",in_sct")
    # a system wholly inside writes no in_sct column (blank means true)
    inside = rs.load_sample("workshop_4")
    assert "in_sct" not in (inside.to_folder(tmp_path / "x") / "organisations.csv").read_text()


def test_a_system_with_nobody_inside_the_sct_is_refused():
    frame = worked().to_frame()
    frame["in_sct"] = False
    with pytest.raises(rs.ValidationError) as err:
        rs.System.from_frame(frame, 1.5 * M)
    assert "column 'in_sct'" in str(err.value)
    assert "no member is inside the system control total" in str(err.value)


def test_the_results_workbook_marks_members_outside_the_sct():
    from riskshare.reports.workbooks import outcome_members

    table = outcome_members(rs.apply("standalone", worked()))
    assert list(table.columns[:1]) == ["in_sct"]
    assert table["in_sct"].to_dict() == {r[0]: r[5] for r in ROWS}
    # a system wholly inside has no such column
    assert "in_sct" not in outcome_members(rs.apply("standalone", rs.load_sample("workshop_4")))


def test_a_coalition_wholly_outside_the_sct_keeps_what_it_has():
    # NSC and VGP on their own under the 2020/21 taper preset (system-linked support, a taper):
    # they hold no support, pool nothing (no sharing) and have no SCT to meet, so v({NSC, VGP})
    # is their own outturn, OCT + variance = the forecast: −2.90 + (−0.38) = −£3.28m — finite,
    # not 0/0
    system = worked()
    game = rs.games.from_agreement(system, rs.load_agreement("system_support_taper_2020_21"))
    assert game(("NSC", "VGP")) == pytest.approx(-3.28 * M, abs=0.005)
