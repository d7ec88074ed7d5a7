"""The workshop charts' verdicts ("£0.50m better off") are never covered by a bar: they are
written by an axis on the right of the plot, which Vega lays out beside the plot at any text
size (the Workshop's presentation mode draws it 1.5 times larger), not as text inside it.

The verdicts themselves come from `fairness_data` / the outcome (checked elsewhere); here: where
and how they are drawn."""

from __future__ import annotations

import json
import re

import riskshare as rs
from riskshare.games import certificate
from riskshare.reports import charts

AXIS_LABELS = re.compile(r'<g class="mark-text role-axis-label"[^>]*>(.*?)</g>')
TEXT = re.compile(r"<text[^>]*>([^<]*)</text>")


def layers(spec: dict) -> list[dict]:
    out = []
    for layer in spec.get("layer", []):
        out.extend(layers(layer) if "layer" in layer else [layer])
    return out


def mark_type(layer: dict) -> str:
    return layer["mark"] if isinstance(layer["mark"], str) else layer["mark"]["type"]


def verdict_axis(spec: dict) -> dict:
    (axis,) = [layer["encoding"]["y"]["axis"] for layer in layers(spec)
               if (layer["encoding"].get("y", {}).get("axis") or {}).get("orient") == "right"]
    return axis


def said(axis: dict) -> dict:
    """The member -> verdict lookup written into the axis's label expression."""
    return json.loads(axis["labelExpr"].removesuffix("[datum.value]"))


def rendered_axis_labels(chart) -> list[str]:
    return [t for group in AXIS_LABELS.findall(charts.to_svg(chart)) for t in TEXT.findall(group)]


def test_the_fairness_verdicts_are_an_axis_beside_the_plot():
    system = rs.load_sample("workshop_4")
    cert = certificate(system, rs.load_agreement("full_pooling_turnover"))
    chart = charts.fairness_chart(cert)
    spec = chart.to_dict()
    assert not [layer for layer in layers(spec) if mark_type(layer) == "text"]
    assert spec["resolve"]["axis"]["y"] == "independent"
    axis = verdict_axis(spec)
    data = charts.fairness_data(cert)
    assert said(axis) == dict(zip(data["member"], data["label"], strict=True))
    # one left axis of member names (the marker layers draw none), the verdicts on the right
    left = [layer for layer in layers(spec) if "y" in layer["encoding"]
            and layer["encoding"]["y"].get("axis") is not None
            and (layer["encoding"]["y"].get("axis") or {}).get("orient") != "right"]
    assert len(left) == 1
    shown = rendered_axis_labels(chart)
    for member, verdict in said(axis).items():
        assert shown.count(verdict) >= 1 and member in shown
    # the presentation mode's enlarged chart enlarges the verdicts too
    big = verdict_axis(charts.enlarged(chart, 1.5))
    assert big["labelFontSize"] == 18.0


def test_the_member_walk_verdicts_are_an_axis_beside_the_plot():
    outcome = rs.apply("gain_loss_50_50_deadband", rs.load_sample("workshop_4"))
    chart = charts.member_walk(outcome)
    spec = chart.to_dict()
    assert not [layer for layer in layers(spec) if mark_type(layer) == "text"]
    verdicts = said(verdict_axis(spec))
    assert set(verdicts) == set(charts._member_labels(outcome.table))
    assert all(v.endswith(("better off", "worse off", "as well off")) for v in verdicts.values())
    shown = rendered_axis_labels(chart)
    assert all(v in shown for v in verdicts.values())
