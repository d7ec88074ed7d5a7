"""Workshop in_year steps: the year as the ledger closed at a month, and what the deal does about
it ("Month 9: who is behind, and what does the deal do about it?").

The worked case is the in-year one of docs/in_year.md: one member plans −£12.0m phased −£1.0m a
month with £8.0m of support judged quarterly in arrears; its actuals to date are −3.5, −5.5 and
−8.5 (£m) at months 3, 6 and 9. Every expected figure is worked by hand in the comments.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

import riskshare as rs
from riskshare.core.errors import ValidationError
from riskshare.workshop.session import draft_session, load_session, read_session_dict
from riskshare.workshop.steps import view, views
from riskshare.workshop.whatif import knobs

M = 1_000_000.0
#: cumulative actuals (£m) to month 9: −3.5 at month 3, −5.5 at 6, −8.5 at 9
CUMULATIVE = [-1.5, -2.5, -3.5, -4.5, -5.0, -5.5, -6.5, -7.5, -8.5]


def document(month: int = 9, forecast: str | None = None, monthly: bool = True) -> dict:
    """An inline session: the one-member system, its monthly table to month 9, a quarterly
    support agreement, and a baseline then an in_year step."""
    in_month = np.round(np.diff([0.0, *CUMULATIVE]) * M, 2)
    system = {"name": "One", "year": "2018/19", "control_total": -12 * M,
              "orgs": [{"org_id": "A", "name": "Acute A", "kind": "acute",
                        "turnover": 400 * M, "control_total": -12 * M,
                        "forecast": -11.5 * M, "support": 8 * M}]}
    if monthly:
        system["monthly"] = [{"org_id": "A", "month": k + 1, "plan": -1 * M,
                              **({"actual": float(in_month[k])} if k < 9 else {})}
                             for k in range(12)]
    step = {"kind": "in_year", "title": "Month 9", "month": month, "agreements": ["A"]}
    if forecast:
        step["forecast"] = forecast
    return {"title": "In year", "system": system,
            "agreements": {"A": {"name": "Quarterly support",
                                 "support": {"period": "quarter"}}},
            "steps": [{"kind": "baseline", "title": "Where we start"}, step]}


def figure(v, label: str):
    return next(f for f in v.figures if f.label == label)


def test_month_9_judges_three_quarters_on_actuals_and_the_fourth_at_the_forecast():
    # YTD plan at month 9 = 9 × −1.0 = −9.0; YTD actual −8.5 ⇒ +£0.5m ahead of plan.
    # Forecast (plan method) = −8.5 + 3 × −1.0 = −11.5; against the SCT −12.0 ⇒ +£0.5m.
    # Quarters (arrears): m3 −3.5 vs −3.0 fails (Q1 £2.0m lost); m6 −5.5 vs −6.0 and m9 −8.5 vs
    # −9.0 pass (£4.0m earned so far); Q4 at the forecast −11.5 vs −12.0 passes ⇒ £6.0m in all,
    # final −11.5 + 6.0 = −£5.5m.
    v = view(read_session_dict(document()), 2)
    assert figure(v, "System to date against its plan").value == 0.5 * M
    assert figure(v, "Forecast outturn against the SCT").value == 0.5 * M
    assert figure(v, "Members behind plan to date").text == "0 of 1"
    assert figure(v, "A: support earned at the forecast").value == 6.0 * M
    # the SCT is before support: the outturn −11.5 (no sharing) against −12.0 ⇒ +£0.5m
    assert figure(v, "A: system outturn against the SCT").value == 0.5 * M
    row = v.table.loc["A"]
    assert (row["ytd_plan"], row["ytd_actual"], row["ytd_variance"]) == (-9 * M, -8.5 * M,
                                                                          0.5 * M)
    assert (row["forecast"], row["support_earned"], row["final"]) == (-11.5 * M, 6 * M,
                                                                      -5.5 * M)
    text = " ".join(v.sentences)
    assert "support lost in the quarters already judged: A (Q1, £2.00m); £4.00m earned so far" \
        in text
    assert "at the forecast, every quarter still to be judged is earned" in text
    q = v.results["outcomes"]["A"].quarters.loc["A"]
    assert q["judged_on"].tolist() == ["actuals", "actuals", "actuals", "forecast"]


def test_month_6_by_the_run_rate():
    # run rate at month 6: −5.5 × 12 / 6 = −11.0; against the SCT −12.0 ⇒ +£1.0m.
    # YTD plan −6.0, actual −5.5 ⇒ +£0.5m.
    v = view(read_session_dict(document(month=6, forecast="run_rate")), 2)
    assert figure(v, "Forecast outturn against the SCT").value == 1.0 * M
    assert figure(v, "System to date against its plan").value == 0.5 * M
    assert "the run rate" in figure(v, "Forecast outturn against the SCT").delta


def test_month_3_shows_the_first_quarter_lost_and_the_rest_at_risk_or_not():
    # m3: −3.5 vs −3.0 ⇒ −£0.5m behind plan; forecast −3.5 − 9.0 = −12.5 ⇒ −£0.5m vs the SCT.
    # Quarters to come at the forecast (plan method): the −0.5 carries ⇒ Q2–Q4 fail too.
    v = view(read_session_dict(document(month=3)), 2)
    assert figure(v, "System to date against its plan").value == -0.5 * M
    assert figure(v, "Members behind plan to date").text == "1 of 1"
    assert figure(v, "A: support earned at the forecast").value == 0.0
    text = " ".join(v.sentences)
    assert "A (Q1, £2.00m)" in text
    assert "at risk on the forecast (quarters still to be judged): A (Q2, Q3 and Q4, £6.00m)" \
        in text


def test_an_inline_session_with_its_monthly_table_saves_and_reloads_to_the_same_figures():
    s = read_session_dict(document())
    again = load_session(s.to_toml())
    assert again.equals(s)
    assert again.monthly is not None
    assert view(again, 2).table.equals(view(s, 2).table)
    assert 'kind = "in_year"' in s.to_toml() and "month = 9" in s.to_toml()


def test_the_bundled_in_year_session():
    s = load_session("vale_in_year")
    assert s.sample == "vale_2025_26" and s.monthly is not None
    monthly = pd.read_csv(rs.samples.info("vale_2025_26").path / "monthly.csv")
    system = s.system
    inside = system.orgs.index[system.inside]
    oct_inside = float(system.orgs.loc[inside, "control_total"].sum())
    for number, month in ((2, 3), (3, 6), (4, 9)):
        v = view(s, number)
        # independently: the members inside the SCT, actuals and plans of months 1..m (a blank
        # plan is the control total phased evenly, 1/12 a month); the system's plan to date is
        # theirs plus the SCT gap phased evenly (m / 12)
        part = monthly[monthly["org_id"].isin(inside) & (monthly["month"] <= month)]
        even = part["org_id"].map(system.orgs["control_total"]) / 12
        ytd = part["actual"].sum() - part["plan"].fillna(even).sum() \
            - (system.control_total - oct_inside) * month / 12
        assert figure(v, "System to date against its plan").value == pytest.approx(ytd,
                                                                                  abs=0.01)
    # Deficit support of £52.0m in four £13.0m quarters, paid in advance on the system: Q1 on
    # the plan; the system is behind plan at months 3, 6 and 9 ⇒ Q2–Q4 withheld: £13.0m.
    assert figure(view(s, 4), "A: support earned at the forecast").value == 13.0 * M
    # and the system's outturn before support is £11.1m short of the deficit limit (the SCT),
    # not "+£1.86m" as a final position after support read against it would say
    assert figure(view(s, 4), "A: system outturn against the SCT").value == pytest.approx(
        figure(view(s, 4), "System to date against its plan").value, abs=0.01)


def test_a_draft_session_gets_an_in_year_step_at_the_latest_month_closed():
    system = rs.load_sample("vale_2025_26")
    drafted = draft_session(system, ["deficit_support_2025_26"],
                            monthly=rs.load_sample_monthly("vale_2025_26"))
    step = drafted.steps[1]
    assert (step.kind, step.month, step.agreements) == ("in_year", 9, ("A",))
    assert step.title.startswith("Month 9: who is behind")
    assert all(s.kind != "in_year" for s in draft_session(system, ["standalone"]).steps)
    assert len(views(drafted)) == len(drafted.steps)


def test_an_in_year_step_ignores_shocks_and_has_no_shock_knob():
    data = document()
    data["steps"][0]["shocks"] = ["winter_pressure"]
    s = read_session_dict(data)
    plain = view(read_session_dict(document()), 2)
    v = view(s, 2)
    assert v.table.equals(plain.table)          # the ledger, not the shocked forecast
    assert any("change a forecast, not the ledger" in x for x in v.sentences)
    assert "shock_scale" not in [k.knob.key for k in knobs(s, 2)]


@pytest.mark.parametrize(("change", "key", "words"), [
    (lambda d: d["system"].pop("monthly"), "steps[2].kind", "needs the system's monthly table"),
    (lambda d: d["steps"][1].update(month=11), "steps[2].month", "has not closed"),
    (lambda d: d["steps"][1].update(month=13), "steps[2].month", "0 (none) to 12"),
    (lambda d: d["steps"][1].pop("month"), "steps[2].month", "needs the months closed"),
    (lambda d: d["steps"][1].update(forecast="guess"), "steps[2].forecast", "must be one of"),
    (lambda d: d["steps"][0].update(month=3), "steps[1].month", "only in_year steps"),
    (lambda d: d["steps"][1].update(agreements=["A", "A"]), "steps[2].agreements", "twice"),
    (lambda d: d["system"]["monthly"][0].update(month=14), "month", "1"),
])
def test_bad_in_year_steps_are_refused_naming_the_key(change, key, words):
    data = copy.deepcopy(document())
    change(data)
    with pytest.raises(ValidationError) as err:
        read_session_dict(data)
    message = str(err.value)
    assert key in message and words in message


def test_a_sample_with_inline_monthly_rows_is_refused():
    data = document()
    data["system"] = {"sample": "vale_2025_26", "monthly": data["system"]["monthly"]}
    with pytest.raises(ValidationError, match="either 'sample' or the 'orgs'"):
        read_session_dict(data)
