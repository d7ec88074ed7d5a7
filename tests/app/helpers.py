"""Small readers of an AppTest's state shared by the app tests."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def errors(at: AppTest) -> str:
    """Every error element's text, one per line."""
    return "\n".join(e.value for e in at.error)


def metric(at: AppTest, label: str) -> str:
    """The value of the metric with this label."""
    return next(m.value for m in at.metric if m.label == label)
