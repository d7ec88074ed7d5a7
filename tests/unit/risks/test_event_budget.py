"""A register's events count towards the simulation's memory budget: each event keeps its draw
and where it happens for every scenario, so a huge register × many scenarios is refused at
once, with the largest number of scenarios that fits, before anything is drawn."""

from __future__ import annotations

import pandas as pd
import pytest

import riskshare as rs
from riskshare.core.register import register_from_frame
from riskshare.scenarios import events as events_module
from tests.unit.core.test_register import one


def big_register(items: int, group: str = ""):
    """`items` risks of £1,000 at 10% for member A, each its own event (or all one group)."""
    frame = pd.DataFrame({"org_id": "A", "item": [f"Risk {k}" for k in range(items)],
                          "type": "risk", "amount": 1_000.0, "probability": 0.1,
                          "group": group})
    return register_from_frame(frame, one())


@pytest.fixture
def no_drawing(monkeypatch):
    """The default 2 GB budget, and a failure if any event were drawn."""
    monkeypatch.delenv("RISKSHARE_MEMORY_BUDGET", raising=False)

    def refuse(*args, **kwargs):
        raise AssertionError("the events were drawn before the budget was checked")

    monkeypatch.setattr(events_module, "event_latents", refuse)


def test_a_huge_register_times_many_scenarios_is_refused_before_drawing(no_drawing):
    register = big_register(1_000)
    # per scenario: 2 members × (48 + 16) bytes + 1,000 events × 5 bytes = 128 + 5,000 = 5,128;
    # 1,000,000 scenarios need 5,128,000,000 bytes = 4.8 GB, above the 2 GB budget
    # (2,147,483,648 bytes), which fits 2,147,483,648 ÷ 5,128 = 418,776 scenarios (rounded down).
    # The members alone (1,000,000 × 2 × 48 = 96 MB) would fit.
    with pytest.raises(rs.ValidationError) as caught:
        rs.simulate(one(), 1_000_000, register=register)
    text = str(caught.value)
    assert ("1,000,000 scenarios × 2 members and 1,000 risk register events would need about "
            "4.8 GB of memory, above riskshare's budget of 2.0 GB: use at most 418,776 "
            "scenarios for this system and register, or a register of fewer events") in text
    assert "RISKSHARE_MEMORY_BUDGET" in text
    assert [p.column for p in caught.value.problems] == ["n"]      # one problem, on n
    # the events' draws kept for the Risks page are held to the same budget
    with pytest.raises(rs.ValidationError, match="418,776 scenarios"):
        rs.register_latents(one(), register, 1_000_000)


def test_the_same_register_fits_with_fewer_scenarios_or_as_one_group(no_drawing, monkeypatch):
    from riskshare.scenarios.simulate import size_problem

    # 418,776 scenarios fit exactly (418,776 × 5,128 = 2,147,483,328 ≤ 2,147,483,648), one
    # more does not
    assert size_problem(418_776, 2, events=1_000) is None
    assert size_problem(418_777, 2, events=1_000) is not None
    # one group is one event: 1,000,000 × (128 + 5) = 133 MB fits
    grouped = big_register(1_000, group="all together")
    monkeypatch.undo()                       # drawing allowed again: draw a few
    sc = rs.simulate(one(), 1_000, seed=1, register=grouped, register_mode="instead")
    # all 1,000 risks of £1,000 happen together: 0 or −£1.0m
    assert set(sc.variances[:, 0].round(2)) <= {0.0, -1_000_000.0}
