"""Properties of the years ahead over many random systems, rules and carries: the bridge adds up
to the plan to the penny; the carry conserves money (carried + written off = the position it
is carried from; carried = −(applied within the horizon + beyond it)); every year's sharing
conserves money; reordering the members changes nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import riskshare as rs

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
M = 1_000_000.0


@st.composite
def cases(draw):
    n = draw(st.integers(2, 5))
    turnover = [draw(st.integers(50, 900)) * M for _ in range(n)]
    forecast = [draw(st.integers(-400, 300)) * 0.1 * M for _ in range(n)]
    control = [draw(st.integers(-200, 200)) * 0.1 * M for _ in range(n)]
    one_offs = [draw(st.integers(0, 80)) * 0.1 * M for _ in range(n)]
    orgs = pd.DataFrame({"org_id": [f"M{i}" for i in range(n)],
                         "name": [f"Member {i}" for i in range(n)], "kind": "acute",
                         "turnover": turnover, "control_total": control, "forecast": forecast,
                         "nr_savings": one_offs,
                         "support": [draw(st.integers(0, 30)) * 0.1 * M for _ in range(n)]})
    system = rs.System.from_frame(orgs, None, "Random", "2025/26")
    rules = {"name": "random", "years": draw(st.integers(1, 4)),
             "all": {"savings": draw(st.integers(0, 40)) / 10,
                     "growth": draw(st.integers(0, 40)) / 10,
                     "cost_pressure": draw(st.integers(0, 50)) / 10,
                     "lines": {"support": {"change": draw(st.sampled_from(
                         ["keep", "halve", "withdraw"]))}}}}
    agreement = rs.load_agreement(draw(st.sampled_from(
        ["gain_loss_50_50_deadband", "full_pooling_turnover", "standalone"]))).to_dict()
    carry: dict = {"years": draw(st.integers(1, 3)),
                   "favourable": draw(st.sampled_from(["bank", "none"])),
                   "after_sharing": draw(st.booleans())}
    if draw(st.booleans()):
        carry["max_carry_amount"] = draw(st.integers(1, 60)) * 0.1 * M
    agreement["carry"] = carry
    return system, tomli_w.dumps(rules), tomli_w.dumps(agreement)


@FAST
@given(cases())
def test_the_bridge_adds_up_to_the_plan_to_the_penny(case):
    system, rules, _ = case
    p = rs.project(system, rules)
    t = p.table
    steps = list(p.bridge_columns[:-1])
    assert np.allclose(t[steps].sum(axis=1), t["planned"], atol=0.005)
    # the SYSTEM row adds up the members inside the SCT
    members = t.drop(index="SYSTEM", level="org_id")
    by_year = members.groupby(level="year")["planned"].sum()
    assert np.allclose(by_year.to_numpy(), p.of("SYSTEM")["planned"].to_numpy(), atol=0.01)


@FAST
@given(cases())
def test_the_carry_and_the_sharing_conserve_money(case):
    system, rules, agreement = case
    p = rs.project(system, rules, agreement=agreement)
    members = p.table.drop(index="SYSTEM", level="org_id")
    # each year: what is received net of what is pooled, and what caps left with nobody, add
    # up to nothing
    left = p.of("SYSTEM")["unallocated"]
    for year, rows in members.groupby(level="year"):
        assert abs(rows["net_transfer"].sum() + left.loc[year]) < 0.05
    # each carry: carried + written off = the position it was carried from, to the penny
    done = (members["carried"] + members["written_off"]).round(2)
    position = (members["outturn"] - members["control_total_carried"]).round(2) \
        if rs.load_agreement(agreement).carry.after_sharing else members["variance"].round(2)
    on = done != 0
    assert np.allclose(done[on], position[on], atol=0.011)
    c = p.carry
    assert np.allclose(c["carried"] + c["applied"] + c["beyond"], 0.0, atol=0.011)


@FAST
@given(cases())
def test_reordering_the_members_changes_nothing(case):
    system, rules, agreement = case
    reordered = system.replace(orgs=system.orgs.iloc[::-1])
    a = rs.project(system, rules, agreement=agreement)
    b = rs.project(reordered, rules, agreement=agreement)
    cols = ["planned", "final", "carry_in", "carried", "written_off"]
    pd.testing.assert_frame_equal(a.table[cols].sort_index(), b.table[cols].sort_index(),
                                  atol=0.011)
