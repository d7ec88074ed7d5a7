"""Workshop risks steps: the risk register on screen — the risk-adjusted forecast, which risk or
mitigation matters most (the tornado) and the reserve the system would need — and the what-if
knob on one item's probability.

The worked case is DOMAIN's risk-register case (docs/risks), written into a session: one member,
forecast −£5.0m against a control total (and SCT) of 0; risks R1 6.0 @ 0.5, R2 2.0 @ 0.25,
R3 3.0 @ 0.4; mitigations M1 1.5 @ 1.0, M2 2.0 @ 0.5 (£m). Every expected figure is worked by
hand in the comments.
"""

from __future__ import annotations

import copy

import pandas as pd
import pytest

import riskshare as rs
from riskshare.core.errors import ValidationError
from riskshare.workshop.printable import html_report, key_views
from riskshare.workshop.report import session_sheets
from riskshare.workshop.session import (
    WhatIf,
    draft_session,
    load_session,
    read_session_dict,
)
from riskshare.workshop.steps import RISK_COLOURS, view, views
from riskshare.workshop.whatif import (
    changed_register,
    describe_changes,
    item_labels,
    knobs,
    target_item,
)

M = 1_000_000.0
ITEMS = [("R1", "risk", 6.0, 0.5), ("R2", "risk", 2.0, 0.25), ("R3", "risk", 3.0, 0.4),
         ("M1", "mitigation", 1.5, 1.0), ("M2", "mitigation", 2.0, 0.5)]


def document(scenarios: dict | None = None, risks: bool = True, **step) -> dict:
    """The worked case as an inline session: a baseline, then a risks step."""
    system: dict = {"name": "One", "year": "2025/26", "control_total": 0.0,
                    "orgs": [{"org_id": "A", "name": "Acute A", "kind": "acute",
                              "turnover": 400 * M, "control_total": 0.0,
                              "forecast": -5 * M}]}
    if risks:
        system["risks"] = [{"org_id": "A", "item": item, "type": kind, "amount": amount * M,
                            "probability": p} for item, kind, amount, p in ITEMS]
    data = {"title": "Risks", "system": system,
            "agreements": {"A": {"preset": "standalone"}},
            "steps": [{"kind": "baseline", "title": "Where we start"},
                      {"kind": "risks", "title": "The register", **step}]}
    if scenarios:
        data["scenarios"] = scenarios
    return data


def figure(v, label: str):
    return next(f for f in v.figures if f.label.lower() == label.lower())


# -- the worked case ------------------------------------------------------------------------------
def test_the_worked_case_risk_adjusted_through_a_session():
    # expected risk 6.0 × 0.5 + 2.0 × 0.25 + 3.0 × 0.4 = 3.0 + 0.5 + 1.2 = 4.7 (gross 11.0);
    # expected mitigation 1.5 × 1.0 + 2.0 × 0.5 = 2.5 (in all 3.5); net 4.7 − 2.5 = 2.2;
    # risk-adjusted −5.0 − 2.2 = −7.2, against the SCT of 0: −7.2.
    v = view(read_session_dict(document()), 2)
    adjusted = figure(v, "System risk-adjusted forecast")
    assert (adjusted.text, adjusted.value) == ("-£7.20m", -7.2 * M)
    assert adjusted.delta == "-£7.20m against the SCT" and adjusted.good is False
    assert figure(v, "Expected risk").text == "£4.70m"
    assert figure(v, "Expected risk").delta == "of £11.00m if every risk happens"
    assert figure(v, "Expected mitigation").text == "£2.50m"
    assert figure(v, "Expected mitigation").delta == "of £3.50m if every one is delivered"
    assert figure(v, "Net risk").text == "£2.20m"
    row = v.table.loc["A"]
    # worst −5 − 11 + 1.5 (the certain mitigation) = −14.5; best −5 + 3.5 = −1.5
    assert (row["risk_adjusted"], row["worst"], row["best"]) == (-7.2 * M, -14.5 * M, -1.5 * M)
    text = " ".join(v.sentences)
    assert "forecasts -£7.20m, £7.20m short of the SCT" in text
    assert set(v.results["ranking"]["event"]) == {f"A: {i}" for i, *_ in ITEMS}


def test_the_probability_knob_on_the_2m_mitigation_moves_the_risk_adjusted_forecast():
    s = read_session_dict(document())
    # the knob's item: the mitigation most in doubt, amount × p × (1 − p): M1 1.5 × 1 × 0 = 0,
    # M2 2.0 × 0.5 × 0.5 = 0.5 ⇒ M2, prepared at 50%
    (knob,) = knobs(s, 2)
    assert (knob.knob.key, knob.item, knob.value, knob.knob.unit) == ("probability", "A: M2",
                                                                      0.5, "share")
    what_if = WhatIf.of(item="A: M2", probability=1.0)
    v = view(s, 2, what_if)
    # expected mitigation 1.5 × 1.0 + 2.0 × 1.0 = 3.5; net 4.7 − 3.5 = 1.2;
    # risk-adjusted −5.0 − 4.7 + 3.5 = −6.2
    assert figure(v, "Expected mitigation").text == "£3.50m"
    assert figure(v, "Net risk").text == "£1.20m"
    assert figure(v, "System risk-adjusted forecast").value == -6.2 * M
    assert figure(v, "Expected risk").text == "£4.70m"          # the risks as they were
    assert v.changes == ("A: M2 probability 50% → 100%",)
    assert describe_changes(s, 2, what_if) == ("A: M2 probability 50% → 100%",)
    # the prepared session's register is untouched
    assert s.register.table["probability"].tolist() == [0.5, 0.25, 0.4, 1.0, 0.5]
    assert view(s, 2).figures == view(read_session_dict(document()), 2).figures


def test_the_reserve_on_the_register_alone_is_the_quantile_of_the_outcomes():
    # register = "instead": no volatility, only the 2⁵ outcomes. With M1 certain, the position
    # is −5.0 + 1.5 − y = −3.5 − y, y = 6a + 2b + 3c − 2e (a, b, c, e the events R1, R2, R3,
    # M2). The losses L = 6a + 2b + 3c and their chances (a: .5, b: .25, c: .4):
    #   0: .225  2: .075  3: .15  5: .05  6: .225  8: .075  9: .15  11: .05
    # and y = L or L − 2 with .5 each, so P(y ≤ t) at t = 6, 7, 8, 9: .7625, .8375, .875, .975.
    # The reserve R at p is the least with P(−3.5 − y + R ≥ 0) ≥ p, i.e. P(y ≤ R − 3.5) ≥ p:
    #   80%: y ≤ 7 ⇒ R = 10.5;  90%: y ≤ 9 ⇒ 12.5;  95%: y ≤ 9 ⇒ 12.5 (£m).
    # With 10,000 draws each P is within 0.4 points (one standard error) and the nearest jump
    # is 2.5 points away, so the quantile falls on these outcomes. The best year is −1.5: never
    # meets the SCT.
    s = read_session_dict(document({"n": 10_000, "seed": 7, "register": "instead"}))
    v = view(s, 2)
    sizing = v.results["reserve"]
    assert [sizing.amount(p) for p in (0.8, 0.9, 0.95)] == [10.5 * M, 12.5 * M, 12.5 * M]
    assert figure(v, "Reserve to meet the SCT 9 years in 10").text == "£12.50m"
    assert figure(v, "Reserve to meet the SCT 9 years in 10").delta == \
        "80%: £10.50m; 95%: £12.50m"
    assert figure(v, "Chance the system meets the SCT").text == "0%"
    assert "the system would need a reserve of £10.50m, £12.50m and £12.50m" in \
        " ".join(v.sentences)
    # M2 certain (the what-if): the position is −1.5 − L; P(L ≤ 8) = .8 < .9 ≤ P(L ≤ 9) = .95
    # ⇒ the 90% reserve is 1.5 + 9.0 = 10.5
    changed = view(s, 2, WhatIf.of(item="A: M2", probability=1.0))
    assert changed.results["reserve"].amount(0.9) == 10.5 * M


def test_the_tornado_shows_risks_red_and_mitigations_green_largest_first():
    v = view(read_session_dict(document()), 2)
    ranking = v.results["ranking"]
    effect = ranking["delta_p_meet"].abs().tolist()
    assert effect == sorted(effect, reverse=True)
    spec = v.chart.to_dict()
    colour = spec["layer"][0]["encoding"]["color"]["scale"]
    assert dict(zip(colour["domain"], colour["range"], strict=True)) == {
        "risk": RISK_COLOURS["risk"], "mitigation": RISK_COLOURS["mitigation"]}
    assert RISK_COLOURS["risk"] == "#DA291C" and RISK_COLOURS["mitigation"] == "#009639"
    assert spec["layer"][0]["encoding"]["y"]["sort"] == ranking["event"].tolist()


def test_a_risks_step_with_an_agreement_sizes_the_reserve_under_it():
    data = document(agreements=["A"])
    v = view(read_session_dict(data), 2)
    assert figure(v, "A: reserve to meet the SCT 9 years in 10").value > 0
    assert "under A — Standalone (no sharing)" in " ".join(v.sentences)


# -- groups -----------------------------------------------------------------------------------------
def test_the_knob_on_an_item_in_a_group_moves_the_whole_group():
    data = document()
    # R2 and R3 happen together, at one probability 0.4: expected risk 3.0 + 0.8 + 1.2 = 5.0
    for row in data["system"]["risks"][1:3]:
        row.update(group="winter", probability=0.4)
    s = read_session_dict(data)
    assert figure(view(s, 2), "Expected risk").text == "£5.00m"
    what_if = WhatIf.of(item="A: R2", probability=1.0)
    # both at 1.0: 3.0 + 2.0 + 3.0 = 8.0; risk-adjusted −5.0 − 8.0 + 2.5 = −10.5
    v = view(s, 2, what_if)
    assert figure(v, "Expected risk").text == "£8.00m"
    assert figure(v, "System risk-adjusted forecast").value == -10.5 * M
    assert v.changes == ("A: R2 (with its group 'winter') probability 40% → 100%",)
    assert changed_register(s.register, what_if).table["probability"].tolist() == [
        0.5, 1.0, 1.0, 1.0, 0.5]


# -- saving and reading -----------------------------------------------------------------------------
def test_an_inline_register_and_a_probability_what_if_save_and_reload_to_the_same_figures():
    data = document({"register": "add", "event_correlation": 0.2})
    data["system"]["risks"][0].update(group="big", recurrent=True)
    s = read_session_dict(data).at_step(2, WhatIf.of(item="A: M2", probability=0.9))
    text = s.to_toml()
    assert 'item = "A: M2"' in text and "probability = 0.9" in text
    assert 'register = "add"' in text and "event_correlation = 0.2" in text
    again = load_session(text)
    assert again.equals(s)
    assert again.register is not None and again.register.table.equals(s.register.table)
    assert again.register.table.loc[0, "group"] == "big"
    assert bool(again.register.table.loc[0, "recurrent"])
    assert again.what_if == WhatIf.of(item="A: M2", probability=0.9)
    assert [f.value for f in view(again).figures] == [f.value for f in view(s).figures]


def test_a_session_without_register_settings_writes_none_of_them():
    text = load_session("northshire_workshop").to_toml()
    assert "register" not in text and "event_correlation" not in text


def test_a_changed_register_makes_a_different_session():
    other = document()
    other["system"]["risks"][4]["probability"] = 0.6
    assert not read_session_dict(other).equals(read_session_dict(document()))


def test_the_bundled_risks_session():
    s = load_session("vale_risks")
    assert s.sample == "vale_2025_26" and s.scenarios.register == "add"
    assert s.register.table.equals(rs.load_sample_register("vale_2025_26").table)
    assert [st.kind for st in s.steps] == ["baseline", "risks", "risks", "compare", "walk_away"]
    # independently of the library: the members inside the SCT, their forecasts and their
    # items' amount × probability from the sample's files
    folder = rs.samples.info("vale_2025_26").path
    orgs = pd.read_csv(folder / "organisations.csv").set_index("org_id")
    items = pd.read_csv(folder / "risks.csv")
    inside = orgs.index[orgs["in_sct"].astype(str).str.lower() == "true"]
    items = items[items["org_id"].isin(inside)]
    expected = items["amount"] * items["probability"]
    sign = items["type"].map({"risk": -1.0, "mitigation": 1.0})
    adjusted = orgs.loc[inside, "forecast"].sum() + (sign * expected).sum()
    v = view(s, 2)
    assert figure(v, "System risk-adjusted forecast").value == pytest.approx(adjusted, abs=0.01)
    # the compare step across scenarios draws the register's 15 items
    compare = view(s, 4)
    assert "15 register items drawn as events on top of the volatility" in \
        compare.results["scenarios"]
    assert compare.sentences[-1] == ("The simulated years draw the risk register's 15 items as "
                                     "events, on top of the members' volatility.")


def test_steps_judged_across_scenarios_draw_the_register_when_the_session_says_so():
    s = load_session("vale_risks")
    plain = read_session_dict({**s.to_dict(), "scenarios": {**s.to_dict()["scenarios"],
                                                            "register": "none"}})
    with_register = view(s, 4).results["comparison"]
    without = view(plain, 4).results["comparison"]
    assert not with_register["mean_final"].equals(without["mean_final"])
    # the probability knob is offered there, and moves the comparison
    assert "probability" in [k.knob.key for k in knobs(s, 4)]
    assert "probability" not in [k.knob.key for k in knobs(plain, 4)]
    item = "ICB: Contingency reserve release"
    moved = view(s, 4, WhatIf.of(item=item, probability=0.0))
    assert not moved.results["comparison"]["mean_final"].equals(with_register["mean_final"])
    assert moved.changes == (f"{item} probability 100% → 0%",)
    # a step at the forecast draws nothing, so has no probability knob
    assert "probability" not in [k.knob.key for k in knobs(s, 1)]


def test_the_default_item_is_the_mitigation_most_in_doubt():
    register = rs.load_sample_register("vale_2025_26")
    # amount × p × (1 − p), £m: ICB reserve release 5.0 × 1 × 0 = 0; VGH vacancy slippage
    # 2.5 × .7 × .3 = 0.525; EVH release 1.5 × .8 × .2 = 0.24; VOC income .6 × .5 × .5 = 0.15
    assert target_item(register) == "VGH: Vacancy slippage"
    assert target_item(register, WhatIf.of(item="VGH: CIP slippage")) == "VGH: CIP slippage"
    assert item_labels(register)[0] == "VGH: ERF under-delivery"


def test_a_draft_session_gets_a_risks_step_with_the_register():
    system = rs.load_sample("vale_2025_26")
    register = rs.load_sample_register("vale_2025_26")
    drafted = draft_session(system, ["standalone", "gain_loss_50_50_deadband"],
                            register=register)
    step = drafted.steps[1]
    assert (step.kind, step.agreements) == ("risks", ("B",))
    assert drafted.register.table.equals(register.table)
    assert load_session(drafted.to_toml()).equals(drafted)
    assert all(s.kind != "risks" for s in draft_session(system, ["standalone"]).steps)


def test_a_session_moved_to_a_system_without_the_registers_members_drops_the_register():
    s = read_session_dict(document(risks=True))
    s = s.at_step(1)
    other = rs.System.from_frame(pd.DataFrame([{
        "org_id": "B", "name": "Acute B", "kind": "acute", "turnover": 100 * M,
        "control_total": 0.0, "forecast": 0.0}]))
    with pytest.raises(ValidationError, match=r"steps\[2\].kind"):
        s.with_system(other)             # the risks step then asks for a register
    same = s.with_system(s.system)
    assert same.register is not None and same.register.table.equals(s.register.table)


# -- the reports --------------------------------------------------------------------------------------
def test_the_reports_hold_the_risks_step():
    s = read_session_dict(document()).at_step(2, WhatIf.of(item="A: M2", probability=1.0))
    shown = views(s)
    titles = [sheet.title for sheet in session_sheets(s, shown, images=False)]
    for title in ("2 risks", "2 risks what-if", "risk register", "2 ranking", "2 reserve",
                  "2 reserve members", "2 ranking what-if", "2 reserve what-if"):
        assert title in titles
    sheets = {sheet.title: sheet for sheet in session_sheets(s, shown, images=False)}
    assert sheets["2 risks"].frame.set_index("org_id").at["A", "risk_adjusted"] == -7.2 * M
    assert sheets["2 risks what-if"].frame.set_index("org_id").at["A", "risk_adjusted"] == \
        -6.2 * M
    assert [v.step.kind for v in key_views(shown)] == ["baseline", "risks"]
    page = html_report(s, shown)
    assert "2. The register" in page and "-£7.20m" in page and "-£6.20m" in page
    assert "A: M2 probability 50% → 100%" in page


# -- what is refused, naming the key -----------------------------------------------------------------
@pytest.mark.parametrize(("change", "key", "words"), [
    (lambda d: d["system"].pop("risks"), "steps[2].kind", "needs the system's risk register"),
    (lambda d: d["system"]["risks"][2].update(probability=2), "system.risks[3].probability",
     "must be a chance from 0 to 1"),
    (lambda d: d["system"]["risks"][1].update(amount=-5.0), "system.risks[2].amount",
     "must be 0 or more"),
    (lambda d: d["system"]["risks"][0].update(org_id="ZZ"), "system.risks[1].org_id",
     "is not a member"),
    (lambda d: d["system"]["risks"][4].update(item="M1"), "system.risks[5].item", "twice"),
    (lambda d: [row.pop("amount") for row in d["system"]["risks"]], "system.risks",
     "column 'amount': missing required column 'amount'"),
    (lambda d: d["system"]["risks"][0].pop("amount"), "system.risks[1].amount",
     "is blank: give the item's size"),
    (lambda d: d["system"].update(risks=[]), "system.risks", "must be [[system.risks]] rows"),
    (lambda d: d.update(what_if={"item": "A: M9", "probability": 0.9}), "what_if.item",
     "is not an item of the session's risk register"),
    (lambda d: d.update(what_if={"item": "A: M2", "probability": 1.5}), "what_if.probability",
     "must be a number from 0 to 1"),
    (lambda d: d.update(scenarios={"register": "sometimes"}), "scenarios.register",
     "must be one of: none, add, instead"),
    (lambda d: d.update(scenarios={"event_correlation": 2.0}), "scenarios.event_correlation",
     "must lie in [0, 1]"),
    (lambda d: d["steps"][1].update(agreements=["A", "A"]), "steps[2].agreements", "twice"),
    (lambda d: d["steps"][1].update(month=3), "steps[2].month", "only in_year steps"),
    (lambda d: d["steps"][1].update(judge="scenarios"), "steps[2].judge",
     "only compare, walk_away and fairer"),
])
def test_bad_risks_sessions_are_refused_naming_the_key(change, key, words):
    data = copy.deepcopy(document())
    change(data)
    with pytest.raises(ValidationError) as err:
        read_session_dict(data)
    message = str(err.value)
    assert f"'{key}'" in message and words in message, message
    assert "nan" not in message
    if key.startswith("system.risks"):       # the register's rows, reported once
        assert "needs the system's risk register" not in message


def test_a_risks_step_without_a_register_is_one_problem():
    data = document(risks=False)
    with pytest.raises(ValidationError) as err:
        read_session_dict(data)
    assert len(err.value.problems) == 1
    assert err.value.problems[0].column == "steps[2].kind"


def test_scenarios_drawing_a_register_the_session_has_not_got_are_refused():
    data = document(risks=False)
    data["steps"].pop()
    data["scenarios"] = {"register": "add"}
    with pytest.raises(ValidationError, match=r"scenarios.register.*the session has none"):
        read_session_dict(data)


def test_an_item_what_if_without_a_register_is_refused():
    data = document(risks=False)
    data["steps"].pop()
    data["what_if"] = {"item": "A: M2", "probability": 0.9}
    with pytest.raises(ValidationError, match=r"what_if.item.*has no risk register"):
        read_session_dict(data)


def test_a_sample_with_inline_risks_rows_is_refused():
    data = document()
    data["system"] = {"sample": "vale_2025_26", "risks": data["system"]["risks"]}
    with pytest.raises(ValidationError, match="either 'sample' or the 'orgs'"):
        read_session_dict(data)


def test_risks_steps_beyond_the_time_budget_are_refused_at_load(monkeypatch):
    # each risks step runs the engine once per item and twice more: (5 + 2) runs of 1,000
    # scenarios × 1 member ≈ 7 × (0.00025 + 0.01) s ≈ 0.07 s, above a budget of 0.05 s
    monkeypatch.setenv("RISKSHARE_TIME_BUDGET", "0.05")
    with pytest.raises(ValidationError) as err:
        read_session_dict(document())
    message = str(err.value)
    assert "key 'scenarios.n'" in message
    assert "1 risks step ranks the risk register's 5 items across 1,000 scenarios" in message
    monkeypatch.setenv("RISKSHARE_TIME_BUDGET", "1")
    assert read_session_dict(document()).register is not None
