"""Agreement files: every bad agreement is refused with a precise message (the shared table in
tests/bad_agreements.py), the TOML round trip is exact, and `load_agreement` / `replace` behave
as documented."""

from __future__ import annotations

import re
from dataclasses import replace as dc_replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import riskshare as rs
from riskshare.agreements.presets import list_presets, load_preset, preset_path
from riskshare.agreements.spec import Agreement, Band, Pool, Reserve, Schedule, Support
from riskshare.core.errors import INVISIBLE
from tests.bad_agreements import (
    BAD_AGREEMENTS,
    BAD_TOML_SYNTAX,
    GOOD_AGREEMENT,
    KNOWN_BUG_AGREEMENTS,
    BadAgreement,
    bad_agreement_params,
)

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def refuse(case: BadAgreement) -> rs.ValidationError:
    """Run a case through the library where its `at` says; return the ValidationError."""
    if case.at == "load":
        with pytest.raises(rs.ValidationError) as info:
            rs.load_agreement(case.toml)
    else:
        agreement = rs.load_agreement(case.toml)   # the file on its own is fine
        with pytest.raises(rs.ValidationError) as info:
            rs.apply(agreement, rs.load_sample(case.system))
    return info.value


# -- the shared bad-agreement table ----------------------------------------------------------------
def test_good_agreement_loads_and_applies():
    agreement = rs.load_agreement(GOOD_AGREEMENT)
    assert agreement.name == "Test agreement"
    assert agreement.gains.bands == (Band(0.0, 0.5), Band(0.5, 2.0), Band(0.25))
    assert agreement.losses.threshold == 0.1 and agreement.losses.below_threshold_pool == 0.0
    assert agreement.reserve == Reserve("D", 500_000.0)
    assert agreement.support == Support("organisation", 0.5, True, 1.0, "redistribute")
    rs.apply(agreement, rs.load_sample("workshop_4"))           # no error
    assert rs.load_agreement(agreement.to_toml()) == agreement


def test_bad_agreement_table_covers_the_required_defects():
    ids = {c.id for c in BAD_AGREEMENTS}
    assert {"unknown_top_level_key", "unknown_key_in_gains", "unknown_key_in_pool",
            "unknown_key_in_support", "unknown_key_in_band", "bands_out_of_order",
            "bands_equal_upto", "last_band_has_upto", "non_last_band_without_upto",
            "band_without_pool", "band_pool_above_one", "band_pool_negative",
            "max_pool_negative", "max_keep_negative", "threshold_negative",
            "max_charge_negative", "taper_negative", "below_threshold_pool_without_threshold",
            "distribute_unknown", "counterparty_missing", "rule_unknown", "rule_without_claims",
            "support_test_unknown", "system_share_above_one", "system_share_with_system_test",
            "after_sharing_not_boolean", "unearned_unknown", "name_missing",
            "reserve_without_holder", "reserve_amount_negative", "counterparty_not_a_member",
            "reserve_holder_not_a_member", "exempt_not_a_member", "scale_column_missing",
            "scale_column_not_numeric", "scale_column_has_zero", "basis_column_missing",
            "inline_weights_miss_a_member", "inline_weights_name_a_non_member"} <= ids
    assert {c.at for c in BAD_AGREEMENTS} == {"load", "apply"}
    for case in BAD_AGREEMENTS + KNOWN_BUG_AGREEMENTS:
        assert case.toml != GOOD_AGREEMENT and case.expected
        assert case.system in rs.list_samples()


@pytest.mark.parametrize("case", bad_agreement_params(BAD_AGREEMENTS + KNOWN_BUG_AGREEMENTS))
def test_bad_agreement_is_refused_with_a_precise_message(case: BadAgreement):
    err = refuse(case)
    message = str(err)
    missing = [f for f in case.expected if f not in message]
    assert not missing, f"fragments {missing} not in:\n{message}"
    assert err.problems and all(p.severity == "error" for p in err.problems)
    n = len(err.problems)
    head = f"{n} problem{'s' if n != 1 else ''} in "
    assert message.startswith(head + ("agreement:" if case.at == "load" else "agreement '"))
    assert message.count("\n  - ") == n
    assert isinstance(err, ValueError) and isinstance(err, rs.RiskshareError)


@pytest.mark.parametrize("case", [c for c in BAD_AGREEMENTS if c.at == "load"], ids=lambda c: c.id)
def test_load_time_defects_name_the_file_when_loaded_from_a_path(case, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(case.toml, encoding="utf-8")
    with pytest.raises(rs.ValidationError) as info:
        rs.load_agreement(path)
    assert str(info.value).startswith(f"{len(info.value.problems)} problem")
    assert " in bad.toml:" in str(info.value).split("\n")[0]
    assert all(f in str(info.value) for f in case.expected)


def test_invalid_toml_is_an_input_file_error_not_a_validation_error(tmp_path):
    with pytest.raises(rs.InputFileError) as info:
        rs.load_agreement(BAD_TOML_SYNTAX.toml)
    assert not isinstance(info.value, rs.ValidationError)
    assert all(f in str(info.value) for f in BAD_TOML_SYNTAX.expected)
    assert str(info.value).startswith("agreement: not valid TOML (")
    path = tmp_path / "broken.toml"
    path.write_text(BAD_TOML_SYNTAX.toml)
    with pytest.raises(rs.InputFileError, match=r"^broken\.toml: not valid TOML \(.*line 1"):
        rs.load_agreement(path)


def test_missing_agreement_file_is_an_input_file_error(tmp_path):
    with pytest.raises(rs.InputFileError, match="no such agreement file"):
        rs.load_agreement(tmp_path / "nope.toml")
    with pytest.raises(rs.InputFileError, match="no such agreement file"):
        rs.load_agreement(str(tmp_path / "nope.toml"))


def test_a_directory_is_an_input_file_error(tmp_path):
    with pytest.raises(rs.InputFileError):
        rs.load_agreement(tmp_path)


def test_a_str_path_containing_an_equals_sign_is_read_as_a_path(tmp_path):
    folder = tmp_path / "rate=0.5"
    folder.mkdir()
    path = folder / "a.toml"
    path.write_text(GOOD_AGREEMENT)
    assert rs.load_agreement(str(path)) == rs.load_agreement(GOOD_AGREEMENT)


def test_several_problems_are_all_listed_once():
    case = next(c for c in BAD_AGREEMENTS if c.id == "several_problems")
    err = refuse(case)
    assert {p.column for p in err.problems} == {"colour", "gains.bands[1].pool", "support.test"}
    by_column = {p.column: p for p in err.problems}
    assert by_column["gains.bands[1].pool"].value == 1.5
    assert by_column["support.test"].value == "x"


# -- loading from a Path, a str path and text ---------------------------------------------------
def test_load_agreement_from_path_str_path_text_and_agreement(tmp_path):
    path = tmp_path / "good.toml"
    path.write_text(GOOD_AGREEMENT, encoding="utf-8")
    from_text = rs.load_agreement(GOOD_AGREEMENT)
    assert rs.load_agreement(path) == from_text
    assert rs.load_agreement(str(path)) == from_text
    assert rs.load_agreement(from_text) is from_text
    assert isinstance(from_text, Agreement)


def test_load_agreement_of_a_one_line_text():
    assert rs.load_agreement('name = "Minimal"') == Agreement("Minimal")


def test_defaults_of_a_minimal_agreement():
    a = rs.load_agreement('name = "  Minimal  "\n')
    assert a.name == "Minimal"          # stripped
    assert a.scale == "turnover" and a.exempt == () and a.reserve is None
    assert a.gains == a.losses == Schedule() and a.gains.shares_nothing
    assert a.pool == Pool("basis", "turnover", None, "proportional", None, None)
    assert a.support == Support("organisation", 0.0, True, 0.0, "lost")


def test_inline_weights_are_kept_in_order_as_floats():
    a = rs.load_agreement('name = "w"\n[pool]\nbasis = { B = 2, A = 1.5 }\n')
    assert a.pool.basis == (("B", 2.0), ("A", 1.5))


# -- the TOML round trip ------------------------------------------------------------------------
@pytest.mark.parametrize("name", list_presets())
def test_every_preset_round_trips_through_toml(name):
    a = load_preset(name)
    assert rs.load_agreement(a.to_toml()) == a
    assert rs.load_agreement(preset_path(name)) == a
    assert a.sample in rs.list_samples()


def test_every_preset_is_listed_and_loads():
    stems = sorted(p.stem for p in preset_path("standalone").parent.glob("*.toml"))
    assert sorted(list_presets()) == stems
    assert len(stems) == 15   # 12 + the two elective recovery fund presets + deficit support


_SHARE = st.sampled_from([0.0, 0.25, 0.5, 0.6, 0.8, 1.0])
_PCT = st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.5, 10.0])


@st.composite
def schedule_tables(draw) -> dict:
    k = draw(st.integers(1, 3))
    uptos = sorted(draw(st.sets(st.sampled_from([0.5, 1.0, 2.0, 3.0, 8.0]), min_size=k - 1,
                                max_size=k - 1)))
    bands = [{"upto": u, "pool": draw(_SHARE)} for u in uptos] + [{"pool": draw(_SHARE)}]
    out: dict = {"bands": bands}
    if draw(st.booleans()):
        out["threshold"] = draw(_PCT)
        out["below_threshold_pool"] = draw(_SHARE)
    for key in ("max_pool", "max_keep"):
        if draw(st.booleans()):
            out[key] = draw(_PCT)
    return out


# names may not hold control or invisible characters (format characters, line separators,
# variation selectors, fillers: riskshare.errors.INVISIBLE)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cf", "Zl", "Zp")),
               max_size=12).filter(lambda t: not re.search(f"[{INVISIBLE}]", t))


@st.composite
def agreement_tables(draw) -> dict:
    members = ["A", "B", "C", "D"]
    doc: dict = {"name": draw(TEXT.filter(lambda s: s.strip())).strip()}
    if draw(st.booleans()):
        doc["description"] = draw(TEXT)
    if draw(st.booleans()):
        doc["sample"] = "workshop_4"
    if draw(st.booleans()):
        doc["scale"] = draw(st.sampled_from(["turnover", "support"]))
    if draw(st.booleans()):
        doc["exempt"] = draw(st.lists(st.sampled_from(members), unique=True, max_size=2))
    for key in ("gains", "losses"):
        if draw(st.booleans()):
            doc[key] = draw(schedule_tables())
    pool: dict = {"distribute": draw(st.sampled_from(["basis", "counterparty", "claims"]))}
    if pool["distribute"] == "counterparty":
        pool["counterparty"] = draw(st.sampled_from(members))
    else:
        pool["basis"] = draw(st.one_of(
            st.sampled_from(["turnover", "equal", "support"]),
            st.fixed_dictionaries({m: st.sampled_from([0.0, 1.0, 2.5]) for m in members})
            .filter(lambda d: sum(d.values()) > 0)))
    if pool["distribute"] == "claims" and draw(st.booleans()):
        pool["rule"] = draw(st.sampled_from(sorted(rs.claims.RULES)))
    for key in ("max_charge", "max_award"):
        if draw(st.booleans()):
            pool[key] = draw(_PCT)
    doc["pool"] = pool
    if draw(st.booleans()):
        doc["reserve"] = {"holder": draw(st.sampled_from(members)),
                          "amount": draw(st.sampled_from([0.0, 250_000.0, 1e6]))}
    support: dict = {"test": draw(st.sampled_from(["organisation", "system", "none"]))}
    if support["test"] == "organisation" and draw(st.booleans()):
        support["system_share"] = draw(_SHARE)
    support["after_sharing"] = draw(st.booleans())
    support["taper"] = draw(_PCT)
    support["unearned"] = draw(st.sampled_from(["lost", "redistribute"]))
    doc["support"] = support
    return doc


@FAST
@given(agreement_tables())
def test_random_agreements_round_trip_through_toml(doc):
    a = Agreement.from_dict(doc)
    text = a.to_toml()
    again = rs.load_agreement(text)
    assert again == a
    assert again.to_toml() == text                        # stable
    assert Agreement.from_dict(a.to_dict()) == a


def test_counterparty_agreement_with_a_basis_round_trips():
    a = rs.load_agreement('name = "x"\n[pool]\ndistribute = "counterparty"\n'
                          'counterparty = "D"\nbasis = "equal"\n')
    assert rs.load_agreement(a.to_toml()) == a


# -- Agreement.replace re-validates -------------------------------------------------------------
def test_replace_returns_a_validated_copy():
    a = load_preset("gain_loss_50_50_deadband")
    b = a.replace(exempt=("D",), pool=dc_replace(a.pool, max_charge=2.0))
    assert b.exempt == ("D",) and b.pool.max_charge == 2.0
    assert b.gains == a.gains and a.exempt == () and a.pool.max_charge == 1.0
    assert b == dc_replace(a, exempt=("D",), pool=dc_replace(a.pool, max_charge=2.0))


@pytest.mark.parametrize("changes, fragment", [
    (dict(name=""), "key 'name': every agreement needs a non-empty 'name'"),
    (dict(pool=Pool(max_charge=-1.0)), "key 'pool.max_charge': -1 must be at least 0"),
    (dict(pool=Pool(distribute="pro_rata")), "key 'pool.distribute': 'pro_rata' must be one of"),
    (dict(pool=Pool(distribute="counterparty")), "needs a 'counterparty' member"),
    (dict(pool=Pool(rule="cea")), "key 'pool.rule': is only used with distribute = 'claims'"),
    (dict(gains=Schedule(bands=(Band(1.5),))), "key 'gains.bands[1].pool': 1.5 is a share"),
    (dict(losses=Schedule(bands=(Band(0.5, 2.0), Band(0.2, 1.0), Band(0.0)))),
     "key 'losses.bands[2].upto': bands must rise"),
    (dict(losses=Schedule(bands=(Band(0.5), Band(0.2, 1.0)))),
     "key 'losses.bands[1]': only the last band may have no 'upto'"),
    (dict(support=Support(test="system", system_share=0.3)), "key 'support.system_share'"),
    (dict(support=Support(taper=-2.0)), "key 'support.taper': -2 must be at least 0"),
    (dict(reserve=Reserve("", 5.0)), "key 'reserve.holder': needs a 'holder' member"),
    (dict(reserve=Reserve("D", -5.0)), "key 'reserve.amount': -5 must be at least 0"),
])
def test_replace_re_validates(changes, fragment):
    a = load_preset("gain_loss_50_50_deadband")
    with pytest.raises(rs.ValidationError) as info:
        a.replace(**changes)
    assert fragment in str(info.value)
    n = len(info.value.problems)
    assert str(info.value).startswith(f"{n} problem{'s' if n != 1 else ''} in {a.name}:")


def test_replace_refuses_below_threshold_pool_without_threshold():
    a = load_preset("gain_loss_50_50_deadband")
    with pytest.raises(rs.ValidationError, match="has no effect without a 'threshold'"):
        a.replace(gains=Schedule(bands=(Band(0.5),), below_threshold_pool=0.5))


def test_check_lists_every_system_problem_at_once():
    a = rs.load_agreement('name = "x"\nscale = "target"\nexempt = ["Q"]\n'
                          '[pool]\nbasis = "contribution"\n[reserve]\nholder = "Z"\namount = 1.0\n')
    problems = a.check(rs.load_sample("workshop_4"))
    assert [p.column for p in problems] == ["exempt", "reserve.holder", "scale", "pool.basis"]
    # a system that has every member and column named is fine
    fits = rs.System.from_frame(rs.load_sample("pooled_budget_2").to_frame()
                                .assign(target=1.0, org_id=["Q", "Z"]), 0.0)
    assert a.check(fits) == []
