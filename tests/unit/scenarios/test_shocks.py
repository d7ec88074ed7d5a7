"""Named shocks (`rs.load_shock`, `shocked_variances`, shocks in `rs.simulate`): the presets on
northshire_2018_19 worked out by hand, and precise messages for bad shocks.

Money in £, favourable +. Northshire turnover: NGH £512.4m, SVH £368.9m (the two acute trusts).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

import riskshare as rs
from riskshare.scenarios.shocks import list_shocks, shock_vector, shocks_dir

NORTHSHIRE = "northshire_2018_19"


@pytest.fixture(scope="module")
def north() -> rs.System:
    return rs.load_sample(NORTHSHIRE)


def vec(shock, system) -> dict[str, float]:
    return dict(zip(system.members, shock_vector(shock, system).tolist(), strict=True))


# -- the presets ------------------------------------------------------------------------------------
def test_the_presets_are_listed():
    assert list_shocks() == ["efficiency_slip", "provider_10m", "winter_pressure"]


@pytest.mark.parametrize("name", list_shocks())
def test_each_preset_loads_by_name_and_by_path(name):
    shock = rs.load_shock(name)
    assert isinstance(shock, rs.Shock) and shock.name and shock.description
    assert len(shock.effects) >= 1
    assert rs.load_shock(shocks_dir() / f"{name}.toml") == shock
    assert rs.load_shock(str(shocks_dir() / f"{name}.toml")) == shock
    assert rs.load_shock(shock) is shock


def test_winter_pressure_moves_exactly_the_two_acute_trusts_by_2pct_of_turnover(north):
    # NGH: −2% × £512,400,000 = −£10,248,000;  SVH: −2% × £368,900,000 = −£7,378,000.
    v = vec("winter_pressure", north)
    assert v == pytest.approx({"NGH": -10_248_000, "SVH": -7_378_000, "NCH": 0, "NVP": 0,
                               "RAS": 0, "NCC": 0, "CCG": 0, "NSC": 0, "VGP": 0}, abs=1e-6)
    assert set(north.orgs.index[north.orgs["kind"] == "acute"]) == {"NGH", "SVH"}


def test_efficiency_slip_moves_each_member_by_30pct_of_its_efficiency_plan(north):
    # efficiency_plan: NGH 17.9m, SVH 12.9m, NCH 4.3m, NVP 6.4m, RAS 7.4m (the whole ambulance
    # trust, issue 16), NCC 5.6m, CCG 20m, NSC 8.7m, VGP 0.5m; −30% of each
    # (RAS: −0.3 × 7.4m = −2.22m).
    assert vec("efficiency_slip", north) == pytest.approx({
        "NGH": -5_370_000, "SVH": -3_870_000, "NCH": -1_290_000, "NVP": -1_920_000,
        "RAS": -2_220_000, "NCC": -1_680_000, "CCG": -6_000_000, "NSC": -2_610_000,
        "VGP": -150_000}, abs=1e-6)


def test_provider_10m_moves_only_ngh_by_10m(north):
    v = vec("provider_10m", north)
    assert v["NGH"] == -10_000_000
    assert all(x == 0 for k, x in v.items() if k != "NGH")


def test_shocked_variances_are_forecast_minus_control_total_plus_shocks(north):
    # NGH: forecast −11.6m − control total 1.8m = −13.4m; −10.248m winter; −10m provider
    # = −33.648m.  SVH: −10.7m − (−9.4m) = −1.3m; −7.378m = −8.678m. NCH: 1.45m − 1.1m = 0.35m.
    v = rs.shocked_variances(north, ["winter_pressure", "provider_10m"])
    got = dict(zip(north.members, v.tolist(), strict=True))
    assert got["NGH"] == pytest.approx(-33_648_000, abs=1e-6)
    assert got["SVH"] == pytest.approx(-8_678_000, abs=1e-6)
    assert got["NCH"] == pytest.approx(350_000, abs=1e-6)
    base = (north.orgs["forecast"] - north.orgs["control_total"]).to_numpy(float)
    np.testing.assert_allclose(rs.shocked_variances(north), base)
    np.testing.assert_allclose(rs.shocked_variances(north, ()), base)


def test_shocks_shift_every_scenario_by_the_same_vector(north):
    plain = rs.simulate(north, 300, seed=21)
    shocked = rs.simulate(north, 300, seed=21, shocks=["winter_pressure", "efficiency_slip"])
    expected = shock_vector("winter_pressure", north) + shock_vector("efficiency_slip", north)
    np.testing.assert_allclose(shocked.variances - plain.variances,
                               np.broadcast_to(expected, (300, north.n)), atol=1e-6)
    np.testing.assert_allclose(shocked.shock, expected)
    np.testing.assert_array_equal(shocked.draws, plain.draws)


def test_shock_from_toml_text_and_amount_on_all(north):
    shock = rs.load_shock(textwrap.dedent("""\
        name = "  Everyone −£1m  "
        [[effects]]
        target = "all"
        amount = -1_000_000
        [[effects]]
        target = "member:CCG"
        pct = 1.0
    """))
    assert shock.name == "Everyone −£1m"
    v = vec(shock, north)
    assert v["NGH"] == -1_000_000
    assert v["CCG"] == pytest.approx(-1_000_000 + 16_840_000)   # +1% × £1,684m


# -- bad shocks -------------------------------------------------------------------------------------
GOOD_EFFECT = '[[effects]]\ntarget = "all"\namount = -1\n'
BAD_TEXT = [
    ("unknown_key", 'name = "x"\nseverity = 3\n' + GOOD_EFFECT,
     ["key 'severity'", "unknown key (valid keys: name, description, effects)"]),
    ("missing_name", 'description = "d"\n' + GOOD_EFFECT,
     ["key 'name'", "every shock needs a non-empty 'name'"]),
    ("blank_name", 'name = "   "\n' + GOOD_EFFECT,
     ["key 'name'", "every shock needs a non-empty 'name'"]),
    ("no_effects", 'name = "x"\n', ["key 'effects'", "needs at least one [[effects]] table"]),
    ("empty_effects", 'name = "x"\neffects = []\n',
     ["key 'effects'", "needs at least one [[effects]] table"]),
    ("both_pct_and_amount", 'name = "x"\n[[effects]]\ntarget = "all"\npct = 1\namount = 2\n',
     ["key 'effects[1]'", "needs exactly one of 'pct' or 'amount'"]),
    ("neither_pct_nor_amount", 'name = "x"\n' + GOOD_EFFECT + '[[effects]]\ntarget = "all"\n',
     ["key 'effects[2]'", "needs exactly one of 'pct' or 'amount'"]),
    ("bad_target_form", 'name = "x"\n[[effects]]\ntarget = "acute"\npct = 1\n',
     ["key 'effects[1].target'", "'acute' must be 'all', 'kind:<kind>' or 'member:<org_id>'"]),
    ("missing_target", 'name = "x"\n[[effects]]\npct = 1\n',
     ["key 'effects[1].target'", "must be 'all', 'kind:<kind>' or 'member:<org_id>'"]),
    ("unknown_effect_key", 'name = "x"\n[[effects]]\ntarget = "all"\npct = 1\nwhen = 2\n',
     ["key 'effects[1].when'", "unknown key (valid keys: target, pct, amount, column)"]),
    ("pct_not_a_number", 'name = "x"\n[[effects]]\ntarget = "all"\npct = "2"\n',
     ["key 'effects[1].pct'", "'2' must be a finite number"]),
    ("amount_nan", 'name = "x"\n[[effects]]\ntarget = "all"\namount = nan\n',
     ["key 'effects[1].amount'", "must be a finite number"]),
    ("pct_bool", 'name = "x"\n[[effects]]\ntarget = "all"\npct = true\n',
     ["key 'effects[1].pct'", "must be a finite number"]),
]


@pytest.mark.parametrize("text, fragments", [(t, f) for _, t, f in BAD_TEXT],
                         ids=[i for i, _, _ in BAD_TEXT])
def test_bad_shock_text_gives_a_precise_message(text, fragments):
    with pytest.raises(rs.ValidationError) as err:
        rs.load_shock(text)
    message = str(err.value)
    for fragment in fragments:
        assert fragment in message, message


def test_every_problem_in_a_shock_is_reported_at_once():
    with pytest.raises(rs.ValidationError) as err:
        rs.load_shock('colour = "red"\n[[effects]]\ntarget = "x"\n')
    keys = {p.column for p in err.value.problems}
    assert keys == {"colour", "name", "effects[1].target", "effects[1]"}


def test_unknown_kind_is_refused_when_applied(north):
    shock = rs.load_shock('name = "x"\n[[effects]]\ntarget = "kind:hospital"\npct = -1\n')
    with pytest.raises(rs.ValidationError) as err:
        shock_vector(shock, north)
    message = str(err.value)
    assert "in shock 'x' on" in message
    assert "key 'effects[1].target'" in message
    assert "unknown kind 'hospital' (kinds: acute, community, mental_health" in message


def test_member_not_in_the_system_is_refused():
    workshop = rs.load_sample("workshop_4")
    with pytest.raises(rs.ValidationError) as err:
        rs.simulate(workshop, 10, shocks=["provider_10m"])
    message = str(err.value)
    assert "shock 'One member £10m adverse (NGH)' on Workshop system" in message
    assert "key 'effects[1].target'" in message
    assert "'NGH' is not a member of Workshop system 2019/20 (members: A, B, C, D)" in message
    with pytest.raises(rs.ValidationError, match="'NGH' is not a member"):
        rs.shocked_variances(workshop, ["provider_10m"])


def test_pct_of_a_missing_column_is_refused():
    workshop = rs.load_sample("workshop_4")
    with pytest.raises(rs.ValidationError) as err:
        shock_vector("efficiency_slip", workshop)
    message = str(err.value)
    assert "key 'effects[1].column'" in message
    assert ("'efficiency_plan' is not a numeric column of the system (numeric columns: "
            "turnover, control_total, forecast, support, volatility, net_turnover)") in message


def test_pct_of_a_text_column_is_refused(north):
    shock = rs.load_shock('name = "x"\n[[effects]]\ntarget = "all"\npct = 1\ncolumn = "name"\n')
    with pytest.raises(rs.ValidationError, match="'name' is not a numeric column"):
        shock_vector(shock, north)


@pytest.mark.parametrize("missing", ["no_such_preset", "shocks/absent.toml", Path("absent.toml")])
def test_a_missing_preset_or_path_is_an_input_file_error(missing):
    with pytest.raises(rs.InputFileError) as err:
        rs.load_shock(missing)
    message = str(err.value)
    assert f"'{missing}' is neither a shock preset" in message
    assert "(efficiency_slip, provider_10m, winter_pressure) nor a shock .toml file" in message


def test_invalid_toml_is_an_input_file_error(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('name = "x\n[[effects]]\n', encoding="utf-8")
    with pytest.raises(rs.InputFileError, match="broken.toml: not valid TOML"):
        rs.load_shock(path)
    with pytest.raises(rs.InputFileError, match="shock: not valid TOML"):
        rs.load_shock('name = \n[[effects]]\n')


def test_a_bad_shock_file_names_the_file(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('name = "x"\n', encoding="utf-8")
    with pytest.raises(rs.ValidationError, match="in mine.toml"):
        rs.load_shock(path)


def test_one_shock_on_its_own_is_the_same_as_a_list_of_one():
    north = rs.load_sample("northshire_2018_19")
    np.testing.assert_array_equal(rs.shocked_variances(north, "winter_pressure"),
                                  rs.shocked_variances(north, ["winter_pressure"]))


@pytest.mark.parametrize("shocks", [123, 1.5, {"name": "x"}])
def test_shocks_that_are_neither_a_shock_nor_a_list_are_refused_by_type(shocks):
    north = rs.load_sample("northshire_2018_19")
    with pytest.raises(rs.ArgumentTypeError, match="shocks must be a shock .* not "):
        rs.shocked_variances(north, shocks)


def test_no_shocks_given_as_none_is_the_forecast():
    north = rs.load_sample("northshire_2018_19")
    np.testing.assert_array_equal(rs.shocked_variances(north, None),
                                  north.variance.to_numpy(dtype=float))
