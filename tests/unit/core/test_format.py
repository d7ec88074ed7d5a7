"""How money and percentages are written for people."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskshare.core.format import amount, listed, money, money_m, pct, share


@pytest.mark.parametrize("pounds, kwargs, text", [
    (1_684_000_000, {}, "£1,684.00m"),        # two decimals by default
    (-13_400_000, {}, "-£13.40m"),
    (-13.4e6, {}, "-£13.40m"),
    (512_400_000, {"dp": 2}, "£512.40m"),
    (-40_000, {}, "-£0.04m"),
    (4_000, {}, "£0.00m"),                    # 0.004e6 rounds to zero
    (-4_000, {}, "£0.00m"),                   # rounds to zero: no "-£0.00m"
    (-4_000, {"dp": 2}, "£0.00m"),
    (-0.0, {}, "£0.00m"),
    (0, {"sign": True}, "£0.00m"),            # zero takes no sign
    (4_000, {"sign": True}, "£0.00m"),        # nor does what rounds to zero: no "+£0.00m"
    (-4_000, {"sign": True}, "£0.00m"),
    (0.44e6, {"sign": True}, "+£0.44m"),
    (789_473.69, {"dp": 2, "sign": True}, "+£0.79m"),
    (-789_473.69, {"dp": 2, "sign": True}, "-£0.79m"),
    (3_000_000, {"dp": None}, "£3.00m"),      # sentence mode: the same two decimals
    (380_000, {"dp": None}, "£0.38m"),
    (-9_000_000, {"dp": None}, "-£9.00m"),
    (9_940_000, {"dp": None}, "£9.94m"),
    (10_000_000, {"dp": None}, "£10.00m"),
    (-16_000_000, {"dp": None}, "-£16.00m"),
    (2_500_000_000, {"dp": None}, "£2,500.00m"),
    (1_234_567, {"dp": 0}, "£1m"),
    (1_250_000, {"dp": 1}, "£1.3m"),          # an explicit dp still wins
])
def test_money_m(pounds, kwargs, text):
    assert money_m(pounds, **kwargs) == text


def test_money_m_uses_a_plain_hyphen_and_a_dash_for_missing():
    assert "\u2212" not in money_m(-5e6) and money_m(-5e6).startswith("-£")
    assert money_m(float("nan")) == "—" and money_m(None) == "—"
    assert money_m(np.float64("nan")) == "—" and money_m(pd.NA) == "—"
    assert money_m(None, sign=True) == "—"


def test_sentence_mode_is_the_same_rule_as_tables():
    # one rule for £m: the sentence mode (dp=None) writes exactly what the default writes
    for pounds in (9_950_000, 9_999_999, -9_950_000, 123_456_789, -4_000):
        assert money_m(pounds, dp=None) == money_m(pounds)
    assert money_m(9_999_999, dp=None) == "£10.00m"   # 9.999999 rounds up to 10.00
    assert money_m(-9_950_000, dp=None) == "-£9.95m"


def test_rounding_is_half_up_like_a_spreadsheet():
    # Python's round(1.005, 2) gives 1.0 (binary); a finance reader expects 1.01
    assert money_m(1_005_000) == "£1.01m"
    assert money_m(-1_005_000) == "-£1.01m"
    assert money_m(250_000, dp=1) == "£0.3m"
    assert money(0.125, 2) == "£0.13"


@pytest.mark.parametrize("pounds, kwargs, text", [
    (13_404_000, {}, "£13.40m"),
    (-13_404_000, {"sign": True}, "-£13.40m"),
    (440_000, {"sign": True}, "+£0.44m"),
    (9_400, {}, "£9,400"),                    # below £10,000: whole pounds, not "£0.01m"
    (9_400, {"sign": True}, "+£9,400"),
    (-9_400, {"sign": True}, "-£9,400"),
    (0.3, {"sign": True}, "£0"),              # rounds to zero: no sign
    (-0.3, {}, "£0"),
    (None, {}, "—"),
    (float("nan"), {"sign": True}, "—"),
])
def test_amount(pounds, kwargs, text):
    assert amount(pounds, **kwargs) == text


@pytest.mark.parametrize("pounds, dp, text", [
    (1_234_567, 0, "£1,234,567"),
    (-12_345.678, 2, "-£12,345.68"),
    (3_000_000, 2, "£3,000,000.00"),
    (-0.4, 0, "£0"),           # no "-£0"
    (-0.004, 2, "£0.00"),
    (0, 0, "£0"),
    (-5_000_000, 0, "-£5,000,000"),
])
def test_money(pounds, dp, text):
    assert money(pounds, dp) == text


def test_money_missing_is_a_dash():
    assert money(float("nan")) == "—" and money(None) == "—"


@pytest.mark.parametrize("percent, kwargs, text", [
    (3.0, {}, "3.0%"),
    (-1.2, {}, "-1.2%"),
    (-0.04, {}, "0.0%"),          # no "-0.0%"
    (0.5, {"sign": True}, "+0.5%"),
    (-0.5, {"sign": True}, "-0.5%"),
    (0.0, {"sign": True}, "0.0%"),
    (-1.9203, {"dp": 2}, "-1.92%"),
    (-2.615, {"dp": 0}, "-3%"),
    (150, {}, "150.0%"),
])
def test_pct(percent, kwargs, text):
    assert pct(percent, **kwargs) == text


def test_pct_missing_is_a_dash():
    assert pct(float("nan")) == "—" and pct(None) == "—"


@pytest.mark.parametrize("fraction, dp, text", [
    (0.5, 0, "50%"), (0.604768, 1, "60.5%"), (1.0, 0, "100%"),
    (-0.0, 0, "0%"), (-0.0, 1, "0.0%"),             # a negative zero is zero
    (-0.000001, 1, "0.0%"), (-0.004, 0, "0%"),       # so is what rounds to it
    (-0.006, 0, "-1%"), (-0.25, 0, "-25%"),          # a real negative keeps its sign
    (None, 0, "—"), (float("nan"), 1, "—"),
])
def test_share_is_a_fraction_as_a_percentage_never_minus_zero(fraction, dp, text):
    assert share(fraction, dp) == text


def test_a_short_list_is_written_in_full():
    assert listed([]) == ""
    assert listed(["NGH"]) == "NGH"
    assert listed(["NGH", "SVH", "NCH"]) == "NGH, SVH, NCH"
    assert listed([f"M{i}" for i in range(12)]) == ", ".join(f"M{i}" for i in range(12))
    assert listed(["A by £1", "B by £2"], sep="; ") == "A by £1; B by £2"


def test_a_long_list_names_the_first_twelve_and_counts_the_rest():
    ids = [f"M{i:04d}" for i in range(1, 5001)]
    text = listed(ids)
    assert text == ("M0001, M0002, M0003, M0004, M0005, M0006, M0007, M0008, M0009, M0010, "
                    "M0011, M0012 and 4,988 more")
    assert listed(ids, limit=2) == "M0001, M0002 and 4,998 more"
    assert listed(iter(["A", "B", "C"]), limit=2) == "A, B and 1 more"     # any iterable
