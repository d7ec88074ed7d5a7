"""Redrawing the register on kept draws (the Risks page's fast rerun) gives exactly the
scenarios `rs.simulate(..., register=...)` gives; a reserve sized on them feeds the agreement's
[reserve]; the app's scenario settings draw the register only when asked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import riskshare as rs
from riskshare.core.register import register_from_frame
from riskshare.scenarios.simulate import ScenarioSettings


@pytest.fixture(scope="module")
def vale():
    system = rs.load_sample("vale_2025_26")
    return system, rs.load_sample_register("vale_2025_26")


@pytest.mark.parametrize("mode", ["add", "instead"])
@pytest.mark.parametrize("rho", [0.0, 0.4])
def test_with_register_equals_simulating_with_it(vale, mode, rho):
    system, register = vale
    whole = rs.simulate(system, 3_000, seed=5, register=register, register_mode=mode,
                        event_correlation=rho)
    later = rs.with_register(rs.simulate(system, 3_000, seed=5), register, mode, rho)
    np.testing.assert_array_equal(later.variances, whole.variances)
    np.testing.assert_array_equal(later.happens, whole.happens)
    assert later.describe() == whole.describe()


def test_a_new_probability_is_a_new_threshold_on_the_same_draws(vale):
    system, register = vale
    latents = rs.register_latents(system, register, 3_000, seed=8)
    frame = register.table.copy()
    frame.loc[0, "probability"] = 0.9 if frame.loc[0, "probability"] != 0.9 else 0.1
    changed = register_from_frame(frame, system)
    base = rs.simulate(system, 3_000, seed=8)
    quick = rs.with_register(base, changed, latents=latents)
    fresh = rs.simulate(system, 3_000, seed=8, register=changed)
    np.testing.assert_array_equal(quick.variances, fresh.variances)


def test_draws_of_another_register_are_refused(vale):
    system, register = vale
    latents = rs.register_latents(system, register, 100, seed=0)
    with pytest.raises(rs.UsageError, match="shape"):
        rs.with_register(rs.simulate(system, 200, seed=0), register, latents=latents)


def test_rank_events_needs_register_scenarios(vale):
    system, _ = vale
    with pytest.raises(rs.UsageError, match="no register"):
        rs.rank_events(system, rs.simulate(system, 100))


def _one_member():
    orgs = pd.DataFrame({"org_id": ["A", "B"], "name": ["A trust", "B trust"],
                         "kind": ["acute", "acute"], "turnover": [100e6, 100e6],
                         "control_total": [0.0, 0.0], "forecast": [0.0, 0.0]})
    return rs.System.from_frame(orgs, control_total=0.0, name="two")


def test_reserve_feeds_the_agreement():
    system = _one_member()
    # A: one risk of £4.0m at 50%, events alone: A's position is 0 or −4.0m, B's 0.
    register = register_from_frame(pd.DataFrame(
        {"org_id": ["A"], "item": ["Winter"], "type": ["risk"], "amount": [4_000_000],
         "probability": [0.5]}), system)
    sc = rs.simulate(system, 2_000, seed=1, register=register, register_mode="instead")
    sizing = rs.reserve_needed(system, sc, "standalone", levels=(0.4, 0.9))
    # at 90% the 10% quantile of the shortfall is a scenario with the risk: −4.0m ⇒ £4.0m;
    # at 40% the 60% quantile is one without it (about half are without) ⇒ £0
    assert sizing.amount(0.9) == 4_000_000.00
    assert sizing.amount(0.4) == 0.0
    # funded by basis: equal turnovers ⇒ £2.0m each; by contribution: all A's (B adds nothing)
    assert list(sizing.funding(0.9, "basis")) == [2_000_000.00, 2_000_000.00]
    assert list(sizing.funding(0.9, "contribution")) == [4_000_000.00, 0.0]
    agreement = sizing.with_reserve(0.9, "B")
    assert agreement.reserve == rs.agreements.spec.Reserve("B", 4_000_000.00)
    assert "reserve £4.00m (90%)" in agreement.name
    assert rs.load_agreement(agreement.to_toml()).reserve.amount == 4_000_000.00
    with pytest.raises(rs.ValidationError, match="not a member"):
        sizing.reserve(0.9, "Z")
    with pytest.raises(rs.ValidationError, match="was not sized"):
        sizing.amount(0.5)
    with pytest.raises(rs.ValidationError, match="must be one of"):
        sizing.funding(0.9, "turnover")


def test_settings_draw_the_register_only_when_asked(vale):
    system, register = vale
    plain = ScenarioSettings(n=500).simulate(system, register=register)
    assert plain.register is None
    on_top = ScenarioSettings(n=500, register="add").simulate(system, register=register)
    assert on_top.register is register
    np.testing.assert_array_equal(
        on_top.variances, rs.simulate(system, 500, register=register).variances)
    # no register given: the volatility alone, whatever the source says
    assert ScenarioSettings(n=500, register="instead").simulate(system).register is None


def test_sizing_again_after_the_reserve_is_put_in_gives_the_same_reserve(vale, monkeypatch):
    # Vale's council (VCC) is outside the SCT but shares in the pool: a reserve held inside
    # the SCT would spare it its share of the loss; the reserve is sized on the agreement
    # without a reserve of its own, so putting it in and sizing again changes nothing
    from riskshare.risks import reserve as reserve_module

    system, register = vale
    sc = rs.simulate(system, 2_000, seed=4, register=register)
    first = rs.reserve_needed(system, sc, "gain_loss_50_50_deadband")
    again = rs.reserve_needed(system, sc, first.with_reserve(0.9, "ICB"))
    assert list(again.levels["reserve"]) == list(first.levels["reserve"])
    assert again.agreement.reserve == rs.agreements.spec.Reserve("ICB", first.amount(0.9))
    # run in chunks of any size, the figures are the same
    monkeypatch.setattr(reserve_module, "CHUNK", 300)
    chunked = rs.reserve_needed(system, sc, "gain_loss_50_50_deadband")
    pd.testing.assert_frame_equal(chunked.levels, first.levels)
    pd.testing.assert_frame_equal(chunked.members, first.members)
