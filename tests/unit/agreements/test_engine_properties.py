"""Properties of the engine over random agreements, synthetic systems and random variance matrices
(hypothesis): money is conserved, caps hold, standalone is the identity, results do not depend on
member order or labels and scale with money, the 2-D path equals the deterministic one, and
retention rates of monotone designs lie in [0, 1]."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import riskshare as rs
from riskshare.agreements import engine
from riskshare.agreements.presets import load_preset
from riskshare.agreements.spec import Agreement

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PENNY = 0.005
# A deterministic outcome is the same run in whole pennies that add up: each figure within
# 3p of the unrounded one (a column rounded by largest remainder is within 1p, and a column
# that follows by identity, such as outturn, adds at most two such roundings).
ROUNDED = 0.03 + 1e-9
MONEY = ("variance", "pooled", "retained", "received", "net_transfer", "outturn",
         "support_earned", "final", "standalone", "vs_standalone")
SYSTEM_MONEY = ("pool", "reserve_used", "unallocated", "support_at_stake",
                "support_earned_total", "support_lost", "system_outturn", "sct_variance",
                "system_final")

_SHARE = st.sampled_from([0.0, 0.2, 0.5, 0.75, 1.0]) | st.floats(0.0, 1.0)
_PCT = st.sampled_from([0.0, 0.5, 1.0, 2.0]) | st.floats(0.0, 5.0)


# -- strategies ------------------------------------------------------------------------------------
@st.composite
def schedules(draw, thresholds: bool = True) -> dict:
    k = draw(st.integers(1, 3))
    uptos = sorted(draw(st.sets(st.floats(0.05, 6.0).map(lambda x: round(x, 2)),
                                min_size=k - 1, max_size=k - 1)))
    out: dict = {"bands": [{"upto": u, "pool": draw(_SHARE)} for u in uptos]
                 + [{"pool": draw(_SHARE)}]}
    if thresholds and draw(st.booleans()):
        out["threshold"] = draw(_PCT)
        out["below_threshold_pool"] = draw(_SHARE)
    for key in ("max_pool", "max_keep"):
        if draw(st.booleans()):
            out[key] = draw(_PCT)
    return out


@st.composite
def specs(draw, n: int, thresholds: bool = True, support_tests=("organisation", "system",
                                                                      "none")) -> dict:
    """An agreement in terms of member positions 0..n-1 (see `build`)."""
    spec: dict = {"exempt": draw(st.lists(st.integers(0, n - 1), unique=True, max_size=n // 2))}
    for key in ("gains", "losses"):
        if draw(st.integers(0, 4)):              # mostly a real schedule
            spec[key] = draw(schedules(thresholds))
    pool: dict = {"distribute": draw(st.sampled_from(["basis", "counterparty", "claims"]))}
    if pool["distribute"] == "counterparty":
        pool["counterparty"] = draw(st.integers(0, n - 1))
    else:
        pool["basis"] = draw(st.sampled_from(["turnover", "equal", "support", "weights"]))
        if pool["basis"] == "weights":
            pool["weights"] = draw(st.lists(st.sampled_from([0.0, 1.0, 2.0, 3.5]), min_size=n,
                                            max_size=n).filter(lambda w: sum(w) > 0))
        if pool["distribute"] == "claims":
            pool["rule"] = draw(st.sampled_from(sorted(rs.claims.RULES)))
    for key in ("max_charge", "max_award"):
        if draw(st.booleans()):
            pool[key] = draw(_PCT)
    spec["pool"] = pool
    if draw(st.booleans()):
        spec["reserve"] = (draw(st.integers(0, n - 1)),
                           draw(st.sampled_from([0.0, 1e6, 5e6]) | st.floats(0.0, 2e7)))
    support: dict = {"test": draw(st.sampled_from(support_tests))}
    if support["test"] == "organisation":
        support["system_share"] = draw(_SHARE)
    support["after_sharing"] = draw(st.booleans())
    support["taper"] = draw(st.sampled_from([0.0, 0.0, 1.0]) | st.floats(0.01, 3.0))
    support["unearned"] = draw(st.sampled_from(["lost", "redistribute"]))
    spec["support"] = support
    return spec


def build(spec: dict, ids, money: float = 1.0) -> Agreement:
    """The Agreement of a spec for members `ids` (reserve amount multiplied by `money`)."""
    doc: dict = {"name": "random", "exempt": [ids[i] for i in spec["exempt"]]}
    for key in ("gains", "losses"):
        if key in spec:
            doc[key] = spec[key]
    p = dict(spec["pool"])
    if "counterparty" in p:
        p["counterparty"] = ids[p["counterparty"]]
    if p.get("basis") == "weights":
        p["basis"] = dict(zip(ids, p.pop("weights"), strict=True))
    doc["pool"] = p
    if "reserve" in spec:
        holder, amount = spec["reserve"]
        doc["reserve"] = {"holder": ids[holder], "amount": amount * money}
    doc["support"] = spec["support"]
    return Agreement.from_dict(doc)


@st.composite
def cases(draw, thresholds: bool = True, max_scenarios: int = 4, **kw):
    """(spec, system, variances (S, n))."""
    n = draw(st.integers(1, 12))
    system = rs.samples.synthetic(n, draw(st.integers(0, 10_000)))
    spec = draw(specs(n, thresholds, **kw))
    s = draw(st.integers(1, max_scenarios))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    turnover = system.orgs["turnover"].to_numpy()
    v = np.round(rng.normal(-0.002, 0.02, (s, n)) * turnover, 2)
    v[rng.random((s, n)) < 0.1] = 0.0                       # some members exactly on target
    if draw(st.booleans()):
        v[0] = system.variance.to_numpy()                   # the system's own forecast
    return spec, system, v


def frame_of(system: rs.System) -> pd.DataFrame:
    return system.to_frame()


# -- money is conserved ----------------------------------------------------------------------------
@FAST
@given(cases())
def test_money_is_conserved_to_the_penny(case):
    spec, system, v = case
    o = rs.apply(build(spec, list(system.members)), system, v)
    oct_ = system.orgs["control_total"].to_numpy()
    unalloc = o["unallocated"]
    np.testing.assert_allclose(o["received"].sum(axis=1) + unalloc, o["pooled"].sum(axis=1),
                               atol=PENNY, rtol=0)
    np.testing.assert_allclose(o["outturn"].sum(axis=1) + unalloc, (oct_ + v).sum(axis=1),
                               atol=PENNY, rtol=0)
    np.testing.assert_allclose(o["pool"], o["pooled"].sum(axis=1), atol=PENNY, rtol=0)
    # the ledger identities of docs/agreements.md
    np.testing.assert_allclose(o["retained"], v - o["pooled"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(o["final"], o["outturn"] + o["support_earned"], atol=1e-6, rtol=0)
    # support earned lies between nothing and what is at stake, in total
    support = system.orgs["support"].to_numpy()
    assert (o["support_earned"] >= -1e-6).all()
    assert (o["support_earned_total"] <= support.sum() + 1e-6).all()


# -- caps are never exceeded --------------------------------------------------------------------
@FAST
@given(cases())
def test_caps_are_never_exceeded(case):
    spec, system, v = case
    a = build(spec, list(system.members))
    o = rs.apply(a, system, v)
    scale = system.orgs[a.scale].to_numpy() / 100.0             # £ per percentage point
    shared = ~system.members.isin(a.exempt)
    pooled, retained, received = o["pooled"], o["retained"], o["received"]
    # pooled has the sign of the variance and is no bigger; exempt members pool nothing
    assert (pooled * v >= 0).all() and (np.abs(pooled) <= np.abs(v) + 1e-6).all()
    assert (pooled[:, ~shared] == 0).all()
    for schedule, side in ((a.gains, v > 0), (a.losses, v < 0)):
        mask = side & shared
        size = np.abs(v) / scale                                 # % of scale
        if schedule.max_keep is not None:
            assert (np.abs(retained)[mask] <= (schedule.max_keep * scale + 1e-6)[
                np.nonzero(mask)[1]]).all()
        if schedule.max_pool is not None:
            # max_keep is applied after max_pool (the member never keeps more than max_keep)
            limit = np.full(v.shape, schedule.max_pool)
            if schedule.max_keep is not None:
                limit = np.maximum(limit, size - schedule.max_keep)
            assert (np.abs(pooled)[mask] <= (limit * scale)[mask] + 1e-6).all()
    # charges from a net loss (the reserve holder's reserve is not a charge from the pool)
    charge = received.copy()
    if a.reserve is not None:
        charge[:, system.members.get_loc(a.reserve.holder)] += o["reserve_used"]
    if a.pool.max_charge is not None:
        assert (charge >= -(a.pool.max_charge * scale) - 1e-6).all()
    if a.pool.max_award is not None and a.pool.distribute != "claims":
        # (with claims the awards are not capped today: see test_engine's xfail)
        assert (received <= a.pool.max_award * scale + 1e-6).all()
    # a loss pool only charges, a gain pool only awards
    net = o["pool"] + o["reserve_used"]
    assert (charge[net < 0] <= 1e-6).all() and (charge[net > 0] >= -1e-6).all()


# -- the standalone preset is the identity -------------------------------------------------------
@FAST
@given(cases())
def test_standalone_is_the_identity(case):
    _, system, v = case
    o = rs.apply(load_preset("standalone"), system, v)
    assert (o["received"] == 0).all() and (o["pooled"] == 0).all()
    np.testing.assert_array_equal(o["final"], o["standalone"])
    np.testing.assert_array_equal(o["vs_standalone"], 0.0)
    assert (o["unallocated"] == 0).all()


# -- permuting and relabelling members ------------------------------------------------------------
@FAST
@given(cases(), st.randoms(use_true_random=False))
def test_permuting_and_relabelling_members_permutes_results(case, random):
    spec, system, v = case
    n = system.n
    perm = list(range(n))
    random.shuffle(perm)
    ids = list(system.members)
    new_ids = [f"X{random.randrange(10**6)}_{i}" for i in range(n)]  # new labels, same order
    frame = frame_of(system)
    moved = frame.iloc[perm].assign(org_id=[new_ids[i] for i in perm])
    other = rs.System.from_frame(moved, system.control_total, "moved", "")
    a = build(spec, ids)
    b = build(spec, new_ids)
    o1 = rs.apply(a, system, v)
    o2 = rs.apply(b, other, v[:, perm])
    for c in MONEY:
        np.testing.assert_allclose(o2[c], o1[c][:, perm], atol=1e-5, rtol=1e-12, err_msg=c)
    for c in SYSTEM_MONEY:
        np.testing.assert_allclose(o2[c], o1[c], atol=1e-5, rtol=1e-12, err_msg=c)


# -- multiplying all money by k --------------------------------------------------------------------
@FAST
@given(cases(), st.sampled_from([0.5, 2.0, 3.0, 100.0, 1e-3]))  # money stays within ±£10¹²
def test_multiplying_all_money_multiplies_every_money_column(case, k):
    spec, system, v = case
    frame = frame_of(system)
    for c in ("turnover", "control_total", "forecast", "support"):
        frame[c] = frame[c] * k
    scaled = rs.System.from_frame(frame, system.control_total * k, "scaled", "")
    o1 = rs.apply(build(spec, list(system.members)), system, v)
    o2 = rs.apply(build(spec, list(system.members), money=k), scaled, v * k)
    for c in MONEY + SYSTEM_MONEY:
        np.testing.assert_allclose(o2[c], k * np.asarray(o1[c]), rtol=1e-9, atol=1e-6 * max(k, 1),
                                   err_msg=c)


# -- the 2-D path is the deterministic path row by row ---------------------------------------------
@FAST
@given(cases(max_scenarios=5))
def test_scenarios_equal_the_deterministic_path_row_by_row(case):
    spec, system, v = case
    a = build(spec, list(system.members))
    many = rs.apply(a, system, v)
    assert many["final"].shape == v.shape
    for k in range(len(v)):
        one = rs.apply(a, system, v[k])       # the same row, put in whole pennies
        for c in MONEY:
            np.testing.assert_allclose(many[c][k], one[c], atol=ROUNDED, rtol=0, err_msg=c)
        for c in SYSTEM_MONEY:
            assert abs(many.system[c].iloc[k] - one.system[c]) <= ROUNDED, c


# -- retention rates of monotone designs lie in [0, 1] ---------------------------------------------
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(thresholds=False, max_scenarios=1, support_tests=("none",)))
def test_retention_rates_of_monotone_designs_lie_in_0_1(case):
    spec, system, v = case
    inc = rs.incentives(build(spec, list(system.members)), system, v[0]).table
    for c in ("retention_gain", "retention_loss"):
        assert inc[c].between(-1e-6, 1 + 1e-6).all(), inc[c]
    assert (inc["support_per_pound"] == 0).all()
    assert (inc["cliff_exposure"] == 0).all()
    assert list(inc.index[inc["worse_off"]]) == \
        list(inc.index[inc["vs_standalone"] < -engine.HALF_PENNY])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(max_scenarios=1))
def test_worse_off_matches_vs_standalone(case):
    spec, system, v = case
    a = build(spec, list(system.members))
    o = rs.apply(a, system, v[0])
    expected = [m for m, d in zip(system.members, o["vs_standalone"], strict=True) if d < -0.005]
    assert o.worse_off == expected
    assert rs.incentives(a, system, v[0]).worse_off == expected
