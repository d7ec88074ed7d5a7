"""Agreements in words a finance director can read: every problem of an agreement reported at
once (its own and, given the system, those against it), member lists in messages cut short for
a system of thousands, and incentive rates that never read as a negative zero."""

from __future__ import annotations

import numpy as np
import pytest

import riskshare as rs
from riskshare.agreements import describe
from riskshare.agreements.catalogue import list_presets
from riskshare.agreements.incentives import incentives
from riskshare.agreements.presets import load_preset
from riskshare.agreements.spec import read_agreement_text
from riskshare.core.errors import NotFoundError, ValidationError
from tests.bad_agreements import NONSENSE

#: Wrong in nine ways of its own, and in two more that only a system can show.
OWN_KEYS = ["colour", "gains.bands[1].pool", "gains.bands[2].pool", "gains.max_pool",
            "pool.distribute", "pool.rule", "pool.max_award", "support.test", "support.taper"]


def keys(exc: ValidationError) -> list[str]:
    return [p.column for p in exc.problems]


def test_on_its_own_the_file_s_own_problems_are_all_reported():
    with pytest.raises(ValidationError) as info:
        read_agreement_text(NONSENSE, "nonsense.toml")
    assert keys(info.value) == OWN_KEYS


def test_with_the_system_the_scale_and_exempt_problems_come_in_the_same_pass():
    system = rs.load_sample("northshire_2018_19")
    with pytest.raises(ValidationError) as info:
        read_agreement_text(NONSENSE, "nonsense.toml", system)
    assert keys(info.value) == OWN_KEYS + ["exempt", "scale"]
    text = str(info.value)
    assert text.startswith("11 problems in nonsense.toml:")
    assert "key 'exempt': names 'NOPE', which is not a member of the system (members: NGH, " \
           "SVH, NCH, NVP, RAS, NCC, CCG, NSC, VGP)" in text   # the sample's CSV, in order
    assert "key 'scale': 'banana' is not a numeric column of the system" in text
    # load_agreement takes the system too (TOML text here)
    with pytest.raises(ValidationError) as again:
        rs.load_agreement(NONSENSE, system=system)
    assert keys(again.value) == keys(info.value)


def test_a_key_already_wrong_is_not_reported_twice():
    # the holder is missing (the file's problem); the system check would name '' as well
    text = 'name = "x"\n[reserve]\namount = 1000\n'
    with pytest.raises(ValidationError) as info:
        read_agreement_text(text, "x.toml", rs.load_sample("workshop_4"))
    assert keys(info.value) == ["reserve.holder"]


def test_a_good_file_that_fits_loads_with_the_system():
    a = read_agreement_text('name = "Pool all"\n[gains]\nbands = [{ pool = 1.0 }]\n', "ok",
                            rs.load_sample("workshop_4"))
    assert a.gains.bands[0].pool == 1.0


def test_the_members_a_message_lists_are_cut_short_for_a_large_system():
    system = rs.samples.synthetic(5000, 1)
    a = rs.load_agreement('name = "x"\nexempt = ["NOPE"]\n')
    (problem,) = a.check(system)
    members = ", ".join(system.members[:12])
    assert str(problem) == ("key 'exempt': names 'NOPE', which is not a member of the system "
                            f"(members: {members} and 4,988 more)")
    with pytest.raises(NotFoundError) as info:
        rs.apply("standalone", system).explain("NOPE")
    assert str(info.value).strip("'\"").endswith(f"(members: {members} and 4,988 more)")


@pytest.mark.parametrize("preset", list_presets())
def test_incentive_rates_are_never_a_negative_zero(preset):
    agreement = load_preset(preset)
    system = rs.load_sample(agreement.sample)
    assert not describe.fit(agreement, system)
    table = incentives(agreement, system).table
    for column in ("retention_gain", "retention_loss", "support_per_pound"):
        values = table[column].to_numpy()
        assert not np.signbit(values[values == 0]).any(), (preset, column)
