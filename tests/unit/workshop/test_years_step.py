"""Workshop years steps: the years ahead on screen — the projection from the underlying position
(`rs.project`), each year's plan against the SCT (as carried under an agreement with a carry),
capital against the envelope, who would be better off outside over the horizon, the bridge and
the board-paper sentences — and the savings what-if knob.

The worked case is docs/years.md's, written into a session: one member reporting −£5.0m with
£20.0m of deficit support and £12.0m of non-recurrent savings in its forecast; next year support
halved, the £5.0m overspend repaid and £15.0m of recurrent savings ⇒ planned −£17.0m. Every
expected figure is worked by hand in the comments (£m unless said).
"""

from __future__ import annotations

import copy

import pandas as pd
import pytest

import riskshare as rs
from riskshare.core.errors import ValidationError
from riskshare.workshop.printable import html_report, key_views
from riskshare.workshop.report import session_sheets
from riskshare.workshop.session import WhatIf, load_session, read_session_dict
from riskshare.workshop.steps import view, views
from riskshare.workshop.whatif import changed_rules, describe_changes, knobs

M = 1_000_000.0
WORKED_RULES = {"name": "The worked case", "years": 1,
                "members": {"A": {"savings_amount": 15_000_000,
                                  "repay": {"amount": "deficit", "over": 1},
                                  "lines": {"nr_support": {"change": "halve"}}}}}


def one(forecast: float = -5 * M, **columns) -> dict:
    """A one-member system inline: Trust A, turnover £500.0m, control total (and SCT) 0."""
    return {"name": "One", "year": "2025/26", "control_total": 0.0,
            "orgs": [{"org_id": "A", "name": "Trust A", "kind": "acute", "turnover": 500 * M,
                      "control_total": 0.0, "forecast": forecast, **columns}]}


def document(system: dict | None = None, declared: dict | None = None, **step) -> dict:
    """A session: a baseline, then a years step (the worked case's rules unless `step` says)."""
    system = system or one(non_recurrent=32 * M, nr_support=20 * M, nr_savings=12 * M)
    return {"title": "Years", "system": system,
            "agreements": declared or {"A": {"preset": "standalone"}},
            "steps": [{"kind": "baseline", "title": "Where we start"},
                      {"kind": "years", "title": "The years ahead",
                       **({"rules": copy.deepcopy(WORKED_RULES)} | step)}]}


def figure(v, label: str):
    return next(f for f in v.figures if f.label.lower() == label.lower())


# -- the worked case ------------------------------------------------------------------------------
def test_the_worked_case_through_a_session():
    # underlying −5.0 − (20.0 + 12.0) = −37.0; next year +10.0 (support halved) − 5.0 (the
    # overspend repaid) + 15.0 (recurrent savings) = −17.0, against an SCT of 0: −17.0
    v = view(read_session_dict(document()), 2)
    under = figure(v, "System underlying position")
    assert (under.text, under.value) == ("-£37.00m", -37 * M)
    assert under.delta == "forecast -£5.00m less £32.00m of one-offs"
    plan = figure(v, "System plan 2026/27")
    assert (plan.text, plan.value, plan.good) == ("-£17.00m", -17 * M, False)
    assert plan.delta == "-£17.00m against the SCT"
    assert len(v.figures) == 2      # one year: no last year; no capital rule, no agreement
    row = v.table.loc["A"]
    assert (row["underlying"], row["plan 2026/27"]) == (-37 * M, -17 * M)
    assert row["plan vs control total 2026/27"] == -17 * M
    assert v.sentences[0] == ("From an underlying position of -£37.00m, the system plans "
                              "-£17.00m in 2026/27 (£17.00m short of the SCT).")
    # −37.0 + 15.0 (recurs) + 10.0 − 5.0 (this year only) = −17.0
    assert v.sentences[1] == ("From the underlying position to the 2026/27 plan: recurrent "
                              "savings +£15.00m, and for 2026/27 only, support (one-off line) "
                              "+£10.00m and repayment of a prior deficit -£5.00m.")
    assert v.sentences[-1] == "The projection rules: The worked case."
    # the bridge: −37.0 → +10.0 → −5.0 → +15.0 → −17.0, then the SCT and the plan against it
    bridge = v.results["projection"].bridge_table()
    assert list(zip(bridge["step"], bridge["2026/27"], strict=True)) == [
        ("opening (underlying / last year's recurrent position)", -37 * M),
        ("support (one-off line)", 10 * M), ("repayment of a prior deficit", -5 * M),
        ("recurrent savings", 15 * M), ("planned position", -17 * M),
        ("SCT", 0.0), ("planned − SCT", -17 * M)]
    spec = v.chart.to_dict()
    assert "from the underlying position to each year's plan" in str(spec["title"])


def test_without_rules_an_inline_system_holds_its_underlying_position():
    # no rules key on an inline system: no rules — every one-off gone, nothing else moves, over
    # the default 3 years: each year's plan is the underlying −37.0
    data = document()
    del data["steps"][1]["rules"]
    s = read_session_dict(data)
    assert s.steps[1].rules is None and s.steps[1].years is None
    v = view(s, 2)
    assert [f.label for f in v.figures] == ["System underlying position", "System plan 2026/27",
                                            "System plan 2028/29"]
    assert figure(v, "System plan 2028/29").value == -37 * M
    assert [v.table.at["A", f"plan {y}"] for y in ("2026/27", "2027/28", "2028/29")] == \
        [-37 * M] * 3


def test_the_years_key_sets_the_horizon():
    # two years of the worked rules: year 2 opens at the recurrent position −37.0 + 15.0 = −22.0
    # (the support and the repayment are not recurrent); "halve" pays half of this year's 20.0
    # in every year ahead (+10.0), the £15.0m of savings a year recurs (+15.0) and the deficit
    # was repaid in year 1: −22.0 + 10.0 + 15.0 = +3.0
    v = view(read_session_dict(document(years=2)), 2)
    assert figure(v, "System plan 2027/28").value == 3 * M
    assert figure(v, "System plan 2027/28").delta == "+£3.00m against the SCT"
    assert v.table.at["A", "plan 2026/27"] == -17 * M


def test_a_shock_in_force_moves_the_starting_point():
    # a £2.0m adverse shock from step 2 on: the forecast is −7.0, so the underlying is −39.0 and
    # the deficit repaid 7.0: −39.0 + 10.0 − 7.0 + 15.0 = −21.0
    data = document()
    data["shocks"] = {"hit": {"name": "Hit", "effects": [{"target": "member:A",
                                                          "amount": -2 * M}]}}
    data["steps"][1]["shocks"] = ["hit"]
    s = read_session_dict(data)
    v = view(s, 2)
    assert figure(v, "System underlying position").value == -39 * M
    assert figure(v, "System plan 2026/27").value == -21 * M
    assert "after the shocks in force" in v.sentences[-1]
    # the shock-size knob at 0×: the worked case again
    assert "shock_scale" in [k.knob.key for k in knobs(s, 2)]
    assert figure(view(s, 2, WhatIf.of(shock_scale=0.0)), "System plan 2026/27").value == \
        -17 * M


# -- an agreement and its carry -------------------------------------------------------------------
TWO = {"name": "Two", "year": "2025/26",
       "orgs": [{"org_id": "A", "name": "Trust A", "kind": "acute", "turnover": 500 * M,
                 "control_total": 0.0, "forecast": -6 * M},
                {"org_id": "B", "name": "Trust B", "kind": "community", "turnover": 300 * M,
                 "control_total": 0.0, "forecast": 1 * M}]}
# A: underlying −6.0, savings of 9.0 in year 2 only ⇒ planned −6.0, +3.0, +3.0; B +1.0 each year
RECOVERY = {"name": "Recovery", "years": 3,
            "members": {"A": {"savings_amount": [0.0, 9_000_000, 0.0]}}}


def carry_session(**carry) -> dict:
    return document(TWO, {"A": {"name": "Carry", "carry": {"years": 2, **carry}}},
                    rules=copy.deepcopy(RECOVERY), agreements=["A"])


def test_an_agreement_with_a_carry_reads_against_the_sct_as_carried():
    # A's 6.0 shortfall in 2026/27 is repaid over two years: its control totals in 2027/28 and
    # 2028/29 rise by 3.0 each, so the SCT as carried is 0 + 3.0 = 3.0 in those years.
    # System plan: 2026/27 −6.0 + 1.0 = −5.0 against 0 ⇒ −5.0; 2028/29 3.0 + 1.0 = 4.0 against
    # 3.0 ⇒ +1.0. Nothing is pooled, so each member's final equals its position alone: no member
    # is better off outside.
    v = view(read_session_dict(carry_session()), 2)
    first, last = figure(v, "System plan 2026/27"), figure(v, "System plan 2028/29")
    assert (first.text, first.delta) == ("-£5.00m", "-£5.00m against the SCT as carried")
    assert (last.text, last.delta, last.good) == ("£4.00m", "+£1.00m against the SCT as carried",
                                                  True)
    outside = figure(v, "A: members better off outside over the horizon")
    assert (outside.text, outside.delta, outside.good) == ("0 of 2", "discounted at 3.5% a year",
                                                           True)
    a = v.table.loc["A"]
    assert (a["control total as carried 2028/29"], a["plan vs control total as carried 2028/29"]) \
        == (3 * M, 0.0)
    assert (a["carried"], a["written off"], a["discounted gain over alone"]) == (-6 * M, 0.0, 0.0)
    text = " ".join(v.sentences)
    assert "(£1.00m better than the SCT as carried)" in text
    assert "A — Carry is applied to each year's plan. Over the years ahead, a shortfall" in text
    assert "every member is at least as well off in the agreement as alone" in text


def test_a_capped_carry_writes_the_rest_off():
    # a £4.0m cap: 4.0 carried (2.0 into each of the next two years), 2.0 written off; the SCT
    # as carried in 2028/29 is 2.0, the system's plan 4.0 ⇒ +2.0
    v = view(read_session_dict(carry_session(max_carry_amount=4_000_000)), 2)
    assert figure(v, "System plan 2028/29").delta == "+£2.00m against the SCT as carried"
    assert (v.table.at["A", "carried"], v.table.at["A", "written off"]) == (-4 * M, -2 * M)


def test_an_agreement_without_a_carry_reads_against_the_sct():
    v = view(read_session_dict(document(agreements=["A"])), 2)
    assert figure(v, "System plan 2026/27").delta == "-£17.00m against the SCT"
    assert figure(v, "A: members better off outside over the horizon").text == "0 of 1"
    assert "Nothing is carried from one year into the next." in " ".join(v.sentences)


# -- capital and the savings knob -----------------------------------------------------------------
CAPITAL = {"name": "Capital", "years": 1,
           "capital": {"envelope": 80_000_000, "fair_share": 90_000_000, "penalty_rate": 1.0,
                       "penalty_cap": 10.0, "bonus_share": 30.0}}


def test_capital_in_the_last_year_and_the_savings_knob():
    # forecast −6.0 with no one-offs and no other rules: the plan is −6.0 ⇒ £1 withheld per £1
    # of deficit (below the cap of 10% of 80.0 = 8.0): 80.0 − 6.0 = 74.0
    s = read_session_dict(document(one(-6 * M), rules=copy.deepcopy(CAPITAL)))
    capital = figure(view(s, 2), "System capital 2026/27")
    assert (capital.text, capital.value, capital.good) == ("£74.00m", 74 * M, False)
    assert capital.delta == "-£6.00m against the envelope of £80.00m"
    # the knob: [all] gives no savings, so it is prepared at 0%
    (knob,) = knobs(s, 2)
    assert (knob.knob.key, knob.value, knob.knob.unit) == ("savings", 0.0, "%")
    # 1% of cost: cost = income 500.0 − position (−6.0) = 506.0, savings 5.06 ⇒ plan −0.94 ⇒
    # capital 80.0 − 0.94 = 79.06
    v = view(s, 2, WhatIf.of(savings=1.0))
    assert figure(v, "System plan 2026/27").value == pytest.approx(-0.94 * M, abs=0.005)
    assert figure(v, "System capital 2026/27").text == "£79.06m"
    assert v.changes == ("recurrent savings a year (% of cost) 1% (prepared: 0%)",)
    assert describe_changes(s, 2, WhatIf.of(savings=1.0)) == v.changes
    # 2%: savings 10.12 ⇒ plan +4.12, breakeven or better: 30% of the gap to the fair share
    # (90.0 − 80.0 = 10.0) added ⇒ 83.0
    assert figure(view(s, 2, WhatIf.of(savings=2.0)), "System capital 2026/27").text == \
        "£83.00m"
    # the prepared rules are untouched
    assert s.steps[1].projection_rules().all == {}


def test_no_savings_knob_when_every_member_has_its_own_savings():
    # the worked case's only member saves £15.0m of its own: the knob would reach no one
    s = read_session_dict(document())
    assert knobs(s, 2) == []
    rules = s.steps[1].projection_rules()
    assert changed_rules(rules, WhatIf.of(savings=5.0), s.system) is rules
    moved = view(s, 2, WhatIf.of(savings=5.0))
    assert (moved.figures, moved.sentences, moved.changes) == (view(s, 2).figures,
                                                              view(s, 2).sentences, ())


# -- the bundled session and the sample's rules ----------------------------------------------------
def test_the_bundled_years_session():
    s = load_session("vale_years")
    assert s.sample == "vale_2025_26"
    assert [st.kind for st in s.steps] == ["baseline", "years", "years"]
    # step 3 names no rules: the sample's own, as step 2 names them
    assert s.steps[1].rules == s.steps[2].rules == "vale_2025_26"
    assert s.steps[2].agreements == ("B",) and s.agreement("B").carry is not None
    # independently of the library: the underlying position of the members inside the SCT,
    # their forecasts less their one-offs, from the sample's own file
    orgs = pd.read_csv(rs.samples.info("vale_2025_26").path / "organisations.csv")
    inside = orgs[orgs["in_sct"].astype(str).str.lower() == "true"]
    expected = inside["forecast"].sum() - inside["non_recurrent"].sum()
    v = view(s, 2)
    assert figure(v, "System underlying position").value == pytest.approx(expected, abs=0.01)
    assert [f.label for f in v.figures] == ["System underlying position", "System plan 2026/27",
                                            "System plan 2028/29", "System capital 2028/29"]
    # the rules' [all] savings (2%) is the knob; ICB and VCC have their own and keep them
    (knob,) = [k for k in knobs(s, 2) if k.knob.key == "savings"]
    assert knob.value == 2.0
    changed = view(s, 2, WhatIf.of(savings=3.0)).results["projection"].of
    prepared = v.results["projection"].of
    for member in ("ICB", "VCC"):
        assert changed(member)["savings"].tolist() == prepared(member)["savings"].tolist()
    # VGH takes [all]'s: year 1 saves 3% of its cost, turnover less its underlying position
    vgh = orgs.set_index("org_id").loc["VGH"]
    cost = vgh["turnover"] - (vgh["forecast"] - vgh["non_recurrent"])
    assert changed("VGH").loc[1, "savings"] == pytest.approx(0.03 * cost, abs=0.01)
    three = view(s, 3)
    assert figure(three, "B: members better off outside over the horizon").value == \
        len(three.results["projection"].better_off_outside())


def test_a_sample_session_defaults_to_the_samples_rules_and_writes_them_out():
    data = {"title": "Vale", "system": {"sample": "vale_2025_26"},
            "agreements": {"A": {"preset": "standalone"}},
            "steps": [{"kind": "years", "title": "Ahead"}]}
    s = read_session_dict(data)
    assert s.steps[0].rules == "vale_2025_26"
    assert s.steps[0].projection_rules() == rs.load_rules("vale_2025_26")
    # written out in full (the system inline), the rules stay the sample's: the same figures
    text = s.to_toml()
    assert 'rules = "vale_2025_26"' in text
    again = load_session(text)
    assert again.sample == "" and again.steps[0].rules == "vale_2025_26"
    assert [f.value for f in view(again, 1).figures] == [f.value for f in view(s, 1).figures]


def test_no_rules_on_a_sample_that_has_some_is_said_inline():
    # [steps.rules] with a name alone: no rules — each member's underlying position held, less
    # the expected net of the sample's register's recurrent items (amount × probability, risks
    # less mitigations, for the members inside the SCT), read from the sample's own files
    data = {"title": "Vale", "system": {"sample": "vale_2025_26"},
            "agreements": {"A": {"preset": "standalone"}},
            "steps": [{"kind": "years", "title": "Ahead", "years": 1,
                       "rules": {"name": "No rules"}}]}
    folder = rs.samples.info("vale_2025_26").path
    orgs = pd.read_csv(folder / "organisations.csv")
    inside = orgs.loc[orgs["in_sct"].astype(str).str.lower() == "true", "org_id"]
    items = pd.read_csv(folder / "risks.csv")
    items = items[items["org_id"].isin(inside)
                  & (items["recurrent"].astype(str).str.lower() == "true")]
    sign = items["type"].map({"risk": -1.0, "mitigation": 1.0})
    recurrent = float((sign * items["amount"] * items["probability"]).sum())
    v = view(read_session_dict(data), 1)
    under = figure(v, "System underlying position").value
    assert figure(v, "System plan 2026/27").value == pytest.approx(under + recurrent, abs=0.05)


def test_inline_rules_and_a_savings_what_if_save_and_reload_to_the_same_figures():
    s = read_session_dict(document(one(-6 * M), rules=copy.deepcopy(CAPITAL), years=1))
    s = s.at_step(2, WhatIf.of(savings=1.0))
    text = s.to_toml()
    assert "[steps.rules]" in text and "[steps.rules.capital]" in text
    assert "savings = 1.0" in text
    again = load_session(text)
    assert again.equals(s)
    assert again.steps[1].projection_rules() == s.steps[1].projection_rules()
    assert [f.value for f in view(again).figures] == [f.value for f in view(s).figures]


# -- the reports --------------------------------------------------------------------------------------
def test_the_reports_hold_the_years_step():
    s = read_session_dict(carry_session()).at_step(2, WhatIf.of(savings=1.0))
    shown = views(s)
    sheets = {sheet.title: sheet for sheet in session_sheets(s, shown, images=False)}
    for title in ("2 years", "2 projection", "2 sentences", "2 participation", "2 carry",
                  "2 rules", "2 years what-if", "2 projection what-if", "2 rules what-if"):
        assert title in sheets, sorted(sheets)
    projection = sheets["2 projection"].frame.set_index(["year", "org_id"])
    assert projection.at[(3, "SYSTEM"), "planned"] == 4 * M
    assert projection.at[(2, "A"), "carry_in"] == 3 * M
    assert sheets["2 carry"].frame.set_index("org_id").at["A", "carried"] == -6 * M
    assert 'name = "Recovery"' in sheets["2 rules"].frame["toml"].tolist()
    # under the what-if B saves 1% of its cost each year (A saves its own amounts)
    assert "savings = 1.0" in sheets["2 rules what-if"].frame["toml"].tolist()
    assert [v.step.kind for v in key_views(shown)] == ["baseline", "years"]
    page = html_report(s, shown)
    assert "2. The years ahead" in page and "-£5.00m against the SCT as carried" in page
    assert "recurrent savings a year (% of cost) 1% (prepared: 0%)" in page


def test_the_worked_case_workbook_sheet():
    s = read_session_dict(document())
    sheets = {sheet.title: sheet for sheet in session_sheets(s, images=False)}
    projection = sheets["2 projection"].frame.set_index(["year", "org_id"])
    assert projection.at[(1, "A"), "planned"] == -17 * M
    assert projection.at[(1, "SYSTEM"), "opening"] == -37 * M
    assert "2 capital" not in sheets and "2 participation" not in sheets


# -- what is refused, naming the key -----------------------------------------------------------------
@pytest.mark.parametrize(("change", "key", "words"), [
    (lambda d: d["steps"][1]["rules"].update(all={"savings": -1.0}),
     "steps[2].rules.all.savings", "must be at least 0"),
    (lambda d: d["steps"][1]["rules"].update(all={"savings": 2.0, "savings_amount": 1.0}),
     "steps[2].rules.all.savings_amount", "not both"),
    (lambda d: d["steps"][1]["rules"]["members"].update(ZZ={"savings": 1.0}),
     "steps[2].rules.members.ZZ", "not a member of the system"),
    (lambda d: d["steps"][1]["rules"].update(all={"lines": {"nr_other": {"change": "keep"}}}),
     "steps[2].rules.all.lines.nr_other", "is not a one-off line of the system"),
    (lambda d: d["steps"][1]["rules"]["members"]["A"]["lines"]["nr_support"].update(
        change="double"), "steps[2].rules.members.A.lines.nr_support.change",
     "must be one of: keep, halve, withdraw, taper"),
    (lambda d: d["steps"][1]["rules"].pop("name"), "steps[2].rules.name",
     "needs a non-empty 'name'"),
    (lambda d: d["steps"][1]["rules"].update(bogus=1), "steps[2].rules.bogus", "unknown key"),
    (lambda d: d["steps"][1]["rules"].update(years=11), "steps[2].rules.years",
     "must be a whole number from 1 to 10"),
    (lambda d: d["steps"][1]["rules"].update(capital={"envelope": "nope"}),
     "steps[2].rules.capital.envelope", "is not a numeric column of the system"),
    # a name in a session is never opened as a path, even one that exists
    (lambda d: d["steps"][1].update(rules="sample_data/rules/vale_2025_26.toml"),
     "steps[2].rules", "is not a bundled set of projection rules"),
    (lambda d: d["steps"][1].update(rules=3), "steps[2].rules",
     "must name a bundled set of projection rules"),
    (lambda d: d["steps"][1].update(rules="vale_2025_26"), "steps[2].rules",
     "the bundled rules 'vale_2025_26' do not fit the system"),
    (lambda d: d["steps"][1].update(years=0), "steps[2].years",
     "must be a whole number of years from 1 to 10"),
    (lambda d: d["steps"][1].update(years=True), "steps[2].years",
     "must be a whole number of years from 1 to 10"),
    (lambda d: d["steps"][0].update(rules="vale_2025_26"), "steps[1].rules",
     "only years steps take it"),
    (lambda d: d["steps"][0].update(years=2), "steps[1].years", "only years steps take it"),
    (lambda d: d["steps"][1].update(month=3), "steps[2].month", "only in_year steps"),
    (lambda d: d["steps"][1].update(agreements=["A", "B"]), "steps[2].agreements",
     "a years step needs 0 to 1 agreement"),
    (lambda d: d["steps"][1].update(judge="scenarios"), "steps[2].judge",
     "only compare, walk_away and fairer"),
    (lambda d: d.update(what_if={"savings": 150}), "what_if.savings",
     "must be a number from 0 to 100"),
])
def test_bad_years_sessions_are_refused_naming_the_key(change, key, words):
    data = copy.deepcopy(document())
    data["agreements"]["B"] = {"preset": "gain_loss_50_50_deadband"}
    change(data)
    with pytest.raises(ValidationError) as err:
        read_session_dict(data)
    message = str(err.value)
    assert f"'{key}'" in message and words in message, message
