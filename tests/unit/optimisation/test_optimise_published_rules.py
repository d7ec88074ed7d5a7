"""The optimiser models the published-rule support keys as the engine pays them: the surplus
reward (earned at breakeven or better), the incentive match (capped) and a system test that
transfers across the SCT boundary move. Figures worked by hand."""

from __future__ import annotations

import pandas as pd
import pytest

import riskshare as rs
from tests.agreement_texts import full_pooling

M = 1_000_000.0

INCENTIVE = full_pooling("Full pooling with an incentive match", test="organisation",
                         after_sharing=True, incentive_rate=1.0, incentive_cap=1.0)


def pair() -> rs.System:
    # A £2m ahead, B £2m behind: the pool is 0, and the optimiser chooses who ends where
    frame = pd.DataFrame({"org_id": ["A", "B"], "name": ["A", "B"], "kind": ["acute", "acute"],
                          "turnover": [100 * M, 300 * M], "control_total": [0.0, 0.0],
                          "forecast": [2 * M, -2 * M]})
    return rs.System.from_frame(frame, 0.0, "Pair", "")


def test_incentive_match_is_maximised_within_its_cap():
    # full pooling: the pool (+2 − 2 = 0) is split freely, so the positions x_A + x_B = 0.
    # The match is min(x_A⁺, 1% × £100m = £1m) + min(x_B⁺, 1% × £300m = £3m); only one member
    # can be above target, so the most is B at +£3m (A at −£3m): £3m.
    a = rs.optimise(pair(), INCENTIVE, objective="max_support_earned")
    assert a.value == pytest.approx(3 * M, abs=0.01)
    assert a.model_value == pytest.approx(a.value, abs=0.01)
    assert a.table.loc["B", "support_earned"] == pytest.approx(3 * M, abs=0.01)


def test_the_frf_preset_optimum_is_what_the_engine_pays_on_northshire():
    # deficit support SVH 8.1 + CCG 6.0 = 14.1m; surplus reward 0.5% of the surplus members'
    # turnover inside the SCT: (512.4 + 142.6 + 214.3 + 248.0 + 187.2) × 0.5% = 6.5225m;
    # all of it can be earned (the pool can lift every member): £20.6225m
    a = rs.optimise(rs.load_sample("northshire_2018_19"), "system_support_taper_2020_21",
                    objective="max_support_earned")
    assert a.value == pytest.approx(20_622_500.0, abs=0.05)
    assert a.model_value == pytest.approx(a.value, abs=0.05)
