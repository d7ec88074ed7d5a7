"""How money and percentages are written for people."""

from __future__ import annotations

import pytest

from riskshare.core.format import money, money_m, pct


@pytest.mark.parametrize("pounds, kwargs, text", [
    (1_684_000_000, {}, "£1,684.0m"),
    (-13_400_000, {}, "-£13.4m"),
    (512_400_000, {"dp": 2}, "£512.40m"),
    (-40_000, {}, "£0.0m"),                 # rounds to zero: no "-£0.0m"
    (-4_000, {"dp": 2}, "£0.00m"),
    (-0.0, {}, "£0.0m"),
    (0, {"sign": True}, "£0.0m"),            # zero takes no sign
    (789_473.69, {"dp": 2, "sign": True}, "+£0.79m"),
    (-789_473.69, {"dp": 2, "sign": True}, "-£0.79m"),
    (3_000_000, {"dp": None}, "£3.00m"),     # auto: 2 dp below £10m
    (380_000, {"dp": None}, "£0.38m"),
    (-9_000_000, {"dp": None}, "-£9.00m"),
    (9_940_000, {"dp": None}, "£9.94m"),
    (10_000_000, {"dp": None}, "£10.0m"),    # 1 dp from £10m up
    (-16_000_000, {"dp": None}, "-£16.0m"),
    (2_500_000_000, {"dp": None}, "£2,500.0m"),
    (1_234_567, {"dp": 0}, "£1m"),
])
def test_money_m(pounds, kwargs, text):
    assert money_m(pounds, **kwargs) == text


def test_money_m_uses_a_plain_hyphen_and_blank_for_missing():
    assert "\u2212" not in money_m(-5e6) and money_m(-5e6).startswith("-£")
    assert money_m(float("nan")) == "" and money_m(None) == ""


def test_money_m_auto_dp_at_the_boundary():
    assert money_m(9_950_000, dp=None) == "£9.95m"   # below £10m: two decimals
    assert money_m(9_999_999, dp=None) == "£10.0m"   # rounds to £10.00m: one decimal
    assert money_m(-9_950_000, dp=None) == "-£9.95m"


def test_rounding_is_half_up_like_a_spreadsheet():
    # Python's round(0.25, 1) gives 0.2 (binary); a finance reader expects 0.3
    assert money_m(250_000) == "£0.3m"
    assert money_m(-250_000) == "-£0.3m"
    assert money(0.125, 2) == "£0.13"


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


def test_money_missing_is_blank():
    assert money(float("nan")) == "" and money(None) == ""


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


def test_pct_missing_is_blank():
    assert pct(float("nan")) == "" and pct(None) == ""
