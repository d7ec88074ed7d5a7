"""The risk register drawn as events in simulation: the worked case's mean and outcome
probabilities, groups that happen together, the switch between adding to the volatility and
drawing the events alone, and order invariance. Tolerances come from the standard error."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

import riskshare as rs
from riskshare.core.register import register_from_frame
from tests.unit.core.test_register import CASE, one

M = 1_000_000.0
N = 100_000


def test_the_worked_case_mean_and_every_outcome_probability():
    # events alone (no volatility): A's variance is −(risks that happen) + (mitigations that
    # happen) against its control total −5.0 = its forecast, so the mean outturn is the
    # risk-adjusted −7.2. sd = √Σ a²p(1 − p) = √(36·0.25 + 4·0.1875 + 9·0.24 + 0 + 4·0.25)
    # = √12.91 = £3.593m; the standard error over 100,000 scenarios is £0.0114m: within 5 SE.
    sc = rs.simulate(one(), N, seed=11, register=register_from_frame(CASE, one()),
                     register_mode="instead")
    outturn = sc.variances[:, 0] - 5 * M
    se = math.sqrt(12.91) * M / math.sqrt(N)
    assert abs(outturn.mean() - (-7.2 * M)) < 5 * se
    assert np.all(sc.variances[:, 1] == 0.0)               # B has no items and no volatility
    # every one of the 2⁵ outcomes (which items happen) has the product of its items'
    # probabilities; the mitigation of 1.5 @ 1.0 always happens, so half of them never do
    amounts = [-6, -2, -3, 1.5, 2]
    chances = [0.5, 0.25, 0.4, 1.0, 0.5]
    drawn = pd.Series(np.round(sc.variances[:, 0] / M, 2)).value_counts() / N
    expected: dict[float, float] = {}
    for hap in itertools.product([0, 1], repeat=5):
        value = round(sum(a for a, h in zip(amounts, hap, strict=True) if h), 2)
        p = math.prod(c if h else 1 - c for c, h in zip(chances, hap, strict=True))
        expected[value] = expected.get(value, 0.0) + p
    support = {v for v, p in expected.items() if p > 0}
    assert set(drawn.index) == support                      # only outcomes that can happen
    for value, p in expected.items():
        if p > 0:                                           # binomial SE, 5 of them
            assert abs(drawn[value] - p) < 5 * math.sqrt(p * (1 - p) / N), value


def test_items_in_one_group_happen_together():
    # winter pressure (6.0) and the CIP slippage (3.0) in one group at 0.5: both or neither,
    # so the outcomes are 0 and −9.0, each half the time
    two = CASE.iloc[[0, 2]].assign(probability=0.5, group="winter")
    sc = rs.simulate(one(), N, seed=3, register=register_from_frame(two, one()),
                     register_mode="instead")
    values = set(np.round(sc.variances[:, 0] / M, 2))
    assert values == {0.0, -9.0}
    share = float((sc.variances[:, 0] < 0).mean())
    assert abs(share - 0.5) < 5 * math.sqrt(0.25 / N)


def test_on_top_of_the_volatility_the_events_are_added_to_the_same_draws():
    register = register_from_frame(CASE, one())
    plain = rs.simulate(one(), 2_000, seed=5)
    both = rs.simulate(one(), 2_000, seed=5, register=register)
    assert both.events is not None
    np.testing.assert_array_equal(both.variances, plain.variances + both.events)
    assert "5 register items drawn as events on top of the volatility" in both.describe()


def test_the_register_order_changes_no_draw():
    a = rs.simulate(one(), 5_000, seed=9, register=register_from_frame(CASE, one()))
    b = rs.simulate(one(), 5_000, seed=9, register=register_from_frame(CASE.iloc[::-1], one()))
    np.testing.assert_array_equal(a.variances, b.variances)


def test_correlated_events_keep_their_own_probabilities_and_come_together():
    two = CASE.iloc[[0, 4]].assign(probability=0.5)         # a risk and a mitigation at 0.5
    register = register_from_frame(two, one())
    sc = rs.simulate(one(), N, seed=1, register=register, register_mode="instead",
                     event_correlation=0.8)
    v = np.round(sc.variances[:, 0] / M, 2)
    risk = np.isin(v, [-6.0, -4.0])                          # the risk happened
    mitigation = np.isin(v, [2.0, -4.0])                     # the mitigation happened
    assert abs(risk.mean() - 0.5) < 5 * math.sqrt(0.25 / N)
    assert abs(mitigation.mean() - 0.5) < 5 * math.sqrt(0.25 / N)
    assert (risk & mitigation).mean() > 0.25 + 10 * math.sqrt(0.25 * 0.75 / N)


@pytest.mark.parametrize(("kw", "key"), [({"register_mode": "both"}, "register_mode"),
                                         ({"event_correlation": 1.5}, "event_correlation")])
def test_bad_register_settings_are_refused(kw, key):
    with pytest.raises(rs.ValidationError, match=key):
        rs.simulate(one(), 100, register=register_from_frame(CASE, one()), **kw)
