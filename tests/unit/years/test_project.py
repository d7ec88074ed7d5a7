"""The years ahead: the projection's bridge, the agreement's carry over the years and capital
consequences, each reproducing a worked case whose figures were worked by hand (the issue's
worked cases; docs/years.md), and the properties a finance director relies on (no rules: the
underlying position held; money conserved across the years; reordering members changes
nothing; every rules problem named by key)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import riskshare as rs
from riskshare.years.capital import capital_for
from riskshare.years.rules import Capital

M = 1_000_000.0


def one(forecast=-5 * M, control_total=0.0, turnover=500 * M, **columns) -> rs.System:
    orgs = pd.DataFrame({"org_id": ["A"], "name": ["Trust A"], "kind": ["acute"],
                         "turnover": [turnover], "control_total": [control_total],
                         "forecast": [forecast], **{k: [v] for k, v in columns.items()}})
    return rs.System.from_frame(orgs, None, "One", "2025/26")


def two(forecasts=(-6 * M, 1 * M), turnovers=(500 * M, 300 * M), **columns) -> rs.System:
    orgs = pd.DataFrame({"org_id": ["A", "B"], "name": ["Trust A", "Trust B"],
                         "kind": ["acute", "community"], "turnover": list(turnovers),
                         "control_total": [0.0, 0.0], "forecast": list(forecasts), **columns})
    return rs.System.from_frame(orgs, None, "Two", "2025/26")


WORKED_RULES = """
name = "The worked case"
years = 1
[members.A]
savings_amount = 15_000_000
repay = { amount = "deficit", over = 1 }
[members.A.lines.nr_support]
change = "halve"
"""


def test_the_worked_bridge():
    # Reported −5.0 including 20.0 of deficit support and 12.0 of non-recurrent savings:
    # underlying −5.0 − 32.0 = −37.0. Next year support halved (+10.0), the 5.0 overspend repaid
    # (−5.0), recurrent savings +15.0: −37.0 + 10.0 − 5.0 + 15.0 = −17.0.
    system = one(nr_support=20 * M, nr_savings=12 * M)
    p = rs.project(system, WORKED_RULES)
    a = p.of("A").loc[1]
    assert a["opening"] == -37 * M
    assert (a["nr_support"], a["nr_savings"]) == (10 * M, 0.0)      # savings were one-off
    assert (a["repayment"], a["savings"]) == (-5 * M, 15 * M)
    assert a["planned"] == -17 * M
    # the recurrent position next year: −37.0 + 15.0 = −22.0 (support and repayment are not)
    assert a["recurrent_position"] == -22 * M
    bridge = p.bridge("A")
    steps = bridge[bridge["amount"] != 0]
    assert list(zip(steps["step"], steps["amount"], strict=True)) == [
        ("opening", -37 * M), ("nr_support", 10 * M), ("repayment", -5 * M),
        ("savings", 15 * M), ("planned", -17 * M)]
    assert p.labels == ("2026/27",)
    assert p.sentences()[0] == ("From an underlying position of -£37.00m, the system plans "
                                "-£17.00m in 2026/27 (£17.00m short of the SCT).")


def test_no_rules_one_year_reproduces_the_underlying_position():
    # without rules every one-off is gone and nothing else moves: planned = underlying
    system = two(nr_savings=[2.5 * M, 0.0], nr_income=[0.0, 0.4 * M])
    p = rs.project(system, years=1)
    u = rs.underlying(system).table
    for m in ("A", "B", "SYSTEM"):
        assert p.of(m).loc[1, "planned"] == u.loc[m, "underlying"]
    # −6.0 − 2.5 = −8.5 and 1.0 − 0.4 = 0.6: the system −7.9
    assert p.of("SYSTEM").loc[1, "planned"] == -7.9 * M


def test_growth_pressure_and_savings_compound_from_income_and_cost():
    # turnover 100.0, underlying −10.0: income 100.0, cost 110.0. Year 1: growth 2% of 100.0 =
    # +2.0, pressure 3% of 110.0 = −3.3, savings 1% of 110.0 = +1.1 ⇒ −10.2. Year 2: income
    # 102.0 (growth +2.04), cost 110.0 + 3.3 − 1.1 = 112.2 (pressure −3.366, savings +1.122)
    # ⇒ −10.2 + 2.04 − 3.366 + 1.122 = −10.404
    system = one(forecast=-10 * M, turnover=100 * M)
    rules = 'name = "r"\nyears = 2\n[all]\ngrowth = 2.0\ncost_pressure = 3.0\nsavings = 1.0\n'
    a = rs.project(system, rules).of("A")
    assert (a.loc[1, "growth"], a.loc[1, "cost_pressure"], a.loc[1, "savings"]) == (
        2 * M, -3.3 * M, 1.1 * M)
    assert a.loc[1, "planned"] == -10.2 * M
    assert (a.loc[2, "growth"], a.loc[2, "cost_pressure"], a.loc[2, "savings"]) == (
        2.04 * M, -3.366 * M, 1.122 * M)
    assert a.loc[2, "opening"] == -10.2 * M and a.loc[2, "planned"] == -10.404 * M


def test_a_taper_a_list_and_a_repayment_over_years_split_to_the_penny():
    # support 9.0 tapered over 3 years: 6.0, 3.0, 0.0; a 10.00 deficit repaid over 3 years:
    # 3.33, 3.33, 3.34 (the last part takes what rounding leaves)
    system = one(forecast=-10 * M, nr_support=9 * M)
    rules = ('name = "r"\nyears = 4\n[all]\nrepay = { amount = "deficit", over = 3 }\n'
             '[all.lines.nr_support]\nchange = "taper"\nover = 3\n')
    a = rs.project(system, rules).of("A")
    assert list(a["nr_support"]) == [6 * M, 3 * M, 0.0, 0.0]
    assert list(a["repayment"]) == [-3_333_333.33, -3_333_333.33, -3_333_333.34, 0.0]
    assert a["repayment"].sum() == pytest.approx(-10 * M, abs=1e-6)


def test_support_at_stake_changes_by_the_support_line_and_is_not_in_the_plan():
    system = one(forecast=-4 * M, support=8 * M)
    rules = 'name = "r"\nyears = 3\n[all.lines.support]\npaid = [1.0, 0.5]\n'
    a = rs.project(system, rules).of("A")
    assert list(a["support"]) == [8 * M, 4 * M, 4 * M]          # the last share repeats
    assert list(a["planned"]) == [-4 * M] * 3


CARRY = 'name = "carry"\n[carry]\nyears = 2\n'
# A: underlying −6.0, then savings of 9.0 in year 2 only: planned −6.0, +3.0, +3.0 — it repays
RECOVERY = ('name = "recovery"\nyears = 3\n[members.A]\n'
            'savings_amount = [0.0, 9_000_000, 0.0]\n')


def test_the_worked_carry_forward():
    # A is 6.0 adverse to its control total (0.0) in year 1, repaid over two years: its control
    # totals in years 2 and 3 rise by 3.0 each; it meets them (+3.0), so nothing more carries
    p = rs.project(two(), RECOVERY, agreement=CARRY)
    a = p.of("A")
    assert list(a["carry_in"]) == [0.0, 3 * M, 3 * M]
    assert list(a["control_total_carried"]) == [0.0, 3 * M, 3 * M]
    assert list(a["carried"]) == [-6 * M, 0.0, 0.0]
    assert list(a["written_off"]) == [0.0, 0.0, 0.0]
    c = p.carry.loc["A"]
    assert (c["carried"], c["written_off"], c["applied"], c["beyond"]) == (-6 * M, 0.0, 6 * M,
                                                                            0.0)


def test_the_worked_carry_forward_with_a_cap():
    # with a £4.0m cap: 4.0 carried (2.0 in each of years 2 and 3) and 2.0 written off to the
    # pool; 4.0 + 2.0 = 6.0 to the penny. In years 2 and 3 A is 1.0 better than its raised
    # control total (3.0 − 2.0), which is not banked.
    p = rs.project(two(), RECOVERY, agreement=CARRY + "max_carry_amount = 4_000_000\n")
    a = p.of("A")
    assert list(a["carry_in"]) == [0.0, 2 * M, 2 * M]
    assert (a.loc[1, "carried"], a.loc[1, "written_off"]) == (-4 * M, -2 * M)
    assert list(a.loc[[2, 3], "variance"]) == [1 * M, 1 * M]
    system_row = p.of("SYSTEM").loc[1]
    assert (system_row["carried"], system_row["written_off"]) == (-4 * M, -2 * M)


def test_banking_a_surplus_eases_later_control_totals():
    # B is 1.0 favourable each year, banked into the next year, capped at 0.4% of 300.0 = 1.2.
    # Year 1: 1.0 banked ⇒ year 2's control total eased to −1.0, B's variance 1.0 + 1.0 = 2.0:
    # 1.2 banked, 0.8 written off ⇒ year 3 eased to −1.2, variance 2.2: 1.2 banked (beyond
    # the horizon), 1.0 written off. Carried 1.0 + 1.2 + 1.2 = 3.4 = −(applied −2.2 + beyond −1.2)
    agreement = 'name = "bank"\n[carry]\nadverse = "none"\nfavourable = "bank"\nmax_carry = 0.4\n'
    p = rs.project(two(), None, years=3, agreement=agreement)
    b = p.of("B")
    assert list(b["carry_in"]) == [0.0, -1 * M, -1.2 * M]
    assert list(b["variance"]) == [1 * M, 2 * M, 2.2 * M]
    assert list(b["carried"]) == [1 * M, 1.2 * M, 1.2 * M]
    assert list(b["written_off"]) == [0.0, 0.8 * M, 1 * M]
    c = p.carry.loc["B"]
    assert (c["carried"], c["applied"], c["beyond"]) == (3.4 * M, -2.2 * M, -1.2 * M)
    assert (p.of("A")["carry_in"] == 0.0).all()           # A's shortfall is not carried


def test_money_is_conserved_across_the_years_with_sharing_and_carry():
    system = rs.load_sample("vale_2025_26")
    agreement = rs.load_agreement("gain_loss_50_50_deadband").to_dict()
    agreement["carry"] = {"years": 2, "favourable": "bank", "max_carry": 0.5}
    import tomli_w
    p = rs.project(system, "vale_2025_26", agreement=tomli_w.dumps(agreement))
    t = p.table.drop(index="SYSTEM", level="org_id")
    for _, rows in t.groupby(level="year"):
        # every year: Σ net transfer = 0 (no caps on distribution leave anything unallocated)
        assert abs(rows["net_transfer"].sum()) < 0.05
        # each member's outturn is its planned position plus what it received net
        assert np.allclose(rows["outturn"], rows["planned"] + rows["net_transfer"], atol=0.01)
    carry = p.carry
    # what was carried is what was applied in the horizon plus what falls beyond it
    assert np.allclose(carry["carried"] + carry["applied"] + carry["beyond"], 0.0, atol=0.01)
    positions = (t["final"] - t["support_earned"] - t["control_total_carried"])
    carried_from = t["carried"] + t["written_off"]
    on = carried_from != 0
    assert np.allclose(carried_from[on], positions[on], atol=0.01)


def test_reordering_members_changes_nothing():
    system = rs.load_sample("northshire_2018_19")
    reordered = system.replace(orgs=system.orgs.iloc[::-1])
    a = rs.project(system, "northshire_2018_19", agreement="gain_loss_50_50_deadband")
    b = rs.project(reordered, "northshire_2018_19", agreement="gain_loss_50_50_deadband")
    cols = ["planned", "final", "net_transfer", "support_earned"]
    pd.testing.assert_frame_equal(a.table[cols].sort_index(), b.table[cols].sort_index())
    pd.testing.assert_frame_equal(a.participation.sort_index(), b.participation.sort_index())


def test_the_worked_capital_cases():
    # envelope 80.0, £1 per £1 of planned deficit capped at 10% (8.0):
    # −6.0 ⇒ 80.0 − 6.0 = 74.0; −12.0 ⇒ 80.0 − 8.0 = 72.0; breakeven with 30% of the gap to a fair
    # share of 90.0 (10.0) ⇒ 80.0 + 3.0 = 83.0
    rule = Capital(80 * M, 90 * M, penalty_rate=1.0, penalty_cap=10.0, bonus_share=30.0)
    out = capital_for(rule, np.array([-6 * M, -12 * M, 0.0]), 80 * M, 90 * M)
    assert list(out["capital"]) == [74 * M, 72 * M, 83 * M]
    assert list(out["penalty"]) == [6 * M, 8 * M, 0.0]
    assert list(out["bonus"]) == [0.0, 0.0, 3 * M]


def test_capital_follows_each_year_plan_with_the_2024_25_preset():
    # the preset's published parameters: bonus 30% of the gap, cap 10%; assumed £1 per £1
    rules = ('name = "r"\nyears = 2\n[members.A]\nsavings_amount = [0.0, 6_000_000]\n'
             '[capital]\npreset = "nhs_2024_25"\nenvelope = 80_000_000\n'
             'fair_share = 90_000_000\n')
    p = rs.project(one(forecast=-6 * M), rules)
    capital = p.capital.xs("SYSTEM", level="org_id")
    # year 1 plan −6.0 ⇒ 74.0; year 2 plan 0.0 (breakeven) ⇒ 83.0
    assert list(capital["planned_position"]) == [-6 * M, 0.0]
    assert list(capital["capital"]) == [74 * M, 83 * M]
    assert "Assumed" in rs.years.rules.capital_preset_notes("nhs_2024_25")


def test_participation_over_the_horizon_is_discounted():
    # full pooling by turnover of A (−6.0, 500) and B (+1.0, 300) each year: the net pool −5.0
    # goes 5/8 to A (−3.125) and 3/8 to B (−1.875). A's final −3.125, alone −6.0; B's −1.875,
    # alone +1.0. Over two years at 3.5%: d = 1/1.035 + 1/1.035² = 0.966184 + 0.933511 = 1.899694
    p = rs.project(two(), None, years=2, agreement="full_pooling_turnover")
    d = 1 / 1.035 + 1 / 1.035 ** 2
    part = p.participation
    assert part.loc["A", "discounted_final"] == pytest.approx(round(-3.125 * M * d, 2), abs=0.01)
    assert part.loc["B", "vs_standalone"] == pytest.approx(round(-2.875 * M * d, 2), abs=0.01)
    assert p.better_off_outside() == ["B"]


def test_scenarios_persist_shocks_and_keep_the_plan_as_their_mean():
    system = rs.load_sample("vale_2025_26")
    register = rs.load_sample_register("vale_2025_26")
    scenarios = rs.simulate(system, 4000, seed=3, register=register)
    p = rs.project(system, "vale_2025_26", register=register, scenarios=scenarios)
    r = p.risk.xs("SYSTEM", level="org_id")
    planned = p.of("SYSTEM")["planned"]
    # shocks persist: the spread grows year on year (a random walk, sd ∝ √t for the volatility)
    assert r["sd_position"].is_monotonic_increasing
    for year in (1, 2, 3):
        se = r.loc[year, "sd_position"] / np.sqrt(4000)
        assert abs(r.loc[year, "mean_position"] - planned.loc[year]) < 5 * se
    # volatility alone: independent yearly shocks that persist, so year t's spread is √t times
    # year 1's (√3 = 1.732; the sample ratio within 5% at 4,000 scenarios)
    alone = rs.project(system, "vale_2025_26", scenarios=rs.simulate(system, 4000, seed=3))
    sd = alone.risk.xs("SYSTEM", level="org_id")["sd_position"]
    assert sd.loc[3] / sd.loc[1] == pytest.approx(np.sqrt(3), rel=0.05)


def test_the_same_seed_gives_the_same_years():
    system = rs.load_sample("northshire_2018_19")
    s = rs.simulate(system, 500, seed=7)
    a = rs.project(system, "northshire_2018_19", agreement="gain_loss_50_50_deadband",
                   scenarios=s)
    b = rs.project(system, "northshire_2018_19", agreement="gain_loss_50_50_deadband",
                   scenarios=s)
    pd.testing.assert_frame_equal(a.risk, b.risk)
    pd.testing.assert_frame_equal(a.horizon_risk, b.horizon_risk)


@pytest.mark.parametrize(("text", "key", "words"), [
    ('name = "r"\nyears = 11\n', "years", "from 1 to 10"),
    ('name = "r"\n[all]\nsavings = -1\n', "all.savings", "at least 0"),
    ('name = "r"\n[all]\nsavings = 2\nsavings_amount = 5\n', "all.savings_amount", "not both"),
    ('name = "r"\n[all]\ngrowth = "3%"\n', "all.growth", "finite number"),
    ('name = "r"\n[all]\nsavngs = 2\n', "all.savngs", "unknown key"),
    ('name = "r"\n[all.lines.nr_support]\nchange = "halved"\n', "all.lines.nr_support.change",
     "keep, halve, withdraw, taper"),
    ('name = "r"\n[all.lines.nr_support]\nchange = "taper"\n', "all.lines.nr_support.over",
     "needs 'over'"),
    ('name = "r"\n[all.lines.support]\npaid = [0.5, 1.5]\n', "all.lines.support.paid[2]",
     "[0, 1]"),
    ('name = "r"\n[all.lines.turnover]\nchange = "keep"\n', "all.lines.turnover", "nr_"),
    ('name = "r"\n[members.ZZZ]\nsavings = 1\n', "members.ZZZ", "not a member"),
    ('name = "r"\n[all.lines.nr_support]\nchange = "keep"\n', "all.lines.nr_support",
     "not a one-off line"),
    ('name = "r"\n[capital]\npreset = "nhs_2099"\nenvelope = 1\n', "capital.preset",
     "capital preset"),
    ('name = "r"\n[capital]\nfair_share = 1\n', "capital.envelope", "needs the capital envelope"),
    ('name = "r"\n[capital]\nenvelope = "capital"\n', "capital.envelope", "not a numeric column"),
    ('name = "r"\n[members.A]\nrepay = { amount = -1 }\n', "members.A.repay.amount",
     "at least 0"),
    ('years = 2\n', "name", "non-empty 'name'"),
])
def test_every_rules_problem_is_named_by_key(text, key, words):
    with pytest.raises(rs.ValidationError) as caught:
        rs.project(one(nr_savings=1 * M), text)
    message = str(caught.value)
    assert f"'{key}'" in message and words in message, message


def test_all_problems_are_reported_at_once():
    text = 'name = "r"\nyears = 0\n[all]\nsavings = -1\ngrowth = 1e9\n[members.Q]\nsavings = 1\n'
    with pytest.raises(rs.ValidationError) as caught:
        rs.load_rules(text, one())
    assert len(caught.value.problems) == 4


def test_rules_read_back_from_their_toml():
    rules = rs.load_rules("vale_2025_26")
    assert rs.load_rules(rules.to_toml()) == rules
    assert rs.list_rules() == ["northshire_2018_19", "vale_2025_26"]


def test_a_carry_reads_back_and_is_described():
    from riskshare.agreements.describe import explain

    a = rs.load_agreement(CARRY + "max_carry_amount = 4_000_000\n")
    assert rs.load_agreement(a.to_toml()) == a
    assert explain(a)[-1] == (
        "Over the years ahead, a shortfall against the control total is repaid through the next "
        "2 years' control totals in equal parts, at most £4.00m carried from any one year (the "
        "rest written off to the pool), judged after the risk share.")
    with pytest.raises(rs.ValidationError) as caught:
        rs.load_agreement('name = "x"\n[carry]\nyears = 0\nadverse = "pay"\n')
    assert "'carry.years'" in str(caught.value) and "'carry.adverse'" in str(caught.value)


def test_a_turnover_in_the_wrong_unit_is_named_not_run():
    # turnover 10.0 (£m typed as £?) with a surplus of 50.0: cost 10.0 − 50.0 < 0
    system = one(forecast=50 * M, turnover=10 * M)
    with pytest.raises(rs.ValidationError) as caught:
        rs.project(system, 'name = "r"\n[all]\nsavings = 10\ncost_pressure = 5\n')
    message = str(caught.value)
    assert "A" in message and "column 'turnover'" in message and "is its turnover in £" in message
    # with savings in £ and no cost pressure there is nothing to take a % of: it runs
    assert rs.project(system, 'name = "r"\n[all]\nsavings_amount = 1_000_000\n').of(
        "A").loc[1, "planned"] == 51 * M


@pytest.mark.parametrize("first", ["2030-31", "FY27", "2026/28", "<b>x</b>"])
def test_a_first_year_that_is_not_one_is_refused(first):
    with pytest.raises(rs.ValidationError, match="'first_year'"):
        rs.load_rules(f'name = "r"\nfirst_year = "{first}"\n')
    assert rs.load_rules('name = "r"\nfirst_year = "2030/31"\n').first_year == "2030/31"


def test_bad_arguments_get_one_clear_message():
    with pytest.raises(rs.ValidationError, match="years"):
        rs.project(one(), years=0)
    with pytest.raises(rs.ArgumentTypeError, match="register must be a Register"):
        rs.project(one(), register="risks.csv")
    with pytest.raises(rs.ArgumentTypeError, match="scenarios must be Scenarios"):
        rs.project(one(), scenarios=100)
    other = rs.simulate(two(), 10, seed=0)
    with pytest.raises(rs.UsageError, match="another system"):
        rs.project(one(), scenarios=other)


def test_blocks_and_threads_change_nothing(monkeypatch):
    # the scenarios run in blocks on threads: one block on one thread gives the same figures
    import importlib

    module = importlib.import_module("riskshare.years.project")
    system = rs.load_sample("vale_2025_26")
    scenarios = rs.simulate(system, 3000, seed=5)
    args = dict(agreement="gain_loss_50_50_deadband", scenarios=scenarios)
    blocked = rs.project(system, "vale_2025_26", **args)
    monkeypatch.setattr(module, "CHUNK_CELLS", 10**9)
    monkeypatch.setattr(module, "THREADS", 1)
    whole = rs.project(system, "vale_2025_26", **args)
    pd.testing.assert_frame_equal(blocked.risk, whole.risk, rtol=1e-9)
    pd.testing.assert_frame_equal(blocked.horizon_risk, whole.horizon_risk, rtol=1e-9)


def test_a_runaway_horizon_is_refused_at_once(monkeypatch):
    system = rs.load_sample("vale_2025_26")
    scenarios = rs.simulate(system, 60_000, seed=0)
    # 10 years (+ 9 working arrays) × 60,000 scenarios × 8 members × 8 bytes ≈ 70 MB > 20 MB;
    # what fits: 20 × 1024² B / (19 × 8 × 8 B) = 17,246.3 ⇒ 17,246 scenarios
    monkeypatch.setenv("RISKSHARE_MEMORY_BUDGET", "20MB")
    with pytest.raises(rs.BudgetError, match="use at most 17,246 scenarios"):
        rs.project(system, "vale_2025_26", years=10, scenarios=scenarios)


def test_a_repayment_not_met_rolls_forward_and_is_told_apart():
    # A plans −6.0 each year (no recovery), repaid over two years: year 2's control total rises
    # by 3.0, A is 9.0 short of it: 9.0 carried, of which 3.0 is year 1's repayment not made
    # (rolled) and 6.0 its own shortfall (new). Over two years: carried 6.0 + 9.0 = 15.0,
    # new 12.0, rolled 3.0; applied 3.0 (year 2), beyond 3.0 + 4.5 + 4.5 = 12.0
    p = rs.project(two(), None, years=2, agreement=CARRY)
    a = p.of("A")
    assert list(a["carry_in"]) == [0.0, 3 * M]
    assert list(a["carried"]) == [-6 * M, -9 * M]
    assert list(a["rolled"]) == [0.0, -3 * M]
    c = p.carry.loc["A"]
    assert (c["carried"], c["new"], c["rolled"]) == (-15 * M, -12 * M, -3 * M)
    assert (c["applied"], c["beyond"]) == (3 * M, 12 * M)
    assert ("Carried into later control totals over the 2 years: -£12.00m of the members' own "
            "positions and -£3.00m of earlier carries not met") in " ".join(p.sentences())
