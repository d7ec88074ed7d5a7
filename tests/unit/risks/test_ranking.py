"""Which mitigation matters most: each event's effect, on the same scenarios, on the system's
mean position and its chance of meeting the SCT."""

from __future__ import annotations

import math

import numpy as np
import pytest

import riskshare as rs
from riskshare.core.register import register_from_frame
from tests.unit.core.test_register import CASE, one

M = 1_000_000.0
N = 20_000


def test_each_event_moves_the_mean_by_its_amount_times_how_often_it_happened():
    # events alone; A's control total is the SCT's, so the system position is A's variance.
    # An event's effect on the mean is its signed amount × the share of scenarios it happened
    # in: within 5 standard errors of amount × p (SE = amount √(p(1 − p)/N))
    ranked = rs.rank_items(one(), register_from_frame(CASE, one()), n=N, seed=4,
                           register_mode="instead")
    assert len(ranked) == 5
    for _, r in ranked.iterrows():
        sign = -1 if r["type"] == "risk" else 1
        p = r["probability"]
        se = r["amount"] * math.sqrt(p * (1 - p) / N)
        assert abs(r["delta_mean"] - sign * r["amount"] * p) <= 5 * se + 0.01, r["event"]
        assert (r["delta_p_meet"] <= 0) if sign < 0 else (r["delta_p_meet"] >= 0)
    # the certain mitigation (1.5 @ 1.0) moves the mean by exactly +1.5
    certain = ranked.set_index("event").loc["A: Reserve release"]
    assert certain["delta_mean"] == 1.5 * M
    # largest effect on P(meet) first
    effects = ranked["delta_p_meet"].abs().to_numpy()
    assert np.all(effects[:-1] >= effects[1:])


def test_a_group_is_one_event():
    two = CASE.iloc[[0, 2]].assign(probability=0.5, group="winter")
    ranked = rs.rank_items(one(), register_from_frame(two, one()), n=2_000, seed=1,
                           register_mode="instead")
    assert ranked["event"].tolist() == ["group: winter"]
    assert ranked.loc[0, "amount"] == 9.0 * M


@pytest.mark.parametrize(("batch", "chunk"), [(200_000, 12_500), (700, 250)])
def test_only_the_scenarios_an_event_happens_in_are_run_again(monkeypatch, batch, chunk):
    # against the plain way: the engine run on every scenario with the event taken out, in year
    # (the quarterly agreement judged on each scenario's bridge) — stacked in batches of any size
    from riskshare.agreements import engine
    from riskshare.risks import ranking

    monkeypatch.setattr(ranking, "BATCH_ROWS", batch)
    monkeypatch.setattr(ranking, "CHUNK", chunk)          # 250: several chunks, on threads
    monkeypatch.setattr(ranking, "THREADS", 2)
    system = rs.load_sample("vale_2025_26")
    register = rs.load_sample_register("vale_2025_26")
    agreement = rs.load_agreement("deficit_support_2025_26")
    sc = rs.simulate(system, 600, seed=2, register=register, event_correlation=0.3,
                     monthly=rs.load_sample_monthly("vale_2025_26"), month=6)
    ranked = ranking.rank_events(system, sc, agreement).set_index("event")

    def position(v):
        return engine.run(agreement, system, v, path=sc.path, bridge=sc.bridge).sct_variance

    base = position(sc.variances)
    for label, happens, effect in zip(sc.event_set.labels, sc.happens, sc.event_set.effect,
                                      strict=True):
        without = position(sc.variances - happens[:, None] * effect[None, :])
        kind, name = label.split("\x1f", 1)
        shown = f"group: {name}" if kind == "group" else name.replace("\x1f", ": ")
        assert ranked.loc[shown, "delta_p_meet"] == (
            float((base >= -0.005).mean()) - float((without >= -0.005).mean()))
        assert ranked.loc[shown, "delta_mean"] == round(float(base.mean() - without.mean()), 2)
