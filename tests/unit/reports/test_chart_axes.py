"""Charts show money by the one £m rule: every £m axis includes zero with round ticks, and bar
labels read like the rest of the app ("-£13.40m", never "-£0.00m") and sit clear of their bars.

Expected figures are worked by hand from the bundled samples' CSV files."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import riskshare as rs
from riskshare.reports import charts

AXIS_LABELS = re.compile(r'<g class="mark-text role-axis-label"[^>]*>(.*?)</g>')
TEXT = re.compile(r"<text[^>]*>([^<]*)</text>")
TICK = re.compile(r"^-?£[\d,]+(\.\d+)?m$")
# the Northshire data before issue 16 (all members inside the SCT, SCT +£1.5m): an axis that
# straddles zero
NINE_MEMBERS = Path(__file__).parents[2] / "fixtures" / "nine_members"


def tick_labels(chart) -> list[str]:
    """The £m axis tick labels a rendered chart shows (text such as '-£5m', '£0.5m')."""
    return [t for group in AXIS_LABELS.findall(charts.to_svg(chart))
            for t in TEXT.findall(group) if TICK.match(t)]


def millions(label: str) -> float:
    return float(label.replace("£", "").replace("m", "").replace(",", ""))


@pytest.mark.parametrize("low, high, step, decimals", [
    (-24.11, 1.5, None, 0),   # span 25.61 / 5 ticks = 5.1 -> steps of 5: '£5m', '-£25m'
    (-2.0, 1.5, None, 1),     # 3.5 / 5 = 0.7 -> steps of 0.5: '-£1.5m'
    (0.0, 0.12, None, 2),     # 0.12 / 5 = 0.024 -> steps of 0.02: '£0.04m'
    (0.0, 480.0, None, 0),    # 96 -> steps of 100
    (0.0, 1.0, 0.25, 2),      # explicit ticks every £0.25m need two decimals, not '£0.3m'
    (0.0, 10.0, 2.5, 1),
])
def test_axis_labels_have_the_decimals_the_tick_step_needs(low, high, step, decimals):
    assert f"',.{decimals}f'" in charts.money_label(low, high, step)


def test_the_waterfall_axis_includes_zero_with_round_ticks():
    # nine_members (the old Northshire data, every member inside the SCT): levels run from ΣOCT
    # −£2.0m down to the forecast −£24.11m and up to the SCT +£1.5m, so the axis runs
    # −£25m … £5m in steps of £5m, through £0m
    rec = rs.reconcile(rs.load_system(NINE_MEMBERS))
    labels = tick_labels(charts.waterfall(rec))
    assert set(labels) == {"-£25m", "-£20m", "-£15m", "-£10m", "-£5m", "£0m", "£5m"}


def test_the_waterfall_labels_follow_the_money_rule():
    # forecast − OCT per member from the CSV; the totals carry no sign, the steps do. The
    # totals cover the members inside the SCT (NSC and VGP are outside, in_sct false).
    data = charts.waterfall_data(rs.reconcile(rs.load_sample("northshire_2018_19")))
    assert dict(zip(data["step"], data["label"], strict=True)) == {
        "ΣOCT": "-£8.15m",          # 1.8 − 9.4 + 1.1 + 0.8 + 0.35 + 3.2 − 6.0 (inside the SCT)
        "NGH": "-£13.40m",          # −11.6 − 1.8
        "SVH": "-£1.30m",           # −10.7 + 9.4
        "NCH": "+£0.35m",           # 1.45 − 1.1
        "NVP": "+£0.25m",           # 1.05 − 0.8
        "RAS": "-£0.23m",           # 0.12 − 0.35
        "NCC": "+£1.45m",           # 4.65 − 3.2
        "CCG": "-£5.80m",           # −11.8 + 6.0
        # NSC and VGP are outside the SCT: no step (they are in neither ΣOCT nor the forecast),
        # so the steps walk −8.15 − 13.40 − 1.30 + 0.35 + 0.25 − 0.23 + 1.45 − 5.80 = −26.83
        # the sum of the forecasts inside the SCT:
        # −11.6 − 10.7 + 1.45 + 1.05 + 0.12 + 4.65 − 11.8 = −26.83
        "Forecast": "-£26.83m",
        "To SCT": "+£22.33m",       # −4.5 + 26.83
        "SCT": "-£4.50m",
    }


def test_waterfall_labels_sit_above_their_bars():
    spec = charts.waterfall(rs.reconcile(rs.load_sample("workshop_4"))).to_dict()
    text = next(layer for layer in spec["layer"]
                if (layer["mark"] if isinstance(layer["mark"], str) else layer["mark"]["type"])
                == "text")
    # anchored at the top edge of the bar (the larger of start and end), drawn upwards from it
    assert text["mark"]["baseline"] == "bottom" and text["mark"]["dy"] < 0
    assert text["transform"] == [{"calculate": "max(datum.start, datum.end)", "as": "top"}]


def test_a_member_variance_that_rounds_to_zero_is_labelled_without_a_sign():
    system = rs.load_sample("workshop_4")
    orgs = system.to_frame()
    orgs.loc[orgs["org_id"] == "D", "forecast"] = -4_000      # OCT 0: −£0.004m
    rec = rs.reconcile(rs.System.from_frame(orgs, system.control_total))
    spec = charts.variance_chart(rec).to_dict()
    labels = {r["org_id"]: r["label"] for r in next(iter(spec["datasets"].values()))}
    assert labels == {"A": "-£6.00m", "B": "£1.00m", "C": "£1.00m", "D": "£0.00m"}


def test_an_axis_of_positive_figures_still_starts_at_zero():
    # box-and-whisker bands all between £2m and £6m: the axis is drawn from £0m
    bands = pd.DataFrame({"member": ["A · Acute", "A · Acute"],
                          "which": [charts.ON_OWN, charts.UNDER],
                          "q05": [2.0, 2.5], "q25": [3.0, 3.0], "q50": [4.0, 4.0],
                          "q75": [5.0, 4.5], "q95": [6.0, 5.5], "mean": [4.0, 4.0]})
    labels = tick_labels(charts.distribution_bands(bands))
    assert "£0m" in labels
    assert min(millions(t) for t in labels) == 0.0


def test_an_axis_of_deficits_still_reaches_zero():
    table = pd.DataFrame({"name": ["Acute", "Community"],
                          "variance_before": [-3_000_000.0, -1_000_000.0],
                          "variance_after": [-4_000_000.0, -2_000_000.0]},
                         index=pd.Index(["A", "B"], name="org_id"))
    labels = tick_labels(charts.shock_chart(table))
    assert max(millions(t) for t in labels) == 0.0 and "£0m" in labels


PCT_TICK = re.compile(r"^[−-]?[\d.]+%$")


def pct_tick_labels(chart) -> list[str]:
    """The percent axis tick labels a rendered chart shows ('−1.0%', '0.0%')."""
    return [t for group in AXIS_LABELS.findall(charts.to_svg(chart))
            for t in TEXT.findall(group) if PCT_TICK.match(t)]


@pytest.mark.parametrize("step, decimals", [(5.0, 0), (1.0, 0), (2.5, 1), (0.5, 1), (0.2, 1),
                                            (0.25, 2), (0.05, 2), (0.025, 3)])
def test_percent_labels_have_the_decimals_the_tick_step_needs(step, decimals):
    assert f"'.{decimals}f'" in charts.pct_label(step)


@pytest.mark.parametrize("width", [600, 1280, 1920])
def test_the_variance_axis_reads_each_tick_once_and_shows_zero(width):
    # workshop_4: variances −£6m of £500m (−1.2%), +£1m of £200m (0.5%) twice, −£2m of £1,000m
    # (−0.2%), the unrealistic line at −1%: the axis spans −1.2% … 0.5%, six ticks' worth of
    # 1.7 points is 0.28, so ticks every 0.5 from −1.0 (−1.5 lies outside the plot) through 0
    rec = rs.reconcile(rs.load_sample("workshop_4"))
    labels = pct_tick_labels(charts.variance_chart(rec).properties(width=width))
    assert labels == ["−1.0%", "−0.5%", "0.0%", "0.5%"]


@pytest.mark.parametrize("sample", ["northshire_2018_19", "pooled_budget_2", "corridor_2"])
def test_every_sample_s_variance_axis_has_distinct_ticks_through_zero(sample):
    rec = rs.reconcile(rs.load_sample(sample))
    labels = pct_tick_labels(charts.variance_chart(rec).properties(width=1920))
    assert len(labels) == len(set(labels)) >= 3, labels
    assert any(label.strip("0.%") == "" for label in labels), labels     # "0%" or "0.0%"


def test_a_narrow_variance_axis_at_1920_px_does_not_repeat_its_labels():
    # pooled_budget_2 with the unrealistic line at −0.5%: variances −£1.8m of £1,684m (−0.107%)
    # and −£2.9m of £436.5m (−0.664%); Vega's own ticks at 1920 px fell 0.05 apart under a
    # one-decimal format ("−0.6% −0.6%"). Six ticks' worth of 0.664 points is 0.11: ticks
    # every 0.2 from −0.6 (−0.8 lies outside the plot) to 0
    rec = rs.reconcile(rs.load_sample("pooled_budget_2"), unrealistic_pct=0.5)
    labels = pct_tick_labels(charts.variance_chart(rec).properties(width=1920))
    assert labels == ["−0.6%", "−0.4%", "−0.2%", "0.0%"]
