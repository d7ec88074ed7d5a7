"""Agreement keys that published rules need (issue 16 §3), worked by hand on small systems built
with rs.System.from_frame: the 2018/19 PSF's 70/30 finance/performance split, an incentive match
and its cap, the 2020/21 FRF for deficit organisations only with the 0.5% surplus reward, the
MSSP minimum savings rate by assigned beneficiaries (42 CFR 425.604(b)) and the quality score.
Money in £; surplus +."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import riskshare as rs
from riskshare.agreements import describe
from riskshare.core.errors import ValidationError

SUPPORT_ONLY = """
name = "t"
[support]
test = "organisation"
after_sharing = false
"""


def system(rows: list[dict], sct=None) -> rs.System:
    return rs.System.from_frame(pd.DataFrame(rows), sct, "t")


def trusts(**extra) -> rs.System:
    # A: OCT −£2m, forecast −£2m (meets it); B: OCT −£1m, forecast −£1.5m (misses by £0.5m);
    # C: OCT +£1m, forecast +£1.4m (beats it by £0.4m). Support £10m, £4m, £2m.
    rows = [
        {"org_id": "A", "name": "A", "kind": "acute", "turnover": 400e6,
         "control_total": -2e6, "forecast": -2e6, "support": 10e6},
        {"org_id": "B", "name": "B", "kind": "acute", "turnover": 200e6,
         "control_total": -1e6, "forecast": -1.5e6, "support": 4e6},
        {"org_id": "C", "name": "C", "kind": "acute", "turnover": 100e6,
         "control_total": 1e6, "forecast": 1.4e6, "support": 2e6},
    ]
    for key, values in extra.items():
        for row, value in zip(rows, values, strict=True):
            row[key] = value
    return system(rows)


def earned(outcome) -> dict[str, float]:
    values = np.asarray(outcome["support_earned"], dtype=float).ravel().tolist()
    return dict(zip(outcome.base.members, values, strict=True))


def conserved(outcome) -> None:
    s = outcome.system
    assert float(np.sum(outcome["received"])) + float(s["unallocated"]) == \
        pytest.approx(float(np.sum(outcome["pooled"])), abs=0.005)


# -- the 2018/19 PSF: 70% finance, 30% performance --------------------------------------------------
def test_performance_element_is_30_percent_earned_by_the_column():
    text = SUPPORT_ONLY + 'performance_share = 0.3\nperformance_by = "ae"\n'
    out = rs.apply(text, trusts(ae=[0.5, 1.0, 0.0]))
    # A meets its CT: 70% × £10m + 30% × 0.5 × £10m = £7m + £1.5m = £8.5m
    # B misses:       0 + 30% × 1.0 × £4m = £1.2m
    # C beats its CT: 70% × £2m + 30% × 0 × £2m = £1.4m
    assert earned(out) == pytest.approx({"A": 8.5e6, "B": 1.2e6, "C": 1.4e6}, abs=0.005)
    s = out.system
    # at stake £16m; earned £11.1m; lost £4.9m
    assert s["support_at_stake"] == pytest.approx(16e6, abs=0.005)
    assert s["support_lost"] == pytest.approx(4.9e6, abs=0.005)
    conserved(out)


def test_without_the_column_all_support_follows_the_control_total():
    text = SUPPORT_ONLY + 'performance_share = 0.3\nperformance_by = "ae"\n'
    out = rs.apply(text, trusts())
    # the cliff alone: A £10m, B £0 (misses), C £2m
    assert earned(out) == pytest.approx({"A": 10e6, "B": 0.0, "C": 2e6}, abs=0.005)


# -- an incentive match and its cap ------------------------------------------------------------------
def test_incentive_matches_each_pound_above_the_control_total():
    out = rs.apply(SUPPORT_ONLY + "incentive_rate = 1.0\n", trusts())
    # C is £0.4m above its CT: support £2m + incentive 1 × £0.4m = £2.4m; A exactly on it: £10m
    assert earned(out) == pytest.approx({"A": 10e6, "B": 0.0, "C": 2.4e6}, abs=0.005)
    s = out.system
    # at stake £16m (the incentive is not at stake); lost: B's £4m only
    assert s["support_at_stake"] == pytest.approx(16e6, abs=0.005)
    assert s["support_lost"] == pytest.approx(4e6, abs=0.005)
    # standalone reads the same position (no sharing): vs_standalone 0
    np.testing.assert_allclose(out["vs_standalone"], 0.0, atol=0.005)


def test_incentive_cap_is_a_percent_of_scale():
    out = rs.apply(SUPPORT_ONLY + "incentive_rate = 2.0\nincentive_cap = 0.3\n", trusts())
    # C: 2 × £0.4m = £0.8m, capped at 0.3% × £100m = £0.3m ⇒ £2m + £0.3m = £2.3m
    assert earned(out)["C"] == pytest.approx(2.3e6, abs=0.005)


# -- the 2020/21 FRF: deficit organisations only, 0.5% reward for a surplus -----------------------
FRF = SUPPORT_ONLY + "deficit_only = true\nsurplus_reward = 0.5\n"


def test_frf_is_paid_to_deficit_members_and_the_surplus_member_earns_the_reward():
    out = rs.apply(FRF, trusts())
    # A (deficit CT, meets it) £10m; B (deficit CT, misses) £0; C (surplus plan, no FRF):
    # outturn +£1.4m ≥ 0 ⇒ reward 0.5% × £100m = £0.5m
    assert earned(out) == pytest.approx({"A": 10e6, "B": 0.0, "C": 0.5e6}, abs=0.005)
    s = out.system
    # at stake: A £10m + B £4m + C's reward £0.5m = £14.5m (C's £2m is not at stake); lost £4m
    assert s["support_at_stake"] == pytest.approx(14.5e6, abs=0.005)
    assert s["support_lost"] == pytest.approx(4e6, abs=0.005)
    conserved(out)


def test_no_reward_when_the_surplus_member_ends_in_deficit():
    sysm = trusts()
    out = rs.apply(FRF, sysm, [0.0, -0.5e6, -1.2e6])
    # C: OCT +£1m, variance −£1.2m ⇒ outturn −£0.2m < 0 ⇒ no reward
    assert earned(out)["C"] == pytest.approx(0.0, abs=0.005)


def test_reward_is_not_for_members_outside_the_sct():
    sysm = trusts(in_sct=[True, True, False])
    out = rs.apply(FRF, sysm)
    # C is outside the SCT: no FRF and no reward
    assert earned(out)["C"] == pytest.approx(0.0, abs=0.005)


# -- MSSP: minimum savings rate by beneficiaries, quality score ----------------------------------------
MSSP = """
name = "mssp"
scale = "benchmark"
exempt = ["CMS"]
[gains]
threshold_by = "beneficiaries"
threshold_table = [[5000, 3.9], [6000, 3.6], [7000, 3.4], [8000, 3.2], [9000, 3.1],
                   [10000, 3.0], [15000, 2.7], [20000, 2.5], [50000, 2.2], [60000, 2.0]]
below_threshold_pool = 1.0
bands = [{ pool = 0.6 }]
quality_by = "quality"
max_keep = 10.0
[losses]
bands = [{ pool = 1.0 }]
[pool]
distribute = "counterparty"
counterparty = "CMS"
[support]
test = "none"
"""


def aco(beneficiaries: float, quality: float, savings: float) -> rs.System:
    return system([
        {"org_id": "ACO", "name": "ACO", "kind": "primary_care", "turnover": 100e6,
         "control_total": 0.0, "forecast": savings, "support": 0.0, "benchmark": 100e6,
         "beneficiaries": beneficiaries, "quality": quality},
        {"org_id": "CMS", "name": "CMS", "kind": "commissioner", "turnover": 1e9,
         "control_total": 0.0, "forecast": 0.0, "support": 0.0, "benchmark": 1e9,
         "beneficiaries": 0, "quality": 0},
    ])


def at(outcome, column: str, i: int) -> float:
    return float(np.asarray(outcome[column], dtype=float).ravel()[i])


def kept(outcome) -> float:
    return at(outcome, "retained", 0)


@pytest.mark.parametrize(("beneficiaries", "savings", "keeps"), [
    # 5,000 beneficiaries: MSR 3.9%; savings 3.8% < 3.9% ⇒ nothing; 3.9% ⇒ 40% × £3.9m = £1.56m
    (5000, 3.8e6, 0.0), (5000, 3.9e6, 1.56e6),
    # fewer than the table's first point read as its first rate (3.9%)
    (4000, 3.8e6, 0.0),
    # 60,000 and more: 2.0%; savings 1.9% ⇒ nothing, 2.0% ⇒ 40% × £2m = £0.8m
    (60000, 1.9e6, 0.0), (60000, 2.0e6, 0.8e6), (90000, 2.0e6, 0.8e6),
    # 5,500: halfway between 3.9% and 3.6% = 3.75%; savings 3.7% ⇒ nothing, 3.8% ⇒ £1.52m
    (5500, 3.7e6, 0.0), (5500, 3.8e6, 1.52e6),
])
def test_minimum_savings_rate_by_assigned_beneficiaries(beneficiaries, savings, keeps):
    out = rs.apply(MSSP, aco(beneficiaries, 1.0, savings))
    assert kept(out) == pytest.approx(keeps, abs=0.005)
    conserved(out)


def test_a_smaller_aco_with_a_lower_quality_score_keeps_less():
    # the mssp_2 ACO (≥ 60,000 beneficiaries, quality 1.0) keeps 40% × £5m = £2m; an ACO of
    # 8,000 (MSR 3.2%) with quality 0.8 and the same £5m (5% > 3.2%) keeps 40% × 0.8 × £5m =
    # £1.6m; the payer keeps £3.4m
    big = rs.apply(MSSP, aco(60000, 1.0, 5e6))
    small = rs.apply(MSSP, aco(8000, 0.8, 5e6))
    assert kept(big) == pytest.approx(2e6, abs=0.005)
    assert kept(small) == pytest.approx(1.6e6, abs=0.005)
    assert at(small, "received", 1) == pytest.approx(3.4e6, abs=0.005)
    conserved(small)


def test_quality_applies_before_the_performance_payment_limit():
    # savings £30m (30%): 40% × 1.0 × £30m = £12m, capped at 10% × £100m = £10m; with quality
    # 0.5: 40% × 0.5 × £30m = £6m, under the cap
    assert kept(rs.apply(MSSP, aco(60000, 1.0, 30e6))) == pytest.approx(10e6, abs=0.005)
    assert kept(rs.apply(MSSP, aco(60000, 0.5, 30e6))) == pytest.approx(6e6, abs=0.005)


def test_the_mssp_2_sample_keeps_its_published_figures():
    out = rs.apply("mssp_one_sided", rs.load_sample("mssp_2"))
    assert kept(out) == pytest.approx(2e6, abs=0.005)          # the ACO keeps £2m
    assert at(out, "received", 1) == pytest.approx(3e6, abs=0.005)   # the payer £3m
    two = rs.apply("mssp_two_sided", rs.load_sample("mssp_2"))
    assert kept(two) == pytest.approx(3.75e6, abs=0.005)


# -- the TOML round trip and the words ---------------------------------------------------------------
@pytest.mark.parametrize("text", [MSSP, FRF, SUPPORT_ONLY + 'performance_share = 0.3\n'
                                  'performance_by = "ae"\nincentive_rate = 1.0\n'
                                  "incentive_cap = 0.5\n"])
def test_new_keys_survive_the_toml_round_trip_and_are_described(text):
    a = rs.load_agreement(text)
    assert rs.load_agreement(a.to_toml()) == a
    words = " ".join(describe.explain(a))
    for key in ("threshold", "quality", "deficit", "reward", "performance", "incentive"):
        if key in text.replace("threshold_table", "") or (key == "reward" and "surplus" in text):
            assert key in words


# -- invalid keys, by key path -------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "key"), [
    ('[gains]\nthreshold_by = "beneficiaries"\n', "gains.threshold_by"),
    ("[gains]\nthreshold_table = [[5000, 3.9]]\n", "gains.threshold_table"),
    ('[gains]\nthreshold_by = "b"\nthreshold_table = [[6000, 3.9], [5000, 3.6]]\n',
     "gains.threshold_table[2][1]"),
    ('[gains]\nthreshold_by = "b"\nthreshold_table = [[5000, -1]]\n',
     "gains.threshold_table[1][2]"),
    ('[gains]\nthreshold_by = "b"\nthreshold_table = [5000]\n', "gains.threshold_table[1]"),
    ('[gains]\nthreshold = 2.0\nthreshold_by = "b"\nthreshold_table = [[1, 2]]\n',
     "gains.threshold_by"),
    ('[losses]\nquality_by = "quality"\n', "losses.quality_by"),
    ("[support]\nperformance_share = 1.5\n", "support.performance_share"),
    ("[support]\nperformance_share = 0.3\n", "support.performance_share"),
    ('[support]\nperformance_by = "ae"\n', "support.performance_by"),
    ("[support]\nincentive_rate = -1\n", "support.incentive_rate"),
    ("[support]\nincentive_cap = 1.0\n", "support.incentive_cap"),
    ('[support]\ndeficit_only = "yes"\n', "support.deficit_only"),
    ("[support]\nsurplus_reward = -0.5\n", "support.surplus_reward"),
    ("[support]\nbonus = 1\n", "support.bonus"),
])
def test_invalid_keys_are_refused_by_key_path(text, key):
    with pytest.raises(ValidationError) as info:
        rs.load_agreement('name = "bad"\n' + text)
    assert key in [p.column for p in info.value.problems]
    assert f"key '{key}'" in str(info.value)


@pytest.mark.parametrize(("column", "values", "key"), [
    ("beneficiaries", None, "gains.threshold_by"),               # missing column
    ("quality", (1.5, 0), "gains.quality_by"),                   # a score above 1
])
def test_columns_the_keys_read_are_checked_against_the_system(column, values, key):
    sysm = aco(60000, 1.0, 5e6)
    orgs = sysm.orgs.reset_index()
    if values is None:
        orgs = orgs.drop(columns=[column])
    else:
        orgs[column] = list(values)
    with pytest.raises(ValidationError) as info:
        rs.apply(MSSP, system(orgs.to_dict("records")))
    assert key in [p.column for p in info.value.problems]


def test_a_text_column_named_as_a_rule_column_is_called_not_numeric():
    text = rs.load_agreement("mssp_one_sided").to_toml().replace(
        'threshold_by = "beneficiaries"', 'threshold_by = "name"')
    with pytest.raises(ValidationError) as err:
        rs.apply(text, rs.load_sample("mssp_2"))
    assert "key 'gains.threshold_by': 'name' is not a numeric column of the system" in str(
        err.value)
