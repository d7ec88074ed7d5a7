"""The workshop's step views and what-if knobs, reconciled with the library to the penny.

What the room relies on: every figure on a step's screen is the library's own figure for the
system at that step (forecast plus the shocks in force): `reconcile` for the baseline, the shock
vector for a shock, `rs.apply` for an agreement, `rs.compare` on the session's scenarios for a
comparison across simulated years, and the participation `certificate` for who would walk away
and for the fairer alternative. A what-if knob changes the agreement exactly as documented and
the figures follow; an impossible change is refused, never shown as a wrong number.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

import riskshare as rs
from riskshare import workshop
from riskshare.agreements.risk import SYSTEM_ROW
from riskshare.core.errors import ValidationError
from riskshare.core.format import amount, money_m
from riskshare.games import certificate
from riskshare.reconciliation.reconcile import reconcile
from riskshare.scenarios.shocks import load_shock, shock_vector
from riskshare.workshop.session import Session, WhatIf, load_session, read_session_dict

PENNY = 0.01
ATOL = PENNY + 1e-9


# -- sessions and views, computed once -------------------------------------------------------------
@functools.cache
def bundled() -> Session:
    return load_session("northshire_workshop")


@functools.cache
def bundled_view(number: int):
    return workshop.view(bundled(), number)


@functools.cache
def forecast_session() -> Session:
    """Every kind of step on the Northshire sample, judged at the forecast after a hard winter."""
    return read_session_dict({
        "title": "Every kind of step",
        "system": {"sample": "northshire_2018_19"},
        "agreements": {"A": {"preset": "support_cliff_2018_19"},
                       "B": {"preset": "gain_loss_50_50_deadband"},
                       "C": {"preset": "full_pooling_turnover"}},
        "steps": [
            {"kind": "baseline", "title": "Start"},
            {"kind": "shock", "title": "Winter", "shocks": ["winter_pressure"]},
            {"kind": "agreement", "title": "A applied", "agreements": ["A"]},
            {"kind": "agreement", "title": "B applied", "agreements": ["B"]},
            {"kind": "compare", "title": "All three", "agreements": ["A", "B", "C"]},
            {"kind": "walk_away", "title": "Walk away from B", "agreements": ["B"]},
            {"kind": "fairer", "title": "B against C", "agreements": ["B", "C"]},
        ],
    }, "forecast session")


@functools.cache
def bundled_scenarios(number: int):
    s = bundled()
    return s.scenarios.simulate(workshop.system_at(s, number))


def outcome_columns(table: pd.DataFrame, outcome: pd.DataFrame) -> None:
    """Every column of a step table that the outcome also has is the outcome's column, exactly."""
    for col in table.columns:
        pd.testing.assert_series_equal(table[col], outcome[col], check_exact=True,
                                       check_names=False)


# -- baseline --------------------------------------------------------------------------------------
def test_baseline_figures_are_the_reconciliation_statement():
    v = bundled_view(1)
    rec = reconcile(bundled().system)
    figures = {f.label: f for f in v.figures}
    for label, key in [("System control total", "sct"),
                       ("Members' control totals add up to", "sum_oct"),
                       ("Forecast outturn", "forecast"),
                       ("Forecast against the SCT", "variance_vs_sct")]:
        assert figures[label].value == rec.amount(key)
    assert figures["System control total"].text == money_m(rec.amount("sct"))
    assert figures["Forecast against the SCT"].text == money_m(rec.amount("variance_vs_sct"),
                                                               sign=True)
    assert figures["Members' control totals add up to"].delta == \
        f"{money_m(rec.amount('gap'), sign=True)} to the SCT"
    missing = int((bundled().system.variance < -0.005).sum())
    assert figures["Members forecast to miss"].text == f"{missing} of 9"
    for flag in rec.flags:
        assert flag in v.sentences
    pd.testing.assert_frame_equal(v.table, rec.orgs[list(v.table.columns)], check_exact=True)
    assert v.results["reconciliation"].statement.equals(rec.statement)


# -- shock -----------------------------------------------------------------------------------------
def test_shock_figures_are_the_shock_vector():
    s = bundled()
    v = bundled_view(2)
    shock = shock_vector(load_shock("winter_pressure"), s.system)
    total = float(shock.sum())
    cost = v.figures[0]
    assert cost.label == "The shock costs the system"
    assert cost.value == pytest.approx(total, abs=PENNY)
    assert cost.text == money_m(-total)
    np.testing.assert_allclose(v.table["shock"].to_numpy(float), shock, rtol=0, atol=ATOL)
    np.testing.assert_allclose(v.table["variance_after"],
                               v.table["variance_before"] + v.table["shock"], rtol=0, atol=ATOL)
    np.testing.assert_array_equal(v.table["variance_before"], s.system.variance)
    moved = workshop.system_at(s, 2)
    np.testing.assert_array_equal(v.table["variance_after"], moved.variance)
    after = reconcile(moved).amount("variance_vs_sct")
    before = reconcile(s.system).amount("variance_vs_sct")
    assert v.figures[1].value == after
    assert after - before == pytest.approx(total, abs=PENNY)
    assert v.figures[1].delta == f"{money_m(after - before, sign=True)} on the forecast"


# -- agreements ------------------------------------------------------------------------------------
@pytest.mark.parametrize("number,label", [(3, "A"), (4, "B")])
def test_agreement_step_is_the_outcome(number, label):
    s = forecast_session()
    v = workshop.view(s, number)
    system = workshop.system_at(s, number)
    o = rs.apply(s.agreement(label), system)
    outcome_columns(v.table, o.table)
    assert set(v.money) == set(v.table.columns) - {"name"}
    figures = {f.label: f for f in v.figures}
    assert figures["Members worse off than alone"].text == f"{len(o.worse_off)} of 9"
    assert figures["Support earned"].value == pytest.approx(o.table["support_earned"].sum(),
                                                            abs=PENNY)
    # the system ends at Σ final over the members inside the SCT (docs/reconciliation.md: NSC and VGP take
    # part in the agreement but are outside the system's position)
    inside = o.table["final"][system.inside].sum()
    assert figures["System ends at"].value == pytest.approx(inside, abs=PENNY)
    assert figures["System ends at"].text == money_m(inside)
    assert figures["Gain over standing alone"].value == pytest.approx(
        o.table["vs_standalone"].sum(), abs=PENNY)


def test_compare_at_the_forecast_is_each_outcome_side_by_side():
    s = forecast_session()
    v = workshop.view(s, 5)
    system = workshop.system_at(s, 5)
    assert "comparison" not in v.results
    for label in "ABC":
        o = rs.apply(s.agreement(label), system).table
        np.testing.assert_array_equal(v.table[f"{label} final"], o["final"])
        np.testing.assert_array_equal(v.table[f"{label} vs alone"], o["vs_standalone"])
        figures = {f.label: f for f in v.figures}
        # Σ final over the members inside the SCT (docs/reconciliation.md)
        assert figures[f"{label}: system ends at"].value == pytest.approx(
            o["final"][system.inside].sum(), abs=PENNY)


def test_compare_across_scenarios_is_rs_compare_on_the_sessions_scenarios():
    s = bundled()
    v = bundled_view(3)
    system = workshop.system_at(s, 3)
    scenarios = bundled_scenarios(3)
    assert scenarios.n == 1000 and scenarios.seed == 2018
    expected = rs.compare([s.agreement("A"), s.agreement("B")], system, scenarios)
    pd.testing.assert_frame_equal(v.results["comparison"], expected, check_exact=True)
    for label in "AB":
        o = rs.apply(s.agreement(label), system).table
        np.testing.assert_array_equal(v.table[f"{label} final"], o["final"])
        np.testing.assert_array_equal(v.table[f"{label} vs alone"], o["vs_standalone"])
        part = expected[expected["agreement"] == s.agreement(label).name]
        members = part[part["org_id"] != SYSTEM_ROW].set_index("org_id")
        np.testing.assert_array_equal(v.table[f"{label} mean final"], members["mean_final"])
        np.testing.assert_array_equal(v.table[f"{label} P(worse than alone)"],
                                      members["p_worse_off"])
        likely = int((members["p_worse_off"] >= 0.5).sum())
        figures = {f.label: f for f in v.figures}
        assert figures[f"{label}: members more likely than not worse off"].text == \
            f"{likely} of 9"
        # the sentence's figures, against the SCT, worked out from the finals themselves (not
        # from the risk table): the system's total final in every simulated year, less the
        # SCT; its mean, and its mean over the worst 5% (50 of 1,000) of years. The system is
        # the members inside the SCT (docs/reconciliation.md), so its total final sums over those alone
        finals = rs.apply(s.agreement(label), system, scenarios.variances)["final"]
        against = np.sort(finals[:, system.inside].sum(axis=1) - system.control_total)
        mean, tail = float(against.mean()), float(against[:50].mean())
        (line,) = [x for x in v.sentences if f"under {label}" in x]
        assert (f"ends {amount(mean, sign=True)} against the SCT on average, and "
                f"{amount(tail, sign=True)} against it on average in its worst 1-in-20 years"
                ) in line


# -- walk away and fairer --------------------------------------------------------------------------
def assert_certificate_figures(figures, cert, prefix: str = "") -> None:
    # without a prefix the labels start with a capital letter
    by = {f.label if prefix else f.label[:1].lower() + f.label[1:]: f for f in figures}
    assert by[f"{prefix}members better off alone"].value == len(cert.members_worse_off)
    assert by[f"{prefix}members better off alone"].text == \
        f"{len(cert.members_worse_off)} of {cert.system.n}"
    assert by[f"{prefix}groups better off on their own"].value == len(cert.groups_worse_off)
    assert by[f"{prefix}what pooling adds"].value == cert.gain
    assert by[f"{prefix}what pooling adds"].text == money_m(cert.gain, sign=True)


def assert_certificate_table(table, cert) -> None:
    cols = ["alone", "agreement", "gain_agreement", "gain_shapley", f"gain_{cert.fair}"]
    pd.testing.assert_frame_equal(table[["name"] + cols], cert.table[["name"] + cols],
                                  check_exact=True)


@pytest.mark.parametrize("judge", ["forecast", "scenarios"])
def test_walk_away_is_the_participation_certificate(judge):
    if judge == "forecast":
        s, number = forecast_session(), 6
        v = workshop.view(s, number)
        scenarios = None
    else:
        s, number = bundled(), 4
        v = bundled_view(number)
        scenarios = bundled_scenarios(number)
    cert = certificate(workshop.system_at(s, number), s.agreement("B"), scenarios,
                       s.risk_aversion)
    assert_certificate_figures(v.figures, cert)
    epsilon = {f.label: f for f in v.figures}["Least-core ε"]
    assert epsilon.value == cert.epsilon
    assert epsilon.text == money_m(cert.epsilon, dp=2)
    assert_certificate_table(v.table, cert)
    assert v.sentences[:len(cert.summary(notes=False))] == tuple(cert.summary(notes=False))
    assert len(cert.members_worse_off) == int(v.figures[0].value)


def check_fairer(v, s: Session, number: int, scenarios) -> None:
    system = workshop.system_at(s, number)
    old = certificate(system, s.agreement("B"), scenarios, s.risk_aversion)
    new = certificate(system, s.agreement("C"), scenarios, s.risk_aversion)
    assert_certificate_figures(v.figures, new, prefix="C: ")
    by = {f.label: f for f in v.figures}
    change = len(new.members_worse_off) - len(old.members_worse_off)
    assert by["C: members better off alone"].delta == (f"{change:+,.0f} against B" if change
                                                       else "as B")
    t = v.table
    np.testing.assert_array_equal(t["B gain"], old.table["gain_agreement"])
    np.testing.assert_array_equal(t["C gain"], new.table["gain_agreement"])
    np.testing.assert_array_equal(t["Shapley gain"], new.table["gain_shapley"])
    fair = t[f"{new.fair} gain"]
    np.testing.assert_array_equal(fair, new.table[f"gain_{new.fair}"])
    side = t["side payment to reach it"]
    # side payments move money between members: they add up to nothing ...
    assert abs(side.sum()) <= PENNY
    # ... and take each member exactly from C's split to the fair one
    np.testing.assert_allclose(t["C gain"] + side, fair, rtol=0, atol=ATOL)
    assert set(v.results["certificates"]) == {"B", "C"}


def test_fairer_at_the_forecast():
    s = forecast_session()
    check_fairer(workshop.view(s, 7), s, 7, None)


def test_fairer_across_scenarios_in_the_bundled_session():
    v = bundled_view(5)
    check_fairer(v, bundled(), 5, bundled_scenarios(5))
    assert v.table["side payment to reach it"].abs().sum() > 1_000_000   # real money moves


# -- knobs -----------------------------------------------------------------------------------------
def test_which_knobs_apply_at_each_step_of_the_bundled_session():
    s = bundled()
    keys = {k: [ks.knob.key for ks in workshop.knobs(s, k)] for k in range(1, 6)}
    assert keys == {
        1: [],
        2: ["shock_scale"],
        3: ["shock_scale", "pool_share", "deadband", "cap", "system_share", "taper"],
        4: ["shock_scale", "pool_share", "deadband", "cap", "system_share", "taper",
            "risk_aversion"],
        5: ["shock_scale", "pool_share", "system_share", "taper", "risk_aversion"],
    }
    # at step 3 the knobs refer to B (the proposal) unless A is chosen
    assert workshop.target_label(s, 3) == "B"
    assert workshop.target_label(s, 3, WhatIf.of("A", taper=1)) == "A"
    assert [ks.knob.key for ks in workshop.knobs(s, 3, "A")] == ["shock_scale", "system_share",
                                                                  "taper"]


def test_knob_values_are_the_agreements_own_fields():
    s = bundled()
    b, c = s.agreement("B"), s.agreement("C")
    values = {ks.knob.key: ks for ks in workshop.knobs(s, 4)}
    assert values["shock_scale"].value == 1.0
    assert values["pool_share"].value == max(band.pool for band in b.losses.bands) == 0.5
    assert values["deadband"].value == b.losses.bands[0].upto == b.gains.bands[0].upto == 0.5
    assert values["cap"].value == max(b.pool.max_charge, b.pool.max_award) == 1.0
    assert values["system_share"].value == b.support.system_share
    assert values["taper"].value == b.support.taper
    assert values["risk_aversion"].value == s.risk_aversion
    for ks in values.values():
        assert ks.low <= ks.value <= ks.high
    five = {ks.knob.key: ks.value for ks in workshop.knobs(s, 5)}
    assert five["pool_share"] == c.losses.bands[0].pool == 1.0


@pytest.mark.parametrize("values,check", [
    ({"pool_share": 0.75}, lambda a: [b.pool for b in a.losses.bands] == [0.0, 0.75]
     and [b.pool for b in a.gains.bands] == [0.0, 0.75]),
    ({"deadband": 1.5}, lambda a: a.losses.bands[0].upto == 1.5 and a.gains.bands[0].upto == 1.5
     and a.losses.bands[0].pool == 0.0),
    ({"cap": 2.5}, lambda a: a.pool.max_charge == 2.5 and a.pool.max_award == 2.5),
    ({"system_share": 0.4}, lambda a: a.support.system_share == 0.4),
    ({"taper": 1.2}, lambda a: a.support.taper == 1.2),
])
def test_each_agreement_knob_changes_the_agreement_as_documented(values, check):
    s = bundled()
    b = s.agreement("B")
    what_if = WhatIf.of("B", **values)
    changed = workshop.changed_agreement(b, what_if)
    assert check(changed)
    assert changed.name == b.name
    # nothing else moves
    untouched = {"pool_share": ("gains", "losses"), "deadband": ("gains", "losses"),
                 "cap": ("pool",), "system_share": ("support",), "taper": ("support",)}
    for field in ("gains", "losses", "pool", "reserve", "support", "scale", "exempt"):
        if field not in untouched[next(iter(values))]:
            assert getattr(changed, field) == getattr(b, field), field
    # and the step shows the changed agreement's outcome, the other agreement as prepared
    v = workshop.view(s, 3, what_if)
    system = workshop.system_at(s, 3)
    new = rs.apply(changed, system).table
    old = rs.apply(s.agreement("A"), system).table
    np.testing.assert_array_equal(v.table["B final"], new["final"])
    np.testing.assert_array_equal(v.table["B vs alone"], new["vs_standalone"])
    np.testing.assert_array_equal(v.table["A final"], old["final"])
    pd.testing.assert_frame_equal(v.results["outcomes"]["B"].table, new, check_exact=True)
    # the change is named in words, with what was prepared
    (change,) = v.changes
    assert change.startswith("B: ") and "(prepared: " in change
    assert workshop.KNOBS[next(iter(values))].label.lower() in change


def test_describe_changes_in_words():
    s = bundled()
    assert workshop.describe_changes(s, 3, WhatIf.of("B", pool_share=0.75)) == (
        "B: share pooled beyond the deadband 75% (prepared: 50%)",)
    assert workshop.describe_changes(s, 2, WhatIf.of(shock_scale=1.5)) == (
        "size of the shock 1.5× (prepared: 1×)",)
    assert workshop.describe_changes(s, 3, WhatIf.of("B", cap=2)) == (
        "B: cap on charges and awards from the pool 2% (prepared: 1%)",)
    assert workshop.describe_changes(s, 4, WhatIf.of("B", risk_aversion=0.25)) == (
        "how much bad years weigh (λ) λ = 0.25 (prepared: 0.5)",)
    # a value equal to the prepared one is no change
    assert workshop.describe_changes(s, 3, WhatIf.of("B", pool_share=0.5)) == ()
    assert workshop.describe_changes(s, 3, WhatIf()) == ()


def test_shock_scale_zero_removes_the_shock_and_two_doubles_it():
    s = bundled()
    prepared = bundled_view(2)
    none = workshop.view(s, 2, WhatIf.of(shock_scale=0))
    assert none.figures[0].value == 0 and none.figures[0].text == "£0.00m"
    assert (none.table["shock"] == 0).all()
    assert workshop.system_at(s, 2, 0.0).equals(s.system)
    assert none.changes == ("size of the shock 0× (prepared: 1×)",)
    double = workshop.view(s, 2, WhatIf.of(shock_scale=2))
    assert double.figures[0].value == pytest.approx(2 * prepared.figures[0].value, abs=PENNY)
    np.testing.assert_allclose(double.table["shock"], 2 * prepared.table["shock"], rtol=0,
                               atol=ATOL)
    # the size of the shock carries into the agreements discussed at later steps
    v3 = workshop.view(s, 3, WhatIf.of(shock_scale=2))
    doubled = workshop.system_at(s, 3, 2.0)
    np.testing.assert_allclose(doubled.variance - s.system.variance,
                               2 * prepared.table["shock"], rtol=0, atol=ATOL)
    np.testing.assert_array_equal(v3.table["A final"],
                                  rs.apply(s.agreement("A"), doubled).table["final"])


def test_pool_share_zero_shares_nothing():
    s = bundled()
    v = workshop.view(s, 3, WhatIf.of("B", pool_share=0))
    o = v.results["outcomes"]["B"].table
    assert (o["pooled"] == 0).all() and (o["received"] == 0).all()
    # with nothing shared and support tested after sharing, B leaves every member as alone
    assert (o["vs_standalone"].abs() < 0.005).all()
    np.testing.assert_array_equal(v.table["B final"], o["standalone"])
    assert {f.label: f for f in v.figures}["B: members worse off than alone"].text == "0 of 9"


def test_risk_aversion_knob_judges_the_walk_away_step_again():
    s = bundled()
    v = workshop.view(s, 4, WhatIf.of("B", risk_aversion=0.0))
    cert = certificate(workshop.system_at(s, 4), s.agreement("B"), bundled_scenarios(4), 0.0)
    assert_certificate_figures(v.figures, cert)
    assert_certificate_table(v.table, cert)
    assert v.changes == ("how much bad years weigh (λ) λ = 0 (prepared: 0.5)",)


@functools.cache
def reserve_session() -> Session:
    return read_session_dict({
        "title": "Pooled budget",
        "system": {"sample": "pooled_budget_2"},
        "agreements": {"A": {"preset": "pooled_budget_reserve"}},
        "steps": [{"kind": "agreement", "title": "The pooled budget", "agreements": ["A"]}],
    })


def test_the_reserve_knob():
    s = reserve_session()
    a = s.agreement("A")
    settings = {ks.knob.key: ks for ks in workshop.knobs(s, 1)}
    assert settings["reserve"].value == a.reserve.amount / 1e6 == 1.0
    assert "pool_share" in settings
    changed = workshop.changed_agreement(a, WhatIf.of("A", reserve=2.5))
    assert changed.reserve.amount == 2_500_000 and changed.reserve.holder == a.reserve.holder
    v = workshop.view(s, 1, WhatIf.of("A", reserve=2.5))
    o = rs.apply(changed, s.system)
    outcome_columns(v.table, o.table)
    assert o.system["reserve_used"] > rs.apply(a, s.system).system["reserve_used"]
    assert v.changes == ("A: reserve that absorbs a net pooled loss first £2.5m "
                         "(prepared: £1m)",)


def test_a_knob_that_does_not_apply_changes_nothing():
    s = bundled()
    b = s.agreement("B")
    assert workshop.changed_agreement(b, WhatIf.of("B", reserve=3)) is b
    assert workshop.describe_changes(s, 3, WhatIf.of("B", reserve=3)) == ()


@pytest.mark.parametrize("values", [{"pool_share": 2.0}, {"deadband": -1.0}, {"taper": -1.0},
                                    {"system_share": 1.5}])
def test_an_impossible_what_if_is_refused(values):
    s = bundled()
    with pytest.raises(ValidationError):
        workshop.view(s, 3, WhatIf.of("B", **values))
    # and in a saved session, before any figure is shown
    data = s.at_step(3).to_dict(inline=False)
    data["what_if"] = {"agreement": "B", **values}
    with pytest.raises(ValidationError) as caught:
        read_session_dict(data)
    assert f"what_if.{next(iter(values))}" in {p.column for p in caught.value.problems}


def test_a_deadband_past_the_next_band_is_refused():
    s = read_session_dict({
        "title": "Corridors",
        "system": {"sample": "corridor_2"},
        "agreements": {"A": {"preset": "medicare_part_d_corridors"}},
        "steps": [{"kind": "agreement", "title": "Corridors", "agreements": ["A"]}],
    })
    (deadband,) = [ks for ks in workshop.knobs(s, 1) if ks.knob.key == "deadband"]
    assert deadband.value == 5.0 and deadband.high < 10.0       # below the next band's edge
    workshop.view(s, 1, WhatIf.of("A", deadband=8.0))             # inside: fine
    with pytest.raises(ValidationError, match="upto"):
        workshop.view(s, 1, WhatIf.of("A", deadband=12.0))


def test_a_step_out_of_range_is_refused():
    with pytest.raises(ValueError, match="between 1 and 5"):
        workshop.view(bundled(), 0)
    with pytest.raises(ValueError, match="between 1 and 5"):
        workshop.view(bundled(), 6)


# -- money is conserved ----------------------------------------------------------------------------
@pytest.mark.parametrize("number,what_if", [
    (3, None), (4, None), (4, WhatIf.of("B", cap=0.2)), (4, WhatIf.of("B", pool_share=1.0)),
])
def test_money_is_conserved_in_every_agreement_step(number, what_if):
    s = forecast_session()
    v = workshop.view(s, number, what_if)
    (o,) = v.results["outcomes"].values()
    t, lines = o.table, o.system
    given = float((t["control_total"] + t["variance"]).sum())
    assert float(t["outturn"].sum()) + lines["unallocated"] == pytest.approx(given, abs=PENNY)
    # the system's outturn is Σ outturn over the members inside the SCT (docs/reconciliation.md)
    inside = workshop.system_at(s, number).inside
    assert lines["system_outturn"] == pytest.approx(float(t["outturn"][inside].sum()), abs=PENNY)
    np.testing.assert_allclose(t["outturn"], t["control_total"] + t["retained"] + t["received"],
                               rtol=0, atol=ATOL)
    np.testing.assert_allclose(t["final"], t["outturn"] + t["support_earned"], rtol=0, atol=ATOL)
    assert lines["support_earned_total"] == pytest.approx(t["support_earned"].sum(), abs=PENNY)
    assert lines["support_at_stake"] == pytest.approx(
        lines["support_earned_total"] + lines["support_lost"], abs=PENNY)
    if what_if is not None and what_if.get("cap") == 0.2:
        assert abs(lines["unallocated"]) > 1_000     # the cap leaves money with nobody


def test_money_is_conserved_across_the_compare_step():
    s = forecast_session()
    v = workshop.view(s, 5)
    system = workshop.system_at(s, 5)
    for o in v.results["outcomes"].values():
        t = o.table
        assert float(t["outturn"].sum()) + o.system["unallocated"] == pytest.approx(
            float(system.orgs["forecast"].sum()), abs=PENNY)


def test_the_least_core_hint_follows_the_sign_of_epsilon():
    s = bundled()
    cert_figures = {f.label: f for f in bundled_view(4).figures}
    eps = cert_figures["Least-core ε"]
    assert eps.value > 0 and eps.delta == "no split satisfies every group" and eps.good is False
    core = read_session_dict({**s.to_dict(), "steps": [
        {"kind": "walk_away", "title": "C", "agreements": ["C"], "judge": "scenarios"}],
        "step": 1}, "core")
    eps = {f.label: f for f in workshop.view(core, 1).figures}["Least-core ε"]
    assert eps.value <= 0 and eps.delta == "a split every group accepts exists" and eps.good


def test_money_the_caps_leave_unallocated_is_said_in_words():
    s = forecast_session()
    v = workshop.view(s, 4, WhatIf.of("B", cap=0.2))
    o = v.results["outcomes"]["B"]
    unallocated = float(o.system["unallocated"])
    assert unallocated < -1_000_000          # a net loss the capped members cannot all take
    sentence = next(x for x in v.sentences if "unallocated" in x)
    assert money_m(unallocated, dp=2) in sentence
    final = {f.label: f for f in v.figures}["System ends at"].value
    inside = workshop.system_at(s, 4).inside      # Σ final inside the SCT (docs/reconciliation.md)
    assert final == pytest.approx(float(o.table["final"][inside].sum()), abs=0.01)


def test_no_deadband_means_the_next_band_starts_from_the_first_pound():
    s = bundled()
    b = s.agreement("B")
    changed = workshop.changed_agreement(b, WhatIf.of("B", deadband=0.0))
    assert changed.losses.bands == b.losses.bands[1:] and changed.gains.bands == b.gains.bands[1:]
    v = workshop.view(s, 3, WhatIf.of("B", deadband=0.0))
    o = rs.apply(changed, workshop.system_at(s, 3))
    np.testing.assert_array_equal(v.table["B final"].to_numpy(), o.table["final"].to_numpy())


def test_the_fairer_step_colours_each_change_by_whether_it_is_for_the_better():
    v = bundled_view(5)
    for f in v.figures:
        number = float(f.delta.split(" against")[0].replace("£", "").replace("m", "")
                       .replace(",", "")) if "against" in f.delta else 0.0
        if f.delta.startswith("as "):
            assert f.good is None
        elif "pooling" in f.label:
            assert f.good == (number > 0), f
        else:
            assert f.good == (number < 0), f


def test_charts_enlarged_for_presentation_keep_their_data_and_grow_their_text():
    from riskshare.reports import charts

    for v in (bundled_view(1), bundled_view(5)):
        small = v.chart.to_dict()
        big = charts.enlarged(v.chart, 1.5)
        assert big["datasets"] == small["datasets"]          # the same figures
        assert v.chart.to_dict() == small                     # the chart itself is unchanged
        sizes = []

        def collect(a, b):
            if isinstance(a, dict):
                for key in a:
                    if key in charts.FONT_KEYS and isinstance(a[key], (int, float)):
                        sizes.append((a[key], b[key]))
                    elif key not in ("datasets", "data"):
                        collect(a[key], b[key])
            elif isinstance(a, list):
                for x, y in zip(a, b, strict=True):
                    collect(x, y)

        collect(small, big)
        assert sizes and all(y == pytest.approx(1.5 * x, abs=0.05) for x, y in sizes)
        assert big["config"]["axis"]["labelFontSize"] >= 16
