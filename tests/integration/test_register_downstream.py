"""Everything downstream works unchanged on scenarios drawn from the risk register: the risk
table, compare, fairness (the participation certificate), the optimiser on scenarios and the
in-year fan. Each is checked against the same computation on the variances themselves, so
the register enters only through the scenarios. (The optimiser works on the forecast, not on
scenarios.)"""

from __future__ import annotations

import numpy as np
import pytest

import riskshare as rs
from riskshare.agreements import engine

SAMPLE = "vale_2025_26"


@pytest.fixture(scope="module")
def drawn():
    system = rs.load_sample(SAMPLE)
    register = rs.load_sample_register(SAMPLE)
    return system, register, rs.simulate(system, 2_000, seed=3, register=register)


def test_risk_table_and_compare(drawn):
    system, _, sc = drawn
    table = rs.risk_table("gain_loss_50_50_deadband", system, sc)
    # P(miss its control total) for each member, before support, counted by hand
    out = engine.run(rs.load_agreement("gain_loss_50_50_deadband"), system, sc.variances)
    control = system.orgs["control_total"].to_numpy(dtype=float)
    for k, org in enumerate(system.members):
        assert table.loc[org, "p_miss_control_total"] == pytest.approx(
            float((out.outturn[:, k] - control[k] < -0.005).mean()))
    both = rs.compare(["standalone", "gain_loss_50_50_deadband"], system, sc)
    mine = both[both["agreement"] == rs.load_agreement("gain_loss_50_50_deadband").name]
    assert mine.set_index("org_id")["p_miss_control_total"].drop("SYSTEM").tolist() == \
        table["p_miss_control_total"].drop("SYSTEM").tolist()


def test_fairness_on_register_scenarios(drawn):
    system, _, sc = drawn
    on_them = rs.games.certificate(system, "gain_loss_50_50_deadband", sc)
    plain = rs.games.certificate(system, "gain_loss_50_50_deadband", sc.variances)
    assert on_them.gain == plain.gain and on_them.epsilon == plain.epsilon


def test_the_in_year_fan_draws_the_register():
    system = rs.load_sample(SAMPLE)
    register = rs.load_sample_register(SAMPLE)
    monthly = rs.load_sample_monthly(SAMPLE)
    with_it = rs.landing(system, monthly, "deficit_support_2025_26", month=6, n=2_000,
                         register=register, register_mode="instead")
    # the fan is drawn on exactly the scenarios rs.simulate draws with the register
    same = rs.simulate(system, 2_000, seed=0, monthly=monthly, month=6, register=register,
                       register_mode="instead")
    np.testing.assert_array_equal(with_it.scenarios.variances, same.variances)
    # the events alone: no volatility, so each member's year end takes only the values its
    # events allow — VCH has nothing on the register, so its year end is one figure
    final = with_it.scenarios.variances[:, list(system.members).index("VCH")]
    assert np.unique(final).size == 1
