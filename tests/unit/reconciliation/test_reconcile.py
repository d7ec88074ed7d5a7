"""Reconciliation of organisational control totals (OCTs) with the system control total (SCT),
checked against figures worked by hand."""

from __future__ import annotations

import pandas as pd
import pytest

import riskshare as rs
from riskshare.reconciliation.reconcile import STATEMENT_LINES

M = 1_000_000.0


@pytest.fixture(scope="module")
def workshop() -> rs.System:
    return rs.load_sample("workshop_4")


@pytest.fixture(scope="module")
def rec(workshop) -> rs.Reconciliation:
    return rs.reconcile(workshop)


# workshop_4 (£m):       turnover    OCT   forecast  support
#   A acute                 500      -10     -16       10
#   B community             200        2       3        2
#   C mental_health         200        0       1        2
#   D commissioner         1000        0      -2        0
#   SCT = -5
#
# ΣOCT              = -10 + 2 + 0 + 0          = -8
# support           = 10 + 2 + 2 + 0           = 14
# ΣOCT incl support = -8 + 14                  =  6
# gap               = SCT − ΣOCT = -5 − (-8)   =  3
# gap incl support  = SCT − ΣOCT incl = -5 − 6 = -11
# forecast          = -16 + 3 + 1 − 2          = -14
# variance vs ΣOCT  = -14 − (-8)               = -6
# variance vs SCT   = -14 − (-5)               = -9
HAND_STATEMENT = {
    "sum_oct": -8 * M, "support": 14 * M, "sum_oct_incl_support": 6 * M, "sct": -5 * M,
    "gap": 3 * M, "gap_incl_support": -11 * M, "forecast": -14 * M,
    "variance_vs_oct": -6 * M, "variance_vs_sct": -9 * M,
}


def test_statement_matches_the_hand_calculation(rec):
    for key, amount in HAND_STATEMENT.items():
        assert rec.amount(key) == amount, key
    assert rec.gap == 3 * M


def test_statement_order_labels_and_keys(rec):
    st = rec.statement
    assert list(st.index) == ["sum_oct", "support", "sum_oct_incl_support", "sct", "gap",
                              "gap_incl_support", "forecast", "variance_vs_oct",
                              "variance_vs_sct"]
    assert st.index.name == "line"
    assert list(st.columns) == ["label", "amount"]
    assert st["label"].tolist() == [
        "Sum of organisational control totals (ΣOCT)",
        "Conditional support funding at stake",
        "ΣOCT including support",
        "System control total (SCT)",
        "Gap: SCT − ΣOCT",
        "Gap including support: SCT − ΣOCT incl. support",
        "Forecast system outturn (excluding support)",
        "Forecast variance against ΣOCT",
        "Forecast variance against the SCT",
    ]
    assert [k for k, _ in STATEMENT_LINES] == list(st.index)
    with pytest.raises(KeyError):
        rec.amount("no_such_line")


def test_member_variances_by_hand(rec):
    o = rec.orgs
    assert list(o.index) == ["A", "B", "C", "D"]
    # variance = forecast − OCT; % of turnover
    # A: -16 − (-10) = -6  -> -6/500  = -1.2%
    # B:   3 − 2     = +1  -> 1/200   = +0.5%
    # C:   1 − 0     = +1  -> 1/200   = +0.5%
    # D:  -2 − 0     = -2  -> -2/1000 = -0.2%
    assert o["variance"].tolist() == [-6 * M, 1 * M, 1 * M, -2 * M]
    assert o["variance_pct"].tolist() == pytest.approx([-1.2, 0.5, 0.5, -0.2], abs=1e-12)
    assert o["control_total"].tolist() == [-10 * M, 2 * M, 0.0, 0.0]
    assert o["forecast"].tolist() == [-16 * M, 3 * M, 1 * M, -2 * M]
    assert o["support"].tolist() == [10 * M, 2 * M, 2 * M, 0.0]
    assert o["kind"].tolist() == ["acute", "community", "mental_health", "commissioner"]
    for column in ("name", "kind", "turnover", "control_total", "forecast", "support",
                   "variance", "variance_pct", "unrealistic", "gap_share"):
        assert column in o.columns


def test_only_the_acute_trust_is_unrealistic_at_the_default_threshold(rec):
    # A is 1.2% adverse > 1%; D is only 0.2% adverse; B and C are favourable.
    assert rec.unrealistic_pct == 1.0
    assert rec.orgs["unrealistic"].tolist() == [True, False, False, False]
    assert rec.unrealistic == ["A"]


@pytest.mark.parametrize("threshold, flagged", [
    (1.5, []),            # 1.2% < 1.5%: nobody
    (1.2, []),            # "beyond" the threshold is strict: exactly 1.2% is not flagged
    (1.19, ["A"]),
    (0.2, ["A"]),         # D is exactly 0.2% adverse: not beyond
    (0.1, ["A", "D"]),
    (0.0, ["A", "D"]),    # every adverse variance
])
def test_unrealistic_threshold(workshop, threshold, flagged):
    assert rs.reconcile(workshop, unrealistic_pct=threshold).unrealistic == flagged


def test_no_member_unrealistic_at_1_5_percent_says_so(workshop):
    rec = rs.reconcile(workshop, unrealistic_pct=1.5)
    assert rec.flags[-1] == ("No member's forecast is adverse to its control total by more "
                             "than 1.5% of turnover.")
    assert not any("looks unrealistic" in f for f in rec.flags)


def test_gap_shares_by_turnover(rec):
    # gap £3m shared pro rata to turnover (total 1,900m), in whole pennies adding up to the
    # gap: quotas A 78,947,368.42p, B and C 31,578,947.37p, D 157,894,736.84p; the floors add
    # up to 299,999,998p, and the 2p left go to the largest fractions, D (.84) and A (.42):
    # A £789,473.69, B and C £315,789.47, D £1,578,947.37.
    shares = rec.orgs["gap_share"]
    assert shares.to_dict() == {"A": 789_473.69, "B": 315_789.47, "C": 315_789.47,
                                "D": 1_578_947.37}
    assert shares.sum() == pytest.approx(3 * M, abs=1e-6)
    # within a penny of the exact pro-rata shares
    assert shares["A"] == pytest.approx(3 * M * 500 / 1900, abs=0.01)
    assert shares["D"] == pytest.approx(3 * M * 1000 / 1900, abs=0.01)


def test_flags_are_readable_sentences_with_the_figures(rec):
    assert rec.flags == (
        "The system control total (-£5.00m) asks £3.00m more than the members' control totals "
        "add up to (-£8.00m): the organisational targets need rebalancing, or the gap needs an "
        "owner.",
        "On current forecasts the system misses its control total by £9.00m (forecast outturn "
        "-£14.00m, before support).",
        "Acute trust (A): forecast -£16.00m against a control total of -£10.00m, £6.00m adverse "
        "(1.2% of turnover, beyond the 1.0% threshold): the control total looks unrealistic.",
    )
    gap, miss, acute = rec.flags
    assert "£3.00m" in gap and "rebalancing" in gap
    assert "misses" in miss and "£9.00m" in miss
    assert "(A)" in acute and "Acute trust" in acute


def test_flags_for_headroom_exact_match_and_a_met_target(workshop):
    # SCT -10m below ΣOCT -8m: £2m headroom; forecast -14m misses -10m by £4m.
    headroom = rs.reconcile(workshop.replace(control_total=-10 * M))
    assert headroom.gap == -2 * M
    assert headroom.flags[0] == ("The members' control totals add up to -£8.00m, £2.00m better "
                                 "than the system control total (-£10.00m): there is headroom at "
                                 "system level.")
    # SCT defaulted: equal to ΣOCT exactly
    exact = rs.reconcile(workshop.replace(control_total=None))
    assert exact.gap == 0.0
    assert exact.flags[0] == ("The members' control totals add up exactly to the system "
                              "control total (-£8.00m).")
    # SCT -20m: forecast -14m meets it with £6m to spare
    met = rs.reconcile(workshop.replace(control_total=-20 * M))
    assert met.amount("variance_vs_sct") == 6 * M
    assert met.flags[1] == ("On current forecasts the system meets its control total with "
                            "£6.00m to spare (forecast outturn -£14.00m, before support).")


def test_several_unrealistic_members_are_listed_worst_first(workshop):
    rec = rs.reconcile(workshop, unrealistic_pct=0.1)
    unrealistic = [f for f in rec.flags if "looks unrealistic" in f]
    assert len(unrealistic) == 2
    assert unrealistic[0].startswith("Acute trust (A)")            # -1.2%
    assert unrealistic[1].startswith("Integrated care board (D)")  # -0.2%
    assert "beyond the 0.1% threshold" in unrealistic[1]


@pytest.mark.parametrize("bad", [-1, -0.01, "abc", None, float("nan"), float("inf"), [1.0]])
def test_bad_unrealistic_pct_is_a_clear_value_error(workshop, bad):
    with pytest.raises(ValueError) as info:
        rs.reconcile(workshop, unrealistic_pct=bad)
    assert str(info.value) == f"unrealistic_pct must be a percent number ≥ 0 (got {bad!r})"


def test_unrealistic_pct_as_numeric_text_is_accepted(workshop):
    assert rs.reconcile(workshop, unrealistic_pct="0.1").unrealistic == ["A", "D"]


def test_reconcile_needs_a_system(workshop):
    with pytest.raises(TypeError, match="takes a riskshare System"):
        rs.reconcile(workshop.orgs)


# -- northshire_2018_19: the properties the sample promises ----------------------------------------
@pytest.fixture(scope="module")
def northshire() -> rs.System:
    return rs.load_sample("northshire_2018_19")


def test_northshire_membership(northshire):
    assert 9 <= northshire.n <= 10
    kinds = northshire.orgs["kind"].tolist()
    assert kinds.count("acute") == 2
    for kind in ("community", "mental_health", "ambulance", "specialist", "commissioner",
                 "local_authority", "primary_care"):
        assert kind in kinds, kind
    assert northshire.name == "Northshire and Vale" and northshire.year == "2018/19"


def test_northshire_reconciliation(northshire):
    rec = rs.reconcile(northshire)
    assert rec.amount("support") > 0
    # support inside the SCT (NSC and VGP are outside, and hold none):
    # NGH 12.3 + SVH 8.1 + NCH 0.55 + NVP 0.85 + RAS 1.0 + NCC 0.75 + CCG 6.0 = 29.55m
    assert rec.amount("support") == 29.55 * M
    assert rec.amount("sct") != rec.amount("sum_oct")
    # ΣOCT inside: 1.8 - 9.4 + 1.1 + 0.8 + 0.35 + 3.2 - 6.0 = -8.15m
    # SCT -4.5m against ΣOCT -8.15m: the members' targets fall -4.5 - (-8.15) = £3.65m short
    assert rec.amount("sct") == -4.5 * M
    assert rec.amount("sum_oct") == pytest.approx(-8.15 * M, abs=1e-6)
    assert rec.gap == pytest.approx(3.65 * M, abs=1e-6)
    assert len(rec.unrealistic) >= 2
    # NGH -13.4m on 512.4m turnover = -2.62%; VGP -0.53m on 27.6m = -1.92%
    # (the rest stay within 1%: CCG -5.8m on 1684m = -0.34%, SVH -1.3/368.9 = -0.35%,
    #  RAS -0.23/248.0 = -0.09%, NSC -2.9/436.5 = -0.66%)
    assert rec.unrealistic == ["NGH", "VGP"]
    assert rec.orgs.loc["NGH", "variance_pct"] == pytest.approx(-13.4 / 512.4 * 100)
    assert rec.orgs.loc["VGP", "variance_pct"] == pytest.approx(-0.53 / 27.6 * 100)
    flagged = [f for f in rec.flags if "looks unrealistic" in f]
    assert flagged[0].startswith("Northshire General Hospitals NHS Foundation Trust (NGH)")
    assert flagged[1].startswith("Vale GP Federation (VGP)")


def test_reconciliation_identities_hold_for_every_sample():
    for name in rs.list_samples():
        system = rs.load_sample(name)
        rec = rs.reconcile(system)
        a = rec.amount
        assert a("gap") == pytest.approx(a("sct") - a("sum_oct"))
        assert a("gap_incl_support") == pytest.approx(a("gap") - a("support"))
        assert a("variance_vs_sct") - a("variance_vs_oct") == pytest.approx(-a("gap"))
        # the statement covers the members inside the SCT only (docs/reconciliation.md)
        inside = system.inside
        assert rec.orgs["variance"][inside].sum() == pytest.approx(a("variance_vs_oct"))
        pd.testing.assert_index_equal(rec.orgs.index, system.members)

