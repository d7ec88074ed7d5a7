"""The register's events are drawn on several threads when the work is large (each event's own
stream into its own row, each member's sum added up in the register's order), so the scenarios
are the same, to the bit, on one thread as on several."""

from __future__ import annotations

import numpy as np
import pytest

import riskshare as rs
from riskshare.scenarios import simulate as sim


@pytest.mark.parametrize("rho", [0.0, 0.3])
def test_one_thread_or_several_give_the_same_scenarios(monkeypatch, rho):
    system = rs.load_sample("vale_2025_26")
    register = rs.load_sample_register("vale_2025_26")
    # 13 events (15 items, three of them one group) × 100,000 scenarios: 1.3 million draws,
    # above the million at which the work is shared between threads
    runs = []
    for threads in (1, 2, 4):
        monkeypatch.setattr(sim, "THREADS", threads)
        runs.append(rs.simulate(system, 100_000, seed=4, register=register,
                                event_correlation=rho))
    assert runs[0].happens is not None and runs[0].happens.shape == (13, 100_000)
    for other in runs[1:]:
        np.testing.assert_array_equal(other.variances, runs[0].variances)
        np.testing.assert_array_equal(other.happens, runs[0].happens)
        np.testing.assert_array_equal(other.events, runs[0].events)
