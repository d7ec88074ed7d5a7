"""Workshop session files: the bundled session, exact save → reload round trips (the same figures
for every step), sessions on an uploaded system, the step on screen and its what-if, shocks that
carry forward from step to step, one error listing every problem in a bad file, and relabelling.

What a facilitator relies on: a session saved after the workshop reopens to the same screens, to
the penny, on any machine; a file with mistakes is refused with every mistake named at once.
"""

from __future__ import annotations

import copy
import functools
import tomllib

import numpy as np
import pandas as pd
import pytest

import riskshare as rs
from riskshare import workshop
from riskshare.core.errors import InputFileError, ValidationError
from riskshare.core.samples import synthetic
from riskshare.scenarios.shocks import load_shock, shock_vector
from riskshare.workshop.session import (
    Session,
    WhatIf,
    list_sessions,
    load_session,
    read_session_dict,
    read_session_text,
)

PENNY = 0.01
BUNDLED = "northshire_workshop"


# -- helpers --------------------------------------------------------------------------------------
@functools.cache
def bundled() -> Session:
    return load_session(BUNDLED)


@functools.cache
def bundled_views() -> tuple:
    return tuple(workshop.views(bundled()))


def forecast_only(data: dict) -> dict:
    """A session document with every step judged at the forecast (fast: no scenarios)."""
    data = copy.deepcopy(data)
    for step in data["steps"]:
        step.pop("judge", None)
    return data


def assert_same_views(a: Session, b: Session, expected: tuple | None = None) -> None:
    """Every step of `b` shows exactly what the same step of `a` shows (or `expected`)."""
    assert len(a.steps) == len(b.steps)
    for k in range(1, len(a.steps) + 1):
        va = expected[k - 1] if expected is not None else workshop.view(a, k)
        vb = workshop.view(b, k)
        assert vb.title == va.title
        assert vb.figures == va.figures, f"step {k}"
        assert vb.sentences == va.sentences, f"step {k}"
        assert vb.money == va.money
        assert vb.changes == va.changes
        pd.testing.assert_frame_equal(vb.table, va.table, check_exact=True)


def session_doc(**extra) -> dict:
    """A small valid session document on the bundled sample."""
    data = {
        "title": "Test session",
        "system": {"sample": "northshire_2018_19"},
        "agreements": {"A": {"preset": "support_cliff_2018_19"},
                       "B": {"preset": "gain_loss_50_50_deadband"}},
        "steps": [{"kind": "baseline", "title": "Start"}],
    }
    data.update(extra)
    return data


# -- the bundled session ---------------------------------------------------------------------------
def test_the_bundled_session_loads():
    assert BUNDLED in list_sessions()
    s = bundled()
    assert len(s.steps) == 5
    assert [st.kind for st in s.steps] == ["baseline", "shock", "compare", "walk_away", "fairer"]
    assert s.labels == ["A", "B", "C"]
    assert s.sample == "northshire_2018_19"
    assert s.system.equals(rs.load_sample("northshire_2018_19"))
    assert s.agreement("A") == rs.load_agreement("support_cliff_2018_19")
    assert s.agreement("B") == rs.load_agreement("gain_loss_50_50_deadband")
    assert s.agreement("C") == rs.load_agreement("full_pooling_turnover")
    assert s.step == 1 and not s.what_if
    assert (s.scenarios.n, s.scenarios.seed) == (1000, 2018)
    assert s.risk_aversion == 0.5
    with pytest.raises(KeyError, match="no agreement 'Z'"):
        s.agreement("Z")


# -- round trips -----------------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["inline", "by_reference", "save_path"])
def test_save_and_reload_gives_the_same_session_and_figures(how, tmp_path):
    s = bundled()
    if how == "inline":
        text = s.to_toml()
        doc = tomllib.loads(text)
        assert "orgs" in doc["system"] and "sample" not in doc["system"]   # stands alone
        assert "winter_pressure" in doc["shocks"]
        back = load_session(text)
    elif how == "by_reference":
        text = s.to_toml(inline=False)
        doc = tomllib.loads(text)
        assert doc["system"] == {"sample": "northshire_2018_19"}
        assert "shocks" not in doc                    # the bundled shock, by name
        back = load_session(text)
        assert back.sample == "northshire_2018_19"
    else:
        path = s.save(tmp_path / "workshop.toml")
        assert path.read_text(encoding="utf-8") == s.to_toml()
        back = load_session(path)
        assert load_session(str(path)).equals(back)
    assert back.equals(s) and s.equals(back)
    assert_same_views(s, back, bundled_views())


def test_equals_notices_a_difference():
    s = bundled()
    assert not s.equals(s.at_step(2))
    assert not s.equals(s.at_step(1, WhatIf.of("B", pool_share=0.75)))
    other = read_session_dict({**s.to_dict(), "title": "Another title"})
    assert not s.equals(other)
    moved = s.to_dict()
    moved["system"]["orgs"][0]["forecast"] += 0.01
    assert not s.equals(read_session_dict(moved))
    assert not s.equals("not a session")


@pytest.mark.parametrize("inline", [True, False])
def test_a_session_on_an_uploaded_system_round_trips(inline, tmp_path):
    system = synthetic(5, seed=3)
    s = bundled().with_system(system)
    assert s.system.equals(system) and s.sample == ""
    text = s.to_toml(inline=inline)
    # an uploaded system has no bundled sample to refer to: it is written in full either way
    assert len(tomllib.loads(text)["system"]["orgs"]) == 5
    back = load_session(text)
    assert back.equals(s)
    saved = load_session(s.save(tmp_path / "uploaded.toml"))
    assert saved.equals(s)
    quick = read_session_dict(forecast_only(s.to_dict()))
    assert_same_views(quick, read_session_text(quick.to_toml()))


def test_a_session_written_by_hand_on_inline_rows_loads():
    system = synthetic(5, seed=3)
    rows = [{k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
            for row in system.to_frame().to_dict("records")]
    text = "\n".join([
        'title = "By hand"',
        "[system]",
        f'name = "{system.name}"',
        f'year = "{system.year}"',
        f"control_total = {system.control_total!r}",
        '[agreements.A]',
        'preset = "full_pooling_turnover"',
        "[[steps]]", 'kind = "baseline"', 'title = "Start"',
        "[[steps]]", 'kind = "agreement"', 'title = "Pool"', 'agreements = ["A"]',
    ] + [line for row in rows for line in
         ["[[system.orgs]]"] + [f'{k} = "{v}"' if isinstance(v, str) else
                                f"{k} = {str(v).lower()}" if isinstance(v, bool) else
                                f"{k} = {v!r}" for k, v in row.items()]])
    s = load_session(text)
    assert s.system.equals(system)
    v = workshop.view(s, 2)
    expected = rs.apply(rs.load_agreement("full_pooling_turnover"), system).table
    pd.testing.assert_series_equal(v.table["final"], expected["final"], check_exact=True)


def test_the_step_on_screen_and_its_what_if_are_saved(tmp_path):
    s = bundled()
    what_if = WhatIf.of("B", pool_share=0.75, deadband=1.0)
    at3 = s.at_step(3, what_if)
    doc = tomllib.loads(at3.to_toml(inline=False))
    assert doc["step"] == 3
    assert doc["what_if"] == {"agreement": "B", "deadband": 1.0, "pool_share": 0.75}
    back = load_session(at3.save(tmp_path / "at3.toml"))
    assert back.equals(at3)
    assert back.step == 3 and back.what_if == what_if
    # reopened, it shows step 3 with the what-if in force, exactly as before saving
    shown, before = workshop.view(back), workshop.view(at3)
    assert shown.number == 3 and shown.what_if == what_if
    assert shown.figures == before.figures
    assert shown.changes == before.changes and len(shown.changes) == 2
    pd.testing.assert_frame_equal(shown.table, before.table, check_exact=True)
    # other steps are shown as prepared
    assert not workshop.view(back, 2).what_if
    with pytest.raises(ValueError, match="between 1 and 5"):
        s.at_step(6)


# -- shocks ----------------------------------------------------------------------------------------
def shock_steps_doc(**extra) -> dict:
    steps = [
        {"kind": "baseline", "title": "1"},
        {"kind": "shock", "title": "2", "shocks": ["winter_pressure"]},
        {"kind": "agreement", "title": "3", "agreements": ["B"]},
        {"kind": "shock", "title": "4", "shocks": ["winter_pressure", "provider_10m"]},
        {"kind": "compare", "title": "5", "agreements": ["A", "B"]},
        {"kind": "agreement", "title": "6", "agreements": ["A"], "shocks": []},
        {"kind": "agreement", "title": "7", "agreements": ["B"]},
    ]
    return session_doc(steps=steps, **extra)


def test_steps_inherit_the_shocks_before_them_and_an_empty_list_clears_them():
    s = read_session_dict(shock_steps_doc())
    expected = [(), ("winter_pressure",), ("winter_pressure",),
                ("winter_pressure", "provider_10m"), ("winter_pressure", "provider_10m"), (), ()]
    assert [s.shocks_at(i) for i in range(7)] == expected
    system = s.system
    winter = shock_vector(load_shock("winter_pressure"), system)
    provider = shock_vector(load_shock("provider_10m"), system)
    base = system.variance.to_numpy(float)
    for i, names in enumerate(expected):
        shock = (winter if "winter_pressure" in names else 0) + \
            (provider if "provider_10m" in names else 0)
        want = base + shock
        np.testing.assert_array_equal(s.shock_at(i), shock)
        moved = workshop.system_at(s, i + 1)
        np.testing.assert_allclose(moved.variance.to_numpy(float), want, rtol=0, atol=1e-6)
    assert workshop.system_at(s, 6).equals(system)            # cleared: the forecast as given
    # the agreement at step 3 is applied after the winter shock
    v3 = workshop.view(s, 3)
    pd.testing.assert_series_equal(
        v3.table["variance"], pd.Series(base + winter, index=system.members, name="variance"),
        check_exact=False, atol=1e-6, rtol=0)
    assert set(s.used_shocks()) == {"winter_pressure", "provider_10m"}


def test_an_inline_shock_overrides_the_bundled_one_of_the_same_name():
    inline = {"name": "A mild winter", "description": "Acute trusts lose 1%.",
              "effects": [{"target": "kind:acute", "pct": -1.0}]}
    s = read_session_dict(shock_steps_doc(shocks={"winter_pressure": inline}))
    assert s.shock("winter_pressure").name == "A mild winter"
    assert s.shock("provider_10m") == load_shock("provider_10m")       # not inline: bundled
    v = workshop.view(s, 2)
    orgs = s.system.orgs
    want = np.where(orgs["kind"] == "acute", -0.01 * orgs["turnover"], 0.0)
    np.testing.assert_allclose(v.table["shock"].to_numpy(float), want, rtol=0, atol=1e-6)
    assert v.sentences[0] == "A mild winter: Acute trusts lose 1%."
    # saved by reference, the inline shock is still written in full (it is not the bundled one)
    doc = tomllib.loads(s.to_toml(inline=False))
    assert set(doc["shocks"]) == {"winter_pressure"}
    back = load_session(s.to_toml(inline=False))
    assert back.equals(s)
    assert back.shock("winter_pressure").name == "A mild winter"


# -- validation ------------------------------------------------------------------------------------
BAD_SESSION = """
title = "A session with many mistakes"
colour = "blue"

[system]
sample = "no_such_sample"

[agreements.A]
preset = "support_cliff_2018_19"

[agreements.B]
name = "Broken share"
[agreements.B.losses]
bands = [{ upto = 0.5, pool = 0.0 }, { pool = 1.5 }]

[scenarios]
n = 0

[[steps]]
kind = "baseline"
title = "Start"

[[steps]]
kind = "agreement"
title = "Unknown label"
agreements = ["Z"]

[[steps]]
kind = "compare"
title = "Too few to compare"
agreements = ["A"]

[[steps]]
kind = "fairer"
title = "Three for a fairer step"
agreements = ["A", "A", "A"]

[[steps]]
kind = "shock"
title = "A shock nobody defined"
shocks = ["no_such_shock"]

[[steps]]
kind = "party"
title = "Not a kind of step"

[what_if]
agreement = "A"
pool_share = 1.5
"""

EXPECTED_KEYS = {
    "colour",                               # unknown top-level key
    "system.sample",                        # a sample that does not exist
    "agreements.B.losses.bands[2].pool",    # an agreement error, nested under agreements.B
    "scenarios.n",                          # bad scenario count
    "steps[2].agreements",                  # unknown agreement label
    "steps[3].agreements",                  # too few agreements for compare
    "steps[4].agreements",                  # too many for fairer
    "steps[5].shocks",                      # neither inline nor bundled
    "steps[6].kind",                        # not a step kind
    "what_if.pool_share",                   # out of range
}


def test_one_error_lists_every_problem_each_naming_its_key(tmp_path):
    with pytest.raises(ValidationError) as caught:
        load_session(BAD_SESSION)
    keys = {p.column for p in caught.value.problems}
    assert EXPECTED_KEYS <= keys, EXPECTED_KEYS - keys
    assert all(p.label == "key" for p in caught.value.problems if p.column in EXPECTED_KEYS)
    message = str(caught.value)
    for key in EXPECTED_KEYS:
        assert f"key '{key}'" in message
    assert "names Z" in message
    assert "'no_such_shock' is neither" in message
    # the same from a file, with the file's name as the source; nothing half-built comes back
    path = tmp_path / "bad.toml"
    path.write_text(BAD_SESSION, encoding="utf-8")
    result = None
    with pytest.raises(ValidationError) as again:
        result = load_session(path)
    assert result is None
    assert again.value.source == "bad.toml"
    assert {p.column for p in again.value.problems} == keys


@pytest.mark.parametrize("change,key", [
    ({"step": 9}, "step"),
    ({"title": ""}, "title"),
    ({"scenarios": {"correlation": 1.5}}, "scenarios.correlation"),
    ({"scenarios": {"risk_aversion": 2}}, "scenarios.risk_aversion"),
    ({"scenarios": {"seed": -1}}, "scenarios.seed"),
    ({"scenarios": {"distribution": "cauchy"}}, "scenarios.distribution"),
    ({"what_if": {"agreement": "Q"}}, "what_if.agreement"),
    ({"what_if": {"volume": 3}}, "what_if.volume"),
    ({"what_if": {"shock_scale": 11}}, "what_if.shock_scale"),
    ({"what_if": {"deadband": -0.5}}, "what_if.deadband"),
    ({"steps": [{"kind": "baseline", "title": "x", "judge": "scenarios"}]}, "steps[1].judge"),
    ({"steps": [{"kind": "baseline", "title": "x", "colour": 1}]}, "steps[1].colour"),
    ({"agreements": {"A": {"preset": "no_such_preset"}}}, "agreements.A.preset"),
    ({"shocks": {"big": {"name": "Big", "effects": [{"target": "member:NOPE", "amount": -1}]}},
      "steps": [{"kind": "shock", "title": "x", "shocks": ["big"]}]}, "steps[1].shocks"),
])
def test_each_mistake_is_named_by_its_key(change, key):
    with pytest.raises(ValidationError) as caught:
        read_session_dict(session_doc(**change))
    assert key in {p.column for p in caught.value.problems}, str(caught.value)


def test_an_agreement_that_does_not_fit_the_system_is_named_under_its_label():
    data = session_doc(agreements={"A": {"name": "Exempt nobody", "exempt": ["NOPE"]}})
    with pytest.raises(ValidationError) as caught:
        read_session_dict(data)
    assert "agreements.A.exempt" in {p.column for p in caught.value.problems}


def test_a_shock_problem_names_the_right_step_after_a_bad_step():
    data = session_doc(steps=[{"kind": "party", "title": "bad kind"},
                              {"kind": "shock", "title": "x", "shocks": ["no_such_shock"]}])
    with pytest.raises(ValidationError) as caught:
        read_session_dict(data)
    keys = {p.column for p in caught.value.problems}
    assert "steps[1].kind" in keys
    assert "steps[2].shocks" in keys, keys


def test_invalid_toml_and_missing_files_are_input_file_errors(tmp_path):
    with pytest.raises(InputFileError, match="not valid TOML"):
        load_session('title = "x"\nstep = [')
    with pytest.raises(InputFileError, match="not valid TOML"):
        read_session_text("this is = = not toml\n", "upload.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text('title = "unterminated\n', encoding="utf-8")
    with pytest.raises(InputFileError, match="broken.toml: not valid TOML"):
        load_session(broken)
    with pytest.raises(InputFileError, match="neither a bundled session"):
        load_session(tmp_path / "missing.toml")
    with pytest.raises(InputFileError, match="neither a bundled session"):
        load_session("no_such_session")


def test_a_session_path_containing_an_equals_sign_loads(tmp_path):
    folder = tmp_path / "seed=1"
    folder.mkdir()
    path = bundled().save(folder / "workshop.toml")
    assert load_session(str(path)).equals(bundled())


# -- relabelling -----------------------------------------------------------------------------------
ORDER = [4, 0, 8, 2, 6, 1, 7, 3, 5]     # a fixed reordering of the nine members


def reordered(data: dict) -> Session:
    data = copy.deepcopy(data)
    rows = data["system"]["orgs"]
    data["system"]["orgs"] = [rows[i] for i in ORDER]
    return read_session_dict(data, "reordered")


def assert_permuted(va, vb) -> None:
    """vb shows va's per-member figures in another member order, and the same totals."""
    ta, tb = va.table, vb.table
    assert list(tb.index) == [ta.index[i] for i in ORDER]
    back = tb.loc[ta.index]
    assert list(back.columns) == list(ta.columns)
    for col in ta.columns:
        if pd.api.types.is_numeric_dtype(ta[col]):
            np.testing.assert_allclose(back[col].to_numpy(float), ta[col].to_numpy(float),
                                       rtol=0, atol=PENNY + 1e-9, err_msg=f"step {va.number} {col}")
        else:
            assert back[col].tolist() == ta[col].tolist()
    for col in va.money:
        assert abs(tb[col].sum() - ta[col].sum()) <= PENNY + 1e-6, col
    assert [f.label for f in vb.figures] == [f.label for f in va.figures]
    for fa, fb in zip(va.figures, vb.figures, strict=True):
        assert fb.value == pytest.approx(fa.value, abs=PENNY), fa.label
        assert fb.text == fa.text


def test_reordering_the_members_permutes_every_step_at_the_forecast():
    data = forecast_only(bundled().to_dict())
    s, other = read_session_dict(data), reordered(data)
    assert not s.system.equals(other.system)
    for k in range(1, len(s.steps) + 1):
        assert_permuted(workshop.view(s, k), workshop.view(other, k))


def test_an_invalid_agreement_is_reported_once_not_again_by_the_steps_naming_it():
    data = session_doc(agreements={"A": {"preset": "support_cliff_2018_19"},
                                   "B": {"name": "Broken", "losses": {"bands": [{"pool": 2}]}}},
                       steps=[{"kind": "agreement", "title": "B", "agreements": ["B"]}],
                       what_if={"agreement": "B", "pool_share": 0.5})
    with pytest.raises(ValidationError) as caught:
        read_session_dict(data)
    problems = caught.value.problems
    assert [p.column for p in problems] == ["agreements.B.losses.bands[1].pool"], problems
    assert "not among" not in str(caught.value)


def test_a_what_if_the_agreement_cannot_take_is_refused_when_read():
    # B's deadband is its first band (to 0.5%); with a second bounded band the deadband cannot
    # pass it. Build such an agreement inline.
    b = rs.load_agreement("gain_loss_50_50_deadband").to_dict()
    b["losses"]["bands"] = [{"upto": 0.5, "pool": 0.0}, {"upto": 2.0, "pool": 0.5}, {"pool": 0.8}]
    data = session_doc(agreements={"B": b},
                       steps=[{"kind": "agreement", "title": "B", "agreements": ["B"]}],
                       what_if={"agreement": "B", "deadband": 3.0})
    with pytest.raises(ValidationError) as caught:
        read_session_dict(data)
    assert [p.column for p in caught.value.problems] == ["what_if"]
    assert "what_if on agreement B" in str(caught.value)
    data["what_if"]["deadband"] = 1.0
    assert read_session_dict(data).what_if.get("deadband") == 1.0
