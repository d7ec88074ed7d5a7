"""The sample registry (one list drives everything) and synthetic systems."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import riskshare as rs
from riskshare.core.samples import DEFAULT_SAMPLE, SAMPLES, catalogue, info, synthetic


def test_list_samples_is_the_registry_in_order():
    assert rs.list_samples() == list(SAMPLES)
    assert rs.list_samples()[:2] == ["northshire_2018_19", "workshop_4"]  # NHS systems first
    assert DEFAULT_SAMPLE in SAMPLES


@pytest.mark.parametrize("name", list(SAMPLES))
def test_every_sample_loads_and_reconciles(name):
    sample = SAMPLES[name]
    assert (sample.path / "organisations.csv").is_file()
    assert sample.path.name == name
    system = rs.load_sample(name)
    assert isinstance(system, rs.System)
    assert system.n >= 2
    assert system.name and system.year
    if name in ("northshire_2018_19", "workshop_4"):  # the NHS systems set their own SCT
        assert system.n >= 4 and system.control_total_set
    assert system.warnings == ()
    rec = rs.reconcile(system)
    assert list(rec.orgs.index) == list(system.members)
    assert len(rec.flags) >= 3
    reb = rs.rebalance(system)
    assert round(reb.total * 100) == round(system.control_total * 100)
    assert system.equals(rs.load_system(sample.path))


def test_catalogue_rows_match_the_registry():
    cat = catalogue()
    assert list(cat.index) == rs.list_samples()
    assert cat.index.name == "name"
    assert list(cat.columns) == ["title", "members", "description"]
    for name, row in cat.iterrows():
        assert row["title"] == SAMPLES[name].title
        assert row["description"] == SAMPLES[name].description
        assert row["members"] == rs.load_sample(name).n
    assert cat.loc["northshire_2018_19", "members"] == 9
    assert cat.loc["workshop_4", "members"] == 4


@pytest.mark.parametrize("name", ["nope", "Workshop_4", "", "northshire"])
def test_unknown_sample_lists_the_names(name):
    with pytest.raises(rs.UnknownSampleError) as error:
        rs.load_sample(name)
    assert str(error.value) == (f"no sample called '{name}' (samples: "
                                f"{', '.join(SAMPLES)})")
    assert isinstance(error.value, KeyError) and isinstance(error.value, rs.RiskshareError)
    with pytest.raises(rs.UnknownSampleError):
        info(name)


# -- synthetic systems ----------------------------------------------------------------------------
def test_synthetic_is_reproducible():
    a, b = synthetic(12, seed=42), synthetic(12, seed=42)
    assert a.equals(b)
    assert a.name == "Synthetic system (12 members, seed 42)" and a.year == "synthetic"
    assert synthetic(3, seed=1, name="Mine").name == "Mine"


def test_different_seeds_differ():
    a, b = synthetic(12, seed=1), synthetic(12, seed=2)
    assert not a.equals(b)
    assert not np.array_equal(a.orgs["turnover"].to_numpy(), b.orgs["turnover"].to_numpy())


@pytest.mark.parametrize("n", [1, 2, 9, 10, 100, 250])
def test_synthetic_shape(n):
    system = synthetic(n, seed=n)
    assert system.n == n
    assert system.orgs["kind"].iloc[0] == "commissioner"
    ids = list(system.members)
    assert len(set(ids)) == n
    assert ids[0] == "M" + "1".zfill(len(str(n)))  # zero-padded, so ids sort in member order
    assert ids == sorted(ids)
    assert set(system.orgs["kind"]) <= set(rs.KINDS)
    assert (system.orgs["turnover"] > 0).all()
    assert (system.orgs["support"] >= 0).all()
    assert system.control_total_set
    # volatility within ±30% of the default for the kind
    default = system.orgs["kind"].map(lambda k: rs.KINDS[k].default_volatility)
    assert ((system.orgs["volatility"] >= 0.7 * default - 0.01)
            & (system.orgs["volatility"] <= 1.3 * default + 0.01)).all()


def test_synthetic_gap_is_bounded_by_half_a_percent_of_trust_turnover():
    for seed in range(20):
        system = synthetic(15, seed=seed)
        providers = system.orgs["kind"].isin(
            ["acute", "community", "mental_health", "ambulance", "specialist"])
        trusts = system.orgs.loc[providers, "turnover"].sum() or system.orgs["turnover"].sum()
        assert abs(system.gap) <= 0.005 * trusts + 5_000  # + rounding to £10k


@pytest.mark.parametrize("n", [0, -3, 2.5, "4", None, 3.0])
def test_bad_n_raises(n):
    with pytest.raises(ValueError) as error:
        synthetic(n)
    assert str(error.value) == f"n must be a whole number of members, at least 1 (got {n!r})"


def test_numpy_integer_n_is_accepted():
    assert synthetic(np.int64(5), seed=0).n == 5
    pd.testing.assert_frame_equal(synthetic(np.int64(5), seed=0).orgs, synthetic(5, seed=0).orgs)
