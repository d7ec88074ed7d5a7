"""Reserve sizing: the reserve at p is the (1 − p) quantile of the system shortfall, checked
against a sorted-array computation on the same scenarios; the contributions and both fundings
add up to it to the penny; a reserve that large does meet the SCT in a share p of scenarios."""

from __future__ import annotations

import math

import numpy as np
import pytest

import riskshare as rs
from riskshare.agreements import engine


@pytest.mark.parametrize("agreement", ["standalone", "gain_loss_50_50_deadband"])
def test_the_reserve_is_the_quantile_of_the_shortfall(agreement):
    system = rs.load_sample("northshire_2018_19")
    sc = rs.simulate(system, 4_000, seed=21)
    sizing = rs.reserve_needed(system, sc, agreement)
    # independently: the system's position against the SCT in each scenario, sorted; the
    # reserve at p lets all but ⌊(1 − p)·n⌋ scenarios meet the SCT
    x = np.sort(engine.run(rs.load_agreement(agreement), system, sc.variances).sct_variance)
    for p in (0.80, 0.90, 0.95):
        m = math.floor(round((1 - p) * 4_000, 6))          # 800, 400, 200
        expected = max(0.0, -x[m])
        assert sizing.levels.loc[p, "reserve"] == pytest.approx(expected, abs=0.005)
        assert sizing.levels.loc[p, "share_meeting_with"] >= p
        label = f"{round(p * 100)}"
        for col in ("contribution", "by_basis", "by_contribution"):
            total = round(float(sizing.members[f"{col}_{label}"].sum()), 2)
            assert total == round(sizing.levels.loc[p, "reserve"], 2), (p, col)
        outside = ~system.inside
        assert (sizing.members.loc[outside, f"by_basis_{label}"] == 0).all()
    # more certainty costs more
    assert list(sizing.levels["reserve"]) == sorted(sizing.levels["reserve"])


def test_levels_outside_0_1_are_refused():
    system = rs.load_sample("workshop_4")
    with pytest.raises(rs.ValidationError, match="strictly between 0 and 1"):
        rs.reserve_needed(system, rs.simulate(system, 100), levels=(0.9, 1.0))
