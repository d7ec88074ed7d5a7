"""Money in the app's tables follows the one £m rule: two decimals with separators, never
"-0.00", and "—" for a missing figure (riskshare/ui/tables.py)."""

from __future__ import annotations

import math

import pandas as pd

from riskshare.ui.tables import MONEY_M, in_millions, money_m_columns, styled_money


def frame() -> pd.DataFrame:
    return pd.DataFrame({"org_id": ["A", "B", "C", "D"],
                         "change": [-4_000.0, 4_999.0, -1_234_567_890.0, float("nan")],
                         "turnover": [5e8, 2e8, 2e8, 1e9]})


def test_figures_that_round_to_zero_are_shown_as_zero_not_minus_zero():
    shown = in_millions(frame(), ["change"])
    # −£4,000 and +£4,999 are under half of £0.01m: exactly 0 (never "-0.00"); −£1,234,567,890
    # is −1,234.56789 £m, kept to sort on (the Styler writes it −1,234.57); the missing figure
    # stays missing
    assert shown["change"].iloc[0] == 0.0 and math.copysign(1, shown["change"].iloc[0]) == 1
    assert shown["change"].iloc[1] == 0.0
    assert shown["change"].iloc[2] == -1_234.56789
    assert math.isnan(shown["change"].iloc[3])
    assert shown["turnover"].tolist() == [5e8, 2e8, 2e8, 1e9]        # only the money columns


def test_the_styler_writes_two_decimals_a_dash_and_no_minus_zero():
    styler = styled_money(frame(), ["change"])
    html = styler.to_html()
    assert ">0.00<" in html and "-0.00" not in html
    assert ">-1,234.57<" in html
    assert ">—<" in html and ">nan<" not in html and ">None<" not in html


def test_money_columns_leave_the_text_to_the_styler_and_percent_columns_two_decimals():
    assert MONEY_M == "%,.2f"
    config = money_m_columns({"change": "change £m"}, {"change_pct": "change %"})
    assert config["change"]["type_config"]["format"] is None
    assert config["change"]["label"] == "change £m"
    assert ">-1,234.57<" in styled_money(frame(), ["change"]).to_html()
    assert config["change_pct"]["type_config"]["format"] == "%.2f%%"


def test_a_half_is_shown_rounded_away_from_zero_as_the_sentences_round_it():
    """-£175,000 is -0.175 £m: -£0.18m in every sentence (half away from zero). A browser's
    column format would print the binary -0.17499… as "-0.17", so the £m columns carry no
    format and the Styler's text — the app's rule — is what shows."""
    styler = styled_money(pd.DataFrame({"final": [-175_000.0, 175_000.0, -5_000.0]}),
                          ["final"])
    html = styler.to_html()
    assert ">-0.18<" in html and ">0.18<" in html and ">-0.01<" in html
    assert money_m_columns({"final": "final £m"})["final"]["type_config"]["format"] is None
