"""The worked cases of the system boundary, the elective recovery fund and the ring fence, as
the app shows them (each figure worked by hand; the library's tests hold the same cases)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

import riskshare as rs
from tests.app.helpers import errors, metric
from tests.unit.test_boundary import worked

APP = str(Path(__file__).resolve().parents[2] / "app.py")
RECONCILE = "riskshare/ui/pages/reconcile.py"
AGREEMENT = "riskshare/ui/pages/agreement.py"
M = 1_000_000.0


def start_with(system: rs.System, source: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.session_state["rs_system"] = system
    at.session_state["rs_source"] = source
    at.session_state["rs_version"] = at.session_state["rs_version"] + 1
    return at


def test_the_reconcile_page_shows_the_boundary_worked_case():
    at = start_with(worked(), "the worked case")
    at.switch_page(RECONCILE).run()
    assert not at.exception, errors(at)
    # ΣOCT 1.80 − 9.40 + 1.10 + 0.80 + 0.35 + 3.20 + 0.00 = −2.15; gap 1.50 + 2.15 = 3.65;
    # forecast −11.60 − 10.70 + 1.45 + 1.05 + 0.12 + 4.65 − 5.80 = −20.83, −22.33 against the SCT
    assert metric(at, "Members' totals (ΣOCT)") == "-£2.15m"
    assert metric(at, "Gap (SCT − ΣOCT)") == "£3.65m"
    assert metric(at, "Forecast against SCT") == "-£22.33m"
    assert any("NSC and VGP are outside the system control total" in i.value for i in at.info)
    # the rebalancing moves only the seven NHS members, who sum to the SCT (£1.50m)
    assert any("Revised OCTs inside the SCT sum to £1,500,000.00; the SCT is £1,500,000.00. "
               "NSC and VGP keep their OCTs (outside the SCT)." in c.value for c in at.caption)


def test_the_agreement_page_shows_the_erf_clawback():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(AGREEMENT).run()
    at.selectbox(key="preset_choice").select("erf_2022_23").run()
    at.button(key="load_agreement_sample").click().run()
    assert not at.exception, errors(at)
    table = next(d.value for d in at.dataframe
                 if "vs_standalone" in d.value.columns).set_index("org_id")
    # target 104% × £500.0m = £520.0m, delivered £505.0m: 0.75 × 15.0 = £11.25m clawed back
    assert round(float(table.loc["ACUTE", "final"]), 2) == -11.25
    assert round(float(table.loc["ICB", "final"]), 2) == 11.25


def test_the_reconcile_page_offers_the_ring_fence_and_says_when_it_binds():
    # three members, SCT +£12.0m with ACU and MHT kept: the ICB must take all £12.0m, and its
    # £157.5m mental health line would fall by 12.0 × 157.5/1575 = £1.2m to £156.3m, £0.3m below
    # the floor 150.0 × 1.044 = £156.6m
    frame = pd.DataFrame({
        "org_id": ["ICB", "ACU", "MHT"], "name": ["ICB", "Acute trust", "Mental health trust"],
        "kind": ["commissioner", "acute", "mental_health"],
        "turnover": [1575.0 * M, 500.0 * M, 200.0 * M], "control_total": [0.0, 0.0, 0.0],
        "forecast": [0.0, 0.0, 0.0],
        "mh_spend": [157.5 * M, 0.0, 0.0], "mh_spend_last_year": [150.0 * M, 0.0, 0.0]})
    at = start_with(rs.System.from_frame(frame, 12.0 * M, "Ring", ""), "ring")
    at.switch_page(RECONCILE).run()
    at.selectbox(key="rebalance_method").select("minimax_change").run()
    keep = next(m for m in at.multiselect if m.key.startswith("rebalance_keep"))
    keep.set_value(["ACU", "MHT"])
    at.number_input(key="rebalance_ring_fence").set_value(4.4)
    at.button(key="rebalance_submit").click().run()
    assert not at.exception
    message = errors(at)
    assert "ICB's ring-fenced spend stays at or above its floor of £156.60m" in message
