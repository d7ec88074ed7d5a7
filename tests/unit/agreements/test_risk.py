"""Risk across scenarios (`rs.risk_table`, `rs.compare`, docs/metrics.md): every metric on a tiny
two-member system, computed by hand in the test (not by the engine), the Euler identity
(tail contributions add up to the system's cvar95), agreement with the deterministic path, and
the shape and plumbing of compare().

Money in £ (figures in comments in £m), favourable +. x = final − control_total.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import riskshare as rs
from riskshare.agreements.presets import list_presets, load_preset
from riskshare.agreements.risk import METRICS, SYSTEM_ROW

M = 1_000_000.0

# 20 scenarios of (variance A, variance B), £m. Σ A = 1, Σ B = 1 (means 0.05m each).
VA = [3, -2, 1, -5, 0, 4, -1, 2, -3, 6, -4, 1, 0.5, -0.5, 2, -6, 3, -1, 1, 0]
VB = [-1, 3, -2, 1, 2, -3, 0.5, -1, 4, -2, 1, -4, 0, 2, -1, -2, 1, 3, -0.5, 0]
V = np.column_stack([VA, VB]) * M
S = len(VA)
OCT = np.array([-1 * M, 0.5 * M])
SUPPORT_A = 2 * M


def duo() -> rs.System:
    """A: acute, turnover £100m, OCT −£1m, support £2m. B: community, £300m, OCT +£0.5m, no
    support. SCT defaults to Σ OCT = −£0.5m."""
    frame = pd.DataFrame({"org_id": ["A", "B"], "name": ["Ay", "Bee"],
                          "kind": ["acute", "community"], "turnover": [100 * M, 300 * M],
                          "control_total": OCT.tolist(), "forecast": (OCT + [0.0, 0.0]).tolist(),
                          "support": [SUPPORT_A, 0.0]})
    return rs.System.from_frame(frame, None, "Duo", "test")


def tail_k(s: int, alpha: float = 0.95) -> int:
    return max(1, math.ceil(round((1 - alpha) * s, 9)))


def hand_positions(preset: str):
    """(position = retained + received, support earned, standalone x) per scenario, (S, 2) £,
    by the agreement's rules written out directly.

    standalone: position = v. full_pooling_turnover: everything pooled and shared back by
    turnover, so A gets ¼ and B ¾ of T = vA + vB. Support (organisation cliff after sharing):
    A earns its £2m when its position ≥ 0 (−½p tolerance)."""
    if preset == "standalone":
        pos = V.copy()
    else:
        t = V.sum(axis=1)
        pos = np.column_stack([t / 4, 3 * t / 4])
    earned = np.column_stack([np.where(pos[:, 0] >= -0.005, SUPPORT_A, 0.0), np.zeros(S)])
    alone = V + np.column_stack([np.where(V[:, 0] >= -0.005, SUPPORT_A, 0.0), np.zeros(S)])
    return pos, earned, alone


def hand_metrics(preset: str, alpha: float = 0.95) -> pd.DataFrame:
    pos, earned, alone = hand_positions(preset)
    x = pos + earned
    k = tail_k(S, alpha)
    rows = {}
    for j, org in enumerate(["A", "B"]):
        xs = np.sort(x[:, j])
        rows[org] = {
            "mean_final": x[:, j].mean() + OCT[j], "sd_final": x[:, j].std(ddof=1),
            "mean_standalone": alone[:, j].mean() + OCT[j],
            "sd_standalone": alone[:, j].std(ddof=1),
            "p_miss_control_total": (pos[:, j] < -0.005).mean(),
            "p_lose_support": (earned[:, j] < SUPPORT_A - 0.005).mean() if j == 0 else np.nan,
            "p_worse_off": (x[:, j] < alone[:, j] - 0.005).mean(),
            "var95": np.quantile(x[:, j], 1 - alpha), "cvar95": xs[:k].mean(),
        }
    total = x.sum(axis=1)
    worst = np.argsort(total, kind="stable")[:k]
    for j, org in enumerate(["A", "B"]):
        rows[org]["tail_contribution"] = x[worst, j].mean()
    rows[SYSTEM_ROW] = {
        "mean_final": total.mean() + OCT.sum(), "sd_final": total.std(ddof=1),
        "mean_standalone": alone.sum(axis=1).mean() + OCT.sum(),
        "sd_standalone": alone.sum(axis=1).std(ddof=1),
        # Σ outturn − SCT = Σ position (no caps, so nothing unallocated) = Σ variance
        "p_miss_control_total": (pos.sum(axis=1) < -0.005).mean(),
        "p_lose_support": (earned[:, 0] < SUPPORT_A - 0.005).mean(),
        "p_worse_off": (x < alone - 0.005).any(axis=1).mean(),
        "var95": np.quantile(total, 1 - alpha), "cvar95": np.sort(total)[:k].mean(),
        "tail_contribution": np.sort(total)[:k].mean(),
    }
    return pd.DataFrame(rows).T


@pytest.mark.parametrize("preset", ["standalone", "full_pooling_turnover"])
@pytest.mark.parametrize("alpha", [0.95, 0.9])
def test_every_metric_matches_the_hand_computation(preset, alpha):
    table = rs.risk_table(load_preset(preset), duo(), V, alpha=alpha)
    assert list(table.index) == ["A", "B", SYSTEM_ROW] and table.index.name == "org_id"
    assert list(table.columns) == list(METRICS)
    expected = hand_metrics(preset, alpha)
    for metric in expected.columns:
        np.testing.assert_allclose(table[metric].to_numpy(float),
                                   expected[metric].to_numpy(float), atol=1e-6,
                                   err_msg=f"{preset} {metric}")
    assert np.isnan(table.loc[SYSTEM_ROW, "retention_gain"])


def test_standalone_figures_worked_by_hand():
    t = rs.risk_table(load_preset("standalone"), duo(), V)
    # A: Σ v = £1m, 12 of 20 scenarios with v ≥ 0 earn £2m: mean x = 0.05 + 2 × 12/20 = 1.25m,
    # mean final = −1 + 1.25 = £0.25m. Missing the OCT: 8 of 20 = 0.4; losing support 0.4.
    assert t.loc["A", "mean_final"] == pytest.approx(0.25 * M)
    assert t.loc["A", "p_miss_control_total"] == pytest.approx(0.4)
    assert t.loc["A", "p_lose_support"] == pytest.approx(0.4)
    assert t.loc["A", "p_worse_off"] == 0.0                   # standalone is its own baseline
    # Worst two x_A: −6, −5. np.quantile at 0.05 of 20 points: −6 + 0.95 × 1 = −£5.05m.
    assert t.loc["A", "var95"] == pytest.approx(-5.05 * M)
    # ceil(0.05 × 20) = 1 scenario in the tail: cvar95 = worst = −£6m.
    assert t.loc["A", "cvar95"] == pytest.approx(-6 * M)
    # The system's worst scenario is #16: x = (−6, −2), X = −8 → contributions −6 and −2.
    assert t.loc["A", "tail_contribution"] == pytest.approx(-6 * M)
    assert t.loc["B", "tail_contribution"] == pytest.approx(-2 * M)
    assert t.loc[SYSTEM_ROW, "cvar95"] == pytest.approx(-8 * M)
    assert np.isnan(t.loc["B", "p_lose_support"])           # B has no support at stake
    # B: mean v = 0.05m, mean final = 0.5 + 0.05 = £0.55m.
    assert t.loc["B", "mean_final"] == pytest.approx(0.55 * M)


def test_full_pooling_figures_worked_by_hand():
    t = rs.risk_table(load_preset("full_pooling_turnover"), duo(), V)
    # T = vA + vB < 0 in 6 of 20 scenarios (−1, −4, −0.5, −3, −3, −8): A misses its OCT and
    # loses its support in those; T = 0 (#20) still earns.
    assert t.loc["A", "p_miss_control_total"] == pytest.approx(0.3)
    assert t.loc["A", "p_lose_support"] == pytest.approx(0.3)
    assert t.loc[SYSTEM_ROW, "p_miss_control_total"] == pytest.approx(0.3)
    # Worst T = −8: A −2, B −6 (quarter / three quarters).
    assert t.loc["A", "cvar95"] == pytest.approx(-2 * M)
    assert t.loc["B", "cvar95"] == pytest.approx(-6 * M)


# -- the Euler identity on random systems ---------------------------------------------------------
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(members=st.integers(2, 5), scenarios=st.integers(1, 60), seed=st.integers(0, 10_000),
       preset=st.sampled_from(["standalone", "full_pooling_turnover", "gain_loss_50_50_deadband",
                               "support_cliff_2018_19"]),
       alpha=st.sampled_from([0.95, 0.9, 0.5]))
def test_tail_contributions_add_up_to_the_system_cvar(members, scenarios, seed, preset, alpha):
    system = rs.samples.synthetic(members, seed)
    v = rs.simulate(system, scenarios, seed=seed, correlation=0.3).variances
    t = rs.risk_table(load_preset(preset), system, v, alpha=alpha)
    contrib = t.drop(SYSTEM_ROW)["tail_contribution"].sum()
    assert contrib == pytest.approx(t.loc[SYSTEM_ROW, "cvar95"], abs=1e-6)
    # and no member's tail contribution is below its own cvar (its own worst k are worst)
    assert (t.drop(SYSTEM_ROW)["cvar95"] <= t.drop(SYSTEM_ROW)["tail_contribution"] + 1e-6).all()
    assert (t.drop(SYSTEM_ROW)["var95"] >= t.drop(SYSTEM_ROW)["cvar95"] - 1e-6).all()


# -- the deterministic path agrees ------------------------------------------------------------------
@pytest.mark.parametrize("preset", list_presets())
def test_single_scenario_risk_table_matches_apply(preset):
    agreement = load_preset(preset)
    system = rs.load_sample(agreement.sample or "northshire_2018_19")
    v = system.variance.to_numpy(float)[None, :]
    table = rs.risk_table(agreement, system, v)
    final = rs.apply(agreement, system).table["final"]
    # apply's table is the same run in whole pennies: within 3p of the unrounded figures
    np.testing.assert_allclose(table.drop(SYSTEM_ROW)["mean_final"].to_numpy(),
                               final.to_numpy(), atol=0.03)
    np.testing.assert_array_equal(table.drop(SYSTEM_ROW)["sd_final"].to_numpy(), 0.0)
    # the SYSTEM row covers the members inside the SCT (docs/reconciliation.md)
    assert table.loc[SYSTEM_ROW, "mean_final"] == pytest.approx(final[system.inside].sum(),
                                                                abs=0.03)


def test_risk_table_accepts_scenarios_objects_and_chunks_give_the_same_answer():
    system = rs.load_sample("northshire_2018_19")
    sc = rs.simulate(system, 1_000, seed=3)
    a = rs.risk_table(load_preset("gain_loss_50_50_deadband"), system, sc)
    b = rs.risk_table(load_preset("gain_loss_50_50_deadband"), system, sc.variances, chunk=77)
    pd.testing.assert_frame_equal(a, b)


# -- compare() -------------------------------------------------------------------------------------
TOML_TEXT = """\
name = "Half pooled"
[gains]
bands = [{ pool = 0.5 }]
[losses]
bands = [{ pool = 0.5 }]
[pool]
distribute = "basis"
basis = "turnover"
"""


def test_compare_is_tidy_and_accepts_names_objects_and_text():
    system = rs.load_sample("workshop_4")
    sc = rs.simulate(system, 500, seed=1)
    agreements = ["standalone", load_preset("full_pooling_turnover"), TOML_TEXT]
    table = rs.compare(agreements, system, sc)
    assert table.shape == (3 * (system.n + 1), 3 + len(METRICS))
    assert list(table.columns) == ["agreement", "org_id", "name", *METRICS]
    names = [load_preset("standalone").name, load_preset("full_pooling_turnover").name,
             "Half pooled"]
    assert list(dict.fromkeys(table["agreement"])) == names
    block = table[table["agreement"] == "Half pooled"]
    assert list(block["org_id"]) == [*system.members, SYSTEM_ROW]
    assert list(block["name"]) == [*system.orgs["name"], "Whole system"]
    # each block is the agreement's own risk_table
    own = rs.risk_table(TOML_TEXT, system, sc).reset_index()
    np.testing.assert_allclose(block[list(METRICS)].to_numpy(float),
                               own[list(METRICS)].to_numpy(float), equal_nan=True)


def test_compare_refuses_duplicate_names_and_empty_lists():
    system = rs.load_sample("workshop_4")
    with pytest.raises(ValueError, match="agreements to compare must have different names"):
        rs.compare(["standalone", load_preset("standalone")], system, None)
    with pytest.raises(ValueError, match="needs at least one agreement"):
        rs.compare([], system, None)


def test_compare_reports_progress_up_to_the_total():
    # 30,000 scenarios run in chunks of 25,000: two calls per agreement, four in all.
    system = rs.load_sample("workshop_4")
    v = rs.simulate(system, 30_000, seed=2).variances
    calls = []
    rs.compare(["standalone", "full_pooling_turnover"], system, v,
               progress=lambda done, total: calls.append((done, total)))
    assert calls == [(25_000, 60_000), (30_000, 60_000), (55_000, 60_000), (60_000, 60_000)]


def test_risk_table_refuses_malformed_variances():
    with pytest.raises(rs.ValidationError, match=r"must have one column per member \(2\)"):
        rs.risk_table(load_preset("standalone"), duo(), np.zeros((5, 3)))
    with pytest.raises(rs.ValidationError, match="found NaN or infinity"):
        rs.risk_table(load_preset("standalone"), duo(), np.full((5, 2), np.nan))


@pytest.mark.parametrize("alpha", [0, 1, 1.5, -0.1, True, "0.95", float("nan")])
def test_a_tail_level_outside_zero_to_one_is_refused_by_name(alpha):
    system = rs.load_sample("workshop_4")
    scenarios = rs.simulate(system, 20, seed=1)
    for call in (lambda: rs.risk_table("standalone", system, scenarios, alpha=alpha),
                 lambda: rs.compare(["standalone"], system, scenarios, alpha=alpha)):
        with pytest.raises(rs.ValidationError, match="column 'alpha'.*strictly between 0 and 1"):
            call()


@pytest.mark.parametrize("name, call", [
    ("incentives", lambda: rs.incentives("standalone", "workshop_4")),
    ("risk_table", lambda: rs.risk_table("standalone", "workshop_4", None)),
    ("compare", lambda: rs.compare(["standalone"], "workshop_4", None)),
    ("certificate", lambda: rs.games.certificate("workshop_4", "standalone")),
    ("from_agreement", lambda: rs.games.from_agreement("workshop_4", "standalone")),
])
def test_a_system_that_is_not_one_is_refused_naming_the_call_made(name, call):
    with pytest.raises(rs.ArgumentTypeError, match=rf"^{name}\(\) takes a riskshare System"):
        call()


def test_the_risk_table_states_what_each_row_is_measured_against():
    system = rs.load_sample("workshop_4")
    for table in (rs.risk_table("standalone", system, rs.simulate(system, 20, seed=1)),
                  rs.compare(["standalone"], system, rs.simulate(system, 20, seed=1))):
        assert table.attrs["references"] == {"members": "OCT", "SYSTEM": "ΣOCT",
                                             "SYSTEM p_miss_control_total": "SCT"}
        assert "against the SCT" in table.attrs["reference"]


def test_a_table_of_no_scenarios_is_refused_not_a_traceback():
    system = rs.load_sample("workshop_4")
    with pytest.raises(rs.ValidationError, match="holds no scenarios"):
        rs.risk_table("standalone", system, np.zeros((0, system.n)))


def test_one_agreement_on_its_own_is_compared_as_a_list_of_one():
    system = rs.load_sample("workshop_4")
    scenarios = rs.simulate(system, 50, seed=3)
    pd.testing.assert_frame_equal(rs.compare("standalone", system, scenarios),
                                  rs.compare(["standalone"], system, scenarios))
