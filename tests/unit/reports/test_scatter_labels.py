"""The Compare page's incentive/risk scatter: points of several agreements at one place carry
one label naming each member once, so labels never print over each other."""

from __future__ import annotations

import pandas as pd

from riskshare.reports.charts import _cluster_labels


def test_points_of_different_agreements_in_one_place_share_one_label():
    t = pd.DataFrame({
        "agreement": ["A", "A", "B", "B", "C"],
        "org_id": ["NGH", "SVH", "NGH", "SVH", "ICB"],
        "retention": [1.0, 1.0, 1.0, 1.0, 0.2],
        "risk_reduction": [0.0, 0.1, 0.05, 0.0, 6.0],
    })
    labels = _cluster_labels(t)
    shown = [x for x in labels if x]
    assert sorted(shown) == ["ICB", "NGH, SVH"] or sorted(shown) == ["ICB", "SVH, NGH"]
    assert (labels != "").sum() == 2          # one label per place, not one per agreement
